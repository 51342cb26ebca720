"""Evidence for auditors: control matrix, OSCAL component definition, diagram and summary.

The reference app is synthesized once for the module; the matrix logic is also checked on a small
hand-written assembly (a suppressed finding, a non-compliant one, absent resource types).
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from compliant_bedrock.compliance import judge
from compliant_bedrock.compliance.gate import read_findings
from compliant_bedrock.compliance.suppressions import nist_rules
from compliant_bedrock.evidence.assembly import read_assembly
from compliant_bedrock.evidence.components import component_members
from compliant_bedrock.evidence.matrix import (
    CONTROL_PACKS,
    control_sort_key,
    normalize_control,
    normalized_controls,
    oscal_control_id,
    result_of,
)
from infra.app_factory import ROOT, build_app, rule_contexts
from infra.config import load_environments
from infra.report import environment_facts, generate, main

SUPPRESSION_REASON = "Replication is configured by the audit account's organization-wide backup plan, not per stack"
AWS_SOLUTIONS_REASON = "Server access logs of the audit bucket would record every CloudTrail delivery twice over"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(outdir=str(outdir))
    app.synth()
    judge(outdir, rule_contexts(app))
    return outdir


@pytest.fixture(scope="module")
def report(assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("evidence")
    generate(assembly, dest=dest)
    return dest


@functools.cache
def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _matrix(report: Path, env: str) -> dict:
    """The matrix, with ``controls`` keyed by control id for lookups (the file keeps them as a sorted list)."""
    matrix = dict(_load(report / f"matrix-{env}.json"))
    matrix["control_list"] = [c["control"] for c in matrix["controls"]]
    matrix["controls"] = {c["control"]: c for c in matrix["controls"]}
    return matrix


def _envs(assembly: Path) -> dict[str, str]:
    """stack name -> environment name."""
    return {s.name: s.environment for s in read_assembly(assembly)}


# ---------------------------------------------------------------------------------------------
# The reference app


def test_report_writes_every_file(report: Path, assembly: Path) -> None:
    names = {p.name for p in report.iterdir()}
    for env in _envs(assembly).values():
        assert {f"matrix-{env}.json", f"matrix-{env}.md", f"architecture-{env}.svg", f"architecture-{env}.png"} <= names
    assert {"component-definition.json", "summary.json", "summary.md"} <= names


def test_every_rule_result_of_the_reports_is_in_the_matrix(report: Path, assembly: Path) -> None:
    envs = _envs(assembly)
    findings = read_findings(assembly)
    assert findings
    for f in findings:
        matrix = _matrix(report, envs[f.stack])
        wanted = {"resource": f.resource, "result": result_of(f), **({"reason": f.reason} if f.reason else {})}
        if f.pack in CONTROL_PACKS:
            rows = matrix["rules"][f.rule_id]["results"]
            assert any(wanted.items() <= row.items() for row in rows), (f, rows)
            for control in normalized_controls(f.controls):
                refs = matrix["controls"][control]["rules"]
                assert any(r["rule"] == f.rule_id and any(wanted.items() <= x.items() for x in r.get("results", []))
                           for r in refs), (control, f)
        else:
            rows = matrix["other_packs"][f.pack][f.rule_id]["results"]
            assert any(wanted.items() <= row.items() for row in rows), (f, rows)


def test_every_nist_rule_of_both_packs_is_in_the_matrix(report: Path, assembly: Path) -> None:
    for env in _envs(assembly).values():
        rules = _matrix(report, env)["rules"]
        assert set(nist_rules()) <= set(rules)
        assert any(r.startswith("Bedrock-") for r in rules)
        absent = rules["NIST.800.53.R5-APIGWSSLEnabled"]
        assert absent["status"] == "not-applicable"
        assert absent["note"] == "no AWS::ApiGateway::Stage in the template"


def test_every_implemented_control_is_backed_by_a_compliant_result(report: Path, assembly: Path) -> None:
    envs = _envs(assembly)
    compliant: dict[tuple[str, str], set[str]] = {}
    for f in read_findings(assembly):
        if f.pack in CONTROL_PACKS and f.compliance == "Compliant":
            for control in normalized_controls(f.controls):
                compliant.setdefault((envs[f.stack], control), set()).add(f.rule_id)
    implemented = 0
    for env in envs.values():
        matrix = _matrix(report, env)
        controls = matrix["control_list"]
        assert controls == sorted(controls, key=control_sort_key)
        assert len(controls) == len(set(controls))
        for control, item in matrix["controls"].items():
            if item["status"] != "implemented":
                continue
            implemented += 1
            assert compliant.get((env, control)), f"{env}: {control} claimed implemented without a compliant result"
            assert not item["tally"]["non-compliant"]
    assert implemented >= 10


def test_oscal_component_definition_validates_with_trestle(report: Path, assembly: Path) -> None:
    from trestle.oscal.component import ComponentDefinition

    raw = json.loads((report / "component-definition.json").read_text(encoding="utf-8"))
    document = ComponentDefinition.model_validate(raw["component-definition"])
    assert raw["component-definition"]["metadata"]["oscal-version"].startswith("1.1.")
    assert document.components
    titles = {c.title for c in document.components}
    assert {"Bedrock private link and network boundary", "Synth-time compliance gate"} <= titles
    uuids = [str(c.uuid) for c in document.components] + [
        str(r.uuid) for c in document.components for ci in c.control_implementations or []
        for r in ci.implemented_requirements]
    assert len(uuids) == len(set(uuids))


def test_oscal_statements_come_from_the_settings(report: Path, assembly: Path) -> None:
    settings = {env.name: env for env in load_environments(ROOT / "config")}
    raw = json.loads((report / "component-definition.json").read_text(encoding="utf-8"))["component-definition"]
    seen = 0
    for component in raw["components"]:
        component_id = next(p["value"] for p in component["props"] if p["name"] == "component-id")
        for ci in component.get("control-implementations", []):
            env = next(p["value"] for p in ci["props"] if p["name"] == "environment")
            for sentence in environment_facts(settings[env])[component_id]:
                assert sentence in ci["description"]
                seen += 1
    assert seen
    commercial = environment_facts(settings["commercial"])
    assert "FIPS endpoints on" in " ".join(commercial["private-link"])
    assert "Object Lock COMPLIANCE 913 days" in " ".join(commercial["audit-trail"])
    assert "openai.gpt-oss-120b-1:0" in " ".join(commercial["model-access"])
    frontier = environment_facts(settings["frontier"])
    assert "accepted as non-FIPS, no FIPS service exists: bedrock-mantle" in " ".join(frontier["private-link"])
    assert "openai.gpt-5.5 (mantle)" in " ".join(frontier["model-access"])


def test_oscal_requirements_are_backed_by_compliant_results(report: Path, assembly: Path) -> None:
    stacks = {s.environment: s for s in read_assembly(assembly)}
    raw = json.loads((report / "component-definition.json").read_text(encoding="utf-8"))["component-definition"]
    for component in raw["components"]:
        for ci in component.get("control-implementations", []):
            stack = stacks[next(p["value"] for p in ci["props"] if p["name"] == "environment")]
            for req in ci["implemented-requirements"]:
                for rule in (p["value"] for p in req.get("props", []) if p["name"] == "evidence-rule"):
                    assert any(f.rule_id == rule and f.compliance == "Compliant"
                               and req["control-id"] in {oscal_control_id(c) for c in normalized_controls(f.controls)}
                               for f in stack.findings), (rule, req["control-id"])


def test_architecture_diagrams_are_drawn(report: Path, assembly: Path) -> None:
    for stack in read_assembly(assembly):
        svg = ET.parse(report / f"architecture-{stack.environment}.svg").getroot()
        ns = "{http://www.w3.org/2000/svg}"
        nodes = [g for g in svg.iter(f"{ns}g") if g.get("class") == "node"]
        edges = [p for p in svg.iter(f"{ns}path") if p.get("class") == "edge"]
        assert len(nodes) == len(stack.resources) >= 10
        assert len(edges) >= 10
        with Image.open(report / f"architecture-{stack.environment}.png") as image:
            assert image.width >= 1600 and image.height >= 800
            stat = ImageStat.Stat(image.convert("L"))
            assert stat.stddev[0] > 10, "blank image"
            assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50


def test_reports_are_byte_identical_across_runs(report: Path, assembly: Path, tmp_path: Path) -> None:
    generate(assembly, dest=tmp_path)
    first = {p.name: p.read_bytes() for p in report.iterdir()}
    second = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []


def test_summary_counts_every_result(report: Path, assembly: Path) -> None:
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    findings = read_findings(assembly)
    total = sum(n for s in summary["stacks"].values() for t in s["packs"].values() for n in t.values())
    assert total == len(findings)
    assert {s["gate"] for s in summary["stacks"].values()} <= {"pass", "fail"}
    assert "## Unverified model ids" in (report / "summary.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Control ids


@pytest.mark.parametrize(("cited", "control"), [
    ("AU-9(3)", "AU-9(3)"), ("AU-2b", "AU-2"), ("AC-17(4)(a)", "AC-17(4)"), ("PM-14a.1", "PM-14"),
    ("CM-5(1)(b)", "CM-5(1)"), ("SI-1a.2", "SI-1"), ("sc-7 (5)", "SC-7(5)"), ("164.312(b)", None),
    ("CP-1(2)", "CP-1"), ("SI-1(1)(c)", "SI-1"), ("SA-1(1)", "SA-1"),  # -1 controls have no enhancements
])
def test_control_ids_are_normalized_to_control_or_enhancement(cited: str, control: str | None) -> None:
    assert normalize_control(cited) == control


def test_controls_sort_by_family_then_number() -> None:
    ids = ["SC-7(5)", "AC-17", "AC-2(1)", "SC-7", "AC-3", "AC-2", "AU-9(3)"]
    assert sorted(ids, key=control_sort_key) == ["AC-2", "AC-2(1)", "AC-3", "AC-17", "AU-9(3)", "SC-7", "SC-7(5)"]
    assert oscal_control_id("AU-9(3)") == "au-9.3"
    assert oscal_control_id("AC-4") == "ac-4"


# ---------------------------------------------------------------------------------------------
# A hand-written assembly: suppressed and non-compliant findings, absent resource types

STACK = "Fake-dev"


def _tagged(resource_type: str, path: str, properties: dict | None = None) -> dict:
    props = {**(properties or {}), "Tags": [{"Key": "Environment", "Value": "dev"}]}
    return {"Type": resource_type, "Properties": props, "Metadata": {"aws:cdk:path": f"{STACK}/{path}"}}


def _nist_line(rule: str, path: str, compliance: str, reason: str = "N/A") -> dict:
    return {"ruleId": f"NIST.800.53.R5-{rule}", "resourceId": f"{STACK}/{path}", "compliance": compliance,
            "exceptionReason": reason, "ruleLevel": "Error",
            "ruleInfo": f"The rule {rule} failed - (Control IDs: {nist_rules()[f'NIST.800.53.R5-{rule}']})."}


@pytest.fixture
def fake_assembly(tmp_path: Path) -> Path:
    out = tmp_path / "cdk.out"
    out.mkdir()
    template = {
        "Description": "hand-written assembly for the evidence tests",
        "Resources": {
            "Vpc": _tagged("AWS::EC2::VPC", "Vpc/Resource", {"CidrBlock": "10.9.0.0/16"}),
            "Endpoint": _tagged("AWS::EC2::VPCEndpoint", "Endpoint/Resource", {
                "VpcId": {"Ref": "Vpc"},
                "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"},
                                                  ".bedrock-runtime-fips"]]}}),
            "Key": _tagged("AWS::KMS::Key", "Key/Resource"),
            "Bucket": _tagged("AWS::S3::Bucket", "Bucket/Resource", {
                "ObjectLockEnabled": True,
                "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled",
                                            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 913}}}}),
            "Trail": _tagged("AWS::CloudTrail::Trail", "Trail/Resource", {
                "S3BucketName": {"Ref": "Bucket"}, "KMSKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                "IsMultiRegionTrail": True, "IsLogging": True, "EnableLogFileValidation": True}),
            "Guardrail": _tagged("AWS::Bedrock::Guardrail", "Guardrail/Resource",
                                 {"KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}),
            "Invoke": _tagged("AWS::IAM::ManagedPolicy", "Invoke/Resource", {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:::x"}]}}),
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {}},
        },
    }
    (out / f"{STACK}.template.json").write_text(json.dumps(template), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {STACK: {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
        "properties": {"templateFile": f"{STACK}.template.json"}}}}), encoding="utf-8")
    reports = {
        "NIST.800.53.R5": [
            _nist_line("S3BucketReplicationEnabled", "Bucket/Resource", "Suppressed", SUPPRESSION_REASON),
            _nist_line("CloudTrailLogFileValidationEnabled", "Trail/Resource", "Compliant"),
            _nist_line("KMSBackingKeyRotationEnabled", "Key/Resource", "Non-Compliant"),
        ],
        "AwsSolutions": [{"ruleId": "AwsSolutions-S1", "resourceId": f"{STACK}/Bucket/Resource",
                          "compliance": "Suppressed", "exceptionReason": AWS_SOLUTIONS_REASON,
                          "ruleLevel": "Error", "ruleInfo": "The S3 Bucket has server access logs disabled."}],
        "Bedrock": [
            {"ruleId": "Bedrock-AuditBucketObjectLock", "resourceId": "Bucket", "compliance": "Compliant",
             "exceptionReason": "N/A", "ruleLevel": "Error",
             "ruleInfo": "The bucket lacks Object Lock - (Control IDs: AU-9, AU-9(2), AU-11, SI-7)."},
            {"ruleId": "Bedrock-RuntimeEndpointPresent", "resourceId": STACK, "compliance": "Compliant",
             "exceptionReason": "N/A", "ruleLevel": "Error",
             "ruleInfo": "No runtime endpoint - (Control IDs: SC-7, SC-7(4), AC-4)."},
        ],
    }
    for pack, lines in reports.items():
        (out / f"{pack}--{STACK}-NagReport.json").write_text(json.dumps({"lines": lines}), encoding="utf-8")
    return out


def test_suppressed_finding_appears_with_its_reason(fake_assembly: Path, tmp_path: Path) -> None:
    dest = tmp_path / "evidence"
    generate(fake_assembly, dest=dest, settings={})
    matrix = _matrix(dest, "dev")
    rule = matrix["rules"]["NIST.800.53.R5-S3BucketReplicationEnabled"]
    assert rule["status"] == "suppressed"
    assert rule["results"] == [{"label": "Bucket", "logical_id": "Bucket", "reason": SUPPRESSION_REASON,
                                "resource": f"{STACK}/Bucket/Resource", "result": "suppressed",
                                "type": "AWS::S3::Bucket"}]
    # Replication alone tests CP-6: accepted risk. AU-9(2) also has a compliant Object Lock result, but an
    # accepted risk is not an implementation: it is risk-accepted too.
    assert matrix["controls"]["CP-6"]["status"] == "risk-accepted"
    assert matrix["controls"]["AU-9(2)"]["status"] == "risk-accepted"
    assert matrix["controls"]["SC-12"]["status"] == "not-satisfied"
    assert matrix["controls"]["AC-4"]["status"] == "implemented"  # the stack-level Bedrock rule
    assert matrix["rules"]["NIST.800.53.R5-LambdaDLQ"]["note"] == "no AWS::Lambda::Function in the template"
    assert matrix["other_packs"]["AwsSolutions"]["AwsSolutions-S1"]["results"][0]["reason"] == AWS_SOLUTIONS_REASON
    markdown = (dest / "matrix-dev.md").read_text(encoding="utf-8")
    assert SUPPRESSION_REASON in markdown and AWS_SOLUTIONS_REASON in markdown
    assert "| CP-6 | risk-accepted |" in markdown

    summary = json.loads((dest / "summary.json").read_text(encoding="utf-8"))
    assert {(s["rule"], s["reason"]) for s in summary["suppressions"]} == {
        ("NIST.800.53.R5-S3BucketReplicationEnabled", SUPPRESSION_REASON), ("AwsSolutions-S1", AWS_SOLUTIONS_REASON)}
    assert summary["stacks"][STACK]["gate"] == "fail"
    assert summary["stacks"][STACK]["packs"]["NIST.800.53.R5"] == {
        "compliant": 1, "error": 0, "non-compliant": 1, "not-applicable": 0, "suppressed": 1}
    assert SUPPRESSION_REASON in (dest / "summary.md").read_text(encoding="utf-8")


def test_components_are_found_by_cloudformation_type(fake_assembly: Path, tmp_path: Path) -> None:
    (stack,) = read_assembly(fake_assembly)
    members = component_members(stack)
    assert members["private-link"] == ["Endpoint", "Vpc"]
    assert members["audit-trail"] == ["Bucket", "Key", "Trail"]
    assert members["guardrail"] == ["Guardrail", "Key"]
    assert members["model-access"] == ["Invoke"]
    assert members["invocation-logging"] == []

    from trestle.oscal.component import ComponentDefinition

    generate(fake_assembly, dest=tmp_path, settings={})
    raw = json.loads((tmp_path / "component-definition.json").read_text(encoding="utf-8"))["component-definition"]
    ComponentDefinition.model_validate(raw)
    by_id = {next(p["value"] for p in c["props"] if p["name"] == "component-id"): c for c in raw["components"]}
    audit = by_id["audit-trail"]["control-implementations"][0]
    assert "Object Lock COMPLIANCE 913 days" in audit["description"]
    assert {r["control-id"] for r in audit["implemented-requirements"]} >= {"au-9", "si-7"}
    # Key rotation failed on the trail's key: SC-12 is not claimed; CP-6 and AU-9(2) have a suppressed
    # (risk-accepted) result: not claimed as implemented, but named as risk-accepted with the rule.
    assert not {"sc-12", "cp-6", "au-9.2"} & {r["control-id"] for r in audit["implemented-requirements"]}
    assert ("Risk-accepted, not claimed as implemented: AU-9(2) (NIST.800.53.R5-S3BucketReplicationEnabled "
            "suppressed on Bucket") in audit["description"]
    assert "bedrock-runtime-fips" in by_id["private-link"]["control-implementations"][0]["description"]
    assert "invocation-logging" in by_id and "control-implementations" not in by_id["invocation-logging"]


def test_cli_writes_reports_and_refuses_a_missing_assembly(fake_assembly: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(fake_assembly), "--dest", str(tmp_path / "out"), "--config", str(ROOT / "config")]) == 0
    assert (tmp_path / "out" / "summary.md").is_file()
    assert "report: 7 files" in capsys.readouterr().out
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_a_removed_stacks_leftovers_neither_judge_nor_pass_for_evidence(fake_assembly: Path) -> None:
    """cdk.out outlives synths: an earlier synth's stack (removed, or left out with -c env=) keeps its
    reports and evidence there; none of it may reach the gate, the digest or the evidence."""
    from compliant_bedrock.compliance import judge
    from compliant_bedrock.evidence import inputs_digest, read_assembly

    judge(fake_assembly, {})  # writes this stack's Bedrock report
    clean = inputs_digest(fake_assembly, read_assembly(fake_assembly))
    gone = "CompliantBedrock-gone"
    (fake_assembly / f"NIST.800.53.R5--{gone}-NagReport.json").write_text(json.dumps({"lines": [
        {**_nist_line("CloudTrailLogFileValidationEnabled", "Trail/Resource", "Non-Compliant"),
         "resourceId": f"{gone}/Trail/Resource"}]}), encoding="utf-8")
    dest = fake_assembly / "compliance"
    dest.mkdir(exist_ok=True)
    for stale in ("matrix-gone.json", "matrix-gone.md", "architecture-gone.svg", "architecture-gone.png"):
        (dest / stale).write_text("from an earlier synth", encoding="utf-8")
    errors = judge(fake_assembly, {})
    assert {f.stack for f in errors} == {STACK}
    assert gone not in (dest / "findings.json").read_text()
    assert inputs_digest(fake_assembly, read_assembly(fake_assembly)) == clean
    generate(fake_assembly, settings={})
    assert not list(dest.glob("*gone*"))
    assert (dest / "matrix-dev.md").is_file()


def test_frontier_unguarded_path_is_risk_accepted_never_implemented(report: Path) -> None:
    """Mantle has no guardrail: SI-10 in the frontier environment carries the acceptance, not an implementation."""
    matrix = _matrix(report, "frontier")
    si10 = matrix["controls"]["SI-10"]
    assert si10["status"] == "risk-accepted"
    (unguarded,) = [r for r in si10["rules"] if r["rule"] == "Bedrock-UnguardedInferencePath"]
    (row,) = unguarded["results"]
    assert row["result"] == "suppressed" and "accepted by AO for the frontier system" in row["reason"]
    document = _load(report / "component-definition.json")["component-definition"]
    access = next(c for c in document["components"]
                  if any(p["name"] == "component-id" and p["value"] == "model-access" for p in c["props"]))
    (frontier,) = [ci for ci in access["control-implementations"]
                   if any(p["name"] == "environment" and p["value"] == "frontier" for p in ci["props"])]
    assert "si-10" not in {r["control-id"] for r in frontier["implemented-requirements"]}
    assert "Risk-accepted, not claimed as implemented: " in frontier["description"]
    assert "Bedrock-UnguardedInferencePath suppressed on" in frontier["description"]
    assert "Unguarded path mantle risk-accepted by AO for the frontier system" in frontier["description"]
    # The commercial environment serves GPT-5.6 through runtime Converse with the guardrail: SI-10 implemented.
    assert _matrix(report, "commercial")["controls"]["SI-10"]["status"] == "implemented"
