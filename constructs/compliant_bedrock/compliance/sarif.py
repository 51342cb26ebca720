"""The gate's findings as SARIF 2.1.0 (``compliance/findings.sarif``), so code-scanning tools show them on the change.

Why: a pipeline reads ``findings.json`` only through code written for it; every code-scanning tool reads SARIF.
One result per finding the gate reports (blocking) or accepts (suppressed, with the suppression's justification),
level ``error``; rules carry the rule's explanation and fix, NIST SP 800-53 r5 controls are ``properties.tags``;
each result is located by its construct path (logical location) and by the line of its resource in the
synthesized template (physical location). Passing results are not listed: SARIF is a list of problems, and the
file says nothing about a verdict (``findings.json`` does), so a failing run leaves no file here that says passed.

:func:`to_sarif` is a pure function of the findings and their locations; :func:`template_locations` reads the
templates once to find them. Deterministic: no timestamps, sorted results.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .pack import RULES

if TYPE_CHECKING:
    from .gate import Finding
    from .perimeter.proof import Proof

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_FILE = "findings.sarif"
TOOL = "compliant-bedrock"
#: The SARIF uriBaseId code-scanning tools resolve against the repository root.
SRCROOT = "%SRCROOT%"
_CDK_PATH = "aws:cdk:path"


@dataclass(frozen=True)
class Location:
    """Where a finding's resource is: the template file (relative to the project root), its logical id and line."""

    uri: str
    logical_id: str | None = None
    line: int | None = None


def _description(finding: Finding) -> str:
    rule = RULES.get(finding.rule_id)
    if rule is not None:
        return rule.explanation
    return finding.info.split(" - (Control IDs")[0].strip() or finding.rule_id


def _fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.pack, finding.rule_id, finding.stack, finding.resource))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def to_sarif(findings: Iterable[Finding], locations: Mapping[tuple[str, str], Location] | None = None,
             fix: Callable[[Finding], str] | None = None, version: str = "0") -> dict:
    """A SARIF 2.1.0 log of the blocking and suppressed ``findings`` (others are ignored).

    ``locations``: (stack, construct path) to its place in a template. ``fix``: the remedy of a finding as the
    gate words it (default: the rule's fix). ``version``: the tool version recorded in the driver."""
    from .gate import blocking

    findings = list(findings)
    blockers = set(blocking(findings))
    reported = sorted({f for f in findings if f in blockers or f.compliance == "Suppressed"},
                      key=lambda f: (f.rule_id, f.stack, f.resource, f.compliance, f.reason or ""))
    locations = locations or {}
    rule_ids = sorted({f.rule_id for f in reported})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    first = {rule_id: next(f for f in reported if f.rule_id == rule_id) for rule_id in rule_ids}
    tags = {rule_id: sorted({c for f in reported if f.rule_id == rule_id for c in f.controls}) for rule_id in rule_ids}

    def remedy(finding: Finding) -> str:
        if fix is not None:
            return fix(finding)
        rule = RULES.get(finding.rule_id)
        return f"Fix: {rule.fix}" if rule is not None else "Fix: change the resource so the rule passes."

    rules = [{
        "id": rule_id,
        "name": rule_id.replace(".", "").replace("-", ""),
        "shortDescription": {"text": _description(first[rule_id])},
        "fullDescription": {"text": first[rule_id].info or _description(first[rule_id])},
        "help": {"text": remedy(first[rule_id])},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": tags[rule_id], "pack": first[rule_id].pack},
    } for rule_id in rule_ids]
    results = []
    for finding in reported:
        where = locations.get((finding.stack, finding.resource))
        physical: dict = {}
        if where is not None:
            physical = {"physicalLocation": {"artifactLocation": {"uri": where.uri, "uriBaseId": SRCROOT},
                                             **({"region": {"startLine": where.line}} if where.line else {})}}
        suppressed = finding.compliance == "Suppressed"
        text = (f"{finding.rule_id} {finding.resource}: {_description(finding)} (suppressed: {finding.reason})"
                if suppressed else finding.line())
        result: dict = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": "error",
            "message": {"text": text},
            "locations": [{
                **physical,
                "logicalLocations": [{"fullyQualifiedName": finding.resource, "kind": "resource",
                                      **({"name": where.logical_id} if where and where.logical_id else {})}],
            }],
            "partialFingerprints": {"compliantBedrockFinding/v1": _fingerprint(finding)},
            "properties": {"tags": list(dict.fromkeys(finding.controls)), "stack": finding.stack, "pack": finding.pack,
                           "compliance": finding.compliance},
        }
        if suppressed:
            result["suppressions"] = [{"kind": "inSource", "status": "accepted",
                                       "justification": finding.reason or "no reason recorded"}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": version, "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "properties": {"evidence_basis": "Pre-deployment evidence: the compliance gate's blocking and suppressed "
                                             "findings on the synthesized CloudFormation templates; the verdict is "
                                             "in findings.json."},
            "results": results,
        }],
    }


