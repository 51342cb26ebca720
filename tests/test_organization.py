"""Organization policies: exact statements, limits refused at synth, the organization config, the rules."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from compliant_bedrock.compliance import Compliance, attach_packs, evaluate, judge
from compliant_bedrock.compliance.template import Template
from compliant_bedrock.guardrail import BedrockGuardrail
from compliant_bedrock.organization import (
    BEDROCK_POLICY_MAX_CHARS,
    BedrockOrganizationGuardrails,
    EndpointCondition,
    ExemptRole,
)
from infra.app_factory import ROOT, cdk_json_context, selected_organizations
from infra.config import ConfigError, load_environments
from infra.org_config import ORGANIZATION_STACK, OrganizationSettings, load_organizations
from infra.organization_stack import OrganizationStack

ORG = "o-exampleorg1"
P = "arn:aws"  # the reference organization is in the commercial partition
#: Bedrock's embedding models in aws, spelled out (not read from the catalog the code uses).
AWS_EMBEDDING_MODELS = ["amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v1", "amazon.titan-embed-image-v1",
                        "cohere.embed-english-v3", "cohere.embed-multilingual-v3"]
ENV_ACCOUNT, BASELINE_ACCOUNT = "111122223333", "555566667777"
STACKSETS_EXEC = "stacksets-exec-0123456789abcdef0123456789abcdef"
CFN_EXEC = f"{P}:iam::{ENV_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ENV_ACCOUNT}-us-east-1"
DEPLOY_ROLE = f"{P}:iam::{ENV_ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ENV_ACCOUNT}-us-east-1"
#: break-glass and deployers: exact ARNs with their accounts (the environment's, the baseline's), never patterns.
ADMINS = sorted([CFN_EXEC, f"{P}:iam::{ENV_ACCOUNT}:role/compliant-bedrock-break-glass",
                 f"{P}:iam::{BASELINE_ACCOUNT}:role/compliant-bedrock-break-glass",
                 f"{P}:iam::{BASELINE_ACCOUNT}:role/{STACKSETS_EXEC}"])
EVERYWHERE = [f"{P}:iam::*:role/cdk-hnb659fds-cfn-exec-role-{ENV_ACCOUNT}-us-east-1",
              f"{P}:iam::*:role/compliant-bedrock-break-glass", f"{P}:iam::*:role/{STACKSETS_EXEC}"]
ENDPOINTS = ["vpce-0c0a0000000000001", "vpce-0c0a0000000000002"]


def _fixture_environment():
    import yaml

    from infra.config import parse_environment

    return parse_environment(yaml.safe_load((ROOT / "tests" / "fixtures" / "environment.yaml").read_text()),
                             "environment.yaml")


def load_organization(directory: Path, environments: list | None = None) -> OrganizationSettings | None:
    """The one organization of a test's config directory (the tests write one file)."""
    found = load_organizations(directory, environments)
    assert len(found) <= 1
    return found[0] if found else None


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' organization stack (covering the fixture environment) with its packs, synthesized once."""
    settings = load_organization(_write(tmp_path_factory.mktemp("org.config"), GOOD), [_fixture_environment()])
    assert settings is not None
    outdir = tmp_path_factory.mktemp("org.out")
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    attach_packs(OrganizationStack(app, settings=settings))
    app.synth()
    assert judge(outdir, {}) == []
    return outdir


@pytest.fixture(scope="module")
def template(assembly: Path) -> dict[str, Any]:
    return json.loads((assembly / f"{ORGANIZATION_STACK}.template.json").read_text())


def _policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["Name"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::Organizations::Policy"}


def _statements(template: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    content = _policies(template)[name]["Content"]
    assert isinstance(content, str), "content must be the exact compact JSON string AWS counts"
    assert content == json.dumps(json.loads(content), separators=(",", ":"))
    return {s["Sid"]: s for s in json.loads(content)["Statement"]}


def test_policy_types_names_and_targets(template: dict[str, Any]) -> None:
    policies = _policies(template)
    assert {n: p["Type"] for n, p in policies.items()} == {
        "compliant-bedrock-inference": "SERVICE_CONTROL_POLICY",
        "compliant-bedrock-audit-plane-1": "SERVICE_CONTROL_POLICY",
        "compliant-bedrock-audit-plane-2": "SERVICE_CONTROL_POLICY",
        "compliant-bedrock-audit-resources": "RESOURCE_CONTROL_POLICY",
        "compliant-bedrock-guardrail": "BEDROCK_POLICY",
    }
    assert {tuple(p["TargetIds"]) for p in policies.values()} == {("ou-exam-bedrock1",)}


_ADMINS = {"ArnNotEquals": {"aws:PrincipalArn": ADMINS}}
INFERENCE_STATEMENTS = {
    "DenyBedrockApiKeys": {"Sid": "DenyBedrockApiKeys", "Effect": "Deny",
                           "Action": ["bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"],
                           "Resource": "*"},
    "DenyBedrockApiKeyCreation": {
        "Sid": "DenyBedrockApiKeyCreation", "Effect": "Deny", "Action": "iam:CreateServiceSpecificCredential",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:ServiceSpecificCredentialServiceName": ["bedrock.amazonaws.com"]}}},
    "DenyInferenceOutsideApprovedEndpoints": {
        "Sid": "DenyInferenceOutsideApprovedEndpoints", "Effect": "Deny",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream",
                   "bedrock:InvokeModelWithBidirectionalStream", "bedrock-mantle:CreateInference"],
        "Resource": "*",
        # aws:SourceVpce (sent on every request through an endpoint), never aws:VpceOrgID (Bedrock does not send it)
        "Condition": {"StringNotEquals": {"aws:SourceVpce": ENDPOINTS}, "BoolIfExists": {"aws:ViaAWSService": "false"}}},
    "DenyBedrockOutsideApprovedRegions": {
        "Sid": "DenyBedrockOutsideApprovedRegions", "Effect": "Deny", "Action": ["bedrock:*", "bedrock-mantle:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]},
                      "ArnNotLike": {"bedrock:InferenceProfileArn": [f"{P}:bedrock:*:*:inference-profile/us.*"]}}},
    "DenyInferenceProfilesOutsideApprovedRegions": {
        "Sid": "DenyInferenceProfilesOutsideApprovedRegions", "Effect": "Deny",
        "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream",
                   "bedrock:InvokeModelWithBidirectionalStream"],
        "NotResource": [f"{P}:bedrock:*::foundation-model/*"],
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}},
    "DenyBatchInferenceExceptNamedRoles": {"Sid": "DenyBatchInferenceExceptNamedRoles", "Effect": "Deny",
                                           "Action": "bedrock:CreateModelInvocationJob", "Resource": "*"},
    "DenyMantleInferenceExceptNamedRoles": {"Sid": "DenyMantleInferenceExceptNamedRoles", "Effect": "Deny",
                                            "Action": "bedrock-mantle:CreateInference", "Resource": "*"},
    "DenyMantleExceptNamedRoles": {"Sid": "DenyMantleExceptNamedRoles", "Effect": "Deny", "Action": "bedrock-mantle:*",
                                   "Resource": "*", "Condition": _ADMINS},
    # no environment accepted Mantle: no endpoint admits it
    "DenyMantleOutsideItsEndpoints": {"Sid": "DenyMantleOutsideItsEndpoints", "Effect": "Deny",
                                      "Action": "bedrock-mantle:CreateInference", "Resource": "*"},
    "DenyMantleGovernanceChanges": {
        "Sid": "DenyMantleGovernanceChanges", "Effect": "Deny",
        "Action": ["bedrock-mantle:CreateProject", "bedrock-mantle:UpdateProject", "bedrock-mantle:ArchiveProject",
                   "bedrock-mantle:PutAccountDataRetention"], "Resource": "*", "Condition": _ADMINS},
}

