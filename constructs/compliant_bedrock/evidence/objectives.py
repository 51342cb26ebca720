"""The control-objective map: which checks can satisfy a NIST SP 800-53 r5 control, which only support it.

Reviewed data, like the rule pack: ``data/control-objectives.tsv`` says, per control (and statement part
where it matters), which checks show it, with a reason per row:

* ``satisfy``: the checks that can satisfy that control or part: rules of the package's own ``Bedrock``
  pack and request families of the perimeter proof (``perimeter:<prefix>``, the families the request
  matrix assigns to the control). Every other rule citing the control only *supports* it: above all
  cdk-nag's NIST citations, which come from AWS Config conformance packs, which AWS says are not designed
  to ensure compliance. Support alone never yields more than ``partially-satisfied``.
* ``never``: a control no template can show (national-security or classified connections, cross-domain
  solutions, physical protection, manual override, storage on another operating system, ...): never
  claimed, whatever rule cites it.
* ``withdrawn``: an id SP 800-53 r5 withdrew (``data/nist-800-53-r5-catalog.json`` marks them), with what
  replaced it: never claimed itself; the rules citing it count as support for its replacement.

:func:`judge` turns one control's check results into its status; :mod:`.matrix` builds the results
(pack reports, perimeter outcomes, unchecked resources) and applies the caps that span controls (an
enhancement never outranks its base control; a failed gate takes its own controls off).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

#: Kinds of row of ``data/control-objectives.tsv``.
KINDS = ("satisfy", "never", "withdrawn")
#: Prefix of a perimeter request family in the map and in the matrix's rule ids.
PERIMETER = "perimeter:"
#: The Bedrock pack's rules are the only rules that can satisfy a control (see the module docstring).
SATISFYING_PACK_PREFIX = "Bedrock-"
#: Controls the compliance gate itself implements: monitoring, configuration settings, developer testing.
#: A failed gate (an unsuppressed error, an open perimeter path) takes them off, whatever else passed.
GATE_CONTROLS = ("CA-7", "CM-6", "SA-11", "SA-11(1)")
#: A suppression is a risk acceptance only where its reason names who accepted it (configuration such as
#: ``accept_unguarded.<path>.approved_by`` writes it); any other reason is the package's (or the deployer's)
#: own justification: recorded, never an acceptance.
RISK_ACCEPTED = "risk-accepted"
VENDOR_JUSTIFICATION = "vendor-justification"

_ID = re.compile(r"^([A-Z]{2})-(\d+)(?:\((\d+)\))?$")
_WHO = re.compile(r"\b(?:approved|accepted|signed off) by (.+?)(?= (?:on|until) \d{4}-|[,;.():]|$)", re.IGNORECASE)
_WHEN = re.compile(r"(?<!until )\b(\d{4}-\d{2}-\d{2})\b")
#: ``RiskAcceptance.text``'s expiry (``... accepted by <who> until <date>: ...``).
_UNTIL = re.compile(r"\buntil (\d{4}-\d{2}-\d{2})\b")


# ---------------------------------------------------------------------------------------------
# The vendored catalog


@cache
def catalog() -> dict[str, Any]:
    """``data/nist-800-53-r5-catalog.json``: every r5 id with its title; withdrawn ones with what replaced them."""
    text = resources.files("compliant_bedrock.evidence").joinpath("data/nist-800-53-r5-catalog.json").read_text("utf-8")
    return json.loads(text)


def withdrawn_in_catalog(control: str) -> bool:
    return "withdrawn" in catalog()["controls"].get(control, {})


def base_control(control: str) -> str | None:
    """``AC-3(1)`` -> ``AC-3``; None for a base control."""
    match = _ID.match(control)
    return f"{match.group(1)}-{int(match.group(2))}" if match and match.group(3) else None


# ---------------------------------------------------------------------------------------------
# The map


@dataclass(frozen=True)
class Objective:
    control: str
    #: ``-`` (the whole control) or the statement part the checks show (``a``, ``b``).
    part: str
    kind: str
    #: satisfy: the checks; withdrawn: the replacing controls; never: empty.
    checks: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ObjectiveMap:
    rows: tuple[Objective, ...]
    #: control -> part -> checks that can satisfy it.
    satisfiers: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    never: dict[str, str] = field(default_factory=dict)
    #: withdrawn control -> (replacing controls, reason).
    withdrawn: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def role(self, control: str, check: str) -> tuple[str, str | None]:
        """(``satisfies`` and the part, or ``supports`` and None) for ``check`` on ``control``."""
        for part, checks in self.satisfiers.get(control, {}).items():
            if any(matches(pattern, check) for pattern in checks):
                return "satisfies", part
        return "supports", None

    def attached(self, check: str) -> list[str]:
        """Controls whose objective names ``check`` (a Bedrock rule) although the rule may not cite them."""
        return sorted(c for c, parts in self.satisfiers.items() for checks in parts.values() if check in checks)


def matches(pattern: str, check: str) -> bool:
    """A map entry names a rule exactly, or a perimeter request family by prefix (``perimeter:admin.trail``
    names ``perimeter:admin.trail.delete`` and ``perimeter:admin.trail`` itself)."""
    if pattern.startswith(PERIMETER):
        return check == pattern or check.startswith(pattern + ".")
    return check == pattern


@cache
def objective_map() -> ObjectiveMap:
    """The rows of ``data/control-objectives.tsv``."""
    return parse_objectives(
        resources.files("compliant_bedrock.evidence").joinpath("data/control-objectives.tsv").read_text("utf-8"))


def parse_objectives(text: str) -> ObjectiveMap:
    """A control-objective map from its TSV text; ValueError naming the row when one is wrong."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rows: list[Objective] = []
    satisfiers: dict[str, dict[str, tuple[str, ...]]] = {}
    never: dict[str, str] = {}
    withdrawn: dict[str, tuple[tuple[str, ...], str]] = {}
    reasons: dict[str, str] = {}
    for raw in csv.DictReader(lines, delimiter="\t"):
        checks = tuple(c for c in (raw.get("checks") or "").split() if c != "-")
        row = Objective(raw["control"], raw.get("part") or "-", raw["kind"], checks, (raw.get("reason") or "").strip())
        where = f"evidence/data/control-objectives.tsv row {row.control} {row.part}"
        if not _ID.match(row.control):
            raise ValueError(f"{where}: {row.control!r} is not one control id (AU-9 or AU-9(2)); no families or wildcards")
        if row.kind not in KINDS:
            raise ValueError(f"{where}: kind {row.kind!r} is not one of {', '.join(KINDS)}")
        if len(row.reason.split()) < 6:
            raise ValueError(f"{where}: say why (a reason of at least six words)")
        if row.kind == "satisfy":
            if not checks:
                raise ValueError(f"{where}: a satisfy row names the checks that can satisfy it")
            for check in checks:
                if not (check.startswith(SATISFYING_PACK_PREFIX) or check.startswith(PERIMETER)):
                    raise ValueError(f"{where}: {check!r} cannot satisfy a control: only the Bedrock pack's rules and "
                                     "the perimeter proof's request families can; cdk-nag's citations only support")
            parts = satisfiers.setdefault(row.control, {})
            if row.part in parts or (("-" in parts) != (row.part == "-") and parts):
                raise ValueError(f"{where}: duplicate, or a whole-control row next to part rows")
            parts[row.part] = checks
        elif row.kind == "never":
            never[row.control] = row.reason
        else:
            if not checks or not all(_ID.match(c) for c in checks):
                raise ValueError(f"{where}: a withdrawn row names the controls that replaced it")
            withdrawn[row.control] = (checks, row.reason)
        kinds = {r.kind for r in rows if r.control == row.control}
        if kinds and kinds != {row.kind}:
            raise ValueError(f"{where}: a control is either satisfiable, never shown or withdrawn, not two of them")
        reasons[row.control] = (reasons[row.control] + " " if row.control in reasons else "") + (
            f"({row.part}) " if row.part != "-" else "") + row.reason
        rows.append(row)
    return ObjectiveMap(tuple(rows), satisfiers, never, withdrawn, reasons)


