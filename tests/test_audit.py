"""Immutable audit: AuditBucket, AuditTrail and ModelInvocationLogging.

Three synths per module, each shared by many tests (module-scoped fixtures, one ``app.synth()`` each):

* ``clean``: both constructs with defaults in ``aws``; exact policies, retention, zero nag errors;
* ``variants``: every optional path (replica, GOVERNANCE, VPC, retained config) in ``aws-us-gov``;
* ``mutant``: the same constructs with protections removed through L1 escape hatches, so each test
  proves the matching cdk-nag rule fires on exactly that resource when the protection is gone.

Bedrock-pack rules read templates, so their mutations edit a copy of the clean template (no synth).
The custom resource's handler runs here against a fake ``boto3`` and a fake response URL: nothing
calls AWS.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
import types
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import cx_api
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from conftest import new_stack

from compliant_bedrock import audit_bucket as audit_bucket_module
from compliant_bedrock import audit_trail as audit_trail_module
from compliant_bedrock import invocation_logging as invocation_logging_module
from compliant_bedrock.audit_bucket import NO_REPLICA_REASON, AuditBucket
from compliant_bedrock.audit_trail import BEDROCK_DATA_RESOURCE_TYPES, MANTLE_DATA_RESOURCE_TYPES, AuditTrail
from compliant_bedrock.compliance import Compliance, evaluate
from compliant_bedrock.compliance.suppressions import MIN_REASON_WORDS
from compliant_bedrock.compliance.template import Template as RuleTemplate
from compliant_bedrock.detection import DETECTIONS, IAM_DETECTIONS, TamperDetection
from compliant_bedrock.errors import ConstructPropsError
from compliant_bedrock.invocation_logging import HANDLER_SOURCE, RESOURCE_TYPE, ModelInvocationLogging
from compliant_bedrock.kms import AuditAdmins

ACCOUNT = "111122223333"
REGION = "us-east-1"
TRAIL_NAME = "bedrock-audit"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
READER = f"arn:aws:iam::{ACCOUNT}:role/AuditReader"
BEDROCK_SOURCE = {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:*"},
}
GOV_REGION = "us-gov-west-1"
REPLICA_BUCKET = "arn:aws-us-gov:s3:::bedrock-audit-replica-us-gov-east-1"
REPLICA_KEY = f"arn:aws-us-gov:kms:us-gov-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: The types the issue names; the module constant may hold more.
REQUIRED_TYPES = {f"AWS::Bedrock::{t}" for t in (
    "Guardrail", "AgentAlias", "InlineAgent", "KnowledgeBase", "FlowAlias", "FlowExecution", "Model",
    "AsyncInvoke", "PromptVersion", "Session", "Tool")}
#: cdk-nag messages start with the rule id, then ":" or, for granular findings, "[<finding>]".
RULE_ID = re.compile(r"^[A-Za-z0-9.]+-[A-Za-z0-9]+")
#: Rules of the Bedrock pack this module is responsible for.
AUDIT_RULES = {f"Bedrock-{r}" for r in (
    "TrailMultiRegionValidated", "TrailBedrockDataEvents", "AuditBucketObjectLock", "LogGroupEncryptedRetained",
    "AuditDataRetainedOnDelete", "InvocationLoggingConfigured", "AuditControlPlaneRetained",
    "AuditKeyDeletionProtected", "AuditBucketTamperDenied", "AuditObjectLockCompliance", "AuditTamperDetected",
    "TrailDataEventCoverage", "TamperAlertsReceived", "IamEventRuleInIamRegion", "DetectionDataEventsSelected")}
MANTLE_PROJECT = f"arn:aws-us-gov:bedrock-mantle:{GOV_REGION}:{ACCOUNT}:project/proj_approved1"
#: The only roles the audit key and bucket policies let change the audit plane (defaults).
ADMINS = [f"arn:aws:iam::{ACCOUNT}:role/compliant-bedrock-break-glass",
          f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"]
BUCKET_TAMPER_ACTIONS = sorted([
    "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning", "s3:PutBucketLogging",
    "s3:BypassGovernanceRetention", "s3:DeleteBucket"])
AUDIT_TAG = {"Key": "compliant-bedrock:audit", "Value": "true"}
#: The security account's event bus every tamper rule also forwards to.
SECURITY_BUS = f"arn:aws:events:{REGION}:999988887777:event-bus/security-alerts"


# ------------------------------------------------------------------------------------------- harness


@dataclass
class Synth:
    """One synthesized stack: its template and the cdk-nag errors, by construct path."""

    stack: cdk.Stack
    json: dict[str, Any]
    errors: dict[str, set[str]] = field(default_factory=dict)
    constructs: dict[str, Any] = field(default_factory=dict)

    @property
    def template(self) -> Template:
        return Template.from_json(self.json)

    def lid(self, construct: Any) -> str:
        cfn = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
        return self.stack.resolve(cfn.logical_id)

    def props(self, construct: Any) -> dict[str, Any]:
        return self.json["Resources"][self.lid(construct)].get("Properties", {})

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.json["Resources"][self.lid(construct)]

    def errors_on(self, construct: Any) -> set[str]:
        cfn = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
        return self.errors.get("/" + cfn.node.path, set())

    def all_errors(self) -> list[tuple[str, str]]:
        return sorted((path, rule) for path, rules in self.errors.items() for rule in rules)

    def at(self, path: str) -> Any:
        """``"trail.bucket.bucket"``: attributes from a named construct; ``"a.b/Child"``: then a child by id."""
        attributes, _, child = path.partition("/")
        first, *rest = attributes.split(".")
        construct = self.constructs[first]
        for name in rest:
            construct = getattr(construct, name)
        return construct.node.find_child(child) if child else construct

    def suppressions(self, construct: Any) -> dict[str, dict[str, Any]]:
        entries = (self.resource(construct).get("Metadata") or {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        return {e["id"]: e for e in entries}


def synth(stack: cdk.Stack, **constructs: Any) -> Synth:
    """Attach both packs, synthesize the app once, collect template and error annotations."""
    cdk.Aspects.of(stack).add(NIST80053R5Checks())
    cdk.Aspects.of(stack).add(AwsSolutionsChecks())
    artifact = stack.node.root.synth().get_stack_artifact(stack.artifact_id)
    errors: dict[str, set[str]] = {}
    for message in artifact.messages:
        text = str(message.entry.data)
        # A rule that threw (CdkNagValidationFailure, only a warning) has not passed either.
        if message.level == cx_api.SynthesisMessageLevel.ERROR or text.startswith("CdkNagValidationFailure"):
            match = RULE_ID.match(text)
            errors.setdefault(message.id, set()).add(match.group(0) if match else text.split(":")[0])
    return Synth(stack, artifact.template, errors, constructs)


def getatt(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def objects(logical_id: str, suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [getatt(logical_id), suffix]]}


def ssl_and_tls_denies(logical_id: str) -> list[dict[str, Any]]:
    resources = [getatt(logical_id), objects(logical_id, "/*")]
    return [
        {"Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny",
         "Principal": {"AWS": "*"}, "Resource": resources},
        {"Action": "s3:*", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}, "Effect": "Deny",
         "Principal": {"AWS": "*"}, "Resource": resources},
    ]


def bucket_tamper_denies(logical_id: str, *, services: list[str] | None = None, roles: list[str] | None = None,
                         admins: list[str] = ADMINS) -> list[dict[str, Any]]:
    """Configuration changes only by the break-glass and deploy roles; records written only by their deliverer."""
    condition: dict[str, Any] = {}
    if services:
        condition["StringNotEquals"] = {"aws:PrincipalServiceName": services}
    if roles:
        condition["ArnNotEquals"] = {"aws:PrincipalArn": roles}
    return [
        {"Sid": "DenyAuditBucketTamperExceptBreakGlassAndDeploy", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": BUCKET_TAMPER_ACTIONS, "Resource": [getatt(logical_id), objects(logical_id, "/*")],
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": admins}}},
        {"Sid": "DenyRecordsNotWrittenByTheirDeliverer", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["s3:PutObject", "s3:ReplicateObject"], "Resource": objects(logical_id, "/*"),
         "Condition": condition},
    ]


def key_tamper_denies(admins: list[str] = ADMINS) -> list[dict[str, Any]]:
    return [
        {"Sid": "DenyAuditKeyTamperExceptBreakGlassAndDeploy", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": sorted(["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
                           "kms:ReplicateKey", "kms:DeleteAlias", "kms:UpdateAlias"]),
         "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": admins}}},
        {"Sid": "DenyKeyDeletionWindowUnder30Days", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
         "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}}},
    ]


def statements(synth_: Synth, construct: Any, prop: str = "PolicyDocument") -> list[dict[str, Any]]:
    return synth_.props(construct)[prop]["Statement"]


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def clean() -> Synth:
    stack = new_stack(region=REGION, account=ACCOUNT, stack_id="Audit")
    reader_role = iam.Role(stack, "Auditor", assumed_by=iam.AccountRootPrincipal())
    trail = AuditTrail(stack, "Trail", trail_name=TRAIL_NAME, log_retention_days=731,
                       log_readers=[READER, reader_role])
    logging = ModelInvocationLogging(stack, "Invocations", log_retention_days=400)
    trail.add_object_event_buckets(logging.bucket.bucket)  # who read or deleted a prompt
    detection = TamperDetection(stack, "Detection", alert_event_bus_arns=[SECURITY_BUS])
    return synth(stack, trail=trail, logging=logging, reader_role=reader_role, detection=detection)


@pytest.fixture(scope="module")
def variants() -> Synth:
    stack = new_stack(region=GOV_REGION, account=ACCOUNT, stack_id="AuditVariants")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.20.0.0/16",
        availability_zones=[f"{GOV_REGION}a", f"{GOV_REGION}b"],
        isolated_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        isolated_subnet_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
    )
    sg = ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123456789abcdef0", allow_all_outbound=False)
    trail = AuditTrail(
        stack, "Trail", trail_name="org-audit", log_retention_days=400,
        bedrock_data_resource_types=("AWS::Bedrock::Guardrail", "AWS::Bedrock::Model", "AWS::Bedrock::Guardrail"),
        object_lock_mode="GOVERNANCE", object_lock_days=400, archive_after_days=30,
        replication_destination_bucket_arn=REPLICA_BUCKET, replication_destination_key_arn=REPLICA_KEY,
        audit_admins=None, mantle_data_events=False,
    )
    logging = ModelInvocationLogging(
        stack, "Invocations", image_data_delivery=True, embedding_data_delivery=True,
        vpc=vpc, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), security_group=sg,
        retain_on_delete=False, take_over_existing=True,
        audit_admins=AuditAdmins(break_glass_role_name="incident-response", deploy_role_name="pipeline-deploy"),
    )
    detection = TamperDetection(stack, "Detection", alert_emails=["soc@agency.gov"],
                                approved_mantle_project_arns=[MANTLE_PROJECT], audit_admins=None)
    return synth(stack, trail=trail, logging=logging, detection=detection)


@pytest.fixture(scope="module")
def mutant() -> Synth:
    """Protections removed the way a careless edit would: through the L1 resources cdk-nag reads."""
    stack = new_stack(region=REGION, account=ACCOUNT, stack_id="AuditMutant")
    trail = AuditTrail(stack, "Trail", trail_name=TRAIL_NAME)
    logging = ModelInvocationLogging(stack, "Invocations")

    cfn_trail = trail.trail
    cfn_trail.enable_log_file_validation = False
    cfn_trail.kms_key_id = None
    cfn_trail.cloud_watch_logs_log_group_arn = None
    trail.key.node.default_child.enable_key_rotation = False
    trail.log_group.node.default_child.kms_key_id = None
    trail.log_group.node.default_child.retention_in_days = None
    trail.log_role.add_to_policy(iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=["*"]))

    bucket = trail.bucket.bucket.node.default_child
    bucket.versioning_configuration = None
    bucket.bucket_encryption = {"serverSideEncryptionConfiguration": [
        {"serverSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
    bucket.logging_configuration = None
    bucket.public_access_block_configuration = {"blockPublicAcls": True, "blockPublicPolicy": False,
                                                "ignorePublicAcls": True, "restrictPublicBuckets": False}
    bucket.add_metadata("cdk_nag", {"rules_to_suppress": []})  # the no-replica suppression, gone
    trail.bucket.bucket.policy.node.default_child.policy_document = {"Version": "2012-10-17", "Statement": []}

    handler = logging.handler.node.default_child
    handler.reserved_concurrent_executions = None
    handler.dead_letter_config = None
    handler.add_metadata("cdk_nag", {"rules_to_suppress": []})  # LambdaInsideVPC and L1 suppressions, gone
    logging.handler_policy.node.default_child.add_metadata("cdk_nag", {"rules_to_suppress": []})
    return synth(stack, trail=trail, logging=logging)


# ----------------------------------------------------------------------------------- AuditBucket


def test_audit_buckets_are_locked_versioned_kms_encrypted_private_and_logged(clean: Synth) -> None:
    for owner in (clean.constructs["trail"], clean.constructs["logging"]):
        audit = owner.bucket
        props = clean.props(audit.bucket)
        assert props["ObjectLockEnabled"] is True
        assert props["ObjectLockConfiguration"] == {
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Days": 913, "Mode": "COMPLIANCE"}}}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [{
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"KMSMasterKeyID": getatt(clean.lid(owner.key)),
                                              "SSEAlgorithm": "aws:kms"},
        }]}
        assert audit.key is owner.key
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert props["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": clean.lid(audit.access_logs_bucket)}, "LogFilePrefix": "Bucket/"}
        assert props["LifecycleConfiguration"] == {"Rules": [{
            "Id": "archive-to-glacier-ir", "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
            "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }]}
        assert "ReplicationConfiguration" not in props
        assert audit.replication_role is None


def test_access_log_buckets_are_sse_s3_versioned_ssl_only_private_and_admit_only_s3_logging(clean: Synth) -> None:
    for owner in (clean.constructs["trail"], clean.constructs["logging"]):
        audit = owner.bucket
        logs_id, bucket_id = clean.lid(audit.access_logs_bucket), clean.lid(audit.bucket)
        props = clean.props(audit.access_logs_bucket)
        assert props["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert props["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
        # A log-delivery target must not carry an Object Lock default retention.
        assert "ObjectLockConfiguration" not in props and "ObjectLockEnabled" not in props
        assert props["LifecycleConfiguration"]["Rules"][0]["Transitions"] == [
            {"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
        assert statements(clean, audit.access_logs_bucket.policy) == [*ssl_and_tls_denies(logs_id), {
            "Action": "s3:PutObject",
            "Condition": {"ArnLike": {"aws:SourceArn": getatt(bucket_id)},
                          "StringEquals": {"aws:SourceAccount": ACCOUNT}},
            "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": objects(logs_id, "/Bucket/*"),
        }, *bucket_tamper_denies(logs_id, services=["logging.s3.amazonaws.com"])]
        assert clean.resource(audit.access_logs_bucket.policy)["DeletionPolicy"] == "Retain"


def test_audit_keys_buckets_and_log_groups_carry_the_audit_tag(clean: Synth) -> None:
    """Organization policies key on the tag; every audit resource of both constructs carries it."""
    kinds = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup")
    audit = {k: r for k, r in clean.json["Resources"].items() if r["Type"] in kinds}
    untagged = [k for k, r in audit.items() if AUDIT_TAG not in r["Properties"].get("Tags", [])]
    # The function's own log group holds no audit records; everything else does (the alert key protects alerts).
    assert untagged == [clean.lid(clean.constructs["logging"].handler_log_group)]


def test_the_control_plane_and_its_delivery_grants_outlive_the_stack(clean: Synth) -> None:
    """Deleting the stack must not switch audit off: the trail, the logging configuration, and what they
    need to keep delivering (bucket policies, delivery roles and policies) are retained."""
    trail, logging = clean.constructs["trail"], clean.constructs["logging"]
    for construct in (trail.trail, trail.log_role, trail.log_policy, trail.bucket.bucket.policy,
                      trail.bucket.access_logs_bucket.policy, logging.configuration, logging.delivery_role,
                      logging.delivery_policy, logging.bucket.bucket.policy):
        resource = clean.resource(construct)
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), \
            construct.node.path


def test_every_bucket_key_and_log_group_is_retained(clean: Synth, variants: Synth) -> None:
    for synth_ in (clean, variants):
        kinds = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup")
        audit = {k: r for k, r in synth_.json["Resources"].items() if r["Type"] in kinds}
        # trail: 2 buckets, key, log group; invocation logging: 2 buckets, key, 2 log groups; detection: key
        assert len(audit) == 10
        for logical_id, resource in audit.items():
            assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), \
                logical_id


def test_keys_rotate_and_have_a_30_day_pending_window(clean: Synth) -> None:
    for owner in (clean.constructs["trail"], clean.constructs["logging"]):
        props = clean.props(owner.key)
        assert props["EnableKeyRotation"] is True
        assert props["PendingWindowInDays"] == 30


def test_without_replica_the_replication_finding_is_suppressed_on_that_bucket_only(clean: Synth) -> None:
    for owner in (clean.constructs["trail"], clean.constructs["logging"]):
        assert clean.suppressions(owner.bucket.bucket) == {
            "NIST.800.53.R5-S3BucketReplicationEnabled": {
                "id": "NIST.800.53.R5-S3BucketReplicationEnabled", "reason": NO_REPLICA_REASON}}
    assert "not configured for this environment" in NO_REPLICA_REASON
    assert "Object Lock" in NO_REPLICA_REASON and "versioning" in NO_REPLICA_REASON


def test_replication_to_the_replica_bucket_and_key(variants: Synth) -> None:
    audit = variants.constructs["trail"].bucket
    bucket_id, role_id = variants.lid(audit.bucket), variants.lid(audit.replication_role)
    props = variants.props(audit.bucket)
    assert props["ReplicationConfiguration"] == {
        "Role": getatt(role_id),
        "Rules": [{
            "Id": "audit-replica", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": REPLICA_BUCKET, "EncryptionConfiguration": {"ReplicaKmsKeyID": REPLICA_KEY}},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        }],
    }
    assert "NIST.800.53.R5-S3BucketReplicationEnabled" not in variants.suppressions(audit.bucket)
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Days": 400, "Mode": "GOVERNANCE"}
    assert props["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["TransitionInDays"] == 30

    assert statements(variants, audit.replication_role, "AssumeRolePolicyDocument") == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }]
    role = variants.props(audit.replication_role)
    # Attached from the policy's side: the role is referenced by the bucket, the policy references the bucket.
    assert variants.props(audit.replication_policy)["Roles"] == [{"Ref": role_id}]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    key_id = variants.lid(audit.key)
    via_s3 = {"Fn::Join": ["", ["s3.us-gov-west-1.", {"Ref": "AWS::URLSuffix"}]]}
    assert statements(variants, audit.replication_policy) == [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": getatt(bucket_id)},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
         "Resource": objects(bucket_id, "/*")},
        {"Sid": "WriteReplica", "Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
         "Resource": f"{REPLICA_BUCKET}/*"},
        {"Sid": "DecryptSource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": getatt(key_id),
         "Condition": {"StringEquals": {"kms:ViaService": via_s3},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [getatt(bucket_id),
                                                                           objects(bucket_id, "/*")]}}},
        {"Sid": "EncryptReplica", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": REPLICA_KEY,
         "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["s3.us-gov-east-1.",
                                                                             {"Ref": "AWS::URLSuffix"}]]}},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [REPLICA_BUCKET, f"{REPLICA_BUCKET}/*"]}}},
    ]
    assert variants.suppressions(audit.replication_policy)["AwsSolutions-IAM5"]["applies_to"] == [
        f"Resource::<{bucket_id}.Arn>/*", f"Resource::{REPLICA_BUCKET}/*"]


# ------------------------------------------------------------------------------------ AuditTrail


def test_trail_is_multi_region_validated_encrypted_and_sent_to_cloudwatch(clean: Synth) -> None:
    trail = clean.constructs["trail"]
    props = clean.props(trail.trail)
    assert {k: v for k, v in props.items() if k != "AdvancedEventSelectors"} == {
        "TrailName": TRAIL_NAME,
        "IsLogging": True,
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "S3BucketName": {"Ref": clean.lid(trail.bucket.bucket)},
        "KMSKeyId": getatt(clean.lid(trail.key)),
        "CloudWatchLogsLogGroupArn": getatt(clean.lid(trail.log_group)),
        "CloudWatchLogsRoleArn": getatt(clean.lid(trail.log_role)),
    }
    assert "EventSelectors" not in props  # never both basic and advanced selectors
    assert trail.trail_arn == clean.stack.format_arn(service="cloudtrail", resource="trail", resource_name=TRAIL_NAME,
                                                     arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)
    assert clean.stack.resolve(trail.trail_arn) == TRAIL_ARN
    # CloudTrail checks its permissions at creation: the trail waits for the bucket policy and role policy.
    assert set(clean.resource(trail.trail)["DependsOn"]) >= {
        clean.lid(trail.bucket.bucket.policy), clean.lid(trail.log_policy)}


def test_trail_selects_management_events_and_each_bedrock_and_mantle_data_type(clean: Synth) -> None:
    selectors = clean.props(clean.constructs["trail"].trail)["AdvancedEventSelectors"]
    assert selectors[0] == {"Name": "All management events",
                            "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
    data = selectors[1:-1]
    for selector in data:
        assert selector["FieldSelectors"][0] == {"Field": "eventCategory", "Equals": ["Data"]}
        assert selector["FieldSelectors"][1]["Field"] == "resources.type"
        assert len(selector["FieldSelectors"]) == 2
    types = [s["FieldSelectors"][1]["Equals"][0] for s in data]
    # Mantle in every aws trail, whether or not the account uses it (a denied CreateInference is evidence too).
    assert types == [*BEDROCK_DATA_RESOURCE_TYPES, *MANTLE_DATA_RESOURCE_TYPES]
    assert set(types) >= REQUIRED_TYPES
    assert all(t.startswith(("AWS::Bedrock::", "AWS::BedrockMantle::")) for t in types)


def test_trail_records_every_object_event_of_the_invocation_log_bucket(clean: Synth) -> None:
    """Reads, writes and deletes of prompts and completions: no readOnly or eventName narrowing."""
    selectors = clean.props(clean.constructs["trail"].trail)["AdvancedEventSelectors"]
    assert selectors[-1] == {"Name": "S3 object events of the prompt and completion buckets", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [objects(clean.lid(clean.constructs["logging"].bucket.bucket), "/")]},
    ]}
    trail = clean.constructs["trail"]
    assert trail.object_event_buckets == [clean.constructs["logging"].bucket.bucket]
    trail.add_object_event_buckets(clean.constructs["logging"].bucket.bucket)  # twice: still one prefix
    assert len(clean.stack.resolve(trail.trail.advanced_event_selectors)[-1]["fieldSelectors"][2]["startsWith"]) == 1


def test_trail_refuses_to_record_its_own_bucket_which_would_loop() -> None:
    """Each log file CloudTrail delivers is an object event it would record and deliver again, without end."""
    stack = new_stack(stack_id="Loop")
    trail = AuditTrail(stack, "Trail")
    own = [trail.bucket.bucket, trail.bucket.access_logs_bucket,
           s3.Bucket.from_bucket_name(stack, "Imported", trail.bucket.bucket.bucket_name)]
    for bucket in own:
        with pytest.raises(ConstructPropsError, match=r"AuditTrail 'Trail': object_event_buckets: .* is the trail's "
                                                       r"own bucket or its access-log bucket"):
            trail.add_object_event_buckets(bucket)
    assert trail.object_event_buckets == []
    prompts = s3.Bucket.from_bucket_name(stack, "Prompts", "prompts-bucket")
    trail.add_object_event_buckets(prompts)  # another bucket is fine
    assert trail.object_event_buckets == [prompts]


def test_trail_refuses_more_selector_values_than_cloudtrail_allows() -> None:
    types = [f"AWS::Bedrock::Fake{i}" for i in range(250)]  # 1 + 2 * 250 values: one past the 500
    with pytest.raises(ConstructPropsError, match=r"need 501 condition values, over CloudTrail's 500"):
        AuditTrail(new_stack(stack_id="Values"), "Trail", bedrock_data_resource_types=types, mantle_data_events=False)
    AuditTrail(new_stack(stack_id="Values2"), "Trail", bedrock_data_resource_types=types[1:], mantle_data_events=False)


def test_caller_overrides_the_data_types(variants: Synth) -> None:
    selectors = variants.props(variants.constructs["trail"].trail)["AdvancedEventSelectors"]
    assert [s["FieldSelectors"][-1]["Equals"] for s in selectors] == [
        ["Management"], ["AWS::Bedrock::Guardrail"], ["AWS::Bedrock::Model"]]  # duplicates dropped


def test_trail_key_policy_exact(clean: Synth) -> None:
    key_statements = statements(clean, clean.constructs["trail"].key, "KeyPolicy")
    assert key_statements == [
        {"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Resource": "*"},
        {
            "Sid": "AllowCloudTrailToEncryptLogFiles", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
            "Condition": {
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
                "StringEquals": {"aws:SourceArn": TRAIL_ARN},
            },
        },
        {
            "Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
        },
        {
            "Sid": "AllowNamedReadersToDecryptTrailLogFiles", "Effect": "Allow",
            "Principal": {"AWS": [READER, getatt(clean.lid(clean.constructs["reader_role"]))]},
            "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}},
        },
        {
            "Sid": "AllowCloudWatchLogsOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                      f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}},
        },
        *key_tamper_denies(),
    ]


def test_trail_key_without_readers_has_no_decrypt_grant(variants: Synth) -> None:
    sids = [s.get("Sid") for s in statements(variants, variants.constructs["trail"].key, "KeyPolicy")]
    # audit_admins=None: no tamper denies, and the bucket policy keeps only TLS and the service grants.
    assert sids == [None, "AllowCloudTrailToEncryptLogFiles", "AllowCloudTrailToDescribeKey",
                    "AllowCloudWatchLogsOfThisAccount"]
    bucket = variants.constructs["trail"].bucket.bucket
    assert "DenyAuditBucketTamperExceptBreakGlassAndDeploy" not in {
        s.get("Sid") for s in statements(variants, bucket.policy)}
    # The forged-record deny does not depend on audit_admins.
    assert "DenyRecordsNotWrittenByTheirDeliverer" in {s.get("Sid") for s in statements(variants, bucket.policy)}


def test_named_admins_are_the_only_exemptions(variants: Synth) -> None:
    """Break-glass and deploy role names are props; in aws-us-gov the ARNs carry that partition."""
    logging = variants.constructs["logging"]
    admins = [f"arn:aws-us-gov:iam::{ACCOUNT}:role/incident-response", f"arn:aws-us-gov:iam::{ACCOUNT}:role/pipeline-deploy"]
    assert statements(variants, logging.key, "KeyPolicy")[-3:-1] == key_tamper_denies(admins)
    bucket_id = variants.lid(logging.bucket.bucket)
    assert bucket_tamper_denies(bucket_id, services=["bedrock.amazonaws.com"], admins=admins)[0] in statements(
        variants, logging.bucket.bucket.policy)


def test_trail_bucket_policy_exact(clean: Synth) -> None:
    audit = clean.constructs["trail"].bucket
    bucket_id = clean.lid(audit.bucket)
    assert statements(clean, audit.bucket.policy) == [
        *ssl_and_tls_denies(bucket_id),
        *bucket_tamper_denies(bucket_id, services=["cloudtrail.amazonaws.com"]),
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": getatt(bucket_id),
         "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": objects(bucket_id, f"/AWSLogs/{ACCOUNT}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}}},
    ]


def test_trail_log_group_and_role_with_a_managed_policy_scoped_to_it(clean: Synth) -> None:
    trail = clean.constructs["trail"]
    assert clean.props(trail.log_group) == {"KmsKeyId": getatt(clean.lid(trail.key)), "RetentionInDays": 731,
                                            "Tags": [AUDIT_TAG]}
    role = clean.props(trail.log_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}}]
    assert role["ManagedPolicyArns"] == [{"Ref": clean.lid(trail.log_policy)}]
    assert "Policies" not in role
    assert statements(clean, trail.log_policy) == [{
        "Sid": "DeliverTrailEvents", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": getatt(clean.lid(trail.log_group)),
    }]
    assert not clean.template.find_resources("AWS::IAM::Policy")  # no inline policy anywhere


# -------------------------------------------------------------------------- ModelInvocationLogging


def test_logging_configuration_sent_to_bedrock(clean: Synth) -> None:
    logging = clean.constructs["logging"]
    resource = clean.resource(logging.configuration)
    assert resource["Type"] == RESOURCE_TYPE == "Custom::BedrockModelInvocationLogging"
    # Deleting the stack must not turn the account's invocation logging off (module docstring says why).
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    bucket = {"Ref": clean.lid(logging.bucket.bucket)}
    assert resource["Properties"] == {
        "ServiceToken": getatt(clean.lid(logging.handler)),
        "ServiceTimeout": "600",
        "LoggingConfig": {
            "cloudWatchConfig": {
                "logGroupName": {"Ref": clean.lid(logging.log_group)},
                "roleArn": getatt(clean.lid(logging.delivery_role)),
                "largeDataDeliveryS3Config": {"bucketName": bucket, "keyPrefix": "bedrock/invocation-logs/large-data"},
            },
            "s3Config": {"bucketName": bucket, "keyPrefix": "bedrock/invocation-logs"},
            "textDataDeliveryEnabled": True,
            "imageDataDeliveryEnabled": False,
            "embeddingDataDeliveryEnabled": False,
        },
        "TakeOver": "false",
    }
    text = json.dumps(resource)
    assert "videoDataDeliveryEnabled" not in text and "audioDataDeliveryEnabled" not in text
    # Bedrock validates destinations on Put: all grants exist before the call.
    assert set(resource["DependsOn"]) >= {clean.lid(logging.bucket.bucket.policy), clean.lid(logging.delivery_policy),
                                          clean.lid(logging.handler_policy)}


def test_flags_and_configuration_turned_off_on_delete(variants: Synth) -> None:
    logging = variants.constructs["logging"]
    resource = variants.resource(logging.configuration)
    assert resource["DeletionPolicy"] == "Delete"
    assert variants.props(logging.handler)["Environment"]["Variables"]["ON_DELETE"] == "delete"
    # Not retained: the delivery grants go with the stack, like the configuration.
    assert "DeletionPolicy" not in variants.resource(logging.delivery_role)
    config = resource["Properties"]["LoggingConfig"]
    assert (config["textDataDeliveryEnabled"], config["imageDataDeliveryEnabled"],
            config["embeddingDataDeliveryEnabled"]) == (True, True, True)


def test_invocation_bucket_policy_exact(clean: Synth) -> None:
    audit = clean.constructs["logging"].bucket
    bucket_id = clean.lid(audit.bucket)
    assert statements(clean, audit.bucket.policy) == [
        *ssl_and_tls_denies(bucket_id),
        *bucket_tamper_denies(bucket_id, services=["bedrock.amazonaws.com"]),
        {"Sid": "AmazonBedrockLogsWrite", "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": objects(bucket_id, "/bedrock/invocation-logs/*"),
         "Condition": BEDROCK_SOURCE},
    ]


def test_invocation_key_policy_exact(clean: Synth) -> None:
    assert statements(clean, clean.constructs["logging"].key, "KeyPolicy") == [
        {"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Resource": "*"},
        {
            "Sid": "AllowCloudWatchLogsOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                      f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}},
        },
        *key_tamper_denies(),
        {"Sid": "AllowBedrockInvocationLogDelivery", "Effect": "Allow",
         "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "kms:GenerateDataKey", "Resource": "*",
         "Condition": BEDROCK_SOURCE},
    ]


def test_delivery_role_trusts_bedrock_of_this_account_and_writes_one_log_stream(clean: Synth) -> None:
    logging = clean.constructs["logging"]
    assert clean.props(logging.log_group) == {"KmsKeyId": getatt(clean.lid(logging.key)), "RetentionInDays": 400,
                                              "Tags": [AUDIT_TAG]}
    role = clean.props(logging.delivery_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
        "Condition": BEDROCK_SOURCE,
    }]
    assert role["ManagedPolicyArns"] == [{"Ref": clean.lid(logging.delivery_policy)}]
    assert statements(clean, logging.delivery_policy) == [{
        "Sid": "DeliverInvocationLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": {"Fn::Join": ["", [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:",
                                       {"Ref": clean.lid(logging.log_group)},
                                       ":log-stream:aws/bedrock/modelinvocations"]]},
    }]


def test_handler_function_meets_the_lambda_rules(clean: Synth) -> None:
    logging = clean.constructs["logging"]
    props = clean.props(logging.handler)
    assert props["Runtime"] in ("python3.12", "python3.13")
    assert props["Code"] == {"ZipFile": HANDLER_SOURCE}
    assert props["Role"] == getatt(clean.lid(logging.handler_role))
    # What the function acts on comes from here, never from the event (confused deputy).
    variables = props["Environment"]["Variables"]
    assert variables["STACK_ID"] == {"Ref": "AWS::StackId"}
    assert variables["URL_SUFFIX"] == {"Ref": "AWS::URLSuffix"}
    assert (variables["TAKE_OVER"], variables["ON_DELETE"]) == ("false", "retain")
    bucket, log_group = clean.lid(logging.bucket.bucket), clean.lid(logging.log_group)
    assert variables["LOGGING_CONFIG"] == {"Fn::Join": ["", [
        '{"cloudWatchConfig":{"logGroupName":"', {"Ref": log_group}, '","roleArn":"',
        getatt(clean.lid(logging.delivery_role)), '","largeDataDeliveryS3Config":{"bucketName":"', {"Ref": bucket},
        '","keyPrefix":"bedrock/invocation-logs/large-data"}},"s3Config":{"bucketName":"', {"Ref": bucket},
        '","keyPrefix":"bedrock/invocation-logs"},"textDataDeliveryEnabled":true,"imageDataDeliveryEnabled":false,'
        '"embeddingDataDeliveryEnabled":false}']]}
    # Reserving executions fails deploys in low-quota accounts; the finding is accepted with a reason.
    assert "ReservedConcurrentExecutions" not in props
    assert "NIST.800.53.R5-LambdaConcurrency" in clean.suppressions(logging.handler)
    assert props["DeadLetterConfig"] == {"TargetArn": getatt(clean.lid(logging.dead_letter_queue))}
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": clean.lid(logging.handler_log_group)}}
    assert "VpcConfig" not in props
    assert clean.props(logging.handler_log_group) == {"KmsKeyId": getatt(clean.lid(logging.key)),
                                                      "RetentionInDays": 400}
    assert clean.lid(logging.handler_policy) in clean.resource(logging.handler)["DependsOn"]
    # No log-retention helper, no Provider framework: the only function is ours.
    assert list(clean.template.find_resources("AWS::Lambda::Function")) == [clean.lid(logging.handler)]
    assert not clean.template.find_resources("Custom::LogRetention")
    assert clean.suppressions(logging.handler)["NIST.800.53.R5-LambdaInsideVPC"]["reason"]


def test_dead_letter_queue_is_kms_encrypted_and_ssl_only(clean: Synth) -> None:
    logging = clean.constructs["logging"]
    queue_id = clean.lid(logging.dead_letter_queue)
    assert clean.props(logging.dead_letter_queue) == {
        "KmsMasterKeyId": getatt(clean.lid(logging.key)), "MessageRetentionPeriod": 1209600}
    policy = clean.template.find_resources("AWS::SQS::QueuePolicy")
    assert [p["Properties"] for p in policy.values()] == [{
        "Queues": [{"Ref": queue_id}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny",
            "Principal": {"AWS": "*"}, "Resource": getatt(queue_id)}]},
    }]


def test_handler_role_and_managed_policy_exact(clean: Synth) -> None:
    logging = clean.constructs["logging"]
    role = clean.props(logging.handler_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]
    assert role["ManagedPolicyArns"] == [{"Ref": clean.lid(logging.handler_policy)}]
    assert "Policies" not in role
    assert statements(clean, logging.handler_policy) == [
        {"Sid": "ConfigureModelInvocationLogging", "Effect": "Allow", "Resource": "*",
         "Action": ["bedrock:DeleteModelInvocationLoggingConfiguration",
                    "bedrock:GetModelInvocationLoggingConfiguration",
                    "bedrock:PutModelInvocationLoggingConfiguration"]},
        {"Sid": "PassDeliveryRoleToBedrock", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": getatt(clean.lid(logging.delivery_role)),
         "Condition": {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": getatt(clean.lid(logging.handler_log_group))},
        {"Sid": "SendToDeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": getatt(clean.lid(logging.dead_letter_queue))},
        {"Sid": "EncryptDeadLetters", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": getatt(clean.lid(logging.key)),
         "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", [f"sqs.{REGION}.",
                                                                             {"Ref": "AWS::URLSuffix"}]]}}}},
    ]
    # The one wildcard (Bedrock's logging APIs have no resource-level permissions) is accepted by name.
    assert clean.suppressions(logging.handler_policy)["AwsSolutions-IAM5"]["applies_to"] == ["Resource::*"]


def test_handler_in_a_vpc(variants: Synth) -> None:
    logging = variants.constructs["logging"]
    props = variants.props(logging.handler)
    assert props["VpcConfig"] == {"SecurityGroupIds": ["sg-0123456789abcdef0"],
                                  "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}
    assert "NIST.800.53.R5-LambdaInsideVPC" not in variants.suppressions(logging.handler)
    eni = statements(variants, logging.handler_policy)[-1]
    assert eni["Sid"] == "ManageVpcNetworkInterfaces" and eni["Resource"] == "*"
    assert "network-interface" in variants.suppressions(logging.handler_policy)["AwsSolutions-IAM5"]["reason"]


# -------------------------------------------------------------------------------------- compliance


def test_both_packs_report_zero_errors(clean: Synth, variants: Synth) -> None:
    assert clean.all_errors() == []
    assert variants.all_errors() == []


def test_the_harness_sees_errors(mutant: Synth) -> None:
    """Control for the test above: the same harness reports errors when protections are gone."""
    assert len(mutant.all_errors()) >= 15


MUTATIONS = [
    ("trail.trail", "NIST.800.53.R5-CloudTrailLogFileValidationEnabled"),
    ("trail.trail", "NIST.800.53.R5-CloudTrailEncryptionEnabled"),
    ("trail.trail", "NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled"),
    ("trail.key", "NIST.800.53.R5-KMSBackingKeyRotationEnabled"),
    ("trail.key", "AwsSolutions-KMS5"),
    ("trail.log_group", "NIST.800.53.R5-CloudWatchLogGroupEncrypted"),
    ("trail.log_group", "NIST.800.53.R5-CloudWatchLogGroupRetentionPeriod"),
    ("trail.log_role/DefaultPolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3BucketVersioningEnabled"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3DefaultEncryptionKMS"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3BucketLoggingEnabled"),
    ("trail.bucket.bucket", "AwsSolutions-S1"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3BucketLevelPublicAccessProhibited"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3BucketSSLRequestsOnly"),
    ("trail.bucket.bucket", "AwsSolutions-S10"),
    ("trail.bucket.bucket", "NIST.800.53.R5-S3BucketReplicationEnabled"),
    ("logging.handler", "NIST.800.53.R5-LambdaConcurrency"),
    ("logging.handler", "NIST.800.53.R5-LambdaDLQ"),
    ("logging.handler", "NIST.800.53.R5-LambdaInsideVPC"),
    ("logging.handler_policy", "AwsSolutions-IAM5"),
]


@pytest.mark.parametrize(("target", "rule_id"), MUTATIONS, ids=[f"{t}:{r}" for t, r in MUTATIONS])
def test_each_protection_removed_is_caught(mutant: Synth, clean: Synth, target: str, rule_id: str) -> None:
    found = mutant.errors_on(mutant.at(target))
    assert rule_id in found, sorted(found)
    if "/" not in target:  # the mutant's extra inline policy has no clean counterpart
        assert rule_id not in clean.errors_on(clean.at(target))


def _audit_results(body: dict[str, Any]) -> dict[tuple[str, str], Compliance]:
    results = evaluate(RuleTemplate("Audit", body))
    return {(r.rule_id, r.resource_path): r.compliance for r in results if r.rule_id in AUDIT_RULES}


def _with_invoke_grant(body: dict[str, Any]) -> dict[str, Any]:
    """The stack-level invocation-logging rule applies to stacks that grant model invocation."""
    body = copy.deepcopy(body)
    body["Resources"]["InvokeGrant"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel",
                       "Resource": f"arn:aws:bedrock:{REGION}::foundation-model/openai.gpt-oss-120b-1:0"}]}}}
    return body


def test_bedrock_pack_audit_rules_pass(clean: Synth) -> None:
    results = _audit_results(_with_invoke_grant(clean.json))
    assert {rule for rule, _ in results} == AUDIT_RULES
    failing = {k: v for k, v in results.items() if v is not Compliance.COMPLIANT}
    assert failing == {}
    # Both audit buckets are recognized as such (one referenced by the trail, one by the custom resource).
    assert len([k for k in results if k[0] == "Bedrock-AuditBucketObjectLock"]) == 2


def _mutated(clean: Synth, construct: Any, edit) -> dict[tuple[str, str], Compliance]:
    body = _with_invoke_grant(clean.json)
    edit(body["Resources"][clean.lid(construct)])
    return _audit_results(body)


def _drop_sid(sid: str, document: str = "KeyPolicy"):
    def edit(resource: dict[str, Any]) -> None:
        statements_ = resource["Properties"][document]["Statement"]
        statements_[:] = [s for s in statements_ if s.get("Sid") != sid]
    return edit


def _widen_exemption(resource: dict[str, Any]) -> None:
    for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
        if statement.get("Sid") == "DenyAuditKeyTamperExceptBreakGlassAndDeploy":
            statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(f"arn:aws:iam::{ACCOUNT}:role/*")


@pytest.mark.parametrize(("name", "target", "edit", "rule_id"), [
    ("trail-stop-undetected", "detection/TrailTamper", lambda r: r["Properties"].update(State="DISABLED"),
     "Bedrock-AuditTamperDetected"),
    ("alerts-unencrypted", "detection.topic", lambda r: r["Properties"].pop("KmsMasterKeyId"),
     "Bedrock-AuditTamperDetected"),
    ("trail-deleted-with-stack", "trail.trail", lambda r: r.update(DeletionPolicy="Delete"),
     "Bedrock-AuditControlPlaneRetained"),
    ("trail-replaced-away", "trail.trail", lambda r: r.pop("UpdateReplacePolicy"), "Bedrock-AuditControlPlaneRetained"),
    ("logging-off-on-delete", "logging.configuration", lambda r: r.update(DeletionPolicy="Delete"),
     "Bedrock-AuditControlPlaneRetained"),
    ("trail-key-tamper-open", "trail.key", _drop_sid("DenyAuditKeyTamperExceptBreakGlassAndDeploy"),
     "Bedrock-AuditKeyDeletionProtected"),
    ("logging-key-short-window", "logging.key", _drop_sid("DenyKeyDeletionWindowUnder30Days"),
     "Bedrock-AuditKeyDeletionProtected"),
    ("key-exemption-wildcard", "trail.key", _widen_exemption, "Bedrock-AuditKeyDeletionProtected"),
    ("bucket-config-open", "trail.bucket.bucket.policy",
     _drop_sid("DenyAuditBucketTamperExceptBreakGlassAndDeploy", "PolicyDocument"), "Bedrock-AuditBucketTamperDenied"),
    ("forged-records", "logging.bucket.bucket.policy",
     _drop_sid("DenyRecordsNotWrittenByTheirDeliverer", "PolicyDocument"), "Bedrock-AuditBucketTamperDenied"),
    ("governance-mode", "trail.bucket.bucket", lambda r: r["Properties"]["ObjectLockConfiguration"]["Rule"][
        "DefaultRetention"].update(Mode="GOVERNANCE"), "Bedrock-AuditObjectLockCompliance"),
    ("object-lock-off", "trail.bucket.bucket",
     lambda r: r["Properties"].pop("ObjectLockConfiguration"), "Bedrock-AuditBucketObjectLock"),
    ("versioning-off", "logging.bucket.bucket",
     lambda r: r["Properties"].pop("VersioningConfiguration"), "Bedrock-AuditBucketObjectLock"),
    ("bucket-deleted", "logging.bucket.bucket", lambda r: r.update(DeletionPolicy="Delete"),
     "Bedrock-AuditDataRetainedOnDelete"),
    ("key-replaced-away", "trail.key", lambda r: r.pop("UpdateReplacePolicy"), "Bedrock-AuditDataRetainedOnDelete"),
    ("log-group-deleted", "logging.log_group", lambda r: r.update(DeletionPolicy="Delete"),
     "Bedrock-AuditDataRetainedOnDelete"),
    ("single-region", "trail.trail", lambda r: r["Properties"].update(IsMultiRegionTrail=False),
     "Bedrock-TrailMultiRegionValidated"),
    ("validation-off", "trail.trail", lambda r: r["Properties"].update(EnableLogFileValidation=False),
     "Bedrock-TrailMultiRegionValidated"),
    ("no-data-events", "trail.trail", lambda r: r["Properties"].update(AdvancedEventSelectors=[
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]), "Bedrock-TrailBedrockDataEvents"),
    ("prompt-reads-unrecorded", "trail.trail", lambda r: r["Properties"]["AdvancedEventSelectors"].pop(),
     "Bedrock-TrailDataEventCoverage"),
    ("mantle-unrecorded", "trail.trail", lambda r: r["Properties"]["AdvancedEventSelectors"].pop(-2),
     "Bedrock-TrailDataEventCoverage"),
    ("short-retention", "trail.log_group", lambda r: r["Properties"].update(RetentionInDays=30),
     "Bedrock-LogGroupEncryptedRetained"),
    ("text-logging-off", "logging.configuration",
     lambda r: r["Properties"]["LoggingConfig"].update(textDataDeliveryEnabled=False),
     "Bedrock-InvocationLoggingConfigured"),
])
def test_bedrock_pack_catches_removed_protection(clean: Synth, name: str, target: str, edit, rule_id: str) -> None:
    results = _mutated(clean, clean.at(target), edit)
    assert Compliance.NON_COMPLIANT in {v for (rule, _), v in results.items() if rule == rule_id}, name


def test_suppressions_are_per_resource_reasoned_and_never_stack_wide(clean: Synth, variants: Synth) -> None:
    for synth_ in (clean, variants):
        assert "cdk_nag" not in (synth_.json.get("Metadata") or {})
        for logical_id, resource in synth_.json["Resources"].items():
            for entry in (resource.get("Metadata") or {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                assert len(entry["reason"].split()) >= MIN_REASON_WORDS, (logical_id, entry)
                if entry["id"].endswith("IAM5"):
                    assert entry["applies_to"], (logical_id, "an IAM5 suppression names its findings")


# --------------------------------------------------------------------------------------- partitions


def test_govcloud_template_has_no_commercial_partition(variants: Synth) -> None:
    text = json.dumps(variants.json)
    assert "arn:aws:" not in text
    assert f"arn:aws-us-gov:cloudtrail:{GOV_REGION}:{ACCOUNT}:trail/org-audit" in text
    assert f"arn:aws-us-gov:bedrock:{GOV_REGION}:{ACCOUNT}:*" in text


def test_sources_carry_no_literal_partition() -> None:
    for module in (audit_bucket_module, audit_trail_module, invocation_logging_module):
        source = Path(module.__file__).read_text()
        assert "arn:aws:" not in source and "arn:aws-" not in source, module.__name__


# ---------------------------------------------------------------------------------- input checking


@pytest.mark.parametrize(("build", "message"), [
    (lambda s: AuditBucket(s, "B", object_lock_mode="LEGAL_HOLD"), "object_lock_mode"),
    (lambda s: AuditBucket(s, "B", object_lock_days=0), "object_lock_days"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=REPLICA_BUCKET), "needs both"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=cdk.Fn.import_value("ReplicaArn"),
                           replication_destination_key_arn=REPLICA_KEY), "literal S3 bucket ARN"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=REPLICA_BUCKET,
                           replication_destination_key_arn="alias/replica"), "literal KMS key ARN"),
    # a token must still show the shape in its literal parts: an import or bare reference shows nothing
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=cdk.Fn.sub("arn:${AWS::Partition}:s3:::Bad_${X}",
                                                                                {"X": cdk.Aws.ACCOUNT_ID}),
                           replication_destination_key_arn=REPLICA_KEY), "literal S3 bucket ARN"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=cdk.Fn.sub("${AWS::StackName}"),
                           replication_destination_key_arn=REPLICA_KEY), "literal S3 bucket ARN"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=REPLICA_BUCKET,
                           replication_destination_key_arn=cdk.Fn.sub(
                               "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}")),
     "literal KMS key ARN"),
    (lambda s: AuditBucket(s, "B", replication_destination_bucket_arn=REPLICA_BUCKET,
                           replication_destination_key_arn=cdk.Fn.import_value("ReplicaKey")), "literal KMS key ARN"),
    (lambda s: AuditBucket(s, "B", object_lock_days=40000), r"object_lock_days must be 1 to 36500 days"),
    (lambda s: AuditBucket(s, "B", replication_role_name="fixed-name"), "there is no replication_destination_bucket_arn"),
    (lambda s: AuditTrail(s, "T", trail_name="bad name!"), "trail_name"),
    (lambda s: AuditTrail(s, "T", bedrock_data_resource_types=["Bedrock::Model"]), "not CloudTrail resource types"),
    (lambda s: AuditTrail(s, "T", log_retention_days=100), "AuditTrail .T.: log_retention_days: 100 days is not a CloudWatch Logs value"),
    (lambda s: ModelInvocationLogging(s, "L", subnets=ec2.SubnetSelection()), "need a vpc"),
])
def test_bad_input_is_refused_with_a_clear_message(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(new_stack(stack_id="Refused"))


def test_a_shaped_token_replicates_where_it_says_and_keeps_the_iam_scope() -> None:
    """An env-agnostic template names its replica with Fn::Sub (a StackSet's: one body for every region). With a
    key/ ARN whose region only deployment knows, the encrypt grant takes the region from the ARN itself."""
    stack = new_stack(account=None, region=None, stack_id="EnvAgnostic")
    bucket_arn = cdk.Fn.sub("arn:${AWS::Partition}:s3:::replica-${AWS::AccountId}-${AWS::Region}")
    key_arn = cdk.Fn.sub("arn:${AWS::Partition}:kms:${R}:${AWS::AccountId}:key/0000-1111",
                         {"R": cdk.Fn.find_in_map("Regions", cdk.Aws.REGION, "Replica")})
    cdk.CfnMapping(stack, "Regions", mapping={"us-east-1": {"Replica": "us-west-2"}})
    audit = AuditBucket(stack, "B", replication_destination_bucket_arn=bucket_arn, replication_destination_key_arn=key_arn)
    resolved = stack.resolve
    (rule,) = resolved(audit.bucket.node.default_child.replication_configuration)["rules"]
    assert rule["destination"]["bucket"] == resolved(bucket_arn)
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"] == resolved(key_arn)
    document = resolved(audit.replication_policy.document.to_json())
    statements = {st["Sid"]: st for st in document["Statement"]}
    assert statements["WriteReplica"]["Resource"] == resolved(cdk.Fn.join("", [bucket_arn, "/*"]))
    assert statements["EncryptReplica"]["Resource"] == resolved(key_arn)
    via = statements["EncryptReplica"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert {"Fn::Select": [3, {"Fn::Split": [":", resolved(key_arn)]}]} in via["Fn::Join"][1]
    # the one wildcard finding is accepted by the text cdk-nag gives the token, and only that one
    metadata = audit.replication_policy.node.default_child.get_metadata("cdk_nag")
    (iam5,) = [r for r in metadata["rules_to_suppress"] if r["id"] == "AwsSolutions-IAM5"]
    assert iam5["applies_to"][1] == "Resource::arn:<AWS::Partition>:s3:::replica-<AWS::AccountId>-<AWS::Region>/*"


def test_default_trail_name_comes_from_the_stack() -> None:
    stack = new_stack(stack_id="Prod")
    assert AuditTrail(stack, "T").trail_name == "Prod-audit"


# ------------------------------------------------------------------------------------- detection


def test_detection_rules_match_the_tamper_calls_and_alert_one_encrypted_topic(clean: Synth) -> None:
    detection = clean.constructs["detection"]
    topic_id = clean.lid(detection.topic)
    role_id = clean.lid(detection.delivery_roles[SECURITY_BUS])
    assert set(detection.rules) == {d.name for d in DETECTIONS}  # no Mantle project named: no Mantle rule
    by_name = {name: clean.props(rule) for name, rule in detection.rules.items()}
    for props in by_name.values():
        assert props["State"] == "ENABLED"
        assert props["Targets"] == [{"Arn": {"Ref": topic_id}, "Id": "TamperAlerts"},
                                    {"Arn": SECURITY_BUS, "Id": "AlertBus0", "RoleArn": getatt(role_id)}]
        assert props["EventPattern"]["detail-type"] == ["AWS API Call via CloudTrail"]
    assert by_name["TrailTamper"]["EventPattern"]["detail"] == {
        "eventSource": ["cloudtrail.amazonaws.com"],
        "eventName": ["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"]}
    assert by_name["BedrockAuditTamper"]["EventPattern"]["detail"]["eventName"] == [
        "DeleteModelInvocationLoggingConfiguration", "PutModelInvocationLoggingConfiguration",
        "DeleteEnforcedGuardrailConfiguration", "PutEnforcedGuardrailConfiguration"]
    assert by_name["KeyTamper"]["EventPattern"]["detail"]["eventName"] == ["ScheduleKeyDeletion", "DisableKey",
                                                                          "PutKeyPolicy"]
    assert by_name["BucketTamper"]["EventPattern"]["detail"]["eventName"] == [
        "PutBucketObjectLockConfiguration", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketLifecycle",
        "PutBucketReplication"]
    assert by_name["LogGroupTamper"]["EventPattern"]["detail"]["eventName"] == [
        "DeleteLogGroup", "PutRetentionPolicy", "DisassociateKmsKey"]
    # Silencing the alarm is itself alarmed on.
    assert by_name["DetectionRuleTamper"]["EventPattern"]["detail"] == {
        "eventSource": ["events.amazonaws.com"],
        "eventName": ["DisableRule", "DeleteRule", "RemoveTargets", "PutRule", "PutTargets"]}
    assert by_name["AlertTopicTamper"]["EventPattern"]["detail"] == {
        "eventSource": ["sns.amazonaws.com"],
        "eventName": ["Unsubscribe", "SetTopicAttributes", "DeleteTopic", "RemovePermission", "AddPermission",
                      "SetSubscriptionAttributes", "PutDataProtectionPolicy"]}
    assert by_name["BedrockApiKeyCreated"]["EventPattern"]["detail"] == {
        "eventSource": ["iam.amazonaws.com"], "eventName": ["CreateServiceSpecificCredential"],
        "requestParameters": {"serviceName": ["bedrock.amazonaws.com"]}}
    assert by_name["BedrockApiKeyUsed"]["EventPattern"]["detail"] == {
        "eventSource": ["bedrock.amazonaws.com"], "requestParameters": {"callWithBearerToken": [True]}}
    # IAM's events arrive in us-east-1 only: the IAM rule exists only where the region is that one.
    (condition,) = clean.json["Conditions"].values()
    assert condition == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    conditioned = {n for n, r in detection.rules.items() if "Condition" in clean.resource(r)}
    assert conditioned == {"BedrockApiKeyCreated"} and detection.detects_iam_events


def test_alert_topic_is_kms_encrypted_tls_only_and_only_the_rules_publish(clean: Synth) -> None:
    detection = clean.constructs["detection"]
    topic_id, key_id = clean.lid(detection.topic), clean.lid(detection.key)
    assert clean.props(detection.topic)["KmsMasterKeyId"] == getatt(key_id)
    (policy_id,) = clean.template.find_resources("AWS::SNS::TopicPolicy")
    policy = clean.json["Resources"][policy_id]["Properties"]
    assert policy["Topics"] == [{"Ref": topic_id}]
    publish = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "AllowOnlyTheTamperRulesToPublish"]
    (condition_id,) = clean.json["Conditions"]
    rule_arns = [{"Fn::If": [condition_id, getatt(clean.lid(r)), {"Ref": "AWS::NoValue"}]}
                 if name == "BedrockApiKeyCreated" else getatt(clean.lid(r)) for name, r in detection.rules.items()]
    assert publish == [{
        "Sid": "AllowOnlyTheTamperRulesToPublish", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish", "Resource": {"Ref": topic_id},
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}}}]
    tls = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key_statements = statements(clean, detection.key, "KeyPolicy")
    assert key_statements[1:] == [*key_tamper_denies(), {
        "Sid": "AllowEventBridgeToPublishEncryptedAlerts", "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*"}]
    assert not clean.template.find_resources("AWS::SNS::Subscription")


def test_alerts_reach_the_security_bus_through_a_role_scoped_to_it(clean: Synth) -> None:
    """EventBridge assumes the role; it may put events on exactly that bus, and denies surround the grant."""
    detection = clean.constructs["detection"]
    role = clean.resource(detection.delivery_roles[SECURITY_BUS])["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}]
    (policy_ref,) = role["ManagedPolicyArns"]
    policy = clean.json["Resources"][policy_ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    assert policy == [
        {"Sid": "PutAlertsOnTheSecurityBus", "Effect": "Allow", "Action": "events:PutEvents", "Resource": SECURITY_BUS},
        {"Sid": "DenyOtherBuses", "Effect": "Deny", "Action": "events:PutEvents", "NotResource": SECURITY_BUS},
        {"Sid": "DenyEverythingElse", "Effect": "Deny", "NotAction": "events:PutEvents", "Resource": "*"}]
    assert "Policies" not in role  # managed, never inline


def test_detection_options_mantle_project_and_email(variants: Synth) -> None:
    detection = variants.constructs["detection"]
    mantle = variants.props(detection.rules["MantleOutsideApprovedProject"])
    assert mantle["EventPattern"]["detail"] == {
        "eventSource": ["bedrock-mantle.amazonaws.com"], "eventName": ["CreateInference"],
        "resources": {"ARN": [{"anything-but": [MANTLE_PROJECT]}]}}
    assert variants.props(detection.rules["MantleApiKeyUsed"])["EventPattern"]["detail"] == {
        "eventSource": ["bedrock-mantle.amazonaws.com"], "requestParameters": {"callWithBearerToken": [True]}}
    (subscription,) = variants.template.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {"Protocol": "email", "TopicArn": {"Ref": variants.lid(detection.topic)},
                                          "Endpoint": "soc@agency.gov"}
    (condition,) = variants.json["Conditions"].values()
    assert condition == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-gov-west-1"]}


def _detection(region: str | None, **kwargs: Any) -> tuple[TamperDetection, dict[str, Any]]:
    stack = new_stack(region=region or cdk.Aws.REGION, account=ACCOUNT if region else None, stack_id="Detect")
    detection = TamperDetection(stack, "Detection", **{"alert_emails": ["soc@agency.gov"], **kwargs})
    return detection, stack.node.root.synth().get_stack_artifact(stack.artifact_id).template


def test_iam_rules_only_where_iam_delivers_its_events() -> None:
    """us-east-2: no IAM rule (it would never fire); env-agnostic: under a condition on the IAM regions; the IAM
    region's stack of another region's environment: the IAM rules alone."""
    elsewhere, body = _detection("us-east-2")
    assert "BedrockApiKeyCreated" not in elsewhere.rules and "Conditions" not in body
    assert not elsewhere.detects_iam_events and elsewhere.iam_event_region == "us-east-1"
    anywhere, body = _detection(None)
    assert set(anywhere.rules) == {d.name for d in DETECTIONS}
    (condition,) = body["Conditions"].values()
    assert condition == {"Fn::Or": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                                    {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-gov-west-1"]}]}
    only, _ = _detection("us-east-1", iam_events_only=True)
    assert set(only.rules) == set(IAM_DETECTIONS) == {"BedrockApiKeyCreated"}
    # Without cdk.json's partition-literal flag the partition comes from the region.
    bare = cdk.Stack(cdk.App(), "Bare", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    assert "BedrockApiKeyCreated" in TamperDetection(bare, "Detection", alert_emails=["soc@agency.gov"]).rules


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alert_emails": ["not-an-address"]}, r"alert_emails: 'not-an-address' is not an email address"),
    ({"approved_mantle_project_arns": ["proj_1"]}, r"approved_mantle_project_arns: 'proj_1' is not a Mantle project"),
    ({"alert_emails": []}, r"alert_emails / alert_event_bus_arns: no alert subscriber"),
    ({"alert_emails": [], "alert_event_bus_arns": ["security-alerts"]}, r"alert_event_bus_arns: 'security-alerts' is "
                                                                         r"not a literal event bus ARN"),
    ({"alert_event_bus_arns": ["arn:aws-us-gov:events:us-gov-west-1:999988887777:event-bus/x"]},
     r"in partition 'aws-us-gov', not the stack's 'aws'"),
    ({"alert_event_bus_arns": [f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"]},
     r"a bus of this stack's own account and region"),
    ({"alert_event_bus_arns": [f"arn:aws:events:us-east-1:99998888777{i}:event-bus/x" for i in range(5)]},
     r"5 buses; an EventBridge rule has at most 5 targets"),
    ({"iam_events_only": True, "region": "us-east-2"}, r"iam_events_only: the stack's region must be its partition's "
                                                       r"IAM region .*'us-east-2'"),
])
def test_detection_refuses_bad_input(kwargs: dict, message: str) -> None:
    region = kwargs.pop("region", "us-east-1")
    with pytest.raises(ValueError, match=message):
        TamperDetection(new_stack(region=region, stack_id="BadDetection"), "Detection",
                        **{"alert_emails": ["soc@agency.gov"], **kwargs})


def _rule_results(body: dict[str, Any], region: str | None = None) -> dict[str, set[Compliance]]:
    results: dict[str, set[Compliance]] = {}
    for r in evaluate(RuleTemplate("Audit", body, region)):
        results.setdefault(r.rule_id, set()).add(r.compliance)
    return results


def test_pack_fails_alerts_nobody_receives(clean: Synth) -> None:
    assert _rule_results(clean.json)["Bedrock-TamperAlertsReceived"] == {Compliance.COMPLIANT}
    body = copy.deepcopy(clean.json)
    for rule in clean.constructs["detection"].rules.values():
        targets = body["Resources"][clean.lid(rule)]["Properties"]["Targets"]
        targets[:] = targets[:1]  # the topic alone, and nobody subscribed to it
    assert _rule_results(body)["Bedrock-TamperAlertsReceived"] == {Compliance.NON_COMPLIANT}


def test_pack_fails_a_detection_set_without_the_silencing_calls(clean: Synth) -> None:
    body = _with_invoke_grant(clean.json)
    body["Resources"].pop(clean.lid(clean.constructs["detection"].rules["AlertTopicTamper"]))
    assert _rule_results(body)["Bedrock-AuditTamperDetected"] == {Compliance.NON_COMPLIANT}


def test_pack_fails_an_iam_rule_outside_the_iam_region(clean: Synth) -> None:
    rule_id = "Bedrock-IamEventRuleInIamRegion"
    assert _rule_results(clean.json)[rule_id] == {Compliance.COMPLIANT}  # env-agnostic view: the condition decides
    assert _rule_results(clean.json, "us-east-1")[rule_id] == {Compliance.COMPLIANT}
    assert _rule_results(clean.json, "us-east-2")[rule_id] == {Compliance.NON_COMPLIANT}  # created nowhere it fires
    body = copy.deepcopy(clean.json)
    body["Resources"][clean.lid(clean.constructs["detection"].rules["BedrockApiKeyCreated"])].pop("Condition")
    assert _rule_results(body, "us-east-1")[rule_id] == {Compliance.COMPLIANT}
    assert _rule_results(body, "us-east-2")[rule_id] == {Compliance.NON_COMPLIANT}
    assert _rule_results(body)[rule_id] == {Compliance.NON_COMPLIANT}  # region unknown, no condition


def test_pack_fails_data_event_rules_the_trail_does_not_feed(clean: Synth) -> None:
    rule_id = "Bedrock-DetectionDataEventsSelected"
    assert _rule_results(clean.json)[rule_id] == {Compliance.COMPLIANT}
    body = copy.deepcopy(clean.json)
    body["Resources"].pop(clean.lid(clean.constructs["trail"].trail))  # the trail is elsewhere (undeclared)
    results = [r for r in evaluate(RuleTemplate("Audit", body)) if r.rule_id == rule_id]
    assert [r.compliance for r in results] == [Compliance.NON_COMPLIANT]
    body["Metadata"] = {"cdk_nag": {"rules_to_suppress": [{"id": rule_id, "reason": "The organization trail "
                                                             "selects Bedrock model data events for this account"}]}}
    assert [r.suppression_reason is not None for r in evaluate(RuleTemplate("Audit", body))
            if r.rule_id == rule_id] == [True]
    trail = copy.deepcopy(clean.json)
    selectors = trail["Resources"][clean.lid(clean.constructs["trail"].trail)]["Properties"]["AdvancedEventSelectors"]
    for selector in selectors:
        for field_ in selector["FieldSelectors"]:
            if field_["Field"] == "resources.type":
                field_["Equals"] = [t for t in field_["Equals"] if t != "AWS::Bedrock::Model"]
    assert _rule_results(trail)[rule_id] == {Compliance.NON_COMPLIANT}


# ---------------------------------------------------------------------- the custom resource handler


class FakeClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


class FakeBedrock:
    def __init__(self, current: dict | None = None, failures: list[str] | None = None) -> None:
        self.current = current
        self.failures = list(failures or [])
        self.calls: list[tuple[str, Any]] = []

    def put_model_invocation_logging_configuration(self, *, loggingConfig: dict) -> dict:
        self.calls.append(("put", loggingConfig))
        if self.failures:
            raise FakeClientError(self.failures.pop(0))
        return {}

    def get_model_invocation_logging_configuration(self) -> dict:
        self.calls.append(("get", None))
        return {"loggingConfig": self.current} if self.current else {}

    def delete_model_invocation_logging_configuration(self) -> dict:
        self.calls.append(("delete", None))
        return {}


#: The configuration the function's environment holds (synthesized as JSON: real booleans).
CONFIG = {
    "cloudWatchConfig": {"logGroupName": "lg", "roleArn": "role",
                         "largeDataDeliveryS3Config": {"bucketName": "audit-bucket", "keyPrefix": "p/large-data"}},
    "s3Config": {"bucketName": "audit-bucket", "keyPrefix": "p"},
    "textDataDeliveryEnabled": True, "imageDataDeliveryEnabled": False, "embeddingDataDeliveryEnabled": False,
}
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Audit/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A.../put?X-Amz-Signature=x"
#: What an event carries: the handler must ignore it (a forged event names the attacker's bucket).
EVENT_CONFIG = {**copy.deepcopy(CONFIG), "s3Config": {"bucketName": "attacker-bucket", "keyPrefix": "p"},
                "textDataDeliveryEnabled": "false"}


def _event(request_type: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": request_type, "ResponseURL": RESPONSE_URL, "StackId": STACK_ID,
            "RequestId": "req", "LogicalResourceId": "Configuration",
            "ResourceProperties": {"ServiceToken": "fn", "LoggingConfig": copy.deepcopy(EVENT_CONFIG)}, **extra}


@pytest.fixture
def run_handler(monkeypatch: pytest.MonkeyPatch):
    """Run HANDLER_SOURCE with a fake boto3, a fake response URL and the function's environment;
    return (responses, sleeps). ``env`` overrides environment variables."""
    responses: list[dict[str, Any]] = []
    sleeps: list[float] = []

    def urlopen(request: urllib.request.Request, timeout: float) -> Any:
        assert request.get_method() == "PUT" and request.full_url == RESPONSE_URL
        responses.append(json.loads(request.data))
        return types.SimpleNamespace(read=lambda: b"")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(time, "sleep", sleeps.append)

    def run(event: dict[str, Any], client: FakeBedrock, **env: str) -> tuple[list[dict], list[float]]:
        environment = {"LOGGING_CONFIG": json.dumps(CONFIG), "STACK_ID": STACK_ID, "URL_SUFFIX": "amazonaws.com",
                       "TAKE_OVER": "false", "ON_DELETE": "retain", **env}
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        boto3 = types.ModuleType("boto3")
        boto3.client = lambda name: client if name == "bedrock" else pytest.fail(name)
        exceptions = types.ModuleType("botocore.exceptions")
        exceptions.ClientError = FakeClientError
        monkeypatch.setitem(sys.modules, "boto3", boto3)
        monkeypatch.setitem(sys.modules, "botocore", types.ModuleType("botocore"))
        monkeypatch.setitem(sys.modules, "botocore.exceptions", exceptions)
        namespace: dict[str, Any] = {}
        exec(compile(HANDLER_SOURCE, "index.py", "exec"), namespace)  # the inline Lambda source
        namespace["handler"](event, types.SimpleNamespace(log_stream_name="stream"))
        return responses, sleeps

    return run


def test_handler_source_fits_inline_and_sends_only_old_boto3_fields() -> None:
    assert len(HANDLER_SOURCE) <= 4096
    compile(HANDLER_SOURCE, "index.py", "exec")
    assert "videoDataDeliveryEnabled" not in HANDLER_SOURCE and "audioDataDeliveryEnabled" not in HANDLER_SOURCE
    assert 'event["ResourceProperties"]' not in HANDLER_SOURCE  # the configuration never comes from the event


def test_handler_create_puts_its_own_configuration_not_the_events(run_handler) -> None:
    client = FakeBedrock()
    responses, _ = run_handler(_event("Create"), client)
    assert client.calls == [("get", None), ("put", CONFIG)]  # not attacker-bucket, not text off
    assert responses == [{"Status": "SUCCESS", "Reason": "see stream",
                          "PhysicalResourceId": "bedrock-model-invocation-logging", "StackId": STACK_ID,
                          "RequestId": "req", "LogicalResourceId": "Configuration", "Data": {}}]


@pytest.mark.parametrize(("name", "change"), [
    ("another stack", {"StackId": STACK_ID.replace("/Audit/", "/Other/")}),
    ("no stack", {"StackId": None}),
    ("attacker's host", {"ResponseURL": "https://attacker.example/put"}),
    ("look-alike host", {"ResponseURL": "https://cloudformation-custom-resource-response-useast1.attacker.example/x"}),
    ("suffix inside the host", {"ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com"
                                               ".attacker.example/x"}),
    ("plain http", {"ResponseURL": RESPONSE_URL.replace("https://", "http://")}),
    ("no url", {"ResponseURL": None}),
])
@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_handler_ignores_requests_that_are_not_cloudformations_for_its_stack(
        run_handler, name: str, change: dict, request_type: str) -> None:
    """Anyone allowed lambda:InvokeFunction can hand the function an event: it must not act, nor answer."""
    client = FakeBedrock(current={"s3Config": {"bucketName": "audit-bucket"}})
    responses, _ = run_handler({**_event(request_type), **change}, client, ON_DELETE="delete")
    assert client.calls == [] and responses == [], name


def test_handler_update_keeps_the_physical_id(run_handler) -> None:
    responses, _ = run_handler(_event("Update", PhysicalResourceId="kept"), FakeBedrock())
    assert responses[0]["PhysicalResourceId"] == "kept" and responses[0]["Status"] == "SUCCESS"


def test_handler_retries_while_new_grants_propagate(run_handler) -> None:
    client = FakeBedrock(failures=["ValidationException", "ValidationException"])
    responses, sleeps = run_handler(_event("Create"), client)
    assert [c[0] for c in client.calls] == ["get", "put", "put", "put"]
    assert sleeps == [10, 20]
    assert responses[0]["Status"] == "SUCCESS"


def test_handler_reports_failure_to_cloudformation(run_handler) -> None:
    client = FakeBedrock(failures=["AccessDeniedException"])
    responses, sleeps = run_handler(_event("Create"), client)
    assert [c[0] for c in client.calls] == ["get", "put"] and sleeps == []
    assert responses[0]["Status"] == "FAILED" and "AccessDeniedException" in responses[0]["Reason"]


def test_handler_create_refuses_to_replace_another_owners_configuration(run_handler) -> None:
    theirs = FakeBedrock(current={"s3Config": {"bucketName": "landing-zone-bucket"}})
    responses, _ = run_handler(_event("Create"), theirs)
    assert [c[0] for c in theirs.calls] == ["get"]
    assert responses[0]["Status"] == "FAILED" and "landing-zone-bucket" in responses[0]["Reason"]

    # The event cannot take over: only the function's environment can.
    event = _event("Create")
    event["ResourceProperties"]["TakeOver"] = "true"
    ignored = FakeBedrock(current={"s3Config": {"bucketName": "landing-zone-bucket"}})
    responses, _ = run_handler(event, ignored)
    assert [c[0] for c in ignored.calls] == ["get"] and responses[-1]["Status"] == "FAILED"

    taken = FakeBedrock(current={"s3Config": {"bucketName": "landing-zone-bucket"}})
    responses, _ = run_handler(_event("Create"), taken, TAKE_OVER="true")
    assert [c[0] for c in taken.calls] == ["get", "put"] and responses[-1]["Status"] == "SUCCESS"


CLOUDWATCH_ONLY = {"cloudWatchConfig": {"logGroupName": "/org/bedrock-invocations", "roleArn": "org-role"},
                   "textDataDeliveryEnabled": True}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_handler_refuses_another_owners_cloudwatch_only_configuration(run_handler, request_type: str) -> None:
    """A configuration that logs only to CloudWatch Logs has no bucket; it is someone else's, never ours."""
    theirs = FakeBedrock(current=copy.deepcopy(CLOUDWATCH_ONLY))
    responses, _ = run_handler(_event(request_type, PhysicalResourceId="kept"), theirs)
    assert [c[0] for c in theirs.calls] == ["get"]
    assert responses[0]["Status"] == "FAILED" and "/org/bedrock-invocations" in responses[0]["Reason"]


def test_handler_delete_leaves_a_cloudwatch_only_configuration_alone(run_handler) -> None:
    theirs = FakeBedrock(current=copy.deepcopy(CLOUDWATCH_ONLY))
    responses, _ = run_handler(_event("Delete", PhysicalResourceId="p"), theirs, ON_DELETE="delete")
    assert [c[0] for c in theirs.calls] == ["get"] and responses[0]["Status"] == "SUCCESS"


def test_handler_delete_turns_off_only_its_own_configuration_and_only_when_told_to(run_handler) -> None:
    ours = FakeBedrock(current={"s3Config": {"bucketName": "audit-bucket"}})
    run_handler(_event("Delete", PhysicalResourceId="bedrock-model-invocation-logging"), ours, ON_DELETE="delete")
    assert [c[0] for c in ours.calls] == ["get", "delete"]

    theirs = FakeBedrock(current={"s3Config": {"bucketName": "someone-elses-bucket"}})
    responses, _ = run_handler(_event("Delete", PhysicalResourceId="bedrock-model-invocation-logging"), theirs,
                               ON_DELETE="delete")
    assert [c[0] for c in theirs.calls] == ["get"]

    # Retained (the default): even a Delete for its own configuration leaves it in place.
    kept = FakeBedrock(current={"s3Config": {"bucketName": "audit-bucket"}})
    responses, _ = run_handler(_event("Delete", PhysicalResourceId="bedrock-model-invocation-logging"), kept)
    assert [c[0] for c in kept.calls] == ["get"]
    assert [r["Status"] for r in responses] == ["SUCCESS", "SUCCESS", "SUCCESS"]


def test_handler_update_refuses_another_owners_configuration_but_moves_its_own(run_handler) -> None:
    """An Update must not take the account's logging from someone else either (only Create was guarded)."""
    theirs = FakeBedrock(current={"s3Config": {"bucketName": "landing-zone-bucket"}})
    responses, _ = run_handler(_event("Update", PhysicalResourceId="kept"), theirs)
    assert [c[0] for c in theirs.calls] == ["get"]
    assert responses[0]["Status"] == "FAILED" and "landing-zone-bucket" in responses[0]["Reason"]

    # Our own configuration, moving from our old bucket to the new one: allowed, because the account's
    # configuration still delivers to this stack's log group (the function's environment names it).
    ours = FakeBedrock(current={**copy.deepcopy(CONFIG), "s3Config": {"bucketName": "old-audit-bucket"}})
    responses, _ = run_handler(_event("Update", PhysicalResourceId="kept"), ours)
    assert ours.calls == [("get", None), ("put", CONFIG)] and responses[-1]["Status"] == "SUCCESS"


#: What a forged event claims: the previous configuration was the one the account has (another owner's).
FORGED_OLD = {"LoggingConfig": {"s3Config": {"bucketName": "landing-zone-bucket"},
                                "cloudWatchConfig": {"logGroupName": "/org/bedrock-invocations"}}}
THEIRS = {"s3Config": {"bucketName": "landing-zone-bucket", "keyPrefix": "org"},
          "cloudWatchConfig": {"logGroupName": "/org/bedrock-invocations", "roleArn": "org-role"},
          "textDataDeliveryEnabled": True}


def test_handler_source_never_reads_the_events_properties() -> None:
    """Whose configuration the account's is comes from the account and the environment, never the event."""
    assert "ResourceProperties" not in HANDLER_SOURCE and "TakeOver" not in HANDLER_SOURCE


def test_a_forged_delete_naming_another_owners_bucket_does_not_delete_their_configuration(run_handler) -> None:
    """Defect 1 of the mutation review: OldResourceProperties (and ResourceProperties) naming the other
    owner's bucket made their configuration 'ours', and a Delete with ON_DELETE=delete removed it."""
    forged = _event("Delete", PhysicalResourceId="bedrock-model-invocation-logging",
                    OldResourceProperties=copy.deepcopy(FORGED_OLD))
    forged["ResourceProperties"]["LoggingConfig"] = copy.deepcopy(FORGED_OLD["LoggingConfig"])
    theirs = FakeBedrock(current=copy.deepcopy(THEIRS))
    responses, _ = run_handler(forged, theirs, ON_DELETE="delete")
    assert theirs.calls == [("get", None)], "another owner's configuration must be left in place"
    assert [r["Status"] for r in responses] == ["SUCCESS"]

    # The same Delete with the account delivering to this stack's own bucket: turned off, as configured.
    ours = FakeBedrock(current=copy.deepcopy(CONFIG))
    run_handler(forged, ours, ON_DELETE="delete")
    assert ours.calls == [("get", None), ("delete", None)]


@pytest.mark.parametrize("take_over_in_event", [False, True])
def test_a_forged_update_cannot_repoint_another_owners_configuration(run_handler, take_over_in_event: bool) -> None:
    """An Update whose OldResourceProperties claim the account's configuration (another owner's) was this
    stack's: refused as a take-over, the configuration untouched (only the environment's TAKE_OVER allows it)."""
    forged = _event("Update", PhysicalResourceId="kept", OldResourceProperties=copy.deepcopy(FORGED_OLD))
    if take_over_in_event:
        forged["ResourceProperties"]["TakeOver"] = "true"
        forged["OldResourceProperties"]["TakeOver"] = "true"
    theirs = FakeBedrock(current=copy.deepcopy(THEIRS))
    responses, _ = run_handler(forged, theirs)
    assert theirs.calls == [("get", None)], "another owner's configuration must not be replaced"
    assert [r["Status"] for r in responses] == ["FAILED"]
    assert "landing-zone-bucket" in responses[0]["Reason"] and "take_over_existing" in responses[0]["Reason"]

    # Neither the bucket alone nor the log group alone of another owner becomes ours through the event.
    for current in ({"s3Config": {"bucketName": "landing-zone-bucket"}}, copy.deepcopy(CLOUDWATCH_ONLY)):
        client = FakeBedrock(current=current)
        responses, _ = run_handler(forged, client)
        assert client.calls == [("get", None)] and responses[-1]["Status"] == "FAILED"


@pytest.fixture(scope="module")
def readers() -> Synth:
    """An auditor role and a SIEM role reading the trail; the auditor also reads invocation logs."""
    stack = new_stack(stack_id="Readers")
    trail = AuditTrail(stack, "Trail")
    logging = ModelInvocationLogging(stack, "Invocations")
    auditor = iam.Role(stack, "Auditor", assumed_by=iam.AccountRootPrincipal())
    siem = iam.Role(stack, "Siem", assumed_by=iam.AccountRootPrincipal())
    first, second = trail.grant_read(auditor), trail.grant_read(siem)
    assert first is second  # one policy per construct, attached to each grantee
    logging.grant_read(auditor)
    return synth(stack, trail=trail, logging=logging, auditor=auditor, siem=siem)


def test_grant_read_attaches_one_managed_policy_with_exact_read_statements(readers: Synth) -> None:
    trail = readers.constructs["trail"]
    policy = readers.props(trail.node.find_child("ReadPolicy"))
    bucket, key = readers.lid(trail.bucket.bucket), readers.lid(trail.key)
    log_group = readers.lid(trail.log_group)
    assert policy["PolicyDocument"]["Statement"] == [
        {"Sid": "ListAuditBucket", "Effect": "Allow", "Resource": getatt(bucket),
         "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions"]},
        {"Sid": "ReadAuditObjects", "Effect": "Allow",
         "Resource": {"Fn::Join": ["", [getatt(bucket), "/*"]]},
         "Action": ["s3:GetObject", "s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersion"]},
        {"Sid": "DecryptAuditObjectsThroughS3", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": getatt(key),
         "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["s3.us-east-1.",
                                                                              {"Ref": "AWS::URLSuffix"}]]}}}},
        {"Sid": "ReadAuditLogGroups", "Effect": "Allow", "Resource": getatt(log_group),
         "Action": ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"]},
    ]
    policy_id = readers.lid(trail.node.find_child("ReadPolicy"))
    for role in ("auditor", "siem"):
        assert {"Ref": policy_id} in readers.props(readers.constructs[role])["ManagedPolicyArns"]
        assert "Policies" not in readers.props(readers.constructs[role])