_STACKS = ["CompliantBedrock-*", "StackSet-CompliantBedrock-*"]
_BUCKETS = ["compliantbedrock-*", "stackset-compliantbedrock-*", "cb-*-replica"]
_FUNCTIONS = [f"{P}:lambda:*:{a}:function:{s}" for a in (ENV_ACCOUNT, BASELINE_ACCOUNT) for s in _STACKS]
AUDIT_STATEMENTS = {
    "ProtectAuditResources": {
        "Sid": "ProtectAuditResources", "Effect": "Deny",
        "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                   "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors",
                   "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                   "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration", "s3:DeleteBucket",
                   "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning", "s3:BypassGovernanceRetention",
                   "logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy",
                   "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey"],
        "Resource": [f"{P}:cloudtrail:*:*:trail/{s}" for s in _STACKS]
        + [f"{P}:s3:::{b}" for b in _BUCKETS] + [f"{P}:s3:::{b}/*" for b in _BUCKETS]
        + [f"{P}:logs:*:*:log-group:{s}" for s in _STACKS] + [f"{P}:logs:*:*:log-group:{s}:*" for s in _STACKS],
        "Condition": _ADMINS},
    "ProtectBedrockAuditConfiguration": {
        "Sid": "ProtectBedrockAuditConfiguration", "Effect": "Deny",
        "Action": ["bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration",
                   "bedrock:PutEnforcedGuardrailConfiguration", "bedrock:DeleteEnforcedGuardrailConfiguration"],
        # the writer is exempt by its own function's requests, never by its role's name
        "Resource": "*", "Condition": {**_ADMINS, "ArnNotLike": {"lambda:SourceFunctionArn": _FUNCTIONS}}},
    "ProtectAuditKeys": {
        "Sid": "ProtectAuditKeys", "Effect": "Deny",
        "Action": ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
                   "kms:UntagResource", "kms:TagResource"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/compliant-bedrock:audit": "true"}, **_ADMINS}},
    "ProtectPackageStacks": {
        "Sid": "ProtectPackageStacks", "Effect": "Deny",
        "Action": ["cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection",
                   "cloudformation:UpdateStack", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                   "cloudformation:SetStackPolicy", "cloudformation:ContinueUpdateRollback",
                   "cloudformation:CancelUpdateStack"],
        "Resource": [f"{P}:cloudformation:*:*:stack/{s}/*" for s in _STACKS],
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted([*ADMINS, DEPLOY_ROLE])}}},
    "ProtectPackageFunctionsAndDetection": {
        "Sid": "ProtectPackageFunctionsAndDetection", "Effect": "Deny",
        "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                   "lambda:InvokeFunction", "lambda:AddPermission", "lambda:PublishVersion", "lambda:CreateAlias",
                   "lambda:UpdateAlias", "lambda:DeleteFunction", "events:DisableRule", "events:DeleteRule",
                   "events:PutRule", "events:RemoveTargets", "events:PutTargets", "sns:DeleteTopic",
                   "sns:SetTopicAttributes", "sns:RemovePermission", "sns:AddPermission", "sns:PutDataProtectionPolicy"],
        "Resource": [f"{P}:lambda:*:*:function:{s}" for s in _STACKS] + [f"{P}:events:*:*:rule/{s}" for s in _STACKS]
        + [f"{P}:sns:*:*:{s}" for s in _STACKS], "Condition": _ADMINS},
    "ProtectExemptRoles": {
        "Sid": "ProtectExemptRoles", "Effect": "Deny",
        "Action": ["iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                   "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                   "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:UpdateRole",
                   "iam:TagRole", "iam:UntagRole"],
        "Resource": sorted([f"{P}:iam::*:role/{s}" for s in _STACKS] + EVERYWHERE
                           + [f"{P}:iam::*:role/cdk-hnb659fds-deploy-role-{ENV_ACCOUNT}-us-east-1"]),
        "Condition": _ADMINS},
    "DenyPassingExemptRoles": {
        "Sid": "DenyPassingExemptRoles", "Effect": "Deny", "Action": "iam:PassRole",
        "Resource": sorted(EVERYWHERE + [f"{P}:iam::*:role/cdk-hnb659fds-deploy-role-{ENV_ACCOUNT}-us-east-1"]
                           + [f"{P}:iam::{a}:role/{s}" for a in (ENV_ACCOUNT, BASELINE_ACCOUNT) for s in _STACKS]),
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted([*ADMINS, DEPLOY_ROLE])}}},
    "DenyAssumingExemptRoles": {"Sid": "DenyAssumingExemptRoles", "Effect": "Deny", "Action": "sts:AssumeRole",
                                "Resource": EVERYWHERE},
    # no pipeline configured: the deploy roles are assumed from the management account only
    "DenyAssumingStackUpdaters": {"Sid": "DenyAssumingStackUpdaters", "Effect": "Deny", "Action": "sts:AssumeRole",
                                  "Resource": [f"{P}:iam::*:role/cdk-hnb659fds-deploy-role-{ENV_ACCOUNT}-us-east-1"]},
    "ProtectApprovedEndpoints": {
        "Sid": "ProtectApprovedEndpoints", "Effect": "Deny",
        "Action": ["ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints"],
        "Resource": [f"{P}:ec2:us-east-1:{ENV_ACCOUNT}:vpc-endpoint/{e}" for e in ENDPOINTS], "Condition": _ADMINS},
}

