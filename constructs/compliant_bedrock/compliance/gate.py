"""The compliance gate: attach the packs before synth, judge the cloud assembly after it.

cdk-nag (2.x) runs as aspects during synth and writes ``<Pack>--<Stack>-NagReport.json``; the
Bedrock pack then runs over each synthesized template and writes its report in the same schema.
The gate reads every report, writes ``compliance/findings.json``, prints one line per
unsuppressed error (rule, resource path, NIST controls, fix) and says whether synth may pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
import orjson

from .assembly_facts import read_facts
from .pack import PACK_NAME, RULES, RuleContext, evaluate
from .sarif import write_sarif
from .suppressions import VALIDATION_FAILURE, nist_rules
from .template import Template, region_of

_CONTROLS = re.compile(r"\(Control IDs: ([^)]*(?:\([^)]*\)[^)]*)*)\)\.?\s*$")
EXTRA_PACKS = {"HIPAA": cdk_nag.HIPAASecurityChecks, "PCI": cdk_nag.PCIDSS321Checks}
REPORT_SUFFIX = "-NagReport.json"
#: cdk-nag's compliance value for a rule that threw while evaluating a resource.
UNKNOWN = "UNKNOWN"
#: Warning-level cdk-nag rules whose result the evidence states as a fact (the private link component
#: says "default security group closed"): a claimed protection that fails must block like an error.
#: These are all of the NIST r5 pack's warnings; AWS Solutions warnings are advice the evidence does not cite.
BLOCKING_WARNINGS = frozenset({"NIST.800.53.R5-VPCDefaultSecurityGroupClosed"})


def attach_packs(stack: cdk.Stack, extra_packs: Iterable[str] = ()) -> None:
    """NIST 800-53 r5 and AWS Solutions always; HIPAA and PCI DSS 3.2.1 when named."""
    formats = [cdk_nag.NagReportFormat.JSON]
    packs = [cdk_nag.NIST80053R5Checks, cdk_nag.AwsSolutionsChecks, *(EXTRA_PACKS[p] for p in extra_packs)]
    for pack in packs:
        cdk.Aspects.of(stack).add(pack(verbose=True, reports=True, report_formats=formats))


@dataclass(frozen=True)
class Finding:
    pack: str
    stack: str
    rule_id: str
    resource: str
    level: str
    compliance: str
    controls: tuple[str, ...]
    info: str
    reason: str | None

    def line(self) -> str:
        controls = f"NIST {', '.join(self.controls)}" if self.controls else f"{self.pack} rule, no NIST control ids"
        if self.compliance == UNKNOWN:
            accept = (f"suppress(<construct>, '{self.rule_id}', reason=...)" if self.pack == PACK_NAME
                      else f"suppress(<construct>, '{VALIDATION_FAILURE}', reason=..., applies_to=['{self.rule_id}'])")
            return (f"{self.rule_id} {self.resource} [{controls}] could not be evaluated: the rule threw on this "
                    "resource (usually a CloudFormation token where the rule needs a literal value), so it is not "
                    f"known to pass. Fix: make the value a literal; or, if another control covers it, {accept}")
        return f"{self.rule_id} {self.resource} [{controls}] {self.info.split(' - (Control IDs')[0]}. {hint(self)}"


def hint(finding: Finding) -> str:
    from .registry import structured_form

    rule_ = RULES.get(finding.rule_id)
    suppress = (f"or, if the risk is mitigated, suppress(<construct>, '{finding.rule_id}', reason=...) "
                "on that resource")
    if rule_ is not None and rule_.risk_decision:
        suppress = f"or, if the risk is accepted, {structured_form(finding.rule_id)}"
    elif rule_ is not None and not rule_.resource_types:
        suppress = f"or, if it is met elsewhere, suppress_stack_rule(<stack>, '{finding.rule_id}', reason=...)"
    if rule_ is not None:
        return f"Fix: {rule_.fix}; {suppress}"
    return f"Fix: change the resource so the rule passes; {suppress}"


@lru_cache(maxsize=4096)
def controls_of(rule_id: str, info: str) -> tuple[str, ...]:
    """Control ids from the rule info (cdk-nag appends them), else from the shipped NIST table (a pure function of
    its arguments and the shipped table: kept per rule text, as 133 stacks repeat the same few hundred rules)."""
    match = _CONTROLS.search(info)
    if match:
        return tuple(c.strip() for c in match.group(1).split(",") if c.strip())
    if rule_id in nist_rules():
        return tuple(c.strip() for c in nist_rules()[rule_id].split(","))
    return ()


def run_bedrock_pack(outdir: Path, contexts: Mapping[str, RuleContext]) -> None:
    """Evaluate the Bedrock pack on every stack template of the assembly; write its reports.

    A stack's report is a function of its template, name, region and settings, of the facts read from the whole
    assembly (every template and the manifest's stacks) and of this package's code: with all of those unchanged,
    the report the last synth wrote for it is copied back (``pack_cache``), and the assembly's facts are read only
    when some stack needs evaluating."""
    from . import pack_cache

    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = [(name, artifact) for name, artifact in sorted(manifest.get("artifacts", {}).items())
              if artifact.get("type") == "aws:cloudformation:stack"]
    cache_dir = pack_cache.location(outdir)
    templates = {name: (outdir / artifact["properties"]["templateFile"]).read_bytes() for name, artifact in stacks}
    assembly_digest = pack_cache.assembly_digest(stacks, templates)
    facts = None
    for name, artifact in stacks:
        report = outdir / f"{PACK_NAME}--{name}{REPORT_SUFFIX}"
        context = contexts.get(name, RuleContext())
        key = pack_cache.stack_key(name, artifact.get("environment"), templates[name], context, assembly_digest)
        if pack_cache.load(cache_dir, name, key, report):
            continue
        if facts is None:
            facts = read_facts(outdir)  # the trails and SCPs of the other stacks, read once
        template = Template(name, json.loads(templates[name]), region_of(artifact.get("environment")))
        results = evaluate(template, replace(context, stack=name, assembly=facts))
        lines = [r.report_line() for r in sorted(results, key=lambda r: (r.rule_id, r.resource_path))]
        report.write_text(json.dumps({"lines": lines}, indent=1) + "\n", encoding="utf-8")
        pack_cache.store(cache_dir, name, key, report)


def clear_reports(outdir: Path, stacks: Iterable[str]) -> None:
    """Remove every pack's report of these stacks before they are synthesized again (cdk.out is not
    cleaned between synths: a report of a pack no longer attached would be read as current)."""
    for name in set(stacks):
        for report in outdir.glob(f"*--{name}{REPORT_SUFFIX}"):
            report.unlink()


def assembly_stacks(outdir: Path) -> list[str]:
    """Names of the assembly's CloudFormation stacks (artifact ids and stack names), from its manifest."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        return []
    names: set[str] = set()
    for name, artifact in json.loads(manifest_file.read_text(encoding="utf-8")).get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            names |= {name, (artifact.get("properties") or {}).get("stackName") or name}
    return sorted(names)


