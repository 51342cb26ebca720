"""Many environments: worker processes synthesize shares, one merged assembly is judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.environments import write_environments
from infra.app_factory import ROOT

COUNT = 6
#: Worker processes synthesizing shares through the CLI, ~15 s: in make test-integration (CI runs it after make test).
pytestmark = pytest.mark.shards


def _synth(config: Path, outdir: Path, **context: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_VALIDATION": "false",
           # the perimeter proof is tested elsewhere; here it would only repeat itself per synth (~1.5 s each)
           "CDK_CONTEXT_JSON": json.dumps({"compliant-bedrock:config-dir": str(config),
                                           "compliance:perimeter": "off", **context})}
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config")
    write_environments(directory, COUNT, base_file=ROOT / "tests" / "fixtures" / "environment.yaml")
    return directory


@pytest.fixture(scope="module")
def parallel(config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("parallel")
    result = _synth(config, outdir)
    assert result.returncode == 0, result.stderr
    return outdir


def test_merged_assembly_holds_every_environment_and_every_report(parallel: Path) -> None:
    manifest = json.loads((parallel / "manifest.json").read_text())
    stacks = sorted(n for n, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack")
    assert stacks == [f"CompliantBedrock-env-{i:03d}" for i in range(COUNT)]
    for stack in stacks:
        assert (parallel / f"{stack}.template.json").is_file()
        for pack in ("NIST.800.53.R5", "AwsSolutions", "Bedrock"):
            assert (parallel / f"{pack}--{stack}-NagReport.json").is_file()
    findings = json.loads((parallel / "compliance" / "findings.json").read_text())
    assert findings["passed"] and len(findings["counts"]) == 3 * COUNT
    assert len(list((parallel / "compliance").glob("matrix-*.json"))) == COUNT


def test_a_sharded_stack_equals_the_one_synthesized_alone(config: Path, parallel: Path, tmp_path: Path) -> None:
    """Template and per-stack evidence: env-003 is built, judged and drawn by the worker shard (every
    second environment), and must be the same bytes as when synthesized alone in one process."""
    result = _synth(config, tmp_path, env="env-003")
    assert result.returncode == 0, result.stderr
    name = "CompliantBedrock-env-003.template.json"
    assert (tmp_path / name).read_bytes() == (parallel / name).read_bytes()
    for evidence in ("matrix-env-003.json", "matrix-env-003.md", "architecture-env-003.svg", "architecture-env-003.png"):
        assert (tmp_path / "compliance" / evidence).read_bytes() == (parallel / "compliance" / evidence).read_bytes()
    assert (tmp_path / "Bedrock--CompliantBedrock-env-003-NagReport.json").read_bytes() == (
        parallel / "Bedrock--CompliantBedrock-env-003-NagReport.json").read_bytes()


def test_the_merged_assembly_keeps_no_shard_bookkeeping(parallel: Path) -> None:
    from infra.parallel import SHARE_EVIDENCE

    assert not list(parallel.rglob(SHARE_EVIDENCE))
    summary = json.loads((parallel / "compliance" / "summary.json").read_text())
    assert sorted(summary["stacks"]) == [f"CompliantBedrock-env-{i:03d}" for i in range(COUNT)]
    assert all(stack["controls"] for stack in summary["stacks"].values())  # totals from every shard


def test_a_failed_worker_fails_the_synth_and_leaves_no_evidence(config: Path, tmp_path: Path) -> None:
    """env-001 is built by the worker shard; its models overflow IAM's policy size, so the worker refuses it."""
    import shutil

    broken = tmp_path / "config"
    shutil.copytree(config, broken)
    env = yaml.safe_load((broken / "env-001.yaml").read_text())
    models = [f"eu.openai.example-{i}:0" for i in range(3)]  # unknown ids, accepted in writing (strict by default)
    env.update(region="eu-west-1", fips_endpoints=False, models=models,
               accept_unverified_models={m: {"reason": "Confirmed with aws bedrock list-inference-profiles in eu-west-1 "
                                                       "by the platform team", "approved_by": "AO, RA-TEST-2"}
                                         for m in models},
               vpc={"cidr": "10.1.0.0/16", "availability_zones": ["eu-west-1a", "eu-west-1b"]})
    (broken / "env-001.yaml").write_text(yaml.safe_dump(env))
    out = tmp_path / "out"
    (out / "compliance").mkdir(parents=True)
    (out / "compliance" / "findings.json").write_text('{"passed": true}')  # an earlier synth's verdict
    result = _synth(broken, out)
    assert result.returncode == 3, result.stderr
    assert "invalid construct properties: BedrockModelAccess" in result.stderr
    assert "no evidence written" in result.stderr and "Traceback" not in result.stderr
    assert not (out / "compliance").exists()