_BUCKET_ARNS = [f"{P}:s3:::{b}" for b in _BUCKETS] + [f"{P}:s3:::{b}/*" for b in _BUCKETS]
_OUTSIDE = {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}
_OTHER_ORG = {"StringNotEqualsIfExists": {"aws:SourceOrgID": ORG}, "Null": {"aws:SourceAccount": "false"},
              "Bool": {"aws:PrincipalIsAWSService": "true"}}
_AUDIT_TAG = {"StringEquals": {"aws:ResourceTag/compliant-bedrock:audit": "true"}}
RCP_STATEMENTS = {
    "DenyAuditBucketsOutsideOrganization": {"Sid": "DenyAuditBucketsOutsideOrganization", "Effect": "Deny",
                                            "Principal": "*", "Action": "s3:*", "Resource": _BUCKET_ARNS,
                                            "Condition": _OUTSIDE},
    "DenyAuditKeysOutsideOrganization": {"Sid": "DenyAuditKeysOutsideOrganization", "Effect": "Deny", "Principal": "*",
                                         "Action": "kms:*", "Resource": "*", "Condition": {**_AUDIT_TAG, **_OUTSIDE}},
    "DenyAuditBucketsForOtherOrganizations": {"Sid": "DenyAuditBucketsForOtherOrganizations", "Effect": "Deny",
                                              "Principal": "*", "Action": "s3:*", "Resource": _BUCKET_ARNS,
                                              "Condition": _OTHER_ORG},
    "DenyAuditKeysForOtherOrganizations": {"Sid": "DenyAuditKeysForOtherOrganizations", "Effect": "Deny",
                                           "Principal": "*", "Action": "kms:*", "Resource": "*",
                                           "Condition": {**_AUDIT_TAG, **_OTHER_ORG}},
    "DenyAuditBucketsWithoutTls": {"Sid": "DenyAuditBucketsWithoutTls", "Effect": "Deny", "Principal": "*",
                                   "Action": "s3:*", "Resource": _BUCKET_ARNS,
                                   "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}},
}


@pytest.mark.parametrize(("policies", "expected"), [
    (["compliant-bedrock-inference"], INFERENCE_STATEMENTS),
    (["compliant-bedrock-audit-plane-1", "compliant-bedrock-audit-plane-2"], AUDIT_STATEMENTS),
    (["compliant-bedrock-audit-resources"], RCP_STATEMENTS),
])
def test_every_statement_exactly(template: dict[str, Any], policies: list[str], expected: dict[str, Any]) -> None:
    """Each deny asserted whole: removing one, or loosening its condition, fails here."""
    assert {sid: s for policy in policies for sid, s in _statements(template, policy).items()} == expected


def test_bedrock_policy_enforces_a_published_version_on_the_whole_request(template: dict[str, Any]) -> None:
    content = _policies(template)["compliant-bedrock-guardrail"]["Content"]
    parts = content["Fn::Join"][1]
    guardrail = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::Bedrock::Guardrail")
    version = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::Bedrock::GuardrailVersion")
    assert parts[1:4] == [{"Fn::GetAtt": [guardrail, "GuardrailArn"]}, ":", {"Fn::GetAtt": [version, "Version"]}]
    text = "".join(p if isinstance(p, str) else "X" for p in parts)
    assert json.loads(text) == {"bedrock": {"guardrail_inference": {"us-east-1": {"config_1": {
        "identifier": {"@@assign": "X:X"},  # <guardrail ARN>:<published version>
        "selective_content_guarding": {"system": {"@@assign": "comprehensive"},
                                       "messages": {"@@assign": "comprehensive"}},
        # every model but the embedding models, whose calls fail under an enforced guardrail (AWS)
        "model_enforcement": {"included_models": {"@@assign": ["ALL"]},
                              "excluded_models": {"@@assign": AWS_EMBEDDING_MODELS}},
    }}}}}


def test_guardrail_resource_policy_and_key_admit_the_organization(template: dict[str, Any]) -> None:
    (policy,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Bedrock::ResourcePolicy"]
    guardrail = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::Bedrock::Guardrail")
    arn = {"Fn::GetAtt": [guardrail, "GuardrailArn"]}
    assert policy == {"ResourceArn": arn, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
        "Sid": "OrganizationAppliesTheEnforcedGuardrail", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["bedrock:ApplyGuardrail"], "Resource": arn,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]}}
    key = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    statement = next(s for s in key["Properties"]["KeyPolicy"]["Statement"]
                     if s.get("Sid") == "AllowOrganizationGuardrailUseThroughBedrock")
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Condition"] == {"StringEquals": {
        "aws:PrincipalOrgID": ORG,
        "kms:ViaService": {"Fn::Join": ["", ["bedrock.us-east-1.", {"Ref": "AWS::URLSuffix"}]]}}}


def test_stack_is_the_management_accounts_and_protected(assembly: Path) -> None:
    artifact = json.loads((assembly / "manifest.json").read_text())["artifacts"][ORGANIZATION_STACK]
    assert artifact["environment"] == "aws://111111111111/us-east-1"
    assert artifact["properties"]["terminationProtection"] is True
    assert "arn:aws:" not in (Path(__file__).parent.parent / "constructs/compliant_bedrock/organization.py").read_text()


def test_organization_rules_pass_the_reference_and_skip_environments(template: dict[str, Any]) -> None:
    outcome = {r.rule_id: r.compliance for r in evaluate(Template(ORGANIZATION_STACK, template))
               if r.rule_id.startswith("Bedrock-Org") and r.compliance is not Compliance.COMPLIANT}
    assert outcome == {}
    environment = {r.rule_id: r.compliance for r in evaluate(Template("Env", {"Resources": {}}))
                   if r.rule_id.startswith("Bedrock-Org")}
    assert set(environment.values()) == {Compliance.NOT_APPLICABLE}


