"""cdk-nag runs only on stacks it has not judged in their current form (compliance.nag_cache).

A kept result must be exactly what cdk-nag writes for the same stack, must never stand for a stack that changed,
and must never hide a finding: a result with findings is not kept (cdk-nag's annotations of the construct tree
could not be copied with it).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import orjson
import pytest
from aws_cdk import aws_s3 as s3

from compliant_bedrock.compliance import nag_cache
from compliant_bedrock.compliance.nag_cache import NagPlan

PACKS = ("NIST.800.53.R5", "AwsSolutions")


def _synth(outdir: Path, *, extra_resource: bool = False, dirty: bool = True) -> tuple[NagPlan, Path]:
    app = cdk.App(outdir=str(outdir))
    clean = cdk.Stack(app, "Clean")
    cdk.CfnWaitConditionHandle(clean, "Handle")
    if extra_resource:
        cdk.CfnWaitConditionHandle(clean, "Another")
    plan = NagPlan()
    plan.add(clean)
    if dirty:
        findings = cdk.Stack(app, "Dirty")
        s3.Bucket(findings, "Bucket")  # no access logging, no SSL policy...: cdk-nag reports it Non-Compliant
        plan.add(findings)
    assembly = plan.synth(app)
    return plan, Path(assembly.directory)


def _reports(outdir: Path, stack: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in nag_cache.reports_of(outdir, stack)}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "nag-cache"
    monkeypatch.setenv(nag_cache.CACHE_ENV, str(directory))
    return directory


def test_a_clean_stack_is_judged_once_and_its_reports_copied_back_as_cdk_nag_writes_them(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, out1 = _synth(tmp_path / "one")
    assert first.judged == ["Clean", "Dirty"] and first.kept == []
    second, out2 = _synth(tmp_path / "two")
    assert second.kept == ["Clean"]
    assert sorted(_reports(out2, "Clean")) == ["AwsSolutions--Clean-NagReport.json", "NIST.800.53.R5--Clean-NagReport.json"]
    monkeypatch.setenv(nag_cache.CACHE_ENV, "off")
    fresh, out3 = _synth(tmp_path / "three")
    assert fresh.kept == [] and not (tmp_path / "three" / ".cache").exists()
    assert _reports(out2, "Clean") == _reports(out3, "Clean") == _reports(out1, "Clean")
    for name in ("Clean.template.json", "manifest.json"):
        assert (out2 / name).read_bytes() == (out3 / name).read_bytes()


def test_a_result_with_findings_is_never_kept_so_cdk_nag_reports_it_every_time(cache: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "one")
    assert not (cache / "Dirty").exists()
    second, out = _synth(tmp_path / "two")
    assert "Dirty" in second.judged
    lines = [line for report in nag_cache.reports_of(out, "Dirty")
             for line in orjson.loads(report.read_bytes())["lines"]]
    assert any(line["compliance"] == "Non-Compliant" for line in lines)
    assert not nag_cache.clean(nag_cache.reports_of(out, "Dirty"))


def test_a_changed_stack_is_judged_again(cache: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "one", dirty=False)
    changed, _ = _synth(tmp_path / "two", extra_resource=True, dirty=False)
    assert changed.judged == ["Clean"] and changed.kept == []
    assert len(list((cache / "Clean").iterdir())) == 1  # the stack's earlier entry went


def test_the_key_covers_the_template_the_construct_paths_the_packs_and_the_code(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, out = _synth(tmp_path / "one", dirty=False)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    artifact = manifest["artifacts"]["Clean"]
    key = nag_cache.stack_key(out, "Clean", artifact, PACKS)
    assert key == nag_cache.stack_key(out, "Clean", artifact, PACKS)
    assert key != nag_cache.stack_key(out, "Clean", artifact, (*PACKS, "HIPAA.Security"))
    assert key != nag_cache.stack_key(out, "Other", artifact, PACKS)

    metadata_file = out / artifact["additionalMetadataFile"]
    metadata = orjson.loads(metadata_file.read_bytes())
    traced = {path: [*entries, {"type": "aws:cdk:creationStack", "data": ["/tmp/jsii-kernel-abc/x.js"]}]
              for path, entries in metadata.items()}
    metadata_file.write_bytes(orjson.dumps(traced))
    assert nag_cache.stack_key(out, "Clean", artifact, PACKS) == key  # jsii's traces differ in every run
    moved = {path.replace("Handle", "Moved"): entries for path, entries in metadata.items()}
    metadata_file.write_bytes(orjson.dumps(moved))
    assert nag_cache.stack_key(out, "Clean", artifact, PACKS) != key  # reports name resources by path
    metadata_file.write_bytes(orjson.dumps(metadata))

    template = out / artifact["properties"]["templateFile"]
    body = template.read_bytes()
    template.write_bytes(body.replace(b"AWS::CloudFormation::WaitConditionHandle", b"AWS::SQS::Queue"))
    assert nag_cache.stack_key(out, "Clean", artifact, PACKS) != key
    template.write_bytes(body)

    monkeypatch.setattr(nag_cache, "code_fingerprint", lambda: "another release of the package")
    assert nag_cache.stack_key(out, "Clean", artifact, PACKS) != key


def test_a_torn_entry_is_a_miss(cache: Path, tmp_path: Path) -> None:
    _synth(tmp_path / "one", dirty=False)
    entry = next((cache / "Clean").iterdir())
    next(p for p in entry.iterdir() if p.name.endswith("-NagReport.json")).unlink()
    again, _ = _synth(tmp_path / "two", dirty=False)
    assert again.judged == ["Clean"]


def test_shard_workers_keep_their_results_in_the_parents_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's own output directory is scratch, removed after the merge: its cdk-nag results, pack reports and
    evidence go to the parent's caches, or the next synth's workers would judge and render everything again."""
    from compliant_bedrock.compliance import pack_cache
    from compliant_bedrock.evidence import stack_cache
    from infra import parallel

    started: list[dict[str, str]] = []

    class Popen:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            started.append(env)

    monkeypatch.setattr(parallel.subprocess, "Popen", Popen)
    for module in (nag_cache, pack_cache, stack_cache):
        monkeypatch.delenv(module.CACHE_ENV, raising=False)
    monkeypatch.setenv(stack_cache.CACHE_ENV, str(tmp_path / "chosen"))  # a directory the user named stays
    parallel.start_workers(3, {}, tmp_path / "scratch", caches_of=tmp_path / "cdk.out")
    assert len(started) == 2
    for env in started:
        assert env[nag_cache.CACHE_ENV] == str((tmp_path / "cdk.out" / ".cache" / "nag").resolve())
        assert env[pack_cache.CACHE_ENV] == str((tmp_path / "cdk.out" / ".cache" / "pack").resolve())
        assert env[stack_cache.CACHE_ENV] == str(tmp_path / "chosen")
