"""Plan of action and milestones: every accepted risk and every open weakness, as JSON and CSV.

* ``risk-accepted``: each suppressed finding whose reason names who accepted it (configuration writes it:
  ``accept_unguarded.<path>.approved_by``), with when where it says so, and each perimeter path the proof's
  acceptances accept (approver and expiry);
* ``vendor-justification``: each other suppressed finding: the package's (or the deployer's) own reason, no
  approver: a deviation to review and accept or fix, not an accepted risk;
* ``not-satisfied``: each control a rule failed on;
* each deviation the environment's configuration accepts that no suppression carries (``deviations``: a
  non-FIPS endpoint, a model id outside the catalog, UNCERTAIN destinations under a declared residency ...), with
  its reason: ``risk-accepted`` where the configuration names its approver, else ``vendor-justification``.

Those are the weaknesses (``items``). Scoping is not a weakness: each control of the FedRAMP Rev5 baselines (High
includes Moderate and Low) that this deployment is responsible for, alone or shared, and that automation did not
show (organizational and procedural controls, and technical ones no rule checks yet) is a row of ``scoping``, for
the assessor to test, never a POA&M item. Inherited controls (AWS's alone) are in neither.

Every item carries FedRAMP's POA&M fields (:data:`FEDRAMP_FIELDS`): the judge that detected it
(``weakness_detector``: pack rule, perimeter proof, configuration, compliance gate) and its identifier there, the
detection date (the evidence date of ``provenance.json``), scheduled completion, milestones, original and
adjusted risk rating, deviation type (risk acceptance, operational requirement, false positive, vendor
dependency, none) and whether it is ``approved`` (an approver named) or ``proposed`` (the package's or the
deployer's justification), the vendor dependency flag and the point of contact. What only the organization can
say is "to be set by the system owner" unless its configuration says it (``poam`` of the environment's settings:
``point_of_contact`` and, per item id, ``scheduled_completion``, ``milestones``, ratings, ``deviation_type``,
``vendor_dependency``). The deviation type of a proposed deviation is the package's reading (operational
requirement; vendor dependency where AWS offers no alternative); the configuration's plan replaces it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

from .assembly import StackEvidence
from .baselines import BASELINES, baseline_controls
from .matrix import acceptance, control_sort_key, normalized_controls
from .objectives import RISK_ACCEPTED, VENDOR_JUSTIFICATION, acceptance_kind
from .oscal_common import PLACEHOLDER
from .responsibility import BASIS, control_info

#: FedRAMP's POA&M fields (its template's columns), on every item.
FEDRAMP_FIELDS = ("weakness_detector", "weakness_source_identifier", "detected_on", "scheduled_completion",
                  "milestones", "original_risk_rating", "adjusted_risk_rating", "deviation_type", "deviation_status",
                  "vendor_dependency", "point_of_contact")
COLUMNS = ("id", "environment", "kind", "controls", "weakness", "source", "resource", "reason", "accepted_by",
           "accepted_on", "accepted_until", "baselines", "responsibility", *FEDRAMP_FIELDS, "evidence_basis")
DETECTORS = ("pack rule", "perimeter proof", "configuration", "compliance gate")


#: The basis, short enough to repeat on every CSV row (the JSON carries the full sentence).
CSV_BASIS = "pre-deployment evidence from synthesized templates, not a test of deployed resources"
#: A contradiction make verify found: a read of the deployed account, read-only, at its collection time.
DEPLOYED_BASIS = "deployed state read from the account by make verify (read-only), contradicting the template"


def _id(*parts: str) -> str:
    return "POAM-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:10].upper()


def deviation_items(env: str, deviations: Sequence[Mapping[str, Any]],
                    in_baseline: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """POA&M items for the deviations a configuration accepts: each a mapping with ``subject`` (unique within the
    environment), ``weakness``, ``controls``, ``source``, ``reason`` and, where the configuration names them,
    ``accepted_by`` and ``resource``."""
    items = []
    for d in deviations:
        controls = normalized_controls(list(d.get("controls", ())))
        items.append({
            "id": _id(env, "deviation", str(d["subject"])), "environment": env,
            # accepted only where the configuration names who accepted it; otherwise a justification to review
            "kind": RISK_ACCEPTED if d.get("accepted_by") else VENDOR_JUSTIFICATION,
            "controls": controls, "weakness": str(d["weakness"]), "source": str(d["source"]),
            "resource": str(d.get("resource", "")), "reason": str(d["reason"]),
            **({"accepted_by": str(d["accepted_by"])} if d.get("accepted_by") else {}),
            "baselines": sorted({b for c in controls for b in in_baseline.get(c, [])}, key=BASELINES.index),
            "responsibility": "customer", "weakness_detector": "configuration",
            "weakness_source_identifier": str(d["source"]).removeprefix("configuration "),
            **({"vendor_dependency": "yes"} if d.get("vendor_dependency") else {}),
        })
    return items


def build_poam(stacks: Sequence[StackEvidence], names: Mapping[str, str],
               digests: Mapping[str, Mapping[str, Any]],
               deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, *,
               detected_on: str = PLACEHOLDER,
               plans: Mapping[str, Mapping[str, Any]] | None = None,
               contradictions: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """``names``: stack name -> environment file name; ``digests``: stack name -> ``matrix_digest``;
    ``deviations``: environment -> the deviations its configuration accepts (``deviation_items``), listed once,
    with the environment's own stack (the one whose files carry the environment's name). ``detected_on``: the
    evidence date (``provenance.json``'s, YYYY-MM-DD); ``plans``: environment -> its configuration's ``poam``
    (``point_of_contact``; ``items``: item id -> plan); ``contradictions``: what ``make verify`` found the deployed
    account contradicting (``deployed.contradiction_items``), each an open weakness detected on its collection date."""
    items: list[dict[str, Any]] = []
    scoping: list[dict[str, Any]] = []
    in_baseline = {c: [b for b in BASELINES if c in set(baseline_controls()[b])] for c in baseline_controls()["high"]}
    owners: dict[str, str] = {}
    for stack in sorted(stacks, key=lambda s: (names[s.name] != s.environment, s.name)):
        owners.setdefault(stack.environment, stack.name)
    for stack in stacks:
        env = names[stack.name]
        if owners[stack.environment] == stack.name:
            items += deviation_items(env, (deviations or {}).get(stack.environment, ()), in_baseline)
        seen: set[tuple[str, str, str]] = set()
        for f in stack.findings:
            if f.compliance != "Suppressed" or (f.rule_id, f.resource, f.reason or "") in seen:
                continue
            seen.add((f.rule_id, f.resource, f.reason or ""))
            controls = normalized_controls(f.controls)
            items.append({
                "id": _id(env, "accepted", f.rule_id, f.resource), "environment": env,
                "kind": acceptance_kind(f.reason or ""),
                "controls": controls, "weakness": f.info.split(" - (Control IDs")[0].strip(),
                "source": f"{f.pack} rule {f.rule_id}", "resource": f.resource, "reason": f.reason or "",
                **acceptance(f.reason or ""),
                "baselines": sorted({b for c in controls for b in in_baseline.get(c, [])}, key=BASELINES.index),
                "responsibility": "customer", "weakness_detector": "pack rule",
                "weakness_source_identifier": f.rule_id,
            })
        for path in digests[stack.name].get("accepted_perimeter_paths", []):
            items.append({
                "id": _id(env, "accepted-path", path["request"]), "environment": env, "kind": RISK_ACCEPTED,
                "controls": path["controls"], "weakness": f"Open perimeter path {path['request']} (accepted)",
                "source": f"perimeter proof request {path['request']}", "resource": path["request"],
                "reason": path.get("reason", ""),
                **{k: path[k] for k in ("accepted_by", "accepted_until") if k in path},
                "baselines": sorted({b for c in path["controls"] for b in in_baseline.get(c, [])}, key=BASELINES.index),
                "responsibility": "customer", "weakness_detector": "perimeter proof",
                "weakness_source_identifier": path["request"],
            })
        controls = digests[stack.name]["controls"]
        for control, entry in controls.items():
            if entry["status"] == "not-satisfied":
                failed = entry.get("failed", [])
                items.append({
                    "id": _id(env, "failed", control), "environment": env, "kind": "not-satisfied",
                    "controls": [control], "weakness": entry["why"],
                    "source": "rules " + ", ".join(failed), "resource": "", "reason": "",
                    "baselines": in_baseline.get(control, []), "responsibility": control_info(control).responsibility,
                    "weakness_detector": _detector(failed),
                    "weakness_source_identifier": ", ".join(failed) or "the compliance gate's verdict",
                })
        for control in baseline_controls()["high"]:
            info = control_info(control)
            status = controls.get(control, {}).get("status", "not-assessed-by-automation")
            if status != "not-assessed-by-automation" or info.responsibility == "inherited":
                continue
            weakness = (f"Not assessed by automation: {info.not_checked}" if info.scope == "outside"
                        else "Not assessed by automation: no rule of the packs checks it on this template")
            row = {"id": _id(env, "gap", control), "environment": env, "controls": [control], "why": weakness,
                   "source": "FedRAMP Rev5 baseline", "baselines": in_baseline[control],
                   "responsibility": info.responsibility}
            scoping.append(row)  # scoping, for the assessor: not a weakness, never a POA&M item
    found_on: dict[str, str] = {}
    for c in contradictions:
        controls = normalized_controls(list(c["controls"]))
        item_id = _id(str(c["environment"]), "contradicted", str(c["stack"]), str(c["subject"]))
        found_on[item_id] = str(c["detected_on"])
        items.append({
            "id": item_id, "environment": c["environment"], "kind": "not-satisfied", "controls": controls,
            "weakness": c["weakness"], "source": c["source"], "resource": c["subject"], "reason": c["note"],
            "baselines": sorted({b for ctl in controls for b in in_baseline.get(ctl, [])}, key=BASELINES.index),
            "responsibility": "customer", "weakness_detector": "deployed-twin verification (make verify)",
            "weakness_source_identifier": c["subject"],
        })
    order = {"not-satisfied": 0, "risk-accepted": 1, "vendor-justification": 2}
    items.sort(key=lambda i: (i["environment"], order.get(i["kind"], len(order)),
                              control_sort_key(i["controls"][0]) if i["controls"] else ("", 0, 0), i["id"]))
    used: set[tuple[str, str]] = set()
    items = [_fedramp_fields(item, found_on.get(item["id"], detected_on), _environment_of(item, stacks, names),
                             plans or {}, used) for item in items]
    planned = {(env, item_id) for env, plan in (plans or {}).items() for item_id in (plan.get("items") or {})}
    return {"evidence_basis": BASIS, "items": items,
            "scoping": sorted(scoping, key=lambda r: (r["environment"], control_sort_key(r["controls"][0]), r["id"])),
            "plans_without_item": [f"{env}: {item_id}" for env, item_id in sorted(planned - used)]}


def _environment_of(item: Mapping[str, Any], stacks: Sequence[StackEvidence], names: Mapping[str, str]) -> str:
    """The environment (configuration's name) of an item filed under a stack's file name (a replica's)."""
    return next((s.environment for s in stacks if names[s.name] == item["environment"]), item["environment"])


def _detector(failed: Sequence[str]) -> str:
    """Which judge found a failed control: the perimeter proof (its families are ``perimeter:...``), a pack's rule,
    or, with no failed check named, the compliance gate's verdict (its own controls on a failed gate)."""
    if any(not rule.startswith("perimeter:") for rule in failed):
        return "pack rule"
    return "perimeter proof" if failed else "compliance gate"


def _fedramp_fields(item: dict[str, Any], detected_on: str, env: str, plans: Mapping[str, Mapping[str, Any]],
                    used: set[tuple[str, str]]) -> dict[str, Any]:
    """FedRAMP's POA&M fields on ``item`` (of configuration environment ``env``): derived where the evidence says
    them, the configuration's plan where it gives one, else the placeholder. Records in ``used`` the plan it took."""
    plan = plans.get(env) or {}
    mine = (plan.get("items") or {}).get(item["id"])
    if mine is not None:
        used.add((env, item["id"]))
    mine = mine or {}
    vendor = mine.get("vendor_dependency")
    vendor_flag = ("yes" if vendor else "no") if vendor is not None else item.get("vendor_dependency", "no")
    if mine.get("deviation_type"):
        deviation = mine["deviation_type"]
    elif item["kind"] == "not-satisfied":
        deviation = "none"
    elif vendor_flag == "yes":
        deviation = "vendor dependency"
    else:
        deviation = "risk acceptance" if item["kind"] == RISK_ACCEPTED else "operational requirement"
    status = "none" if deviation == "none" else ("approved" if item["kind"] == RISK_ACCEPTED else "proposed")
    milestones = [f"{m['date']}: {m['description']}" for m in mine.get("milestones") or []]
    return {
        **{k: v for k, v in item.items() if k != "vendor_dependency"},
        "weakness_detector": item["weakness_detector"],
        "weakness_source_identifier": item["weakness_source_identifier"],
        "detected_on": detected_on,
        "scheduled_completion": str(mine.get("scheduled_completion") or PLACEHOLDER),
        "milestones": milestones or [PLACEHOLDER],
        "original_risk_rating": mine.get("original_risk_rating") or PLACEHOLDER,
        "adjusted_risk_rating": mine.get("adjusted_risk_rating") or PLACEHOLDER,
        "deviation_type": deviation,
        "deviation_status": status,
        "vendor_dependency": vendor_flag,
        "point_of_contact": mine.get("point_of_contact") or plan.get("point_of_contact") or PLACEHOLDER,
    }


def render_csv(poam: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in poam["items"]:
        row = {**item, "controls": " ".join(item["controls"]), "baselines": " ".join(item["baselines"]),
               "milestones": "; ".join(item["milestones"]),
               "evidence_basis": DEPLOYED_BASIS if item["weakness_detector"].startswith("deployed-twin") else CSV_BASIS}
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue()
