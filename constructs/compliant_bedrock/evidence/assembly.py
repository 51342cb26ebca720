"""The synthesized cloud assembly as evidence: each stack's template, its resources and its rule results.

Everything here is read from ``cdk.out`` (the manifest, the templates, the metadata files and the
pack reports through :func:`compliant_bedrock.compliance.gate.read_findings`), so the evidence
describes exactly what ``cdk deploy`` would deploy.

A template deployed through a StackSet (``AWS::CloudFormation::StackSet`` with a ``TemplateBody``, such as
the reference app's per-account baseline) is evidence too (:func:`stack_sets`): its own cloud assembly, with
its pack reports, is kept under ``cdk.out/stacksets/`` (never an artifact of the app's manifest, so
``cdk deploy`` cannot deploy it as a stack) and named by the StackSet's metadata; it counts only while its
template is the StackSet's ``TemplateBody`` byte for byte (as JSON).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from ..compliance.gate import REPORT_SUFFIX, Finding, read_findings, reports_by_stack
from ..compliance.template import Resource, Template, referenced_ids

#: Resources that are bookkeeping, not part of the system.
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
#: Construct-path segments that name an L2's CloudFormation resource rather than a thing of its own.
HIDDEN_SEGMENTS = frozenset({"Resource", "Default"})
#: Where an app keeps the cloud assemblies of the templates it deploys through StackSets (beside its stacks),
#: and the StackSet resource's metadata key naming one (relative to the app's assembly).
STACKSET_ASSEMBLIES = "stacksets"
STACKSET_ASSEMBLY_METADATA = "compliant-bedrock:assembly"


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
    #: Where its pack reports are, relative to the assembly ("": the assembly itself; a StackSet's template:
    #: its own assembly under ``stacksets/``).
    reports_dir: str = ""
    #: A StackSet's template: where the StackSet deploys it and which organization policies bind it.
    deployment: str = ""

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
        metadata.update(orjson.loads((outdir / extra).read_bytes()))
    paths: dict[str, str] = {}
    for path, entries in metadata.items():
        for entry in entries or []:
            if not isinstance(entry, dict) or entry.get("type") != "aws:cdk:logicalId":
                continue
            if isinstance(entry.get("data"), str):
                paths.setdefault(entry["data"], path.lstrip("/"))
    return paths


def read_assembly(outdir: Path) -> list[StackEvidence]:
    """Every CloudFormation stack of the assembly at ``outdir``, with its findings, by stack name; then the
    template of every StackSet whose own assembly was kept (:func:`stack_sets`)."""
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in read_findings(outdir):
        findings[finding.stack].append(finding)
    stacks = [_load(outdir, name, artifact, findings) for name, artifact in stack_artifacts(outdir)]
    members = stack_sets(outdir)
    for member in members:
        if member.problem:
            raise AssemblyError(member.problem)
    return stacks + [_load_stack_set(outdir, member) for member in members if member.assembly]


def iter_assembly(outdir: Path) -> Iterator[StackEvidence]:
    """The stacks of :func:`read_assembly` one at a time, each read with only its own reports: the
    memory of one stack, not of the assembly (a shard of a 50-environment synth holds 25)."""
    artifacts = stack_artifacts(outdir)
    names = {(name, (artifact.get("properties") or {}).get("stackName") or name) for name, artifact in artifacts}
    reports = reports_by_stack(outdir, {n for pair in names for n in pair})  # one listing of cdk.out for all
    for name, artifact in artifacts:
        stack_name = (artifact.get("properties") or {}).get("stackName") or name
        findings: dict[str, list[Finding]] = defaultdict(list)
        own = sorted({*reports[name], *reports[stack_name]})
        for finding in read_findings(outdir, stacks=(name, stack_name), reports=own):
            findings[finding.stack].append(finding)
        yield _load(outdir, name, artifact, findings)


def stack_artifacts(outdir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(artifact id, manifest entry) of each CloudFormation stack, sorted; the assembly checked usable."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise AssemblyError(f"{outdir}: no manifest.json; synthesize first (make synth)")
    manifest = orjson.loads(manifest_file.read_bytes())
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
    body = orjson.loads((outdir / artifact["properties"]["templateFile"]).read_bytes())
    return _environment_of(stack_name, body)


def _load(outdir: Path, name: str, artifact: dict[str, Any], findings: dict[str, list[Finding]]) -> StackEvidence:
    stack_name = (artifact.get("properties") or {}).get("stackName") or artifact.get("displayName") or name
    body = orjson.loads((outdir / artifact["properties"]["templateFile"]).read_bytes())
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
    reports = [r for s in stacks for r in (outdir / s.reports_dir).glob(f"*--{s.name}{REPORT_SUFFIX}")]
    return _digest([outdir / s.template_file for s in stacks] + reports)


def stack_digest(outdir: Path, stack: StackEvidence) -> str:
    """sha256 over one stack's template and its pack reports: what that stack's matrix is drawn from.

    Independent of the other stacks, so a stack's evidence is the same bytes whether it was
    synthesized alone, with others, or in a shard of a parallel synth.
    """
    return _digest([outdir / stack.template_file, *(outdir / stack.reports_dir).glob(f"*--{stack.name}{REPORT_SUFFIX}")])


def _digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for file in sorted(set(files)):
        if file.is_file():
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


# ---- templates deployed through StackSets ----------------------------------------------------------------
@dataclass(frozen=True)
class StackSetTemplate:
    """A StackSet of the assembly and the template it deploys as a stack instance into each target account
    and region (``StackSet-<stack set name>-<uuid>``), with what the evidence says about where it goes."""

    #: The app's stack that deploys the StackSet: its name, account and region (None when env-agnostic).
    holder: str
    holder_account: str | None
    holder_region: str | None
    logical_id: str
    stack_set_name: str
    permission_model: str
    template: dict[str, Any]
    #: (account, region) of every stack instance the StackSet names; OUs without accounts name none.
    instances: tuple[tuple[str, str], ...]
    organizational_units: tuple[str, ...]
    account_filter: str | None
    #: The template's stack in its own assembly (reports are ``<Pack>--<stack>-NagReport.json``) and the
    #: environment its evidence is named by (``matrix-<environment>``, ``perimeter-<environment>``).
    stack: str
    environment: str
    #: Its own assembly relative to the app's, when kept and holding this very template; else None.
    assembly: str | None
    #: Organization policies of the holder stack: (name, type, targets).
    policies: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    organization_id: str | None = None
    #: logical id -> construct path in its own assembly (``<stack>/<logical id>`` where none is known).
    paths: dict[str, str] = field(default_factory=dict)
    #: Why the assembly the metadata names cannot be used (missing, or another template): the evidence refuses
    #: to go on without it; the perimeter proof evaluates the ``TemplateBody`` itself.
    problem: str | None = None
    #: The StackSets of the same stack it is ordered with (``DependsOn`` either way: one deployment unit, such as the
    #: member baseline and its replicas), by name.
    linked: tuple[str, ...] = ()

    @property
    def accounts(self) -> list[str]:
        return sorted({a for a, _ in self.instances})

    @property
    def regions(self) -> list[str]:
        return sorted({r for _, r in self.instances})

    def deployment(self) -> str:
        """Where this template is deployed and which organization policies bind it, as the assembly says."""
        where = ", ".join(x for x in (self.holder_account and f"account {self.holder_account}", self.holder_region) if x)
        targets = (f"accounts {', '.join(self.accounts) or 'none listed'}"
                   + (f" ({self.account_filter} with OUs {', '.join(self.organizational_units)})"
                      if self.organizational_units else ""))
        text = (f"Not a stack of this app: the {self.permission_model.lower().replace('_', '-')} StackSet "
                f"`{self.stack_set_name}` of stack {self.holder}{f' ({where})' if where else ''} deploys this template "
                f"as stack instances StackSet-{self.stack_set_name}-<id> to {targets} in regions "
                f"{', '.join(self.regions) or 'none listed'}.")
        if self.policies:
            kinds: dict[str, list[str]] = {}
            for name, kind, _ in self.policies:
                kinds.setdefault(_POLICY_KINDS.get(kind, kind), []).append(name)
            policy_targets = sorted({t for _, _, targets in self.policies for t in targets})
            text += (f" The organization policies of {self.holder}"
                     + (f" (organization {self.organization_id})" if self.organization_id else "")
                     + " bind those accounts: " + "; ".join(f"{kind} {', '.join(sorted(kinds[kind]))}"
                                                             for kind in sorted(kinds, key=_kind_order))
                     + f"; attached to {', '.join(policy_targets)}")
            outside = [ou for ou in self.organizational_units if ou not in policy_targets]
            root = any(t.startswith("r-") for t in policy_targets)
            text += ("." if not outside or root else
                     f"; that {', '.join(outside)} lies below those targets is assumed, not checked offline.")
        else:
            text += " No organization policy of this stack binds them."
        return text


_POLICY_KINDS = {"SERVICE_CONTROL_POLICY": "SCPs", "RESOURCE_CONTROL_POLICY": "RCPs", "BEDROCK_POLICY": "Bedrock policy"}


_STACK_SET_TYPE = '"AWS::CloudFormation::StackSet"'


def _kind_order(kind: str) -> int:
    order = list(_POLICY_KINDS.values())
    return order.index(kind) if kind in order else len(order)


def stack_sets(outdir: Path) -> list[StackSetTemplate]:
    """Every StackSet of the assembly's stacks whose ``TemplateBody`` is JSON (a ``TemplateURL`` or a YAML
    body is not read), with its kept assembly when the StackSet's metadata names one and it holds this very
    template (else ``problem`` says why not: its reports would be evidence of something not deployed)."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        return []
    found: list[StackSetTemplate] = []
    for name, artifact in sorted((orjson.loads(manifest_file.read_bytes()).get("artifacts") or {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact.get("properties") or {}
        holder = props.get("stackName") or name
        text = (outdir / props["templateFile"]).read_text(encoding="utf-8")
        if _STACK_SET_TYPE not in text:
            continue
        body = json.loads(text)
        resources = body.get("Resources") or {}
        names = {lid: (r.get("Properties") or {}).get("StackSetName") for lid, r in resources.items()
                 if r.get("Type") == "AWS::CloudFormation::StackSet"}
        for logical_id, resource in sorted(resources.items()):
            if resource.get("Type") != "AWS::CloudFormation::StackSet":
                continue
            member = _stack_set(outdir, holder, artifact, body, logical_id, resource)
            if member is None:
                continue
            linked = {lid for lid, other in resources.items() if logical_id in _depends_on(other)}
            linked |= {lid for lid in _depends_on(resource)}
            found.append(replace(member, linked=tuple(sorted(
                str(names[lid]) for lid in linked if lid in names and lid != logical_id))))
    return found


def _depends_on(resource: dict[str, Any]) -> list[str]:
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def stack_set_assemblies(outdir: Path) -> set[str]:
    """The kept assemblies (relative paths) the StackSets of the assembly at ``outdir`` name in their metadata."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        return set()
    kept: set[str] = set()
    for artifact in (orjson.loads(manifest_file.read_bytes()).get("artifacts") or {}).values():
        template_file = (artifact.get("properties") or {}).get("templateFile")
        if artifact.get("type") != "aws:cloudformation:stack" or not (outdir / str(template_file)).is_file():
            continue
        text = (outdir / template_file).read_text(encoding="utf-8")
        if _STACK_SET_TYPE not in text:  # most stacks: no need to parse them
            continue
        for resource in (json.loads(text).get("Resources") or {}).values():
            value = (resource.get("Metadata") or {}).get(STACKSET_ASSEMBLY_METADATA)
            if resource.get("Type") == "AWS::CloudFormation::StackSet" and isinstance(value, str):
                kept.add(value)
    return kept


def _stack_set(outdir: Path, holder: str, artifact: dict[str, Any], body: dict[str, Any], logical_id: str,
               resource: dict[str, Any]) -> StackSetTemplate | None:
    from ..compliance.perimeter.discovery import ORGANIZATION_METADATA

    raw = resource.get("Properties") or {}
    text = raw.get("TemplateBody")
    try:
        template = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return None
    if not isinstance(template, dict) or not isinstance(raw.get("StackSetName"), str):
        return None
    instances: set[tuple[str, str]] = set()
    ous: list[str] = []
    filters: set[str] = set()
    for group in raw.get("StackInstancesGroup") or []:
        targets = group.get("DeploymentTargets") or {}
        ous += [str(ou) for ou in targets.get("OrganizationalUnitIds") or []]
        if targets.get("AccountFilterType"):
            filters.add(str(targets["AccountFilterType"]))
        instances |= {(str(a), str(r)) for a in targets.get("Accounts") or [] for r in group.get("Regions") or []}
    stack, environment, assembly, problem = raw["StackSetName"], None, None, None
    paths: dict[str, str] = {}
    kept = (resource.get("Metadata") or {}).get(STACKSET_ASSEMBLY_METADATA)
    if isinstance(kept, str):
        directory = outdir / kept
        where = f"{outdir}: StackSet {raw['StackSetName']} of {holder}: its assembly {kept}"
        members = _member_stacks(directory) if (directory / "manifest.json").is_file() else []
        problem = f"{where} is missing; synthesize again" if not members else (
            f"{where} holds another template than the StackSet deploys (an earlier synth's); synthesize again")
        for member_id, member in members:
            member_body = orjson.loads((directory / member["properties"]["templateFile"]).read_bytes())
            if member_body == template:
                stack = (member.get("properties") or {}).get("stackName") or member_id
                environment, assembly = environment_of(directory, member_id, member), kept
                paths, problem = _metadata_paths(directory, member), None
                break
    metadata = (body.get("Metadata") or {}).get(ORGANIZATION_METADATA)
    policies = tuple(sorted(
        (str(r["Properties"].get("Name")), str(r["Properties"].get("Type")),
         tuple(str(t) for t in r["Properties"].get("TargetIds") or []))
        for r in (body.get("Resources") or {}).values()
        if r.get("Type") == "AWS::Organizations::Policy" and isinstance(r.get("Properties"), dict)))
    account, region = _environment(artifact)
    for logical_id, resource in (template.get("Resources") or {}).items():
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        paths[logical_id] = path if isinstance(path, str) else paths.get(logical_id) or f"{stack}/{logical_id}"
    return StackSetTemplate(
        holder=holder, holder_account=account, holder_region=region, logical_id=logical_id,
        stack_set_name=raw["StackSetName"], permission_model=str(raw.get("PermissionModel") or "SELF_MANAGED"),
        template=template, instances=tuple(sorted(instances)), organizational_units=tuple(sorted(set(ous))),
        account_filter="/".join(sorted(filters)) or None, stack=stack,
        environment=environment or _environment_of(stack, template), assembly=assembly, policies=policies,
        organization_id=metadata.get("organization_id") if isinstance(metadata, dict) else None, paths=paths,
        problem=problem)


def _member_stacks(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    manifest = orjson.loads((directory / "manifest.json").read_bytes())
    return [(name, a) for name, a in sorted((manifest.get("artifacts") or {}).items())
            if a.get("type") == "aws:cloudformation:stack"]


def _environment(artifact: dict[str, Any]) -> tuple[str | None, str | None]:
    env = str(artifact.get("environment") or "")
    if not env.startswith("aws://"):
        return None, None
    account, _, region = env.removeprefix("aws://").partition("/")
    return (None if account.startswith("unknown") else account), (None if region.startswith("unknown") else region)


def _load_stack_set(outdir: Path, member: StackSetTemplate) -> StackEvidence:
    """The StackSet's template as a stack of the evidence, read from its own assembly (its reports there)."""
    directory = outdir / str(member.assembly)
    artifacts = dict(_member_stacks(directory))
    artifact_id = next(name for name, a in artifacts.items()
                       if ((a.get("properties") or {}).get("stackName") or name) == member.stack)
    findings: dict[str, list[Finding]] = defaultdict(list)
    for finding in read_findings(directory):
        findings[finding.stack].append(finding)
    stack = _load(directory, artifact_id, artifacts[artifact_id], findings)
    stack.template_file = f"{member.assembly}/{stack.template_file}"
    stack.reports_dir = str(member.assembly)
    stack.deployment = member.deployment()
    # The matrix's header ends the description with a full stop of its own.
    stack.description = " ".join(x for x in (stack.description and f"{stack.description}.", member.deployment()) if x)
    stack.description = stack.description.rstrip(".")
    return stack