def template_locations(outdir: Path, findings: Iterable[Finding], root: Path | None = None,
                       ) -> dict[tuple[str, str], Location]:
    """(stack, construct path) -> template file and line of the resource (``"<LogicalId>": {``), for ``findings``.
    File URIs are ``cdk.out/<file in the assembly>`` (the project-root path of CDK's default output directory, as
    the perimeter results name ``cdk.out/compliance/...``), whatever the assembly directory is called here, so the
    evidence of a synth does not depend on where it was written (``evidence merge`` is byte-identical to one synth);
    with ``root``, relative to ``root`` instead."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        return {}
    artifacts = json.loads(manifest_file.read_text(encoding="utf-8")).get("artifacts") or {}
    files: dict[str, tuple[Path, dict[str, str]]] = {}
    for name, artifact in artifacts.items():
        if artifact.get("type") == "aws:cloudformation:stack":
            files[name] = (outdir / artifact["properties"]["templateFile"], _logical_ids(outdir, artifact))
            files.setdefault((artifact.get("properties") or {}).get("stackName") or name, files[name])
    wanted: dict[str, set[str]] = {}
    for f in findings:
        wanted.setdefault(f.stack, set()).add(f.resource)
    found: dict[tuple[str, str], Location] = {}
    for stack, paths in wanted.items():
        template, by_metadata = files.get(stack, (None, {}))
        if template is None or not template.is_file():
            continue
        text = template.read_text(encoding="utf-8")
        if root is None:
            uri = f"cdk.out/{template.resolve().relative_to(outdir.resolve()).as_posix()}"
        else:
            uri = Path(template.resolve()).relative_to(root.resolve()).as_posix() \
                if template.resolve().is_relative_to(root.resolve()) else template.resolve().as_uri()
        resources = orjson.loads(text).get("Resources") or {}
        by_path = {**by_metadata, **{(r.get("Metadata") or {}).get(_CDK_PATH): logical_id
                                     for logical_id, r in resources.items()}}
        starts = _object_lines(text)
        for path in paths:
            # the Bedrock pack names a resource by its logical id when the template carries no path metadata
            logical_id = path if path in resources else by_path.get(path)
            line = starts.get(logical_id) if logical_id else None
            found[(stack, path)] = Location(uri, logical_id, line)
    return found


def _object_lines(text: str) -> dict[str, int]:
    """Key -> the 1-based line of its first ``"<key>": {`` in or after the template's Resources section (an output
    or condition of the same name before it is not the resource): one regular-expression pass over the text, where
    looking each finding's resource up line by line cost a scan of the template per finding."""
    resources = _RESOURCES_LINE.search(text)
    start = resources.start() if resources else 0
    found: dict[str, int] = {}
    line, counted = text.count("\n", 0, start) + 1, start
    for match in _KEY_LINE.finditer(text, start):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        found.setdefault(match.group(1), line)
    return found


#: A line that opens the Resources section, and a line that opens an object under a key (``"<key>": {``).
_RESOURCES_LINE = re.compile(r'^[ \t]*"Resources": \{', re.MULTILINE)
_KEY_LINE = re.compile(r'^[ \t]*"([^"\n]*)": \{', re.MULTILINE)


def _logical_ids(outdir: Path, artifact: dict) -> dict[str, str]:
    """Construct path -> logical id from the stack's assembly metadata (a template synthesized without the CLI
    carries no ``aws:cdk:path`` metadata; the assembly's ``aws:cdk:logicalId`` entries have every path)."""
    entries = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str) and (outdir / extra).is_file():
        entries.update(orjson.loads((outdir / extra).read_bytes()))
    return {path.lstrip("/"): str(entry["data"]) for path, items in entries.items() for entry in items or ()
            if isinstance(entry, dict) and entry.get("type") == "aws:cdk:logicalId"}


def tool_version() -> str:
    try:
        return metadata.version("compliant-bedrock")
    except metadata.PackageNotFoundError:  # a source checkout run without the editable install
        return "unknown"


def write_sarif(outdir: Path, findings: Sequence[Finding], fix: Callable[[Finding], str] | None = None) -> Path:
    """Write ``compliance/findings.sarif`` beside ``findings.json``."""
    target = outdir / "compliance" / SARIF_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    document = to_sarif(findings, template_locations(outdir, findings), fix=fix, version=tool_version())
    from ..evidence.encoding import dump_json  # not at import: compliant_bedrock.evidence imports this module

    target.write_text(dump_json(document), encoding="utf-8")
    return target


