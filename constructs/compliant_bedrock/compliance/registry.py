"""The suppression registry: the one policy every suppression is held to, whatever wrote it.

Suppressions are written as cdk-nag metadata on the one CloudFormation resource they concern
(never by path string, never stack-wide for a resource rule), so cdk-nag honours them, the
Bedrock pack reads the same metadata, and every report lists them with their reasons.

One registry, whatever the route. ``suppress()``, cdk-nag 2's ``NagSuppressions`` (by construct or by path),
hand-written ``cdk_nag`` metadata: all of them end as ``cdk_nag.rules_to_suppress`` metadata in the synthesized
template, and :func:`check_template` holds every entry there to the same policy before any rule is judged (the gate,
``run_bedrock_pack`` and the cdk-nag 3 plugin all call it through ``pack.evaluate``): a known rule id, a reason of at
least eight words with no placeholder, as narrow as the finding (a resource rule never suppressed stack-wide). Rules
whose acceptance is a risk decision (``Rule.risk_decision``: an unguarded inference path, account guardrail
enforcement off, GOVERNANCE Object Lock ...) take only a :class:`RiskAcceptance` (reason, compensating controls,
approver, expiry) written by ``compliance.suppressions.accept_risk``; a plain suppression of one fails synth naming that form, and so does
a plain reason that claims an approver (only a structured acceptance is filed as "risk-accepted").
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

from ..errors import CompliantBedrockError
from .pack import PACK_NAME, RULES

#: Packs whose rule ids are accepted (NIST ids are also checked against the shipped rule list).
KNOWN_PREFIXES = ("NIST.800.53.R5-", "AwsSolutions-", "HIPAA.Security-", "PCI.DSS.321-", f"{PACK_NAME}-")
#: cdk-nag's id for "this rule threw while evaluating the resource"; suppressed per rule via applies_to.
VALIDATION_FAILURE = "CdkNagValidationFailure"
MIN_REASON_WORDS = 8
_HOLLOW = re.compile(r"\b(todo|tbd|fixme|temporary|temp fix|ignore|not needed|n/a|xxx|placeholder|changeme|"
                     r"lorem ipsum)\b|<[^<>]*>", re.IGNORECASE)
#: Template metadata key of the structured acceptances (``compliance.suppressions.accept_risk``), per resource or per stack.
RISK_METADATA = "compliant_bedrock:risk_acceptances"
#: A reason that names who approved it: what the evidence files as "risk-accepted" (``evidence.objectives``).
_CLAIMS_APPROVER = re.compile(r"\b(?:approved|accepted|signed off) by\b", re.IGNORECASE)


class SuppressionError(CompliantBedrockError):
    """A suppression an auditor could not accept."""


@cache
def nist_rules() -> dict[str, str]:
    """cdk-nag's NIST 800-53 r5 rule ids -> control ids (data shipped from cdk-nag's sources)."""
    text = resources.files(__package__).joinpath("data/cdk-nag-nist-800-53-r5-rules.tsv").read_text("utf-8")
    return {row["rule_id"]: row["control_ids"] for row in csv.DictReader(text.splitlines(), delimiter="\t")}


def today() -> date:
    """The date acceptances are judged on: SOURCE_DATE_EPOCH when set (reproducible evidence), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit() and int(epoch) > 0:
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


def hollow(text: str) -> bool:
    """Fewer than ``MIN_REASON_WORDS`` words, fewer than five different ones, or a placeholder (TODO, <reason> ...)."""
    words = text.split()
    return (len(words) < MIN_REASON_WORDS or len({w.lower().strip(".,;:") for w in words}) < 5
            or bool(_HOLLOW.search(text)))


@dataclass(frozen=True)
class RiskAcceptance:
    """A risk decision on a finding: why, what compensates, who approved it, and until when.

    The only form a rule with ``risk_decision`` accepts (``compliance.suppressions.accept_risk``), and the only suppression the evidence
    files as "risk-accepted" (with approver and expiry, a POA&M item). ``expires``: ``YYYY-MM-DD``; an expired
    acceptance fails synth (judged on ``SOURCE_DATE_EPOCH`` when set), so every acceptance is reviewed again.
    """

    #: Why the risk is acceptable (at least 8 words).
    reason: str
    #: What stands in for the missing control (at least 8 words).
    compensating: str
    #: Who accepted the risk, and the decision record (e.g. ``AO, risk acceptance RA-2026-031``).
    approved_by: str
    #: Until when the acceptance holds (``YYYY-MM-DD``); required.
    expires: str = ""

    def __post_init__(self) -> None:
        problems = acceptance_problems(self.reason, self.compensating, self.approved_by, self.expires)
        if problems:
            raise SuppressionError(f"RiskAcceptance: {'; '.join(problems)}")

    def text(self, what: str) -> str:
        """The suppression reason: ``<what> accepted by <who> until <date>: <reason> Compensating controls: ...``."""
        return (f"{what} accepted by {self.approved_by} until {self.expires}: {self.reason} "
                f"Compensating controls: {self.compensating}")

    def record(self, rule_id: str, what: str) -> dict[str, str]:
        return {"rule_id": rule_id, "what": what, "reason": self.reason, "compensating": self.compensating,
                "approved_by": self.approved_by, "expires": self.expires}


