"""The Bedrock pack in apps that run cdk-nag themselves: 2.x (reports after synth) and 3.x (validation plugin)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cdk_nag
import pytest
from aws_cdk import aws_iam as iam

from compliant_bedrock.compliance import BedrockValidationPlugin, run_bedrock_pack

ROOT = Path(__file__).resolve().parent.parent
#: Where ``make setup`` installs cdk-nag 3 (it shares the package name ``cdk_nag`` with the 2.x in .venv).
NAG3 = Path(os.environ.get("COMPLIANT_BEDROCK_NAG3", ROOT / ".venv" / "nag3"))
POLICY = "Bad/Workload/DefaultPolicy/Resource"
VPCE_REASON = "The test role runs in an account whose SCP denies invoke outside the endpoint already"


def _small_app(app: cdk.App) -> None:
    """``Good``: a role that invokes nothing. ``Bad``: a role whose model ARN an escape hatch widens to
    ``*`` (only the synthesized template shows it), one rule suppressed with NagSuppressions."""
    for name in ("Good", "Bad"):
        stack = cdk.Stack(app, name)
        role = iam.Role(stack, "Workload", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        if name == "Bad":
            model = stack.format_arn(service="bedrock", account="", resource="foundation-model",
                                     resource_name="openai.gpt-oss-120b-1:0")
            role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[model]))
            policy = role.node.find_child("DefaultPolicy").node.default_child
            policy.add_property_override("PolicyDocument.Statement.0.Resource", "*")
            cdk_nag.NagSuppressions.add_resource_suppressions(policy, [
                {"id": "Bedrock-InvokeRequiresVpcEndpoint", "reason": VPCE_REASON}])


@pytest.fixture(scope="module")
def nag2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], int, str]:
    outdir = tmp_path_factory.mktemp("nag2")
    app = cdk.App(outdir=str(outdir))
    _small_app(app)
    cdk.Aspects.of(app).add(cdk_nag.AwsSolutionsChecks(reports=True, report_formats=[cdk_nag.NagReportFormat.JSON]))
    assembly = app.synth()
    errors = run_bedrock_pack(assembly, fail=False)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        run_bedrock_pack(outdir)
    return outdir, errors, int(exit_.value.code or 0), err.getvalue()


def _lines(report: Path) -> list[dict[str, str]]:
    return json.loads(report.read_text(encoding="utf-8"))["lines"]


def test_nag2_reports_in_cdk_nags_schema_next_to_its_packs(nag2: tuple[Path, list[Any], int, str]) -> None:
    outdir = nag2[0]
    ours, theirs = _lines(outdir / "Bedrock--Bad-NagReport.json"), _lines(outdir / "AwsSolutions--Bad-NagReport.json")
    assert ours and theirs and set(ours[0]) == set(theirs[0])
    by_rule = {(line["ruleId"], line["resourceId"]): line for line in ours}
    # the escape hatch's wildcard, which only the synthesized template shows
    assert by_rule[("Bedrock-InvokeScopedToModels", POLICY)]["compliance"] == "Non-Compliant"
    suppressed = by_rule[("Bedrock-InvokeRequiresVpcEndpoint", POLICY)]
    assert (suppressed["compliance"], suppressed["exceptionReason"]) == ("Suppressed", VPCE_REASON)
    assert not [line for line in _lines(outdir / "Bedrock--Good-NagReport.json")
                if line["compliance"] not in ("Compliant", "N/A")]


def test_nag2_fails_like_a_cdk_nag_error_only_on_unsuppressed_findings(
        nag2: tuple[Path, list[Any], int, str]) -> None:
    _, errors, code, err = nag2
    assert {(e.stack, e.rule_id, e.resource) for e in errors} >= {("Bad", "Bedrock-InvokeScopedToModels", POLICY)}
    assert all(e.stack == "Bad" for e in errors)
    assert "Bedrock-InvokeRequiresVpcEndpoint" not in {e.rule_id for e in errors}
    assert code == 1
    assert f"[Error at /{POLICY}] Bedrock-InvokeScopedToModels: " in err


def _violations(report: Path) -> dict[str, set[str]]:
    """Rule -> templates it names, from the Bedrock plugin's part of CDK's validation report."""
    plugins = json.loads(report.read_text(encoding="utf-8"))["pluginReports"]
    (bedrock,) = [p for p in plugins if p["pluginName"] == "Bedrock"]
    return {v["ruleName"]: {c["cloudFormationResource"]["templatePath"] for c in v["violatingConstructs"]}
            for v in bedrock["violations"]}


def test_the_plugin_through_app_policy_validation_beta1(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), policy_validation_beta1=[BedrockValidationPlugin()])
    _small_app(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    found = _violations(tmp_path / "validation-report.json")
    assert found["Bedrock-InvokeScopedToModels"] == {"Bad.template.json"}
    assert "Bedrock-InvokeRequiresVpcEndpoint" not in found  # suppressed with NagSuppressions
    assert not any("Good.template.json" in templates for templates in found.values())


@pytest.mark.nag3  # a subprocess app, ~5 s: make mutate runs it, make test does not
def test_the_plugin_with_cdk_nag_3_validations(tmp_path: Path) -> None:
    assert (NAG3 / "cdk_nag").is_dir(), f"cdk-nag 3 is not installed in {NAG3}: run make setup"
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_VALIDATION": "true",
           "PYTHONPATH": os.pathsep.join([str(NAG3), str(ROOT / "constructs")])}
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "nag_apps" / "nag3_app.py")], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert "cdk-nag 3" in run.stderr, run.stderr[-2000:]
    assert run.returncode != 0 and "ValidationFailed" in run.stderr
    report = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))
    assert {"Bedrock", "AwsSolutions"} <= {p["pluginName"] for p in report["pluginReports"]}
    found = _violations(tmp_path / "validation-report.json")
    assert found["Bedrock-InvokeScopedToModels"] == {"Bad.template.json"}
    assert not any("Good.template.json" in templates for templates in found.values())
    assert found.get("Bedrock-SuppressionRegistry") == {"Talked.template.json"}  # the four-word suppression
