"""Guardrail rules: prompt-attack and PII filters on, encrypted with a CMK, a published version."""

from __future__ import annotations

from ...models import EMBEDDING_MODELS
from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, possible_strings, referenced_ids
from .iam import invoke_allow_statements

_GUARDRAIL = ("AWS::Bedrock::Guardrail",)


@rule(
    "GuardrailPromptAttackHigh",
    controls=("SI-10", "SI-3", "SC-7"),
    explanation="The guardrail does not filter PROMPT_ATTACK at HIGH strength on input",
    fix="Add a PROMPT_ATTACK content filter with InputStrength HIGH (the federal_baseline preset does)",
    resource_types=_GUARDRAIL,
)
def guardrail_prompt_attack_high(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    filters = as_list((resource.properties.get("ContentPolicyConfig") or {}).get("FiltersConfig"))
    for f in filters:
        if (f.get("Type") == "PROMPT_ATTACK" and f.get("InputStrength") == "HIGH"
                and f.get("InputEnabled", True) is not False and f.get("InputAction", "BLOCK") == "BLOCK"):
            return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT


@rule(
    "GuardrailPiiFilters",
    controls=("SI-15", "SC-28", "PT-2", "AC-4"),
    explanation="The guardrail has no PII entity filter that blocks or anonymizes, on prompts and on answers",
    fix="Add SensitiveInformationPolicyConfig.PiiEntitiesConfig entries with BLOCK or ANONYMIZE, enabled in "
        "both directions",
    resource_types=_GUARDRAIL,
)
def guardrail_pii_filters(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    policy = resource.properties.get("SensitiveInformationPolicyConfig") or {}
    entities = [e for e in as_list(policy.get("PiiEntitiesConfig")) if isinstance(e, dict)]
    covered = all(any(_pii_acts(e, direction) for e in entities) for direction in ("Input", "Output"))
    return Compliance.COMPLIANT if covered else Compliance.NON_COMPLIANT


def _pii_acts(entity: dict, direction: str) -> bool:
    """Bedrock applies ``InputAction``/``OutputAction`` when given (``Action`` otherwise), only while the
    direction is enabled."""
    if entity.get(f"{direction}Enabled", True) is False:
        return False
    return entity.get(f"{direction}Action", entity.get("Action")) in ("BLOCK", "ANONYMIZE")


@rule(
    "GuardrailCmkEncrypted",
    controls=("SC-28", "SC-28(1)", "SC-12"),
    explanation="The guardrail is not encrypted with a customer-managed KMS key (by key ARN, not alias)",
    fix="Set KmsKeyArn to a customer-managed key's ARN (BedrockGuardrail creates one)",
    resource_types=_GUARDRAIL,
)
def guardrail_cmk_encrypted(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    key = resource.properties.get("KmsKeyArn")
    if key is None:
        return Compliance.NON_COMPLIANT
    if any(":alias/" in s or s.startswith("alias/") or template.is_open(s) for s in possible_strings(key)):
        return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


@rule(
    "GuardrailVersionPublished",
    controls=("CM-2", "CM-3", "SI-10"),
    explanation="The guardrail has no published version, so callers can only use the mutable DRAFT",
    fix="Publish an AWS::Bedrock::GuardrailVersion of it and require that version in IAM",
    resource_types=_GUARDRAIL,
)
def guardrail_version_published(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    for version in template.of_type("AWS::Bedrock::GuardrailVersion"):
        if resource.logical_id in referenced_ids(version.properties.get("GuardrailIdentifier")):
            return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT


@rule(
    "GuardrailEnforcedAccountLevel",
    risk_decision=True,
    controls=("AC-3", "SI-10", "AC-4"),
    explanation="The stack grants Bedrock model invocation but does not enforce a guardrail for the whole account "
                "and region (AWS::Bedrock::EnforcedGuardrailConfiguration with a published version, covering every "
                "granted model, SelectiveContentGuarding COMPREHENSIVE for messages and system prompts), so principals "
                "without "
                "this package's policy invoke models unguarded, and guardContent/input tags shrink what is checked",
    fix="Keep BedrockGuardrail's enforce_account_level on (the default), or, where an organization policy "
        "enforces the guardrail, accept the risk with guardrail.no_account_enforcement: {reason naming that policy, "
        "compensating, approved_by, expires} (accept_risk(<stack>, ...) in an own app)",
)
def guardrail_enforced_account_level(template: Template, ctx: RuleContext) -> Compliance:
    grants = [st for r in template.resources.values() for st in invoke_allow_statements(r)]
    if not grants:
        return Compliance.NOT_APPLICABLE
    # Foundation models the stack grants: enforcement must not leave one of them out.
    granted = {text.rsplit("foundation-model/", 1)[1] for st in grants for text in possible_strings(st.get("Resource"))
               if "foundation-model/" in text}
    # Embedding models are excluded from enforcement by necessity (AWS: their calls fail under it; an embedding has
    # no text answer to guard): a granted one is not an unguarded gap of the enforcement.
    granted -= {m.model_id for m in EMBEDDING_MODELS}
    for enforced in template.of_type("AWS::Bedrock::EnforcedGuardrailConfiguration"):
        p = enforced.properties
        guarding = p.get("SelectiveContentGuarding") or {}
        version = p.get("GuardrailVersion")
        published = version is not None and not any(s.upper() == "DRAFT" for s in possible_strings(version))
        scope = p.get("ModelEnforcement") or {}
        included = set(possible_strings(scope.get("IncludedModels"))) if scope else {"ALL"}
        excluded = set(possible_strings(scope.get("ExcludedModels")))
        covered = all(("ALL" in included or model in included) and model not in excluded for model in granted)
        if (published and covered and p.get("GuardrailIdentifier") is not None
                and guarding.get("Messages") == "COMPREHENSIVE" and guarding.get("System") == "COMPREHENSIVE"):
            return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT
