"""An OSCAL 1.2.1 system security plan skeleton per environment (``ssp-<env>.json``), from the synth's evidence.

What the templates show is filled in; what only the organization can write is a placeholder that says so ("to
be set by the system owner"), never a guess:

* ``system-characteristics``: the environment's stacks and regions, the authorization boundary and data flows
  (the diagrams, the regions the granted models may process prompts in), the status (under development: not
  deployed). Placeholders: the system's name, its information types and FIPS 199 categorization, its
  authorization, the parties holding its roles.
* ``system-implementation``: an inventory item per template resource (CloudFormation type, logical id, construct
  path), each linked to the package component it implements; the package's components as this environment
  configures them (the same uuids as in ``component-definition.json``); AWS as the leveraged provider. OSCAL's
  ``leveraged-authorizations`` needs the date AWS was authorized, which the package does not know and does not
  invent: AWS is a component whose authorization (level, date) is a placeholder, with the FedRAMP Marketplace as
  where to read it.
* ``control-implementation``: per control the component definition lists for this environment, a by-component
  statement per component, with OSCAL's ``implementation-status`` and the matrix's own status (prop
  ``evidence-status``), set-parameters, responsible roles and links to the matrix. Controls automation did not
  show are not listed: they are for the organization (``poam.json``'s scoping list).

``import-profile`` points at the NIST SP 800-53 rev 5 catalog: the organization selects its baseline profile
(FedRAMP Rev5 Low, Moderate, High), which is not vendored; ``trestle author ssp-generate`` needs it resolved.
The document is built directly and validated with trestle's ``SystemSecurityPlan`` model in the tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from .assembly import StackEvidence
from .components import COMPONENTS, component_members
from .oscal import CATALOG, boundary_facts
from .oscal_common import (
    NS,
    OWNER_ROLES,
    PLACEHOLDER,
    ROLES,
    document,
    inventory_items,
    metadata,
    owner_parties,
    party_uuid,
    prop,
    stable_uuid,
)
from .responsibility import BASIS

MARKETPLACE = "https://marketplace.fedramp.gov/products"
#: Props of a component-definition requirement that become the by-component's own fields, not props.
_NOT_PROPS = ("implementation-status",)


def _control_key(oscal_id: str) -> tuple[str, int, int]:
    """``ac-2`` < ``ac-2.1`` < ``ac-3`` < ``ac-17``."""
    family, _, rest = oscal_id.partition("-")
    number, _, enhancement = rest.partition(".")
    return family, int(number) if number.isdigit() else 0, int(enhancement) if enhancement.isdigit() else -1


def _placeholder(what: str) -> str:
    return f"Placeholder ({PLACEHOLDER}): {what}"


def _partition(region: str | None) -> str:
    if not region:
        return "the partition the stack is deployed to"
    if region.startswith("us-gov-"):
        return "AWS GovCloud (US)"
    if region.startswith("us-iso"):
        return "the AWS isolated regions"
    return "the AWS commercial regions"


def _env_components(component_definition: Mapping[str, Any], env: str) -> list[dict[str, Any]]:
    root = component_definition["component-definition"]
    return [c for c in root["components"]
            if {"name": "environment", "ns": NS, "value": env} in c["props"] and c.get("control-implementations")]


def _by_component(component: Mapping[str, Any], requirement: Mapping[str, Any], env: str) -> dict[str, Any]:
    status = next(p["value"] for p in requirement["props"] if p["name"] == "implementation-status")
    part = next(p["value"] for p in component["props"] if p["name"] == "component-id")
    stack = next(p["value"] for p in component["props"] if p["name"] == "stack")
    by: dict[str, Any] = {
        "component-uuid": component["uuid"],
        "uuid": stable_uuid("by-component", env, part, stack, requirement["control-id"]),
        "description": requirement["description"],
        "props": [p for p in requirement["props"] if p["name"] not in _NOT_PROPS],
        "implementation-status": {"state": status},
    }
    for key in ("links", "set-parameters", "responsible-roles", "remarks"):
        if requirement.get(key):
            by[key] = requirement[key]
    return by


def build_ssp(env: str, stacks: Sequence[StackEvidence], names: Mapping[str, str],
              component_definition: Mapping[str, Any], *, version: str, timestamp: str, digest: str,
              provenance: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The SSP skeleton of environment ``env`` (its stacks: ``stacks``), or None when the component definition
    states no control for it (an OSCAL SSP needs at least one implemented requirement)."""
    components = _env_components(component_definition, env)
    if not components:
        return None
    members = sorted(stacks, key=lambda s: (names[s.name] != env, s.name))
    own = members[0]
    regions = sorted({s.region for s in members if s.region})
    aws = {
        "uuid": stable_uuid("ssp-component", env, "aws"),
        "type": "service",
        "title": f"Amazon Web Services: {_partition(own.region)} (leveraged FedRAMP authorization)",
        "description": "The cloud service provider whose FedRAMP authorization this system leverages: the services "
                       "behind every inherited control and the provider's part of every shared one. "
                       + _placeholder("the authorization's level and date, from the FedRAMP Marketplace, and the "
                                      "provider's customer responsibility matrix."),
        "props": [prop("leveraged-authorization", _placeholder("level and date of AWS's FedRAMP authorization"))],
        "links": [{"href": MARKETPLACE, "rel": "reference", "text": "FedRAMP Marketplace"}],
        "status": {"state": "operational"},
        "responsible-roles": [{"role-id": "provider", "party-uuids": [party_uuid("aws")]}],
    }
    this_system = {
        "uuid": stable_uuid("ssp-component", env, "this-system"),
        "type": "this-system",
        "title": f"This system: environment {env}",
        "description": f"The whole system of environment {env}: the stacks below and the workload that calls Bedrock "
                       "through them. " + _placeholder("the workload and everything the templates do not show."),
        "status": {"state": "under-development", "remarks": "Pre-deployment: synthesized, not deployed."},
    }
    system_components = [this_system, aws]
    implemented: dict[tuple[str, str], list[str]] = defaultdict(list)  # (stack, logical id) -> component uuids
    specs = {spec.id: spec for spec in COMPONENTS}
    by_stack = {s.name: s for s in members}
    for component in components:
        part = next(p["value"] for p in component["props"] if p["name"] == "component-id")
        stack = next(p["value"] for p in component["props"] if p["name"] == "stack")
        system_components.append({
            "uuid": component["uuid"], "type": specs[part].type if part in specs else component["type"],
            "title": component["title"], "description": component["description"],
            "purpose": component.get("purpose", specs[part].purpose if part in specs else "-"),
            "props": component["props"],
            "status": {"state": "under-development", "remarks": "Pre-deployment: in the synthesized template."},
            "responsible-roles": [{"role-id": "customer", "party-uuids": [party_uuid("owner")]}],
        })
        if stack in by_stack:
            for logical_id in component_members(by_stack[stack])[part]:
                implemented[(stack, logical_id)].append(component["uuid"])
    inventory = [item for s in members for item in inventory_items(
        s, {lid: uuids for (name, lid), uuids in implemented.items() if name == s.name})]
    requirements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    order: list[str] = []
    for component in components:
        for implementation in component["control-implementations"]:
            for requirement in implementation["implemented-requirements"]:
                control = requirement["control-id"]
                if control not in requirements:
                    order.append(control)
                requirements[control].append(_by_component(component, requirement, env))
    flows = [sentence for s in members for sentence in boundary_facts(s)]
    diagrams = [{"uuid": stable_uuid("diagram", env, s.name),
                 "description": f"Authorization boundary and data flows of stack {s.name}, drawn from its template.",
                 "links": [{"href": f"./architecture-{names[s.name]}.svg", "rel": "diagram", "media-type": "image/svg+xml"}],
                 "caption": f"architecture-{names[s.name]}.svg"} for s in members]
    deployment = " ".join(s.deployment for s in members if s.deployment)
    characteristics: dict[str, Any] = {
        "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": stable_uuid("system", env)}],
        "system-name": _placeholder(f"the system's name (compliant-bedrock environment {env})"),
        "system-name-short": env,
        "description": (f"Amazon Bedrock inference for environment {env} in {', '.join(regions) or 'an unnamed region'}, "
                        f"deployed by the stacks {', '.join(s.name for s in members)}"
                        + (f": {own.description}" if own.description else "") + ". "
                        + (f"{deployment} " if deployment else "")
                        + _placeholder("the mission, the users and the workload the system serves.")),
        "props": [prop("environment", env), *(prop("stack", s.name) for s in members),
                  *(prop("region", r) for r in regions),
                  prop("fips-199-categorization", _placeholder("FIPS 199 security categorization")),
                  prop("evidence-basis", "pre-deployment (synthesized templates, not deployed resources)")],
        "system-information": {"information-types": [{
            "uuid": stable_uuid("information-type", env),
            "title": _placeholder("the information types of the workload"),
            "description": "Prompts and completions of the workload's model calls (recorded by invocation logging "
                           "where on), and the audit records of the trail. "
                           + _placeholder("their SP 800-60 types and impact levels."),
        }]},
        "status": {"state": "under-development",
                   "remarks": "Pre-deployment: the templates are synthesized and gated, not deployed."},
        "authorization-boundary": {
            "description": "The resources of the templates below (inventory), inside the account and region each "
                           "stack deploys to; Amazon Bedrock and the other AWS services are outside it, reached "
                           "through interface endpoints (leveraged). " + _placeholder("the boundary's final text."),
            "diagrams": diagrams,
        },
        "responsible-parties": owner_parties(("system-owner", "authorizing-official")),
        "remarks": _placeholder("authorization date, FIPS 199 categorization, parties. Everything else here is read "
                                "from the synthesized templates."),
    }
    if flows:
        characteristics["data-flow"] = {"description": " ".join(flows)}
    body = {
        "uuid": stable_uuid("system-security-plan", env),
        "metadata": metadata(
            f"compliant-bedrock: system security plan skeleton of environment {env}", timestamp=timestamp,
            version=version, digest=digest, provenance=provenance, roles=[*ROLES, *OWNER_ROLES],
            with_parties=True, responsible_parties=owner_parties(),
            remarks=f"{BASIS} A skeleton: what the templates show is filled in; every '{PLACEHOLDER}' is for the "
                    "organization to write. Implemented requirements are the component definition's for this "
                    "environment (implementation-status OSCAL's, evidence-status the matrix's); controls "
                    "automation did not show are not listed (poam.json's scoping list)."),
        "import-profile": {"href": CATALOG,
                           "remarks": _placeholder("the baseline profile (FedRAMP Rev5 Low, Moderate or High); the "
                                                   "controls below are ids of the NIST SP 800-53 rev 5 catalog.")},
        "system-characteristics": characteristics,
        "system-implementation": {
            "props": [prop("leveraged-authorization", _placeholder(
                f"AWS's FedRAMP authorization for {_partition(own.region)} (OSCAL's leveraged-authorizations needs "
                "its date, which the package does not know): see the AWS component"))],
            "components": system_components,
            **({"inventory-items": inventory} if inventory else {}),
        },
        "control-implementation": {
            "description": f"By component, as the templates of {env} configure the package's components (from the "
                           "component definition): only controls a rule or the perimeter proof showed.",
            "implemented-requirements": [{
                "uuid": stable_uuid("ssp-implemented-requirement", env, control),
                "control-id": control,
                "by-components": requirements[control],
            } for control in sorted(order, key=_control_key)],
        },
    }
    return document("system-security-plan", body, provenance)
