"""Plan of action and milestones: every accepted risk and every open gap, as JSON and CSV.

* ``risk-accepted``: each suppressed finding whose reason names who accepted it (configuration writes it:
  ``accept_unguarded.<path>.approved_by``), with when where it says so, and each perimeter path the proof's
  acceptances accept (approver and expiry);
* ``vendor-justification``: each other suppressed finding: the package's (or the deployer's) own reason, no
  approver: a deviation to review and accept or fix, not an accepted risk;
* ``not-satisfied``: each control a rule failed on;
* ``not-assessed``: each control of the FedRAMP Rev5 baselines (High includes Moderate and Low) that
  this deployment is responsible for, alone or shared, and that automation did not show: organizational
  and procedural controls, and technical ones no rule checks yet;
* ``risk-accepted`` too: each deviation the environment's configuration accepts that no suppression carries
  (``deviations``: a non-FIPS endpoint, a model id outside the catalog, UNCERTAIN destinations under a declared
  residency ...), with its reason and approver where the configuration names them.

Inherited controls (AWS's alone) are not this system's weaknesses and are left out. ``milestones`` is
empty: the organization fills it in.
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
from .objectives import RISK_ACCEPTED, acceptance_kind
from .responsibility import BASIS, control_info

COLUMNS = ("id", "environment", "kind", "controls", "weakness", "source", "resource", "reason", "accepted_by",
           "accepted_on", "accepted_until", "baselines", "responsibility", "milestones", "evidence_basis")


#: The basis, short enough to repeat on every CSV row (the JSON carries the full sentence).
CSV_BASIS = "pre-deployment evidence from synthesized templates, not a test of deployed resources"


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
            "id": _id(env, "deviation", str(d["subject"])), "environment": env, "kind": "risk-accepted",
            "controls": controls, "weakness": str(d["weakness"]), "source": str(d["source"]),
            "resource": str(d.get("resource", "")), "reason": str(d["reason"]),
            **({"accepted_by": str(d["accepted_by"])} if d.get("accepted_by") else {}),
            "baselines": sorted({b for c in controls for b in in_baseline.get(c, [])}, key=BASELINES.index),
            "responsibility": "customer", "milestones": [],
        })
    return items


def build_poam(stacks: Sequence[StackEvidence], names: Mapping[str, str],
               digests: Mapping[str, Mapping[str, Any]],
               deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> dict[str, Any]:
    """``names``: stack name -> environment file name; ``digests``: stack name -> ``matrix_digest``;
    ``deviations``: environment -> the deviations its configuration accepts (``deviation_items``), listed once,
    with the environment's own stack (the one whose files carry the environment's name)."""
    items: list[dict[str, Any]] = []
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
                "responsibility": "customer", "milestones": [],
            })
        for path in digests[stack.name].get("accepted_perimeter_paths", []):
            items.append({
                "id": _id(env, "accepted-path", path["request"]), "environment": env, "kind": RISK_ACCEPTED,
                "controls": path["controls"], "weakness": f"Open perimeter path {path['request']} (accepted)",
                "source": f"perimeter proof request {path['request']}", "resource": path["request"],
                "reason": path.get("reason", ""),
                **{k: path[k] for k in ("accepted_by", "accepted_until") if k in path},
                "baselines": sorted({b for c in path["controls"] for b in in_baseline.get(c, [])}, key=BASELINES.index),
                "responsibility": "customer", "milestones": [],
            })
        controls = digests[stack.name]["controls"]
        for control, entry in controls.items():
            if entry["status"] == "not-satisfied":
                items.append({
                    "id": _id(env, "failed", control), "environment": env, "kind": "not-satisfied",
                    "controls": [control], "weakness": entry["why"],
                    "source": "rules " + ", ".join(entry.get("failed", [])), "resource": "", "reason": "",
                    "baselines": in_baseline.get(control, []), "responsibility": control_info(control).responsibility,
                    "milestones": [],
                })
        for control in baseline_controls()["high"]:
            info = control_info(control)
            status = controls.get(control, {}).get("status", "not-assessed-by-automation")
            if status != "not-assessed-by-automation" or info.responsibility == "inherited":
                continue
            weakness = (f"Not assessed by automation: {info.not_checked}" if info.scope == "outside"
                        else "Not assessed by automation: no rule of the packs checks it on this template")
            items.append({
                "id": _id(env, "gap", control), "environment": env, "kind": "not-assessed", "controls": [control],
                "weakness": weakness, "source": "FedRAMP Rev5 baseline gap", "resource": "", "reason": "",
                "baselines": in_baseline[control], "responsibility": info.responsibility, "milestones": [],
            })
    order = {"not-satisfied": 0, "risk-accepted": 1, "vendor-justification": 2, "not-assessed": 3}
    items.sort(key=lambda i: (i["environment"], order[i["kind"]],
                              control_sort_key(i["controls"][0]) if i["controls"] else ("", 0, 0), i["id"]))
    return {"evidence_basis": BASIS, "items": items}


def render_csv(poam: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in poam["items"]:
        row = {**item, "controls": " ".join(item["controls"]), "baselines": " ".join(item["baselines"]),
               "milestones": "; ".join(item["milestones"]), "evidence_basis": CSV_BASIS}
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue()
