"""cfn-guard with AWS Control Tower's proactive-control rules: a second engine, as supporting evidence.

Why a second engine: cdk-nag's NIST pack and the Bedrock pack are the gate; a reviewer trusts them more when
an engine written by other people, with rules written by other people, looks at the same templates. Its
results are *supporting observations*: they never fail the gate and never make a control "satisfied" on
their own, and every failure the project accepts is triaged in ``data/cfn-guard-triage.tsv`` with a reason.

Where the engine and rules come from: the pinned Python package ``cdklabs.cdk-validator-cfnguard`` (Apache-2.0)
carries, in its jsii tarball, the cfn-guard binary and Control Tower's ``.guard`` rules with their metadata.
They are extracted at run time into a cache directory keyed by the package version, never copied into this
repository. A control's NIST SP 800-53 r5 ids come only from that metadata's ``ComplianceFrameworkMappings``
("NIST 800-53 Rev 5"), the mapping AWS publishes as the control's *Frameworks* in the Control Tower Controls
Reference Guide; a control without one gets no NIST id.

What "pass" means: cfn-guard names the resources a rule failed on, but reports passes per rule and template.
A resource is recorded ``pass`` when the rule ran on its template, the resource is of a type the control
evaluates (its metadata's ``EvaluatedResourceTypes``), and no failing check named it. ``skip``: the rule had
nothing to evaluate in that template; either cfn-guard said so ("not applicable") or the rule was not given to
it because the template has no resource of the types its control evaluates ("not run"). Running only those rules
cuts the engine's CPU time about five-fold on the reference assembly with the same pass and fail results.

``python -m compliant_bedrock.compliance.cfn_guard [cdk.out]`` writes ``compliance/cfn-guard.json``; it exits
0 whatever the rules find, and 3 (could not judge) when the engine cannot run.
"""

from __future__ import annotations

import concurrent.futures
import csv
import fnmatch
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

#: The pinned distribution whose jsii tarball carries the binary and the rules.
DISTRIBUTION = "cdklabs.cdk-validator-cfnguard"
RESULTS_FILE = Path("compliance") / "cfn-guard.json"
TRIAGE_FILE = "cfn-guard-triage.tsv"
#: ``false-positive``: the rule misreads the template. ``accepted-by-design``: the rule reads it right and the
#: design departs from it deliberately, for the reason given.
VERDICTS = frozenset({"false-positive", "accepted-by-design"})
STATUSES = ("fail", "pass", "skip")
NIST_FRAMEWORK = "NIST 800-53 Rev 5"
NIST_SOURCE = ("Each control's ComplianceFrameworkMappings entry 'NIST 800-53 Rev 5' in its metadata file "
               "(package/rules/control-tower/metadata/<service>/<control>.metadata.json of the package's jsii "
               "tarball), the mapping AWS publishes as the control's Frameworks in the AWS Control Tower Controls "
               "Reference Guide (https://docs.aws.amazon.com/controltower/latest/controlreference/control-details.html). "
               "A control without that entry has no NIST id here.")
EVIDENCE_BASIS = ("Pre-deployment evidence, supporting only: cfn-guard with AWS Control Tower proactive-control rules over "
                  "the synthesized CloudFormation templates, before deployment. It never fails the compliance gate "
                  "and on its own never makes a control satisfied; it is not a test of deployed resources.")
PASS_BASIS = ("pass: the rule ran on this template, the resource is of a type the control evaluates, and no failing "
              "check named it (cfn-guard reports passes per rule, failures per resource)")
#: cfn-guard's exit codes for "evaluated, all passed" and "evaluated, some failed"; anything else is an error.
_RAN = (0, 19)
_RESOURCE_PATH = re.compile(r"^/Resources/([^/\[]+)")
_MESSAGE_LIMIT = 400
_KEPT = "compliant-bedrock:assembly"  # compliant_bedrock.evidence.assembly.STACKSET_ASSEMBLY_METADATA
_CDK_PATH = "aws:cdk:path"


class CfnGuardError(RuntimeError):
    """The engine could not run (no binary for this platform, a damaged package, output it cannot parse)."""


