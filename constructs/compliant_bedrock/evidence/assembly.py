"""The synthesized cloud assembly as evidence: each stack's template, its resources and its rule results.

Everything here is read from ``cdk.out`` (the manifest, the templates, the metadata files and the
pack reports through :func:`compliant_bedrock.compliance.gate.read_findings`), so the evidence
describes exactly what ``cdk deploy`` would deploy.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compliance.gate import REPORT_SUFFIX, Finding, read_findings
from ..compliance.template import Resource, Template, referenced_ids

#: Resources that are bookkeeping, not part of the system.
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
#: Construct-path segments that name an L2's CloudFormation resource rather than a thing of its own.
HIDDEN_SEGMENTS = frozenset({"Resource", "Default"})


class AssemblyError(Exception):
    """``cdk.out`` is missing or is not a synthesized cloud assembly with pack reports."""


@dataclass
class StackEvidence:
    """One stack of the assembly: template, resource paths and every rule result on it."""

    name: str
    environment: str
    region: str | None
    account: str | None
    description: str
    template: Template
    template_file: str
    #: logical id -> construct path (no leading slash), from the metadata or the template.
    paths: dict[str, str]
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_path = {path: logical_id for logical_id, path in self.paths.items()}
        self._references: dict[str, list[str]] = {}
        self._resources: list[Resource] | None = None
        #: component id -> member logical ids, filled by ``evidence.components.component_members``.
        self._component_members: dict[str, list[str]] | None = None

    @property
    def resources(self) -> list[Resource]:
        """The stack's resources (bookkeeping excluded), in logical-id order."""
        if self._resources is None:  # the matrix, the diagram and the OSCAL document all walk them
            self._resources = [r for _, r in sorted(self.template.resources.items()) if r.type not in IGNORED_TYPES]
        return self._resources

    def logical_id(self, resource_id: str) -> str | None:
        """The logical id a report's ``resourceId`` names (a construct path or a logical id), else None."""
        if resource_id in self._by_path:
            return self._by_path[resource_id]
        if resource_id in self.template.resources:
            return resource_id
        return None

    def path(self, logical_id: str) -> str:
        return self.paths.get(logical_id, logical_id)

    def label(self, logical_id: str) -> str:
        """A short readable name: the construct path below the stack, without ``/Resource``."""
        parts = [p for p in self.path(logical_id).split("/") if p]
        if parts and parts[0] == self.name:
            parts = parts[1:]
        while len(parts) > 1 and parts[-1] in HIDDEN_SEGMENTS:
            parts.pop()
        return "/".join(parts) or logical_id

    def references(self, logical_id: str) -> list[str]:
        """Resources this one points at through Ref or Fn::GetAtt (Fn::Sub names too), sorted."""
        cached = self._references.get(logical_id)
        if cached is None:  # asked once per component and diagram edge: walk each resource's properties once
            resource = self.template.resources[logical_id]
            body = (self.template.body.get("Resources") or {}).get(logical_id) or {}
            found = referenced_ids(resource.properties) | _sub_references(body.get("Properties"))
            cached = sorted(r for r in found if r != logical_id and r in self.template.resources
                            and self.template.resources[r].type not in IGNORED_TYPES)
            self._references[logical_id] = cached
        return list(cached)

    def findings_of(self, packs: Iterable[str] | None = None) -> list[Finding]:
        wanted = None if packs is None else set(packs)
        return [f for f in self.findings if wanted is None or f.pack in wanted]


def _sub_references(value: Any) -> set[str]:
    """Logical ids named as ``${Id}`` or ``${Id.Attr}`` inside Fn::Sub strings."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    for piece in text.split("${")[1:]:
                        name = piece.split("}")[0].split(".")[0]
                        if name and not name.startswith(("AWS::", "!")):
                            found.add(name)
            found |= _sub_references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _sub_references(inner)
    return found


def _environment_of(name: str, template: dict[str, Any]) -> str:
    """The ``Environment`` tag most resources carry, else the stack name without its prefix."""
    votes: Counter[str] = Counter()
    for resource in (template.get("Resources") or {}).values():
        tags = (resource.get("Properties") or {}).get("Tags")
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, dict) and tag.get("Key") == "Environment" and isinstance(tag.get("Value"), str):
                    votes[tag["Value"]] += 1
        elif isinstance(tags, dict) and isinstance(tags.get("Environment"), str):
            votes[tags["Environment"]] += 1
    if votes:
        return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return name.removeprefix("CompliantBedrock-")


def _metadata_paths(outdir: Path, artifact: dict[str, Any]) -> dict[str, str]:
    """logical id -> construct path from ``aws:cdk:logicalId`` metadata (inline or in the metadata file)."""
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if extra and (outdir / extra).is_file():
        metadata.update(json.loads((outdir / extra).read_text(encoding="utf-8")))
    paths: dict[str, str] = {}
    for path, entries in metadata.items():
        for entry in entries or []:
            if not isinstance(entry, dict) or entry.get("type") != "aws:cdk:logicalId":
                continue
            if isinstance(entry.get("data"), str):
                paths.setdefault(entry["data"], path.lstrip("/"))
    return paths


def read_assembly(outdir: Path) -> list[StackEvidence]:
    """Every CloudFormation stack of the assembly at ``outdir``, with its findings, by stack name."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in read_findings(outdir):
        findings[finding.stack].append(finding)
    return [_load(outdir, name, artifact, findings) for name, artifact in stack_artifacts(outdir)]