# ---------------------------------------------------------------------------------------------
# Suppressions: risk acceptance or justification


def acceptance(reason: str) -> dict[str, str]:
    """``accepted_by``, ``accepted_on`` and ``accepted_until`` where a suppression's reason names them (the registry
    lets only a structured ``RiskAcceptance`` name an approver)."""
    found: dict[str, str] = {}
    if who := _WHO.search(reason):
        found["accepted_by"] = who.group(1).strip()
    if when := _WHEN.search(reason):
        found["accepted_on"] = when.group(1)
    if until := _UNTIL.search(reason):
        found["accepted_until"] = until.group(1)
    return found


def acceptance_kind(reason: str) -> str:
    """``risk-accepted`` when the reason names an approver, else ``vendor-justification``."""
    return RISK_ACCEPTED if "accepted_by" in acceptance(reason) else VENDOR_JUSTIFICATION


# ---------------------------------------------------------------------------------------------
# The perimeter proof's outcomes as check results

#: Outcome verdict -> matrix result.
PERIMETER_RESULTS = {"as-expected": "compliant", "open": "non-compliant", "accepted": "suppressed",
                     "n/a": "not-applicable"}
_FAMILY = re.compile(r"[\[@]")


def perimeter_family(request_id: str) -> str:
    """``workload.invoke[us.anthropic...]@1234/us-east-1`` -> ``perimeter:workload.invoke``."""
    return PERIMETER + _FAMILY.split(request_id, 1)[0]


