"""Evidence for auditors from a synthesized cloud assembly: every file an assessor files.

Pre-deployment evidence: it shows what the synthesized templates configure and what the rules found in
them; it is not a test of deployed resources (every file says so at the top). Writes into
``<cdk.out>/compliance/`` (next to the gate's ``findings.json``):

* ``matrix-<env>.json`` / ``.md``: NIST SP 800-53 r5 control -> rules -> resources -> result -> status;
* ``responsibility-<env>.md``: customer / shared / inherited per control, SSP starting text from the template;
* ``baseline-coverage.json`` / ``.md``: FedRAMP Rev5 Low, Moderate and High coverage per environment;
* ``component-definition.json``: OSCAL 1.2.1 component definition with each control's status;
* ``sdr-<env>.json`` / ``.md``: FedRAMP 20x Security Decision Record (Key Security Indicators);
* ``poam.json`` / ``.csv``: accepted risks, justified deviations and failed controls with FedRAMP's POA&M fields;
  baseline controls automation did not show in a separate scoping list;
* ``poam-oscal.json``: the same POA&M items as OSCAL 1.2.1 (observations, risks, poam-items);
* ``ssp-<env>.json``: an OSCAL 1.2.1 system security plan skeleton per environment (inventory, boundary, by-component
  implementation from the component definition; placeholders for what only the organization writes);
* ``assessment-results.json``: OSCAL 1.2.1 assessment results, one result per environment: the gate's rule results
  and the perimeter proof's decisions as observations, the matrices' statuses as findings per control objective;
* ``architecture-<env>.svg`` / ``.png``: the authorization boundary and data flows;
* ``summary.json`` / ``.md``: results per pack and stack, suppressions, unverified model ids, the perimeter proof
  (or why it did not run);
* ``index.md``: which file is for whom (pipeline, platform engineer, security administrator, assessor, FedRAMP
  package), with counts generated from the evidence model;
* ``provenance.json``: the commit and its dirty flag, the version of every tool, the sha256 of every input and
  the evidence date (cited with its sha256 by the OSCAL document, the SDRs and the summary).

Output is deterministic (sorted, no clock; timestamps are ``SOURCE_DATE_EPOCH`` or the commit's time,
never 1970: ``provenance.evidence_time``): two runs over the
same ``cdk.out`` write the same bytes. :class:`compliant_bedrock.ComplianceGate` calls :func:`generate` after
every synth; the reference app's ``python -m infra.report`` wraps it with facts from its configuration.
:func:`generate` writes each stack's files, builds the :class:`.model.EvidenceModel` once (:mod:`.build`) and
hands it to the one writer (:mod:`.write`), which runs the renderers (:mod:`.render`).
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from . import stack_cache
from .assembly import (
    AssemblyError,
    StackEvidence,
    environment_of,
    iter_assembly,
    read_assembly,
    stack_artifacts,
    stack_digest,
)
from .build import build_model, read_provenance
from .deployed import DeployedVerification, claims_of, read_verified
from .diagram import write_diagram
from .formats import is_uri
from .model import EvidenceModel, Options
from .provenance import ProvenanceError
from .render import render_stack, sdr_evidence, stack_files
from .sdr import UNSET_OVERVIEW, evidence_base
from .write import STACK_FILE_PATTERNS, write_evidence

__all__ = [
    "COMPLIANCE_DIR", "STACK_FILE_PATTERNS", "UNSET_OVERVIEW", "AssemblyError", "ProvenanceError", "build_evidence",
    "generate",
    "sdr_evidence", "stack_file_names", "stack_files", "write_stack_evidence",
]

COMPLIANCE_DIR = "compliance"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _version() -> str:
    try:
        return metadata.version("compliant-bedrock")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def stack_file_names(environments: Mapping[str, str]) -> dict[str, str]:
    """Stack name -> the name its per-stack files carry: its environment (``environments``: stack name
    -> environment); where an environment has several stacks (a replica stack shares its source's
    environment), the environment's own stack (``CompliantBedrock-<env>``) keeps it and the others carry
    their stack name (``commercial-replica``), so an environment's files do not move when it gains a replica."""
    count = Counter(environments.values())
    names = {stack: env if count[env] == 1 or stack == f"CompliantBedrock-{env}" else stack.removeprefix("CompliantBedrock-")
             for stack, env in environments.items()}
    if len(set(names.values())) < len(names):  # never two stacks' files under one name
        return {stack: env if count[env] == 1 else stack for stack, env in environments.items()}
    return names


def perimeter_of(dest: Path, name: str) -> dict[str, Any] | None:
    """The perimeter proof of environment ``name`` (``perimeter-<name>.json``, written by the synth that ran the
    proof just before the evidence), else None: its outcomes are checks of that environment's own stack."""
    proof_file = dest / f"perimeter-{name}.json"
    return orjson.loads(proof_file.read_bytes()) if proof_file.is_file() else None


#: Key of a :func:`write_stack_evidence` entry: the ``stack_digest`` its matrix was drawn from (never in a document).
DRAWN_FROM = "drawn_from"