REMOVED_STATEMENT_FIRES = {
    "DenyBedrockApiKeys": "Bedrock-OrgScpDeniesApiKeys",
    "DenyBedrockApiKeyCreation": "Bedrock-OrgScpDeniesApiKeys",
    "DenyInferenceOutsideApprovedEndpoints": "Bedrock-OrgScpInferenceOnlyViaEndpoints",
    "DenyBedrockOutsideApprovedRegions": "Bedrock-OrgScpInferenceOnlyViaEndpoints",
    "DenyInferenceProfilesOutsideApprovedRegions": "Bedrock-OrgScpInferenceOnlyViaEndpoints",
    "DenyBatchInferenceExceptNamedRoles": "Bedrock-OrgScpUnguardedInferenceRestricted",
    # (DenyMantleExceptNamedRoles alone may go: with no accepting environment, DenyMantleOutsideItsEndpoints
    # denies Mantle inference everywhere; test_removing_both_mantle_denies_fires_the_rule)
    **{sid: "Bedrock-OrgAuditPlaneProtected" for sid in AUDIT_STATEMENTS},
    "DenyAuditBucketsOutsideOrganization": "Bedrock-OrgRcpAuditResources",
    "DenyAuditKeysOutsideOrganization": "Bedrock-OrgRcpAuditResources",
    "DenyAuditBucketsWithoutTls": "Bedrock-OrgRcpAuditResources",
}


def _edit_policies(template: dict[str, Any], edit: Any) -> dict[str, Any]:
    """A copy of the template with ``edit`` applied to every organization policy's document."""
    mutant = json.loads(json.dumps(template))
    for resource in mutant["Resources"].values():
        content = resource.get("Properties", {}).get("Content")
        if resource["Type"] == "AWS::Organizations::Policy" and isinstance(content, str):
            document = json.loads(content)
            edit(document)
            resource["Properties"]["Content"] = json.dumps(document)
    return mutant


@pytest.mark.parametrize(("sid", "rule_id"), sorted(REMOVED_STATEMENT_FIRES.items()))
def test_removing_a_statement_from_the_synthesized_policy_fires_a_rule(template: dict[str, Any], sid: str,
                                                                      rule_id: str) -> None:
    def drop(document: dict[str, Any]) -> None:
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]

    outcome = {r.compliance for r in evaluate(Template(ORGANIZATION_STACK, _edit_policies(template, drop)))
               if r.rule_id == rule_id}
    assert outcome == {Compliance.NON_COMPLIANT}


@pytest.mark.parametrize("action", ["events:DeleteRule", "events:PutTargets", "sns:SetTopicAttributes",
                                    "sns:AddPermission", "sns:PutDataProtectionPolicy"])
def test_an_scp_that_leaves_a_way_to_silence_detection_fails_the_audit_plane_rule(template: dict[str, Any],
                                                                                  action: str) -> None:
    """Each action that silences a rule or topic (re-target, re-police, deny its content) must stay denied."""
    def remove(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            if isinstance(statement["Action"], list) and action in statement["Action"]:
                statement["Action"].remove(action)

    outcome = {r.compliance for r in evaluate(Template(ORGANIZATION_STACK, _edit_policies(template, remove)))
               if r.rule_id == "Bedrock-OrgAuditPlaneProtected"}
    assert outcome == {Compliance.NON_COMPLIANT}


def test_removing_both_mantle_denies_fires_the_rule(template: dict[str, Any]) -> None:
    mutant = json.loads(json.dumps(template))
    for resource in mutant["Resources"].values():
        content = resource.get("Properties", {}).get("Content")
        if resource["Type"] == "AWS::Organizations::Policy" and isinstance(content, str):
            document = json.loads(content)
            document["Statement"] = [s for s in document["Statement"]
                                     if s["Sid"] not in ("DenyMantleExceptNamedRoles", "DenyMantleOutsideItsEndpoints",
                                                         "DenyMantleInferenceExceptNamedRoles")]
            resource["Properties"]["Content"] = json.dumps(document)
    outcome = {r.compliance for r in evaluate(Template(ORGANIZATION_STACK, mutant))
               if r.rule_id == "Bedrock-OrgScpUnguardedInferenceRestricted"}
    assert outcome == {Compliance.NON_COMPLIANT}


@pytest.mark.parametrize("exemption", [
    "arn:aws:iam::*:role/compliant-bedrock-break-glass",               # any account
    "arn:aws:iam::111122223333:role/stacksets-exec-*",                  # a name anyone can create
    "arn:aws:iam::111122223333:role/not-protected-anywhere",           # exact, but nobody protects it
])
def test_an_obtainable_exemption_fails_the_audit_plane_rule(template: dict[str, Any], exemption: str) -> None:
    """N1: the rule compares each deny's exemptions with what the protections cover."""
    mutant = json.loads(json.dumps(template))
    for resource in mutant["Resources"].values():
        content = resource.get("Properties", {}).get("Content")
        if resource["Type"] == "AWS::Organizations::Policy" and isinstance(content, str):
            document = json.loads(content)
            for statement in document["Statement"]:
                if statement["Sid"] == "ProtectAuditKeys":
                    statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(exemption)
            resource["Properties"]["Content"] = json.dumps(document)
    outcome = {r.compliance for r in evaluate(Template(ORGANIZATION_STACK, mutant))
               if r.rule_id == "Bedrock-OrgAuditPlaneProtected"}
    assert outcome == {Compliance.NON_COMPLIANT}


def test_more_than_four_policies_of_a_type_on_one_target_fails_the_rule() -> None:
    scp = {"Type": "AWS::Organizations::Policy", "Properties": {
        "Type": "SERVICE_CONTROL_POLICY", "TargetIds": ["r-abcd"], "Name": "x",
        "Content": '{"Version":"2012-10-17","Statement":[]}'}}
    four = Template("T", {"Resources": {f"P{i}": scp for i in range(4)}})
    five = Template("T", {"Resources": {f"P{i}": scp for i in range(5)}})
    rule = "Bedrock-OrgPolicyWithinLimits"
    assert {r.compliance for r in evaluate(four) if r.rule_id == rule} == {Compliance.COMPLIANT}
    assert {r.compliance for r in evaluate(five) if r.rule_id == rule} == {Compliance.NON_COMPLIANT}


# ---------------------------------------------------------------------------------------------------
# The construct refuses what AWS would refuse at deploy time, and what would silently open the perimeter


def _build(with_guardrail: bool = False, **overrides: Any) -> BedrockOrganizationGuardrails:
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})
    stack = cdk.Stack(app, "Org", env={"account": "111111111111", "region": "us-east-1"})
    if with_guardrail:
        overrides["guardrail"] = BedrockGuardrail(stack, "G", name="g")
    props: dict[str, Any] = {
        "organization_id": ORG, "target_ids": ["ou-exam-bedrock1"], "approved_regions": ["us-east-1"],
        "endpoint_condition": EndpointCondition("aws:SourceVpce", ("vpce-0123456789abcdef0",)),
        "break_glass": [ExemptRole(ENV_ACCOUNT, "compliant-bedrock-break-glass")],
        "deployers": [ExemptRole(ENV_ACCOUNT, f"cdk-hnb659fds-cfn-exec-role-{ENV_ACCOUNT}-us-east-1")],
    }
    props.update(overrides)
    return BedrockOrganizationGuardrails(stack, "Org", **props)