def test_read_policies_pass_both_packs_with_only_the_object_wildcard_accepted(readers: Synth) -> None:
    for owner in ("trail", "logging"):
        policy = readers.constructs[owner].node.find_child("ReadPolicy")
        assert readers.errors_on(policy) == set()
        (accepted,) = readers.suppressions(policy).values()
        assert accepted["id"] == "AwsSolutions-IAM5" and len(accepted["applies_to"]) == 1
    assert readers.all_errors() == []


def test_grant_read_needs_a_role_user_or_group() -> None:
    stack = new_stack(stack_id="ReadService")
    trail = AuditTrail(stack, "Trail")
    with pytest.raises(TypeError, match=r"AuditTrail 'Trail': grant_read needs a role, user or group"):
        trail.grant_read(iam.ServicePrincipal("lambda.amazonaws.com"))


@pytest.mark.parametrize(("region", "expected"), [
    # CloudTrail rejects the newer Bedrock types in GovCloud; Mantle exists there (us-gov-west-1), not in ISO.
    ("us-gov-west-1", (*audit_trail_module.CORE_BEDROCK_DATA_RESOURCE_TYPES, *MANTLE_DATA_RESOURCE_TYPES)),
    ("us-east-1", (*BEDROCK_DATA_RESOURCE_TYPES, *MANTLE_DATA_RESOURCE_TYPES)),
    ("us-iso-east-1", audit_trail_module.CORE_BEDROCK_DATA_RESOURCE_TYPES),
])
def test_the_default_data_types_follow_the_partition(region: str, expected: tuple[str, ...]) -> None:
    """A library user who passes no types gets a trail CloudTrail accepts in its partition."""
    stack = new_stack(region=region, stack_id=f"Types{region.replace('-', '')}")
    trail = AuditTrail(stack, "Trail", log_retention_days=365)
    selectors = stack.resolve(trail.trail.advanced_event_selectors)
    types = [f["equalTo"][0] for s in selectors for f in s["fieldSelectors"] if f["field"] == "resources.type"]
    assert types == list(expected)


