"""Which resources of a template make up which component of the package, by CloudFormation type.

Each component has *anchor* resources recognized by type (and, for IAM, by what the policy
grants); the resources an anchor points at (its key, log group, role, bucket ...) and the
attachments that point at a member (bucket policy, SG ingress, role policy) join it. A shared
resource (one KMS key for several log groups) belongs to every component that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..compliance.rules.audit import is_invocation_logging
from ..compliance.rules.iam import invoke_allow_statements
from ..compliance.template import Resource, as_list, policy_statements
from .assembly import StackEvidence


@dataclass(frozen=True)
class ComponentSpec:
    id: str
    title: str
    type: str
    description: str
    purpose: str


COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec(
        "private-link", "Bedrock private link and network boundary", "software",
        "Interface VPC endpoints for the Bedrock APIs (private DNS, an endpoint policy naming principals, actions "
        "and models), a dedicated security group admitting TCP 443 from named networks only, and an isolated VPC "
        "(no internet or NAT gateway, default security group closed, flow logs to an encrypted log group).",
        "Keep Bedrock traffic on the AWS network and inside the authorization boundary.",
    ),
    ComponentSpec(
        "model-access", "Model-scoped IAM access", "software",
        "An IAM managed policy allowing bedrock:InvokeModel and InvokeModelWithResponseStream on named model "
        "ARNs only, only with the published guardrail version and only through the bedrock-runtime endpoint, "
        "with explicit denies around it. These conditions bind only the roles that carry this policy; other "
        "principals of the account are bound by the account-level guardrail enforcement and by the "
        "organization's policies, not by this one.",
        "Least privilege for model invocation.",
    ),
    ComponentSpec(
        "audit-trail", "Immutable audit trail", "software",
        "A multi-region CloudTrail trail with log-file validation and Bedrock data events, delivering to an S3 "
        "bucket with Object Lock, versioning and KMS encryption, retained on stack deletion. Key and bucket "
        "policies deny key deletion, disabling and re-policing, Object Lock, bucket-policy, lifecycle and "
        "replication changes, and record writes by anyone but the delivering service, to every principal of the "
        "account except a named break-glass role and the deploy role. Calls no policy in the account can deny "
        "(stopping the trail, deleting invocation logging or the enforced guardrail, API keys) are detected by "
        "EventBridge rules alerting a KMS-encrypted SNS topic, not prevented.",
        "Tamper-evident, retained records of management and Bedrock data events.",
    ),
    ComponentSpec(
        "invocation-logging", "Model invocation logging", "software",
        "Bedrock model invocation logging (prompts and completions) to an encrypted, retained CloudWatch Logs "
        "group and/or S3 bucket, configured by a custom resource that acts only on its own configuration, only "
        "for CloudFormation's requests of its own stack, and is retained on stack deletion.",
        "Record what was asked of and answered by each model.",
    ),
    ComponentSpec(
        "guardrail", "Bedrock guardrail", "software",
        "A Bedrock guardrail (content, prompt-attack, PII, credential and marking filters) encrypted with a "
        "customer-managed KMS key, with a published immutable version that IAM requires on every call of the "
        "package's roles; where account-level enforcement is on, Bedrock applies that version to every inference "
        "call of every principal of the account in the region, guarding the whole request.",
        "Filter prompts and completions on every model call.",
    ),
    ComponentSpec(
        "organization", "Organization perimeter", "policy",
        "AWS Organizations policies from the management account: SCPs that deny Bedrock and Mantle inference off "
        "approved VPC endpoints and regions, API keys, batch and Mantle except for named roles, and changes to the "
        "audit plane except by the break-glass and deploy roles; an RCP closing the audit buckets and keys to other "
        "organizations and plain HTTP; a Bedrock policy enforcing a published guardrail version on the whole "
        "request; and the per-account baseline StackSet (enforced guardrail and invocation logging per region).",
        "Hold the controls for every principal of every member account, not only for roles that opt in.",
    ),
    ComponentSpec(
        "compliance-gate", "Synth-time compliance gate", "validation",
        "cdk-nag's NIST SP 800-53 r5 and AWS Solutions packs and this package's Bedrock pack, run on every "
        "resource of the synthesized template; synth fails on any unsuppressed error, and every suppression "
        "names one rule, one resource and a reason.",
        "Check each deployment's configuration against the baseline before it can be deployed.",
    ),
)

#: Types that hang off another resource rather than being used by it.
ATTACHMENT_TYPES = frozenset({
    "AWS::S3::BucketPolicy", "AWS::KMS::Alias", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
    "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress", "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::Route", "AWS::EC2::VPCGatewayAttachment", "AWS::Logs::ResourcePolicy", "AWS::Lambda::Permission",
    "AWS::Logs::SubscriptionFilter", "AWS::Logs::MetricFilter",
})


#: Actions of calling a model (as opposed to administering Bedrock, e.g. configuring invocation logging).
_MODEL_USE = ("bedrock:invoke", "bedrock:converse", "bedrock:applyguardrail", "bedrock-mantle:")


def grants_bedrock(resource: Resource) -> bool:
    """An IAM resource whose statements (Allow or Deny) govern invoking models or applying guardrails."""
    if invoke_allow_statements(resource):
        return True
    for statement in policy_statements(resource):
        for action in as_list(statement.get("Action")):
            if str(action).lower().startswith(_MODEL_USE):
                return True
    return False


def _is_custom(resource: Resource) -> bool:
    return resource.type.startswith("Custom::") or resource.type == "AWS::CloudFormation::CustomResource"


def configures_invocation_logging(resource: Resource) -> bool:
    """The Bedrock pack's test, or any custom resource calling ``PutModelInvocationLoggingConfiguration``."""
    return is_invocation_logging(resource) or (
        _is_custom(resource) and "ModelInvocationLoggingConfiguration" in json.dumps(resource.properties))


