"""One suppression policy, whatever the route: suppress(), NagSuppressions, hand-written metadata, run_bedrock_pack,
the CDK validation plugin and the gate all hold a suppression to the registry; a risk decision takes only a
structured RiskAcceptance (reason, compensating, approver, expiry)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
import pytest
from aws_cdk import aws_iam as iam

from compliant_bedrock.compliance import RiskAcceptance, accept_risk, run_bedrock_pack, suppress
from compliant_bedrock.compliance.nag import REGISTRY_RULE, BedrockValidationPlugin
from compliant_bedrock.compliance.registry import RISK_METADATA, SuppressionError, check_template
from compliant_bedrock.compliance.template import Template
from compliant_bedrock.compliance_gate import ComplianceGate

UNGUARDED = "Bedrock-UnguardedInferencePath"
POLICY = "Workload/Policy/Resource"
ACCEPTED = RiskAcceptance(
    reason="The mission needs GPT-5.5 for unclassified drafting and it is served on Mantle only.",
    compensating="The application applies the guardrail with ApplyGuardrail and logs every prompt itself.",
    approved_by="AO, risk acceptance RA-2026-017", expires="2099-06-30")


def _unguarded_stack(app: cdk.App, name: str = "App") -> tuple[cdk.Stack, iam.CfnManagedPolicy]:
    """A stack whose managed policy opens Mantle inference: Bedrock-UnguardedInferencePath fails on it."""
    stack = cdk.Stack(app, name, env=cdk.Environment(account="111122223333", region="us-east-2"))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policy = iam.ManagedPolicy(stack, "Workload", roles=[role], statements=[iam.PolicyStatement(
        actions=["bedrock-mantle:CreateInference"],
        resources=[stack.format_arn(service="bedrock-mantle", resource="project", resource_name="p")])])
    return stack, policy.node.default_child


def _template(resource_metadata: dict, stack_metadata: dict | None = None) -> Template:
    return Template("App", {"Metadata": stack_metadata or {}, "Resources": {"Policy": {
        "Type": "AWS::IAM::ManagedPolicy", "Properties": {},
        "Metadata": {"aws:cdk:path": f"App/{POLICY}", **resource_metadata}}}})


def _nag(*entries: dict) -> dict:
    return {"cdk_nag": {"rules_to_suppress": list(entries)}}


# -- the construct route ------------------------------------------------------------------------------


def test_suppress_refuses_a_plain_suppression_of_a_risk_decision() -> None:
    _, policy = _unguarded_stack(cdk.App())
    with pytest.raises(SuppressionError, match=r"risk decision.*accept_risk\(<construct>, 'Bedrock-Unguarded"):
        suppress(policy, UNGUARDED, "We need GPT-5.5 for the mission and nothing else will do here")


def test_a_plain_reason_cannot_claim_an_approver() -> None:
    _, policy = _unguarded_stack(cdk.App())
    with pytest.raises(SuppressionError, match="names an approver, but a plain suppression is not a risk acceptance"):
        suppress(policy, "Bedrock-InvokeRequiresVpcEndpoint",
                 "Accepted by the AO because the SCP denies invoke outside the endpoint anyway")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("reason", "we need gpt-5.5", "reason 'we need gpt-5.5'"),
    ("compensating", "none", "compensating 'none'"),
    ("approved_by", "me", "approved_by 'me'"),
    ("expires", "", "expires '' is not a date"),
    ("expires", "2020-01-31", "expired on 2020-01-31"),
])
def test_a_risk_acceptance_names_each_missing_field(field: str, value: str, message: str) -> None:
    fields = {"reason": ACCEPTED.reason, "compensating": ACCEPTED.compensating, "approved_by": ACCEPTED.approved_by,
              "expires": ACCEPTED.expires, field: value}
    with pytest.raises(SuppressionError, match=message):
        RiskAcceptance(**fields)


def test_accept_risk_writes_the_suppression_and_the_record() -> None:
    stack, policy = _unguarded_stack(cdk.App())
    accept_risk(policy, UNGUARDED, ACCEPTED, what="Unguarded path mantle for openai.gpt-5.5")
    (entry,) = stack.resolve(policy.get_metadata("cdk_nag"))["rules_to_suppress"]
    assert entry["id"] == UNGUARDED
    assert entry["reason"].startswith("Unguarded path mantle for openai.gpt-5.5 accepted by AO, risk acceptance "
                                      "RA-2026-017 until 2099-06-30: The mission needs")
    (record,) = policy.get_metadata(RISK_METADATA)
    assert record == {"rule_id": UNGUARDED, "what": "Unguarded path mantle for openai.gpt-5.5",
                      "reason": ACCEPTED.reason, "compensating": ACCEPTED.compensating,
                      "approved_by": ACCEPTED.approved_by, "expires": "2099-06-30"}


# -- the template: whatever wrote the metadata -------------------------------------------------------------


def test_the_registry_refuses_a_plain_suppression_of_a_risk_decision_in_the_template() -> None:
    with pytest.raises(SuppressionError, match=r"App/Workload/Policy/Resource: Bedrock-UnguardedInferencePath is a "
                                               r"risk decision.*accept_unguarded"):
        check_template(_template(_nag({"id": UNGUARDED, "reason": "we need gpt-5.5"})))


def test_the_registry_refuses_a_short_reason_whatever_wrote_it() -> None:
    with pytest.raises(SuppressionError, match="not one an auditor can accept"):
        check_template(_template(_nag({"id": "Bedrock-InvokeRequiresVpcEndpoint", "reason": "we need gpt-5.5"})))
    with pytest.raises(SuppressionError, match="not one an auditor can accept"):
        check_template(_template(_nag({"id": "NIST.800.53.R5-IAMNoInlinePolicy", "reason": "fine"})))


def test_the_registry_refuses_a_stack_wide_suppression_of_a_resource_rule() -> None:
    reason = "The role is assumed only by the pipeline account's deployment role, reviewed every quarter"
    with pytest.raises(SuppressionError, match="suppressed for the whole stack, but it is a resource rule"):
        check_template(_template({}, _nag({"id": "Bedrock-InvokeRequiresVpcEndpoint", "reason": reason})))


def test_the_registry_takes_a_structured_acceptance_and_checks_its_record() -> None:
    record = ACCEPTED.record(UNGUARDED, "Unguarded path mantle")
    entry = {"id": UNGUARDED, "reason": ACCEPTED.text("Unguarded path mantle")}
    check_template(_template({**_nag(entry), RISK_METADATA: [record]}))  # passes
    with pytest.raises(SuppressionError, match="approved_by ''"):
        check_template(_template({**_nag(entry), RISK_METADATA: [{**record, "approved_by": ""}]}))
    with pytest.raises(SuppressionError, match="expired on 2021-01-01"):
        check_template(_template({**_nag(entry), RISK_METADATA: [{**record, "expires": "2021-01-01"}]}))


# -- the routes that judge a synthesized app ----------------------------------------------------------


@pytest.fixture(scope="module")
def talked_past(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newcomer's walk-around: the written acceptance removed, NagSuppressions with a four-word reason."""
    outdir = tmp_path_factory.mktemp("talked-past")
    app = cdk.App(outdir=str(outdir))
    _, policy = _unguarded_stack(app)
    cdk_nag.NagSuppressions.add_resource_suppressions(policy, [{"id": UNGUARDED, "reason": "we need gpt-5.5"}])
    app.synth()
    return outdir


