"""Organization-wide Bedrock perimeter: SCPs, RCPs and an Organizations Bedrock policy.

An identity policy binds only the principal it is attached to. What must hold for *every* principal of
every member account is written here as ``AWS::Organizations::Policy`` resources, deployed from the
management account (a delegated administrator may hold the SCPs and RCPs, but a Bedrock policy's
guardrail must be owned by the management account):

* **SCPs** (``SERVICE_CONTROL_POLICY``): Bedrock and Mantle inference only through approved VPC
  endpoints and only in approved regions (with the cross-region-inference exemption AWS documents),
  no Bedrock API keys, batch inference and Mantle only for named roles, and an audit plane (trails,
  invocation logging, enforced guardrails, audit keys, audit buckets, the package's stacks and log
  groups) that only the break-glass role and the deploy role may change.
* **RCPs** (``RESOURCE_CONTROL_POLICY``): the audit buckets and keys refuse principals from outside
  the organization (and services acting for another organization) and, for S3, plain HTTP.
* **A Bedrock policy** (``BEDROCK_POLICY``): the management account's guardrail version enforced on
  every inference call of the target accounts, guarding the whole request (``comprehensive`` for
  messages and system prompts: guardrail input tags and ``guardContent`` cannot shrink what is
  checked), plus the guardrail resource policy (``AWS::Bedrock::ResourcePolicy``) that lets the
  organization's accounts apply it.

Limits AWS enforces only at deploy time (5,120 characters per SCP and RCP, five of each attached per
target including the AWS-managed full-access policy) are checked here, at synth, with a ``ValueError``
naming the prop and the fix. Statements are packed into as few policies as fit.

What this does *not* bind: the management account (SCPs and RCPs never apply to it), service-linked
roles, and AWS services acting with their own credentials. Facts about AWS this relies on that could
not be verified offline are in :data:`UNVERIFIED`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import Stack, Token
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from .errors import ConstructPropsError
from .guardrail import ENFORCEMENT_MODEL_PATTERN, BedrockGuardrail
from .policy_size import policy_length

#: AWS Organizations quotas (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
SCP_MAX_CHARS = 5120
RCP_MAX_CHARS = 5120
#: Bedrock policies are a management-policy type (declarative syntax); their quota is UNVERIFIED (see below).
BEDROCK_POLICY_MAX_CHARS = 10000
#: Policies of one type attached to one root, OU or account, including FullAWSAccess / RCPFullAWSAccess.
MAX_ATTACHED_PER_TARGET = 5

#: Tag every audit KMS key (and audit bucket, log group) carries; key denies match it with aws:ResourceTag.
AUDIT_TAG_KEY = "compliant-bedrock:audit"
AUDIT_TAG_VALUE = "true"
DEFAULT_BREAK_GLASS_ROLE = "compliant-bedrock-break-glass"
#: The CDK bootstrap's CloudFormation execution role in every account and region (qualifier hnb659fds).
DEFAULT_DEPLOY_ROLE_PATTERN = "cdk-hnb659fds-cfn-exec-role-*"

#: Every authorization of model inference on bedrock-runtime (Converse/ConverseStream authorize as the
#: first two; runtime Responses and Chat Completions as InvokeModel) and on bedrock-mantle.
RUNTIME_INFERENCE_ACTIONS = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:InvokeModelWithBidirectionalStream",
)
MANTLE_INFERENCE_ACTIONS = ("bedrock-mantle:CreateInference",)
BATCH_ACTIONS = ("bedrock:CreateModelInvocationJob",)
API_KEY_ACTIONS = ("bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken")
#: Values of iam:ServiceSpecificCredentialServiceName for Bedrock API keys (long-term keys are IAM
#: service-specific credentials). ``bedrock.amazonaws.com`` is from AWS's sample SCP; UNVERIFIED for Mantle.
API_KEY_SERVICE_NAMES = ("bedrock.amazonaws.com",)

TRAIL_ACTIONS = ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                 "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors")
BEDROCK_AUDIT_ACTIONS = ("bedrock:PutModelInvocationLoggingConfiguration",
                         "bedrock:DeleteModelInvocationLoggingConfiguration",
                         "bedrock:PutEnforcedGuardrailConfiguration",
                         "bedrock:DeleteEnforcedGuardrailConfiguration")
#: Crypto-shredding of Object-Locked records (disable, delete, lock out) and removing the tag the deny keys on.
KEY_ACTIONS = ("kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
               "kms:UntagResource", "kms:TagResource")
BUCKET_ACTIONS = ("s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                  "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration", "s3:DeleteBucket",
                  "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning", "s3:BypassGovernanceRetention")
STACK_ACTIONS = ("cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection")
LOG_GROUP_ACTIONS = ("logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy",
                     "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey")
#: Changing a role the denies exempt by name would let anyone become the exemption.
EXEMPT_ROLE_ACTIONS = ("iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                       "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary")

EndpointKey = Literal["aws:SourceVpce", "aws:SourceVpc", "aws:VpceOrgID"]
ENDPOINT_KEYS: tuple[str, ...] = ("aws:SourceVpce", "aws:SourceVpc", "aws:VpceOrgID")
_VALUE_PATTERNS = {
    "aws:SourceVpce": re.compile(r"^vpce-[0-9a-f]{8,17}$"),
    "aws:SourceVpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "aws:VpceOrgID": re.compile(r"^o-[a-z0-9]{10,32}$"),
}
ORG_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
TARGET_PATTERN = re.compile(r"^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@*-]{1,64}$")
#: Inference-profile id prefixes (geographies) the region deny lets through to destination regions.
PROFILE_PREFIX_PATTERN = re.compile(r"^[a-z]{2,8}(-[a-z]{2,8})?\.$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
NAME_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9._/*-]{1,128}$")

#: Facts this construct relies on that no offline check can confirm. Each is also in the README.
UNVERIFIED: dict[str, str] = {
    "aws:VpceOrgID on bedrock": "AWS documents aws:VpceOrgID for a limited set of services; whether bedrock-runtime and "
    "bedrock-mantle populate it was not confirmed. If they do not, the endpoint deny refuses every inference: "
    "attach the policy to a sandbox OU first. aws:SourceVpce is documented for Bedrock.",
    "aws:SourceVpce on bedrock-mantle": "no AWS text confirms bedrock-mantle sets aws:SourceVpce (fact sheet 3.2).",
    "CRIS destination requests": "AWS's sample SCP exempts the destination-region leg of a cross-region inference call by "
    "bedrock:InferenceProfileArn; the leg's resource is the destination region's foundation model "
    "(https://github.com/aws-samples/service-control-policy-examples, Region-controls, Bedrock CRIS).",
    "Bedrock policy syntax": "the newest Organizations page shows selective_content_guarding and model_enforcement; an "
    "older one shows a required input_tags (honor|ignore). Both are emitted only when legacy_input_tags is set.",
    "RCP attachments": "five RCPs per root, OU or account (RCPFullAWSAccess included) is taken to match the SCP "
    "quota; the quota page read lists the 5,120-character document size for both, the attachment count for SCPs.",
    "Bedrock policy size": "the quota of BEDROCK_POLICY documents is taken as the declarative-policy 10,000 characters.",
    "CRIS destination endpoint keys": "the endpoint deny assumes the destination leg of a cross-region call is "
    "authorized with the source request's endpoint context (the package's invoke policy assumes the same).",
    "STANDARD-tier guardrails": "a STANDARD-tier guardrail evaluates in other regions of its geography; if those "
    "evaluations are authorized in the destination region, the region deny refuses them: approve those regions.",
    "cross-account guardrail key": "member accounts' org-level enforcement is assumed to decrypt the guardrail's key "
    "through Bedrock with the caller's identity, as same-account use does; kms:Decrypt is granted to aws:PrincipalOrgID.",
    "API key service name": "iam:ServiceSpecificCredentialServiceName = bedrock.amazonaws.com comes from AWS's sample SCP "
    "(Deny-Bedrock-api-keys.json); a separate Mantle value, if any, is not known.",
}


@dataclass(frozen=True)
class EndpointCondition:
    """How an inference request proves it came through an approved VPC endpoint.

    ``aws:VpceOrgID`` (the organization that owns the endpoint) needs no endpoint ids, so a new
    environment's endpoint is approved the moment it exists, but see :data:`UNVERIFIED`.
    ``aws:SourceVpce`` names each endpoint (documented for Bedrock; every new endpoint means an SCP
    update). ``aws:SourceVpc`` names the VPCs.
    """

    key: EndpointKey
    values: tuple[str, ...]

    def validate(self, where: str) -> None:
        if self.key not in ENDPOINT_KEYS:
            raise ConstructPropsError(f"{where}: endpoint_condition.key: {self.key!r} is not allowed; allowed: "
                             f"{', '.join(ENDPOINT_KEYS)}")
        if not self.values:
            raise ConstructPropsError(f"{where}: endpoint_condition.values: empty; name at least one {self.key} value")
        pattern = _VALUE_PATTERNS[self.key]
        for value in self.values:
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise ConstructPropsError(f"{where}: endpoint_condition.values: {value!r} is not a {self.key} value "
                                 f"(pattern {pattern.pattern})")


@dataclass(frozen=True)
class PolicyDocument:
    """One organization policy as emitted: name, type, the statements (or content) and its counted size."""

    name: str
    policy_type: str
    content: dict[str, Any]
    length: int


class BedrockOrganizationGuardrails(Construct):
    """SCPs, RCPs and a Bedrock policy for the management (or delegated-admin) account's stack.

    Attributes: ``scps``, ``rcps`` (lists of ``CfnPolicy``), ``bedrock_policy`` (``CfnPolicy`` or None),
    ``guardrail_resource_policy`` (``CfnResourcePolicy`` or None), ``documents`` (every
    :class:`PolicyDocument`, resolved, for tests and evidence), ``exempt_principal_arns``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        organization_id: str,
        target_ids: Sequence[str],
        approved_regions: Sequence[str],
        endpoint_condition: EndpointCondition,
        guardrail: BedrockGuardrail | None = None,
        break_glass_role_name: str = DEFAULT_BREAK_GLASS_ROLE,
        deploy_role_names: Sequence[str] = (DEFAULT_DEPLOY_ROLE_PATTERN,),
        batch_role_names: Sequence[str] = (),
        mantle_role_names: Sequence[str] = (),
        network_exempt_role_names: Sequence[str] = (),
        cross_region_profile_prefixes: Sequence[str] = ("us.",),
        stack_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        audit_writer_role_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        audit_bucket_patterns: Sequence[str] = ("compliantbedrock-*", "stackset-compliantbedrock-*", "cb-*-replica"),
        log_group_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        trail_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        guardrail_excluded_models: Sequence[str] = (),
        legacy_input_tags: bool = False,
        other_scps_per_target: int = 1,
        other_rcps_per_target: int = 1,
    ) -> None:
        """
        :param organization_id: ``o-...``; RCPs admit only this organization's principals.
        :param target_ids: the root (``r-...``), OUs (``ou-...``) and accounts (12 digits) every policy is
            attached to. Attach to a sandbox OU first: a wrong condition denies Bedrock to every account below.
        :param approved_regions: the only regions Bedrock and Mantle may be called in (aws:RequestedRegion).
        :param endpoint_condition: how inference proves it came through an approved VPC endpoint.
        :param guardrail: the management account's guardrail (same region as this stack) to enforce
            org-wide with a ``BEDROCK_POLICY``; None: no Bedrock policy (say where it is enforced instead).
        :param break_glass_role_name: the one role (in any member account) exempt from the audit-plane denies.
        :param deploy_role_names: roles (names or ``*`` patterns) that deploy the package's stacks, exempt
            from the audit-plane denies like the break-glass role. Default: the CDK bootstrap's
            CloudFormation execution role. Add ``cdk-hnb659fds-deploy-role-*`` if ``cdk deploy`` must
            change termination protection.
        :param batch_role_names: the only roles that may start batch inference (no guardrail, no endpoint,
            no invocation log: F6). Empty: nobody.
        :param mantle_role_names: the only roles that may call bedrock-mantle (no guardrail there: F2). Empty: nobody.
        :param network_exempt_role_names: service roles Bedrock itself assumes (agents, flows) that call
            models without an endpoint; calls made *through* a service with the caller's credentials are
            exempt already (``aws:ViaAWSService``).
        :param cross_region_profile_prefixes: inference-profile geographies (``us.``) whose destination-region
            legs may run outside ``approved_regions``. ``global.`` routes to any commercial region: allowed
            only when named here.
        :param stack_name_patterns: the package's CloudFormation stacks (DeleteStack/termination protection denied).
        :param audit_writer_role_patterns: roles of the package's stacks that write the audit configuration
            (the invocation-logging function's role): exempt from the invocation-logging deny, and
            their creation is itself denied to everyone but the deploy and break-glass roles.
        :param audit_bucket_patterns: bucket names of audit buckets. S3 bucket actions do not reliably
            expose ``aws:ResourceTag``, so buckets are matched by name: CloudFormation names a bucket
            ``<stack name, lowercase>-<logical id>-<suffix>``, and replica buckets ``cb-<account>-<env>-<source>-replica``.
        :param log_group_patterns: log-group names of the package (CloudFormation names them after the stack).
        :param trail_name_patterns: trail names of the package (``<stack name>-audit`` by default).
        :param guardrail_excluded_models: model ids the Bedrock policy does not enforce the guardrail on
            (e.g. embedding models).
        :param legacy_input_tags: also write ``input_tags: ignore`` (the older Bedrock policy syntax) next
            to ``selective_content_guarding``.
        :param other_scps_per_target: SCPs already attached to each target (FullAWSAccess counts: at least 1).
        :param other_rcps_per_target: RCPs already attached to each target (RCPFullAWSAccess counts: at least 1).
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        where = f"BedrockOrganizationGuardrails {construct_id!r}"
        self._validate(where, organization_id, target_ids, approved_regions, endpoint_condition,
                       break_glass_role_name, deploy_role_names, batch_role_names, mantle_role_names,
                       network_exempt_role_names, cross_region_profile_prefixes, guardrail_excluded_models,
                       {"stack_name_patterns": stack_name_patterns, "audit_writer_role_patterns": audit_writer_role_patterns,
                        "audit_bucket_patterns": audit_bucket_patterns, "log_group_patterns": log_group_patterns,
                        "trail_name_patterns": trail_name_patterns},
                       other_scps_per_target, other_rcps_per_target)
        if guardrail is not None and Stack.of(guardrail) is not stack:
            raise ConstructPropsError(f"{where}: guardrail: {guardrail.node.path!r} is in another stack; the Bedrock policy needs "
                             "a guardrail of the management account in this stack's region (build it here)")
        self.stack = stack
        partition = stack.partition
        self._partition = partition

        def role_arns(names: Sequence[str]) -> list[str]:
            return [f"arn:{partition}:iam::*:role/{name}" for name in names]

        self.exempt_principal_arns = role_arns([break_glass_role_name, *deploy_role_names])
        exempt = {"ArnNotLike": {"aws:PrincipalArn": self.exempt_principal_arns}}
        writer_arns = role_arns(audit_writer_role_patterns)

        inference = [*RUNTIME_INFERENCE_ACTIONS, *MANTLE_INFERENCE_ACTIONS]
        endpoint_conditions: dict[str, Any] = {
            "StringNotEquals": {endpoint_condition.key: list(endpoint_condition.values)},
            "BoolIfExists": {"aws:ViaAWSService": "false"},
        }
        if network_exempt_role_names:
            endpoint_conditions["ArnNotLike"] = {"aws:PrincipalArn": role_arns(network_exempt_role_names)}
        regions = sorted(set(approved_regions))
        perimeter: list[dict[str, Any]] = [
            _deny("DenyBedrockApiKeys", API_KEY_ACTIONS, "*"),
            _deny("DenyBedrockApiKeyCreation", ["iam:CreateServiceSpecificCredential"], "*",
                  {"StringEquals": {"iam:ServiceSpecificCredentialServiceName": list(API_KEY_SERVICE_NAMES)}}),
            _deny("DenyInferenceOutsideApprovedEndpoints", inference, "*", endpoint_conditions),
            _deny("DenyBedrockOutsideApprovedRegions", ["bedrock:*", "bedrock-mantle:*"], "*", {
                "StringNotEquals": {"aws:RequestedRegion": regions},
                # The destination-region leg of a cross-region call carries the profile it came through.
                "ArnNotLike": {"bedrock:InferenceProfileArn": [
                    f"arn:{partition}:bedrock:*:*:inference-profile/{prefix}*" for prefix in cross_region_profile_prefixes
                ]},
            }),
            # Outside the approved regions only a foundation model may be invoked (a destination leg): calling a
            # profile there directly would otherwise carry bedrock:InferenceProfileArn and pass the deny above.
            _deny("DenyInferenceProfilesOutsideApprovedRegions", RUNTIME_INFERENCE_ACTIONS, None, {
                "StringNotEquals": {"aws:RequestedRegion": regions},
            }, not_resource=[f"arn:{partition}:bedrock:*::foundation-model/*"]),
            _deny("DenyBatchInferenceExceptNamedRoles", BATCH_ACTIONS, "*", _unless_roles(role_arns(batch_role_names))),
            _deny("DenyMantleExceptNamedRoles", ["bedrock-mantle:*"], "*",
                  _unless_roles(role_arns(mantle_role_names) + self.exempt_principal_arns)),
        ]
        audit_plane: list[dict[str, Any]] = [
            _deny("ProtectAuditTrails", TRAIL_ACTIONS,
                  [f"arn:{partition}:cloudtrail:*:*:trail/{p}" for p in trail_name_patterns], exempt),
            _deny("ProtectBedrockAuditConfiguration", BEDROCK_AUDIT_ACTIONS, "*",
                  {"ArnNotLike": {"aws:PrincipalArn": [*self.exempt_principal_arns, *writer_arns]}}),
            _deny("ProtectAuditKeys", KEY_ACTIONS, "*",
                  {"StringEquals": {f"aws:ResourceTag/{AUDIT_TAG_KEY}": AUDIT_TAG_VALUE}, **exempt}),
            _deny("ProtectAuditBuckets", BUCKET_ACTIONS,
                  [f"arn:{partition}:s3:::{p}" for p in audit_bucket_patterns]
                  + [f"arn:{partition}:s3:::{p}/*" for p in audit_bucket_patterns], exempt),
            _deny("ProtectPackageStacks", STACK_ACTIONS,
                  [f"arn:{partition}:cloudformation:*:*:stack/{p}/*" for p in stack_name_patterns], exempt),
            _deny("ProtectAuditLogGroups", LOG_GROUP_ACTIONS,
                  [f"arn:{partition}:logs:*:*:log-group:{p}" for p in log_group_patterns]
                  + [f"arn:{partition}:logs:*:*:log-group:{p}:*" for p in log_group_patterns], exempt),
            _deny("ProtectExemptRoles", EXEMPT_ROLE_ACTIONS,
                  sorted(set(role_arns([break_glass_role_name]) + writer_arns)), exempt),
        ]
        self.documents: list[PolicyDocument] = []
        self.scps = self._policies(
            "Scp", "SERVICE_CONTROL_POLICY", [("compliant-bedrock-inference", perimeter),
                                              ("compliant-bedrock-audit-plane", audit_plane)],
            target_ids, SCP_MAX_CHARS, other_scps_per_target, "other_scps_per_target", where)

        buckets = [f"arn:{partition}:s3:::{p}" for p in audit_bucket_patterns]
        bucket_resources = buckets + [f"{b}/*" for b in buckets]
        audit_key = {"StringEquals": {f"aws:ResourceTag/{AUDIT_TAG_KEY}": AUDIT_TAG_VALUE}}
        outside_org = {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": organization_id},
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}
        service_for_other_org = {"StringNotEqualsIfExists": {"aws:SourceOrgID": organization_id},
                                 "Null": {"aws:SourceAccount": "false"},
                                 "Bool": {"aws:PrincipalIsAWSService": "true"}}
        resource_statements = [
            _deny("DenyAuditBucketsOutsideOrganization", ["s3:*"], bucket_resources, outside_org, principal=True),
            _deny("DenyAuditKeysOutsideOrganization", ["kms:*"], "*", {**audit_key, **outside_org}, principal=True),
            _deny("DenyAuditBucketsForOtherOrganizations", ["s3:*"], bucket_resources, service_for_other_org,
                  principal=True),
            _deny("DenyAuditKeysForOtherOrganizations", ["kms:*"], "*", {**audit_key, **service_for_other_org},
                  principal=True),
            _deny("DenyAuditBucketsWithoutTls", ["s3:*"], bucket_resources,
                  {"BoolIfExists": {"aws:SecureTransport": "false"}}, principal=True),
        ]
        self.rcps = self._policies(
            "Rcp", "RESOURCE_CONTROL_POLICY", [("compliant-bedrock-audit-resources", resource_statements)],
            target_ids, RCP_MAX_CHARS, other_rcps_per_target, "other_rcps_per_target", where)

        self.bedrock_policy: organizations.CfnPolicy | None = None
        self.guardrail_resource_policy: bedrock.CfnResourcePolicy | None = None
        if guardrail is not None:
            self._bedrock_policy(guardrail, organization_id, target_ids, guardrail_excluded_models,
                                 legacy_input_tags, where)

    # -----------------------------------------------------------------------------------------
    def _bedrock_policy(self, guardrail: BedrockGuardrail, organization_id: str, target_ids: Sequence[str],
                        excluded: Sequence[str], legacy_input_tags: bool, where: str) -> None:
        stack = self.stack
        if Token.is_unresolved(stack.region):
            raise ConstructPropsError(f"{where}: guardrail: the Bedrock policy is keyed by region, and this stack has none; "
                             "give the stack env={'account': ..., 'region': ...} (one stack per region)")
        config: dict[str, Any] = {
            "identifier": {"@@assign": guardrail.versioned_arn},
            "selective_content_guarding": {"system": {"@@assign": "comprehensive"},
                                           "messages": {"@@assign": "comprehensive"}},
            "model_enforcement": {"included_models": {"@@assign": ["ALL"]},
                                  "excluded_models": {"@@assign": list(excluded)}},
        }
        if legacy_input_tags:
            config["input_tags"] = {"@@assign": "ignore"}
        content = {"bedrock": {"guardrail_inference": {stack.region: {"config_1": config}}}}
        self.bedrock_policy = self._emit("BedrockPolicy", "compliant-bedrock-guardrail", "BEDROCK_POLICY",
                                         content, target_ids, BEDROCK_POLICY_MAX_CHARS, where)
        # Org-level enforcement needs a resource policy on the guardrail letting member accounts apply it.
        self.guardrail_resource_policy = bedrock.CfnResourcePolicy(
            self, "GuardrailResourcePolicy",
            resource_arn=guardrail.guardrail_arn,
            policy_document={
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "OrganizationAppliesTheEnforcedGuardrail",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["bedrock:ApplyGuardrail"],
                    "Resource": guardrail.guardrail_arn,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
                }],
            },
        )
        # Bedrock uses the guardrail's key with the calling account's identity: admit the organization's
        # accounts, only through Bedrock in this region (the construct's own statements admit this account).
        guardrail.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowOrganizationGuardrailUseThroughBedrock",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id,
                                         "kms:ViaService": f"bedrock.{stack.region}.{stack.url_suffix}"}},
        ))

    def _policies(self, prefix: str, policy_type: str, groups: list[tuple[str, list[dict[str, Any]]]],
                  target_ids: Sequence[str], limit: int, others: int, others_prop: str,
                  where: str) -> list[organizations.CfnPolicy]:
        """Pack each group's statements into as few documents under ``limit`` as fit, emit them, count them."""
        documents: list[tuple[str, list[dict[str, Any]]]] = []
        for name, statements in groups:
            chunks: list[list[dict[str, Any]]] = [[]]
            for statement in statements:
                if self._length({"Version": "2012-10-17", "Statement": [statement]}) > limit:
                    raise ConstructPropsError(f"{where}: statement {statement['Sid']} alone is "
                                     f"{self._length({'Version': '2012-10-17', 'Statement': [statement]})} characters, "
                                     f"over the {limit}-character {policy_type} quota; name fewer patterns, roles or "
                                     "values in the props it is built from")
                # First fit: the first document it still fits in, else a new one (statement order kept within each).
                for index, chunk in enumerate(chunks):
                    if not chunk or self._length({"Version": "2012-10-17", "Statement": [*chunk, statement]}) <= limit:
                        chunks[index] = [*chunk, statement]
                        break
                else:
                    chunks.append([statement])
            documents += [(name if len(chunks) == 1 else f"{name}-{i + 1}", chunk) for i, chunk in enumerate(chunks)]
        if len(documents) + others > MAX_ATTACHED_PER_TARGET:
            raise ConstructPropsError(f"{where}: {len(documents)} {policy_type} document(s) plus {others_prop}={others} exceed the "
                             f"{MAX_ATTACHED_PER_TARGET} policies of that type AWS attaches to one target; detach other "
                             "policies from the targets, or name fewer patterns, roles or values so the statements fit "
                             "fewer documents")
        return [
            self._emit(f"{prefix}{_camel(name)}", name, policy_type, {"Version": "2012-10-17", "Statement": chunk},
                       target_ids, limit, where)
            for name, chunk in documents
        ]

    def _emit(self, construct_id: str, name: str, policy_type: str, content: dict[str, Any],
              target_ids: Sequence[str], limit: int, where: str) -> organizations.CfnPolicy:
        length = self._length(content)
        if length > limit:
            raise ConstructPropsError(f"{where}: policy {name} ({policy_type}) is {length} characters, over AWS's {limit}; "
                             "name fewer values in the props it is built from")
        policy = organizations.CfnPolicy(
            self, construct_id,
            name=name,
            type=policy_type,
            description=f"compliant-bedrock: {name} ({policy_type}); generated, edit the organization config instead",
            content=content,
            target_ids=list(target_ids),
        )
        # As a compact JSON string (the schema takes a string or an object): Organizations stores and counts
        # exactly the characters it is given, so the size checked here is the size AWS counts.
        policy.add_property_override("Content", self.stack.to_json_string(content))
        self.documents.append(PolicyDocument(name, policy_type, self.stack.resolve(content), length))
        return policy

    def _length(self, document: dict[str, Any]) -> int:
        return policy_length(self.stack.resolve(document))

    @staticmethod
    def _validate(where: str, organization_id: str, target_ids: Sequence[str], approved_regions: Sequence[str],
                  endpoint_condition: EndpointCondition, break_glass: str, deploy: Sequence[str],
                  batch: Sequence[str], mantle: Sequence[str], network_exempt: Sequence[str],
                  prefixes: Sequence[str], excluded: Sequence[str], patterns: dict[str, Sequence[str]],
                  other_scps: int, other_rcps: int) -> None:
        if not isinstance(organization_id, str) or not ORG_ID_PATTERN.fullmatch(organization_id):
            raise ConstructPropsError(f"{where}: organization_id: {organization_id!r} is not an organization id (o- and 10-32 "
                             "lowercase letters or digits)")
        if not target_ids:
            raise ConstructPropsError(f"{where}: target_ids: empty; name the root (r-...), OUs (ou-...) or accounts to attach to")
        for target in target_ids:
            if not isinstance(target, str) or not TARGET_PATTERN.fullmatch(target):
                raise ConstructPropsError(f"{where}: target_ids: {target!r} is not a root (r-xxxx), OU (ou-xxxx-xxxxxxxx) or "
                                 "account id (12 digits)")
        if len(set(target_ids)) != len(target_ids):
            raise ConstructPropsError(f"{where}: target_ids: {list(target_ids)!r} repeats a target")
        if not approved_regions:
            raise ConstructPropsError(f"{where}: approved_regions: empty; name the regions Bedrock may be used in")
        for region in approved_regions:
            if not isinstance(region, str) or not REGION_PATTERN.fullmatch(region):
                raise ConstructPropsError(f"{where}: approved_regions: {region!r} is not a region name (e.g. us-east-1)")
        if not isinstance(endpoint_condition, EndpointCondition):
            raise ConstructPropsError(f"{where}: endpoint_condition: {endpoint_condition!r} is not an EndpointCondition")
        endpoint_condition.validate(where)
        if endpoint_condition.key == "aws:VpceOrgID" and endpoint_condition.values != (organization_id,):
            raise ConstructPropsError(f"{where}: endpoint_condition.values: {list(endpoint_condition.values)!r}; with aws:VpceOrgID "
                             f"name exactly this organization ({organization_id!r})")
        for prop, names in (("break_glass_role_name", [break_glass]), ("deploy_role_names", deploy),
                            ("batch_role_names", batch), ("mantle_role_names", mantle),
                            ("network_exempt_role_names", network_exempt)):
            for name in names:
                if not isinstance(name, str) or not ROLE_NAME_PATTERN.fullmatch(name):
                    raise ConstructPropsError(f"{where}: {prop}: {name!r} is not a role name (1-64 of letters, digits and "
                                     "+=,.@_-; '*' for a pattern)")
        if "*" in break_glass:
            raise ConstructPropsError(f"{where}: break_glass_role_name: {break_glass!r} is a pattern; name exactly one role")
        if not deploy:
            raise ConstructPropsError(f"{where}: deploy_role_names: empty; the deploy role must be able to update the audit "
                             f"plane (default {DEFAULT_DEPLOY_ROLE_PATTERN!r})")
        for prop, names in (("batch_role_names", batch), ("mantle_role_names", mantle),
                            ("network_exempt_role_names", network_exempt)):
            if any(name == "*" or name.startswith("*") for name in names):
                raise ConstructPropsError(f"{where}: {prop}: {list(names)!r} exempts every role; name the roles")
        for prefix in prefixes:
            if not isinstance(prefix, str) or not PROFILE_PREFIX_PATTERN.fullmatch(prefix):
                raise ConstructPropsError(f"{where}: cross_region_profile_prefixes: {prefix!r} is not a profile prefix like 'us.'")
        for model in excluded:
            if not ENFORCEMENT_MODEL_PATTERN.fullmatch(model):
                raise ConstructPropsError(f"{where}: guardrail_excluded_models: {model!r} is not a model id")
        for prop, values in patterns.items():
            if not values:
                raise ConstructPropsError(f"{where}: {prop}: empty; name at least one pattern")
            for value in values:
                if not isinstance(value, str) or not NAME_PATTERN_CHARS.fullmatch(value) or value.strip("*") == "":
                    raise ConstructPropsError(f"{where}: {prop}: {value!r} is not a name pattern (letters, digits, ._/- and *, "
                                     "not only '*')")
        for prop, value in (("other_scps_per_target", other_scps), ("other_rcps_per_target", other_rcps)):
            if not isinstance(value, int) or not 1 <= value <= MAX_ATTACHED_PER_TARGET:
                raise ConstructPropsError(f"{where}: {prop}: {value!r}; allowed 1-{MAX_ATTACHED_PER_TARGET} (the AWS-managed "
                                 "full-access policy counts as one)")


