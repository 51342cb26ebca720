"""The frontier example (examples/frontier_app): GPT-5.5 on Mantle with a written risk acceptance, a guarded runtime
workload in another region of the same account, one trail with Mantle data events. Synthesized and gated once, in
this process, with the package's public API only; the cross-stack checks are then tried on a copy of its assembly."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest

from compliant_bedrock.compliance_gate import ComplianceGate
from compliant_bedrock.models import MANTLE_CATALOG

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "frontier_app" / "app.py"
STACKS = ("FrontierMantle", "RuntimeWorkload")
CROSS_STACK = ("Bedrock-OneTrailPerAccount", "Bedrock-OneGuardrailEnforcementPerRegion",
               "Bedrock-OneInvocationLoggingPerRegion")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The example run as ``cdk synth`` runs it (its App writing to a temporary cdk.out): (outdir, exit code, stderr)."""
    outdir = tmp_path_factory.mktemp("frontier-app") / "cdk.out"
    err, code, real_app = io.StringIO(), 0, cdk.App
    cdk.App = lambda **props: real_app(outdir=str(outdir), **props)  # type: ignore[misc]
    try:
        with contextlib.redirect_stderr(err):
            try:
                exec(compile(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE), "exec"),
                     {"__name__": "__main__", "__file__": str(EXAMPLE)})
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        cdk.App = real_app  # type: ignore[misc]
    return outdir, code, err.getvalue()


def _stacks(outdir: Path) -> dict[str, dict]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: a for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}


def _template(outdir: Path, stack: str) -> dict:
    return json.loads((outdir / f"{stack}.template.json").read_text())


def test_the_frontier_example_passes_the_gate_with_its_risk_acceptance(example: tuple[Path, int, str]) -> None:
    outdir, code, err = example
    assert code == 0, err
    verdict = [line for line in err.splitlines() if line.startswith("compliance: gate")]
    assert len(verdict) == 1 and re.fullmatch(
        r"compliance: gate passed \(2 stacks, perimeter proof \d+ requests in 2 environment\(s\)\); evidence in .*",
        verdict[0]), err
    assert json.loads((outdir / "compliance" / "findings.json").read_text())["passed"] is True
    # The unguarded Mantle path is a risk acceptance with its approver, never "compliant".
    summary = (outdir / "compliance" / "summary.md").read_text()
    assert re.search(r"\| FrontierMantle \| Bedrock-UnguardedInferencePath \| .*Unguarded path mantle for openai\.gpt-5\.5 "
                     r"accepted by AO of the frontier research system, risk acceptance RA-2026-031", summary)
    # The cross-stack checks ran on both stacks and passed (the trail's only where it is).
    for stack in STACKS:
        lines = json.loads((outdir / f"Bedrock--{stack}-NagReport.json").read_text())["lines"]
        outcome = {line["ruleId"]: line["compliance"] for line in lines if line["ruleId"] in CROSS_STACK}
        assert outcome == {rule: "N/A" if (stack, rule) == ("FrontierMantle", CROSS_STACK[0]) else "Compliant"
                           for rule in CROSS_STACK}, (stack, outcome)


def test_gpt_5_5_runs_where_the_catalog_serves_it_and_the_workload_in_another_region_of_the_account(
        example: tuple[Path, int, str]) -> None:
    outdir, _, _ = example
    environments = {name: a["environment"] for name, a in _stacks(outdir).items()}
    assert set(environments) == set(STACKS)
    account = {e.split("/")[2] for e in environments.values()}
    regions = {name: e.split("/")[3] for name, e in environments.items()}
    assert len(account) == 1 and regions["FrontierMantle"] != regions["RuntimeWorkload"]
    gpt55 = MANTLE_CATALOG["openai.gpt-5.5"]
    assert regions["FrontierMantle"] in gpt55.mantle_regions
    assert not json.loads((outdir / "manifest.json").read_text()).get("missing"), "a lookup needs credentials"
    assert json.loads((EXAMPLE.parent / "cdk.json").read_text()) == {"app": "python3 app.py"}


def test_one_trail_records_the_account_with_mantle_data_events(example: tuple[Path, int, str]) -> None:
    outdir, _, _ = example
    trails = {stack: [r for r in _template(outdir, stack)["Resources"].values() if r["Type"] == "AWS::CloudTrail::Trail"]
              for stack in STACKS}
    assert not trails["FrontierMantle"] and len(trails["RuntimeWorkload"]) == 1
    (trail,) = trails["RuntimeWorkload"]
    assert trail["Properties"]["IsMultiRegionTrail"] is True
    selected = {t for s in trail["Properties"]["AdvancedEventSelectors"] for f in s["FieldSelectors"]
                if f["Field"] == "resources.type" for t in f["Equals"]}
    assert {"AWS::BedrockMantle::Project", "AWS::BedrockMantle::CustomizedModel",
            "AWS::BedrockMantle::Reservation"} <= selected
    coverage = _template(outdir, "FrontierMantle")["Metadata"]["compliant-bedrock:trail-coverage"]
    assert coverage["trail"] == trail["Properties"]["TrailName"]


def test_the_example_uses_the_public_api_only() -> None:
    """What a user can copy: ``compliant_bedrock`` names from ``cb.`` (its ``__all__``), nothing from submodules."""
    import compliant_bedrock as cb

    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.startswith("compliant_bedrock.")}, imported
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "cb"}
    assert used and used <= set(cb.__all__), used - set(cb.__all__)


def test_a_second_owner_in_the_account_fails_the_gate(example: tuple[Path, int, str], tmp_path: Path) -> None:
    """The example's assembly with the account's trail copied into FrontierMantle and FrontierMantle moved into
    RuntimeWorkload's region: the gate fails on RuntimeWorkload (the later stack by name) for all three, naming
    FrontierMantle and where both deploy (an environment-agnostic stack: tests/test_one_per_account.py)."""
    outdir = tmp_path / "cdk.out"
    shutil.copytree(example[0], outdir, symlinks=True)
    trail = next(v for v in _template(outdir, "RuntimeWorkload")["Resources"].values()
                 if v["Type"] == "AWS::CloudTrail::Trail")
    template = _template(outdir, "FrontierMantle")
    template["Resources"]["SecondTrail"] = trail
    (outdir / "FrontierMantle.template.json").write_text(json.dumps(template))
    manifest = json.loads((outdir / "manifest.json").read_text())
    manifest["artifacts"]["FrontierMantle"]["environment"] = "aws://111122223333/us-east-1"
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    out = io.StringIO()
    result = ComplianceGate(cdk.App(), perimeter="off", out=out).judge(outdir)
    assert result.exit_code == 1, out.getvalue()
    found = {(f.stack, f.rule_id) for f in result.findings if f.rule_id in CROSS_STACK}
    assert found == {("RuntimeWorkload", rule) for rule in CROSS_STACK}, out.getvalue()
    lines = {rule: next(line for line in out.getvalue().splitlines()
                        if line.startswith(f"compliance: RuntimeWorkload: {rule} RuntimeWorkload [NIST"))
             for rule in CROSS_STACK}
    assert "stack FrontierMantle creates one too and both deploy to 111122223333. Fix: " in lines[CROSS_STACK[0]]
    for rule in CROSS_STACK[1:]:
        assert "stack FrontierMantle creates one too and both deploy to 111122223333/us-east-1. Fix: " in lines[rule]