def _write_matrix(outdir: Path, stack: StackEvidence, name: str, dest: Path,
                  verified: Sequence[DeployedVerification] | None = None, digest: str | None = None) -> dict[str, Any]:
    """A stack's matrix (JSON and Markdown) and responsibility files; returns its ``matrix_digest``."""
    files, entry = render_stack(stack, name, perimeter_of(dest, name), digest or stack_digest(outdir, stack),
                                read_verified(dest) if verified is None else verified)
    for file, text in files.items():
        _write(dest / file, text)
    return entry


def _stack_key(outdir: Path, stack: StackEvidence, name: str, dest: Path, digest: str,
               verified: Sequence[DeployedVerification]) -> str:
    proof = dest / f"perimeter-{name}.json"
    return stack_cache.stack_key(stack, name, digest, proof.read_bytes() if proof.is_file() else None,
                                 [{"file": v.file, "collected_at": v.collected_at, "by": v.collected_by, **c}
                                  for v, c in claims_of(verified, stack.name)])


def _matrix_after_the_proof(outdir: Path, stack: StackEvidence, name: str, dest: Path,
                            verified: Sequence[DeployedVerification]) -> dict[str, Any]:
    """A shard's stack drawn again with its environment's proof: its matrix and responsibility files (the diagram
    does not depend on the proof), from the evidence cache when nothing changed."""
    matrix_json, matrix_md, _, _, responsibility = stack_files(name)
    files = [matrix_json, matrix_md, responsibility]
    digest = stack_digest(outdir, stack)
    key = stack_cache.stack_key_of_files(_stack_key(outdir, stack, name, dest, digest, verified), files)
    cache_dir, entry_name = stack_cache.location(outdir), f"{name}.after-proof"
    cached = stack_cache.load(cache_dir, entry_name, key, dest, files)
    if cached is not None:
        return cached
    entry = _write_matrix(outdir, stack, name, dest, verified, digest)
    stack_cache.store(cache_dir, entry_name, key, dest, files, entry)
    return entry


def write_stack_evidence(outdir: Path, stacks: Sequence[StackEvidence] | None = None,
                         dest: Path | None = None) -> dict[str, dict[str, Any]]:
    """Each stack's own files (control matrix JSON and Markdown, diagram SVG and PNG) into ``dest``.

    Returns stack name -> ``{"name": file name, "totals": matrix totals}``: all that the documents
    spanning every stack (OSCAL, summary) need from a matrix, and under ``DRAWN_FROM`` the ``stack_digest``
    (template and pack reports) the matrix was drawn from. Each file depends on its own stack only, so shards of
    a parallel synth write their stacks' files themselves and the parent only adds the cross-stack documents.
    """
    if stacks is None:  # one stack in memory at a time
        environments = {name: environment_of(outdir, name, artifact) for name, artifact in stack_artifacts(outdir)}
        each: Iterable[StackEvidence] = iter_assembly(outdir)
    else:
        environments = {s.name: s.environment for s in stacks}
        each = stacks
    dest = dest or outdir / COMPLIANCE_DIR
    dest.mkdir(parents=True, exist_ok=True)
    names = stack_file_names(environments)
    verified = read_verified(dest)  # make verify's results, where it ran after this synth
    cache_dir = stack_cache.location(outdir)  # an unchanged stack's files are copied back, not drawn again
    rendered: list[tuple[str, str, dict[str, Any]]] = []
    done: dict[str, dict[str, Any]] = {}
    encoders = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=encoders) as pool:
        pending: deque[Future] = deque()
        for stack in each:
            name = names[stack.name]
            digest = stack_digest(outdir, stack)
            key = _stack_key(outdir, stack, name, dest, digest, verified)
            cached = stack_cache.load(cache_dir, name, key, dest, stack_files(name))
            if cached is not None:
                done[stack.name] = {**cached, DRAWN_FROM: digest}
                continue
            entry = _write_matrix(outdir, stack, name, dest, verified, digest)
            done[stack.name] = {**entry, DRAWN_FROM: digest}
            rendered.append((name, key, entry))
            _, _, svg, png, _ = stack_files(name)
            while len(pending) >= encoders:  # each waiting PNG holds a 12 MB bitmap: bound them
                pending.popleft().result()
            future = write_diagram(stack, dest / svg, dest / png, executor=pool)
            if future is not None:
                pending.append(future)
        for future in pending:
            future.result()  # an encoder's error is this call's error
    for name, key, entry in rendered:
        stack_cache.store(cache_dir, name, key, dest, stack_files(name), entry)
    return done


