"""OSCAL 1.2.1 assessment results of one synth (``assessment-results.json``): what the judges saw, per environment.

One ``result`` per environment (the stacks of one configuration environment: its own, its audit replica, its
IAM-events stack), built from evidence already read (the stacks' findings, the matrices' digests, the
perimeter documents):

* ``observations``: each result of the compliance gate's rule packs (rule, resource, compliance, reason; the
  repeated lines of a granular rule counted, not repeated) and each decision of the perimeter proof (request id,
  decision, verdict, the statements that decided it), each with its judge as ``origins`` (a tool of the result's
  ``local-definitions``) and, for a resource, the template's inventory item as its subject;
* ``findings``: one per control and stack whose matrix status says something (not "not assessed by automation"),
  targeting the control's objective (``<control>_obj``): ``satisfied`` only for satisfied-by-automated-check,
  ``not-satisfied`` otherwise (reason ``fail`` for a failed check, ``other`` for partial or risk-accepted), with
  OSCAL's implementation-status and the matrix status (prop ``evidence-status``), linked to the observations that
  cite the control.

This is pre-deployment evidence: templates and simulated decisions, not tests of deployed resources. There is no
OSCAL assessment plan: ``import-ap`` points at a back-matter resource describing the method (the rule packs and
the perimeter proof, run at every synth).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .assembly import StackEvidence
from .matrix import STATUS_TEXT, normalized_controls, oscal_control_id, result_of
from .oscal_common import (
    IMPLEMENTATION_STATUS,
    ROLES,
    document,
    inventory_items,
    inventory_uuid,
    judge_components,
    metadata,
    origin,
    prop,
    stable_uuid,
)
from .responsibility import BASIS

#: Matrix status -> (objective state, reason).
OBJECTIVE = {
    "satisfied-by-automated-check": ("satisfied", "pass"),
    "partially-satisfied": ("not-satisfied", "other"),
    "risk-accepted": ("not-satisfied", "other"),
    "not-satisfied": ("not-satisfied", "fail"),
}
METHOD_UUID_PARTS = ("resource", "assessment-method")


def _line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3].rstrip() + "..."


def _gate_observations(stack: StackEvidence, name: str, env: str, timestamp: str,
                       cites: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One observation per distinct (pack, rule, resource, compliance, reason) of the stack; ``cites``: control ->
    observation uuids, filled for the findings."""
    counts = Counter((f.pack, f.rule_id, f.resource, f.compliance, f.reason or "") for f in stack.findings)
    first = {}
    for f in stack.findings:
        first.setdefault((f.pack, f.rule_id, f.resource, f.compliance, f.reason or ""), f)
    out = []
    listed = {r.logical_id for r in stack.resources}
    for key in sorted(counts):
        pack, rule, resource, compliance, reason = key
        f = first[key]
        uuid = stable_uuid("observation", stack.name, *key)
        logical_id = stack.logical_id(resource)
        label = stack.label(logical_id) if logical_id else ("(stack)" if resource == stack.name else resource)
        controls = normalized_controls(f.controls)
        for control in controls:
            cites[control].append(uuid)
        result = result_of(f)
        observation: dict[str, Any] = {
            "uuid": uuid,
            "title": _line(f"{rule} on {label}: {compliance}"),
            "description": f"{pack} rule {rule} flags: {f.info.split(' - (Control IDs')[0].strip().rstrip('.') or rule}. "
                           f"Result on {label}: {compliance}" + (f" ({counts[key]} results)" if counts[key] > 1 else "")
                           + "." + (f" Reason given: {reason}" if reason and reason != "N/A" else ""),
            "props": [prop("pack", pack), prop("rule", rule), prop("resource", resource),
                      prop("compliance", compliance), prop("result", result), prop("stack", stack.name),
                      *(prop("control", c) for c in controls),
                      *([prop("count", counts[key])] if counts[key] > 1 else [])],
            "methods": ["TEST"],
            "types": ["finding", "control-objective"] if result in ("non-compliant", "error") else ["control-objective"],
            "origins": [origin("pack rule", env)],
            "relevant-evidence": [{"href": f"./matrix-{name}.json",
                                   "description": f"Control matrix of {name}: this rule's results and the controls "
                                                  "they feed"}],
            "collected": timestamp,
        }
        if logical_id in listed:
            observation["subjects"] = [{"subject-uuid": inventory_uuid(stack.name, logical_id),
                                        "type": "inventory-item"}]
        if reason and reason != "N/A":
            observation["remarks"] = reason
        out.append(observation)
    return out


