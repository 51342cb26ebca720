"""One call for the gate and the evidence in any CDK app: :func:`synth` (or :class:`ComplianceGate`).

Replace ``app.synth()`` with ``compliant_bedrock.synth(app)``. It attaches cdk-nag's NIST SP 800-53 r5
and AWS Solutions packs (plus HIPAA / PCI DSS when named) to every stack of the app (or the stacks
named), synthesizes, runs the Bedrock pack over each template, runs the perimeter proof (below), writes
the full assessor evidence into ``<outdir>/compliance/``, prints every blocking finding and one verdict
line with the evidence path, and exits the process non-zero when a finding blocks.

Exit codes (``GateResult.exit_code``): 0 passed, or report-only; 1 unsuppressed compliance errors or an
open perimeter path; 2 a suppression the registry refuses (``compliance.suppressions``: a short or placeholder reason,
a plain suppression of a risk-decision rule, a stack-wide suppression of a resource rule), a malformed perimeter
acceptance file, or evidence that cannot be dated (no positive
``SOURCE_DATE_EPOCH`` and no git commit: see ``evidence.provenance``); 3 the perimeter proof was required and could
not run (Node or the IAM simulator missing or failing), or it did not recognize an environment it had to
prove. No evidence is written after a 2 or a 3.

The perimeter proof (``perimeter=``) simulates attack and workload requests against the synthesized
policies with the IAM simulator ``@cloud-copilot/iam-simulate`` in a Node process:

* ``"auto"`` (the default): run it when the simulator is installed (``node_modules`` above the working
  directory, or ``$COMPLIANT_BEDROCK_NODE_MODULES``) and Node is found; otherwise skip it and say so, on the
  verdict line and in ``summary.md`` (never a silent skip, never an old proof's files left behind);
* ``"required"``: it must run (exit 3 when it cannot): what a pipeline that files the evidence wants;
* ``"off"``: not run; the verdict line and ``summary.md`` say it was switched off.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aws_cdk as cdk

from .compliance.gate import Finding, assembly_stacks, attach_packs, clear_reports, judge
from .compliance.nag_cache import NagPlan
from .compliance.pack import RuleContext
from .errors import ConstructPropsError

#: Context key (``cdk synth -c compliance:report-only=true``): findings are reported, synth passes.
REPORT_ONLY_KEY = "compliance:report-only"
#: Context key: ``auto``, ``required`` or ``off`` (overrides the ``perimeter`` argument when set).
PERIMETER_KEY = "compliance:perimeter"
#: Context key naming the perimeter acceptances file (overrides the ``perimeter_acceptances`` argument).
PERIMETER_ACCEPTANCES_KEY = "compliant-bedrock:perimeter-acceptances"
#: Context keys: where the provider publishes the evidence files (absolute URI; the Security Decision Records'
#: evidence locations are built on it) and its Certification Package Overview (override the arguments).
EVIDENCE_BASE_URI_KEY = "compliance:evidence-base-uri"
PACKAGE_OVERVIEW_URI_KEY = "compliance:package-overview-uri"
PerimeterMode = Literal["auto", "required", "off"]
PERIMETER_MODES = ("auto", "required", "off")


@dataclass
class GateResult:
    """What the gate decided for one synthesized assembly."""

    #: The cloud assembly judged (``cdk.out``, or the directory CDK synthesized into).
    outdir: Path
    #: 0 compliant (or report-only), 1 a finding, 2 bad input, 3 could not judge: the process's exit code.
    exit_code: int
    #: The stacks of the assembly, every one judged.
    stacks: list[str] = field(default_factory=list)
    #: The blocking findings: unsuppressed errors (and error-level results a rule could not evaluate).
    findings: list[Finding] = field(default_factory=list)
    #: One line per request the perimeter proof decided otherwise than the matrix expects.
    perimeter_lines: list[str] = field(default_factory=list)
    #: ``"ran"`` or ``"not run"``: whether the perimeter proof ran (``message`` says why not).
    perimeter: str = "not run"
    #: The evidence files written into ``cdk.out/compliance/`` (none after exit 2 or 3).
    evidence: list[Path] = field(default_factory=list)
    #: Whether findings were reported without failing (``report_only`` / ``compliance:report-only``).
    report_only: bool = False
    #: Why the proof did not run, or the error that ended the run with exit 2 or 3; empty otherwise.
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.findings and not self.perimeter_lines


class ComplianceGate:
    """The compliance gate of one CDK app: packs before synth, judgement and evidence after it.

    ``app``: the ``cdk.App`` to gate. ``node_modules``: where the IAM simulator is installed (default: a
    ``node_modules`` above the working directory, or ``$COMPLIANT_BEDROCK_NODE_MODULES``). ``stacks``: the stacks to attach the cdk-nag packs to (names or ``Stack`` objects; default: every
    stack of the app at synth time). Every stack of the assembly is judged: a stack without packs has
    only the Bedrock pack's results. ``extra_packs``: ``"HIPAA"``, ``"PCI"``.
    ``rule_contexts``: stack name -> :class:`compliant_bedrock.compliance.RuleContext`, the Bedrock pack's settings for that stack
    (e.g. a longer log retention); ``default_context`` for every other stack.
    ``report_only``: findings are printed and filed but the exit code is 0 (default: the app's context
    ``compliance:report-only``). ``perimeter``: ``auto``/``required``/``off``, see the module docstring;
    ``perimeter_acceptances``: a YAML file of accepted open paths (``compliance/perimeter``);
    ``prove_environments``: environments the proof must recognize (exit 3 otherwise).
    ``facts`` / ``unverified``: environment -> component -> sentences / unverified model ids for the
    evidence (see :func:`compliant_bedrock.evidence.report.generate`); ``deviations``: environment -> the deviations
    its configuration accepts, each a POA&M item; ``poam_plans``: environment -> the organization's POA&M plans
    (point of contact, per item scheduled completion, milestones, ratings). ``out``: where the verdict goes.
    ``evidence_base_uri`` / ``package_overview_uri``: absolute URIs for the Security Decision Records (context
    ``compliance:evidence-base-uri`` / ``compliance:package-overview-uri`` wins). ``inputs``: configuration
    files the app read; their sha256 go into ``provenance.json`` (with ``cdk.json``, ``cdk.context.json`` and
    the perimeter acceptances file).
    """

    def __init__(self, app: cdk.App, *, stacks: Iterable[str | cdk.Stack] | None = None,
                 extra_packs: Sequence[str] = (), rule_contexts: Mapping[str, RuleContext] | None = None,
                 default_context: RuleContext | None = None, report_only: bool | None = None,
                 perimeter: PerimeterMode = "auto", perimeter_acceptances: str | Path | None = None,
                 node_modules: str | Path | None = None, prove_environments: Iterable[str] = (),
                 facts: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                 unverified: Mapping[str, Sequence[str]] | None = None,
                 deviations: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, out: Any = None,
                 evidence_base_uri: str | None = None, package_overview_uri: str | None = None,
                 inputs: Iterable[str | Path] = (),
                 poam_plans: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        from .compliance.gate import EXTRA_PACKS
        from .evidence.formats import is_uri
        from .evidence.sdr import UNSET_OVERVIEW, evidence_base

        unknown = [p for p in extra_packs if p not in EXTRA_PACKS]
        if unknown:
            raise ConstructPropsError(f"ComplianceGate: extra_packs: {unknown} not known; use any of "
                                      f"{sorted(EXTRA_PACKS)}")
        mode = str(app.node.try_get_context(PERIMETER_KEY) or perimeter)
        if mode not in PERIMETER_MODES:
            raise ConstructPropsError(f"ComplianceGate: perimeter: {mode!r} is not a mode; use one of "
                                      f"{', '.join(PERIMETER_MODES)} (context {PERIMETER_KEY} or the argument)")
        self.app = app
        self.stacks = None if stacks is None else [s if isinstance(s, str) else s.stack_name for s in stacks]
        self.extra_packs = tuple(extra_packs)
        self.rule_contexts = dict(rule_contexts or {})
        self.default_context = default_context or RuleContext()
        context_report_only = str(app.node.try_get_context(REPORT_ONLY_KEY)).lower() == "true"
        self.report_only = context_report_only if report_only is None else report_only
        self.perimeter: PerimeterMode = mode  # type: ignore[assignment]
        self.perimeter_acceptances = Path(perimeter_acceptances) if perimeter_acceptances else None
        self.node_modules = Path(node_modules) if node_modules else None
        self.prove_environments = sorted(set(prove_environments))
        self.facts = facts
        self.unverified = unverified
        self.deviations = deviations
        self.poam_plans = poam_plans
        self.out = out
        self.evidence_base_uri = str(app.node.try_get_context(EVIDENCE_BASE_URI_KEY) or evidence_base_uri or "") or None
        self.package_overview_uri = str(app.node.try_get_context(PACKAGE_OVERVIEW_URI_KEY) or package_overview_uri
                                        or UNSET_OVERVIEW)
        try:
            evidence_base(self.evidence_base_uri)
        except ValueError as err:
            raise ConstructPropsError(f"ComplianceGate: evidence_base_uri (context {EVIDENCE_BASE_URI_KEY}): {err}") from None
        if not is_uri(self.package_overview_uri):
            raise ConstructPropsError(f"ComplianceGate: package_overview_uri (context {PACKAGE_OVERVIEW_URI_KEY}): "
                                      f"{self.package_overview_uri!r} is not an absolute URI (RFC 3986), which "
                                      "FedRAMP's schema requires")
        self.inputs = [Path(p) for p in inputs]
        self._attached: set[str] = set()

    # -- before synth ---------------------------------------------------------------------------------

    def app_stacks(self) -> list[cdk.Stack]:
        """The app's stacks (at any depth: stages included)."""
        return [c for c in self.app.node.find_all() if isinstance(c, cdk.Stack)]

    def attach(self, plan: NagPlan | None = None) -> None:
        """Attach the cdk-nag packs to the selected stacks (idempotent); given ``plan``, plan them there instead
        (:class:`~compliant_bedrock.compliance.nag_cache.NagPlan`: cdk-nag runs on the stacks with no kept result).
        :meth:`synth` calls it with a plan."""
        stacks = self.app_stacks()
        staged = sorted(s.node.path for s in stacks if cdk.Stage.of(s) is not self.app)
        if staged:  # their templates go to nested assemblies, which judge() does not read: never pass them unexamined
            raise ConstructPropsError(f"ComplianceGate: stacks {staged} are inside a Stage; the gate judges the app's "
                                      "own stacks only: gate each Stage's app separately or add the stacks to the app")
        names = {s.stack_name for s in stacks}
        missing = sorted(set(self.stacks or ()) - names)
        if missing:
            raise ConstructPropsError(f"ComplianceGate: stacks: {missing} are not stacks of this app; its stacks are "
                                      f"{sorted(names)}")
        for stack in stacks:
            if (self.stacks is None or stack.stack_name in self.stacks) and stack.stack_name not in self._attached:
                (plan.add if plan is not None else attach_packs)(stack, self.extra_packs)
                self._attached.add(stack.stack_name)

    def synth(self, *, exit: bool = True) -> GateResult:
        """Attach, synthesize, judge, write the evidence, print the verdict; ``exit``: ``sys.exit`` with the
        exit code when it is not 0 (what an app's last line wants), else return the result."""
        outdir = Path(self.app.outdir)
        from .evidence.report import COMPLIANCE_DIR

        shutil.rmtree(outdir / COMPLIANCE_DIR, ignore_errors=True)  # no earlier verdict outlives a failing run
        plan = NagPlan()
        self.attach(plan)
        clear_reports(outdir, [s.stack_name for s in self.app_stacks()])
        assembly = plan.synth(self.app)
        result = self.judge(Path(assembly.directory))
        if exit and result.exit_code:
            sys.exit(result.exit_code)
        return result

    # -- after synth ----------------------------------------------------------------------------------

    def judge(self, outdir: Path, *, written_by_shards: Mapping[str, Mapping[str, Any]]
              | Callable[[], Mapping[str, Mapping[str, Any]]] | None = None) -> GateResult:
        """Judge the synthesized assembly at ``outdir``: packs, perimeter proof, evidence, verdict.

        ``written_by_shards``: the stack evidence shards of a parallel synth wrote (``infra.parallel``), or a
        function returning it, called after the proof and before the evidence (the shards draw theirs meanwhile).

        Evidence never outlives its verdict: whatever stops the judgement part-way (an exception of any kind, an
        interrupt) removes ``compliance/``, so no ``findings.json`` that says passed is left beside missing or stale
        evidence."""
        from .evidence.report import COMPLIANCE_DIR

        try:
            return self._judge(outdir, written_by_shards)
        except BaseException:
            shutil.rmtree(outdir / COMPLIANCE_DIR, ignore_errors=True)
            raise

    def _judge(self, outdir: Path, written_by_shards: Mapping[str, Mapping[str, Any]]
               | Callable[[], Mapping[str, Mapping[str, Any]]] | None) -> GateResult:
        from .compliance import perimeter
        from .evidence.report import COMPLIANCE_DIR, generate

        out = self.out or sys.stderr
        dest = outdir / COMPLIANCE_DIR
        prune_stale(outdir)
        stacks = _stack_artifacts(outdir)
        contexts = {name: self.rule_contexts.get(name, self.default_context) for name in assembly_stacks(outdir)}
        from .compliance.registry import SuppressionError

        try:
            errors = judge(outdir, contexts)
        except SuppressionError as err:  # a suppression the registry refuses: bad input, judged nothing
            shutil.rmtree(dest, ignore_errors=True)
            print(f"compliant-bedrock: {err}; no evidence written", file=out)
            return GateResult(outdir, 2, stacks, [], message=str(err))
        # An earlier synth's proof must never be cited for this one.
        for old in [*dest.glob("perimeter-*.json"), *dest.glob("perimeter-*.md")]:
            old.unlink()
        proof = None
        note: str | None = None
        if self.perimeter == "off":
            note = f"switched off (perimeter='off' or context {PERIMETER_KEY}=off)"
        else:
            try:
                proof = perimeter.prove(outdir, perimeter.load_acceptances(self._acceptances_file()),
                                        node_modules=self.node_modules)
            except perimeter.PerimeterError as err:
                shutil.rmtree(dest, ignore_errors=True)
                print(f"compliant-bedrock: {err}; no evidence written", file=out)
                return GateResult(outdir, 2, stacks, errors, message=str(err))
            except perimeter.SimulatorError as err:
                if self.perimeter == "required":
                    shutil.rmtree(dest, ignore_errors=True)  # no evidence that claims an unproven perimeter
                    print(f"compliant-bedrock: {err}; no evidence written", file=out)
                    return GateResult(outdir, 3, stacks, errors, message=str(err))
                note = f"the IAM simulator could not run ({err})"
        if proof is not None:
            proven = {o.environment for o in proof.outcomes}
            # Every StackSet's template with stack instances is proven too (as each instance), whoever built the app.
            from .evidence.assembly import stack_sets

            instances = sorted({s.environment for s in stack_sets(outdir) if s.instances})
            unproven = [env for env in [*self.prove_environments, *instances] if env not in proven]
            if unproven:  # an environment whose policies the proof did not recognize would pass unexamined
                shutil.rmtree(dest, ignore_errors=True)
                message = (f"perimeter proof: no Bedrock endpoint or invoke policy found for environment(s) "
                           f"{', '.join(unproven)} (or, for a StackSet's template, no stack instance read); their "
                           "requests cannot be generated")
                print(f"compliant-bedrock: {message}; no evidence written", file=out)
                return GateResult(outdir, 3, stacks, errors, message=message)
            perimeter.write_evidence(outdir, proof)
        from .evidence.provenance import ProvenanceError

        acceptances = self._acceptances_file()
        unverified, deviations = self.unverified, self.deviations
        if unverified is None or deviations is None:  # an own app: its constructs' allow_unverified_models
            from .model_standing import construct_acceptances

            found_unverified, found_deviations = construct_acceptances(self.app, outdir)
            unverified = found_unverified if unverified is None else unverified
            deviations = found_deviations if deviations is None else deviations
        if callable(written_by_shards):  # the shards' evidence, ready now (it may raise: judge removes compliance/)
            written_by_shards = written_by_shards()
        try:
            evidence = generate(outdir, dest=dest, facts=self.facts, unverified=unverified,
                                written_by_shards=written_by_shards, perimeter_note=note,
                                deviations=deviations, poam_plans=self.poam_plans,
                                package_overview_uri=self.package_overview_uri,
                                evidence_base_uri=self.evidence_base_uri,
                                config_files=[*self.inputs, *([acceptances] if acceptances.is_file() else [])])
        except ProvenanceError as err:
            shutil.rmtree(dest, ignore_errors=True)  # no undated evidence, and no verdict without its evidence
            print(f"compliant-bedrock: {err}; no evidence written", file=out)
            return GateResult(outdir, 2, stacks, errors, message=str(err))
        perimeter_lines = proof.lines() if proof is not None else []
        if proof is None:
            proof_text = f"perimeter proof NOT run: {note}"
        else:
            proof_text = (f"perimeter proof {len(proof.outcomes)} requests in "
                          f"{len({o.environment for o in proof.outcomes})} environment(s)")
        for finding in errors:
            print(f"compliance: {finding.stack}: {finding.line()}", file=out)
        for line in perimeter_lines:
            print(f"compliance: {line}", file=out)
        where = _shown(dest)
        if errors or perimeter_lines:
            verdict = "reported only (compliance:report-only)" if self.report_only else "synth fails"
            print(f"compliance: gate FAILED: {len(errors) + len(perimeter_lines)} unsuppressed error(s); {verdict} "
                  f"({len(stacks)} stacks, {proof_text}); evidence in {where}/ "
                  "(findings.json, summary.md, perimeter-<env>.md)", file=out)
            code = 0 if self.report_only else 1
        else:
            print(f"compliance: gate passed ({len(stacks)} stacks, {proof_text}); evidence in {where}/", file=out)
            code = 0
        return GateResult(outdir, code, stacks, errors, perimeter_lines,
                          "not run" if proof is None else "ran", evidence, self.report_only, note or "")

    def _acceptances_file(self) -> Path:
        given = self.app.node.try_get_context(PERIMETER_ACCEPTANCES_KEY) or self.perimeter_acceptances
        return Path(given) if given else Path(os.devnull)