def test_defaults_fit_in_three_scps_and_one_rcp() -> None:
    built = _build()
    assert [(d.name, d.policy_type) for d in built.documents] == [
        ("compliant-bedrock-inference", "SERVICE_CONTROL_POLICY"),
        ("compliant-bedrock-audit-plane-1", "SERVICE_CONTROL_POLICY"),
        ("compliant-bedrock-audit-plane-2", "SERVICE_CONTROL_POLICY"),
        ("compliant-bedrock-audit-resources", "RESOURCE_CONTROL_POLICY"),
    ]
    assert all(d.length <= 5120 for d in built.documents)


def test_statements_are_split_into_more_policies_when_one_is_full() -> None:
    built = _build(audit_bucket_patterns=[f"audit-bucket-number-{i:03d}-*" for i in range(44)])
    names = [d.name for d in built.documents if d.policy_type == "SERVICE_CONTROL_POLICY"]
    assert names == ["compliant-bedrock-inference", "compliant-bedrock-audit-plane-1", "compliant-bedrock-audit-plane-2"]
    assert built.documents[1].length > 4500  # the large statement was moved into a document of its own
    assert all(d.length <= 5120 for d in built.documents if d.policy_type == "SERVICE_CONTROL_POLICY")
    sids = [s["Sid"] for d in built.documents if d.name.startswith("compliant-bedrock-audit-plane")
            for s in d.content["Statement"]]
    # nothing lost in the split (no stack updaters or approved endpoints given here: those two are not emitted)
    assert sorted(sids) == sorted(set(AUDIT_STATEMENTS) - {"DenyAssumingStackUpdaters", "ProtectApprovedEndpoints"})


@pytest.mark.parametrize(("overrides", "message"), [
    ({"audit_bucket_patterns": [f"an-audit-bucket-name-pattern-{i:03d}-*" for i in range(90)]},
     "statement ProtectAuditResources alone is"),
    ({"other_scps_per_target": 4}, "exceed the 5 policies"),
    ({"audit_bucket_patterns": [f"audit-bucket-number-{i:03d}-*" for i in range(44)], "other_scps_per_target": 3},
     "3 SERVICE_CONTROL_POLICY document(s) plus other_scps_per_target=3"),
    ({"other_rcps_per_target": 5}, "other_rcps_per_target=5"),
])
def test_size_and_count_limits_are_refused_at_synth(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="BedrockOrganizationGuardrails 'Org'") as err:
        _build(**overrides)
    assert message in str(err.value)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"organization_id": "o-short"}, "organization_id"),
    ({"target_ids": ["ou-1"]}, "target_ids"),
    ({"target_ids": []}, "target_ids"),
    ({"target_ids": ["r-abcd", "r-abcd"]}, "target_ids"),
    ({"approved_regions": []}, "approved_regions"),
    ({"approved_regions": ["mars-1"]}, "approved_regions"),
    ({"endpoint_condition": EndpointCondition("aws:SourceVpce", ("vpce-*",))}, "endpoint_condition.values"),
    ({"endpoint_condition": EndpointCondition("aws:SourceVpce", ())}, "endpoint_condition.values"),
    # Bedrock does not send aws:VpceOrgID: a deny on its absence would refuse every call
    ({"endpoint_condition": EndpointCondition("aws:VpceOrgID", (ORG,))}, "endpoint_condition.key"),  # type: ignore[arg-type]
    ({"break_glass": [ExemptRole(ENV_ACCOUNT, "admin-*")]}, "break_glass"),
    ({"break_glass": []}, "break_glass"),
    ({"deployers": []}, "deployers"),
    ({"deployers": [ExemptRole("*", "cdk-hnb659fds-cfn-exec-role")]}, "deployers"),  # any account: obtainable
    ({"deployers": ["cdk-hnb659fds-cfn-exec-role-*"]}, "deployers"),                   # a name, not an exact ARN
    ({"batch_roles": [ExemptRole(ENV_ACCOUNT, "*")]}, "batch_roles"),
    ({"mantle_roles": [ExemptRole(ENV_ACCOUNT, "frontier-workload*")]}, "mantle_roles"),
    ({"cross_region_profile_prefixes": ["us"]}, "cross_region_profile_prefixes"),
    ({"audit_bucket_patterns": ["*"]}, "audit_bucket_patterns"),
    ({"stack_name_patterns": []}, "stack_name_patterns"),
    ({"other_scps_per_target": 0}, "other_scps_per_target"),
])
def test_props_are_validated_naming_the_prop(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"BedrockOrganizationGuardrails 'Org': {field}"):
        _build(**overrides)


def test_named_roles_are_exempt_exactly_where_configured() -> None:
    built = _build(batch_roles=[ExemptRole("999988887777", "batch-runner")],
                   mantle_roles=[ExemptRole("222233334444", "mantle-app")],
                   network_exempt_roles=[ExemptRole(ENV_ACCOUNT, "bedrock-agent-service")],
                   endpoint_condition=EndpointCondition("aws:SourceVpce", ("vpce-0123456789abcdef0",),
                                                        ("vpce-0fedcba9876543210",)),
                   cross_region_profile_prefixes=["us.", "global."])
    statements = {s["Sid"]: s for d in built.documents for s in d.content["Statement"]}
    assert statements["DenyBatchInferenceExceptNamedRoles"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [f"{P}:iam::999988887777:role/batch-runner"]}}
    assert statements["DenyMantleInferenceExceptNamedRoles"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [f"{P}:iam::222233334444:role/mantle-app"]}}  # its account, nobody else
    assert statements["DenyMantleOutsideItsEndpoints"]["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ["vpce-0fedcba9876543210"]}}  # the accepting environment's endpoint only
    assert statements["DenyInferenceOutsideApprovedEndpoints"]["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": [f"{P}:iam::{ENV_ACCOUNT}:role/bedrock-agent-service"]}
    assert statements["DenyBedrockOutsideApprovedRegions"]["Condition"]["ArnNotLike"] == {
        "bedrock:InferenceProfileArn": [f"{P}:bedrock:*:*:inference-profile/us.*",
                                        f"{P}:bedrock:*:*:inference-profile/global.*"]}
    # Every exempt role is protected by name in every account: creating one elsewhere gains nothing, here nothing
    protected = statements["ProtectExemptRoles"]["Resource"]
    for name in ("batch-runner", "mantle-app", "bedrock-agent-service", "compliant-bedrock-break-glass"):
        assert f"{P}:iam::*:role/{name}" in protected
        assert f"{P}:iam::*:role/{name}" in statements["DenyPassingExemptRoles"]["Resource"]


def test_a_pipeline_alone_may_assume_the_stack_updaters() -> None:
    built = _build(stack_updaters=[ExemptRole(ENV_ACCOUNT, "cdk-hnb659fds-deploy-role-111122223333-us-east-1")],
                   pipeline=[ExemptRole("333344445555", "pipeline")])
    statements = {s["Sid"]: s for d in built.documents for s in d.content["Statement"]}
    assert statements["DenyAssumingStackUpdaters"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [f"{P}:iam::333344445555:role/pipeline"]}}
    assert "Condition" not in statements["DenyAssumingExemptRoles"]  # break-glass and deployers: nobody


