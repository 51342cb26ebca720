"""IAM rules: invoke only named models, only with the guardrail, only through the endpoint; unguarded
paths (bedrock-mantle, runtime OpenAI-compatible APIs) only where an environment accepted the risk."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase

from ..pack import Compliance, RuleContext, rule
from ..template import DEPLOY_TIME, POLICY_TYPES, Resource, Template, policy_statements, possible_strings

#: Every ``bedrock:`` action that runs model inference, directly or through a Bedrock feature (async invoke
#: authorizes as InvokeModel; agents, flows and RetrieveAndGenerate call models on the caller's behalf;
#: batch jobs; API keys). An Allow of any of them is judged by the invoke rules, not only InvokeModel.
RUNTIME_INFERENCE_ACTIONS = (
    "bedrock:invokemodel", "bedrock:invokemodelwithresponsestream", "bedrock:invokemodelwithbidirectionalstream",
    "bedrock:createmodelinvocationjob", "bedrock:invokeagent", "bedrock:invokeinlineagent", "bedrock:invokeflow",
    "bedrock:retrieveandgenerate", "bedrock:retrieveandgeneratestream", "bedrock:callwithbearertoken",
)
#: ``bedrock-mantle:`` actions that run or continue inference (Managed Agents sessions run it too).
MANTLE_INFERENCE_ACTIONS = (
    "bedrock-mantle:createinference", "bedrock-mantle:getinference", "bedrock-mantle:cancelinference",
    "bedrock-mantle:deleteinference", "bedrock-mantle:createagentsession", "bedrock-mantle:createagentsessionevent",
    "bedrock-mantle:callwithbearertoken",
)
_MODEL_INVOKE = ("bedrock:invokemodel", "bedrock:invokemodelwithresponsestream")
_IAM_TYPES = POLICY_TYPES
#: Condition operators that pin a key to the listed values (not StringLike, not Null, not a negation).
_PINNING = ("stringequals", "stringequalsignorecase", "arnequals")


def grants_any(statement: dict, targets: tuple[str, ...]) -> bool:
    """An Allow statement whose actions (wildcards, NotAction and deploy-time values included) cover a target."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return True  # Allow + NotAction grants everything not listed
    actions = [a.lower() for a in possible_strings(statement.get("Action"))]
    return any(action == DEPLOY_TIME or fnmatchcase(target, action) for action in actions for target in targets)


def invoke_allow_statements(resource: Resource) -> list[dict]:
    """The Allow statements of an IAM resource that grant any bedrock-runtime inference-bearing action."""
    return [s for s in policy_statements(resource) if grants_any(s, RUNTIME_INFERENCE_ACTIONS)]


def mantle_allow_statements(resource: Resource) -> list[dict]:
    """The Allow statements of an IAM resource that grant bedrock-mantle inference."""
    return [s for s in policy_statements(resource) if grants_any(s, MANTLE_INFERENCE_ACTIONS)]


def _could_be_project(statement: dict, template: Template) -> bool:
    """Its resources could include a bedrock ``project/`` (the OpenAI-compatible APIs' second resource)."""
    if "NotResource" in statement:
        return True
    return any(":project/" in r or template.is_open(r) for r in possible_strings(statement.get("Resource")))