def perimeter_checks(document: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Family -> {controls, rows} from a ``perimeter-<env>.json`` document: each request a row (its id as the
    resource), ``as-expected`` compliant, ``open`` non-compliant, ``accepted`` suppressed with the acceptance's
    reason and approver, ``n/a`` not applicable."""
    families: dict[str, dict[str, Any]] = {}
    for request in (document or {}).get("requests", []):
        family = families.setdefault(perimeter_family(request["id"]), {"controls": [], "rows": [], "rationale": ""})
        family["controls"] = sorted({*family["controls"], *request.get("controls", [])})
        family["rationale"] = family["rationale"] or request.get("rationale", "")
        result = PERIMETER_RESULTS.get(request.get("verdict", ""), "error")
        row: dict[str, Any] = {"resource": request["id"], "label": request["id"], "logical_id": None, "type": None,
                               "result": result}
        if result == "suppressed":  # an acceptance of the proof always names its approver (load_acceptances)
            row["acceptance"] = RISK_ACCEPTED
            who, until = request.get("accepted_by") or "", request.get("accepted_until") or ""
            row["reason"] = (request.get("accepted_reason") or "") + (f" (accepted by {who})" if who else "")
            row.update({k: v for k, v in (("accepted_by", who), ("accepted_until", until)) if v})
        families[perimeter_family(request["id"])] = family
        family["rows"].append(row)
    return families


# ---------------------------------------------------------------------------------------------
# One control's status


#: How far each status claims the control (an enhancement is capped at its base's rank).
RANK = {"satisfied-by-automated-check": 5, "partially-satisfied": 4, "not-assessed-by-automation": 3,
        "risk-accepted": 2, "not-satisfied": 1}


@dataclass
class Verdict:
    status: str
    #: Sentences for the matrix's ``why``, most important first.
    notes: list[str] = field(default_factory=list)


def _on(refs: Iterable[Mapping[str, Any]], test: Any) -> list[str]:
    out = []
    for ref in refs:
        names = sorted({r["resource"].split("/", 1)[-1] for r in ref.get("results", []) if test(r)})
        if names:
            out.append(f"{ref['rule']} on {', '.join(names)}")
    return out


def judge(control: str, refs: Sequence[Mapping[str, Any]], scope: str, not_checked: str) -> Verdict:
    """The status of ``control`` from its check references (``rule``, ``role``, ``part``, ``results`` rows with
    ``result`` and, for a suppressed one, ``acceptance``; ``unchecked``: resources the rule never saw) and its
    scope (``data/controls.tsv``).

    In order: a withdrawn id is never claimed; a failed or unevaluated (UNKNOWN) result makes it not
    satisfied; a risk acceptance (an approver named) makes it risk-accepted; a control no template shows is not
    assessed; then what passed: satisfied only when the scope is the whole control and every part of its
    objective has a satisfying check that passed, none of them justified away or blind to a resource, and no
    check citing it missed a resource; otherwise partially satisfied, or not assessed when nothing passed.
    """
    objectives = objective_map()
    if control in objectives.withdrawn:
        into, _ = objectives.withdrawn[control]
        return Verdict("not-assessed-by-automation", [
            f"Withdrawn from SP 800-53 r5 ({catalog()['controls'][control]['withdrawn']}): never claimed; the "
            f"checks citing it count as support for {', '.join(into)}."])
    failed = _on(refs, lambda r: r["result"] == "non-compliant")
    unknown = _on(refs, lambda r: r["result"] == "error")
    if failed or unknown:
        notes = [f"Failed: {'; '.join(failed)}." if failed else "",
                 f"Could not be evaluated (UNKNOWN): {'; '.join(unknown)}." if unknown else ""]
        return Verdict("not-satisfied", [n for n in notes if n])
    accepted = _on(refs, lambda r: r["result"] == "suppressed" and r.get("acceptance") == RISK_ACCEPTED)
    justified = _on(refs, lambda r: r["result"] == "suppressed" and r.get("acceptance") != RISK_ACCEPTED)
    justified_note = (f"Vendor justification, not a risk acceptance (no approver named): {'; '.join(justified)}."
                      if justified else "")
    if accepted:
        return Verdict("risk-accepted", [f"Risk accepted: {'; '.join(accepted)}.", justified_note])
    if control in objectives.never:
        return Verdict("not-assessed-by-automation", [f"Never shown by a template: {objectives.never[control]}"])
    if scope == "outside":
        return Verdict("not-assessed-by-automation", [f"Outside what a template shows: {not_checked}"])
    passed = _on(refs, lambda r: r["result"] == "compliant")
    if not passed:
        types = sorted({t for ref in refs for t in ref.get("types", [])})
        lead = ("No check citing it passed; only justified deviations: " + "; ".join(justified) + "." if justified
                else "No rule citing it had a resource in scope" + (f" (they check {', '.join(types)})." if types else "."))
        return Verdict("not-assessed-by-automation", [lead])
    satisfying = [r for r in refs if r.get("role") == "satisfies"]
    supporting = [r for r in refs if r.get("role") != "satisfies"]
    caps: list[str] = []
    parts = objectives.satisfiers.get(control, {})
    for part, _ in sorted(parts.items()):
        mine = [r for r in satisfying if r.get("part", "-") == part]
        label = "" if part == "-" else f" part {part}"
        if not any(x["result"] == "compliant" for r in mine for x in r.get("results", [])):
            caps.append(f"no check that can satisfy it{label} passed")
        if blind := _on(mine, lambda x: x["result"] == "suppressed"):
            caps.append(f"a check that satisfies it{label} was justified away on {'; '.join(blind)}")
    for ref in refs:
        if ref.get("unchecked"):
            caps.append(f"{ref['rule']} never saw {', '.join(ref['unchecked'])} (no pack reported on "
                        f"{'it' if len(ref['unchecked']) == 1 else 'them'})")
    whole = scope == "template" and bool(parts) and not caps
    notes = [f"Satisfied by: {'; '.join(_on(satisfying, lambda x: x['result'] == 'compliant')) or 'none'}."
             if satisfying else "",
             f"Supported by (evidence, never enough alone): {'; '.join(_on(supporting, lambda x: x['result'] == 'compliant'))}."
             if _on(supporting, lambda x: x["result"] == "compliant") else ""]
    if not whole:
        if scope == "template" and not parts:
            caps.append("no check that can satisfy it is named in control-objectives.tsv")
        notes.append(("Capped at partial: " + "; ".join(caps) + "." if caps else "") +
                     (f" Not checked: {not_checked}" if scope != "template" else ""))
    notes.append(justified_note)
    return Verdict("satisfied-by-automated-check" if whole else "partially-satisfied", [n.strip() for n in notes if n])


def cap_by_base(status: str, base_status: str) -> str:
    """An enhancement never outranks its base control (a base no rule cites counts as not assessed)."""
    return status if RANK[status] <= RANK[base_status] else base_status