def test_legacy_input_tags_and_excluded_models_reach_the_bedrock_policy() -> None:
    built = _build(with_guardrail=True, legacy_input_tags=True,
                   guardrail_excluded_models=["amazon.titan-embed-text-v2:0", "cohere.embed-v4:0"])
    (document,) = [d for d in built.documents if d.policy_type == "BEDROCK_POLICY"]
    config = document.content["bedrock"]["guardrail_inference"]["us-east-1"]["config_1"]
    assert config["input_tags"] == {"@@assign": "ignore"}
    # added to the embedding models, each once
    assert config["model_enforcement"]["excluded_models"] == {"@@assign": [*AWS_EMBEDDING_MODELS, "cohere.embed-v4:0"]}
    assert document.length <= BEDROCK_POLICY_MAX_CHARS
    default = _build(with_guardrail=True)
    (plain,) = [d for d in default.documents if d.policy_type == "BEDROCK_POLICY"]
    assert "input_tags" not in plain.content["bedrock"]["guardrail_inference"]["us-east-1"]["config_1"]
    with pytest.raises(ValueError, match="guardrail_excluded_models: 'ALL'"):
        _build(with_guardrail=True, guardrail_excluded_models=["ALL"])


def test_the_bedrock_policy_enforces_on_embedding_models_only_with_a_reason() -> None:
    reason = "No account of this organization may create embeddings; failing those calls is the intended block"
    built = _build(with_guardrail=True, guardrail_enforce_embedding_models_reason=reason)
    (document,) = [d for d in built.documents if d.policy_type == "BEDROCK_POLICY"]
    enforcement = document.content["bedrock"]["guardrail_inference"]["us-east-1"]["config_1"]["model_enforcement"]
    assert enforcement["excluded_models"] == {"@@assign": []}
    with pytest.raises(ValueError, match=r"enforce_embedding_models_reason: 'not needed'; enforcing the guardrail on "
                                         r"embedding models makes every embedding call fail"):
        _build(with_guardrail=True, guardrail_enforce_embedding_models_reason="not needed")


def test_a_bedrock_policy_needs_a_stack_region() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Agnostic")
    guardrail = BedrockGuardrail(stack, "G", name="g")
    with pytest.raises(ValueError, match="keyed by region, and this stack has none"):
        BedrockOrganizationGuardrails(stack, "Org", organization_id=ORG, target_ids=["r-abcd"],
                                      approved_regions=["us-east-1"], guardrail=guardrail,
                                      endpoint_condition=EndpointCondition("aws:SourceVpce", ("vpce-0123456789abcdef0",)),
                                      break_glass=[ExemptRole(ENV_ACCOUNT, "bg")], deployers=[ExemptRole(ENV_ACCOUNT, "d")])


def test_govcloud_partition_comes_from_the_stack() -> None:
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})
    stack = cdk.Stack(app, "Gov", env={"account": "111111111111", "region": "us-gov-west-1"})
    built = BedrockOrganizationGuardrails(
        stack, "Org", organization_id=ORG, target_ids=["r-abcd"], approved_regions=["us-gov-west-1"],
        endpoint_condition=EndpointCondition("aws:SourceVpc", ("vpc-0123456789abcdef0",)),
        break_glass=[ExemptRole(ENV_ACCOUNT, "bg")], deployers=[ExemptRole(ENV_ACCOUNT, "d")],
        cross_region_profile_prefixes=["us-gov."])
    text = json.dumps([d.content for d in built.documents])
    assert "arn:aws-us-gov:bedrock:*:*:inference-profile/us-gov.*" in text and "arn:aws:" not in text


def test_guardrail_must_be_in_the_same_stack() -> None:
    app = cdk.App()
    other = cdk.Stack(app, "Other", env={"account": "111111111111", "region": "us-east-1"})
    guardrail = BedrockGuardrail(other, "G", name="g")
    with pytest.raises(ValueError, match=r"guardrail: .* is in another stack"):
        _build(guardrail=guardrail)


# ---------------------------------------------------------------------------------------------------
# Organization config


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "organization").mkdir(parents=True, exist_ok=True)
    (tmp_path / "organization" / "organization.yaml").write_text(text)
    return tmp_path


#: The tests' own organization (not the shipped config/, which a platform team edits).
GOOD = (ROOT / "tests" / "fixtures" / "organization.yaml").read_text()