@dataclass(frozen=True)
class Control:
    """One Control Tower proactive control: its guard rule and what its metadata documents."""

    rule: str
    control_id: str
    title: str
    severity: str
    resource_types: tuple[str, ...]
    nist: tuple[str, ...]
    fix: str
    metadata_file: str
    rules_file: str


@dataclass(frozen=True)
class TriageRow:
    """A known failure the project accepts: the control, a glob on the resource's logical id (StackSet templates
    carry no construct paths, logical ids are in every template), the verdict and the reason."""

    control_id: str
    resource_pattern: str
    verdict: str
    reason: str

    def matches(self, control_id: str, logical_id: str | None) -> bool:
        return (control_id == self.control_id and logical_id is not None
                and fnmatch.fnmatchcase(logical_id, self.resource_pattern))


@dataclass(frozen=True)
class GuardResult:
    """One rule's outcome on one resource (``resource`` ``None`` for a skip, or a failure naming no resource)."""

    template: str
    stack: str
    rule: str
    control_id: str
    resource: str | None
    construct_path: str | None
    status: str
    message: str
    nist: tuple[str, ...]
    triage_verdict: str | None = None
    triage_reason: str | None = None


# --- the engine, from the installed package ----------------------------------------------------------------


def package_version() -> str:
    return metadata.version(DISTRIBUTION)


def _tarball() -> Path:
    try:
        import cdklabs.cdk_validator_cfnguard._jsii as jsii_module
    except ImportError as err:
        raise CfnGuardError(f"{DISTRIBUTION} is not installed ({err}); it is pinned in requirements.txt: run "
                            "make setup") from err
    found = sorted(Path(jsii_module.__file__).parent.glob("*.jsii.tgz"))
    if len(found) != 1:
        raise CfnGuardError(f"{DISTRIBUTION}: expected one jsii tarball beside {jsii_module.__file__}, found "
                            f"{len(found)}; reinstall the pinned package")
    return found[0]


def _platform_dir() -> str:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine().lower())
    if system is None or machine is None:
        raise CfnGuardError(f"{DISTRIBUTION} ships cfn-guard for Linux and macOS on x86_64 and aarch64, not "
                            f"{platform.system()} {platform.machine()}; run make synth on one of those")
    return f"{system}/{machine}"


def engine(cache_root: Path | None = None) -> tuple[Path, Path, Path]:
    """The cfn-guard binary, the rules directory and the metadata directory, extracted once per package version
    into ``cache_root`` (default: the system temp directory)."""
    version = package_version()
    root = (cache_root or Path(tempfile.gettempdir())) / f"compliant-bedrock-cfn-guard-{version}-{_platform_dir().replace('/', '-')}"
    binary = root / "package" / "bin" / _platform_dir() / "cfn-guard"
    rules, meta = root / "package/rules/control-tower/cfn-guard", root / "package/rules/control-tower/metadata"
    if not binary.is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        wanted = (f"package/bin/{_platform_dir()}/cfn-guard", "package/rules/control-tower/")
        try:
            with tarfile.open(_tarball()) as archive:
                members = [m for m in archive.getmembers() if m.name.startswith(wanted)]
                archive.extractall(scratch, members=members, filter="data")
            (scratch / "package/bin" / _platform_dir() / "cfn-guard").chmod(0o755)
            try:
                scratch.rename(root)  # atomic: a concurrent run sees all of it or none
            except OSError:
                if not binary.is_file():
                    raise
        except (OSError, tarfile.TarError) as err:
            raise CfnGuardError(f"could not extract cfn-guard from {DISTRIBUTION} {version} into {root}: {err}") from err
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if not rules.is_dir() or not meta.is_dir():
        raise CfnGuardError(f"{root}: no Control Tower rules in {DISTRIBUTION} {version}; delete {root} and rerun")
    return binary, rules, meta


def _primary_rules(text: str) -> set[str]:
    return set(re.findall(r"^rule\s+([A-Za-z0-9_]+)\s+when\b", text, flags=re.MULTILINE))


