"""An OSCAL 1.2.1 component definition of the package, with each control's status from the template.

One defined component per part of the package (private link, model access, audit trail, invocation
logging, guardrail, organization perimeter, compliance gate) and stack that contains it: compliance-trestle
keys a component's statements by title and control, so a component holding every environment's implementation
would keep the last environment's only. Its one control implementation against the NIST SP 800-53 rev 5 catalog
(props ``environment``, ``stack``) says how the part is configured there (from the environment's settings and the
template) and which controls it addresses. A control is listed on a component when a rule citing it passed or
was suppressed on one of the component's resources, none failed on them, and its status in the environment's
matrix is satisfied, partially satisfied or risk accepted (a failure anywhere in the stack, or an
organizational control, keeps it off). Each requirement carries OSCAL's ``implementation-status`` (implemented,
partial) with the matrix's own status as the prop ``evidence-status``, the responsibility (prop and
``responsible-roles``), set-parameters read from the template where one applies, and links to the control's row
in the matrix.

OSCAL 1.2.1 because compliance-trestle 5.2.0 (pinned) targets it (``trestle.oscal.OSCAL_VERSION``).
Built from plain dicts (importing compliance-trestle would double the report's run time); the tests
validate the document with ``trestle.oscal.component.ComponentDefinition``. UUIDs are deterministic v4-format
(:func:`.oscal_common.stable_uuid`: trestle's SSP tooling takes v4 only) and the timestamp comes from
``SOURCE_DATE_EPOCH`` or the commit's time (never 1970, never the clock: ``provenance.evidence_time``), so equal
inputs give equal bytes. ``provenance.json`` is a back-matter resource with its sha256, and the metadata names
the commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..compliance.gate import blocking
from ..compliance.template import possible_strings
from .assembly import StackEvidence
from .components import COMPONENTS, STACK_RULES, component_members
from .destinations import data_destinations, describe
from .destinations import sentence as destination_sentence
from .matrix import CLAIMED, CONTROL_PACKS, control_sort_key, normalized_controls, oscal_control_id, result_of
from .objectives import GATE_CONTROLS, RISK_ACCEPTED, VENDOR_JUSTIFICATION, acceptance_kind, objective_map
from .oscal_common import NS, OSCAL_VERSION, ROLES, metadata, provenance_resource, stable_uuid, status_props
from .oscal_common import document as oscal_document
from .oscal_common import prop as _prop
from .responsibility import BASIS, control_info

__all__ = ["CATALOG", "LISTED", "NS", "OSCAL_VERSION", "build_component_definition", "stable_uuid"]

#: Statuses under which a component lists a control (with the status as a prop).
LISTED = (*CLAIMED, "risk-accepted")

CATALOG = ("https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
           "NIST_SP-800-53_rev5_catalog.json")


def document_timestamp() -> str:
    """The evidence date as RFC 3339 UTC: a positive ``SOURCE_DATE_EPOCH`` (reproducible-builds convention),
    else the time of the working directory's commit; raises ``ProvenanceError`` when there is neither."""
    from .provenance import evidence_time, timestamp

    return timestamp(evidence_time()[0])