@pytest.mark.parametrize(("change", "field"), [
    (("management_account: \"111111111111\"", "management_account: 111111111111"), "management_account"),
    (("organization_id: o-exampleorg1", "organization_id: org-1"), "organization_id"),
    (("targets: [ou-exam-bedrock1]", "targets: [ou-1]"), "targets"),
    (("approved_regions: [us-east-1, us-west-2]", "approved_regions: [us-west-2]"), "home_region"),
    (("approved_regions: [us-east-1, us-west-2]", "approved_regions: [us-east-1, us-gov-west-1]"), "approved_regions"),
    (("  condition: source-vpce", "  condition: vpce-org-id"), "endpoints.condition"),  # Bedrock never sends it
    (("    commercial: {bedrock-runtime: vpce-0c0a0000000000001, bedrock: vpce-0c0a0000000000002}",
      "    commercial: {bedrock-runtime: vpce-0c0a0000000000001}"), "endpoints.ids.commercial.bedrock"),
    (("    commercial: {bedrock-runtime: vpce-0c0a0000000000001, bedrock: vpce-0c0a0000000000002}",
      "    commercial: {bedrock-runtime: vpce-*, bedrock: vpce-0c0a0000000000002}"), "endpoints.ids"),
    (("  break_glass: compliant-bedrock-break-glass", "  break_glass: admin-*"), "roles.break_glass"),
    (("  mantle: []", "  mantle: [{environment: commercial, role: frontier-workload*}]"), "roles.mantle"),
    (("  mantle: []", "  mantle: [{environment: commercial, role: app}]"), "roles.mantle"),  # no acceptance there
    (("  pipeline: []", "  pipeline: [{account: '*', role: ci}]"), "roles.pipeline"),
    (("  accounts: [\"555566667777\"]", "  accounts: [\"111122223333\"]"), "baseline.accounts"),  # an environment's
    (("  execution_role: stacksets-exec-0123456789abcdef0123456789abcdef", "  execution_role: stacksets-exec-*"),
     "baseline.execution_role"),
    (("  enforce: true", "  enforce: false"), "guardrail.enforce"),
    (("  excluded_models: []", "  excluded_models: []\n  enforce_embedding_models_reason: we want it"),
     "guardrail.enforce_embedding_models_reason"),  # every embedding call would fail: say why, in 8 words
    (("cross_region_profiles: [\"us.\"]", "cross_region_profiles: [us]"), "cross_region_profiles"),
    (("covers_environments: [commercial]", "covers_environments: [commercial]\nextra_key: 1"), "extra_key"),
    (("covers_environments: [commercial]", "covers_environments: [nowhere]"), "covers_environments"),
])
def test_bad_organization_config_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    assert change[0] in GOOD
    directory = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_organization(directory, load_environments(ROOT / "config"))
    text = str(err.value)
    assert "organization/organization.yaml" in text and field in text, text


def test_covered_environments_must_be_reachable_through_the_policies(tmp_path: Path) -> None:
    text = GOOD.replace("home_region: us-east-1", "home_region: us-west-2").replace(
        "approved_regions: [us-east-1, us-west-2]", "approved_regions: [us-west-2]")
    with pytest.raises(ConfigError, match="covers_environments: 'commercial' is in 'us-east-1', which is not in "
                                          "approved_regions"):
        load_organization(_write(tmp_path, text), load_environments(ROOT / "config"))
    mantle = [env.model_copy(update={"endpoints": [*env.endpoints, "bedrock-mantle"]})
              for env in load_environments(ROOT / "config")]
    with pytest.raises(ConfigError, match=r"roles\.mantle: no role of environment 'commercial', which uses Mantle"):
        load_organization(_write(tmp_path, GOOD), mantle)


def test_no_file_no_organization_stack_and_one_environment_leaves_it_out(tmp_path: Path) -> None:
    assert load_organization(tmp_path) is None
    # one environment: only the organization that covers it (the perimeter proof needs its SCPs)
    assert [s.name for s in selected_organizations({"env": "govcloud"})] == ["govcloud"]
    assert [s.name for s in selected_organizations({"env": "commercial"})] == ["commercial"]
    commercial, govcloud = selected_organizations({})
    assert commercial.coverage_reason("commercial").startswith("Enforced for every principal")
    assert commercial.coverage_reason("govcloud") is None and govcloud.coverage_reason("govcloud") is not None


def test_cli_exits_2_naming_the_field_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import run

    shutil.copy(ROOT / "config" / "commercial.yaml", tmp_path / "commercial.yaml")
    _write(tmp_path, GOOD.replace("home_region: us-east-1", "home_region: us-east-9"))
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"compliant-bedrock:config-dir": str(tmp_path)}))
    monkeypatch.delenv("CDK_OUTDIR", raising=False)
    monkeypatch.chdir(tmp_path)
    # an earlier synth's passing verdict must not outlive this failing run
    (tmp_path / "cdk.out" / "compliance").mkdir(parents=True)
    (tmp_path / "cdk.out" / "compliance" / "findings.json").write_text('{"passed": true}')
    assert run() == 2
    assert not (tmp_path / "cdk.out" / "compliance").exists()
    err = capsys.readouterr().err
    assert "organization.yaml: organization: home_region: unknown AWS region 'us-east-9'" in err
    assert "Traceback" not in err
    assert not os.path.exists(tmp_path / "cdk.out" / "manifest.json")


# ---------------------------------------------------------------------------------------------------
# The per-account baseline StackSet