_ANCHORS: dict[str, Callable[[Resource], bool]] = {
    "private-link": lambda r: r.type.startswith("AWS::EC2::"),
    "model-access": lambda r: r.type.startswith("AWS::IAM::") and grants_bedrock(r),
    # Tamper detection (EventBridge rules on CloudTrail records, their topic and key) is the trail's alarm side.
    "audit-trail": lambda r: r.type.startswith(("AWS::CloudTrail::", "AWS::Events::Rule")),
    "invocation-logging": configures_invocation_logging,
    "guardrail": lambda r: r.type.startswith(("AWS::Bedrock::Guardrail", "AWS::Bedrock::EnforcedGuardrail")),
    "organization": lambda r: r.type in ("AWS::Organizations::Policy", "AWS::CloudFormation::StackSet",
                                         "AWS::Bedrock::ResourcePolicy"),
}

#: Stack-level Bedrock rules and the component whose presence they check.
STACK_RULES = {
    "Bedrock-RuntimeEndpointPresent": "private-link",
    "Bedrock-InvocationLoggingConfigured": "invocation-logging",
    "Bedrock-OneTrailPerAccount": "audit-trail",
    "Bedrock-OneGuardrailEnforcementPerRegion": "guardrail",
    "Bedrock-OneInvocationLoggingPerRegion": "invocation-logging",
    "Bedrock-OrgScpDeniesApiKeys": "organization",
    "Bedrock-OrgScpInferenceOnlyViaEndpoints": "organization",
    "Bedrock-OrgScpUnguardedInferenceRestricted": "organization",
    "Bedrock-OrgRcpAuditResources": "organization",
    "Bedrock-OrgAuditPlaneProtected": "organization",
    "Bedrock-OrgGuardrailPolicy": "organization",
}


def component_members(stack: StackEvidence) -> dict[str, list[str]]:
    """Component id -> logical ids of its resources (sorted); every component present, maybe empty."""
    if stack._component_members is None:  # the OSCAL document asks once per component
        stack._component_members = _component_members(stack)
    return {c: list(m) for c, m in stack._component_members.items()}


def _component_members(stack: StackEvidence) -> dict[str, list[str]]:
    resources = {r.logical_id: r for r in stack.resources}
    refs = {lid: set(stack.references(lid)) for lid in resources}
    anchors: dict[str, set[str]] = {c.id: set() for c in COMPONENTS}
    for lid, resource in resources.items():
        for component, test in _ANCHORS.items():
            if test(resource):
                anchors[component].add(lid)
                break
    # A stack of audit storage only (a cross-region replica of the audit buckets): its Object-Locked
    # buckets are the audit trail's, and keys and policies follow them below.
    trails = [lid for lid in anchors["audit-trail"] if resources[lid].type.startswith("AWS::CloudTrail::")]
    if not trails and not anchors["invocation-logging"]:
        for lid, resource in resources.items():
            if resource.type == "AWS::S3::Bucket" and resource.properties.get("ObjectLockEnabled") is True:
                anchors["audit-trail"].add(lid)
    # A role that attaches a model-access policy is model access too.
    for lid, resource in resources.items():
        if resource.type == "AWS::IAM::Role" and refs[lid] & anchors["model-access"]:
            anchors["model-access"].add(lid)
    anchored = {lid for members in anchors.values() for lid in members}
    members = {c: set(a) for c, a in anchors.items()}
    changed = True
    while changed:
        changed = False
        for component in (c.id for c in COMPONENTS):
            own = members[component]
            for lid in sorted(own):
                for target in refs[lid] - own:
                    if target not in anchored:
                        own.add(target)
                        changed = True
            for lid in sorted(resources):
                if lid in own or lid in anchored:
                    continue
                pulls = resources[lid].type in ATTACHMENT_TYPES or _is_custom(resources[lid])
                if pulls and refs[lid] & own:
                    own.add(lid)
                    changed = True
    # Whatever is still unassigned (a queue policy, a Lambda event config ...) joins what it points at.
    assigned = {lid for m in members.values() for lid in m}
    for lid in sorted(set(resources) - assigned):
        for component in (c.id for c in COMPONENTS):
            if refs[lid] & members[component]:
                members[component].add(lid)
    return {c: sorted(m) for c, m in members.items()}
