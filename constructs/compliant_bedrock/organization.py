"""Organization-wide Bedrock perimeter: SCPs, RCPs and an Organizations Bedrock policy.

An identity policy binds only the principal it is attached to. What must hold for *every* principal of
every member account is written here as ``AWS::Organizations::Policy`` resources, deployed from the
management account (a delegated administrator may hold the SCPs and RCPs, but a Bedrock policy's
guardrail must be owned by the management account):

* **SCPs** (``SERVICE_CONTROL_POLICY``): Bedrock and Mantle inference only through approved VPC
  endpoints and only in approved regions (with the cross-region-inference exemption AWS documents),
  no Bedrock API keys, batch inference and Mantle only for named roles, and an audit plane (trails,
  invocation logging, enforced guardrails, audit keys, audit buckets, the package's stacks, functions,
  log groups, detection rules and topics, the approved endpoints) that only break-glass and deployers
  may change.

  **The exemption model.** Every exempt principal is an exact ARN with a literal account
  (:class:`ExemptRole`), never a name pattern: a pattern is a role any account administrator can create
  or re-trust. Each exempt role is then protected in every account (create, delete, re-trust, policies,
  boundary, tags, ``iam:PassRole``, ``sts:AssumeRole``), so becoming one needs a change only another
  exempt principal may make. The writer function is exempt by its own ARN (``lambda:SourceFunctionArn``),
  and nobody else may create, change or invoke a function of its name; CloudFormation acts as the exempt
  execution role, so the package's stacks are updated only by the stack updaters (the CDK deploy roles),
  which only the pipeline may assume.
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

from .developer_access import SSO_ROLE_PATTERN
from .errors import ConstructPropsError
from .guardrail import ENFORCEMENT_MODEL_PATTERN, BedrockGuardrail
from .guardrail_policy import enforcement_exclusions
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
#: CDK's default bootstrap qualifier: ``cdk-<qualifier>-cfn-exec-role-<account>-<region>`` executes
#: deployments (a deployer), ``cdk-<qualifier>-deploy-role-<account>-<region>`` starts them (a stack updater).
DEFAULT_BOOTSTRAP_QUALIFIER = "hnb659fds"

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
#: Project and data-retention changes on Mantle (N9): only deployers and break-glass.
MANTLE_GOVERNANCE_ACTIONS = ("bedrock-mantle:CreateProject", "bedrock-mantle:UpdateProject",
                             "bedrock-mantle:ArchiveProject", "bedrock-mantle:PutAccountDataRetention")

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
LOG_GROUP_ACTIONS = ("logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy",
                     "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey")
#: Deleting the package's stacks, and every way to make CloudFormation (acting as the exempt execution
#: role) apply a new template or policy to them (N2): only stack updaters and deployers.
STACK_ACTIONS = ("cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection",
                 "cloudformation:UpdateStack", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                 "cloudformation:SetStackPolicy", "cloudformation:ContinueUpdateRollback",
                 "cloudformation:CancelUpdateStack")
#: The package's functions (the invocation-logging writer) must not get new code, configuration, callers
#: or invocations from anyone but a deployer (N2): its exemption is its own function ARN.
FUNCTION_ACTIONS = ("lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                    "lambda:InvokeFunction", "lambda:AddPermission", "lambda:PublishVersion",
                    "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteFunction")
#: Tamper detection: its rules and topics stay on and keep their targets and receivers (N6). Each acts on the
#: rule or topic ARN (SAR: resource type rule / topic), so the deny names them. A data-protection policy can deny
#: the alerts' content. NOT here: sns:Unsubscribe and sns:SetSubscriptionAttributes, which the SAR gives no
#: resource type (a subscription ARN is not a topic ARN): a deny on the topics' ARNs would never match them, and
#: one on "*" would deny every subscription change in every target account. They stay detected
#: (``AlertTopicTamper``), and the event buses of the security account, rule targets denied above, still hear it.
DETECTION_ACTIONS = ("events:DisableRule", "events:DeleteRule", "events:PutRule", "events:RemoveTargets",
                     "events:PutTargets", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:RemovePermission",
                     "sns:AddPermission", "sns:PutDataProtectionPolicy")
#: The approved endpoints: their policies and their existence belong to the deployers.
ENDPOINT_ACTIONS = ("ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints")
#: Becoming an exempt principal: create it, re-trust it, give it policies or a boundary (N1).
EXEMPT_ROLE_ACTIONS = ("iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                       "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                       "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:UpdateRole",
                       "iam:TagRole", "iam:UntagRole")

EndpointKey = Literal["aws:SourceVpce", "aws:SourceVpc"]
#: The endpoint keys AWS sends on Bedrock and Mantle requests that came through a VPC endpoint
#: (global keys with no per-service list). aws:VpceOrgID / aws:VpceAccount / aws:VpceOrgPaths are NOT
#: sent by bedrock or bedrock-mantle (IAM User Guide, global condition keys, each key's supported-service
#: list): a Deny on their absence denies every call. They are refused here.
ENDPOINT_KEYS: tuple[str, ...] = ("aws:SourceVpce", "aws:SourceVpc")
UNSENT_ENDPOINT_KEYS: tuple[str, ...] = ("aws:VpceOrgID", "aws:VpceAccount", "aws:VpceOrgPaths", "aws:SourceVpcArn")
KEY_SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-vpceorgid"
_VALUE_PATTERNS = {
    "aws:SourceVpce": re.compile(r"^vpce-[0-9a-f]{8,17}$"),
    "aws:SourceVpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
}
ORG_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
TARGET_PATTERN = re.compile(r"^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
#: An exempt role's name: exact (no ``*``): a pattern is a name anyone may create (N1).
EXACT_ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
#: Inference-profile id prefixes (geographies) the region deny lets through to destination regions.
PROFILE_PREFIX_PATTERN = re.compile(r"^[a-z]{2,8}(-[a-z]{2,8})?\.$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
NAME_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9._/*-]{1,128}$")

#: Facts this construct relies on that no offline check can confirm. Each is also in docs/organization.md ("Known limits of the organization controls").
UNVERIFIED: dict[str, str] = {
    "aws:SourceVpce on bedrock-mantle": "AWS documents aws:SourceVpce as a global key present on every request "
    "that arrives through a VPC endpoint; no AWS text shows it in a bedrock-mantle policy (aws-facts A1b). If "
    "Mantle did not send it, the endpoint deny would refuse Mantle inference (fail closed): attach to a sandbox "
    "OU first.",
    "lambda:SourceFunctionArn on Bedrock calls": "Lambda adds lambda:SourceFunctionArn to every request made with "
    "a function's execution-role credentials (Lambda Developer Guide, 'permissions-source-function-arn'); that "
    "Bedrock's logging APIs evaluate it like any other service was not confirmed offline.",
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
    "StackSets execution role": "service-managed StackSets deploy as a stacksets-exec-<suffix> role they create in "
    "each member account (CloudFormation User Guide, stacksets-custom-execution-role); the suffix is read from a "
    "member account and configured, never matched by pattern.",
}


@dataclass(frozen=True)
class ExemptRole:
    """One principal a deny exempts, by exact ARN: a literal account and an exact role name.

    A pattern (``role/stacksets-exec-*``, ``iam::*:``) is a name any account administrator can create or
    re-trust (perimeter review 2, N1); an exact ARN is obtainable only by changing that role, which
    the construct denies to everyone else in every account (``ProtectExemptRoles``).
    """

    account: str
    name: str

    def validate(self, where: str) -> None:
        if not isinstance(self.account, str) or not ACCOUNT_PATTERN.fullmatch(self.account):
            raise ConstructPropsError(f"{where}: account {self.account!r} is not a 12-digit account id; an exemption "
                                      "names the one account its role lives in (never '*')")
        if not isinstance(self.name, str) or not (EXACT_ROLE_NAME_PATTERN.fullmatch(self.name)
                                                  or SSO_ROLE_PATTERN.fullmatch(self.name)):
            raise ConstructPropsError(f"{where}: role {self.name!r} is not an exact role name (1-64 of letters, "
                                      "digits and +=,.@_-, or an Identity Center role aws-reserved/sso.amazonaws.com/"
                                      "AWSReservedSSO_<set>_<16 hex>; no '*': a pattern is a name anyone can create)")

    def arn(self, partition: str) -> str:
        return f"arn:{partition}:iam::{self.account}:role/{self.name}"


@dataclass(frozen=True)
class EndpointCondition:
    """How an inference request proves it came through an approved VPC endpoint: ``aws:SourceVpce`` with
    the approved endpoints' ids (or ``aws:SourceVpc`` with their VPCs), keys AWS sends on every request
    that came through an endpoint. ``mantle_values``: the endpoints bedrock-mantle inference may use (the
    accepting environments' Mantle endpoints); empty: Mantle inference is denied everywhere.
    """

    key: EndpointKey
    values: tuple[str, ...]
    mantle_values: tuple[str, ...] = ()

    def validate(self, where: str) -> None:
        if self.key in UNSENT_ENDPOINT_KEYS:
            raise ConstructPropsError(f"{where}: endpoint_condition.key: {self.key} is not sent by bedrock or "
                                      f"bedrock-mantle ({KEY_SOURCE}): a Deny on its absence refuses every "
                                      "inference call; use aws:SourceVpce with the endpoints' ids")
        if self.key not in ENDPOINT_KEYS:
            raise ConstructPropsError(f"{where}: endpoint_condition.key: {self.key!r} is not allowed; allowed: "
                             f"{', '.join(ENDPOINT_KEYS)}")
        if not self.values:
            raise ConstructPropsError(f"{where}: endpoint_condition.values: empty; name at least one {self.key} value")
        pattern = _VALUE_PATTERNS[self.key]
        for prop, values in (("values", self.values), ("mantle_values", self.mantle_values)):
            for value in values:
                if not isinstance(value, str) or not pattern.fullmatch(value):
                    raise ConstructPropsError(f"{where}: endpoint_condition.{prop}: {value!r} is not a {self.key} "
                                              f"value (pattern {pattern.pattern})")


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
        break_glass: Sequence[ExemptRole],
        deployers: Sequence[ExemptRole],
        stack_updaters: Sequence[ExemptRole] = (),
        pipeline: Sequence[ExemptRole] = (),
        guardrail: BedrockGuardrail | None = None,
        batch_roles: Sequence[ExemptRole] = (),
        mantle_roles: Sequence[ExemptRole] = (),
        network_exempt_roles: Sequence[ExemptRole] = (),
        replication_roles: Sequence[ExemptRole] = (),
        approved_endpoint_arns: Sequence[str] = (),
        cross_region_profile_prefixes: Sequence[str] = ("us.",),
        stack_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        function_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        audit_bucket_patterns: Sequence[str] = ("compliantbedrock-*", "stackset-compliantbedrock-*", "cb-*-replica"),
        log_group_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        trail_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        detection_name_patterns: Sequence[str] = ("CompliantBedrock-*", "StackSet-CompliantBedrock-*"),
        guardrail_excluded_models: Sequence[str] = (),
        guardrail_enforce_embedding_models_reason: str | None = None,
        legacy_input_tags: bool = False,
        other_scps_per_target: int = 1,
        other_rcps_per_target: int = 1,
        resource_control_policies: bool = True,
    ) -> None:
        """
        Every exemption is an :class:`ExemptRole`, an exact ARN with a literal account: the roles it names
        are protected in every account (create, re-trust, policies, boundary, tags, ``iam:PassRole``,
        ``sts:AssumeRole``), so an account administrator cannot become one (perimeter review 2, N1).

        :param organization_id: ``o-...``; RCPs admit only this organization's principals.
        :param target_ids: the root (``r-...``), OUs (``ou-...``) and accounts (12 digits) every policy is
            attached to. Attach to a sandbox OU first: a wrong condition denies Bedrock to every account below.
        :param approved_regions: the only regions Bedrock and Mantle may be called in (aws:RequestedRegion).
        :param endpoint_condition: the approved endpoints (``aws:SourceVpce`` ids), the only way in for inference.
        :param break_glass: the incident responders' role in each member account: exempt from every audit-plane
            deny. Nobody in a member account may assume it (enter it from the management account, which SCPs
            do not bind) or change it.
        :param deployers: the roles CloudFormation deploys the package's stacks with in each account and region
            (CDK's ``cdk-<qualifier>-cfn-exec-role-<account>-<region>``, the baseline StackSet's
            ``stacksets-exec-<suffix>`` in each baseline account): exempt from the audit-plane denies, passable
            only by ``stack_updaters``, assumable by nobody in a member account (CloudFormation assumes them).
        :param stack_updaters: the roles that start updates of the package's stacks (CDK's
            ``cdk-<qualifier>-deploy-role-<account>-<region>``): the only principals besides deployers and
            break-glass that may update, change-set or delete those stacks, and the only ones that may pass a
            deployer to CloudFormation.
        :param pipeline: the only member-account principals that may assume a stack updater (the CI/CD role).
            Empty: stack updaters are assumed from the management account only.
        :param guardrail: the management account's guardrail (same region as this stack) to enforce
            org-wide with a ``BEDROCK_POLICY``; None: no Bedrock policy (say where it is enforced instead).
        :param batch_roles: the only roles that may start batch inference (no guardrail, no endpoint,
            no invocation log: F6). Empty: nobody.
        :param mantle_roles: the only roles that may call bedrock-mantle inference (no guardrail there: F2),
            each in the account of the environment that accepted the path; only through
            ``endpoint_condition.mantle_values``. Empty: nobody.
        :param network_exempt_roles: service roles Bedrock itself assumes (agents, flows) that call models
            without an endpoint; calls made *through* a service with the caller's credentials are exempt
            already (``aws:ViaAWSService``).
        :param replication_roles: the roles S3 assumes to replicate an audit bucket into its replica (the member
            baseline's ``CompliantBedrock-baseline-<region>-replication``), which the replica's bucket policy names as
            its only writer: nobody in a member account may assume, create, re-trust, re-police or pass them (S3
            assumes them as a service, which SCPs do not bind), or forge replicated records as one.
        :param approved_endpoint_arns: the approved endpoints' ARNs (``ec2:ModifyVpcEndpoint`` and
            ``DeleteVpcEndpoints`` on them only by deployers: a new endpoint policy would bypass the
            environment's model list).
        :param cross_region_profile_prefixes: inference-profile geographies (``us.``) whose destination-region
            legs may run outside ``approved_regions``. ``global.`` routes to any commercial region: allowed
            only when named here.
        :param stack_name_patterns: the package's CloudFormation stacks (delete, update, change sets denied).
        :param function_name_patterns: the package's Lambda functions (the invocation-logging writer): their
            own requests (``lambda:SourceFunctionArn``) may write the logging configuration; creating a function
            of that name, or changing or invoking one, is denied to all but deployers.
        :param audit_bucket_patterns: bucket names of audit buckets. S3 bucket actions do not reliably
            expose ``aws:ResourceTag``, so buckets are matched by name: CloudFormation names a bucket
            ``<stack name, lowercase>-<logical id>-<suffix>``, and replica buckets ``cb-<account>-<env>-<source>-replica``.
        :param log_group_patterns: log-group names of the package (CloudFormation names them after the stack).
        :param trail_name_patterns: trail names of the package (``<stack name>-audit`` by default).
        :param detection_name_patterns: EventBridge rule and SNS topic names of the package's tamper detection.
        :param guardrail_excluded_models: model ids the Bedrock policy does not enforce the guardrail on, **in
            addition to** the partition's embedding models (``models.embedding_model_ids``), which it always skips:
            AWS documents that embedding calls fail under an enforced guardrail.
        :param guardrail_enforce_embedding_models_reason: enforce on the embedding models too (every embedding call
            in the organization then fails): why, in at least 8 words. Unset (default): they are excluded.
        :param legacy_input_tags: also write ``input_tags: ignore`` (the older Bedrock policy syntax) next
            to ``selective_content_guarding``.
        :param other_scps_per_target: SCPs already attached to each target (FullAWSAccess counts: at least 1).
        :param other_rcps_per_target: RCPs already attached to each target (RCPFullAWSAccess counts: at least 1).
        :param resource_control_policies: create the RCP (audit buckets and keys stay inside the organization).
            Off only where the partition does not offer RCPs (``compliant_bedrock.partitions``); the pack's
            ``OrgRcpAuditResources`` then fails unless suppressed with the reason.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        where = f"BedrockOrganizationGuardrails {construct_id!r}"
        self._validate(where, organization_id, target_ids, approved_regions, endpoint_condition,
                       {"break_glass": break_glass, "deployers": deployers, "stack_updaters": stack_updaters,
                        "pipeline": pipeline, "batch_roles": batch_roles, "mantle_roles": mantle_roles,
                        "network_exempt_roles": network_exempt_roles, "replication_roles": replication_roles},
                       cross_region_profile_prefixes, guardrail_excluded_models,
                       {"stack_name_patterns": stack_name_patterns, "function_name_patterns": function_name_patterns,
                        "audit_bucket_patterns": audit_bucket_patterns, "log_group_patterns": log_group_patterns,
                        "trail_name_patterns": trail_name_patterns,
                        "detection_name_patterns": detection_name_patterns},
                       other_scps_per_target, other_rcps_per_target)
        if guardrail is not None and Stack.of(guardrail) is not stack:
            raise ConstructPropsError(f"{where}: guardrail: {guardrail.node.path!r} is in another stack; the Bedrock policy needs "
                             "a guardrail of the management account in this stack's region (build it here)")
        self.stack = stack
        partition = stack.partition
        self._partition = partition

        def arns(roles: Sequence[ExemptRole]) -> list[str]:
            return sorted({role.arn(partition) for role in roles})

        def unless(roles: Sequence[ExemptRole]) -> dict[str, Any] | None:
            return {"ArnNotEquals": {"aws:PrincipalArn": arns(roles)}} if roles else None

        def in_every_account(roles: Sequence[ExemptRole]) -> list[str]:
            # Protections name each exempt role in every account: a role of the same name elsewhere is
            # harmless (the exemption names its account), but protecting it everywhere costs nothing.
            return sorted({f"arn:{partition}:iam::*:role/{role.name}" for role in roles})

        admins = [*break_glass, *deployers]
        #: Every principal any deny exempts, by exact ARN (for tests, the proof and the evidence).
        self.exempt_principal_arns = arns([*admins, *stack_updaters, *pipeline, *batch_roles, *mantle_roles,
                                           *network_exempt_roles])
        exempt = unless(admins)
        accounts = sorted({role.account for role in admins})
        functions = [f"arn:{partition}:lambda:*:{account}:function:{p}" for account in accounts
                     for p in function_name_patterns]

        inference = [*RUNTIME_INFERENCE_ACTIONS, *MANTLE_INFERENCE_ACTIONS]
        endpoint_conditions: dict[str, Any] = {
            "StringNotEquals": {endpoint_condition.key: list(endpoint_condition.values)},
            "BoolIfExists": {"aws:ViaAWSService": "false"},
        }
        if network_exempt_roles:
            endpoint_conditions["ArnNotEquals"] = {"aws:PrincipalArn": arns(network_exempt_roles)}
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
            _deny("DenyBatchInferenceExceptNamedRoles", BATCH_ACTIONS, "*", unless(batch_roles)),
            # Mantle inference: only the accepting environments' roles (exact ARNs, their own accounts) ...
            _deny("DenyMantleInferenceExceptNamedRoles", MANTLE_INFERENCE_ACTIONS, "*", unless(mantle_roles)),
            _deny("DenyMantleExceptNamedRoles", ["bedrock-mantle:*"], "*", unless([*mantle_roles, *admins])),
            # ... only through the accepting environments' Mantle endpoints (none: nowhere) ...
            _deny("DenyMantleOutsideItsEndpoints", MANTLE_INFERENCE_ACTIONS, "*", {
                "StringNotEquals": {endpoint_condition.key: list(endpoint_condition.mantle_values)},
            } if endpoint_condition.mantle_values else None),
            # ... and its projects and data retention change only through the deployment (N9).
            _deny("DenyMantleGovernanceChanges", MANTLE_GOVERNANCE_ACTIONS, "*", exempt),
        ]
        protected_roles = [*break_glass, *deployers, *stack_updaters, *pipeline, *batch_roles, *mantle_roles,
                           *network_exempt_roles, *replication_roles]
        writer_roles = [f"arn:{partition}:iam::{account}:role/{p}" for account in accounts for p in function_name_patterns]
        audit_plane: list[dict[str, Any]] = [
            _deny("ProtectAuditResources", [*TRAIL_ACTIONS, *BUCKET_ACTIONS, *LOG_GROUP_ACTIONS],
                  [f"arn:{partition}:cloudtrail:*:*:trail/{p}" for p in trail_name_patterns]
                  + [f"arn:{partition}:s3:::{p}" for p in audit_bucket_patterns]
                  + [f"arn:{partition}:s3:::{p}/*" for p in audit_bucket_patterns]
                  + [f"arn:{partition}:logs:*:*:log-group:{p}" for p in log_group_patterns]
                  + [f"arn:{partition}:logs:*:*:log-group:{p}:*" for p in log_group_patterns], exempt),
            # The writer function's own requests, never its role's from elsewhere (N2).
            _deny("ProtectBedrockAuditConfiguration", BEDROCK_AUDIT_ACTIONS, "*",
                  {**(exempt or {}), "ArnNotLike": {"lambda:SourceFunctionArn": functions}}),
            _deny("ProtectAuditKeys", KEY_ACTIONS, "*",
                  {"StringEquals": {f"aws:ResourceTag/{AUDIT_TAG_KEY}": AUDIT_TAG_VALUE}, **(exempt or {})}),
            _deny("ProtectPackageStacks", STACK_ACTIONS,
                  [f"arn:{partition}:cloudformation:*:*:stack/{p}/*" for p in stack_name_patterns],
                  unless([*admins, *stack_updaters])),
            _deny("ProtectPackageFunctionsAndDetection", [*FUNCTION_ACTIONS, *DETECTION_ACTIONS],
                  [f"arn:{partition}:lambda:*:*:function:{p}" for p in function_name_patterns]
                  + [f"arn:{partition}:events:*:*:rule/{p}" for p in detection_name_patterns]
                  + [f"arn:{partition}:sns:*:*:{p}" for p in detection_name_patterns], exempt),
            _deny("ProtectExemptRoles", EXEMPT_ROLE_ACTIONS,
                  sorted({*in_every_account(protected_roles),
                          *(f"arn:{partition}:iam::*:role/{p}" for p in function_name_patterns)}), exempt),
            # Passing an exempt role lends its exemption to new code or a new stack (N2): deployers only to
            # CloudFormation by the stack updaters; the writer functions' roles only by deployers.
            _deny("DenyPassingExemptRoles", ["iam:PassRole"],
                  sorted({*in_every_account(protected_roles), *writer_roles}),
                  unless([*admins, *stack_updaters])),
            # Nobody in a member account assumes break-glass, a deployer or the pipeline (CloudFormation and
            # StackSets assume deployers as services, the CI service its pipeline role; break-glass is entered
            # from the management account, which SCPs do not bind).
            # The Mantle, batch and network-exempt roles too: services (ECS, Lambda, EC2) assume them; an
            # administrator assuming one would obtain its exemption.
            _deny("DenyAssumingExemptRoles", ["sts:AssumeRole"],
                  in_every_account([*admins, *pipeline, *mantle_roles, *batch_roles, *network_exempt_roles,
                                    *replication_roles])),
        ]
        if stack_updaters:
            # ... and a stack updater only the pipeline.
            audit_plane.append(_deny("DenyAssumingStackUpdaters", ["sts:AssumeRole"], in_every_account(stack_updaters),
                                     unless(pipeline)))
        if approved_endpoint_arns:
            audit_plane.append(_deny("ProtectApprovedEndpoints", ENDPOINT_ACTIONS, sorted(set(approved_endpoint_arns)),
                                     exempt))
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
            target_ids, RCP_MAX_CHARS, other_rcps_per_target, "other_rcps_per_target", where,
        ) if resource_control_policies else []

        self.bedrock_policy: organizations.CfnPolicy | None = None
        self.guardrail_resource_policy: bedrock.CfnResourcePolicy | None = None
        if guardrail is not None:
            excluded = enforcement_exclusions(
                where, partition if not Token.is_unresolved(partition) else None, list(guardrail_excluded_models),
                enforce_embedding_models_reason=guardrail_enforce_embedding_models_reason,
                prop="guardrail_excluded_models")
            self._bedrock_policy(guardrail, organization_id, target_ids, excluded, legacy_input_tags, where)

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
                  endpoint_condition: EndpointCondition, roles: dict[str, Sequence[ExemptRole]],
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
        for prop, entries in roles.items():
            for index, role in enumerate(entries):
                if not isinstance(role, ExemptRole):
                    raise ConstructPropsError(f"{where}: {prop}[{index}]: {role!r} is not an ExemptRole(account=..., "
                                              "name=...); exemptions are exact ARNs, never names or patterns")
                role.validate(f"{where}: {prop}[{index}]")
        if not roles["break_glass"]:
            raise ConstructPropsError(f"{where}: break_glass: empty; name the break-glass role of each member account "
                                      "(ExemptRole(account, name)) or nobody can repair the audit plane")
        if not roles["deployers"]:
            raise ConstructPropsError(f"{where}: deployers: empty; name the CloudFormation execution role of each "
                                      "account and region the package deploys to, or its stacks cannot update")
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
                if not isinstance(value, str) or not NAME_PATTERN_CHARS.fullmatch(value) or value.strip("*") == "" \
                        or len(value.split("*", 1)[0]) < 3:
                    raise ConstructPropsError(f"{where}: {prop}: {value!r} is not a name pattern (letters, digits, ._/- "
                                              "and *, at least 3 literal characters before any '*')")
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


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", name.removeprefix("compliant-bedrock-")))


def policy_json(document: dict[str, Any]) -> str:
    """The compact JSON Organizations receives (for evidence and size checks of literal documents)."""
    return json.dumps(document, separators=(",", ":"))


__all__ = [
    "AUDIT_TAG_KEY",
    "AUDIT_TAG_VALUE",
    "DEFAULT_BOOTSTRAP_QUALIFIER",
    "DEFAULT_BREAK_GLASS_ROLE",
    "RCP_MAX_CHARS",
    "SCP_MAX_CHARS",
    "UNVERIFIED",
    "BedrockOrganizationGuardrails",
    "EndpointCondition",
    "ExemptRole",
    "PolicyDocument",
]
