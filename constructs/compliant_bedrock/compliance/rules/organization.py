"""Organization rules: the SCPs, RCPs and Bedrock policy of an organization stack say what they must.

They judge stacks that hold ``AWS::Organizations::Policy`` resources (the management account's); an
environment stack has none and gets N/A. A policy's ``Content`` is read as CloudFormation will send it:
a JSON string (``Fn::Join`` of literals and intrinsics, each intrinsic becoming a named placeholder) or
an object.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from ...policy_size import _is_intrinsic, _longest, policy_length
from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, possible_strings

_POLICY = "AWS::Organizations::Policy"
#: Characters AWS accepts per policy document of each type (Organizations quotas; BEDROCK_POLICY: see organization.py).
MAX_CHARS = {"SERVICE_CONTROL_POLICY": 5120, "RESOURCE_CONTROL_POLICY": 5120, "BEDROCK_POLICY": 10000}
#: Policies of one type attached to one target, the AWS-managed full-access policy included.
MAX_PER_TARGET = 5
_ENDPOINT_KEYS = ("aws:sourcevpce", "aws:sourcevpc")  # Bedrock does not send aws:VpceOrgID
_VERSIONED = re.compile(r":(\d+|<[^>]+\.Version>)$")


def _content_text(value: Any) -> str | None:
    """The JSON text CloudFormation sends, intrinsics as ``<X.Attr>``/``<Ref X>``; None if not a JSON string."""
    if isinstance(value, str):
        return value
    if _is_intrinsic(value) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(p if isinstance(p, str) else possible_strings(p)[0] for p in parts)
    return None


def policy_document(resource: Resource) -> dict[str, Any]:
    """The policy's content as a mapping (raises on a shape CloudFormation would not send: UNKNOWN)."""
    content = resource.properties.get("Content")
    text = _content_text(content)
    document = json.loads(text) if text is not None else content
    if not isinstance(document, dict):
        raise ValueError("policy content is neither a JSON object nor a JSON string")
    return document


def content_length(resource: Resource) -> int:
    """Characters Organizations counts, each intrinsic at its longest value."""
    content = resource.properties.get("Content")
    if isinstance(content, str):
        return len(content)
    if _is_intrinsic(content) and "Fn::Join" in content:
        separator, parts = content["Fn::Join"]
        return len(separator) * max(len(parts) - 1, 0) + sum(
            len(p) if isinstance(p, str) else _longest(p) for p in parts)
    return policy_length(content)


def _policies(template: Template, policy_type: str) -> list[tuple[Resource, dict[str, Any]]]:
    return [(r, policy_document(r)) for r in template.of_type(_POLICY) if r.properties.get("Type") == policy_type]


def _denies(template: Template, policy_type: str = "SERVICE_CONTROL_POLICY") -> list[dict[str, Any]]:
    return [s for _, doc in _policies(template, policy_type) for s in as_list(doc.get("Statement"))
            if isinstance(s, dict) and s.get("Effect") == "Deny"]


def _covers(statement: dict[str, Any], action: str) -> bool:
    patterns = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(fnmatchcase(action.lower(), p) for p in patterns)


