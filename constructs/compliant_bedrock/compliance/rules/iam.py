"""IAM rules: invoke only named models, only with the guardrail, only through the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase

from ..pack import Compliance, RuleContext, rule
from ..template import DEPLOY_TIME, POLICY_TYPES, Resource, Template, policy_statements, possible_strings

_INVOKE_ACTIONS = ("bedrock:invokemodel", "bedrock:invokemodelwithresponsestream")
_IAM_TYPES = POLICY_TYPES
#: Condition operators that pin a key to the listed values (not StringLike, not Null, not a negation).
_PINNING = ("stringequals", "stringequalsignorecase", "arnequals")


def _grants_invoke(statement: dict) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return True  # Allow + NotAction grants everything not listed, invoke included
    actions = [a.lower() for a in possible_strings(statement.get("Action"))]
    return any(action == DEPLOY_TIME or fnmatchcase(target, action)
               for action in actions for target in _INVOKE_ACTIONS)


def invoke_allow_statements(resource: Resource) -> list[dict]:
    """The Allow statements of an IAM resource that grant Bedrock model invocation."""
    return [s for s in policy_statements(resource) if _grants_invoke(s)]


def pinned_values(statement: dict, key: str) -> list[str] | None:
    """The values a statement's condition pins ``key`` to (StringEquals/ArnEquals), else None."""
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict) or operator.lower().split(":")[-1] not in _PINNING:
            continue
        for name, value in block.items():
            if name.lower() == key.lower():
                return possible_strings(value)
    return None


def _every_invoke_grant_requires(resource: Resource, template: Template, key: str,
                                 valid: Callable[[str], bool] = lambda v: True) -> Compliance:
    """COMPLIANT when every invoke Allow pins ``key`` to values that are named (no wildcard, no
    parameter) and ``valid``; N/A without invoke grants."""
    statements = invoke_allow_statements(resource)
    if not statements:
        return Compliance.NOT_APPLICABLE
    for statement in statements:
        values = pinned_values(statement, key)
        if not values or any(template.is_open(v) or not valid(v) for v in values):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


def _versioned_guardrail(value: str) -> bool:
    """``<guardrail ARN>:<version>``: a bare ARN, or ``:DRAFT``, means the mutable working draft."""
    head, sep, version = value.rpartition(":")
    return bool(sep and head and version) and "/" not in version and version.upper() != "DRAFT"


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
        if any(template.is_open(a) for a in possible_strings(statement.get("Action"))):
            return Compliance.NON_COMPLIANT
        resources = possible_strings(statement.get("Resource"))
        if not resources or any(template.is_open(r) for r in resources):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


@rule(
    "InvokeRequiresGuardrail",
    controls=("SI-10", "AC-3", "AC-4"),
    explanation="An IAM statement allows Bedrock model invocation without requiring a published guardrail "
                "version (StringEquals bedrock:GuardrailIdentifier <guardrail ARN>:<version>)",
    fix="Grant through BedrockModelAccess with the guardrail's versioned ARN; for roles Bedrock assumes "
        "itself, suppress with the reason",
    resource_types=_IAM_TYPES,
)
def invoke_requires_guardrail(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    return _every_invoke_grant_requires(resource, template, "bedrock:GuardrailIdentifier", _versioned_guardrail)


@rule(
    "InvokeRequiresVpcEndpoint",
    controls=("SC-7", "AC-4", "AC-17"),
    explanation="An IAM statement allows Bedrock model invocation from anywhere rather than only through "
                "the VPC endpoint (StringEquals aws:SourceVpce)",
    fix="Grant through BedrockModelAccess with runtime_endpoint; for roles Bedrock assumes itself, suppress with the reason",
    resource_types=_IAM_TYPES,
)
def invoke_requires_vpc_endpoint(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    return _every_invoke_grant_requires(resource, template, "aws:SourceVpce")
