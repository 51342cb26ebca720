"""ScheduledVerification: the weekly verifier passes the gate's packs, and its permissions are exactly what it needs."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import cx_api
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from compliant_bedrock.compliance.pack import Compliance, evaluate
from compliant_bedrock.compliance.template import Template
from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.errors import ConstructPropsError
from compliant_bedrock.verify_schedule import ScheduledVerification
from tests.conftest import new_stack

READ_ROLE = "arn:aws:iam::111122223333:role/compliant-bedrock-verify"
BUS = "arn:aws:events:us-east-1:999988887777:event-bus/security-alerts"


def _build(stack: cdk.Stack, **changes: Any) -> ScheduledVerification:
    source = s3.Bucket.from_bucket_name(stack, "Source", "cb-source-999988887777")
    props = {"source_bucket": source, "source_key": "app.zip", "environments": ["commercial"],
             "read_role_arns": [READ_ROLE], "alert_emails": ["security-alerts@example.gov"],
             "alert_event_bus_arns": [BUS], **changes}
    return ScheduledVerification(stack, "Verify", **props)


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], list[str]]:
    # as in the security account: its own tamper detection beside (the results bucket is an audit bucket)
    stack = new_stack(account="999988887777")
    TamperDetection(stack, "TamperDetection", alert_emails=["security-alerts@example.gov"], data_event_rules=False)
    _build(stack)
    cdk.Aspects.of(stack).add(NIST80053R5Checks())
    cdk.Aspects.of(stack).add(AwsSolutionsChecks())
    artifact = stack.node.root.synth().get_stack_artifact(stack.artifact_id)
    errors = [str(m.entry.data) for m in artifact.messages
              if m.level == cx_api.SynthesisMessageLevel.ERROR or str(m.entry.data).startswith("CdkNagValidationFailure")]
    return artifact.template, errors


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_it_passes_the_gates_packs(synthesized: tuple[dict[str, Any], list[str]]) -> None:
    template, errors = synthesized
    assert errors == []
    failing = [(r.rule_id, r.resource_path) for r in evaluate(Template("Test", template, "us-east-1"))
               if r.compliance in (Compliance.NON_COMPLIANT, Compliance.UNKNOWN) and not r.suppression_reason]
    assert failing == []


def test_every_permission_is_written_out_and_the_project_assumes_only_the_read_roles(
        synthesized: tuple[dict[str, Any], list[str]]) -> None:
    template, _ = synthesized
    assert _of_type(template, "AWS::IAM::Policy") == {}  # no inline policy a later grant could widen
    project = next(iter(_of_type(template, "AWS::CodeBuild::Project").values()))["Properties"]
    assert project["Environment"]["PrivilegedMode"] is False
    assumes = [s for p in _of_type(template, "AWS::IAM::ManagedPolicy").values()
               for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Action") == "sts:AssumeRole"]
    assert [s["Resource"] for s in assumes] == [READ_ROLE]
    reads = [s for p in _of_type(template, "AWS::IAM::ManagedPolicy").values()
             for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ReadTheApp"]
    assert "app.zip" in str(reads[0]["Resource"]) and "*" not in str(reads[0]["Resource"])


def test_it_runs_weekly_and_a_failed_run_alerts_the_topic_and_the_bus(
        synthesized: tuple[dict[str, Any], list[str]]) -> None:
    template, _ = synthesized
    schedule = next(iter(_of_type(template, "AWS::Scheduler::Schedule").values()))["Properties"]
    assert schedule["ScheduleExpression"] == "rate(7 days)"
    rules = [r["Properties"] for r in _of_type(template, "AWS::Events::Rule").values()
             if r["Properties"].get("EventPattern", {}).get("source") == ["aws.codebuild"]]
    assert len(rules) == 1
    assert set(rules[0]["EventPattern"]["detail"]["build-status"]) >= {"FAILED", "TIMED_OUT"}
    assert BUS in str(rules[0]["Targets"]) and any("Ref" in t["Arn"] for t in rules[0]["Targets"])
    spec = next(iter(_of_type(template, "AWS::CodeBuild::Project").values()))["Properties"]
    build = json.loads(spec["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    # one synth first (a synth removes compliance/: one per environment would keep only the last verification)
    assert build[:3] == ["failed=0", "make synth || failed=1", "make verify ENV=commercial || failed=1"]
    assert build[-1] == "exit $failed" and "cdk.out/compliance/" in build[-2]


@pytest.mark.parametrize(("changes", "field"), [
    ({"schedule": "rate(30 days)"}, "schedule"),
    ({"alert_emails": [], "alert_event_bus_arns": []}, "alert_emails"),
    ({"read_role_arns": ["arn:aws:iam::111122223333:user/someone"]}, "read_role_arns"),
    ({"environments": []}, "environments"),
])
def test_props_that_would_not_verify_weekly_or_tell_anybody_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConstructPropsError, match=re.escape(field)):
        _build(new_stack(account="999988887777"), **changes)


@pytest.fixture(scope="module")
def member() -> tuple[dict[str, Any], list[str]]:
    from compliant_bedrock.verify_schedule import VerifierReadRole

    stack = new_stack(account="111122223333", stack_id="Member")
    VerifierReadRole(stack, "VerifyRead", trusted_role_arn="arn:aws:iam::999988887777:role/verify-project")
    cdk.Aspects.of(stack).add(NIST80053R5Checks())
    cdk.Aspects.of(stack).add(AwsSolutionsChecks())
    artifact = stack.node.root.synth().get_stack_artifact(stack.artifact_id)
    errors = [str(m.entry.data) for m in artifact.messages
              if m.level == cx_api.SynthesisMessageLevel.ERROR or str(m.entry.data).startswith("CdkNagValidationFailure")]
    return artifact.template, errors


def test_the_member_read_role_is_read_only_trusts_one_role_and_matches_the_documented_policy(
        member: tuple[dict[str, Any], list[str]]) -> None:
    import json
    from pathlib import Path

    template, errors = member
    assert errors == []
    assert [r.rule_id for r in evaluate(Template("Member", template, "us-east-1"))
            if r.compliance in (Compliance.NON_COMPLIANT, Compliance.UNKNOWN) and not r.suppression_reason] == []
    role = next(iter(_of_type(template, "AWS::IAM::Role").values()))["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    # one statement: the security account, narrowed to the one role by aws:PrincipalArn (a role ARN as principal
    # would fail while the project role does not exist yet, and break when it is re-created)
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRole"
    assert "999988887777:root" in json.dumps(trust[0]["Principal"])
    assert trust[0]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999988887777:role/verify-project"}}
    actions = next(iter(_of_type(template, "AWS::IAM::ManagedPolicy").values()))["Properties"][
        "PolicyDocument"]["Statement"][0]["Action"]
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "DetectStackDrift")) for a in actions)
    # docs/verify.md's read-only policy is this role's: the documentation cannot drift from the code
    docs = (Path(__file__).resolve().parent.parent / "docs" / "verify.md").read_text()
    documented = json.loads(re.search(r"```json\n(.*?)```", docs, re.DOTALL).group(1))
    assert sorted(documented["Statement"][0]["Action"]) == sorted(actions)