def load_controls(rules: Path, meta: Path) -> dict[str, Control]:
    """Every rule name of the rules directory, with its control's metadata (keyed by rule name)."""
    controls: dict[str, Control] = {}
    for guard in sorted(rules.rglob("*.guard")):
        meta_file = meta / guard.parent.name / f"{guard.stem}.metadata.json"
        if not meta_file.is_file():
            raise CfnGuardError(f"{guard}: no metadata file {meta_file} beside it; the package is damaged")
        doc = json.loads(meta_file.read_text(encoding="utf-8"))
        nist = sorted({i for m in doc.get("ComplianceFrameworkMappings") or []
                       if m.get("ComplianceFramework") == NIST_FRAMEWORK for i in m.get("Ids") or []})
        for name in _primary_rules(guard.read_text(encoding="utf-8")):
            if name in controls:
                raise CfnGuardError(f"rule {name} is defined by two controls ({controls[name].control_id} and "
                                    f"{doc['Id']}); results could not be attributed")
            controls[name] = Control(
                rule=name, control_id=doc["Id"], title=doc.get("DisplayName", ""), severity=doc.get("Severity", ""),
                resource_types=tuple(doc.get("EvaluatedResourceTypes") or ()), nist=tuple(nist),
                fix=doc.get("RemediationMessage", ""),
                metadata_file=str(meta_file.relative_to(meta.parent.parent.parent)),
                rules_file=str(guard.relative_to(rules.parent.parent.parent)))
    return controls


# --- the triage ------------------------------------------------------------------------------------------------


def load_triage(path: Path | None = None) -> tuple[TriageRow, ...]:
    """The triage table (tab-separated: control, resource pattern, verdict, reason; ``#`` comments)."""
    text = (path.read_text(encoding="utf-8") if path is not None
            else resources.files(__package__).joinpath("data", TRIAGE_FILE).read_text(encoding="utf-8"))
    rows: list[TriageRow] = []
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for number, cells in enumerate(csv.reader(lines, delimiter="\t"), start=1):
        if cells == ["control", "resource_pattern", "verdict", "reason"]:
            continue
        if len(cells) != 4:
            raise ValueError(f"{TRIAGE_FILE} row {number}: expected 4 tab-separated cells (control, "
                             f"resource_pattern, verdict, reason), got {len(cells)}")
        row = TriageRow(*(c.strip() for c in cells))
        if row.verdict not in VERDICTS:
            raise ValueError(f"{TRIAGE_FILE} row {number}: verdict {row.verdict!r} is not one of {sorted(VERDICTS)}")
        if len(row.reason.split()) < 8:
            raise ValueError(f"{TRIAGE_FILE} row {number}: the reason for {row.control_id} {row.resource_pattern} "
                             "has fewer than 8 words; say why an auditor can accept the failure")
        rows.append(row)
    return tuple(rows)


# --- the templates ---------------------------------------------------------------------------------------------