#: The perimeter proof's SARIF rules: a request that should be denied was allowed (or the reverse), and an
#: acceptance that covers no open request any more.
PERIMETER_RULES = {
    "Perimeter-OpenPath": ("A modelled request was decided otherwise than the perimeter requires (a path that should be "
                           "denied is allowed, or a request a workload needs is refused)",
                           "Fix: close the path (identity deny, endpoint, key or bucket policy, SCP/RCP, account guardrail "
                           "enforcement), or accept it with a reasoned, approved entry in the perimeter acceptances"),
    "Perimeter-StaleAcceptance": ("A perimeter acceptance covers no open request: the path it accepted is closed now",
                                  "Fix: delete the acceptance from the perimeter acceptances file"),
}


def with_perimeter(log: dict, proof: Proof) -> dict:
    """``log`` plus the perimeter proof's results: each open path (blocking), each accepted path (suppressed, with
    its reason, approver and expiry) and each stale acceptance; located at the request (environment/request id)
    and at ``perimeter-<env>.md``. A pure function: ``log`` is not changed."""
    run = log["runs"][0]
    rules = [r for r in run["tool"]["driver"]["rules"] if r["id"] not in PERIMETER_RULES]
    results = [r for r in run["results"] if r["ruleId"] not in PERIMETER_RULES]
    accepted = [o for o in proof.outcomes if o.verdict == "accepted"]
    entries: list[tuple[str, str, str, list[str], str, dict | None]] = []
    for o in [*proof.blocking, *accepted]:
        suppression = None if o.verdict == "open" else {
            "kind": "external", "status": "accepted",
            "justification": f"{o.accepted_reason} (approved by {o.accepted_by or 'no approver recorded'}, until "
                             f"{o.accepted_until or 'no expiry recorded'})"}
        entries.append(("Perimeter-OpenPath", o.environment, o.id, list(dict.fromkeys(o.controls)),
                        f"{o.environment}: {o.line()}", suppression))
    for a in proof.stale_acceptances:
        for env in a.environments or ("all environments",):
            entries.append(("Perimeter-StaleAcceptance", env, a.request, [],
                            f"perimeter acceptance {a.request}: covers no open request (the path is closed now): "
                            "delete it from the perimeter acceptances", None))
    used = sorted({e[0] for e in entries})
    for rule_id in used:
        short, fix = PERIMETER_RULES[rule_id]
        tags = sorted({c for e in entries if e[0] == rule_id for c in e[3]})
        rules.append({"id": rule_id, "name": rule_id.replace("-", ""), "shortDescription": {"text": short},
                      "fullDescription": {"text": short}, "help": {"text": fix},
                      "defaultConfiguration": {"level": "error"}, "properties": {"tags": tags, "pack": "Perimeter"}})
    index = {r["id"]: i for i, r in enumerate(rules)}
    for result in results:  # the gate's rules keep their order; their indexes are unchanged
        result["ruleIndex"] = index[result["ruleId"]]
    for rule_id, env, request, controls, text, suppression in sorted(entries, key=lambda e: (e[0], e[1], e[2])):
        location = {"logicalLocations": [{"fullyQualifiedName": f"{env}/{request}", "kind": "request"}]}
        if env != "all environments":
            location["physicalLocation"] = {"artifactLocation": {"uri": f"cdk.out/compliance/perimeter-{env}.md",
                                                                 "uriBaseId": SRCROOT}}
        key = "\0".join(("Perimeter", rule_id, env, request))
        results.append({
            "ruleId": rule_id, "ruleIndex": index[rule_id], "level": "error", "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {"compliantBedrockFinding/v1": hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]},
            "properties": {"tags": controls, "environment": env, "pack": "Perimeter"},
            **({"suppressions": [suppression]} if suppression else {}),
        })
    return {**log, "runs": [{**run, "tool": {"driver": {**run["tool"]["driver"], "rules": rules}},
                             "results": results}]}


def add_perimeter(outdir: Path, proof: Proof) -> Path | None:
    """Add the perimeter proof's results to ``compliance/findings.sarif`` (written by the gate before the proof)."""
    target = outdir / "compliance" / SARIF_FILE
    if not target.is_file():
        return None
    log = with_perimeter(orjson.loads(target.read_bytes()), proof)
    from ..evidence.encoding import dump_json  # not at import: compliant_bedrock.evidence imports this module

    target.write_text(dump_json(log), encoding="utf-8")
    return target