def iter_assembly(outdir: Path) -> Iterator[StackEvidence]:
    """The stacks of :func:`read_assembly` one at a time, each read with only its own reports: the
    memory of one stack, not of the assembly (a shard of a 50-environment synth holds 25)."""
    for name, artifact in stack_artifacts(outdir):
        stack_name = (artifact.get("properties") or {}).get("stackName") or name
        findings: dict[str, list[Finding]] = defaultdict(list)
        for finding in read_findings(outdir, stacks=(name, stack_name)):
            findings[finding.stack].append(finding)
        yield _load(outdir, name, artifact, findings)


def stack_artifacts(outdir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(artifact id, manifest entry) of each CloudFormation stack, sorted; the assembly checked usable."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise AssemblyError(f"{outdir}: no manifest.json; synthesize first (make synth)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    artifacts = [(name, artifact) for name, artifact in sorted((manifest.get("artifacts") or {}).items())
                 if artifact.get("type") == "aws:cloudformation:stack"]
    if not artifacts:
        raise AssemblyError(f"{outdir}: the assembly has no CloudFormation stack")
    if not any(r for name, _ in artifacts for r in outdir.glob(f"*--{name}{REPORT_SUFFIX}")):
        raise AssemblyError(f"{outdir}: no *{REPORT_SUFFIX}; synthesize with the compliance packs attached")
    return artifacts


def environment_of(outdir: Path, name: str, artifact: dict[str, Any]) -> str:
    """The environment a stack belongs to, from its template (see ``StackEvidence.environment``)."""
    stack_name = (artifact.get("properties") or {}).get("stackName") or artifact.get("displayName") or name
    body = json.loads((outdir / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
    return _environment_of(stack_name, body)


def _load(outdir: Path, name: str, artifact: dict[str, Any], findings: dict[str, list[Finding]]) -> StackEvidence:
    stack_name = (artifact.get("properties") or {}).get("stackName") or artifact.get("displayName") or name
    body = json.loads((outdir / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
    paths = _metadata_paths(outdir, artifact)
    for logical_id, resource in (body.get("Resources") or {}).items():
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        if isinstance(path, str):
            paths[logical_id] = path
    account, region = None, None
    env = str(artifact.get("environment") or "")
    if env.startswith("aws://"):
        acct, _, reg = env.removeprefix("aws://").partition("/")
        account = None if acct.startswith("unknown") else acct
        region = None if reg.startswith("unknown") else reg
    return StackEvidence(
        name=name,
        environment=_environment_of(stack_name, body),
        region=region,
        account=account,
        description=str(body.get("Description") or ""),
        template=Template(name, body, region),
        template_file=artifact["properties"]["templateFile"],
        paths=paths,
        findings=sorted(findings.get(name, []) or findings.get(stack_name, []), key=_finding_key),
    )


def _finding_key(f: Finding) -> tuple[str, ...]:
    return (f.pack, f.rule_id, f.resource, f.compliance, f.reason or "", f.level)


def inputs_digest(outdir: Path, stacks: Iterable[StackEvidence]) -> str:
    """sha256 over the templates and pack reports the evidence is drawn from (names the synth)."""
    stacks = list(stacks)
    reports = [r for s in stacks for r in outdir.glob(f"*--{s.name}{REPORT_SUFFIX}")]
    return _digest([outdir / s.template_file for s in stacks] + reports)


def stack_digest(outdir: Path, stack: StackEvidence) -> str:
    """sha256 over one stack's template and its pack reports: what that stack's matrix is drawn from.

    Independent of the other stacks, so a stack's evidence is the same bytes whether it was
    synthesized alone, with others, or in a shard of a parallel synth.
    """
    return _digest([outdir / stack.template_file, *outdir.glob(f"*--{stack.name}{REPORT_SUFFIX}")])


def _digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for file in sorted(set(files)):
        if file.is_file():
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()
