"""The Bedrock rule pack: what cdk-nag does not check, in cdk-nag's shape.

Each rule is one small pure function of a resource (or of the whole template, for "is there
one?" rules) returning COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE, registered with its id, the
NIST SP 800-53 r5 controls it evidences, an explanation and the fix. Rules read the synthesized
template, so they judge exactly what CloudFormation will deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .template import Template

PACK_NAME = "Bedrock"


class Compliance(str, Enum):
    COMPLIANT = "Compliant"
    NON_COMPLIANT = "Non-Compliant"
    NOT_APPLICABLE = "N/A"
    #: The rule threw on this resource (a shape it does not know): not known to pass, so it blocks,
    #: as cdk-nag's UNKNOWN does in the gate.
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class RuleContext:
    """Settings rules compare against (from the environment's config)."""

    #: Shortest retention of a log group, in days (OMB M-21-31: 12 months in active storage).
    min_log_retention_days: int = 365
    #: Shortest default Object Lock retention of an audit bucket (OMB M-21-31: 12 months active).
    min_object_lock_days: int = 365
    #: The stack being judged and what the gate read from the rest of the assembly (``assembly_facts``): the
    #: trails and organization SCPs a rule about one template needs. None: the template alone.
    stack: str | None = None
    #: What the gate read from the whole assembly for ``stack`` (``compliance.assembly_facts``); None: nothing.
    assembly: Any = None


@dataclass(frozen=True)
class Rule:
    id: str
    controls: tuple[str, ...]
    explanation: str
    fix: str
    #: CloudFormation types the rule checks; empty for a stack-level rule.
    resource_types: tuple[str, ...]
    check: Callable[..., Compliance]
    #: Called with the check's arguments when it fails: what exactly failed (which statement, which key ...).
    detail: Callable[..., str] | None = None
    #: Accepting a failure is a risk decision (an unguarded path, enforcement off ...): only a structured
    #: ``RiskAcceptance`` (reason, compensating, approver, expiry) suppresses it, never a plain reason.
    risk_decision: bool = False

    @property
    def info(self) -> str:
        return self.info_with(None)

    def info_with(self, detail: str | None) -> str:
        """The report's rule info; a failure's detail follows the explanation, before the control ids."""
        what = f"{self.explanation}: {detail}" if detail else self.explanation
        return f"{what} - (Control IDs: {', '.join(self.controls)})."


def rule(name: str, *, controls: tuple[str, ...], explanation: str, fix: str,
         resource_types: tuple[str, ...] = (), detail: Callable[..., str] | None = None,
         risk_decision: bool = False) -> Callable[[Callable[..., Compliance]], Callable[..., Compliance]]:
    """Declare a rule on its check function. ``resource_types`` empty: ``check(template, ctx)``; else
    ``check(resource, template, ctx)``. ``detail`` (same arguments) says what failed, for the report.
    Nothing is registered by importing: the pack is the rule modules ``compliance.rules.MODULES`` names,
    read when the registry is first used (``RULES``). ``risk_decision``: its finding is accepted only by a structured
    risk acceptance (``suppressions.accept_risk``)."""

    def declare(check: Callable[..., Compliance]) -> Callable[..., Compliance]:
        check.rule = Rule(f"{PACK_NAME}-{name}", controls, explanation, fix, resource_types, check,  # type: ignore[attr-defined]
                          detail, risk_decision)
        return check

    return declare


class _Registry(Mapping[str, "Rule"]):
    """Rule id -> rule, built once from the modules ``compliance.rules.MODULES`` lists, in their order."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] | None = None

    def _load(self) -> dict[str, Rule]:
        if self._rules is None:
            from .rules import MODULES

            rules: dict[str, Rule] = {}
            for module in MODULES:
                for value in vars(module).values():
                    declared = getattr(value, "rule", None)
                    if isinstance(declared, Rule) and declared.check is value:
                        if declared.id in rules:
                            raise ValueError(f"duplicate rule id {declared.id} (in {module.__name__})")
                        rules[declared.id] = declared
            self._rules = rules
        return self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        return self._load()[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


#: Every rule of the Bedrock pack, by id.
RULES: Mapping[str, Rule] = _Registry()


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    resource_path: str
    compliance: Compliance
    suppression_reason: str | None = None
    #: What exactly failed (rules that declare ``detail``), else None.
    detail: str | None = None

    def report_line(self) -> dict[str, Any]:
        """One line in cdk-nag's JSON report schema, so one reader handles both packs."""
        rule_ = RULES[self.rule_id]
        compliance = "Suppressed" if self.suppression_reason else self.compliance.value
        return {
            "ruleId": self.rule_id,
            "resourceId": self.resource_path,
            "compliance": compliance,
            "exceptionReason": self.suppression_reason or "N/A",
            "ruleLevel": "Error",
            "ruleInfo": rule_.info_with(self.detail),
        }


def _suppressions(metadata: dict[str, Any]) -> dict[str, str]:
    """Rule id -> reason from cdk-nag's suppression metadata (the one registry both packs honour)."""
    entries = ((metadata.get("cdk_nag") or {}).get("rules_to_suppress")) or []
    return {str(e.get("id")): str(e.get("reason", "")) for e in entries if isinstance(e, dict)}


def evaluate(template: Template, ctx: RuleContext | None = None) -> list[RuleResult]:
    """Run every rule over a template; suppressed non-compliance is marked, not dropped. Every suppression in the
    template is first held to the one registry (``suppressions.check_template``: raises ``SuppressionError``)."""
    from .registry import check_template  # the registry imports this module

    check_template(template)
    ctx = ctx or RuleContext()
    stack_suppressions = _suppressions(template.metadata)
    results: list[RuleResult] = []
    for rule_ in RULES.values():
        if not rule_.resource_types:
            outcome = _run(rule_, template, ctx)
            reason = stack_suppressions.get(rule_.id) if outcome in _FAILING else None
            detail = _detail(rule_, template, ctx) if outcome is Compliance.NON_COMPLIANT else None
            results.append(RuleResult(rule_.id, template.name, outcome, reason, detail))
            continue
        for resource in template.of_type(*rule_.resource_types):
            outcome = _run(rule_, resource, template, ctx)
            if outcome is Compliance.NOT_APPLICABLE:
                continue
            reason = detail = None
            if outcome in _FAILING:
                reason = _suppressions(resource.metadata).get(rule_.id) or stack_suppressions.get(rule_.id)
                detail = _detail(rule_, resource, template, ctx) if outcome is Compliance.NON_COMPLIANT else None
            results.append(RuleResult(rule_.id, resource.path, outcome, reason, detail))
    return results


_FAILING = (Compliance.NON_COMPLIANT, Compliance.UNKNOWN)


def _detail(rule_: Rule, *args: Any) -> str | None:
    """A failure's detail; a detail function that throws only loses the detail, never the finding."""
    if rule_.detail is None:
        return None
    try:
        return rule_.detail(*args) or None
    except Exception:  # the finding stands without its detail
        return None


def _run(rule_: Rule, *args: Any) -> Compliance:
    """One rule on one resource; a rule that throws (a property shape it does not know) reports UNKNOWN
    for that resource instead of aborting the pack, and the gate blocks on it."""
    try:
        return rule_.check(*args)
    except Exception:  # any failure of a check means "not known to pass"
        return Compliance.UNKNOWN
