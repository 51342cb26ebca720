"""The evidence of one synth as one immutable value: what every judge found, read once.

Every evidence file is a rendering of this model (:mod:`.render`): the control matrices' statuses, the
perimeter proof's decisions, the acceptances, the settings' facts and the provenance are read from
``cdk.out`` once, by :func:`.build.build_model`, instead of each artifact re-reading the assembly and the
files the others wrote. A new artifact is then a new renderer and nothing else; a new judge (cfn-guard) is
a new field here, filled by ``build`` and read by the renderers that cite it.

The dataclasses are frozen. The documents they carry (a proof's JSON, the provenance record, a matrix's
digest) are plain mappings so the renderers can hand them to ``orjson`` as they are; renderers treat them as
read-only, and ``tests/test_evidence_model.py`` checks that rendering leaves the model unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .assembly import StackEvidence
from .deployed import DeployedVerification

#: What a supporting engine may say of a resource.
SupportingResult = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class SupportingObservation:
    """One result of a supporting engine (such as cfn-guard over the templates) on one resource.

    Supporting evidence only: it never satisfies a control on its own and never fails the gate. ``controls``
    are NIST SP 800-53 r5 ids only where the engine's vendor documents the mapping (empty otherwise: an
    invented mapping would be a claim no check showed); ``triage``: the reviewed verdict on a known false
    positive, with its reason, else empty.
    """

    engine: str
    rule: str
    stack: str
    resource: str
    result: SupportingResult
    controls: tuple[str, ...] = ()
    message: str = ""
    triage: str = ""


@dataclass(frozen=True)
class StackModel:
    """One stack of the assembly as the evidence sees it.

    ``evidence``: its template, resources, construct paths and every rule finding on it (read once from
    ``cdk.out``); ``matrix``: its control matrix's digest (each control's status, the rules' tallies, the accepted
    perimeter paths, the unchecked resources; ``evidence.matrix.matrix_digest``), which
    every cross-stack document uses instead of rebuilding the matrix; ``file_name``: the name its files carry
    (``matrix-<file_name>.json``).
    """

    name: str
    file_name: str
    environment: str
    evidence: StackEvidence
    matrix: Mapping[str, Any]

    @property
    def statuses(self) -> dict[str, str]:
        """Control id -> its status in this stack's matrix."""
        return {control: entry["status"] for control, entry in self.matrix["controls"].items()}


@dataclass(frozen=True)
class PerimeterProof:
    """The perimeter proof's result for one environment: ``perimeter-<environment>.json`` as the proof wrote it
    (every modelled request, its decision and deciding statements, every acceptance's reason)."""

    environment: str
    document: Mapping[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.document["passed"])

    @property
    def counts(self) -> Mapping[str, int]:
        return self.document["counts"]

    @property
    def files(self) -> tuple[str, str]:
        return f"perimeter-{self.environment}.json", f"perimeter-{self.environment}.md"


@dataclass(frozen=True)
class Verdict:
    """The gate's verdict as ``findings.json`` states it (None where the evidence was rewritten without it)."""

    passed: bool
    blocking: int
    suppressed: int
    #: The stacks the gate judged (the app's own; a StackSet's template is judged in its own assembly).
    stacks: int


@dataclass(frozen=True)
class Acceptance:
    """Something accepted rather than shown: a suppressed finding (``suppression``), a perimeter path the proof
    found open and an approver accepted (``perimeter``), or a deviation the configuration accepts (``deviation``)."""

    kind: Literal["suppression", "perimeter", "deviation"]
    stack: str
    subject: str
    reason: str


@dataclass(frozen=True)
class Options:
    """What the caller decides about the evidence rather than the synth: where it is published
    (``evidence_base``, ending in ``/`` or a URN prefix), the Certification Package Overview's URI, and why no
    perimeter proof ran (``perimeter_note``)."""

    evidence_base: str
    package_overview_uri: str
    perimeter_note: str | None = None


@dataclass(frozen=True)
class EvidenceModel:
    """Everything the evidence files say, built once per synth by :func:`.build.build_model`."""

    #: Package version (``compliant-bedrock``), and sha256 over the templates and pack reports judged.
    version: str
    inputs_sha256: str
    stacks: tuple[StackModel, ...]
    #: Environment -> its perimeter proof, where the proof ran.
    perimeter: Mapping[str, PerimeterProof]
    #: Environment -> component id -> sentences its settings state (confirmed against the templates by the
    #: caller), the perimeter proof's sentence added to ``compliance-gate``.
    facts: Mapping[str, Mapping[str, list[str]]]
    #: Environment -> model ids outside the model catalog.
    unverified: Mapping[str, list[str]]
    #: Environment -> deviations its configuration accepts (POA&M items), and its POA&M plans.
    deviations: Mapping[str, list[Mapping[str, Any]]]
    poam_plans: Mapping[str, Mapping[str, Any]]
    #: provenance.json's record, its bytes as written, and what the other documents cite of it (sha256 included).
    provenance: Mapping[str, Any]
    provenance_text: str
    cited_provenance: Mapping[str, Any]
    options: Options
    verdict: Verdict | None = None
    #: Results of supporting engines (cfn-guard), where their files exist (:data:`.build.SUPPORTING_READERS`).
    supporting: tuple[SupportingObservation, ...] = field(default=())
    #: ``make verify``'s results per environment (``verified-<env>.json``), where it ran after this synth.
    verified: tuple[DeployedVerification, ...] = field(default=())

    @property
    def timestamp(self) -> str:
        """The evidence date (``SOURCE_DATE_EPOCH`` or the commit's time, never the clock)."""
        return str(self.provenance["timestamp"])

    @property
    def names(self) -> dict[str, str]:
        """Stack name -> the name its files carry."""
        return {s.name: s.file_name for s in self.stacks}

    @property
    def environments(self) -> list[str]:
        return sorted({s.environment for s in self.stacks})

    @property
    def stack_evidence(self) -> list[StackEvidence]:
        return [s.evidence for s in self.stacks]

    @property
    def entries(self) -> dict[str, Mapping[str, Any]]:
        """Stack name -> its matrix digest (what the cross-stack builders take as ``done``)."""
        return {s.name: s.matrix for s in self.stacks}

    def acceptances(self) -> list[Acceptance]:
        """Every acceptance the evidence carries, by kind, stack and subject."""
        found = [Acceptance("suppression", s.name, f"{f.rule_id} on {f.resource}", f.reason or "")
                 for s in self.stacks for f in s.evidence.findings if f.compliance == "Suppressed"]
        found += [Acceptance("perimeter", s.name, str(p["request"]), str(p.get("reason") or ""))
                  for s in self.stacks for p in s.matrix.get("accepted_perimeter_paths", [])]
        found += [Acceptance("deviation", env, str(d["subject"]), str(d.get("reason") or ""))
                  for env, items in sorted(self.deviations.items()) for d in items]
        return sorted(found, key=lambda a: (a.kind, a.stack, a.subject))