def test_run_bedrock_pack_exits_2_with_one_line(talked_past: Path) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        run_bedrock_pack(talked_past)
    assert exit_.value.code == 2
    (line,) = err.getvalue().strip().splitlines()
    assert "Bedrock-UnguardedInferencePath is a risk decision" in line


def test_the_gate_exits_2_and_leaves_no_verdict(talked_past: Path) -> None:
    out = io.StringIO()
    gate = ComplianceGate(cdk.App(outdir=str(talked_past)), perimeter="off", out=out)
    (talked_past / "compliance").mkdir(exist_ok=True)
    (talked_past / "compliance" / "findings.json").write_text(json.dumps({"passed": True}))
    result = gate.judge(talked_past)
    assert result.exit_code == 2 and "accept_risk(" in out.getvalue()
    assert not (talked_past / "compliance").exists()


def test_the_validation_plugin_fails_synth_on_the_talked_past_suppression(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), policy_validation_beta1=[BedrockValidationPlugin()])
    _, policy = _unguarded_stack(app)
    cdk_nag.NagSuppressions.add_resource_suppressions(policy, [{"id": UNGUARDED, "reason": "we need gpt-5.5"}])
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    plugins = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))["pluginReports"]
    (bedrock,) = [p for p in plugins if p["pluginName"] == "Bedrock"]
    assert REGISTRY_RULE in {v["ruleName"] for v in bedrock["violations"]}


def test_a_structured_acceptance_passes_every_route(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    _, policy = _unguarded_stack(app)
    accept_risk(policy, UNGUARDED, ACCEPTED, what="Unguarded path mantle")
    app.synth()
    with contextlib.redirect_stderr(io.StringIO()):
        blocking = run_bedrock_pack(tmp_path, fail=False)
    assert UNGUARDED not in {f.rule_id for f in blocking}
    report = json.loads((tmp_path / "Bedrock--App-NagReport.json").read_text(encoding="utf-8"))["lines"]
    (line,) = [x for x in report if x["ruleId"] == UNGUARDED]
    assert line["compliance"] == "Suppressed" and "until 2099-06-30" in line["exceptionReason"]


def test_a_judgement_that_stops_part_way_leaves_no_verdict(talked_past: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever stops the gate after findings.json is written (here the evidence writer) removes compliance/."""
    import compliant_bedrock.evidence.report as report

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the evidence writer stopped")

    monkeypatch.setattr(report, "generate", broken)
    outdir = talked_past.parent / "stopped"
    app = cdk.App(outdir=str(outdir))
    _, policy = _unguarded_stack(app)
    accept_risk(policy, UNGUARDED, ACCEPTED, what="Unguarded path mantle")
    app.synth()
    gate = ComplianceGate(cdk.App(outdir=str(outdir)), perimeter="off", out=io.StringIO())
    with pytest.raises(RuntimeError, match="stopped"):
        gate.judge(outdir)
    assert not (outdir / "compliance").exists()
