"""IAM rules: invoke only named models, only with the guardrail, only through the endpoint."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, literal_strings, policy_statements

_INVOKE_ACTIONS = ("bedrock:invokemodel", "bedrock:invokemodelwithresponsestream")
_IAM_TYPES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")


def _grants_invoke(statement: dict) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return True  # Allow + NotAction grants everything not listed, invoke included
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(fnmatchcase(target, action) for action in actions for target in _INVOKE_ACTIONS)


def invoke_allow_statements(resource: Resource) -> list[dict]:
    """The Allow statements of an IAM resource that grant Bedrock model invocation."""
    return [s for s in policy_statements(resource) if _grants_invoke(s)]


def _every_invoke_grant_requires(resource: Resource, key: str) -> Compliance:
    """COMPLIANT when every invoke Allow carries ``StringEquals <key>``; N/A without invoke grants."""
    statements = invoke_allow_statements(resource)
    if not statements:
        return Compliance.NOT_APPLICABLE
    ok = all(any(k.lower() == key.lower() for k in ((s.get("Condition") or {}).get("StringEquals") or {}))
             for s in statements)
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


@rule(
    "InvokeScopedToModels",
    controls=("AC-3", "AC-6", "AC-6(10)"),
    explanation="An IAM statement allows Bedrock model invocation with wildcard actions or resources "
                "instead of named actions on named model ARNs",
    fix="Grant through BedrockModelAccess, which names bedrock:InvokeModel/InvokeModelWithResponseStream on model ARNs",
    resource_types=_IAM_TYPES,
)
def invoke_scoped_to_models(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    statements = invoke_allow_statements(resource)
    if not statements:
        return Compliance.NOT_APPLICABLE
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            return Compliance.NON_COMPLIANT
        if any("*" in str(a) for a in as_list(statement.get("Action"))):
            return Compliance.NON_COMPLIANT
        resources = literal_strings(statement.get("Resource"))
        if not resources or any("*" in r for r in resources):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


@rule(
    "InvokeRequiresGuardrail",
    controls=("SI-10", "AC-3", "AC-4"),
    explanation="An IAM statement allows Bedrock model invocation without requiring a guardrail "
                "(StringEquals bedrock:GuardrailIdentifier)",
    fix="Grant through BedrockModelAccess with the guardrail's versioned ARN; for roles Bedrock assumes "
        "itself, suppress with the reason",
    resource_types=_IAM_TYPES,
)
def invoke_requires_guardrail(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    return _every_invoke_grant_requires(resource, "bedrock:GuardrailIdentifier")


@rule(
    "InvokeRequiresVpcEndpoint",
    controls=("SC-7", "AC-4", "AC-17"),
    explanation="An IAM statement allows Bedrock model invocation from anywhere rather than only through "
                "the VPC endpoint (StringEquals aws:SourceVpce)",
    fix="Grant through BedrockModelAccess with runtime_endpoint; for roles Bedrock assumes itself, suppress with the reason",
    resource_types=_IAM_TYPES,
)
def invoke_requires_vpc_endpoint(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    return _every_invoke_grant_requires(resource, "aws:SourceVpce")
