"""``compliant-bedrock evidence merge``: partial synths (one CI job per environment) make the evidence of one synth.

The byte-for-byte comparison synthesizes the reference app four times in subprocesses (~1-2 min on 2 cores):
marked ``shards``, it runs in make test-integration. The refusals are cheap and run in make test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app_factory import ROOT
from infra.evidence_merge import MergeError, merge_assemblies

#: The reference environments (config/*.yaml), one partial synth each.
ENVIRONMENTS = ("commercial", "govcloud", "frontier")
EPOCH = "1784023200"  # the evidence's date, the same for every synth compared


def _synth(outdir: Path, **context: str) -> None:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_VALIDATION": "false", "SOURCE_DATE_EPOCH": EPOCH,
           "CDK_CONTEXT_JSON": json.dumps(context)}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("synths")
    for name in (*ENVIRONMENTS, "full"):
        _synth(base / name, **({} if name == "full" else {"env": name}))
    return {name: base / name for name in (*ENVIRONMENTS, "full")}


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.shards
def test_three_partial_synths_merge_into_the_evidence_of_one_full_synth(synths: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "CDK_VALIDATION": "false"}
    done = subprocess.run([sys.executable, "-m", "infra.cli", "evidence", "merge",
                           *(str(synths[name]) for name in ENVIRONMENTS), "--out", str(merged)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compliance: gate passed" in done.stderr
    full, ours = _files(synths["full"] / "compliance"), _files(merged / "compliance")
    assert sorted(ours) == sorted(full)
    differing = [name for name in full if full[name] != ours[name]]
    assert not differing, differing
    # each part proved its own environments: the merged proof read their decisions and simulated nothing
    last = json.loads((merged / ".cache" / "perimeter" / "last-run.json").read_text())
    assert last["simulated"] == 0 and last["cached"] == last["distinct"] > 0


def _assembly(directory: Path, files: dict[str, str], artifacts: dict[str, dict]) -> Path:
    directory.mkdir(parents=True)
    (directory / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_parts_that_disagree_or_are_no_assembly_are_refused(tmp_path: Path) -> None:
    stack = {"type": "aws:cloudformation:stack", "properties": {"templateFile": "A.template.json"}}
    one = _assembly(tmp_path / "one", {"A.template.json": "{}"}, {"A": stack})
    same = _assembly(tmp_path / "same", {"A.template.json": "{}", "B.template.json": "{}"},
                     {"A": stack, "B": {**stack, "properties": {"templateFile": "B.template.json"}}})
    merge_assemblies([one, same], tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sorted(manifest["artifacts"]) == ["A", "B"] and (tmp_path / "out" / "B.template.json").is_file()
    other = _assembly(tmp_path / "other", {"A.template.json": '{"Resources": {}}'}, {"A": stack})
    with pytest.raises(MergeError, match=r"one and .*other disagree on A\.template\.json.*same commit"):
        merge_assemblies([one, other], tmp_path / "out2")
    moved = _assembly(tmp_path / "moved", {}, {"A": {**stack, "properties": {"templateFile": "elsewhere.json"}}})
    with pytest.raises(MergeError, match=r"disagree on the manifest entry of A"):
        merge_assemblies([one, moved], tmp_path / "out3")
    with pytest.raises(MergeError, match=r"no manifest\.json: not a synthesized cloud assembly.*make synth ENV="):
        merge_assemblies([one, tmp_path], tmp_path / "out4")
    with pytest.raises(MergeError, match=r"--out .* is one of the inputs"):
        merge_assemblies([one, same], one)


def test_the_command_names_the_bad_input_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra import cli

    assert cli.main(["evidence", "merge", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:  # argparse: usage on stderr, exit 2
        cli.main(["nonsense"])
    assert unknown.value.code == 2