def test_the_mantle_partitions_are_those_of_the_catalogs_mantle_regions() -> None:
    """The trail's Mantle default and the coverage rule follow where AWS documents a bedrock-mantle endpoint."""
    from compliant_bedrock.compliance.rules.audit import MANTLE_PARTITIONS
    from compliant_bedrock.models import MANTLE_REGIONS

    assert set(MANTLE_PARTITIONS) == {"aws-us-gov" if r.startswith("us-gov-") else "aws" for r in MANTLE_REGIONS}


@pytest.mark.parametrize("name", ["*", "cdk-*", "cdk-hnb659fds-cfn-exec-role-*", "deploy-role-?"])
def test_audit_admins_refuse_a_pattern_naming_the_prop(name: str) -> None:
    """A pattern in the audit key's and buckets' ArnNotEquals exemption would exempt any role an admin names to fit."""
    with pytest.raises(ConstructPropsError, match=rf"AuditAdmins: deploy_role_name: {re.escape(repr(name))} is a "
                                                  "pattern"):
        AuditAdmins(deploy_role_name=name)
    with pytest.raises(ConstructPropsError, match=r"AuditAdmins: break_glass_role_name: .* is a pattern"):
        AuditAdmins(break_glass_role_name=name)


@pytest.mark.parametrize("name", ["cdk", "cdk-hnb659fds", "cdk-hnb659fds-cfn-exec-role",
                                  "cdk-hnb659fds-cfn-exec-role-111122223333", "pipeline-", "deploy_"])
def test_audit_admins_refuse_a_short_prefix_naming_the_prop(name: str) -> None:
    with pytest.raises(ConstructPropsError, match=rf"AuditAdmins: deploy_role_name: {re.escape(repr(name))} reads as "
                                                  "a prefix of role names.*cdk-hnb659fds-cfn-exec-role-111122223333-"):
        AuditAdmins(deploy_role_name=name)


def test_audit_admins_take_exact_role_names() -> None:
    for name in ("cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1", "pipeline-deploy", "cdk-abc-deploy"):
        assert AuditAdmins(deploy_role_name=name).deploy_role_name == name


def test_config_names_the_field_of_a_deploy_role_pattern() -> None:
    from infra.config import AuditSettings

    with pytest.raises(ValueError, match=r"deploy_role_name\n.*'cdk-hnb659fds' reads as a prefix of role names"):
        AuditSettings(deploy_role_name="cdk-hnb659fds", alert_emails=["a@example.gov"])