def _perimeter_observations(env: str, proof: Mapping[str, Any], timestamp: str,
                            cites: dict[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for request in proof.get("requests", []):
        uuid = stable_uuid("observation", "perimeter", env, request["id"])
        for control in normalized_controls(request.get("controls", [])):
            cites[control].append(uuid)
        verdict = request.get("verdict") or "-"
        decided = [str(d) for d in request.get("deciding") or []]
        accepted = " ".join(f"{label} {request[k]}." for label, k in (
            ("Accepted by", "accepted_by"), ("Accepted until", "accepted_until"), ("Reason:", "accepted_reason"))
            if request.get(k))
        out.append({
            "uuid": uuid,
            "title": _line(f"Perimeter request {request['id']}: {request.get('decision', '-')} ({verdict})"),
            "description": (f"{request.get('rationale') or 'Modelled request'}: {request.get('principal', '?')} "
                            f"calls {request.get('action', '?')} on {request.get('resource', '?')}"
                            + (f" via {request['via']}" if request.get("via") else "")
                            + f"; expected {request.get('expect', '?')}, simulated decision "
                            f"{request.get('decision', '?')}, verdict {verdict} (deciding statements: props). "
                            + accepted).strip(),
            "props": [prop("request-id", request["id"]), prop("decision", request.get("decision", "-")),
                      prop("verdict", verdict), prop("expect", request.get("expect", "-")),
                      *([prop("simulator-result", request["simulator_result"])] if request.get("simulator_result")
                        else []),
                      *(prop("deciding-statement", d) for d in decided),
                      *(prop("control", c) for c in normalized_controls(request.get("controls", [])))],
            "methods": ["TEST"],
            "types": ["finding", "control-objective"] if verdict == "open" else ["control-objective"],
            "origins": [origin("perimeter proof", env)],
            "relevant-evidence": [{"href": f"./perimeter-{env}.json",
                                   "description": f"Perimeter proof of {env}: every request, its context and decision "
                                                  "(simulated against the synthesized policies)"}],
            "collected": timestamp,
            **({"remarks": request["note"]} if request.get("note") else {}),
        })
    return out


def _findings(stack: StackEvidence, name: str, controls: Mapping[str, Mapping[str, Any]],
              cites: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for control, entry in controls.items():
        status = entry["status"]
        if status not in OBJECTIVE:
            continue  # not assessed by automation: no determination either way
        state, reason = OBJECTIVE[status]
        oscal_id = oscal_control_id(control)
        finding: dict[str, Any] = {
            "uuid": stable_uuid("finding", stack.name, control),
            "title": f"{control} in {name}: {status}",
            "description": entry.get("why") or STATUS_TEXT[status],
            "props": [prop("evidence-status", status), prop("control", control), prop("stack", stack.name)],
            "target": {
                "type": "objective-id", "target-id": f"{oscal_id}_obj",
                "title": f"{control} control objective",
                "status": {"state": state, "reason": reason},
                "implementation-status": {"state": IMPLEMENTATION_STATUS[status]},
                "props": [prop("evidence-status", status)],
            },
        }
        related = sorted(set(cites.get(control, [])))
        if related:
            finding["related-observations"] = [{"observation-uuid": u} for u in related]
        out.append(finding)
    return out


def build_assessment_results(stacks: Sequence[StackEvidence], names: Mapping[str, str],
                             digests: Mapping[str, Mapping[str, Any]], perimeters: Mapping[str, Mapping[str, Any]], *,
                             version: str, timestamp: str, digest: str,
                             provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``names``: stack name -> the name its files carry; ``digests``: stack name -> ``matrix_digest``;
    ``perimeters``: environment -> its perimeter document (``perimeter-<env>.json``, read once by the report)."""
    by_env: dict[str, list[StackEvidence]] = defaultdict(list)
    for stack in stacks:
        by_env[stack.environment].append(stack)
    results = []
    for env in sorted(by_env):
        members = sorted(by_env[env], key=lambda s: (names[s.name] != env, s.name))
        observations: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        perimeter_cites: dict[str, list[str]] = defaultdict(list)
        decisions = (_perimeter_observations(env, perimeters[env], timestamp, perimeter_cites)
                     if env in perimeters else [])
        for stack in members:
            cites: dict[str, list[str]] = defaultdict(list)
            observations += _gate_observations(stack, names[stack.name], env, timestamp, cites)
            if names[stack.name] == env:  # the proof's decisions are checks of the environment's own stack
                for control, uuids in perimeter_cites.items():
                    cites[control] += uuids
            findings += _findings(stack, names[stack.name], digests[stack.name]["controls"], cites)
        observations += decisions
        inventory = [item for s in members for item in inventory_items(s)]
        reviewed = sorted({oscal_control_id(c) for s in members for c in digests[s.name]["controls"]})
        judges = ["pack rule", *(["perimeter proof"] if env in perimeters else [])]
        result: dict[str, Any] = {
            "uuid": stable_uuid("result", env),
            "title": f"Pre-deployment assessment of {env} at synth",
            "description": f"The compliance gate's rule results on the synthesized templates of {env} (stacks "
                           f"{', '.join(s.name for s in members)})"
                           + (" and the perimeter proof's simulated decisions" if env in perimeters else
                              "; no perimeter proof ran for it")
                           + ", with a finding per control objective the matrix gives a status. " + BASIS,
            "start": timestamp,
            "end": timestamp,
            "props": [prop("environment", env), *(prop("stack", s.name) for s in members)],
            "local-definitions": {"components": judge_components(judges, env),
                                  **({"inventory-items": inventory} if inventory else {})},
            "reviewed-controls": {"control-selections": [
                {"include-controls": [{"control-id": c} for c in reviewed]} if reviewed else {"include-all": {}}]},
        }
        if observations:
            result["observations"] = observations
        if findings:
            result["findings"] = findings
        results.append(result)
    method = {
        "uuid": stable_uuid(*METHOD_UUID_PARTS),
        "title": "Assessment method: the synth-time gate and the perimeter proof (no OSCAL assessment plan)",
        "description": "Every synth runs cdk-nag's NIST SP 800-53 r5 and AWS Solutions packs and the package's Bedrock "
                       "pack on every resource of the synthesized templates, and, where configured, the perimeter "
                       "proof: a matrix of modelled requests evaluated by an IAM policy simulator against the "
                       "synthesized policies. The reviewed control-objective map decides which checks can satisfy a "
                       "control. The organization's assessment plan, if any, replaces this resource.",
        "props": [prop("method", "automated, pre-deployment")],
    }
    body = {
        "uuid": stable_uuid("assessment-results", "compliant-bedrock"),
        "metadata": metadata(
            "compliant-bedrock: assessment results of the synth-time gate and the perimeter proof",
            timestamp=timestamp, version=version, digest=digest, provenance=provenance, roles=ROLES,
            with_parties=True,
            remarks=f"{BASIS} One result per environment: observations are the gate's rule results and the perimeter "
                    "proof's decisions; findings are the control matrices' statuses per control objective "
                    "(implementation-status OSCAL's, evidence-status the matrix's). Controls automation did not "
                    "show have no finding: they are for the assessor (poam.json's scoping list)."),
        "import-ap": {"href": f"#{method['uuid']}",
                      "remarks": "No OSCAL assessment plan: the method is the back-matter resource it points at."},
        "results": results,
    }
    return document("assessment-results", body, provenance, [method])
