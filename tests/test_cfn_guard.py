"""cfn-guard as supporting evidence: the packaged engine runs, its report is read per rule and resource, the
triage is applied, ``compliance/cfn-guard.json`` is written and read back. Cheap: hand-written templates and one
rule file (CT.S3.PR.9, S3 Object Lock), never a synth."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compliant_bedrock.compliance import cfn_guard
from compliant_bedrock.compliance.cfn_guard import (
    CfnGuardError,
    GuardResult,
    TriageRow,
    check,
    engine,
    load_controls,
    load_triage,
    read_results,
    results_of,
)

LOCKED, UNLOCKED = "LockedBucketAAAA1111", "OpenBucketBBBB2222"


def _bucket(path: str, **properties: object) -> dict:
    return {"Type": "AWS::S3::Bucket", "Properties": properties, "Metadata": {"aws:cdk:path": path}}


def _assembly(root: Path, templates: dict[str, dict]) -> Path:
    """A minimal cloud assembly: a manifest naming each template as a stack."""
    root.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, body in templates.items():
        (root / f"{name}.template.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://111122223333/us-east-1",
                           "properties": {"templateFile": f"{name}.template.json"}}
    (root / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def packaged() -> tuple[Path, Path, Path]:
    return engine()


@pytest.fixture(scope="module")
def object_lock_rule(packaged: tuple[Path, Path, Path]) -> Path:
    return packaged[1] / "s3" / "ct-s3-pr-9.guard"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, object_lock_rule: Path) -> tuple[Path, dict]:
    """One engine run over two stacks: a locked and an unlocked bucket; a stack without buckets."""
    outdir = _assembly(tmp_path_factory.mktemp("guard") / "cdk.out", {
        "Buckets": {"Resources": {LOCKED: _bucket("Buckets/Locked/Resource", ObjectLockEnabled=True),
                                  UNLOCKED: _bucket("Buckets/Open/Resource"),
                                  "NotABucket": {"Type": "AWS::SNS::Topic", "Properties": {}}}},
        "Empty": {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}},
    })
    triage = [TriageRow("CT.S3.PR.9", "Nothing*", "accepted-by-design",
                        "a row matching no failure is listed as unused so stale rows show")]
    return outdir, check(outdir, rules=[object_lock_rule], triage=triage)


def _only(results: list[GuardResult] | tuple[GuardResult, ...], **match: object) -> GuardResult:
    found = [r for r in results if all(getattr(r, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def test_a_failing_and_a_passing_resource_are_told_apart(run: tuple[Path, dict]) -> None:
    outdir, _ = run
    results = read_results(outdir)
    failed = _only(results, resource=UNLOCKED)
    assert (failed.status, failed.control_id, failed.construct_path) == ("fail", "CT.S3.PR.9", "Buckets/Open/Resource")
    assert "ObjectLockEnabled" in failed.message and failed.triage_verdict is None
    assert _only(results, resource=LOCKED).status == "pass"
    assert not [r for r in results if r.resource == "NotABucket"]  # not a type the control evaluates: no "pass"
    skipped = _only(results, stack="Empty")
    assert (skipped.status, skipped.resource) == ("skip", None)


def test_nist_ids_come_only_from_the_controls_metadata(run: tuple[Path, dict], packaged: tuple[Path, Path, Path]) -> None:
    outdir, doc = run
    documented = json.loads((packaged[2] / "s3" / "ct-s3-pr-9.metadata.json").read_text(encoding="utf-8"))
    nist = sorted(i for m in documented["ComplianceFrameworkMappings"]
                  if m["ComplianceFramework"] == "NIST 800-53 Rev 5" for i in m["Ids"])
    assert nist and all(r.nist == tuple(nist) for r in read_results(outdir))
    assert doc["controls"]["CT.S3.PR.9"]["metadata_file"].endswith("metadata/s3/ct-s3-pr-9.metadata.json")
    # CIS and PCI DSS ids of the same metadata (CT.CLOUDTRAIL.PR.1 lists "3.7" and "10.5") never pass as NIST ids
    controls = load_controls(packaged[1], packaged[2]).values()
    assert all(re.fullmatch(r"[A-Z]{2}-\d+(\(\d+\))?", i) for c in controls for i in c.nist)
    assert sum(1 for c in controls if not c.nist) < len(controls)


def test_the_file_says_what_it_is_and_is_deterministic(run: tuple[Path, dict], object_lock_rule: Path) -> None:
    outdir, doc = run
    written = (outdir / "compliance" / "cfn-guard.json").read_text(encoding="utf-8")
    assert json.loads(written) == doc
    assert doc["role"] == "supporting" and doc["evidence_basis"].startswith("Pre-deployment evidence, supporting only")
    assert doc["counts"] == {"fail-open": 1, "pass": 1, "skip": 1}
    assert [row["resource_pattern"] for row in doc["triage_unused"]] == ["Nothing*"]
    check(outdir, rules=[object_lock_rule], triage=[TriageRow("CT.S3.PR.9", "Nothing*", "accepted-by-design",
                                                               "a row matching no failure is listed as unused so stale rows show")])
    assert (outdir / "compliance" / "cfn-guard.json").read_text(encoding="utf-8") == written


def test_triage_marks_the_failure_it_names_and_nothing_else(run: tuple[Path, dict], object_lock_rule: Path) -> None:
    outdir, _ = run
    reason = "test bucket that stands for a log target which may not carry Object Lock"
    doc = check(outdir, rules=[object_lock_rule], triage=[TriageRow("CT.S3.PR.9", "*Bucket*", "accepted-by-design", reason)])
    results = read_results(outdir)
    failed = _only(results, resource=UNLOCKED)
    assert (failed.triage_verdict, failed.triage_reason) == ("accepted-by-design", reason)
    assert _only(results, resource=LOCKED).triage_verdict is None  # a pass is never "triaged"
    assert doc["counts"] == {"fail-accepted-by-design": 1, "pass": 1, "skip": 1} and doc["triage_unused"] == []


def test_a_failure_naming_no_resource_of_the_template_is_kept(packaged: tuple[Path, Path, Path]) -> None:
    controls = load_controls(packaged[1], packaged[2])
    report = {"not_compliant": [{"Rule": {"name": "s3_bucket_object_lock_enabled_check", "checks": [
        {"Clause": {"messages": {"error_message": "no such property"}, "check": {"path": "/Outputs/X"}}}]}}]}
    results = results_of(report, {"Resources": {}}, "t.json", "S", controls)
    assert [(r.status, r.resource) for r in results] == [("fail", None)]


def test_the_engine_refuses_what_it_cannot_evaluate(tmp_path: Path, packaged: tuple[Path, Path, Path]) -> None:
    broken = tmp_path / "broken.guard"
    broken.write_text("rule broken when {{ this is not guard\n", encoding="utf-8")
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {}}), encoding="utf-8")
    with pytest.raises(CfnGuardError, match="cfn-guard exited"):
        cfn_guard.run_guard(packaged[0], [(template, [broken])])


def test_main_exits_3_when_the_engine_cannot_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def unavailable(*_: object, **__: object) -> dict:
        raise CfnGuardError("no cfn-guard for this platform")

    monkeypatch.setattr(cfn_guard, "check", unavailable)
    assert cfn_guard.main([str(tmp_path)]) == cfn_guard.COULD_NOT_JUDGE
    assert "could not run (no cfn-guard for this platform)" in capsys.readouterr().err


def test_the_shipped_triage_names_packaged_controls_with_reasons(packaged: tuple[Path, Path, Path]) -> None:
    known = {c.control_id for c in load_controls(packaged[1], packaged[2]).values()}
    rows = load_triage()
    assert rows and {r.control_id for r in rows} <= known
    assert all(r.verdict in cfn_guard.VERDICTS and len(r.reason.split()) >= 8 for r in rows)


@pytest.mark.parametrize(("row", "error"), [
    ("CT.S3.PR.9\t*\tfine\tthe reason is long enough to pass the eight word rule", "verdict 'fine'"),
    ("CT.S3.PR.9\t*\taccepted-by-design\tit is fine", "fewer than 8 words"),
    ("CT.S3.PR.9\t*\taccepted-by-design", "expected 4 tab-separated cells"),
])
def test_a_triage_row_without_a_verdict_or_a_reason_is_refused(tmp_path: Path, row: str, error: str) -> None:
    table = tmp_path / "triage.tsv"
    table.write_text(f"control\tresource_pattern\tverdict\treason\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_triage(table)


def test_by_default_every_control_is_accounted_for_in_every_template(tmp_path: Path,
                                                                     packaged: tuple[Path, Path, Path]) -> None:
    """All rules of the package: those whose control evaluates a type the template has run, the others are
    recorded as not run (skips), none is silently left out."""
    outdir = _assembly(tmp_path / "cdk.out", {"Buckets": {"Resources": {UNLOCKED: _bucket("Buckets/Open/Resource")}}})
    check(outdir, triage=())
    results = read_results(outdir)
    controls = load_controls(packaged[1], packaged[2])
    assert {r.rule for r in results} == set(controls)
    assert _only(results, control_id="CT.LAMBDA.PR.3").message.startswith("CT.LAMBDA.PR.3: not run (the template has no")
    assert _only(results, control_id="CT.S3.PR.9", resource=UNLOCKED).status == "fail"
    assert {r.control_id for r in results if r.status != "skip"} >= {"CT.S3.PR.1", "CT.S3.PR.9"}
