"""The Bedrock pack evaluates a stack only when something its report depends on changed (compliance.pack_cache).

A copied report must be the one a fresh evaluation writes; any template change in the assembly (the cross-stack
rules read every template), a changed setting or other code must evaluate again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliant_bedrock.compliance import gate, pack_cache
from compliant_bedrock.compliance.pack import RuleContext


@pytest.fixture
def assembly(reference_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(reference_out, copy, ignore=shutil.ignore_patterns("*.png", "*.svg", ".cache", "compliance"))
    monkeypatch.setenv(pack_cache.CACHE_ENV, str(tmp_path / "pack-cache"))
    return copy


def _reports(outdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in outdir.glob(f"{gate.PACK_NAME}--*{gate.REPORT_SUFFIX}")}


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    evaluated: list[str] = []
    real = gate.evaluate

    def evaluate(template, context):  # type: ignore[no-untyped-def]
        evaluated.append(context.stack)
        return real(template, context)

    monkeypatch.setattr(gate, "evaluate", evaluate)
    return evaluated


def test_an_unchanged_assembly_is_evaluated_once_and_copied_reports_are_the_fresh_ones(
        assembly: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contexts = {"CompliantBedrock-commercial": RuleContext(min_log_retention_days=400)}
    gate.run_bedrock_pack(assembly, contexts)
    fresh = _reports(assembly)
    evaluated = _counting(monkeypatch)
    for report in assembly.glob(f"{gate.PACK_NAME}--*"):
        report.unlink()
    gate.run_bedrock_pack(assembly, contexts)
    assert evaluated == [] and _reports(assembly) == fresh and len(fresh) == 10

    monkeypatch.setenv(pack_cache.CACHE_ENV, "off")
    gate.run_bedrock_pack(assembly, contexts)
    assert len(evaluated) == 10 and _reports(assembly) == fresh


def test_any_template_change_evaluates_every_stack_and_a_changed_setting_its_stack(
        assembly: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate.run_bedrock_pack(assembly, {})
    evaluated = _counting(monkeypatch)
    gate.run_bedrock_pack(assembly, {"CompliantBedrock-govcloud": RuleContext(min_object_lock_days=3650)})
    assert evaluated == ["CompliantBedrock-govcloud"]

    evaluated.clear()
    template = assembly / "CompliantBedrock-organization-commercial.template.json"
    template.write_text(template.read_text(encoding="utf-8") + " ", encoding="utf-8")  # the SCPs' stack changed
    gate.run_bedrock_pack(assembly, {})
    assert len(evaluated) == 10  # the cross-stack rules of every stack read the organization's SCPs

    evaluated.clear()
    monkeypatch.setattr(pack_cache, "code_fingerprint", lambda: "another release of the rules")
    gate.run_bedrock_pack(assembly, {})
    assert len(evaluated) == 10


def test_a_stack_keeps_its_shard_and_its_assembly_entries_only(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    report = tmp_path / "report.json"
    for key in ("shard", "whole", "newest"):
        report.write_text(key, encoding="utf-8")
        pack_cache.store(cache, "stack", key, report)
    assert sorted(p.name for p in (cache / "stack").iterdir()) == ["newest.json", "whole.json"]
    assert pack_cache.load(cache, "stack", "whole", tmp_path / "copied.json")
    assert (tmp_path / "copied.json").read_text(encoding="utf-8") == "whole"
    assert not pack_cache.load(cache, "stack", "shard", tmp_path / "copied.json")