def stack_templates(outdir: Path) -> list[tuple[str, Path]]:
    """(stack name, template file) for every stack of the assembly and every StackSet template it keeps."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    found: dict[Path, str] = {}
    for name, artifact in sorted((manifest.get("artifacts") or {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = outdir / artifact["properties"]["templateFile"]
        found[template] = (artifact.get("properties") or {}).get("stackName") or name
        for resource in (json.loads(template.read_text(encoding="utf-8")).get("Resources") or {}).values():
            kept = (resource.get("Metadata") or {}).get(_KEPT)
            if resource.get("Type") == "AWS::CloudFormation::StackSet" and isinstance(kept, str):
                for member in sorted((outdir / kept).glob("*.template.json")):
                    found[member] = member.name.removesuffix(".template.json")
    return sorted(((stack, path) for path, stack in found.items()), key=lambda item: str(item[1]))


# --- running and reading cfn-guard -----------------------------------------------------------------------------


def rules_for(template: Mapping[str, Any], controls: Mapping[str, Control], rules_dir: Path) -> list[Path]:
    """The rule files worth running on ``template``: those whose control evaluates a resource type it has (or
    declares no type). Every other control would find nothing to evaluate; it is recorded as not run."""
    present = {str(r.get("Type")) for r in (template.get("Resources") or {}).values()}
    root = rules_dir.parent.parent.parent
    return sorted({root / c.rules_file for c in controls.values()
                   if not c.resource_types or present & set(c.resource_types)})


def run_guard(binary: Path, jobs: Sequence[tuple[Path, Sequence[Path]]], workers: int | None = None,
              ) -> dict[Path, dict[str, Any]]:
    """cfn-guard's structured report per template: ``jobs`` are (template, its rule files or directories), one
    process each, at most ``workers`` at a time (default: the CPU count)."""
    def one(template: Path, rules: Sequence[Path]) -> dict[str, Any]:
        if not rules:
            return {"name": str(template), "compliant": [], "not_compliant": [], "not_applicable": []}
        # absolute: cfn-guard names its report by the data file's path, which must match the one given
        data = template.resolve()
        run = subprocess.run([str(binary), "validate", *(arg for rule in rules for arg in ("--rules", str(rule))),
                              "--data", str(data), "--output-format", "json", "--structured", "--show-summary", "none"],
                             capture_output=True, text=True, check=False)
        if run.returncode not in _RAN:
            raise CfnGuardError(f"cfn-guard exited {run.returncode} on {template}: "
                                f"{(run.stderr or run.stdout).strip()[:_MESSAGE_LIMIT]}")
        try:
            parsed = json.loads(run.stdout)
        except ValueError as error:
            raise CfnGuardError(f"cfn-guard's report on {template} is not JSON ({error}); its first bytes: "
                                f"{run.stdout[:200]!r}") from error
        found = [report for report in parsed if str(report.get("name")) == str(data)]
        if len(found) != 1:
            raise CfnGuardError(f"cfn-guard reported {len(found)} results for {template}; the engine did not evaluate it")
        return found[0]

    count = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        futures = [(template, pool.submit(one, template, rules)) for template, rules in jobs]
        return {template: future.result() for template, future in futures}


def _walk(node: Any, out: list[tuple[str, str]], message: str = "") -> None:
    """(logical id, first error message) for every path under ``/Resources/<id>`` in a check tree."""
    if isinstance(node, dict):
        messages = node.get("messages")
        if isinstance(messages, dict) and messages.get("error_message"):
            message = str(messages["error_message"])
        for key, value in node.items():
            if key == "path" and isinstance(value, str):
                match = _RESOURCE_PATH.match(value)
                if match:
                    out.append((match.group(1), message))
            else:
                _walk(value, out, message)
    elif isinstance(node, list):
        for value in node:
            _walk(value, out, message)


def _custom_message(rule: Mapping[str, Any]) -> str:
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            text = (node.get("messages") or {}).get("custom_message") if isinstance(node.get("messages"), dict) else None
            if text and not found:
                found.append(" ".join(line.strip() for line in text.splitlines() if line.strip()
                                      and not line.strip().startswith("[FIX]")))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(rule)
    return found[0] if found else ""


def skip_message(control_id: str, resource_types: Iterable[str], not_run: bool) -> str:
    types = " or ".join(resource_types) or "input"
    if not_run:
        return f"{control_id}: not run (the template has no {types}, the types its metadata says it evaluates)"
    return f"{control_id}: not applicable to this template (cfn-guard found no {types} to evaluate)"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def results_of(report: Mapping[str, Any], template: Mapping[str, Any], template_name: str, stack: str,
               controls: Mapping[str, Control], triage: Iterable[TriageRow] = (), not_run: Iterable[str] = (),
               ) -> list[GuardResult]:
    """One template's cfn-guard report as results per rule and resource, the triage applied (a pure function).
    ``not_run``: rules not given to cfn-guard for this template (see :func:`rules_for`), recorded as skips."""
    triage = tuple(triage)
    found = template.get("Resources") or {}
    failing: dict[str, dict[str | None, str]] = {}
    for entry in report.get("not_compliant") or []:
        rule = entry.get("Rule") or {}
        name, headline = str(rule.get("name")), _custom_message(rule)
        hits: list[tuple[str, str]] = []
        _walk(rule.get("checks") or [], hits)
        by_resource = failing.setdefault(name, {})
        for logical_id, message in hits:
            if logical_id in found and logical_id not in by_resource:
                by_resource[logical_id] = _clip(" ".join(filter(None, (headline, message))))
        if not by_resource:  # a failure naming no resource of the template is still a failure
            by_resource[None] = _clip(headline or f"{name} failed without naming a resource")
    ran = set(report.get("compliant") or ()) | set(failing)
    skipped = set(report.get("not_applicable") or ()) - ran
    unrun = set(not_run) - ran - skipped
    results: list[GuardResult] = []
    for name in sorted(ran | skipped | unrun):
        control = controls.get(name)
        if control is None:  # a helper rule of a rules file, or a rule this package does not document
            continue

        def result(logical_id: str | None, status: str, message: str, control: Control = control) -> GuardResult:
            path = ((found.get(logical_id) or {}).get("Metadata") or {}).get(_CDK_PATH) if logical_id else None
            row = next((t for t in triage if t.matches(control.control_id, logical_id)), None) \
                if status == "fail" else None
            return GuardResult(template=template_name, stack=stack, rule=control.rule, control_id=control.control_id,
                               resource=logical_id, construct_path=path, status=status, message=message,
                               nist=control.nist, triage_verdict=row.verdict if row else None,
                               triage_reason=row.reason if row else None)

        if name in skipped or name in unrun:
            results.append(result(None, "skip", skip_message(control.control_id, control.resource_types, name in unrun)))
            continue
        failed = failing.get(name, {})
        results += [result(r, "fail", m) for r, m in sorted(failed.items(), key=lambda kv: kv[0] or "")]
        for logical_id, resource in sorted(found.items()):
            if resource.get("Type") in control.resource_types and logical_id not in failed:
                results.append(result(logical_id, "pass", f"{control.control_id}: {control.title}"))
    return results


# --- the evidence file -----------------------------------------------------------------------------------------


def document(results: Sequence[GuardResult], controls: Mapping[str, Control], triage: Sequence[TriageRow],
             version: str, engine_version: str) -> dict[str, Any]:
    """The content of ``compliance/cfn-guard.json`` (deterministic: no clock, sorted)."""
    used = {(r.control_id, row.resource_pattern) for r in results if r.triage_verdict
            for row in triage if row.matches(r.control_id, r.resource)}
    counts: dict[str, int] = {}
    for r in results:
        key = f"{r.status}-{r.triage_verdict}" if r.triage_verdict else ("fail-open" if r.status == "fail" else r.status)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(results, key=lambda r: (r.template, STATUSES.index(r.status), r.control_id, r.resource or ""))
    return {
        "evidence_basis": EVIDENCE_BASIS,
        "role": "supporting",
        "engine": {"tool": "cfn-guard", "version": engine_version, "rules": "AWS Control Tower proactive controls",
                   "package": f"{DISTRIBUTION}=={version}", "controls": len({c.control_id for c in controls.values()})},
        "pass_basis": PASS_BASIS,
        "nist_mapping_source": NIST_SOURCE,
        "counts": dict(sorted(counts.items())),
        "controls": {c.control_id: {"rule": c.rule, "title": c.title, "severity": c.severity, "nist": list(c.nist),
                                    "fix": c.fix, "metadata_file": c.metadata_file}
                     for c in sorted(controls.values(), key=lambda c: c.control_id)
                     if any(r.control_id == c.control_id and r.status != "skip" for r in results)},
        "triage_unused": [asdict(row) for row in triage if (row.control_id, row.resource_pattern) not in used],
        "results": [{**asdict(r), "nist": list(r.nist)} for r in ordered if r.status != "skip"],
        # skips are most of the rules in every template: one line per template, not one record per rule
        "skipped_controls": {r.rule: {"control_id": r.control_id, "nist": list(r.nist),
                                      "resource_types": list(controls[r.rule].resource_types)}
                             for r in ordered if r.status == "skip" and r.rule in controls},
        "skipped": {t: {"stack": group[0].stack,
                        "not_applicable": sorted(r.rule for r in group if "not applicable" in r.message),
                        "not_run": sorted(r.rule for r in group if "not applicable" not in r.message)}
                    for t, group in _by_template(r for r in ordered if r.status == "skip").items()},
    }


def _by_template(results: Iterable[GuardResult]) -> dict[str, list[GuardResult]]:
    groups: dict[str, list[GuardResult]] = {}
    for r in results:
        groups.setdefault(r.template, []).append(r)
    return dict(sorted(groups.items()))


def engine_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise CfnGuardError(f"{binary} --version exited {out.returncode}: {out.stderr.strip()[:200]}")
    return out.stdout.strip().removeprefix("cfn-guard").strip()


def check(outdir: Path, cache_root: Path | None = None, rules: Sequence[Path] | None = None,
          triage: Sequence[TriageRow] | None = None) -> dict[str, Any]:
    """Run cfn-guard over every template of the assembly in ``outdir``; write and return ``cfn-guard.json``.
    ``rules``: rule files or directories (default: every Control Tower rule of the package)."""
    binary, rules_dir, meta = engine(cache_root)
    controls = load_controls(rules_dir, meta)
    triage = load_triage() if triage is None else tuple(triage)
    templates = [(stack, path, json.loads(path.read_text(encoding="utf-8"))) for stack, path in stack_templates(outdir)]
    chosen = {path: list(rules) if rules is not None else rules_for(body, controls, rules_dir)
              for _, path, body in templates}
    reports = run_guard(binary, [(path, chosen[path]) for _, path, _ in templates])
    root = rules_dir.parent.parent.parent
    results: list[GuardResult] = []
    for stack, path, body in templates:
        # with the rules named by the caller, the rest simply did not run; by default every control is accounted for
        not_run = () if rules is not None else [c.rule for c in controls.values() if root / c.rules_file not in chosen[path]]
        results += results_of(reports[path], body, str(path.relative_to(outdir)), stack, controls, triage, not_run)
    doc = document(results, controls, triage, package_version(), engine_version(binary))
    target = outdir / RESULTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return doc


def read_results(outdir: Path) -> tuple[GuardResult, ...]:
    """The results ``cfn-guard.json`` holds, as frozen records (empty when cfn-guard has not run on ``outdir``).
    The evidence model's hook: supporting observations, one per rule, template and resource."""
    source = outdir / RESULTS_FILE
    if not source.is_file():
        return ()
    doc = json.loads(source.read_text(encoding="utf-8"))
    results = [GuardResult(**{**r, "nist": tuple(r["nist"])}) for r in doc.get("results") or []]
    for template, skipped in (doc.get("skipped") or {}).items():
        for kind in ("not_applicable", "not_run"):
            for rule in skipped[kind]:
                control = doc["skipped_controls"][rule]
                results.append(GuardResult(
                    template=template, stack=skipped["stack"], rule=rule, resource=None, construct_path=None,
                    status="skip", control_id=control["control_id"], nist=tuple(control["nist"]),
                    message=skip_message(control["control_id"], control["resource_types"], kind == "not_run")))
    return tuple(results)


#: Exit code when the engine could not judge (the gate's convention: 3 "could not judge").
COULD_NOT_JUDGE = 3


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    outdir = Path(args[0] if args else "cdk.out")
    start = time.monotonic()
    try:
        doc = check(outdir)
    except (CfnGuardError, OSError, ValueError) as err:
        print(f"cfn-guard: could not run ({err}); {outdir / RESULTS_FILE} not written", file=sys.stderr)
        return COULD_NOT_JUDGE
    counts = ", ".join(f"{v} {k}" for k, v in doc["counts"].items())
    open_fails = doc["counts"].get("fail-open", 0)
    print(f"cfn-guard {doc['engine']['version']} (Control Tower rules, supporting evidence, never fails the gate): "
          f"{counts} in {time.monotonic() - start:.1f} s -> {outdir / RESULTS_FILE}"
          + (f"; {open_fails} untriaged failure(s): review them, fix or triage in {TRIAGE_FILE}" if open_fails else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