def provenance_back_matter(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The back-matter citing ``provenance.json`` (``provenance.reference``) with its sha256."""
    return {"resources": [provenance_resource(provenance)]}


def _join(items: Sequence[str], limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _evidence(stack: StackEvidence, component: str, members: set[str]) -> dict[str, dict[str, Any]]:
    """control -> {"pass": {rule: [labels]}, "fail": {...}, "suppressed": {rule: {(label with reason, acceptance kind)}}}."""
    found: dict[str, dict[str, Any]] = {}
    for f in stack.findings_of(CONTROL_PACKS):
        logical_id = stack.logical_id(f.resource)
        on_member = logical_id in members if logical_id else False
        stack_rule = f.resource == stack.name and STACK_RULES.get(f.rule_id) == component
        if not (on_member or stack_rule):
            continue
        result = result_of(f)
        if result == "not-applicable":
            continue
        label = stack.label(logical_id) if logical_id else "(stack)"
        for control in normalized_controls(f.controls):
            slot = found.setdefault(control, {"pass": {}, "fail": {}, "suppressed": {}})
            if result == "compliant":
                slot["pass"].setdefault(f.rule_id, set()).add(label)
            elif result == "suppressed":
                slot["suppressed"].setdefault(f.rule_id, set()).add((f"{label} ({f.reason})",
                                                                     acceptance_kind(f.reason or "")))
            else:
                slot["fail"].setdefault(f.rule_id, set()).add(label)
    return found


def _requirement(component: str, env: str, control: str, description: str, rules: Sequence[str],
                 remarks: str | None = None, *, status: str | None = None, file_name: str | None = None,
                 parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    info = control_info(control)
    req: dict[str, Any] = {
        "uuid": stable_uuid("implemented-requirement", component, env, control),
        "control-id": oscal_control_id(control),
        "description": description,
    }
    props = [_prop("evidence-rule", r) for r in sorted(set(rules))]
    if status:
        props += status_props(status)
    props.append(_prop("responsibility", info.responsibility))
    if info.aws_service:
        props.append(_prop("aws-service", info.aws_service))
    req["props"] = props
    if file_name:
        req["links"] = [{"href": f"./matrix-{file_name}.md#{oscal_control_id(control)}", "rel": "evidence",
                         "text": f"{control} in the control matrix of {file_name}"},
                        {"href": f"./matrix-{file_name}.json", "rel": "evidence"}]
    if parameters:
        req["set-parameters"] = [{"param-id": k, "values": [v]} for k, v in sorted(parameters.items())]
    roles = {"customer": ["customer"], "shared": ["customer", "provider"], "inherited": ["provider"]}
    req["responsible-roles"] = [{"role-id": r} for r in roles[info.responsibility]]
    if remarks:
        req["remarks"] = remarks
    return req


def template_parameters(stack: StackEvidence) -> dict[str, dict[str, str]]:
    """OSCAL control -> {param-id: value} where the template sets the parameter's value itself.

    ``au-11_odp`` (audit record retention): the Object Lock default retention of the audit buckets and
    the retention of the log groups. ``sc-13_odp.02`` (types of cryptography): only when every Bedrock
    interface endpoint of the template is a FIPS endpoint.
    """
    locks, groups, endpoints = set(), set(), []
    for r in stack.resources:
        p = r.properties
        if r.type == "AWS::S3::Bucket" and p.get("ObjectLockEnabled") is True:
            rule = ((p.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
            if rule.get("Mode") and (rule.get("Days") or rule.get("Years")):
                period = f"{rule['Days']} days" if rule.get("Days") else f"{rule['Years']} years"
                locks.add(f"{period} (S3 Object Lock {rule['Mode']})")
        elif r.type == "AWS::Logs::LogGroup" and isinstance(p.get("RetentionInDays"), int):
            groups.add(p["RetentionInDays"])
        elif r.type == "AWS::EC2::VPCEndpoint":
            endpoints += [n.rsplit(".", 1)[-1] for n in possible_strings(p.get("ServiceName")) if "bedrock" in n]
    found: dict[str, dict[str, str]] = {}
    if locks:
        value = "audit buckets: " + ", ".join(sorted(locks))
        if groups:
            value += "; log groups: " + ", ".join(f"{d} days" for d in sorted(groups))
        found["au-11"] = {"au-11_odp": value}
    if endpoints and all(e.endswith("-fips") for e in endpoints):
        found["sc-13"] = {"sc-13_odp.02": "FIPS-validated cryptography: Bedrock interface endpoints "
                                           + ", ".join(sorted(set(endpoints)))}
    return found


def _gate_status(control: str, errors: bool, known: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """The gate's own controls: listed with the matrix's status where a rule cites them, else by scope;
    not listed when the gate failed, on a rule or on an open perimeter path, report-only or not (the template
    it checked is not the one to deploy)."""
    if errors:
        return None
    status = (known or {}).get(control, {}).get("status")
    if status is not None:
        return status if status in LISTED else None
    return "partially-satisfied" if control_info(control).scope == "partial" else "satisfied-by-automated-check"


def _gate_requirements(stack: StackEvidence, facts: Sequence[str], identity: str,
                       known: Mapping[str, Mapping[str, Any]] | None = None,
                       file_name: str | None = None, gate_failed: str = "") -> list[dict[str, Any]]:
    """``gate_failed``: why the gate failed on this stack (the matrix's ``gate``), open perimeter paths included."""
    counts = Counter(result_of(f) for f in stack.findings)
    packs = sorted({f.pack for f in stack.findings})
    errors = blocking(stack.findings)
    outcome = (f"{gate_failed or f'{len(errors)} unsuppressed error(s)'}: the synth of this template fails unless "
               "run report-only" if errors or gate_failed else "no unsuppressed error: the gate passed")
    summary = (f"At synth of `{stack.environment}`, the packs {', '.join(packs)} produced {sum(counts.values())} "
               f"results on stack {stack.name}: {counts['compliant']} compliant, {counts['suppressed']} suppressed "
               f"with a reason, {counts['non-compliant']} non-compliant, {counts['error']} rule errors; {outcome}.")
    purpose = {
        "CA-7": "Every synth re-runs every rule on the template to be deployed (continuous monitoring of the "
                "configuration baseline before deployment).",
        "CM-6": "Configuration settings are checked against the NIST SP 800-53 r5 baseline encoded in the rules; "
                "deviations are recorded as suppressions with reasons.",
        "SA-11": "The packs are developer testing and evaluation run in CI on every change.",
        "SA-11(1)": "The rules are static analysis of the infrastructure code's output (the CloudFormation template).",
    }
    extra = f" Configuration: {' '.join(facts)}" if facts else ""
    requirements = []
    for c in GATE_CONTROLS:
        status = _gate_status(c, bool(errors) or bool(gate_failed), known)
        if status is None:
            continue
        info = control_info(c)
        rest = f" Not shown by the template: {info.not_checked}" if info.scope != "template" else ""
        requirements.append(_requirement("compliance-gate", identity, c, f"{purpose[c]} {summary}{extra}{rest}", [],
                                         status=status, file_name=file_name if c in (known or {}) else None))
    return requirements


def template_facts(stack: StackEvidence, component: str, members: Sequence[str]) -> list[str]:
    """What the template itself says about a component's configuration (complements the settings)."""
    facts: list[str] = []
    resources = [stack.template.resources[m] for m in members]
    if component == "private-link":
        services = sorted({name.rsplit(".", 1)[-1] for r in resources if r.type == "AWS::EC2::VPCEndpoint"
                           for name in possible_strings(r.properties.get("ServiceName"))})
        if services:
            facts.append(f"Template endpoint services: {', '.join(services)}.")
    for r in resources:
        p = r.properties
        label = stack.label(r.logical_id)
        if r.type == "AWS::S3::Bucket" and p.get("ObjectLockEnabled") is True:
            retention = ((p.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
            period = f"{retention['Days']} days" if retention.get("Days") else (
                f"{retention['Years']} years" if retention.get("Years") else "no default period")
            facts.append(f"Template bucket {label}: Object Lock {retention.get('Mode', 'without default mode')} "
                         f"{period}.")
        elif r.type == "AWS::Logs::LogGroup" and component != "private-link":
            days = p.get("RetentionInDays")
            facts.append(f"Template log group {label}: retention {days if days else 'never expires'}"
                         f"{' days' if days else ''}, {'KMS-encrypted' if p.get('KmsKeyId') else 'not KMS-encrypted'}.")
        elif r.type == "AWS::CloudTrail::Trail":
            flags = [name for name, key in (("multi-region", "IsMultiRegionTrail"), ("logging", "IsLogging"),
                                            ("log-file validation", "EnableLogFileValidation")) if p.get(key) is True]
            facts.append(f"Template trail {label}: {', '.join(flags) or 'none of multi-region, logging, validation'}.")
    if component == "model-access" and members:
        facts += boundary_facts(stack)
    return facts


def boundary_facts(stack: StackEvidence) -> list[str]:
    """Where the authorization boundary's data goes: the regions outside the stack's own where the models it grants
    may process prompts and completions (cross-region inference), from the template's grants and the model catalog."""
    entries = data_destinations(stack)
    if not entries:
        return []
    home = stack.region or "the stack's region"
    away = sorted({r for e in entries for r in e["outside_source_region"] or ()})
    away += ["any commercial AWS region"] if any(e["destinations"] is None for e in entries) else []
    uncertain = [e["model"] for e in entries if e["uncertain"]]
    if not away:
        lead = f"Data stays in the region: every model this stack grants processes prompts in {home} only."
    else:
        lead = (f"Data leaves the region: prompts and completions may be processed outside {home}, in "
                f"{', '.join(away)} (cross-region inference)"
                + (f"; the model catalog marks the destination regions of {', '.join(uncertain)} UNCERTAIN"
                   if uncertain else "") + ".")
    return [lead, *(destination_sentence(e) for e in entries)]


def boundary_props(stack: StackEvidence) -> list[dict[str, str]]:
    """One ``data-destination`` prop per granted model: ``<model>: <called in> -> <regions>[ (UNCERTAIN)]``."""
    return [_prop("data-destination", f"{e['model']}: {e['source_region'] or 'stack region'} -> {describe(e)}"
                  + (" (UNCERTAIN)" if e["uncertain"] else "")) for e in data_destinations(stack)]


def _resource_summary(stack: StackEvidence, members: Sequence[str]) -> str:
    types = Counter(stack.template.resources[m].type for m in members)
    return ", ".join(f"{n} {t}" for t, n in sorted(types.items()))


def build_component_definition(
    stacks: Sequence[StackEvidence],
    facts: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    version: str,
    digest: str,
    statuses: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    file_names: Mapping[str, str] | None = None,
    gate_failures: Mapping[str, str] | None = None,
    timestamp: str | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The OSCAL component definition (JSON-ready). ``facts``: environment -> component id -> sentences.

    ``statuses``: stack name -> control -> matrix entry (``matrix_digest(...)["controls"]``); a
    control is listed only with a status in ``LISTED``. ``file_names``: stack name -> the name its
    evidence files carry (links). ``gate_failures``: stack name -> why the gate failed there (the matrix's
    ``gate``: unsuppressed errors, open perimeter paths), "" where it passed. ``timestamp``: last-modified
    (default ``document_timestamp()``); ``provenance``: ``provenance.reference(...)``, cited in back-matter."""
    # The uuids of an environment's statements are derived from its name, so they stay the same from
    # synth to synth; a further stack of the environment (an audit replica) is told apart by its own name.
    first: dict[str, str] = {}
    for stack in sorted(stacks, key=lambda s: s.name):
        first.setdefault(stack.environment, stack.name)
    identity = {s.name: s.environment if first[s.environment] == s.name else s.name for s in stacks}
    label = {s.name: (file_names or {}).get(s.name) or identity[s.name] for s in stacks}
    components = []
    parameters = {s.name: template_parameters(s) for s in stacks}
    for spec in COMPONENTS:
        implementations: list[tuple[StackEvidence, dict[str, Any]]] = []
        objectives = objective_map()
        for stack in stacks:
            env = stack.environment
            members = component_members(stack)[spec.id]
            settings = facts.get(env)
            env_facts = [*(settings or {}).get(spec.id, ()), *template_facts(stack, spec.id, members)]
            if settings is None:
                env_facts.insert(0, "No settings for this environment in the configuration directory; statements "
                                    "come from the template only.")
            region = f", region {stack.region}" if stack.region else ""
            where = f"Environment `{env}` (stack {stack.name}{region})" + (
                f". {stack.deployment.rstrip('.')}" if stack.deployment else "")
            if spec.id == "compliance-gate":
                requirements = _gate_requirements(stack, env_facts, identity[stack.name],
                                                  (statuses or {}).get(stack.name), (file_names or {}).get(stack.name),
                                                  (gate_failures or {}).get(stack.name, ""))
                if not requirements:
                    continue
            else:
                if not members:
                    continue
                requirements = []
                evidence = _evidence(stack, spec.id, set(members))
                known = (statuses or {}).get(stack.name)
                for control in sorted(evidence, key=control_sort_key):
                    slot = evidence[control]
                    # Never listed: a rule failed on this component, or no rule passed on it.
                    if slot["fail"] or not slot["pass"]:
                        continue
                    status = (known or {}).get(control, {}).get("status")
                    if known is not None and status not in LISTED:
                        continue  # failed elsewhere in the stack, or organizational (never claimed)
                    if control in objectives.never or control in objectives.withdrawn:
                        continue  # no template shows it, or SP 800-53 r5 withdrew it: never on a component
                    if known is None and (slot["suppressed"] or control_info(control).scope != "template"):
                        continue  # without the matrix, only what passed outright
                    passed = "; ".join(f"{rule} passed on {_join(sorted(labels))}"
                                       for rule, labels in sorted(slot["pass"].items()))
                    remarks = None
                    if slot["suppressed"]:
                        kinds = {kind: "; ".join(f"{rule} on {_join(sorted(label for label, k in items if k == kind))}"
                                                 for rule, items in sorted(slot["suppressed"].items())
                                                 if any(k == kind for _, k in items))
                                 for kind in (RISK_ACCEPTED, VENDOR_JUSTIFICATION)}
                        remarks = " ".join(text for text in (
                            f"Risk accepted by a named approver (suppressed findings with their reasons): {kinds[RISK_ACCEPTED]}."
                            if kinds[RISK_ACCEPTED] else "",
                            "Vendor justification, not a risk acceptance (suppressed with a reason, no approver named): "
                            f"{kinds[VENDOR_JUSTIFICATION]}." if kinds[VENDOR_JUSTIFICATION] else "") if text)
                    info = control_info(control)
                    rest = f" Not shown by the template: {info.not_checked}" if info.scope != "template" else ""
                    verb = {"risk-accepted": "addresses, with an accepted risk,",
                            "partially-satisfied": "partially satisfies"}.get(status or "", "satisfies")
                    requirements.append(_requirement(
                        spec.id, identity[stack.name], control,
                        f"{spec.title} {verb} {control} in `{env}` (pre-deployment, template evidence). "
                        f"Evidence at synth: {passed}.{rest}",
                        [*slot["pass"]], remarks, status=status or "satisfied-by-automated-check",
                        file_name=(file_names or {}).get(stack.name),
                        parameters=parameters[stack.name].get(oscal_control_id(control))))
                if not requirements:
                    continue
            description = f"{where}. " + " ".join(env_facts)
            if members:
                description += f" Resources: {_resource_summary(stack, members)}."
            implementations.append((stack, {
                "uuid": stable_uuid("control-implementation", spec.id, identity[stack.name]),
                "source": CATALOG,
                "description": description,
                "props": [_prop("environment", env), _prop("stack", stack.name),
                          *([_prop("region", stack.region)] if stack.region else []),
                          *(boundary_props(stack) if spec.id == "model-access" else [])],
                "implemented-requirements": requirements,
            }))
        # One component per part and stack: trestle (ssp-generate, ssp-assemble) keys a component's statements by
        # its title and control, so one component holding every environment's implementation would keep only the
        # last environment's statement per control. Each environment's statement stays its own this way. A part
        # no stack implements is left out: it states nothing, and trestle's ssp-assemble fails on a component
        # without a control implementation.
        for stack, implementation in implementations:
            members = component_members(stack)[spec.id]
            components.append({
                "uuid": stable_uuid("component", spec.id, identity[stack.name]),
                "type": spec.type,
                "title": f"{spec.title} ({label[stack.name]})",
                "description": spec.description,
                "purpose": spec.purpose,
                "props": [_prop("component-id", spec.id), _prop("environment", stack.environment),
                          _prop("stack", stack.name),
                          *(_prop("cloudformation-type", t)
                            for t in sorted({stack.template.resources[m].type for m in members}))],
                "control-implementations": [implementation],
            })
    body = {
        "uuid": stable_uuid("component-definition", "compliant-bedrock"),
        "metadata": metadata(
            "compliant-bedrock: AWS CDK constructs for Amazon Bedrock under NIST SP 800-53 rev 5",
            timestamp=timestamp or document_timestamp(), version=version, digest=digest, provenance=provenance,
            props=[_prop("environment", s.environment) for s in stacks], roles=ROLES,
            remarks=f"{BASIS} Generated by compliant-bedrock's evidence writer (at every gated synth, or by "
                    "`python -m infra.report` over an existing cdk.out) from the synthesized cloud assembly: the "
                    "templates, the cdk-nag and Bedrock pack reports, and the environment settings the app states, "
                    "each checked against its template. One component "
                    "per part of the package and stack (prop component-id: the part; environment, stack: where), so "
                    "tools that key statements by component keep every environment's. implementation-status is "
                    "OSCAL's (implemented, partial, planned), evidence-status the control matrix's own. "
                    "last-modified is SOURCE_DATE_EPOCH, else the commit's time (never the clock), so equal "
                    "inputs give equal bytes; the prop inputs-sha256 identifies the synth, and the back-matter "
                    "resource provenance.json names the commit and the tool versions."),
        "components": components,
    }
    return oscal_document("component-definition", body, provenance)