def synth(app: cdk.App, **options: Any) -> GateResult:
    """The one call: ``compliant_bedrock.synth(app)`` in place of ``app.synth()``; options as for
    :class:`ComplianceGate`. Exits the process with the gate's exit code when it is not 0.

    :param app: the ``cdk.App`` whose stacks are gated, synthesized and judged.
    """
    return ComplianceGate(app, **options).synth()


def prune_stale(outdir: Path) -> list[Path]:
    """Remove what an earlier synth left in ``outdir`` for stacks not in this assembly: templates,
    asset manifests, metadata files, pack reports and asset directories nothing current refers to (``cdk.out`` is not
    cleaned between synths: ``-c env=x`` would otherwise leave the other environments' old templates)."""
    import json

    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        return []
    artifacts = json.loads(manifest_file.read_text(encoding="utf-8")).get("artifacts", {})
    referenced = {str(where.get(key)) for a in artifacts.values() for where in (a, a.get("properties") or {})
                  for key in ("templateFile", "file", "additionalMetadataFile")}
    current = set(assembly_stacks(outdir))
    removed: list[Path] = []
    for path in [*outdir.glob("*.template.json"), *outdir.glob("*.assets.json"), *outdir.glob("*.metadata.json")]:
        if path.name not in referenced:
            path.unlink()
            removed.append(path)
    for report in outdir.glob("*-NagReport.json"):
        stack = report.name.removesuffix("-NagReport.json").partition("--")[2]
        if stack and stack not in current:
            report.unlink()
            removed.append(report)
    asset_paths: set[str] = set()
    for name in referenced:
        if name.endswith(".assets.json") and (outdir / name).is_file():
            manifest = json.loads((outdir / name).read_text(encoding="utf-8"))
            for kind in ("files", "dockerImages"):
                for asset in (manifest.get(kind) or {}).values():
                    source = asset.get("source") or {}
                    asset_paths.add(str(source.get("path") or source.get("directory") or ""))
    for directory in outdir.glob("asset.*"):
        if directory.name not in asset_paths:
            if directory.is_dir():
                shutil.rmtree(directory)
            else:
                directory.unlink()
            removed.append(directory)
    # A StackSet's template kept by an earlier synth (its stack no longer built) must not pass for current.
    from .evidence.assembly import STACKSET_ASSEMBLIES, stack_set_assemblies

    kept = stack_set_assemblies(outdir)
    for directory in (outdir / STACKSET_ASSEMBLIES).glob("*"):
        if f"{STACKSET_ASSEMBLIES}/{directory.name}" not in kept:
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def _stack_artifacts(outdir: Path) -> list[str]:
    import json

    artifacts = json.loads((outdir / "manifest.json").read_text(encoding="utf-8")).get("artifacts", {})
    return sorted(name for name, a in artifacts.items() if a.get("type") == "aws:cloudformation:stack")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
