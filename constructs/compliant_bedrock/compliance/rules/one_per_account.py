"""What an account has one of, across the app's stacks: its multi-region trail; per region, its enforced guardrail and
its model invocation logging.

The reference app's config refuses two environments that would own the same one (``infra.config``); an own app
has no config, so the gate checks the synthesized stacks instead, for any app: each stack's account and region come
from the assembly manifest (``cdk.Environment``). Why one:

* a second multi-region trail records every event of the account again (data events are paid per trail) and splits
  the record: the evidence names one trail as the account's, the other may select other events, and deleting either
  stack leaves the account with a trail nobody's evidence describes;
* invocation logging is one setting per account and region (``PutModelInvocationLoggingConfiguration`` replaces
  it): the later stack's setting overwrites the earlier's destination, and deleting either stack deletes the setting
  the other's evidence claims;
* an enforced guardrail guards every principal of the account in its region: two stacks enforcing there each claim
  to be the account's enforcement, and deleting either changes what guards the other's calls.

A stack the manifest does not place (environment-agnostic) could deploy to any account of its partition (and any
region): it meets every other owner there, as an environment without ``account`` does in the config check. Alone it
is judged alone. Without the assembly (a lone template, cdk-nag 3.x's plugin) a rule sees its own template only.
"""

from __future__ import annotations

from collections.abc import Callable

from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, possible_strings
from .audit import is_invocation_logging

TRAIL = "multi-region trail"
ENFORCEMENT = "enforced guardrail"
INVOCATION_LOGGING = "invocation logging"


def _multi_region_trail(resource: Resource) -> bool:
    """A trail that records every region (an organization trail too: it lives in its account)."""
    return resource.type == "AWS::CloudTrail::Trail" and "true" in possible_strings(
        resource.properties.get("IsMultiRegionTrail"))


_KINDS: dict[str, Callable[[Resource], bool]] = {
    TRAIL: _multi_region_trail,
    ENFORCEMENT: lambda r: r.type == "AWS::Bedrock::EnforcedGuardrailConfiguration",
    INVOCATION_LOGGING: is_invocation_logging,
}


def owned(template: Template) -> dict[str, int]:
    """How many of each single thing the template creates (only kinds it has)."""
    counts = {kind: sum(1 for r in template.resources.values() if test(r)) for kind, test in _KINDS.items()}
    return {kind: count for kind, count in counts.items() if count}


def _judge(kind: str, per_region: bool, template: Template, ctx: RuleContext) -> Compliance:
    count = owned(template).get(kind, 0)
    if not count:
        return Compliance.NOT_APPLICABLE
    if count > 1:
        return Compliance.NON_COMPLIANT
    facts = ctx.assembly
    if facts is None or ctx.stack is None:
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT if facts.earlier_owner(ctx.stack, kind, per_region=per_region) else \
        Compliance.COMPLIANT


def _clash(kind: str, per_region: bool, template: Template, ctx: RuleContext) -> str:
    count = owned(template).get(kind, 0)
    where = "account and region" if per_region else "account"
    if count > 1:
        return f"the stack itself creates {count} ({kind}: one per {where})"
    other, why = ctx.assembly.earlier_owner(ctx.stack, kind, per_region=per_region)
    return f"stack {other} creates one too and {why}"


_PLACE = ("give every stack env=cdk.Environment(account=..., region=...) so the gate can tell accounts apart "
          "(an environment-agnostic stack could deploy into any account)")


@rule(
    "OneTrailPerAccount",
    controls=("AU-2", "AU-6", "AU-12"),
    explanation="Another multi-region trail of this app could record the same account (its account is the same, or "
                "either stack names none): one trail per account, so every event is recorded once and the evidence "
                "names the trail that records it",
    fix="Keep AuditTrail in one stack per account and, in the others, declare_trail_coverage(<stack>, trail=<that "
        f"trail's name or ARN>, reason=...); {_PLACE}",
    detail=lambda template, ctx: _clash(TRAIL, False, template, ctx),
)
def one_trail_per_account(template: Template, ctx: RuleContext) -> Compliance:
    return _judge(TRAIL, False, template, ctx)


@rule(
    "OneGuardrailEnforcementPerRegion",
    controls=("AC-3", "SI-10", "CM-6"),
    explanation="Another stack of this app could enforce a guardrail in the same account and region (the same "
                "account and region, or either stack names none): one enforced guardrail per account and region, so "
                "the evidence names the guardrail that guards every call there",
    fix="Enforce in one stack per account and region; in the others BedrockGuardrail(enforce_account_level=False) "
        "and suppress_stack_rule(<stack>, 'Bedrock-GuardrailEnforcedAccountLevel', reason=<the stack that enforces>); "
        f"{_PLACE}",
    detail=lambda template, ctx: _clash(ENFORCEMENT, True, template, ctx),
)
def one_guardrail_enforcement_per_region(template: Template, ctx: RuleContext) -> Compliance:
    return _judge(ENFORCEMENT, True, template, ctx)


@rule(
    "OneInvocationLoggingPerRegion",
    controls=("AU-2", "AU-9", "AU-12"),
    explanation="Another stack of this app could configure model invocation logging in the same account and region "
                "(the same account and region, or either stack names none): it is one setting per account and region, "
                "so the later deployment overwrites where the earlier one's logs go, and deleting either stack deletes "
                "the other's",
    fix="Keep ModelInvocationLogging in one stack per account and region; in the others suppress_stack_rule(<stack>, "
        f"'Bedrock-InvocationLoggingConfigured', reason=<the stack that configures it>); {_PLACE}",
    detail=lambda template, ctx: _clash(INVOCATION_LOGGING, True, template, ctx),
)
def one_invocation_logging_per_region(template: Template, ctx: RuleContext) -> Compliance:
    return _judge(INVOCATION_LOGGING, True, template, ctx)