def test_baseline_stack_set_is_service_managed_and_auto_deploys(template: dict[str, Any]) -> None:
    (stack_set,) = [r["Properties"] for r in template["Resources"].values()
                    if r["Type"] == "AWS::CloudFormation::StackSet"]
    body = stack_set.pop("TemplateBody")
    assert stack_set == {
        "StackSetName": "CompliantBedrock-baseline",
        "Description": "compliant-bedrock per-account baseline: enforced guardrail and invocation logging per region",
        "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": True},
        "CallAs": "SELF",
        "Capabilities": ["CAPABILITY_IAM"],
        "ManagedExecution": {"Active": True},
        # one account's or region's failure does not stop the roll-out (N7)
        "OperationPreferences": {"FailureTolerancePercentage": 100, "MaxConcurrentPercentage": 100,
                                 "RegionConcurrencyType": "PARALLEL"},
        # only the listed accounts (their execution role is exempt by exact ARN), never an environment's
        "StackInstancesGroup": [{"DeploymentTargets": {"OrganizationalUnitIds": ["ou-exam-bedrock1"],
                                                       "Accounts": [BASELINE_ACCOUNT],
                                                       "AccountFilterType": "INTERSECTION"},
                                 "Regions": ["us-east-1", "us-west-2"]}],
        "Tags": [{"Key": "ManagedBy", "Value": "compliant-bedrock"}],
    }
    assert isinstance(body, str) and len(body.encode()) <= 51200
    baseline = json.loads(body)
    types = {r["Type"] for r in baseline["Resources"].values()}
    assert {"AWS::Bedrock::EnforcedGuardrailConfiguration", "Custom::BedrockModelInvocationLogging",
            "AWS::Bedrock::GuardrailVersion"} <= types
    assert "Parameters" not in baseline  # no bootstrap version, no asset parameters: member accounts need neither
    function = next(r for r in baseline["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    assert "ZipFile" in function["Properties"]["Code"]  # inline code, no asset
    # One template for every account of the organization: the partition is AWS::Partition, but for the
    # security account's event bus, which the organization's configuration names (in its partition).
    bus = "arn:aws:events:us-east-1:999988887777:event-bus/security-alerts"
    assert "arn:aws:" not in body.replace(bus, "")
    rules = [r["Properties"] for r in baseline["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert rules and all(any(t["Arn"] == bus and "RoleArn" in t for t in r["Targets"]) for r in rules)
    # the organization's partition decides which embedding models the account enforcement leaves alone
    (enforced,) = [r for r in baseline["Resources"].values() if r["Type"] == "AWS::Bedrock::EnforcedGuardrailConfiguration"]
    assert enforced["Properties"]["ModelEnforcement"] == {"IncludedModels": ["ALL"], "ExcludedModels": AWS_EMBEDDING_MODELS}
    failing = [r for r in evaluate(Template("Baseline", baseline)) if r.compliance not in (
        Compliance.COMPLIANT, Compliance.NOT_APPLICABLE) and not r.suppression_reason]
    assert failing == []


def test_baseline_over_the_template_body_limit_is_refused() -> None:
    from infra.baseline import baseline_stack_set

    stack = cdk.Stack(cdk.App(), "S")
    big = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}, "Description": "x" * 52000}
    with pytest.raises(ValueError, match=r"template body is 520\d\d bytes, over CloudFormation.s 51200"):
        baseline_stack_set(stack, "B", template=big, target_ous=["ou-exam-bedrock1"], regions=["us-east-1"],
                           accounts=[BASELINE_ACCOUNT])


@pytest.mark.parametrize(("change", "field"), [
    (("targets: [ou-exam-bedrock1]", "targets: [\"222222222222\"]"), "baseline.target_ous"),
    (("baseline:\n", "baseline:\n  regions: [eu-west-1]\n"), "baseline.regions"),
    (("baseline:\n", "baseline:\n  target_ous: [\"222222222222\"]\n"), "baseline.target_ous"),
    (("baseline:\n", "baseline:\n  enabled: false\n"), "baseline.enabled"),
    (("  accounts: [\"555566667777\"]\n", ""), "baseline"),
    # Every baseline account's alerts need a receiver outside the account: a bus of the organization's partition,
    # never in a baseline account itself.
    (("  alert_event_bus_arns: [\"arn:aws:events:us-east-1:999988887777:event-bus/security-alerts\"]\n", ""),
     "baseline.alert_emails / baseline.alert_event_bus_arns: no alert subscriber"),
    (("arn:aws:events:us-east-1:999988887777:event-bus/security-alerts",
      "arn:aws-us-gov:events:us-gov-west-1:999988887777:event-bus/security-alerts"),
     "baseline.alert_event_bus_arns: .* is in partition 'aws-us-gov'"),
    (("arn:aws:events:us-east-1:999988887777:", "arn:aws:events:us-east-1:555566667777:"),
     "baseline.alert_event_bus_arns: .* is in baseline account 555566667777"),
    (("event-bus/security-alerts", "security-alerts"), "baseline.alert_event_bus_arns"),
    (("baseline:\n", "baseline:\n  data_events_trail: the org trail\n"), "baseline.data_events_trail"),
])
def test_bad_baseline_config_names_the_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    directory = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError, match=field.replace(".", r"\.").replace(r"\.*", ".*")):
        load_organization(directory)


def test_a_declared_data_events_trail_keeps_the_baselines_bearer_token_rule() -> None:
    """With the organization trail that selects Bedrock data events named, the baseline keeps the rule, and the
    pack accepts it by that declaration only."""
    from infra.baseline import baseline_template

    declared = ("The organization trail org-audit in the management account selects AWS::Bedrock::Model data "
                "events for every member account")
    props = {"pii_action": "BLOCK", "log_retention_days": 365, "object_lock_days": 913,
             "block_classification_markings": True, "break_glass_role_name": "break-glass",
             "execution_role_name": "stacksets-exec-0123", "alert_emails": ["soc@example.gov"]}
    body = baseline_template(cdk_json_context(), **props, data_events_trail=declared)
    rules = [r for r in body["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert any("callWithBearerToken" in json.dumps(r) for r in rules)
    (entry,) = [e for e in body["Metadata"]["cdk_nag"]["rules_to_suppress"]
                if e["id"] == "Bedrock-DetectionDataEventsSelected"]
    assert entry["reason"] == declared


def test_without_a_declared_trail_the_baseline_claims_no_bearer_token_rule() -> None:
    """No trail the baseline could rely on selects Bedrock data events: no rule claims to see them."""
    from infra.baseline import baseline_template

    body = baseline_template(cdk_json_context(), pii_action="BLOCK", log_retention_days=365, object_lock_days=913,
                             block_classification_markings=True, break_glass_role_name="break-glass",
                             execution_role_name="stacksets-exec-0123", alert_emails=["soc@example.gov"])
    rules = [r for r in body["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert rules and not any("callWithBearerToken" in json.dumps(r) for r in rules)


def test_evidence_puts_the_policies_in_the_organization_perimeter_component(assembly: Path, tmp_path: Path) -> None:
    from infra.report import generate

    generate(assembly, dest=tmp_path, settings={})
    document = json.loads((tmp_path / "component-definition.json").read_text())["component-definition"]
    (component,) = [c for c in document["components"] if c["title"].startswith("Organization perimeter")]
    text = json.dumps(component)
    for rule_id in ("Bedrock-OrgScpDeniesApiKeys", "Bedrock-OrgScpInferenceOnlyViaEndpoints",
                    "Bedrock-OrgAuditPlaneProtected", "Bedrock-OrgGuardrailPolicy", "Bedrock-OrgRcpAuditResources",
                    "Bedrock-OrgScpUnguardedInferenceRestricted", "Bedrock-OrgPolicyWithinLimits"):
        assert rule_id in text, rule_id


@pytest.mark.lint  # make test-integration, with the reference templates' cfn-lint run (~2 s of cfn-lint start-up)
def test_cfn_lint_knows_the_organization_and_stack_set_schemas(assembly: Path, tmp_path: Path) -> None:
    """The reference synth is linted clean elsewhere; here cfn-lint must *see* a bad policy type and permission model."""
    from infra.cfn_lint import lint

    shutil.copy(assembly / "manifest.json", tmp_path / "manifest.json")
    template = json.loads((assembly / f"{ORGANIZATION_STACK}.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Organizations::Policy":
            resource["Properties"]["Type"] = "BOGUS_POLICY"
        if resource["Type"] == "AWS::CloudFormation::StackSet":
            resource["Properties"]["PermissionModel"] = "BOGUS_MODEL"
    (tmp_path / f"{ORGANIZATION_STACK}.template.json").write_text(json.dumps(template))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["artifacts"] = {ORGANIZATION_STACK: manifest["artifacts"][ORGANIZATION_STACK]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    code, output = lint(tmp_path)
    assert code != 0
    assert "BOGUS_POLICY" in output and "BOGUS_MODEL" in output, output
