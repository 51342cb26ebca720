"""Build the :class:`.model.EvidenceModel` of a synth once, from what the judges left in ``cdk.out``.

The only reader here: the assembly (templates, construct paths, pack reports), each stack's control matrix
digest (computed by the per-stack writer, or handed over by the shards of a parallel synth), the perimeter
proof's files, the gate's ``findings.json``, the provenance (commit, tools, input digests) and the results
of supporting engines. The renderers then read nothing but the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .assembly import StackEvidence, inputs_digest
from .deployed import read_verified
from .encoding import dump_json
from .facts import confirm_facts, templates_by_environment
from .model import EvidenceModel, Options, PerimeterProof, StackModel, SupportingObservation, Verdict
from .provenance import PROVENANCE_FILE, build_provenance, reference

#: Supporting engines: (its results file relative to ``cdk.out``, reader of ``cdk.out`` returning its observations).
#: An engine joins the evidence by one entry here; its reader runs only when its file exists, so a synth without
#: the engine has no supporting observations rather than an empty claim.
SupportingReader = Callable[[Path], Iterable[SupportingObservation]]


def _cfn_guard(outdir: Path) -> list[SupportingObservation]:
    """cfn-guard's results (``make synth`` runs it after the gate, then renders the evidence again with them)."""
    from ..compliance import cfn_guard

    return guard_observations(cfn_guard.read_results(outdir))


SUPPORTING_READERS: tuple[tuple[str, SupportingReader], ...] = (("compliance/cfn-guard.json", _cfn_guard),)

#: The gate's verdict file (written by ``compliance.gate.judge`` before the evidence).
FINDINGS_FILE = "findings.json"


def read_perimeter(dest: Path, environments: Iterable[str]) -> dict[str, PerimeterProof]:
    """Each environment's perimeter proof (``perimeter-<env>.json``, written by the synth that ran the proof just
    before the evidence), where there is one."""
    found: dict[str, PerimeterProof] = {}
    for env in sorted(set(environments)):
        proof_file = dest / f"perimeter-{env}.json"
        if proof_file.is_file():
            found[env] = PerimeterProof(env, orjson.loads(proof_file.read_bytes()))
    return found


def read_verdict(dest: Path) -> Verdict | None:
    """The gate's verdict from ``findings.json`` (None when the evidence is rewritten where the gate did not write)."""
    file = dest / FINDINGS_FILE
    if not file.is_file():
        return None
    document = orjson.loads(file.read_bytes())
    return Verdict(passed=bool(document["passed"]), blocking=len(document.get("blocking") or []),
                   suppressed=len(document.get("suppressed") or []),
                   stacks=len({key.split("/", 1)[1] for key in document.get("counts") or {}}))


def read_supporting(outdir: Path, readers: Sequence[tuple[str, SupportingReader]] = SUPPORTING_READERS
                    ) -> tuple[SupportingObservation, ...]:
    """Every supporting engine's observations whose results file is in ``outdir``, sorted (deterministic evidence)."""
    found: list[SupportingObservation] = []
    for file, reader in readers:
        if (outdir / file).is_file():
            found += reader(outdir)
    return tuple(sorted(found, key=lambda o: (o.engine, o.stack, o.resource, o.rule, o.result)))


def guard_observations(records: Iterable[Any]) -> list[SupportingObservation]:
    """cfn-guard's results (records with ``stack``, ``rule``, ``control_id``, ``resource`` (None for a skip),
    ``status`` (pass, fail, skip), ``message``, ``nist`` (AWS-documented mappings only), ``triage_verdict`` and
    ``triage_reason``) as supporting observations, the rule named by its Control Tower control id."""
    return [SupportingObservation(
        engine="cfn-guard", rule=f"{r.control_id} ({r.rule})" if r.control_id else str(r.rule), stack=str(r.stack),
        resource=r.resource or "", result=r.status, controls=tuple(r.nist), message=str(r.message),
        triage=f"{r.triage_verdict}: {r.triage_reason}" if r.triage_verdict else "") for r in records]