def build_evidence(outdir: Path, *, dest: Path | None = None,
             facts: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
             unverified: Mapping[str, Sequence[str]] | None = None,
             written_by_shards: Mapping[str, Mapping[str, Any]] | None = None,
             package_overview_uri: str = UNSET_OVERVIEW, perimeter_note: str | None = None,
             deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
             evidence_base_uri: str | None = None, source_dir: Path | None = None,
             config_files: Sequence[Path] = (),
             poam_plans: Mapping[str, Mapping[str, Any]] | None = None) -> EvidenceModel:
    """Each stack's own files into ``dest`` (or the shards' where they wrote them), then the evidence model of
    the assembly at ``outdir`` (:func:`generate` has the arguments). Raises as :func:`generate` does, before any
    file is written."""
    if not is_uri(package_overview_uri):
        raise ValueError(f"package overview URI {package_overview_uri!r} is not an absolute URI (RFC 3986), which "
                         "FedRAMP's schema requires for certificationPackageOverviewUri")
    stacks: list[StackEvidence] = read_assembly(outdir)
    dest = dest or outdir / COMPLIANCE_DIR
    dest.mkdir(parents=True, exist_ok=True)
    options = Options(evidence_base(evidence_base_uri), package_overview_uri, perimeter_note)
    provenance = read_provenance(outdir, dest, stacks, version=_version(), source_dir=source_dir,
                                 config_files=config_files)
    names = stack_file_names({s.name: s.environment for s in stacks})
    done = {k: v for k, v in (written_by_shards or {}).items() if names.get(k) == v["name"] and "controls" in v}
    verified = read_verified(dest)
    for stack in stacks:
        if stack.name not in done:
            continue
        # A shard drew its matrix before the proof ran (the proof's outcomes are checks too), and from the Bedrock
        # pack's report on its share of the assembly: the parent's report, judged against every stack (another
        # stack's SCPs or trail can decide a rule), may differ. Either way the matrix is drawn again.
        entry = done[stack.name]
        if entry.get("perimeter") != (dest / f"perimeter-{names[stack.name]}.json").is_file() \
                or entry.get(DRAWN_FROM) != stack_digest(outdir, stack):
            done[stack.name] = _matrix_after_the_proof(outdir, stack, names[stack.name], dest, verified)
    done.update(write_stack_evidence(outdir, [s for s in stacks if s.name not in done], dest))
    done = {name: {k: v for k, v in entry.items() if k != DRAWN_FROM} for name, entry in done.items()}
    return build_model(outdir, dest, stacks, done, names, version=_version(), options=options,
                        provenance=provenance, facts=facts, unverified=unverified, deviations=deviations,
                        poam_plans=poam_plans)


def generate(outdir: Path, *, dest: Path | None = None,
             facts: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
             unverified: Mapping[str, Sequence[str]] | None = None,
             written_by_shards: Mapping[str, Mapping[str, Any]] | None = None,
             package_overview_uri: str = UNSET_OVERVIEW, perimeter_note: str | None = None,
             deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
             evidence_base_uri: str | None = None, source_dir: Path | None = None,
             config_files: Sequence[Path] = (),
             poam_plans: Mapping[str, Mapping[str, Any]] | None = None) -> list[Path]:
    """Write every evidence file for the assembly at ``outdir``; return their paths (sorted).

    ``facts``: environment -> component id (``private-link``, ``model-access``, ``audit-trail``,
    ``invocation-logging``, ``guardrail``, ``compliance-gate``) -> sentences stating how that environment
    configures it, for the OSCAL statements (without them, statements come from the templates only).
    ``unverified``: environment -> model ids outside the catalog (listed in ``summary.md``).
    ``written_by_shards``: what ``write_stack_evidence`` returned where shards of a parallel synth
    already wrote those stacks' files into ``dest``; only the other stacks' files are written here.
    ``package_overview_uri``: the provider's Certification Package Overview, for the Security Decision Records.
    ``perimeter_note``: why no perimeter proof ran (stated in the summary instead of a proof result).
    ``deviations``: environment -> the deviations its configuration accepts, each a POA&M item
    (:func:`compliant_bedrock.evidence.poam.deviation_items`). ``poam_plans``: environment -> the organization's
    POA&M plans (``point_of_contact``; ``items``: POA&M item id -> ``scheduled_completion``, ``milestones``
    [{date, description}], ``point_of_contact``, ``original_risk_rating``, ``adjusted_risk_rating``,
    ``deviation_type``, ``vendor_dependency``); what none gives reads "to be set by the system owner".
    ``evidence_base_uri``: where the provider publishes these files (absolute URI); the SDRs' evidence
    locations are built on it (default: an unpublished-evidence URN). ``source_dir``: the git checkout of the
    configuration (default: the working directory); ``config_files``: the configuration files the app read.
    Both go into ``provenance.json``.
    Raises ``AssemblyError`` when ``outdir`` is not a synthesized assembly with pack reports, ValueError for a
    base URI that is not an absolute URI, and ``ProvenanceError`` when the evidence cannot be dated (no
    positive SOURCE_DATE_EPOCH and no commit): then nothing is written.
    """
    model = build_evidence(outdir, dest=dest, facts=facts, unverified=unverified, written_by_shards=written_by_shards,
                           package_overview_uri=package_overview_uri, perimeter_note=perimeter_note,
                           deviations=deviations, evidence_base_uri=evidence_base_uri, source_dir=source_dir,
                           config_files=config_files, poam_plans=poam_plans)
    return write_evidence(model, dest or outdir / COMPLIANCE_DIR, cache_dir=stack_cache.location(outdir))
