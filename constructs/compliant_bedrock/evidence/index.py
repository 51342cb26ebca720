"""``index.md``: which evidence file is for whom, with counts generated from the model.

Five readers open ``cdk.out/compliance/``: the pipeline (does the gate pass?), the platform engineer (what to
fix), the security administrator (what is accepted, what is open), the assessor or 3PAO (what each control's
status rests on) and whoever files with FedRAMP (OSCAL, POA&M, Security Decision Records). The index names
each file's reader and what it is for, and states its figures from the same model the files are rendered
from, so no figure is typed by hand. :func:`render_counts` is also the block ``docs/auditors.md`` carries
(``tools/auditor_counts.py`` copies it; a test compares them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from fnmatch import fnmatch
from typing import Any

from .matrix import RESULT_ORDER, STATUS_TEXT, result_of
from .model import EvidenceModel
from .renderer import Files, Manifest
from .responsibility import BASIS
from .sdr import ksi_data

INDEX_FILE = "index.md"
#: The markers around the generated counts (in index.md and in docs/auditors.md).
COUNTS_START = "<!-- evidence-counts:start (generated from the evidence model: tools/auditor_counts.py) -->"
COUNTS_END = "<!-- evidence-counts:end -->"

PIPELINE, ENGINEER, ADMIN, ASSESSOR, FEDRAMP = ("pipeline", "platform engineer", "security administrator",
                                                "assessor / 3PAO", "FedRAMP package")

#: (file pattern, readers, what it is for): the order an assessor walks the chain.
GUIDE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("findings.json", (PIPELINE, ENGINEER),
     "The gate's verdict (`passed`), every blocking finding and every suppressed one with its reason"),
    ("findings.sarif", (PIPELINE, ENGINEER), "The same findings as SARIF 2.1.0, for code-scanning tools"),
    ("summary.md", (ENGINEER, ADMIN),
     "Results per pack and stack, every suppression and its reason, unverified model ids, the perimeter proof"),
    ("summary.json", (PIPELINE,), "The summary, machine-readable"),
    ("matrix-*.md", (ADMIN, ASSESSOR),
     "Per stack: NIST SP 800-53 r5 control -> checks -> resources -> result -> status, with why"),
    ("matrix-*.json", (ASSESSOR,), "The control matrix, machine-readable (every rule result per resource)"),
    ("responsibility-*.md", (ADMIN, ASSESSOR),
     "Customer, shared or inherited per control, and SSP starting text traced to the template's values"),
    ("perimeter-*.md", (ADMIN, ASSESSOR),
     "The perimeter proof: each modelled request, the simulator's decision, the deciding statement, acceptances"),
    ("perimeter-*.json", (PIPELINE, ASSESSOR), "The perimeter proof, machine-readable"),
    ("architecture-*.svg", (ASSESSOR, ADMIN), "Authorization boundary and data flows drawn from the template"),
    ("architecture-*.png", (ASSESSOR,), "The same diagram as PNG"),
    ("baseline-coverage.md", (ASSESSOR, FEDRAMP), "FedRAMP Rev5 Low, Moderate and High coverage per stack"),
    ("baseline-coverage.json", (FEDRAMP,), "Baseline coverage, machine-readable"),
    ("component-definition.json", (ASSESSOR, FEDRAMP),
     "OSCAL 1.2.1 component definition: each component's statements and each control's status"),
    ("ssp-*.json", (ASSESSOR, FEDRAMP),
     "OSCAL SSP skeleton per environment: inventory, boundary, by-component implementation, placeholders"),
    ("assessment-results.json", (ASSESSOR,),
     "OSCAL assessment results: the gate's rule results and the proof's decisions as observations"),
    ("poam.csv", (ADMIN, FEDRAMP), "POA&M items with FedRAMP's fields (spreadsheet)"),
    ("poam.json", (ADMIN, ASSESSOR), "POA&M items with FedRAMP's fields, and the scoping rows apart"),
    ("poam-oscal.json", (FEDRAMP, ASSESSOR), "The POA&M items in OSCAL 1.2.1 (observations, risks, poam-items)"),
    ("sdr-*.md", (ADMIN, FEDRAMP), "FedRAMP 20x Security Decision Record per stack, human-readable"),
    ("sdr-*.json", (FEDRAMP,), "FedRAMP 20x Security Decision Record per stack (every KSI, cited evidence hashes)"),
    ("cfn-guard.json", (ASSESSOR,), "Supporting engine: cfn-guard with AWS Control Tower's proactive-control rules"),
    ("verified-*.md", (ADMIN, ASSESSOR),
     "make verify: each claim about a deployed account (confirmed, contradicted with its field, not verifiable), "
     "when it was read and by whom"),
    ("verified-*.json", (PIPELINE, ASSESSOR), "The deployed-state claims, machine-readable; *-oscal.json as OSCAL "
     "assessment results"),
    ("provenance.json", (ASSESSOR, FEDRAMP),
     "Commit and dirty flag, every tool's version, the sha256 of every input, the evidence date"),
)

_POAM_KINDS = ("not-satisfied", "risk-accepted", "vendor-justification")


def evidence_counts(model: EvidenceModel, poam: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, figure) rows of the evidence set; ``poam``: the POA&M the model renders (poam.json's document)."""
    poam_items = Counter(str(item["kind"]) for item in poam["items"])
    rows: list[tuple[str, str]] = []
    envs = model.environments
    templates = sum(1 for s in model.stacks if s.evidence.deployment)
    rows.append(("Stacks with evidence", f"{len(model.stacks)}: {len(model.stacks) - templates} of the app, "
                                         f"{templates} StackSet templates; {len(envs)} environments"))
    if model.verdict is not None:
        rows.append((f"Gate verdict (findings.json, the app's {model.verdict.stacks} stacks)",
                     f"{'passed' if model.verdict.passed else 'FAILED'}: {model.verdict.blocking} blocking, "
                     f"{model.verdict.suppressed} suppressed"))
    results: Counter[str] = Counter(result_of(f) for s in model.stacks for f in s.evidence.findings)
    rows.append(("Rule results (all packs, all stacks)", f"{sum(results.values())}: " + ", ".join(
        f"{results[r]} {r}" for r in RESULT_ORDER if results[r])))
    statuses: Counter[str] = Counter(status for s in model.stacks for status in s.statuses.values())
    rows.append(("Control statuses (control x stack)", f"{sum(statuses.values())}: " + ", ".join(
        f"{statuses[s]} {s}" for s in STATUS_TEXT if statuses[s])))
    unchecked = sum(len(s.matrix.get("unchecked_resources", [])) for s in model.stacks)
    rows.append(("Resources no pack reported on (cap the statuses they feed)", str(unchecked)))
    if model.perimeter:
        outcomes: Counter[str] = Counter()
        for proof in model.perimeter.values():
            outcomes.update(proof.counts)
        rows.append(("Perimeter proof requests (environments)", f"{sum(outcomes.values())} ({len(model.perimeter)}): "
                     + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))))
    else:
        rows.append(("Perimeter proof", f"not run: {model.options.perimeter_note or 'no proof in this evidence'}"))
    kinds = Counter(a.kind for a in model.acceptances())
    rows.append(("Acceptances", ", ".join(f"{kinds[k]} {k}" for k in ("suppression", "perimeter", "deviation"))))
    rows.append(("POA&M items (by kind)", f"{sum(poam_items.values())}: " + ", ".join(
        f"{poam_items[k]} {k}" for k in (*_POAM_KINDS, *sorted(set(poam_items) - set(_POAM_KINDS))) if poam_items[k])))
    rows.append(("POA&M scoping rows (controls automation did not show)", str(len(poam["scoping"]))))
    rows.append(("FedRAMP 20x KSIs per Security Decision Record", str(len(ksi_data()["indicators"]))))
    if model.supporting:
        by_result = Counter(o.result for o in model.supporting)
        rows.append(("Supporting observations (" + ", ".join(sorted({o.engine for o in model.supporting})) + ")",
                     f"{len(model.supporting)}: " + ", ".join(f"{by_result[r]} {r}" for r in ("fail", "pass", "skip")
                                                              if by_result[r])))
    else:
        rows.append(("Supporting observations", "none (no supporting engine's results in this evidence)"))
    if model.verified:  # make verify ran after this synth: claims about the deployed accounts
        claims = Counter(c["status"] for v in model.verified for c in v.claims)
        rows.append((f"Deployed-state claims (make verify, {len(model.verified)} environment(s))",
                     f"{sum(claims.values())}: " + ", ".join(f"{n} {s}" for s, n in sorted(claims.items()))))
    return rows


