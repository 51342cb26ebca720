"""A shard's stack evidence is kept only when it was drawn from the reports the whole assembly was judged with.

A shard runs the Bedrock pack on its share of the assembly; the parent runs it again on all of it, where another
stack's SCPs or trail can decide a rule (``compliance.assembly_facts``). A matrix the shard drew from a report the
parent's differs from would show another status than ``findings.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliant_bedrock.evidence import report as report_module
from compliant_bedrock.evidence.render import stack_files

STACK = "CompliantBedrock-commercial"
OTHER = "CompliantBedrock-govcloud"


@pytest.fixture
def assembly(reference_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(reference_out, copy, ignore=shutil.ignore_patterns("*.png", "*.svg", ".cache", "compliance"))

    def no_diagram(stack, svg, png, executor=None):  # type: ignore[no-untyped-def]  (diagrams do not read findings)
        svg.write_text("<svg/>", encoding="utf-8")
        png.write_bytes(b"png")

    monkeypatch.setattr(report_module, "write_diagram", no_diagram)
    return copy


def test_a_shard_matrix_drawn_from_another_bedrock_report_is_drawn_again(assembly: Path) -> None:
    dest = assembly / "compliance"
    written = report_module.write_stack_evidence(assembly, None, dest)  # what the shards recorded
    stack_name, other_name = written[STACK]["name"], written[OTHER]["name"]
    matrix_file = dest / stack_files(stack_name)[0]
    other_matrix = dest / stack_files(other_name)[1]
    other_matrix.write_text(other_matrix.read_text(encoding="utf-8") + "\nkept as the shard drew it\n", encoding="utf-8")

    # the parent's report on the whole assembly: a rule the shard saw pass fails
    bedrock = assembly / f"Bedrock--{STACK}-NagReport.json"
    lines = json.loads(bedrock.read_text(encoding="utf-8"))
    flipped = next(line for line in lines["lines"] if line["compliance"] == "Compliant")
    flipped["compliance"] = "Non-Compliant"
    bedrock.write_text(json.dumps(lines), encoding="utf-8")

    model = report_module.build_evidence(assembly, dest=dest, written_by_shards=written)
    matrix = json.loads(matrix_file.read_text(encoding="utf-8"))
    results = [result for control in matrix["controls"] for rule in control["rules"] if rule["rule"] == flipped["ruleId"]
               for result in rule.get("results", [])]
    assert any(result["result"] == "non-compliant" for result in results)
    assert other_matrix.read_text(encoding="utf-8").endswith("kept as the shard drew it\n")  # unchanged: not drawn
    assert all(report_module.DRAWN_FROM not in stack.matrix for stack in model.stacks)  # never in a document