def acceptance_problems(reason: str, compensating: str, approved_by: str, expires: str) -> list[str]:
    """What makes a risk acceptance one an auditor cannot file, field by field (empty: none)."""
    problems = []
    if hollow(reason):
        problems.append(f"reason {reason!r}: say in at least {MIN_REASON_WORDS} words why the risk is acceptable")
    if hollow(compensating):
        problems.append(f"compensating {compensating!r}: say in at least {MIN_REASON_WORDS} words what stands in "
                        "for the control")
    if len(approved_by.split()) < 2 or _HOLLOW.search(approved_by):
        problems.append(f"approved_by {approved_by!r}: name who accepted the risk and the decision record "
                        "(e.g. 'AO, risk acceptance RA-2026-031')")
    try:
        until = date.fromisoformat(str(expires))
    except ValueError:
        problems.append(f"expires {expires!r} is not a date (YYYY-MM-DD); every acceptance ends and is reviewed again")
    else:
        if until < today():
            problems.append(f"expired on {expires}; fix the finding or renew the acceptance with a new approval")
    return problems


def _check(rule_id: str, reason: str) -> None:
    if not rule_id.startswith(KNOWN_PREFIXES):
        raise SuppressionError(f"suppression rule id {rule_id!r} is not from a known pack ({', '.join(KNOWN_PREFIXES)})")
    if rule_id.startswith("NIST.800.53.R5-") and rule_id not in nist_rules():
        raise SuppressionError(f"suppression rule id {rule_id!r} is not a cdk-nag NIST 800-53 r5 rule (a typo?)")
    if rule_id.startswith(f"{PACK_NAME}-") and rule_id not in RULES:
        raise SuppressionError(f"suppression rule id {rule_id!r} is not a rule of the {PACK_NAME} pack")
    if hollow(reason):
        raise SuppressionError(
            f"suppression of {rule_id}: reason {reason!r} is not one an auditor can accept; say in at least "
            f"{MIN_REASON_WORDS} words why the risk is absent or mitigated, and by what"
        )


def _plain(rule_id: str, reason: str, where: str) -> None:
    """A plain suppression: the registry's policy, and never one that a risk decision needs."""
    rule_ = RULES.get(rule_id)
    if rule_ is not None and rule_.risk_decision:
        raise SuppressionError(
            f"{where}: {rule_id} is a risk decision and takes only a structured acceptance, not a plain "
            f"suppression: {structured_form(rule_id)}")
    _check(rule_id, reason)
    if _CLAIMS_APPROVER.search(reason):
        raise SuppressionError(
            f"{where}: the reason for {rule_id} names an approver, but a plain suppression is not a risk acceptance "
            f"(it has no compensating controls, no expiry): {structured_form(rule_id)}; or say why the risk is "
            "absent without naming an approver")


def structured_form(rule_id: str) -> str:
    """How to accept a risk: the construct call and, for the reference app, the configuration key."""
    config = {"Bedrock-UnguardedInferencePath": "accept_unguarded.<path>",
              "Bedrock-InvokeRequiresGuardrail": "accept_unguarded.<path>",
              "Bedrock-GuardrailEnforcedAccountLevel": "guardrail.no_account_enforcement",
              "Bedrock-AuditObjectLockCompliance": "object_lock.governance_acceptance"}.get(rule_id)
    form = (f"accept_risk(<construct>, '{rule_id}', RiskAcceptance(reason=..., compensating=..., "
            "approved_by=..., expires='YYYY-MM-DD'))")
    return form + (f" (reference app config: {config}: {{reason, compensating, approved_by, expires}})"
                   if config else "")


# ---------------------------------------------------------------------------------------------
# The registry over a synthesized template (every route ends here)


def _entries(metadata: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in ((metadata.get("cdk_nag") or {}).get("rules_to_suppress")) or []:
        if isinstance(entry, dict):
            yield entry


def _structured(metadata: Mapping[str, Any], rule_id: str, where: str) -> list[dict[str, Any]]:
    records = [r for r in (metadata.get(RISK_METADATA) or []) if isinstance(r, dict) and r.get("rule_id") == rule_id]
    for r in records:
        problems = acceptance_problems(str(r.get("reason", "")), str(r.get("compensating", "")),
                                       str(r.get("approved_by", "")), str(r.get("expires", "")))
        if problems:
            raise SuppressionError(f"{where}: risk acceptance of {rule_id}: {'; '.join(problems)}")
    return records


def check_template(template: Any) -> None:
    """Hold every suppression in a synthesized template to the registry's policy (module docstring); raise
    :class:`SuppressionError` naming the stack, the resource, the rule and the fix for the first that fails."""
    scopes = [(template.name, template.metadata, True)]
    scopes += [(f"{template.name}/{r.path}", r.metadata, False) for r in template.resources.values()]
    for where, metadata, stack_wide in scopes:
        for entry in _entries(metadata):
            rule_id, reason = str(entry.get("id", "")), str(entry.get("reason", ""))
            rule_ids = [str(a) for a in entry.get("applies_to") or [] if isinstance(a, str)] \
                if rule_id == VALIDATION_FAILURE else [rule_id]
            if rule_id == VALIDATION_FAILURE and not rule_ids:
                raise SuppressionError(f"{where}: a {VALIDATION_FAILURE} suppression must name the rules that could "
                                       "not be evaluated (applies_to); never every rule of every pack")
            for each in rule_ids:
                rule_ = RULES.get(each)
                if stack_wide and rule_ is not None and rule_.resource_types:
                    raise SuppressionError(
                        f"{where}: {each} is suppressed for the whole stack, but it is a resource rule: suppress it "
                        "on the resource it concerns (suppress(<construct>, ...)), as narrow as the finding")
                if _structured(metadata, each, where):
                    _check(each, reason)
                    continue
                try:
                    _plain(each, reason, where)
                except SuppressionError as err:
                    raise SuppressionError(f"{err} (suppressions are checked whatever wrote them: "
                                           "NagSuppressions, suppress(), or metadata)") from None