def _deny(sid: str, actions: Sequence[str], resources: Any, conditions: dict[str, Any] | None = None, *,
          not_resource: list[str] | None = None, principal: bool = False) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Deny"}
    if principal:  # RCPs name the principal ("*"); SCPs must not
        statement["Principal"] = "*"
    statement["Action"] = list(actions) if len(actions) > 1 else actions[0]
    if not_resource is not None:
        statement["NotResource"] = not_resource
    else:
        statement["Resource"] = resources
    if conditions:
        statement["Condition"] = conditions
    return statement


def _unless_roles(arns: list[str]) -> dict[str, Any] | None:
    return {"ArnNotLike": {"aws:PrincipalArn": arns}} if arns else None


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", name.removeprefix("compliant-bedrock-")))


def policy_json(document: dict[str, Any]) -> str:
    """The compact JSON Organizations receives (for evidence and size checks of literal documents)."""
    return json.dumps(document, separators=(",", ":"))


__all__ = [
    "AUDIT_TAG_KEY",
    "AUDIT_TAG_VALUE",
    "DEFAULT_BREAK_GLASS_ROLE",
    "DEFAULT_DEPLOY_ROLE_PATTERN",
    "RCP_MAX_CHARS",
    "SCP_MAX_CHARS",
    "UNVERIFIED",
    "BedrockOrganizationGuardrails",
    "EndpointCondition",
    "PolicyDocument",
]