def read_findings(outdir: Path, stacks: Iterable[str] | None = None,
                  reports: Iterable[Path] | None = None) -> list[Finding]:
    """Every line of the pack reports of the named stacks (default: the assembly's), as findings; ``reports``: those
    reports, already found (:func:`reports_by_stack`: one listing for many stacks).

    Only stacks of this assembly: ``cdk.out`` keeps the reports of an earlier synth's stacks (an
    environment since removed, or left out with ``-c env=``), which must neither fail nor pass the gate.
    """
    findings: list[Finding] = []
    if reports is None:
        reports = reports_of(outdir, assembly_stacks(outdir) if stacks is None else set(stacks))
    for report in sorted(reports):
        pack, _, stack = report.name[: -len(REPORT_SUFFIX)].partition("--")
        for line in orjson.loads(report.read_bytes()).get("lines", []):
            reason = line.get("exceptionReason")
            findings.append(
                Finding(
                    pack=pack,
                    stack=stack,
                    rule_id=line["ruleId"],
                    resource=line["resourceId"],
                    level=line["ruleLevel"],
                    compliance=line["compliance"],
                    controls=controls_of(line["ruleId"], line.get("ruleInfo", "")),
                    info=line.get("ruleInfo", ""),
                    reason=None if reason in (None, "N/A") else reason,
                )
            )
    return findings