def opens_runtime_openai_api(statement: dict, template: Template) -> bool:
    """A model-invoke Allow that lets runtime Responses/Chat Completions through: it could cover a project and
    pins no guardrail (those calls carry none), or it is scoped to project calls (``bedrock:ProjectArn``)."""
    if not grants_any(statement, _MODEL_INVOKE):
        return False
    if pinned_values(statement, "bedrock:ProjectArn"):
        return True
    return _could_be_project(statement, template) and not pinned_values(statement, "bedrock:GuardrailIdentifier")


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
                                 valid: Callable[[str], bool] = lambda v: True,
                                 skip: Callable[[dict], bool] = lambda s: False) -> Compliance:
    """COMPLIANT when every invoke Allow (but those ``skip`` names) pins ``key`` to values that are named (no
    wildcard, no parameter) and ``valid``; N/A without invoke grants."""
    statements = [s for s in invoke_allow_statements(resource) if not skip(s)]
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
    risk_decision=True,
    controls=("SI-10", "AC-3", "AC-4"),
    explanation="An IAM statement allows Bedrock model invocation without requiring a published guardrail "
                "version (StringEquals bedrock:GuardrailIdentifier <guardrail ARN>:<version>)",
    fix="Grant through BedrockModelAccess with the guardrail's versioned ARN; for roles Bedrock assumes "
        "itself, suppress with the reason",
    resource_types=_IAM_TYPES,
)
def invoke_requires_guardrail(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    # A grant scoped to project calls (runtime Responses/Chat Completions, which no guardrail covers) is judged
    # by UnguardedInferencePath, which only an environment's written risk acceptance can suppress.
    return _every_invoke_grant_requires(
        resource, template, "bedrock:GuardrailIdentifier", _versioned_guardrail,
        skip=lambda s: bool(_named(pinned_values(s, "bedrock:ProjectArn"), template)
                            or _only_named_projects(s, template)))


def _named(values: list[str] | None, template: Template) -> list[str]:
    return [v for v in values or [] if not template.is_open(v)] if values and not any(
        template.is_open(v) for v in values) else []


def _only_named_projects(statement: dict, template: Template) -> bool:
    resources = possible_strings(statement.get("Resource"))
    return bool(resources) and "NotResource" not in statement and all(
        ":project/" in r and not template.is_open(r) for r in resources) and grants_only_model_invoke(statement)


def grants_only_model_invoke(statement: dict) -> bool:
    actions = [a.lower() for a in possible_strings(statement.get("Action"))]
    return bool(actions) and "NotAction" not in statement and all(a in _MODEL_INVOKE for a in actions)


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


@rule(
    "UnguardedInferencePath",
    risk_decision=True,
    controls=("SI-10", "AC-3", "AU-12"),
    explanation="An IAM statement allows inference on a path no Bedrock guardrail covers: bedrock-mantle inference "
                "or Managed Agents sessions (also outside model invocation logging), or bedrock-runtime's "
                "OpenAI-compatible Responses/Chat Completions APIs (bedrock:InvokeModel on a project)",
    fix="Reach the model through runtime Converse with the guardrail; or accept the path's risk in the environment "
        "(accept_unguarded.<mantle|runtime-openai>: {reason, compensating, approved_by}; BedrockModelAccess "
        "accept_unguarded), which becomes this rule's suppression reason",
    resource_types=_IAM_TYPES,
)
def unguarded_inference_path(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    statements = list(policy_statements(resource))
    if any(grants_any(s, MANTLE_INFERENCE_ACTIONS) or opens_runtime_openai_api(s, template) for s in statements):
        return Compliance.NON_COMPLIANT
    if any(grants_any(s, RUNTIME_INFERENCE_ACTIONS) for s in statements):
        return Compliance.COMPLIANT  # inference granted, on guarded paths only
    return Compliance.NOT_APPLICABLE


@rule(
    "MantleInferenceScoped",
    controls=("AC-3", "AC-6", "SC-7"),
    explanation="An IAM statement allows bedrock-mantle inference without naming the project (a wildcard or the "
                "account's default project), without pinning bedrock-mantle:Model to named models, or without "
                "requiring the Mantle VPC endpoint (aws:SourceVpce)",
    fix="Grant through BedrockModelAccess mantle_model_ids with a MantleProject and the bedrock-mantle endpoint",
    resource_types=_IAM_TYPES,
)
def mantle_inference_scoped(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    statements = mantle_allow_statements(resource)
    if not statements:
        return Compliance.NOT_APPLICABLE
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            return Compliance.NON_COMPLIANT
        actions = possible_strings(statement.get("Action"))
        resources = possible_strings(statement.get("Resource"))
        if any(template.is_open(a) for a in actions) or not resources:
            return Compliance.NON_COMPLIANT
        if any(template.is_open(r) or r.endswith("project/default") for r in resources):
            return Compliance.NON_COMPLIANT
        creates = grants_any(statement, ("bedrock-mantle:createinference",))
        if creates and not _named(pinned_values(statement, "bedrock-mantle:Model"), template):
            return Compliance.NON_COMPLIANT
        if not _named(pinned_values(statement, "aws:SourceVpce"), template):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT
