"""What every OSCAL document of the package shares: identifiers, metadata, parties and roles, back-matter.

The component definition (:mod:`.oscal`), the assessment results (:mod:`.assessment`), the POA&M
(:mod:`.poam_oscal`) and the SSP skeletons (:mod:`.ssp`) are each a pure function of evidence already read
(the stacks, the matrices' digests, the perimeter documents, ``provenance.json``'s reference); this module gives
them one set of identifiers and one way to say who, when and from what.

Identifiers: :func:`stable_uuid` hashes its parts into a UUID with the version nibble 4 and the RFC 4122 variant
bits. OSCAL allows v4 and v5; compliance-trestle's SSP tooling (``ssp-assemble``, ``generic_oscal``) takes v4
only, so a v4-*format* identifier is what every tool accepts. It is deterministic (equal parts, equal UUID),
never random: two synths of one commit write the same bytes.

Statuses: the matrix's fine-grained statuses are the package's own; OSCAL's ``implementation-status`` takes
``implemented``, ``partial``, ``planned``, ``alternative`` or ``not-applicable``. :data:`IMPLEMENTATION_STATUS`
maps one onto the other; the fine-grained one travels beside it as the prop ``evidence-status``. Automation
never says ``alternative`` or ``not-applicable``: only the organization and its assessor decide those.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

OSCAL_VERSION = "1.2.1"
#: Namespace of this package's OSCAL props.
NS = "urn:compliant-bedrock:oscal"
#: Salt of the identifiers (the namespace the v5 identifiers of earlier versions were derived in).
UUID_NAMESPACE = uuid.UUID("7d1c5a0e-3b0f-5c55-9a3e-6b1f0c2d4e88")
#: What only the organization (system owner, authorizing official) can write: said so, never guessed.
PLACEHOLDER = "to be set by the system owner"

#: Matrix status -> OSCAL implementation-status. ``risk-accepted``: part of the control is in place and the
#: rest is a weakness an approver accepted (a POA&M item), so partial; ``not-satisfied``: a check failed, the
#: control is not in place until the POA&M item is closed, so planned. Not assessed by automation: no status.
IMPLEMENTATION_STATUS = {
    "satisfied-by-automated-check": "implemented",
    "partially-satisfied": "partial",
    "risk-accepted": "partial",
    "not-satisfied": "planned",
}
OSCAL_STATES = ("implemented", "partial", "planned", "alternative", "not-applicable")

ROLES = (
    {"id": "customer", "title": "Customer: the organization that deploys this package (configures the control)"},
    {"id": "provider", "title": "Cloud service provider: AWS (provides the service mechanism)"},
)
#: Roles only the organization fills in (SSP and POA&M): the party holding them is the placeholder party.
OWNER_ROLES = (
    {"id": "system-owner", "title": "System owner"},
    {"id": "authorizing-official", "title": "Authorizing official"},
    {"id": "poam-point-of-contact", "title": "POA&M point of contact"},
)


def stable_uuid(*parts: str) -> str:
    """A deterministic UUID in version-4 format: the sha256 of the parts (NUL-separated, so ``("a/b", "c")`` and
    ``("a", "b/c")`` differ) with the version nibble set to 4 and the RFC 4122 variant bits."""
    digest = hashlib.sha256(UUID_NAMESPACE.bytes + "\0".join(parts).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def prop(name: str, value: Any, ns: str | None = NS) -> dict[str, str]:
    """An OSCAL prop (whitespace collapsed; an empty value becomes ``-``, OSCAL forbids empty values).
    ``ns=None``: a prop of OSCAL's own namespace (``implementation-status``, ``marking``)."""
    out = {"name": name, "value": " ".join(str(value).split()) or "-"}
    if ns:
        out["ns"] = ns
    return out


def status_props(status: str) -> list[dict[str, str]]:
    """``implementation-status`` (OSCAL's value) and ``evidence-status`` (the matrix's own) for a listed status."""
    return [prop("implementation-status", IMPLEMENTATION_STATUS[status], ns=None), prop("evidence-status", status)]


def parties() -> list[dict[str, Any]]:
    """AWS (the leveraged provider), this package (the tool that wrote the evidence) and the placeholder party
    holding every role only the organization can fill."""
    return [
        {"uuid": party_uuid("aws"), "type": "organization", "name": "Amazon Web Services",
         "short-name": "AWS", "remarks": "Cloud service provider; its FedRAMP authorizations are leveraged."},
        {"uuid": party_uuid("package"), "type": "organization", "name": "compliant-bedrock",
         "remarks": "The open-source package whose synth-time gate, rule packs and perimeter proof wrote this "
                    "evidence (a tool, not an assessor)."},
        {"uuid": party_uuid("owner"), "type": "organization", "name": f"Placeholder: {PLACEHOLDER}",
         "remarks": f"Stands for every party only the organization can name ({PLACEHOLDER}): system owner, "
                    "authorizing official, POA&M point of contact."},
    ]


def party_uuid(name: str) -> str:
    return stable_uuid("party", name)


def owner_parties(roles: Iterable[str] = tuple(r["id"] for r in OWNER_ROLES)) -> list[dict[str, Any]]:
    """responsible-parties assigning each owner role to the placeholder party."""
    return [{"role-id": role, "party-uuids": [party_uuid("owner")],
             "remarks": PLACEHOLDER} for role in roles]


def provenance_resource(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The back-matter resource citing ``provenance.json`` (``provenance.reference``) with its sha256."""
    return {
        "uuid": stable_uuid("resource", "provenance"),
        "title": "Provenance of this evidence set",
        "description": "The git commit and dirty flag of the synthesized configuration, the version of every tool "
                       "that produced or judged the evidence, and the sha256 of every input (provenance.json).",
        "props": [prop("commit", provenance.get("commit") or "unknown"),
                  prop("dirty", "unknown" if provenance.get("dirty") is None else str(provenance["dirty"]).lower())],
        "rlinks": [{"href": provenance["location"], "media-type": "application/json",
                    "hashes": [{"algorithm": "SHA-256", "value": provenance["sha256"]}]}],
    }


def back_matter(provenance: Mapping[str, Any] | None,
                resources: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any] | None:
    found = [*([provenance_resource(provenance)] if provenance is not None else []), *resources]
    return {"resources": found} if found else None


def metadata(title: str, *, timestamp: str, version: str, remarks: str, digest: str | None = None,
             provenance: Mapping[str, Any] | None = None, props: Sequence[Mapping[str, str]] = (),
             roles: Sequence[Mapping[str, str]] = ROLES, with_parties: bool = False,
             responsible_parties: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A document's metadata: ``timestamp`` is the evidence date (``provenance.json``'s, never the clock);
    ``digest`` the synth's inputs sha256; ``provenance`` its reference (commit prop and a link to back-matter)."""
    meta: dict[str, Any] = {"title": title, "last-modified": timestamp, "version": version,
                            "oscal-version": OSCAL_VERSION, "roles": [dict(r) for r in roles]}
    found = [*([prop("inputs-sha256", digest)] if digest else []), *props]
    if provenance is not None:
        found.append(prop("source-commit", provenance.get("commit") or "unknown"))
        meta["links"] = [{"href": f"#{stable_uuid('resource', 'provenance')}", "rel": "provenance",
                          "text": "provenance.json: commit, tool versions, input sha256"}]
    if found:
        meta["props"] = found
    if with_parties:
        meta["parties"] = parties()
    if responsible_parties:
        meta["responsible-parties"] = [dict(r) for r in responsible_parties]
    meta["remarks"] = remarks
    return meta


def document(kind: str, body: Mapping[str, Any], provenance: Mapping[str, Any] | None,
             resources: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """``{kind: body + back-matter}``: the JSON root of an OSCAL document."""
    root = dict(body)
    matter = back_matter(provenance, resources)
    if matter:
        root["back-matter"] = matter
    return {kind: root}


#: The judges whose verdicts the evidence records (a POA&M item's ``weakness_detector``), as OSCAL tools.
JUDGES = {
    "pack rule": ("Rule packs at synth",
                  "cdk-nag's NIST SP 800-53 r5 and AWS Solutions packs and the package's Bedrock pack, run on every "
                  "resource of the synthesized CloudFormation template by the compliance gate."),
    "perimeter proof": ("Perimeter proof",
                        "An IAM policy simulator evaluating a matrix of modelled requests against the synthesized "
                        "policies (identity, endpoint, resource, organization): each request's decision and the "
                        "statements that decided it."),
    "configuration": ("Configuration validation at synth",
                      "The environment's settings, validated before any construct exists; a deviation the "
                      "configuration accepts (a non-FIPS endpoint, an unverified model id, UNCERTAIN destinations) "
                      "is recorded with its reason."),
    "compliance gate": ("Compliance gate verdict",
                        "The synth-time gate's verdict on the template (an unsuppressed error or an open perimeter "
                        "path fails it)."),
    "deployed-twin verification (make verify)": (
        "Deployed-twin verification",
        "make verify: a read-only read of the deployed account (stack, drift, trail, logging, guardrail, endpoint, key "
        "and bucket policies, alerts, organization policies) compared claim by claim with the synthesized template, "
        "the rule packs and the perimeter proof run again on the live policy documents."),
}


def judge_uuid(judge: str, *scope: str) -> str:
    """``scope``: where the judge is defined when one document defines it several times (a result's own)."""
    return stable_uuid("tool", judge, *scope)


def judge_components(judges: Iterable[str] = JUDGES, *scope: str) -> list[dict[str, Any]]:
    """The judges as OSCAL system components (type software), for local-definitions and origins' actors."""
    return [{"uuid": judge_uuid(j, *scope), "type": "software", "title": JUDGES[j][0], "description": JUDGES[j][1],
             "props": [prop("judge", j)], "status": {"state": "operational"}} for j in judges]


def origin(judge: str, *scope: str) -> dict[str, Any]:
    """An origin naming a judge (a tool) as its actor."""
    return {"actors": [{"type": "tool", "actor-uuid": judge_uuid(judge, *scope)}]}


def oscal_date(day: str) -> str:
    """``YYYY-MM-DD`` -> an OSCAL date-time with time zone (midnight UTC)."""
    return f"{day}T00:00:00Z"


def inventory_uuid(stack: str, logical_id: str) -> str:
    return stable_uuid("inventory-item", stack, logical_id)


def inventory_items(stack: Any, implemented: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """One inventory item per resource of ``stack`` (a :class:`.assembly.StackEvidence`): its CloudFormation type,
    logical id and construct path as props. ``implemented``: logical id -> uuids of the components it implements."""
    items = []
    for resource in stack.resources:
        item: dict[str, Any] = {
            "uuid": inventory_uuid(stack.name, resource.logical_id),
            "description": f"{resource.type} {stack.label(resource.logical_id)} of stack {stack.name} (template "
                           "resource; deployed by CloudFormation)",
            "props": [prop("cloudformation-type", resource.type), prop("logical-id", resource.logical_id),
                      prop("construct-path", stack.path(resource.logical_id)), prop("stack", stack.name),
                      *([prop("region", stack.region)] if stack.region else [])],
        }
        uses = (implemented or {}).get(resource.logical_id)
        if uses:
            item["implemented-components"] = [{"component-uuid": u} for u in uses]
        items.append(item)
    return items
