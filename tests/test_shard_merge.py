"""The two halves of a sharded synth's merge (infra.parallel): the assembly while the workers draw their evidence,
then the evidence; and a worker that fails after its assembly was merged still leaves no evidence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infra import parallel


def _part(root: Path) -> Path:
    part = root / "shard-1"
    (part / "compliance").mkdir(parents=True)
    (part / "manifest.json").write_text(json.dumps({"artifacts": {
        "Worker": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Worker.template.json"}}}}))
    (part / "Worker.template.json").write_text("{}")
    (part / "NIST.800.53.R5--Worker-NagReport.json").write_text('{"lines": []}')
    (part / "Bedrock--Worker-NagReport.json").write_text('{"lines": ["judged on the share only"]}')
    (part / "compliance" / "matrix-worker.json").write_text("{}")
    (part / parallel.SHARE_EVIDENCE).write_text(json.dumps({"Worker": {"name": "worker"}}))
    parallel.mark_ready(part)
    return part


def test_the_assembly_is_merged_without_the_shards_evidence_or_bedrock_reports(tmp_path: Path) -> None:
    part, into = _part(tmp_path), tmp_path / "cdk.out"
    into.mkdir()
    (into / "manifest.json").write_text(json.dumps({"artifacts": {}}))
    parallel.merge_assembly(into, [part])
    assert sorted(p.name for p in into.iterdir()) == [
        "NIST.800.53.R5--Worker-NagReport.json", "Worker.template.json", "manifest.json"]
    assert "Worker" in json.loads((into / "manifest.json").read_text())["artifacts"]
    assert (part / "Worker.template.json").is_file()  # copied: the worker still reads it for its evidence
    assert parallel.merge_evidence(into, [part]) == {"Worker": {"name": "worker"}}
    assert (into / "compliance" / "matrix-worker.json").is_file()


class _Worker:
    def __init__(self, code: int | None) -> None:
        self.code = code

    def poll(self) -> int | None:
        return self.code


def test_a_worker_that_exits_before_its_assembly_is_complete_has_failed(tmp_path: Path) -> None:
    ready, gone = _part(tmp_path / "a"), tmp_path / "b" / "shard-2"
    gone.mkdir(parents=True)
    assert parallel.wait_ready([(_Worker(None), ready), (_Worker(3), gone)]) == [str(gone)]


def test_a_worker_failing_after_the_merge_leaves_no_evidence(reference_out: Path, tmp_path: Path) -> None:
    import aws_cdk as cdk

    from compliant_bedrock import ComplianceGate

    out = tmp_path / "out"
    shutil.copytree(reference_out, out, ignore=shutil.ignore_patterns("*.png", "*.svg", ".cache", "compliance"))

    def shards() -> dict:
        raise parallel.ShardFailed([str(tmp_path / "shard-1")])

    with pytest.raises(parallel.ShardFailed):
        ComplianceGate(cdk.App(), perimeter="off").judge(out, written_by_shards=shards)
    assert not (out / "compliance").exists()