def render_counts(rows: list[tuple[str, str]]) -> str:
    """The counts block, between its markers."""
    lines = [COUNTS_START, "", "| Evidence | Count |", "|---|---|"]
    lines += [f"| {what} | {figure} |" for what, figure in rows]
    return "\n".join([*lines, "", COUNTS_END]) + "\n"


def render_index(model: EvidenceModel, written: Manifest, poam: Mapping[str, Any]) -> Files:
    """index.md: the guide to the files present (this run's and the gate's beside them) and the counts."""
    present = sorted({*written.files, *written.beside})
    lines = ["# Evidence index", "", BASIS, "",
             f"Evidence date {model.timestamp}; inputs sha256 `{model.inputs_sha256}`; "
             f"{len(present) + 1} files here (this one included).", "",
             "## Who opens what", "", "| Files | For | What it is for |", "|---|---|---|"]
    for pattern, readers, purpose in GUIDE:
        matched = [f for f in present if fnmatch(f, pattern)]
        if not matched:
            continue
        shown = f"`{matched[0]}`" if len(matched) == 1 else f"`{pattern}` ({len(matched)})"
        lines.append(f"| {shown} | {', '.join(readers)} | {purpose} |")
    unlisted = [f for f in present if not any(fnmatch(f, p) for p, _, _ in GUIDE)]
    if unlisted:
        lines.append(f"| {', '.join(f'`{f}`' for f in unlisted)} | | Not described here |")
    lines += ["", "## Counts", "", render_counts(evidence_counts(model, poam))]
    return {INDEX_FILE: "\n".join(lines)}
