"""The evidence files spanning every stack, each a pure function of the :class:`.model.EvidenceModel`.

A renderer takes the model and the :class:`compliant_bedrock.evidence.renderer.Manifest` of the files written before it (name -> sha256) and
returns ``{file name: text}``; it reads no file, clock or environment variable. :data:`RENDERERS` is the
explicit list :func:`.write.write_evidence` runs, in order: a renderer that cites other files' hashes (the
SDRs) or lists them (the summary, the index) comes after the renderers that write them. A new artifact is a
new entry here and nothing else.

Each stack's own files are rendered per stack beforehand (:func:`render_stack` for the matrix and responsibility,
:mod:`.diagram` for the pictures) and written by :func:`.report.write_stack_evidence`: one stack in memory at a
time, and by the shards of a parallel synth; their matrices' digests are in the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .assembly import StackEvidence
from .assessment import build_assessment_results
from .baselines import build_coverage, render_coverage
from .deployed import DeployedVerification, annotate_matrix, contradiction_items
from .encoding import dump_json
from .index import INDEX_FILE, render_index
from .matrix import build_matrix, matrix_digest, render_markdown, render_responsibility
from .model import EvidenceModel
from .oscal import build_component_definition
from .poam import build_poam
from .poam import render_csv as render_poam_csv
from .poam_oscal import build_oscal_poam
from .provenance import PROVENANCE_FILE, record_metadata
from .renderer import Files, Manifest, Renderer
from .sdr import build_sdr, render_sdr
from .ssp import build_ssp
from .summary import build_summary, render_summary_markdown

COMPONENT_DEFINITION_FILE = "component-definition.json"
OSCAL_POAM_FILE = "poam-oscal.json"
ASSESSMENT_RESULTS_FILE = "assessment-results.json"
SUMMARY_FILES = ("summary.json", "summary.md")

def stack_files(name: str) -> list[str]:
    """The files of one stack (see :func:`.report.write_stack_evidence`)."""
    return [f"matrix-{name}.json", f"matrix-{name}.md", f"architecture-{name}.svg", f"architecture-{name}.png",
            f"responsibility-{name}.md"]


def render_stack(stack: StackEvidence, name: str, perimeter: Mapping[str, Any] | None,
                 digest: str, verified: Sequence[DeployedVerification] = ()) -> tuple[Files, dict[str, Any]]:
    """One stack's matrix (JSON and Markdown) and responsibility files, and the matrix digest the model keeps of it
    (``perimeter``: its environment's proof, whose outcomes are checks too; ``digest``: sha256 of its template and
    pack reports, named in the Markdown; ``verified``: ``make verify``'s results, the "verified in account" column).
    Per stack, so a shard of a parallel synth renders its own stacks."""
    matrix = build_matrix(stack, perimeter)
    annotate_matrix(matrix, verified)
    matrix_json, matrix_md, _, _, responsibility_md = stack_files(name)
    files = {matrix_json: dump_json(matrix), matrix_md: render_markdown(matrix, digest),
             responsibility_md: render_responsibility(matrix)}
    return files, {"name": name, "perimeter": perimeter is not None, **matrix_digest(matrix)}


def sdr_files(model: EvidenceModel) -> list[str]:
    return [f"sdr-{s.file_name}.{ext}" for s in model.stacks for ext in ("json", "md")]


def sdr_evidence(name: str) -> list[tuple[str, str, str]]:
    """(file, FedRAMP evidence type, description) a Security Decision Record cites; absent ones are skipped
    (``findings.json`` is the gate's; ``perimeter-<env>.json`` comes from the perimeter proof when it ran)."""
    return [
        (f"matrix-{name}.json", "Report", "Control matrix: every rule result per resource and each control's status"),
        (f"matrix-{name}.md", "Report", "Control matrix, human-readable"),
        (f"responsibility-{name}.md", "Report", "Responsibility per control and SSP starting text from the template"),
        (f"architecture-{name}.svg", "Configuration", "Authorization boundary and data flows drawn from the template"),
        (COMPONENT_DEFINITION_FILE, "Report", "OSCAL component definition with each control's status"),
        ("baseline-coverage.json", "Report", "FedRAMP Rev5 Low/Moderate/High coverage"),
        ("poam.json", "Report", "Plan of action and milestones: accepted risks and open gaps"),
        ("findings.json", "Audit Record", "The compliance gate's verdict and every blocking or suppressed finding"),
        (f"perimeter-{name}.json", "Report", "Perimeter proof: each modelled request, its decision and controls"),
        (PROVENANCE_FILE, "Audit Record", "Provenance: git commit and dirty flag, tool versions, sha256 of every input"),
    ]


# ---- the renderers ---------------------------------------------------------------------------------------
def render_provenance(model: EvidenceModel, _: Manifest) -> Files:
    return {PROVENANCE_FILE: model.provenance_text}


def component_definition(model: EvidenceModel) -> dict:
    """The OSCAL component definition of the model (the SSPs' by-component statements come from it)."""
    return build_component_definition(
        model.stack_evidence, model.facts, version=model.version, digest=model.inputs_sha256,
        statuses={s.name: s.matrix["controls"] for s in model.stacks}, file_names=model.names,
        gate_failures={s.name: s.matrix.get("gate_failed", "") for s in model.stacks},
        timestamp=model.timestamp, provenance=model.cited_provenance)


def render_oscal_components(model: EvidenceModel, _: Manifest) -> Files:
    """The component definition and, from it, an SSP skeleton per environment it states anything of."""
    document = component_definition(model)
    files = {COMPONENT_DEFINITION_FILE: dump_json(document)}
    stacks = model.stack_evidence
    for env in model.environments:
        ssp = build_ssp(env, [s for s in stacks if s.environment == env], model.names, document,
                        version=model.version, timestamp=model.timestamp, digest=model.inputs_sha256,
                        provenance=model.cited_provenance)
        if ssp is not None:  # an environment the component definition states nothing of has no SSP
            files[f"ssp-{env}.json"] = dump_json(ssp)
    return files


def render_assessment_results(model: EvidenceModel, _: Manifest) -> Files:
    results = build_assessment_results(
        model.stack_evidence, model.names, model.entries,
        {env: dict(proof.document) for env, proof in model.perimeter.items()}, version=model.version,
        timestamp=model.timestamp, digest=model.inputs_sha256, provenance=model.cited_provenance)
    return {ASSESSMENT_RESULTS_FILE: dump_json(results, indent=False)}


def render_baselines(model: EvidenceModel, _: Manifest) -> Files:
    coverage = build_coverage({s.file_name: s.statuses for s in model.stacks})
    return {"baseline-coverage.json": dump_json(coverage), "baseline-coverage.md": render_coverage(coverage)}


def poam_of(model: EvidenceModel) -> dict:
    return build_poam(model.stack_evidence, model.names, model.entries, model.deviations,
                      detected_on=model.timestamp[:10], plans=model.poam_plans,
                      contradictions=contradiction_items(model.verified, model.names))


def render_poam(model: EvidenceModel, _: Manifest) -> Files:
    """poam.json and .csv, and its OSCAL form when it has an item (OSCAL needs one: no weakness, no POA&M)."""
    poam = poam_of(model)
    files = {"poam.json": dump_json(poam), "poam.csv": render_poam_csv(poam)}
    oscal = build_oscal_poam(poam, version=model.version, timestamp=model.timestamp, digest=model.inputs_sha256,
                             provenance=model.cited_provenance)
    if oscal is not None:
        files[OSCAL_POAM_FILE] = dump_json(oscal)
    return files


def render_summary(model: EvidenceModel, written: Manifest) -> Files:
    """Results per pack and stack, listing every file of the evidence set (itself and the SDRs, written after it)."""
    perimeter = {env: {"passed": p.passed, "counts": p.counts, "file": p.files[1]}
                 for env, p in model.perimeter.items()}
    summary = build_summary(model.stack_evidence, {s.name: {"totals": s.matrix["totals"]} for s in model.stacks},
                            model.unverified, digest=model.inputs_sha256,
                            files=[*written.files, *SUMMARY_FILES, *sdr_files(model)], perimeter=perimeter,
                            perimeter_note=model.options.perimeter_note, provenance=model.cited_provenance)
    return {SUMMARY_FILES[0]: dump_json(summary), SUMMARY_FILES[1]: render_summary_markdown(summary)}


def render_sdrs(model: EvidenceModel, written: Manifest) -> Files:
    """A FedRAMP 20x Security Decision Record per stack, citing the sha256 of the files written before it."""
    metadata = record_metadata(model.version, model.provenance, model.cited_provenance)
    hashes = written.hashes()
    files: Files = {}
    for stack in model.stacks:
        name = stack.file_name
        sdr = build_sdr(name, stack.evidence, stack.matrix, sdr_evidence(name), hashes=hashes,
                        date=model.timestamp[:10], overview_uri=model.options.package_overview_uri,
                        base_uri=model.options.evidence_base, metadata=metadata)
        files[f"sdr-{name}.json"] = dump_json(sdr)
        files[f"sdr-{name}.md"] = render_sdr(name, sdr)
    return files


RENDERERS: tuple[Renderer, ...] = (
    Renderer("provenance", render_provenance, (PROVENANCE_FILE,)),
    Renderer("component definition and SSPs", render_oscal_components, (COMPONENT_DEFINITION_FILE, "ssp-*.json")),
    Renderer("assessment results", render_assessment_results, (ASSESSMENT_RESULTS_FILE,)),
    Renderer("baseline coverage", render_baselines, ("baseline-coverage.json", "baseline-coverage.md")),
    Renderer("POA&M", render_poam, ("poam.json", "poam.csv", OSCAL_POAM_FILE)),
    Renderer("summary", render_summary, SUMMARY_FILES),
    Renderer("security decision records", render_sdrs, ("sdr-*.json", "sdr-*.md")),
    Renderer("index", lambda model, written: render_index(model, written, poam_of(model)), (INDEX_FILE,)),
)
