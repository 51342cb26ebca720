"""An OSCAL 1.1 component definition of the package, with statements from the deployed configuration.

One defined component per part of the package (private link, model access, audit trail, invocation
logging, guardrail, compliance gate). For each environment whose template contains the component,
a control implementation against the NIST SP 800-53 rev 5 catalog says how it is configured there
(from the environment's settings) and which controls it implements: a control is listed when a rule
citing it passed on one of the component's resources and none failed on them.

Built from plain dicts (importing compliance-trestle would double the report's run time); the tests
validate the document with ``trestle.oscal.component.ComponentDefinition``. UUIDs are uuid5 of fixed
names and the timestamp comes from ``SOURCE_DATE_EPOCH`` (default 0), so equal inputs give equal bytes.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..compliance.gate import blocking
from ..compliance.template import possible_strings
from .assembly import StackEvidence
from .components import COMPONENTS, STACK_RULES, component_members
from .matrix import CONTROL_PACKS, control_sort_key, normalized_controls, oscal_control_id, result_of

OSCAL_VERSION = "1.1.2"
CATALOG = ("https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
           "NIST_SP-800-53_rev5_catalog.json")
#: Namespace of this package's OSCAL props, and of its uuid5 identifiers.
NS = "urn:compliant-bedrock:oscal"
UUID_NAMESPACE = uuid.UUID("7d1c5a0e-3b0f-5c55-9a3e-6b1f0c2d4e88")
#: Controls the compliance gate itself implements: monitoring, configuration settings, developer testing.
GATE_CONTROLS = ("CA-7", "CM-6", "SA-11", "SA-11(1)")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "/".join(parts)))


def document_timestamp() -> str:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds convention) as RFC 3339 UTC; 1970-01-01 when unset."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(raw) if raw.isdigit() else 0
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": " ".join(str(value).split()) or "-"}


def _join(items: Sequence[str], limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _evidence(stack: StackEvidence, component: str, members: set[str]) -> dict[str, dict[str, Any]]:
    """control -> {"pass": {rule: [labels]}, "fail": {...}, "suppressed": {rule: [(label, reason)]}}."""
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
                slot["suppressed"].setdefault(f.rule_id, set()).add(f"{label} ({f.reason})")
            else:
                slot["fail"].setdefault(f.rule_id, set()).add(label)
    return found


def _requirement(component: str, env: str, control: str, description: str, rules: Sequence[str],
                 remarks: str | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {
        "uuid": stable_uuid("implemented-requirement", component, env, control),
        "control-id": oscal_control_id(control),
        "description": description,
    }
    if rules:
        req["props"] = [_prop("evidence-rule", r) for r in sorted(rules)]
    if remarks:
        req["remarks"] = remarks
    return req


def _gate_requirements(stack: StackEvidence, facts: Sequence[str], identity: str) -> list[dict[str, Any]]:
    counts = Counter(result_of(f) for f in stack.findings)
    packs = sorted({f.pack for f in stack.findings})
    errors = blocking(stack.findings)
    outcome = (f"{len(errors)} unsuppressed error(s): the synth of this template fails unless run report-only"
               if errors else "no unsuppressed error: the gate passed")
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
    return [_requirement("compliance-gate", identity, c, f"{purpose[c]} {summary}{extra}", [])
            for c in GATE_CONTROLS]


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
    return facts


def _resource_summary(stack: StackEvidence, members: Sequence[str]) -> str:
    types = Counter(stack.template.resources[m].type for m in members)
    return ", ".join(f"{n} {t}" for t, n in sorted(types.items()))


def build_component_definition(
    stacks: Sequence[StackEvidence],
    facts: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    version: str,
    digest: str,
) -> dict[str, Any]:
    """The OSCAL component definition (JSON-ready). ``facts``: environment -> component id -> sentences."""
    # The uuids of an environment's statements are derived from its name, so they stay the same from
    # synth to synth; a further stack of the environment (an audit replica) is told apart by its own name.
    first: dict[str, str] = {}
    for stack in sorted(stacks, key=lambda s: s.name):
        first.setdefault(stack.environment, stack.name)
    identity = {s.name: s.environment if first[s.environment] == s.name else s.name for s in stacks}
    components = []
    for spec in COMPONENTS:
        implementations = []
        types: set[str] = set()
        for stack in stacks:
            env = stack.environment
            members = component_members(stack)[spec.id]
            settings = facts.get(env)
            env_facts = [*(settings or {}).get(spec.id, ()), *template_facts(stack, spec.id, members)]
            if settings is None:
                env_facts.insert(0, "No settings for this environment in the configuration directory; statements "
                                    "come from the template only.")
            types |= {stack.template.resources[m].type for m in members}
            region = f", region {stack.region}" if stack.region else ""
            where = f"Environment `{env}` (stack {stack.name}{region})"
            if spec.id == "compliance-gate":
                requirements = _gate_requirements(stack, env_facts, identity[stack.name])
            else:
                if not members:
                    continue
                requirements = []
                accepted: list[str] = []
                evidence = _evidence(stack, spec.id, set(members))
                for control in sorted(evidence, key=control_sort_key):
                    slot = evidence[control]
                    if slot["suppressed"] and not slot["fail"]:
                        # A risk-accepted result: the control is not claimed as implemented here.
                        accepted.append(f"{control} (" + "; ".join(
                            f"{rule} suppressed on {_join(sorted(items))}"
                            for rule, items in sorted(slot["suppressed"].items())) + ")")
                        continue
                    if not slot["pass"] or slot["fail"]:
                        continue
                    passed = "; ".join(f"{rule} passed on {_join(sorted(labels))}"
                                       for rule, labels in sorted(slot["pass"].items()))
                    requirements.append(_requirement(
                        spec.id, identity[stack.name], control,
                        f"{spec.title} implements {control} in `{env}`. Evidence at synth: {passed}.",
                        [*slot["pass"]]))
                if not requirements:
                    continue
                if accepted:
                    env_facts = [*env_facts, "Risk-accepted, not claimed as implemented: " + "; ".join(accepted) + "."]
            description = f"{where}. " + " ".join(env_facts)
            if members:
                description += f" Resources: {_resource_summary(stack, members)}."
            implementations.append({
                "uuid": stable_uuid("control-implementation", spec.id, identity[stack.name]),
                "source": CATALOG,
                "description": description,
                "props": [_prop("environment", env), _prop("stack", stack.name),
                          *([_prop("region", stack.region)] if stack.region else [])],
                "implemented-requirements": requirements,
            })
        component: dict[str, Any] = {
            "uuid": stable_uuid("component", spec.id),
            "type": spec.type,
            "title": spec.title,
            "description": spec.description,
            "purpose": spec.purpose,
            "props": [_prop("component-id", spec.id),
                      *(_prop("cloudformation-type", t) for t in sorted(types))],
        }
        if implementations:
            component["control-implementations"] = implementations
        components.append(component)
    return {
        "component-definition": {
            "uuid": stable_uuid("component-definition", "compliant-bedrock"),
            "metadata": {
                "title": "compliant-bedrock: AWS CDK constructs for Amazon Bedrock under NIST SP 800-53 rev 5",
                "last-modified": document_timestamp(),
                "version": version,
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("inputs-sha256", digest),
                          *(_prop("environment", s.environment) for s in stacks)],
                "remarks": "Generated by `python -m infra.report` from the synthesized cloud assembly (cdk.out): "
                           "the templates, the cdk-nag and Bedrock pack reports, and the environment settings. "
                           "last-modified is SOURCE_DATE_EPOCH (1970-01-01 when unset), so equal inputs give equal "
                           "bytes; the prop inputs-sha256 identifies the synth.",
            },
            "components": components,
        }
    }