def _conditions(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operator -> {key (lowercase): value}"""
    return {op: {str(k).lower(): v for k, v in (keys or {}).items()}
            for op, keys in (statement.get("Condition") or {}).items()}


def _only_named_exemptions(statement: dict[str, Any], allowed: tuple[str, ...] = ()) -> bool:
    """Conditions only exempt named principals (``ArnNotLike aws:PrincipalArn`` without a role wildcard)
    or narrow to keys in ``allowed`` (``operator:key``)."""
    for operator, keys in _conditions(statement).items():
        for key, value in keys.items():
            if f"{operator}:{key}".lower() in allowed:
                continue
            if operator not in ("ArnNotLike", "ArnNotEquals") or key != "aws:principalarn":
                return False
            if any(not _EXACT_ROLE.fullmatch(s) for s in possible_strings(value)):
                return False  # a pattern or '*' account exempts whoever creates the name (N1)
    return True


def _org_stack(template: Template) -> bool:
    return bool(template.of_type(_POLICY))


@rule(
    "OrgScpDeniesApiKeys",
    controls=("IA-5", "AC-3", "AC-17"),
    explanation="The organization's SCPs do not deny Bedrock API keys (both CallWithBearerToken actions, and "
    "creating bedrock.amazonaws.com service-specific credentials) to every principal",
    fix="Use BedrockOrganizationGuardrails (its DenyBedrockApiKeys and DenyBedrockApiKeyCreation statements)",
)
def org_scp_denies_api_keys(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    denies = [s for s in _denies(template) if not s.get("Condition") and "*" in as_list(s.get("Resource"))]
    keys = all(any(_covers(s, a) for s in denies)
               for a in ("bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"))
    creation = any(
        _covers(s, "iam:CreateServiceSpecificCredential") and _only_named_exemptions(
            s, ("stringequals:iam:servicespecificcredentialservicename",))
        and "bedrock.amazonaws.com" in possible_strings(
            _conditions(s).get("StringEquals", {}).get("iam:servicespecificcredentialservicename", "bedrock.amazonaws.com"))
        for s in _denies(template))
    return Compliance.COMPLIANT if keys and creation else Compliance.NON_COMPLIANT


@rule(
    "OrgScpInferenceOnlyViaEndpoints",
    controls=("AC-4", "SC-7", "AC-17"),
    explanation="The organization's SCPs do not deny Bedrock and Mantle inference outside named VPC endpoints "
    "(aws:SourceVpce or aws:SourceVpc, keys Bedrock sends) and outside named regions (aws:RequestedRegion)",
    fix="Use BedrockOrganizationGuardrails with an EndpointCondition and approved_regions",
)
def org_scp_inference_only_via_endpoints(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    inference = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock-mantle:CreateInference")

    def endpoint_deny(statement: dict[str, Any]) -> bool:
        named = _conditions(statement).get("StringNotEquals", {})
        values = [v for k in _ENDPOINT_KEYS if k in named for v in possible_strings(named[k])]
        extra_ok = _only_named_exemptions(statement, (
            *(f"stringnotequals:{k}" for k in _ENDPOINT_KEYS), "boolifexists:aws:viaawsservice"))
        via = _conditions(statement).get("BoolIfExists", {}).get("aws:viaawsservice")
        return bool(values) and not any(template.is_open(v) for v in values) and extra_ok and via in (None, "false")

    def region_deny(statement: dict[str, Any]) -> bool:
        regions = _conditions(statement).get("StringNotEquals", {}).get("aws:requestedregion")
        values = possible_strings(regions)
        return bool(values) and not any(template.is_open(v) for v in values)

    denies = [s for s in _denies(template) if "*" in as_list(s.get("Resource"))]
    endpoints = all(any(_covers(s, a) and endpoint_deny(s) for s in denies) for a in inference)
    regions = all(any(_covers(s, a) and region_deny(s) for s in denies) for a in inference)
    # A cross-region exemption (bedrock:InferenceProfileArn) is sound only with its companion: outside the
    # approved regions nothing but a foundation model (a destination leg) may be invoked.
    exempts_profiles = any(region_deny(s) and "bedrock:inferenceprofilearn" in _conditions(s).get("ArnNotLike", {})
                           for s in denies)
    companion = any(
        _covers(s, "bedrock:InvokeModel") and region_deny(s) and not s.get("Resource")
        and all(re.fullmatch(r"arn:[^:]+:bedrock:\*::foundation-model/\*", v)
                for v in possible_strings(s.get("NotResource")))
        for s in _denies(template))
    sound = companion or not exempts_profiles
    return Compliance.COMPLIANT if endpoints and regions and sound else Compliance.NON_COMPLIANT


@rule(
    "OrgScpUnguardedInferenceRestricted",
    controls=("AC-3", "AC-6", "SI-10"),
    explanation="The organization's SCPs leave inference without a guardrail or an invocation log open to every "
    "principal: batch inference (CreateModelInvocationJob) or bedrock-mantle is not denied to all but named roles",
    fix="Use BedrockOrganizationGuardrails (DenyBatchInferenceExceptNamedRoles, DenyMantleExceptNamedRoles); name "
    "the roles that may in batch_role_names / mantle_role_names",
)
def org_scp_unguarded_inference_restricted(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    denies = [s for s in _denies(template) if "*" in as_list(s.get("Resource")) and _only_named_exemptions(s)]
    covered = all(any(_covers(s, a) for s in denies)
                  for a in ("bedrock:CreateModelInvocationJob", "bedrock-mantle:CreateInference"))
    return Compliance.COMPLIANT if covered else Compliance.NON_COMPLIANT


@rule(
    "OrgRcpAuditResources",
    controls=("AU-9", "SC-8", "AC-3", "SC-7"),
    explanation="No resource control policy closes the audit buckets and keys to principals outside the organization "
    "and the audit buckets to requests without TLS",
    fix="Use BedrockOrganizationGuardrails (its compliant-bedrock-audit-resources RCP)",
)
def org_rcp_audit_resources(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    denies = [s for s in _denies(template, "RESOURCE_CONTROL_POLICY") if s.get("Principal") in ("*", {"AWS": "*"})]

    def outside_org(statement: dict[str, Any]) -> bool:
        conditions = _conditions(statement)
        org = next((v for op, keys in conditions.items() if op.startswith("StringNotEquals")
                    for k, v in keys.items() if k == "aws:principalorgid"), None)
        return org is not None and not any(template.is_open(v) for v in possible_strings(org))

    def no_tls(statement: dict[str, Any]) -> bool:
        return any(str(keys.get("aws:securetransport")).lower() == "false"
                   for op, keys in _conditions(statement).items() if op.startswith("Bool"))

    org_closed = all(any(_covers(s, a) and outside_org(s) for s in denies) for a in ("s3:GetObject", "kms:Decrypt"))
    tls = any(_covers(s, "s3:GetObject") and no_tls(s) for s in denies)
    return Compliance.COMPLIANT if org_closed and tls else Compliance.NON_COMPLIANT


#: What the audit-plane SCPs must deny (to all but exact exemptions).
AUDIT_PLANE_ACTIONS = (
    "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
    "bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration",
    "bedrock:PutEnforcedGuardrailConfiguration", "bedrock:DeleteEnforcedGuardrailConfiguration",
    "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy",
    "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection",
    # CloudFormation acts as the exempt execution role: a new template or stack policy is a deputy (N2).
    "cloudformation:UpdateStack", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
    "cloudformation:SetStackPolicy", "cloudformation:ContinueUpdateRollback",
    # The writer function: new code, configuration or an invocation lends its exemption (N2).
    "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction",
    "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
    # Detection and its receivers: rules stay on and keep their targets, topics their policy and content (N6).
    "events:DisableRule", "events:DeleteRule", "events:PutRule", "events:RemoveTargets", "events:PutTargets",
    "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:RemovePermission", "sns:AddPermission",
    "sns:PutDataProtectionPolicy",
    "iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "sts:AssumeRole",
    # A new policy on an approved endpoint bypasses the environment's model list (N5).
    "ec2:ModifyVpcEndpoint",
)
#: Becoming an exempt role: every one of these must be denied on its ARN (N1).
BECOMING_ACTIONS = ("iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy",
                    "iam:PutRolePermissionsBoundary", "iam:PassRole")
#: Lending an exempt function new work: every one of these must be denied on its name pattern (N2).
LENDING_ACTIONS = ("lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                   "lambda:InvokeFunction")
_EXACT_ROLE = re.compile(r"^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]+$")
_PRINCIPAL_OPERATORS = ("arnnotequals", "arnnotlike", "stringnotequals", "stringnotlike")


def exemptions(statement: dict[str, Any], key: str = "aws:principalarn") -> list[str]:
    """The values a deny exempts on ``key`` (negated operators)."""
    return [v for op, keys in _conditions(statement).items() if op.lower().removesuffix("ifexists") in _PRINCIPAL_OPERATORS
            for k, value in keys.items() if k == key for v in possible_strings(value)]


def _resources_match(statement: dict[str, Any], arn: str) -> bool:
    return any(fnmatchcase(arn, str(p)) for p in possible_strings(statement.get("Resource")))


def _protected(denies: list[dict[str, Any]], arn: str, actions: tuple[str, ...]) -> bool:
    return all(any(_covers(s, a) and _resources_match(s, arn) for s in denies) for a in actions)


@rule(
    "OrgAuditPlaneProtected",
    controls=("AU-9", "AU-11", "CM-5", "SC-12", "AC-6"),
    explanation="The organization's SCPs do not keep the audit plane (trail, invocation logging, enforced guardrail, "
    "audit keys and buckets, the package's stacks, functions, log groups and detection) out of reach of every "
    "principal but exemptions nobody can obtain: an exemption is a pattern or names no account, an exempt role is "
    "not protected against being created, re-trusted, given policies or passed, or an exempt function name against "
    "being created, changed or invoked",
    fix="Use BedrockOrganizationGuardrails: exemptions are ExemptRole(account, name) (exact ARNs), and its "
    "ProtectExemptRoles, DenyPassingExemptRoles and ProtectPackageFunctionsAndDetection statements cover them",
)
def org_audit_plane_protected(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    denies = _denies(template)
    principals = sorted({v for s in denies for v in exemptions(s)})
    functions = sorted({v for s in denies for v in exemptions(s, "lambda:sourcefunctionarn")})
    if any(not _EXACT_ROLE.fullmatch(v) or template.is_open(v) for v in principals):
        return Compliance.NON_COMPLIANT  # a pattern, '*' account or parameter: obtainable by creating the name
    if not all(_protected(denies, arn, BECOMING_ACTIONS) for arn in principals):
        return Compliance.NON_COMPLIANT
    # Whoever the audit plane exempts is assumable by nobody (but the pipeline its stack updaters).
    audit_exempt = {v for s in denies if any(_covers(s, a) for a in AUDIT_PLANE_ACTIONS) for v in exemptions(s)}
    if not all(_protected(denies, arn, ("sts:AssumeRole",)) for arn in audit_exempt):
        return Compliance.NON_COMPLIANT
    if not all(_protected(denies, arn.replace("*", "x"), LENDING_ACTIONS) for arn in functions):
        return Compliance.NON_COMPLIANT
    allowed = ("stringequals:aws:resourcetag/compliant-bedrock:audit", "arnnotlike:lambda:sourcefunctionarn")
    audit = [s for s in denies if _only_named_exemptions(s, allowed)]
    covered = all(any(_covers(s, a) for s in audit) for a in AUDIT_PLANE_ACTIONS)
    return Compliance.COMPLIANT if covered else Compliance.NON_COMPLIANT


@rule(
    "OrgGuardrailPolicy",
    controls=("SI-10", "SI-15", "AC-3", "AC-4"),
    explanation="The organization stack enforces no guardrail org-wide: no BEDROCK_POLICY with a versioned guardrail "
    "that guards the whole request (comprehensive, input tags ignored), or no guardrail resource policy for the "
    "organization",
    fix="Pass guardrail= to BedrockOrganizationGuardrails (a published version, comprehensive guarding, and an "
    "AWS::Bedrock::ResourcePolicy admitting aws:PrincipalOrgID)",
)
def org_guardrail_policy(template: Template, ctx: RuleContext) -> Compliance:
    if not _org_stack(template):
        return Compliance.NOT_APPLICABLE
    policies = _policies(template, "BEDROCK_POLICY")
    if not policies:
        return Compliance.NON_COMPLIANT
    for _, document in policies:
        regions = ((document.get("bedrock") or {}).get("guardrail_inference") or {})
        configs = [c for region in regions.values() if isinstance(region, dict) for c in region.values()]
        if not configs or not all(_guards_everything(c) for c in configs):
            return Compliance.NON_COMPLIANT
    admitted = any(
        any(s.get("Effect") == "Allow" and _covers(s, "bedrock:ApplyGuardrail")
            and _conditions(s).get("StringEquals", {}).get("aws:principalorgid")
            for s in as_list((r.properties.get("PolicyDocument") or {}).get("Statement")) if isinstance(s, dict))
        for r in template.of_type("AWS::Bedrock::ResourcePolicy"))
    return Compliance.COMPLIANT if admitted else Compliance.NON_COMPLIANT


def _assigned(node: Any) -> Any:
    return node.get("@@assign") if isinstance(node, dict) else None


def _guards_everything(config: Any) -> bool:
    if not isinstance(config, dict):
        return False
    identifier = _assigned(config.get("identifier"))
    values = possible_strings(identifier)
    # A published version (``:<n>`` or the GuardrailVersion's attribute), never the bare ARN (DRAFT).
    if not values or not all(_VERSIONED.search(v) for v in values):
        return False
    guarding = config.get("selective_content_guarding") or {}
    comprehensive = all(str(_assigned(guarding.get(k))).lower() == "comprehensive" for k in ("system", "messages"))
    tags_ignored = str(_assigned(config.get("input_tags"))).lower() == "ignore"
    selective = any(str(_assigned(guarding.get(k))).lower() == "selective" for k in ("system", "messages"))
    return (comprehensive or tags_ignored) and not selective


@rule(
    "OrgPolicyWithinLimits",
    controls=("CM-2", "CM-3"),
    explanation="An organization policy exceeds what AWS accepts (5,120 characters per SCP or RCP, or more than four "
    "policies of one type on a target besides the AWS-managed one), so the deployment fails and the control is absent",
    fix="Split the statements (BedrockOrganizationGuardrails packs them), name fewer values, or attach fewer policies "
    "to the target",
    resource_types=(_POLICY,),
)
def org_policy_within_limits(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    policy_type = resource.properties.get("Type")
    limit = MAX_CHARS.get(str(policy_type))
    if limit is None:
        return Compliance.NOT_APPLICABLE
    if content_length(resource) > limit:
        return Compliance.NON_COMPLIANT
    if policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        for target in possible_strings(resource.properties.get("TargetIds")):
            same = [r for r in template.of_type(_POLICY) if r.properties.get("Type") == policy_type
                    and target in possible_strings(r.properties.get("TargetIds"))]
            if len(same) > MAX_PER_TARGET - 1:
                return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT
