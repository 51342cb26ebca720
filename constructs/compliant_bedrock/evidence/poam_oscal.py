"""The POA&M as OSCAL 1.2.1 (``poam-oscal.json``): the same items as ``poam.json``, nothing re-derived.

Each item of :func:`.poam.build_poam` (a weakness: never a scoping row) becomes

* an ``observation``: what was found, by which judge (``origins``: the rule packs, the perimeter proof, the
  configuration's validation or the gate's verdict, each a tool of ``local-definitions``), when (the evidence
  date), and where the matrix records it;
* a ``risk``: its status (``open`` for a failed control, ``deviation-approved`` where an approver accepted it,
  ``deviation-requested`` for a justification nobody approved yet), its deadline and milestones where the
  organization's plan gives them, its risk ratings as a characterization where given;
* a ``poam-item`` linking both, with FedRAMP's POA&M fields as props (namespace ``urn:compliant-bedrock:oscal``,
  named after the fields of ``poam.json``), "to be set by the system owner" where only the organization can say.

OSCAL requires at least one POA&M item: with no weakness there is no document (:func:`build_oscal_poam` returns
None and no file is written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .oscal_common import (
    NS,
    OWNER_ROLES,
    PLACEHOLDER,
    ROLES,
    document,
    judge_components,
    metadata,
    origin,
    oscal_date,
    owner_parties,
    prop,
    stable_uuid,
)
from .poam import FEDRAMP_FIELDS
from .responsibility import BASIS

#: poam.json field -> prop name (one prop per value; milestones one each).
PROP_NAMES = {name: "milestone" if name == "milestones" else name.replace("_", "-") for name in FEDRAMP_FIELDS}
#: poam.json deviation status -> OSCAL risk status.
RISK_STATUS = {"approved": "deviation-approved", "proposed": "deviation-requested", "none": "open"}


def _line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3].rstrip() + "..."


def _is_date(value: str) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-" and value.replace("-", "").isdigit()


def _fedramp_props(item: Mapping[str, Any]) -> list[dict[str, str]]:
    props = [prop("poam-id", item["id"]), prop("environment", item["environment"]), prop("kind", item["kind"]),
             *(prop("control", c) for c in item["controls"]), *(prop("baseline", b) for b in item["baselines"]),
             prop("responsibility", item["responsibility"])]
    for name in FEDRAMP_FIELDS:
        values = item[name] if isinstance(item[name], list) else [item[name]]
        props += [prop(PROP_NAMES[name], v) for v in values]
    for name in ("accepted_by", "accepted_on", "accepted_until"):
        if item.get(name):
            props.append(prop(name.replace("_", "-"), item[name]))
    return props


def _risk(item: Mapping[str, Any], observation: str) -> dict[str, Any]:
    controls = ", ".join(item["controls"]) or "no control cited"
    risk: dict[str, Any] = {
        "uuid": stable_uuid("poam-risk", item["id"]),
        "title": _line(f"{item['id']}: {item['weakness']}"),
        "description": item["weakness"],
        "statement": (f"Controls {controls} in {item['environment']}: "
                      + (f"deviation ({item['deviation_type']}, {item['deviation_status']}): {item['reason']}"
                         if item["reason"] else "a check failed; the weakness stays open until it passes")),
        "props": [prop("deviation-type", item["deviation_type"]), prop("vendor-dependency", item["vendor_dependency"])],
        "status": RISK_STATUS[item["deviation_status"]],
        "origins": [origin(item["weakness_detector"])],
        "related-observations": [{"observation-uuid": observation}],
    }
    facets = [{"name": name.replace("_", "-"), "system": NS, "value": item[name]}
              for name in ("original_risk_rating", "adjusted_risk_rating") if item[name] != PLACEHOLDER]
    if facets:
        risk["characterizations"] = [{"origin": {"actors": [{"type": "party",
                                                             "actor-uuid": stable_uuid("party", "owner")}]},
                                      "facets": facets}]
    if _is_date(item["scheduled_completion"]):
        risk["deadline"] = oscal_date(item["scheduled_completion"])
    milestones = [m for m in item["milestones"] if m != PLACEHOLDER]
    if milestones:
        risk["remediations"] = [{
            "uuid": stable_uuid("poam-remediation", item["id"]), "lifecycle": "planned",
            "title": f"Plan of {item['id']}", "description": "The organization's milestones (its configuration).",
            "tasks": [{"uuid": stable_uuid("poam-milestone", item["id"], m), "type": "milestone",
                       "title": _line(m.partition(": ")[2] or m),
                       **({"timing": {"on-date": {"date": oscal_date(m[:10])}}} if _is_date(m[:10]) else {})}
                      for m in milestones],
        }]
    return risk


def build_oscal_poam(poam: Mapping[str, Any], *, version: str, timestamp: str, digest: str,
                     provenance: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The OSCAL POA&M of ``poam`` (what :func:`.poam.build_poam` returned), or None when it has no item."""
    items = poam["items"]
    if not items:
        return None
    observations, risks, entries = [], [], []
    for item in items:
        observation = stable_uuid("poam-observation", item["id"])
        judge = item["weakness_detector"]
        observations.append({
            "uuid": observation,
            "title": _line(f"{item['id']}: {item['weakness']}"),
            "description": item["weakness"] + (f" Resource: {item['resource']}." if item["resource"] else ""),
            "props": [prop("poam-id", item["id"]), prop("weakness-source-identifier",
                                                        item["weakness_source_identifier"])],
            "methods": ["EXAMINE" if judge == "configuration" else "TEST"],
            "types": ["finding"],
            "origins": [origin(judge)],
            "relevant-evidence": [{"href": f"./matrix-{item['environment']}.json",
                                   "description": f"The control matrix of {item['environment']} (every rule result, "
                                                  "perimeter outcome and status)"}],
            "collected": oscal_date(item["detected_on"]) if _is_date(item["detected_on"]) else timestamp,
        })
        risk = _risk(item, observation)
        risks.append(risk)
        entries.append({
            "uuid": stable_uuid("poam-item", item["id"]),
            "title": _line(f"{item['id']}: {item['weakness']}"),
            "description": item["weakness"] + (f" Reason given: {item['reason']}" if item["reason"] else ""),
            "props": _fedramp_props(item),
            "origins": [origin(judge)],
            "related-observations": [{"observation-uuid": observation}],
            "related-risks": [{"risk-uuid": risk["uuid"]}],
        })
    judges = sorted({i["weakness_detector"] for i in items})
    body = {
        "uuid": stable_uuid("plan-of-action-and-milestones", "compliant-bedrock"),
        "metadata": metadata(
            "compliant-bedrock: plan of action and milestones (pre-deployment weaknesses)", timestamp=timestamp,
            version=version, digest=digest, provenance=provenance, roles=[*ROLES, *OWNER_ROLES], with_parties=True,
            responsible_parties=owner_parties(),
            remarks=f"{BASIS} The items of poam.json (the same ids): every weakness the rule packs, the perimeter "
                    "proof, the configuration's validation or the gate found, each with FedRAMP's POA&M fields as "
                    f"props. Scoping rows (controls automation did not show) are not weaknesses and are not here. "
                    f"'{PLACEHOLDER}' marks what only the organization can write; its configuration (poam.items) "
                    "fills it."),
        "local-definitions": {"components": judge_components(judges)},
        "observations": observations,
        "risks": risks,
        "poam-items": entries,
    }
    return document("plan-of-action-and-milestones", body, provenance)