def reports_of(outdir: Path, stacks: Iterable[str]) -> list[Path]:
    """Every pack's report of these stacks in ``outdir`` (``<pack>--<stack>-NagReport.json``), found in one listing
    of the directory rather than a glob per stack (133 globs of a 1,000-file directory at 50 environments)."""
    wanted = {f"--{name}{REPORT_SUFFIX}" for name in stacks}
    found: list[Path] = []
    if not outdir.is_dir():
        return found
    with os.scandir(outdir) as entries:
        for entry in entries:
            name = entry.name
            if not name.endswith(REPORT_SUFFIX):
                continue
            at = name.find("--")
            while at != -1:
                if name[at:] in wanted:
                    found.append(outdir / name)
                    break
                at = name.find("--", at + 1)
    return found


def reports_by_stack(outdir: Path, stacks: Iterable[str]) -> dict[str, list[Path]]:
    """:func:`reports_of` for many stacks at once, by stack name: one listing of the directory."""
    found: dict[str, list[Path]] = {name: [] for name in stacks}
    for report in reports_of(outdir, found):
        stem = report.name[: -len(REPORT_SUFFIX)]
        at = stem.find("--")
        while at != -1 and stem[at + 2:] not in found:
            at = stem.find("--", at + 1)
        if at != -1:
            found[stem[at + 2:]].append(report)
    return found


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Unsuppressed errors: what fails the gate. An error-level rule that threw (cdk-nag reports it
    ``UNKNOWN`` and only warns) blocks too: a check that could not run has not passed. So does a
    warning the evidence relies on (``BLOCKING_WARNINGS``)."""
    return [f for f in findings if f.compliance in ("Non-Compliant", UNKNOWN)
            and (f.level == "Error" or f.rule_id in BLOCKING_WARNINGS)]


#: What ``findings.json`` is (every evidence file says it is pre-deployment evidence).
FINDINGS_BASIS = ("Pre-deployment evidence: the compliance gate's verdict on the synthesized CloudFormation templates "
                  "(every rule pack's results, and the perimeter proof's when it ran), before deployment; it is not a "
                  "test of deployed resources.")


def judge(outdir: Path, contexts: Mapping[str, RuleContext]) -> list[Finding]:
    """Run the Bedrock pack, summarize every pack into ``compliance/findings.json``, return the blockers."""
    run_bedrock_pack(outdir, contexts)
    findings = read_findings(outdir)
    errors = blocking(findings)
    summary_dir = outdir / "compliance"
    summary_dir.mkdir(exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        by_result = counts.setdefault(f"{f.pack}/{f.stack}", {})
        by_result[f.compliance] = by_result.get(f.compliance, 0) + 1
    suppressed = [asdict(f) for f in findings if f.compliance == "Suppressed"]
    document = {
        "evidence_basis": FINDINGS_BASIS,
        "passed": not errors,
        "counts": dict(sorted(counts.items())),
        "blocking": [asdict(f) for f in errors],
        "suppressed": suppressed,
    }
    from ..evidence.encoding import dump_json  # not at import: compliant_bedrock.evidence imports this module

    (summary_dir / "findings.json").write_text(dump_json(document), encoding="utf-8")
    write_sarif(outdir, findings, fix=hint)  # the same findings for code-scanning tools (findings.sarif)
    return errors