def _facts_with_proofs(stacks: Sequence[StackEvidence], facts: Mapping[str, Mapping[str, Sequence[str]]],
                       perimeter: Mapping[str, PerimeterProof]) -> dict[str, dict[str, list[str]]]:
    """The settings' sentences, and for each proven environment (one with settings, or a StackSet's template) the
    sentence of the component definition's gate statement that cites the perimeter decisions."""
    merged = {env: {k: list(v) for k, v in f.items()} for env, f in facts.items()}
    stack_set_templates = {s.environment for s in stacks if s.deployment}  # no settings, but a proof
    for env, proof in perimeter.items():
        if env in merged or env in stack_set_templates:
            counts = ", ".join(f"{v} {k}" for k, v in proof.counts.items())
            merged[env] = {**merged.get(env, {}), "compliance-gate": [*merged.get(env, {}).get("compliance-gate", []), (
                f"Perimeter proof (AC-3, AC-4, AC-6, SC-7, AU-9, SI-10): the request matrix was evaluated by an IAM "
                f"simulator against this synth's policies: {counts}; every decision, its deciding statement and "
                f"every acceptance's reason are in {proof.files[1]}.")]}
    return merged


def read_provenance(outdir: Path, dest: Path, stacks: Sequence[StackEvidence], *, version: str,
                    source_dir: Path | None = None, config_files: Sequence[Path] = ()) -> dict[str, Any]:
    """provenance.json's record: the commit, the tools, the sha256 of every input and the evidence date.

    Its own step, before any evidence file is written: it raises ``ProvenanceError`` when the evidence cannot
    be dated, and then nothing is written.
    """
    return build_provenance(outdir, stacks, dest, package_version=version, inputs_sha256=inputs_digest(outdir, stacks),
                            source_dir=source_dir, config_files=config_files)


def build_model(outdir: Path, dest: Path, stacks: Sequence[StackEvidence], entries: Mapping[str, Mapping[str, Any]],
                names: Mapping[str, str], *, version: str, options: Options, provenance: Mapping[str, Any],
                facts: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                unverified: Mapping[str, Sequence[str]] | None = None,
                deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                poam_plans: Mapping[str, Mapping[str, Any]] | None = None,
                supporting_readers: Sequence[tuple[str, SupportingReader]] = SUPPORTING_READERS) -> EvidenceModel:
    """The model of the assembly at ``outdir`` whose evidence goes to ``dest``.

    ``stacks``: the assembly as read once (:func:`.assembly.read_assembly`); ``entries``: stack name -> its
    matrix digest; ``names``: stack name -> the name its files carry; ``provenance``: :func:`read_provenance`;
    ``facts``: the settings' sentences, confirmed here against the templates (:func:`.facts.confirm_facts`).
    """
    text = dump_json(provenance)
    cited = reference(provenance, text.encode(), f"{options.evidence_base}{PROVENANCE_FILE}")
    environments = {s.environment for s in stacks}
    perimeter = read_perimeter(dest, environments)
    return EvidenceModel(
        version=version, inputs_sha256=str(provenance["inputs"]["sha256"]),
        stacks=tuple(StackModel(s.name, names[s.name], s.environment, s, entries[s.name]) for s in stacks),
        perimeter=perimeter,
        facts=_facts_with_proofs(stacks, confirm_facts(facts or {}, templates_by_environment(stacks)), perimeter),
        unverified={k: list(v) for k, v in (unverified or {}).items() if v and k in environments},
        deviations={k: list(v) for k, v in (deviations or {}).items() if k in environments},
        poam_plans=dict(poam_plans or {}),
        provenance=provenance, provenance_text=text, cited_provenance=cited, options=options,
        verdict=read_verdict(dest), supporting=read_supporting(outdir, supporting_readers),
        verified=read_verified(dest))
