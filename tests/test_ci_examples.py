"""The CI examples (a GitHub Actions matrix, a CodeBuild batch build) synthesize every configured environment in a
job of its own and merge the results: parsed, never run here (nothing may call AWS or the internet)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from infra.app_factory import ROOT

MERGE = re.compile(r"(?:compliant-bedrock|python -m infra\.cli) evidence merge \S+.* --out \S+")


def _environments() -> list[str]:
    """The names of config/*.yaml (each file is one environment)."""
    return sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in (ROOT / "config").glob("*.yaml"))


def _runs(steps: list[dict[str, Any]]) -> list[str]:
    return [str(step.get("run", "")) for step in steps]


def test_the_github_matrix_synthesizes_each_environment_then_merges() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "synth-matrix.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    synth = next(job for job in jobs.values() if "matrix" in (job.get("strategy") or {}))
    assert sorted(synth["strategy"]["matrix"]["env"]) == _environments()
    assert "make synth ENV=${{ matrix.env }}" in _runs(synth["steps"])
    uploads = [s for s in synth["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    # the perimeter decisions live under cdk.out/.cache: a hidden directory upload-artifact skips by default
    assert uploads and uploads[0]["with"]["path"] == "cdk.out" and uploads[0]["with"]["include-hidden-files"] is True
    (merge_name, merge), = [(n, j) for n, j in jobs.items() if any(MERGE.search(r) for r in _runs(j["steps"]))]
    needs = merge["needs"] if isinstance(merge["needs"], list) else [merge["needs"]]
    assert next(n for n, j in jobs.items() if j is synth) in needs, merge_name


def test_the_codebuild_batch_builds_each_environment_then_merges() -> None:
    spec = yaml.safe_load((ROOT / "buildspec-batch.yml").read_text(encoding="utf-8"))
    graph = spec["batch"]["build-graph"]
    synths = {node["identifier"]: node["env"]["variables"]["ENV"] for node in graph
              if "ENV" in (node.get("env") or {}).get("variables", {})}
    assert sorted(synths.values()) == _environments()
    commands = "\n".join(spec["phases"]["build"]["commands"])
    assert "make synth ENV=${ENV}" in commands and MERGE.search(commands)
    (merge,) = [node for node in graph if node["identifier"] not in synths]
    assert sorted(merge["depend-on"]) == sorted(synths)
    assert merge["env"]["variables"]["MERGE"] == "true"
