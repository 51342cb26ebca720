"""Evidence for auditors: control matrix, OSCAL component definition, diagram and summary.

The reference app is synthesized once for the module; the matrix logic is also checked on a small
hand-written assembly (a suppressed finding, a non-compliant one, absent resource types).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from compliant_bedrock.compliance import judge
from compliant_bedrock.compliance.gate import read_findings
from compliant_bedrock.compliance.suppressions import nist_rules
from compliant_bedrock.evidence.assembly import read_assembly
from compliant_bedrock.evidence.baselines import baseline_data
from compliant_bedrock.evidence.components import component_members, configures_invocation_logging
from compliant_bedrock.evidence.matrix import (
    CLAIMED,
    CONTROL_PACKS,
    STATUS_TEXT,
    control_sort_key,
    normalize_control,
    normalized_controls,
    oscal_control_id,
    result_of,
)
from compliant_bedrock.evidence.objectives import objective_map
from compliant_bedrock.evidence.oscal_common import NS, PLACEHOLDER
from compliant_bedrock.evidence.poam import FEDRAMP_FIELDS
from compliant_bedrock.evidence.report import stack_file_names
from compliant_bedrock.evidence.responsibility import control_info
from infra.app_factory import ROOT, build_app, rule_contexts
from infra.config import load_environments
from infra.report import environment_facts, generate, main

SUPPRESSION_REASON = "Replication is configured by the audit account's organization-wide backup plan, not per stack"
UNGUARDED_REASON = ("Mantle projects call frontier models without a guardrail: accepted by the dev environment's "
                    "authorizing official on 2026-11-02 until guardrails are offered there")
AWS_SOLUTIONS_REASON = "Server access logs of the audit bucket would record every CloudTrail delivery twice over"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out")
    # The environments' evidence, one stack each; the organization stacks' policies are tested in
    # test_organization.py, the replica stacks in test_replica.py.
    envs = [env.model_copy(update={"audit": env.audit.model_copy(update={"replica_region": None})})
            for env in load_environments(ROOT / "config")]
    app = build_app(outdir=str(outdir), organizations=[], envs=envs)
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


def _labels(assembly: Path) -> dict[str, str]:
    """stack name -> the name its evidence files carry: its environment for its own stack, the stack name without
    the prefix for its others (frontier-iam-events, the IAM-region stack of frontier)."""
    return stack_file_names({s.name: s.environment for s in read_assembly(assembly)})


def _envs(assembly: Path) -> dict[str, str]:
    """The environments' own stacks -> their evidence files' name (not the small IAM-events stack)."""
    return {name: label for name, label in _labels(assembly).items() if not name.endswith("-iam-events")}


# ---------------------------------------------------------------------------------------------
# The reference app


def test_report_writes_every_file(report: Path, assembly: Path) -> None:
    names = {p.name for p in report.iterdir()}
    for env in _envs(assembly).values():
        assert {f"matrix-{env}.json", f"matrix-{env}.md", f"architecture-{env}.svg", f"architecture-{env}.png"} <= names
    assert {"component-definition.json", "summary.json", "summary.md"} <= names


def test_every_rule_result_of_the_reports_is_in_the_matrix(report: Path, assembly: Path) -> None:
    envs = _labels(assembly)
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


def test_no_control_is_satisfied_without_a_passing_rule_on_a_named_resource(report: Path, assembly: Path) -> None:
    envs = _labels(assembly)
    stacks = {s.name: s for s in read_assembly(assembly)}
    compliant: set[tuple[str, str]] = set()
    for f in read_findings(assembly):
        stack = stacks[f.stack]
        named = stack.logical_id(f.resource) is not None or f.resource == stack.name
        if f.pack in CONTROL_PACKS and f.compliance == "Compliant" and named:
            compliant.add((envs[f.stack], f.rule_id))
    objectives = objective_map()
    claimed = 0
    for env in envs.values():
        matrix = _matrix(report, env)
        assert matrix["evidence_basis"].startswith("Pre-deployment evidence")
        controls = matrix["control_list"]
        assert controls == sorted(controls, key=control_sort_key)
        assert len(controls) == len(set(controls))
        for control, item in matrix["controls"].items():
            assert item["status"] in STATUS_TEXT
            if item["status"] not in CLAIMED:
                continue
            claimed += 1
            passed = [ref for ref in item["rules"] if (env, ref["rule"]) in compliant]
            assert passed, f"{env}: {control} claimed without a compliant result on a named resource"
            assert not item["tally"]["non-compliant"] and not item["tally"]["error"]
            assert not item.get("accepted_risks"), f"{env}: {control} claimed although a risk was accepted on it"
            assert control_info(control).scope != "outside"
            assert control not in objectives.never and control not in objectives.withdrawn
            if item["status"] == "satisfied-by-automated-check":
                # Only a check the objective map names can satisfy; cdk-nag's citations never do.
                assert control_info(control).scope == "template"
                assert any(ref["role"] == "satisfies" and not ref["rule"].startswith("NIST.") for ref in passed)
                assert not item.get("unchecked"), f"{env}: {control} satisfied although a resource went unchecked"
            elif control_info(control).scope == "partial":
                assert item["status"] == "partially-satisfied"
    assert claimed >= 10


def test_telling_controls_have_honest_statuses(report: Path, assembly: Path) -> None:
    for env in _envs(assembly).values():
        controls = _matrix(report, env)["controls"]
        # A rule cites them, but no template trains people or writes policies.
        assert controls["AT-4"]["status"] == "not-assessed-by-automation"
        assert controls["AT-4"]["rules"], "AT-4 is cited by a rule that passed: the scope data keeps it unclaimed"
        assert controls["CP-1"]["status"] == "not-assessed-by-automation"
        assert controls["AU-9"]["status"] == "satisfied-by-automated-check"
        assert "Bedrock-AuditBucketObjectLock" in controls["AU-9"]["why"]
        assert controls["AC-2"]["status"] == "partially-satisfied"
        assert "approval" in controls["AC-2"]["not_checked"]
        # AU-5: no rule cites it, the map credits the tamper alerts that reach a subscriber (part a only).
        assert controls["AU-5"]["status"] == "partially-satisfied"
        assert {r["rule"]: r["role"] for r in controls["AU-5"]["rules"]}["Bedrock-TamperAlertsReceived"] == "satisfies"
        # The invocation-logging Lambda outside the VPC is suppressed by the package itself, citing SC-7: a vendor
        # justification (no approver), never a risk acceptance; SC-7 has parts no template shows: partial.
        assert controls["SC-7"]["status"] == "partially-satisfied"
        assert "accepted_risks" not in controls["SC-7"]
        assert {j["rule"] for j in controls["SC-7"]["vendor_justifications"]} == {"NIST.800.53.R5-LambdaInsideVPC"}
        assert "not-applicable" not in {c["status"] for c in controls.values()}


def test_oscal_component_definition_validates_with_trestle(report: Path, assembly: Path) -> None:
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal.component import ComponentDefinition

    raw = json.loads((report / "component-definition.json").read_text(encoding="utf-8"))
    document = ComponentDefinition.model_validate(raw["component-definition"])
    # compliance-trestle 5.2.0 targets OSCAL 1.2.1: the document says the version it is validated against.
    assert raw["component-definition"]["metadata"]["oscal-version"] == OSCAL_VERSION == "1.2.1"
    assert "Pre-deployment evidence" in raw["component-definition"]["metadata"]["remarks"]
    assert document.components
    parts = {p.value for c in document.components for p in c.props or [] if p.name == "component-id"}
    assert {"private-link", "compliance-gate"} <= parts
    uuids = [str(c.uuid) for c in document.components] + [
        str(r.uuid) for c in document.components for ci in c.control_implementations or []
        for r in ci.implemented_requirements]
    assert len(uuids) == len(set(uuids))


def test_every_environments_statement_survives_trestles_keying_by_title(report: Path, assembly: Path) -> None:
    """trestle's ssp-generate and ssp-assemble key a component's statements by component title and control: each
    (title, control) holds one environment's statement, every environment's components are there, and trestle's
    SSP model (v4 identifiers only) takes every component."""
    from trestle.core.generic_oscal import GenericComponent
    from trestle.oscal.component import ComponentDefinition

    raw = _load(report / "component-definition.json")["component-definition"]
    keyed = [(c["title"], r["control-id"]) for c in raw["components"] for ci in c.get("control-implementations", [])
             for r in ci["implemented-requirements"]]
    assert len(keyed) == len(set(keyed))
    for component in raw["components"]:
        assert len(component.get("control-implementations", [])) <= 1, component["title"]
    envs = {p["value"] for c in raw["components"] for p in c["props"] if p["name"] == "environment"}
    assert set(_labels(assembly).values()) - envs <= {"frontier-iam-events", "commercial-replica", "govcloud-replica"}
    assert {"commercial", "govcloud", "frontier"} <= envs
    for component in ComponentDefinition.model_validate(raw).components:
        GenericComponent.from_defined_component(component)  # what ssp-assemble does; v5 identifiers fail here


#: The OSCAL documents of a synth: file -> root key (the SSP skeletons, ``ssp-<env>.json``, are found by pattern).
OSCAL_FILES = {"component-definition.json": "component-definition",
               "poam-oscal.json": "plan-of-action-and-milestones",
               "assessment-results.json": "assessment-results"}
_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _identifiers(node: object, defined: list[str], referenced: list[str], key: str = "") -> None:
    """Every uuid an OSCAL document defines (``uuid``) and references (``*-uuid``, ``*-uuids``, ``#<uuid>`` hrefs)."""
    if isinstance(node, dict):
        for k, v in node.items():
            _identifiers(v, defined, referenced, k)
    elif isinstance(node, list):
        for v in node:
            _identifiers(v, defined, referenced, key if key.endswith("-uuids") else "")
    elif isinstance(node, str):
        if key == "uuid":
            defined.append(node)
        elif key.endswith(("-uuid", "-uuids")):
            referenced.append(node)
        elif key == "href" and node.startswith("#"):
            referenced.append(node[1:])


def _oscal_documents(report: Path) -> dict[str, dict]:
    found = {name: _load(report / name)[root] for name, root in OSCAL_FILES.items()}
    found |= {p.name: _load(p)["system-security-plan"] for p in sorted(report.glob("ssp-*.json"))}
    return found


def test_stable_uuids_are_deterministic_and_version_4_format() -> None:
    import uuid

    from compliant_bedrock.evidence.oscal_common import stable_uuid

    made = {stable_uuid("implemented-requirement", "audit-trail", env, control)
            for env in ("commercial", "govcloud", "frontier") for control in ("AU-9", "AU-9(2)", "AU-11")}
    assert len(made) == 9
    for value in made:
        parsed = uuid.UUID(value)
        assert _V4.match(value) and parsed.version == 4 and parsed.variant == uuid.RFC_4122, value
    assert stable_uuid("component", "guardrail") == stable_uuid("component", "guardrail")
    assert stable_uuid("a/b", "c") != stable_uuid("a", "b/c")


def test_every_oscal_identifier_is_v4_format_unique_and_every_reference_resolves(report: Path) -> None:
    """trestle's SSP tooling takes v4 identifiers only (OSCAL allows v5 too); a reference to an identifier the
    document does not define is a broken link for every tool."""
    documents = _oscal_documents(report)
    assert set(OSCAL_FILES) <= set(documents)
    for name, root in documents.items():
        defined: list[str] = []
        referenced: list[str] = []
        _identifiers(root, defined, referenced)
        assert defined and all(_V4.match(u) for u in defined), name
        assert len(defined) == len(set(defined)), name
        assert set(referenced) <= set(defined), (name, sorted(set(referenced) - set(defined))[:5])


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
    stacks = {s.name: s for s in read_assembly(assembly)}
    raw = json.loads((report / "component-definition.json").read_text(encoding="utf-8"))["component-definition"]
    for component in raw["components"]:
        for ci in component.get("control-implementations", []):
            stack = stacks[next(p["value"] for p in ci["props"] if p["name"] == "stack")]
            for req in ci["implemented-requirements"]:
                for rule in (p["value"] for p in req.get("props", []) if p["name"] == "evidence-rule"):
                    assert any(f.rule_id == rule and f.compliance == "Compliant"
                               and req["control-id"] in {oscal_control_id(c) for c in normalized_controls(f.controls)}
                               for f in stack.findings), (rule, req["control-id"])


def test_architecture_diagrams_show_the_boundary_and_data_flows(report: Path, assembly: Path) -> None:
    from compliant_bedrock.evidence.diagram import build_scene

    ns = "{http://www.w3.org/2000/svg}"
    labels = _labels(assembly)
    for stack in read_assembly(assembly):
        if stack.name not in _envs(assembly):
            continue  # the IAM-events stack has no VPC or audit plane to draw
        env = labels[stack.name]
        scene = build_scene(stack)
        assert scene.accounted == len(stack.resources)  # every resource drawn or counted in a group
        svg = ET.parse(report / f"architecture-{env}.svg").getroot()
        boxes = {g.get("id"): g for g in svg.iter(f"{ns}g") if g.get("class") == "box"}
        assert {"box-region", "box-boundary", "box-clients", "box-vpc", "box-audit", "box-keys", "box-aws"} <= set(boxes)
        text = " ".join(t.text or "" for t in svg.iter(f"{ns}text"))
        assert "Pre-deployment evidence" in text and "Authorization boundary" in text
        nodes = {g.get("id"): g for g in svg.iter(f"{ns}g") if g.get("class") == "node"}
        # CDK internals are grouped, not drawn: no custom resource (but the invocation-logging setting it makes)
        # and no Lambda function is a node.
        for logical_id in nodes:
            resource = stack.template.resources.get(logical_id)
            assert resource is None or configures_invocation_logging(resource) or not resource.type.startswith(
                ("Custom::", "AWS::Lambda::")), logical_id
        # Clients: the CIDRs the endpoint security group admits, with the port.
        cidrs = {rule["CidrIp"] for r in stack.resources if r.type == "AWS::EC2::SecurityGroup"
                 for rule in r.properties.get("SecurityGroupIngress", [])}
        assert cidrs and {f"client:{c}" for c in cidrs} <= set(nodes)
        assert "HTTPS TCP 443" in text
        # Bedrock is outside the boundary (right of it), reached through the endpoints.
        boundary = next(b for b in scene.boxes if b.id == "boundary")
        runtime = next(n for b in scene.boxes for n in b.nodes if n.id == "bedrock-runtime")
        assert runtime.x > boundary.x + boundary.w
        flows = {(e.src, e.dst, e.label) for e in scene.edges}
        endpoint = next(r.logical_id for r in stack.resources if r.type == "AWS::EC2::VPCEndpoint"
                        and "runtime" in json.dumps(r.properties["ServiceName"]))
        assert (endpoint, "bedrock-runtime", "PrivateLink") in flows
        locked = [r.logical_id for r in stack.resources if r.type == "AWS::S3::Bucket"
                  and r.properties.get("ObjectLockEnabled") is True]
        assert {("cloudtrail", b, "trail log files") for b in locked} & flows
        assert {("bedrock-runtime", b, "invocation logs") for b in locked} & flows
        assert "Object Lock COMPLIANCE 913 days" in text
        with Image.open(report / f"architecture-{env}.png") as image:
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
            _nist_line("CloudWatchLogGroupRetentionPeriod", "Vpc/Resource", "Compliant"),
        ],
        "AwsSolutions": [{"ruleId": "AwsSolutions-S1", "resourceId": f"{STACK}/Bucket/Resource",
                          "compliance": "Suppressed", "exceptionReason": AWS_SOLUTIONS_REASON,
                          "ruleLevel": "Error", "ruleInfo": "The S3 Bucket has server access logs disabled."}],
        "Bedrock": [
            {"ruleId": "Bedrock-AuditBucketObjectLock", "resourceId": "Bucket", "compliance": "Compliant",
             "exceptionReason": "N/A", "ruleLevel": "Error",
             "ruleInfo": "The bucket lacks Object Lock - (Control IDs: AU-9, AU-9(2), AU-11, SI-7)."},
            {"ruleId": "Bedrock-GuardrailPromptAttackHigh", "resourceId": "Guardrail", "compliance": "Compliant",
             "exceptionReason": "N/A", "ruleLevel": "Error",
             "ruleInfo": "Prompt attack filter below HIGH - (Control IDs: SI-10, SI-3)."},
            {"ruleId": "Bedrock-UnguardedInferencePath", "resourceId": f"{STACK}/Invoke/Resource",
             "compliance": "Suppressed", "exceptionReason": UNGUARDED_REASON, "ruleLevel": "Error",
             "ruleInfo": "A model is reachable without the guardrail - (Control IDs: SI-10)."},
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
    # No approver named: the suppression is a (vendor) justification, never a risk acceptance.
    assert rule["results"] == [{"acceptance": "vendor-justification", "label": "Bucket", "logical_id": "Bucket",
                                "reason": SUPPRESSION_REASON, "resource": f"{STACK}/Bucket/Resource",
                                "result": "suppressed", "type": "AWS::S3::Bucket"}]
    # Replication alone tests CP-6, and it was justified away: nothing shows CP-6, nobody accepted the gap.
    cp6 = matrix["controls"]["CP-6"]
    assert cp6["status"] == "not-assessed-by-automation" and "accepted_risks" not in cp6
    assert cp6["vendor_justifications"] == [{"rule": "NIST.800.53.R5-S3BucketReplicationEnabled",
                                             "resource": f"{STACK}/Bucket/Resource", "reason": SUPPRESSION_REASON}]
    # AU-9(2): Object Lock passed (support: the control is partial), replication justified: not accepted.
    assert matrix["controls"]["AU-9(2)"]["status"] == "partially-satisfied"
    assert "Vendor justification" in matrix["controls"]["AU-9(2)"]["why"]
    # AU-9: Object Lock shows part a; nothing alerts on tampering (part b): partial, and it says why.
    assert matrix["controls"]["AU-9"]["status"] == "partially-satisfied"
    assert "no check that can satisfy it part b passed" in matrix["controls"]["AU-9"]["why"]
    assert matrix["controls"]["AU-11"]["status"] == "satisfied-by-automated-check"  # Object Lock, its objective
    assert matrix["controls"]["SC-12"]["status"] == "not-satisfied"
    # AC-4: the endpoint is there, but the map makes the unguarded path (accepted by the AO) part of AC-4.
    assert matrix["controls"]["AC-4"]["status"] == "risk-accepted"
    # SI-10: the guardrail rule passed, but an unguarded inference path was accepted with a reason.
    assert matrix["controls"]["SI-10"]["status"] == "risk-accepted"
    assert matrix["controls"]["SI-10"]["accepted_risks"] == [{
        "rule": "Bedrock-UnguardedInferencePath", "resource": f"{STACK}/Invoke/Resource", "reason": UNGUARDED_REASON,
        "accepted_by": "the dev environment's authorizing official", "accepted_on": "2026-11-02"}]
    # AT-4: a passing retention rule cites it; training is still nobody's template.
    assert matrix["controls"]["AT-4"]["status"] == "not-assessed-by-automation"
    assert matrix["rules"]["NIST.800.53.R5-LambdaDLQ"]["note"] == "no AWS::Lambda::Function in the template"
    assert matrix["other_packs"]["AwsSolutions"]["AwsSolutions-S1"]["results"][0]["reason"] == AWS_SOLUTIONS_REASON
    markdown = (dest / "matrix-dev.md").read_text(encoding="utf-8")
    assert SUPPRESSION_REASON in markdown and AWS_SOLUTIONS_REASON in markdown
    assert '<a id="cp-6"></a>CP-6 | not-assessed-by-automation |' in markdown
    assert markdown.splitlines()[2].startswith("> Pre-deployment evidence")

    summary = json.loads((dest / "summary.json").read_text(encoding="utf-8"))
    assert {(s["rule"], s["reason"]) for s in summary["suppressions"]} == {
        ("NIST.800.53.R5-S3BucketReplicationEnabled", SUPPRESSION_REASON), ("AwsSolutions-S1", AWS_SOLUTIONS_REASON),
        ("Bedrock-UnguardedInferencePath", UNGUARDED_REASON)}
    assert summary["stacks"][STACK]["gate"] == "fail"
    assert summary["stacks"][STACK]["packs"]["NIST.800.53.R5"] == {
        "compliant": 2, "error": 0, "non-compliant": 1, "not-applicable": 0, "suppressed": 1}
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
    assert len(by_id) == len(raw["components"])  # one stack: one component per part
    audit = by_id["audit-trail"]["control-implementations"][0]
    assert "Object Lock COMPLIANCE 913 days" in audit["description"]
    assert {r["control-id"] for r in audit["implemented-requirements"]} >= {"au-9", "au-9.2", "au-11", "si-7"}
    # Key rotation failed on the trail's key: SC-12 is not claimed; CP-6 was only suppressed: not claimed.
    assert not {"sc-12", "cp-6"} & {r["control-id"] for r in audit["implemented-requirements"]}
    # AU-9(2): Object Lock passed but replication was justified away: partial, with the justification as such.
    (au92,) = [r for r in audit["implemented-requirements"] if r["control-id"] == "au-9.2"]
    statuses = [p["value"] for p in au92["props"] if p["name"] in ("implementation-status", "evidence-status")]
    assert statuses == ["partial", "partially-satisfied"], au92["props"]
    assert au92["remarks"].startswith("Vendor justification, not a risk acceptance") and SUPPRESSION_REASON in au92["remarks"]
    assert "bedrock-runtime-fips" in by_id["private-link"]["control-implementations"][0]["description"]
    assert "invocation-logging" not in by_id  # nothing to state: no component (trestle's ssp-assemble needs one)


def test_cli_writes_reports_and_refuses_a_missing_assembly(fake_assembly: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(fake_assembly), "--dest", str(tmp_path / "out"), "--config", str(ROOT / "config")]) == 0
    assert (tmp_path / "out" / "summary.md").is_file()
    assert f"report: {len(list((tmp_path / 'out').iterdir()))} files" in capsys.readouterr().out
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert main([str(fake_assembly), "--dest", str(tmp_path / "bad"), "--evidence-base-uri", "evidence/"]) == 2
    assert "'evidence/' is not an absolute URI" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    base = "https://trust.example.gov/cb"
    assert main([str(fake_assembly), "--dest", str(tmp_path / "out"), "--evidence-base-uri", base]) == 0
    assert _load(tmp_path / "out" / "sdr-dev.json")["metadata"]["evidenceBaseUri"] == base + "/"
    config = json.loads((tmp_path / "out" / "provenance.json").read_text())["inputs"]["configuration"]
    assert "config/commercial.yaml" in config  # the settings the statements came from


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


def test_components_say_which_protections_hold_for_every_principal_and_which_for_the_packages_roles() -> None:
    from compliant_bedrock.evidence.components import COMPONENTS

    text = {c.id: c.description for c in COMPONENTS}
    assert "bind only the roles that carry this policy" in text["model-access"]
    assert "to every principal of the account except a named break-glass role and the deploy role" in text["audit-trail"]
    assert "detected" in text["audit-trail"] and "not prevented" in text["audit-trail"]
    assert "every call of the package's roles" in text["guardrail"]
    assert "every principal of the account in the region" in text["guardrail"]
# ---------------------------------------------------------------------------------------------
# Responsibility and SSP narratives

_BACKTICKED = re.compile(r"`([^`]+)`")


def test_every_value_a_narrative_states_is_in_the_template(report: Path, assembly: Path) -> None:
    labels = _envs(assembly)
    stacks = {labels[s.name]: s for s in read_assembly(assembly) if s.name in labels}
    checked = 0
    for env, stack in stacks.items():
        text = json.dumps(stack.template.body)
        labels = {stack.label(r.logical_id) for r in stack.resources}  # names from the assembly's metadata
        matrix = _matrix(report, env)
        for control, item in matrix["controls"].items():
            for value in _BACKTICKED.findall(item["narrative"]):
                assert f'"{value}"' in text or f": {value}," in text or f": {value}}}" in text \
                    or f"/{value}" in text or f".{value}" in text or value in labels, (env, control, value)
                checked += 1
        # The telling values are there, read from this template.
        au11 = matrix["controls"]["AU-11"]["narrative"]
        assert "Object Lock `COMPLIANCE` for `913` days" in au11 and "retention `365` days" in au11
        model = {"frontier": "`openai.gpt-5.5`"}.get(stack.environment, "`openai.gpt-oss-120b-1:0`")  # Mantle only
        assert model in matrix["controls"]["AC-6"]["narrative"]
        assert "`IsMultiRegionTrail` `true`" in matrix["controls"]["AU-12"]["narrative"]
        # R1: who read or deleted a prompt is in the trail, and the evidence says so (AU-2, AU-12).
        assert "S3 object events of bucket `InvocationLogging/Bucket/Bucket`" in matrix["controls"]["AU-12"]["narrative"]
        assert matrix["controls"]["AT-4"]["responsibility"] == "customer"
        assert matrix["controls"]["AU-9"]["responsibility"] == "shared"
        assert "Amazon S3 Object Lock" in matrix["controls"]["AU-9"]["aws_service"]
        table = (report / f"responsibility-{env}.md").read_text(encoding="utf-8")
        assert "| AU-9 | satisfied-by-automated-check | shared |" in table
    assert checked > 100


def test_a_narrative_only_states_what_the_template_configures(fake_assembly: Path, tmp_path: Path) -> None:
    """Change a value in the template: the narrative follows it; remove it: the narrative drops it."""
    template_file = fake_assembly / f"{STACK}.template.json"
    body = json.loads(template_file.read_text(encoding="utf-8"))
    body["Resources"]["Bucket"]["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] = 2557
    del body["Resources"]["Trail"]["Properties"]["EnableLogFileValidation"]
    template_file.write_text(json.dumps(body), encoding="utf-8")
    generate(fake_assembly, dest=tmp_path, settings={})
    controls = _matrix(tmp_path, "dev")["controls"]
    assert "for `2557` days" in controls["AU-9(2)"]["narrative"] and "913" not in controls["AU-9(2)"]["narrative"]
    assert "EnableLogFileValidation" not in controls["SI-7"]["narrative"]
    assert "`IsMultiRegionTrail` `true`" in controls["SI-7"]["narrative"]


def test_the_control_table_is_complete_and_refuses_bad_rows() -> None:
    from compliant_bedrock.evidence import responsibility

    baselines = {c for b in baseline_data()["baselines"].values() for c in b["controls"]}
    for oscal_id in baselines:  # every Rev5 baseline control resolves to a reviewed row
        family, _, rest = oscal_id.partition("-")
        number, _, enhancement = rest.partition(".")
        info = control_info(f"{family.upper()}-{number}" + (f"({enhancement})" if enhancement else ""))
        assert info.scope in responsibility.SCOPES
    assert control_info("PE-3").responsibility == "inherited" and "data centers" in control_info("PE-3").aws_service
    assert control_info("AU-1").scope == "outside"  # *-1 wins over the AU family row
    assert control_info("CP-2(5)").scope == "outside"
    with pytest.raises(ValueError, match="not a normalized control id"):
        control_info("au-9")
    # A whole family or a wildcard never gets scope template: each control a template shows whole is named.
    header = "match\tscope\tnot_checked\tresponsibility\taws_service\ttopics\n"
    for match in ("AC-4*", "SC"):
        with pytest.raises(ValueError, match="scope template only on one control id"):
            responsibility.parse_control_table(header + f"{match}\ttemplate\t\tshared\tAmazon VPC\tnetwork\n")
    assert responsibility.parse_control_table(header + "AC-4\ttemplate\t\tshared\tAmazon VPC\tnetwork\n")


# ---------------------------------------------------------------------------------------------
# FedRAMP Rev5 baselines


def test_baselines_are_vendored_with_their_source() -> None:
    data = baseline_data()
    assert data["source"]["repository"] == "https://github.com/GSA/fedramp-automation"
    assert re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"])
    assert "public domain" in data["source"]["license"].lower()
    sizes = {b: len(set(v["controls"])) for b, v in data["baselines"].items()}
    assert sizes == {"low": 156, "moderate": 323, "high": 410}
    low, moderate, high = (set(data["baselines"][b]["controls"]) for b in ("low", "moderate", "high"))
    assert low <= moderate <= high
    assert {"au-9", "at-4", "si-10", "sc-7.5"} <= high
    for b in data["baselines"].values():
        assert b["path"].startswith("dist/content/rev5/baselines/json/") and b["version"]


def test_baseline_coverage_counts_every_control_of_each_baseline(report: Path, assembly: Path) -> None:
    coverage = _load(report / "baseline-coverage.json")
    assert coverage["evidence_basis"].startswith("Pre-deployment evidence")
    for env in _envs(assembly).values():
        matrix = _matrix(report, env)
        for c in coverage["coverage"][env].values():
            assert sum(c["statuses"].values()) == c["controls"] == sum(c["responsibility"].values())
            assert c["statuses"]["satisfied-by-automated-check"] >= 3
        rows = {r["control"]: r for r in coverage["controls"]}
        assert rows["AT-4"]["statuses"][env] == "not-assessed-by-automation"
        assert rows["AU-9"]["statuses"][env] == "satisfied-by-automated-check"
        assert rows["PE-3"]["statuses"][env] == "not-assessed-by-automation"  # no rule cites it
        assert rows["PE-3"]["responsibility"] == "inherited"
        for control, row in rows.items():  # the table agrees with the matrix
            if control in matrix["controls"]:
                assert row["statuses"][env] == matrix["controls"][control]["status"]
    markdown = (report / "baseline-coverage.md").read_text(encoding="utf-8")
    assert "| commercial | moderate | 323 |" in markdown


def _requirements(raw: dict, component_id: str) -> dict[str, dict]:
    """control-id -> implemented requirement of a component's first control implementation."""
    for component in raw["components"]:
        if {"name": "component-id", "ns": "urn:compliant-bedrock:oscal", "value": component_id} in component["props"]:
            cis = component.get("control-implementations") or [{"implemented-requirements": []}]
            return {r["control-id"]: r for r in cis[0]["implemented-requirements"]}
    raise AssertionError(component_id)


def test_oscal_requirements_carry_status_responsibility_parameters_and_links(report: Path, assembly: Path) -> None:
    raw = _load(report / "component-definition.json")["component-definition"]
    assert {r["id"] for r in raw["metadata"]["roles"]} == {"customer", "provider"}
    audit = _requirements(raw, "audit-trail")
    au9 = audit["au-9"]
    props = {p["name"]: p["value"] for p in au9["props"] if p["name"] != "evidence-rule"}
    assert props == {"implementation-status": "implemented", "evidence-status": "satisfied-by-automated-check",
                     "responsibility": "shared", "aws-service": control_info("AU-9").aws_service}
    # OSCAL's own prop (no namespace: trestle reads it by name), the fine-grained status in the package's.
    assert {"name": "implementation-status", "value": "implemented"} in au9["props"]
    assert au9["responsible-roles"] == [{"role-id": "customer"}, {"role-id": "provider"}]
    env = next(p["value"] for p in raw["components"][0]["control-implementations"][0]["props"]
               if p["name"] == "environment")
    assert au9["links"][0]["href"].startswith("./matrix-") and au9["links"][0]["href"].endswith(".md#au-9")
    assert au9["links"][0]["href"].split("#")[0].removeprefix("./") in {p.name for p in report.iterdir()}
    assert audit["au-11"]["set-parameters"] == [{"param-id": "au-11_odp", "values": [
        "audit buckets: 913 days (S3 Object Lock COMPLIANCE); log groups: 365 days"]}]
    link = _requirements(raw, "private-link")
    assert link["sc-13"]["set-parameters"][0]["values"][0].startswith("FIPS-validated cryptography")
    labels = _labels(assembly)
    for component in raw["components"]:
        for ci in component.get("control-implementations", []):
            env = next(p["value"] for p in ci["props"] if p["name"] == "environment")
            matrix = _matrix(report, labels[next(p["value"] for p in ci["props"] if p["name"] == "stack")])
            for req in ci["implemented-requirements"]:
                status = next(p["value"] for p in req["props"] if p["name"] == "evidence-status")
                oscal = next(p["value"] for p in req["props"] if p["name"] == "implementation-status")
                control = next(c for c in matrix["controls"] if matrix["controls"][c]["oscal_id"] == req["control-id"]) \
                    if req["control-id"] not in ("sa-11", "sa-11.1") else None
                if control:  # the component says what the matrix says
                    assert status == matrix["controls"][control]["status"], (req["control-id"], env)
                assert (status, oscal) in (("satisfied-by-automated-check", "implemented"),
                                           ("partially-satisfied", "partial"), ("risk-accepted", "partial"))
    # Organizational controls are never listed, whatever rule cites them.
    assert not {"at-4", "cp-1", "pm-14"} & {c for comp in raw["components"] for ci in comp.get(
        "control-implementations", []) for c in (r["control-id"] for r in ci["implemented-requirements"])}


def test_oscal_never_claims_a_control_a_rule_failed_on_the_same_component(fake_assembly: Path, tmp_path: Path) -> None:
    """CM-6: log-file validation passed on the trail, key rotation failed on the trail's key (same component)."""
    from trestle.oscal.component import ComponentDefinition

    from compliant_bedrock.evidence.oscal import build_component_definition

    (stack,) = read_assembly(fake_assembly)
    cm6 = [f for f in stack.findings if "CM-6" in normalized_controls(f.controls)]
    assert {"Compliant", "Non-Compliant"} <= {f.compliance for f in cm6}
    assert {stack.logical_id(f.resource) for f in cm6} <= set(component_members(stack)["audit-trail"])
    # Without the matrix statuses (the component's own results alone) ...
    raw = build_component_definition([stack], {}, version="0", digest="0")["component-definition"]
    ComponentDefinition.model_validate(raw)
    assert "cm-6" not in _requirements(raw, "audit-trail")
    assert "au-11" in _requirements(raw, "audit-trail")  # what passed alone is listed
    # ... and with them.
    generate(fake_assembly, dest=tmp_path, settings={})
    raw = _load(tmp_path / "component-definition.json")["component-definition"]
    assert "cm-6" not in _requirements(raw, "audit-trail")
    assert "si-10" in _requirements(raw, "guardrail")
    si10 = _requirements(raw, "guardrail")["si-10"]
    assert {"name": "evidence-status", "ns": "urn:compliant-bedrock:oscal", "value": "risk-accepted"} in si10["props"]
    assert {"name": "implementation-status", "value": "partial"} in si10["props"]
    assert UNGUARDED_REASON not in si10.get("remarks", "")  # the suppression is on the policy, not the guardrail


# ---------------------------------------------------------------------------------------------
# FedRAMP 20x Security Decision Record and POA&M

FEDRAMP_SCHEMAS = Path(__file__).parent / "data" / "fedramp"


@functools.cache
def _format_checker():
    """jsonschema's own format checks, plus ``uri``, ``date`` and ``date-time`` from the standard library
    (``evidence.formats``): without rfc3987 or rfc3986-validator, jsonschema lets any string pass as a ``uri``."""
    import jsonschema

    from compliant_bedrock.evidence.formats import CHECKS

    checker = jsonschema.FormatChecker(list(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers))
    for name, check in CHECKS.items():
        checker.checks(name)(check)
    return checker


@functools.cache
def _sdr_validator():
    import jsonschema
    import referencing
    from referencing.jsonschema import DRAFT202012

    schema = json.loads((FEDRAMP_SCHEMAS / "fedramp-security-decision-record-schema-2026-06-24.json").read_text())
    common = json.loads((FEDRAMP_SCHEMAS / "fedramp-common-definitions-schema-2026-06-24.json").read_text())
    # FedRAMP's schema refers to ".../common-definitions-schema-2026-06-24.json/$defs/certificationPackageOverviewUri"
    # (a path, not a "#/$defs/..." fragment): that URI is registered as the definition it means.
    registry = referencing.Registry().with_resources([
        (common["$id"], DRAFT202012.create_resource(common)),
        (f"{common['$id']}/$defs/certificationPackageOverviewUri",
         DRAFT202012.create_resource(common["$defs"]["certificationPackageOverviewUri"])),
    ])
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_format_checker())


def test_the_format_checker_checks_every_format_of_fedramps_schemas() -> None:
    """Format checking that silently skips a format is no check: each format the schemas use is checked."""
    schemas = " ".join(p.read_text() for p in FEDRAMP_SCHEMAS.glob("*.json"))
    used = set(re.findall(r'"format":\s*"([^"]+)"', schemas))
    assert used == {"uri", "date", "date-time"}
    checker = _format_checker()
    assert used <= set(checker.checkers)
    for fmt, good, bad in (("uri", "urn:compliant-bedrock:unpublished-evidence:matrix-dev.json", "./matrix-dev.json"),
                           ("uri", "https://trust.example.gov/cb/matrix-dev.json", "matrix dev.json"),
                           ("date", "2026-07-14", "2026-02-30"),
                           ("date-time", "2026-07-14T10:00:00Z", "2026-07-14 10:00:00")):
        assert checker.conforms(good, fmt) and not checker.conforms(bad, fmt), (fmt, good, bad)


def test_security_decision_records_validate_against_fedramps_schema(report: Path, assembly: Path) -> None:
    from compliant_bedrock.evidence.sdr import CONTROL_STATUS, NOT_ASSESSED, UNSET_EVIDENCE_BASE, ksi_data

    validator = _sdr_validator()
    data = ksi_data()
    provenance = report / "provenance.json"
    for env in _envs(assembly).values():
        sdr = _load(report / f"sdr-{env}.json")
        assert [e.message for e in validator.iter_errors(sdr)] == []
        matrix = _matrix(report, env)
        # Every KSI of the vendored rules, each either assessed from reviewed text or saying it is not.
        ksis = {k["ksiId"]: k for k in sdr["keySecurityIndicators"]}
        assert list(ksis) == list(data["indicators"]) and len(ksis) == len(sdr["keySecurityIndicators"])
        assessed = {k for k, v in ksis.items() if v["automatedAssessment"] != NOT_ASSESSED}
        assert {"KSI-MLA-EVC", "KSI-MLA-OSM", "KSI-CNA-RNT", "KSI-IAM-ELP"} <= assessed
        for ksi_id, ksi in ksis.items():
            mapped = set(data["indicators"][ksi_id]["controls"])
            if ksi_id in assessed:
                # Never fully implemented from templates; each KSI's tests are rules citing a control of its mapping.
                assert "shows" in data["indicators"][ksi_id]
                assert ksi["ksiImplementationStatus"] == "Partially Implemented"
                assert ksi["ksiTests"] and ksi["ksiEvidence"]
                for rule in ksi["ksiTests"]:
                    assert {oscal_control_id(c) for c in matrix["rules"][rule]["controls"]} & mapped, (ksi_id, rule)
            else:  # no status, no tests, no evidence: a statement that automation did not assess it
                assert "ksiImplementationStatus" not in ksi, ksi_id
                assert ksi["ksiImplementation"][0].startswith("Not assessed by automation"), ksi_id
                assert ksi["ksiTests"] == [] and ksi["ksiEvidence"] == []
            for evidence in ksi["ksiEvidence"]:
                assert evidence["evidenceLocation"].startswith(UNSET_EVIDENCE_BASE)
                digest = evidence["evidenceText"].removeprefix("sha256 ")
                path = report / evidence["evidenceLocation"].removeprefix(UNSET_EVIDENCE_BASE)
                assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert f"{UNSET_EVIDENCE_BASE}provenance.json" in {e["evidenceLocation"] for k in ksis.values()
                                                           for e in k["ksiEvidence"]}
        # The rules the record addresses, with metadata (SDR-CSO-MTD) naming the provenance.
        assert [r["frrID"] for r in sdr["fedRampRequirements"]] == list(data["requirements"])
        assert {"SDR-CSO-FRR", "SDR-CSO-MTD", "SDR-CSX-KSI", "FRC-CSO-JSN"} <= set(data["requirements"])
        meta = sdr["metadata"]
        assert meta["version"] and meta["sourceOfUpdate"] and _format_checker().conforms(meta["lastUpdated"], "date-time")
        assert not meta["lastUpdated"].startswith("1970")
        assert meta["provenance"]["sha256"] == hashlib.sha256(provenance.read_bytes()).hexdigest()
        assert meta["evidenceBasis"].startswith("Pre-deployment evidence")
        # securityControls: the matrix's statuses as they are, none claimed where the matrix does not assess.
        controls = {c["controlId"]: c for c in sdr["securityControls"]}
        assert set(controls) == set(matrix["controls"])
        for control, c in controls.items():
            status = matrix["controls"][control]["status"]
            assert c["matrixStatus"] == status
            assert c.get("controlImplementationStatus") == CONTROL_STATUS.get(status), control
        assert sdr["portsAndProtocols"] and {p["portNumber"] for p in sdr["portsAndProtocols"]} == {"443"}
        assert "Pre-deployment evidence" in (report / f"sdr-{env}.md").read_text(encoding="utf-8")
    # The validator bites: a KSI without its required arrays, a relative evidence location are refused.
    assert list(validator.iter_errors({"certificationPackageOverviewUri": "https://example.gov/x",
                                       "fedRampRequirements": [], "keySecurityIndicators": [{"ksiId": "KSI-X"}]}))
    relative = json.loads(json.dumps(_load(report / "sdr-commercial.json")))
    relative["keySecurityIndicators"][0]["ksiEvidence"] = [{"evidenceLocation": "./matrix-commercial.json"}]
    assert [e.validator for e in validator.iter_errors(relative)] == ["format"]


def test_ksi_data_is_the_2026_rules_with_a_reason_each() -> None:
    from compliant_bedrock.evidence.sdr import ksi_data

    data = ksi_data()
    assert data["source"]["version"].startswith("2026.")
    # Consolidated Rules 2026.07.14.01: 46 KSIs in 10 families, all vendored (tools/vendor_fedramp_rules.py).
    assert len(data["indicators"]) == 46
    assert {k.split("-")[1] for k in data["indicators"]} == {
        "CED", "CMT", "CNA", "IAM", "INR", "MLA", "PIY", "RPL", "SCR", "SVC"}
    for ksi_id, ksi in data["indicators"].items():
        assert re.fullmatch(r"KSI-[A-Z]{3}-[A-Z]{3}", ksi_id)
        assert ksi["name"] and (ksi.get("statement") or ksi.get("varies_by_class"))
        assert isinstance(ksi["controls"], list)
        assert ("shows" in ksi) == ("not_shown" in ksi), ksi_id  # reviewed text says both or neither
    assert sum("shows" in k for k in data["indicators"].values()) == 8
    for rule_id, rule in data["requirements"].items():
        assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}-[A-Z]{3}", rule_id) and rule["name"] and rule["implementation"]
        assert rule.get("status") in (None, "Implemented", "Partially Implemented", "Not Implemented")
        assert rule.get("status") or rule["implementation"].startswith("Not assessed by automation")


def test_poam_lists_accepted_risks_failures_and_baseline_gaps(fake_assembly: Path, tmp_path: Path) -> None:
    import csv as csv_module

    generate(fake_assembly, dest=tmp_path, settings={})
    poam = _load(tmp_path / "poam.json")
    assert poam["evidence_basis"].startswith("Pre-deployment evidence")
    items = poam["items"]
    unguarded = next(i for i in items if i["source"] == "Bedrock rule Bedrock-UnguardedInferencePath")
    assert unguarded["kind"] == "risk-accepted" and unguarded["controls"] == ["SI-10"]
    assert unguarded["reason"] == UNGUARDED_REASON and unguarded["accepted_on"] == "2026-11-02"
    assert unguarded["milestones"] == [PLACEHOLDER] and unguarded["baselines"] == ["moderate", "high"]
    kinds = {(i["kind"], c) for i in items for c in i["controls"]}
    assert ("not-satisfied", "SC-12") in kinds  # key rotation failed
    # Scoping is not a weakness: what automation did not show is a row of its own list, never a POA&M item.
    scoping = {c: row for row in poam["scoping"] for c in row["controls"]}
    assert "AT-4" in scoping and "SC-7(5)" in scoping  # organizational; technical with no rule result here
    assert {i["kind"] for i in items} == {"not-satisfied", "risk-accepted", "vendor-justification"}
    assert not {r["id"] for r in poam["scoping"]} & {i["id"] for i in items}
    assert not {c for i in items for c in i["controls"]} & {"AT-4", "SC-7(5)"}
    assert not any(c.startswith("PE-") for _, c in kinds) and not any(c.startswith("PE-") for c in scoping)
    # Only a suppression whose reason names its approver is an accepted risk; the others are justifications.
    assert {i["source"] for i in items if i["kind"] == "risk-accepted"} == {"Bedrock rule Bedrock-UnguardedInferencePath"}
    assert {i["source"] for i in items if i["kind"] == "vendor-justification"} == {
        "NIST.800.53.R5 rule NIST.800.53.R5-S3BucketReplicationEnabled", "AwsSolutions rule AwsSolutions-S1"}
    with (tmp_path / "poam.csv").open(encoding="utf-8") as handle:
        rows = list(csv_module.DictReader(handle))
    assert len(rows) == len(items) and rows[0]["evidence_basis"].startswith("pre-deployment evidence")
    assert {r["id"] for r in rows} == {i["id"] for i in items} and len({r["id"] for r in rows}) == len(rows)
    # FedRAMP's POA&M fields on every item, in the JSON and the CSV, none empty.
    provenance = _load(tmp_path / "provenance.json")
    for item, row in zip(items, rows, strict=True):
        assert row["id"] == item["id"]
        for name in FEDRAMP_FIELDS:
            assert item[name] and row[name], (item["id"], name)
        assert item["detected_on"] == provenance["timestamp"][:10]
        assert item["weakness_detector"] in ("pack rule", "perimeter proof", "configuration", "compliance gate")
        assert item["deviation_type"] in ("risk acceptance", "operational requirement", "false positive",
                                          "vendor dependency", "none")
        assert item["vendor_dependency"] in ("yes", "no")
        for name in ("scheduled_completion", "original_risk_rating", "adjusted_risk_rating", "point_of_contact"):
            assert item[name] == PLACEHOLDER, (item["id"], name)  # no plan in the configuration: said so
    by_source = {i["source"]: i for i in items}
    assert by_source["Bedrock rule Bedrock-UnguardedInferencePath"]["deviation_type"] == "risk acceptance"
    assert by_source["Bedrock rule Bedrock-UnguardedInferencePath"]["deviation_status"] == "approved"
    replication = by_source["NIST.800.53.R5 rule NIST.800.53.R5-S3BucketReplicationEnabled"]
    assert (replication["deviation_type"], replication["deviation_status"]) == ("operational requirement", "proposed")
    assert replication["weakness_source_identifier"] == "NIST.800.53.R5-S3BucketReplicationEnabled"
    failed = next(i for i in items if i["kind"] == "not-satisfied" and i["controls"] == ["SC-12"])
    assert (failed["deviation_type"], failed["deviation_status"], failed["weakness_detector"]) == (
        "none", "none", "pack rule")


def test_the_oscal_poam_is_poam_json_validated_by_trestle(report: Path) -> None:
    """poam-oscal.json: the items of poam.json (same ids, no scoping row), FedRAMP's fields as props on every item,
    each item linked to its observation and risk; valid for trestle's POA&M model."""
    from trestle.oscal.poam import PlanOfActionAndMilestones

    from compliant_bedrock.evidence.poam_oscal import PROP_NAMES

    raw = _load(report / "poam-oscal.json")["plan-of-action-and-milestones"]
    model = PlanOfActionAndMilestones.model_validate(raw)
    assert "Pre-deployment evidence" in raw["metadata"]["remarks"]
    poam = _load(report / "poam.json")
    items = {i["id"]: i for i in poam["items"]}
    props = [{p["name"]: [q["value"] for q in entry["props"] if q["name"] == p["name"]] for p in entry["props"]}
             for entry in raw["poam-items"]]
    assert sorted(p["poam-id"][0] for p in props) == sorted(items)  # the same items, once each
    assert not {r["id"] for r in poam["scoping"]} & {p["poam-id"][0] for p in props}
    for entry_props in props:
        item = items[entry_props["poam-id"][0]]
        for field, name in PROP_NAMES.items():
            expected = item[field] if isinstance(item[field], list) else [item[field]]
            assert entry_props[name] == expected, (item["id"], name)
    observations = {o.uuid for o in model.observations}
    risks = {r.uuid: r for r in model.risks}
    for entry in model.poam_items:
        (seen,) = entry.related_observations
        (risk,) = entry.related_risks
        assert seen.observation_uuid in observations and risk.risk_uuid in risks
    # A risk is deviation-approved only where an approver accepted it; a justification is a requested deviation.
    expected = {"approved": "deviation-approved", "proposed": "deviation-requested", "none": "open"}
    risk_status = {r["uuid"]: r["status"] for r in raw["risks"]}
    for entry, entry_props in zip(raw["poam-items"], props, strict=True):
        item = items[entry_props["poam-id"][0]]
        assert risk_status[entry["related-risks"][0]["risk-uuid"]] == expected[item["deviation_status"]], item["id"]
    assert {"deviation-approved", "deviation-requested"} <= set(risk_status.values())
    frontier = next(e for e in raw["poam-items"] if {"name": "weakness-source-identifier", "ns": NS,
                                                      "value": "Bedrock-UnguardedInferencePath"} in e["props"]
                    and {"name": "environment", "ns": NS, "value": "frontier"} in e["props"])
    risk = next(r for r in raw["risks"] if r["uuid"] == frontier["related-risks"][0]["risk-uuid"])
    assert risk["status"] == "deviation-approved" and "RA-2026-017" in risk["statement"]


def test_assessment_results_record_every_gate_result_and_decision_and_the_matrix_statuses(
        report: Path, assembly: Path) -> None:
    """assessment-results.json: one result per environment; an observation per distinct rule result (rule, resource,
    compliance, reason) and per perimeter decision (request id, decision, deciding statements); a finding per control
    the matrix gives a status, satisfied only where the matrix says satisfied; valid for trestle's model."""
    from trestle.oscal.assessment_results import AssessmentResults

    raw = _load(report / "assessment-results.json")["assessment-results"]
    AssessmentResults.model_validate(raw)
    assert "Pre-deployment evidence" in raw["metadata"]["remarks"]
    stacks = read_assembly(assembly)
    labels = _labels(assembly)
    results = {next(p["value"] for p in r["props"] if p["name"] == "environment"): r for r in raw["results"]}
    assert set(results) == {s.environment for s in stacks}
    for stack in stacks:
        result = results[stack.environment]
        seen = {(tuple(p["value"] for p in o["props"] if p["name"] in ("pack", "rule", "resource", "compliance")),
                 o.get("remarks", "")) for o in result["observations"]
                if {"name": "stack", "ns": NS, "value": stack.name} in o["props"]}
        expected = {((f.pack, f.rule_id, f.resource, f.compliance), f.reason if f.reason not in (None, "N/A") else "")
                    for f in stack.findings}
        assert seen == expected, stack.name
        matrix = _matrix(report, labels[stack.name])
        found = {next(p["value"] for p in f["props"] if p["name"] == "control"): f for f in result.get("findings", [])
                 if {"name": "stack", "ns": NS, "value": stack.name} in f["props"]}
        judged = {c for c, e in matrix["controls"].items() if e["status"] != "not-assessed-by-automation"}
        assert set(found) == judged, stack.name
        for control, finding in found.items():
            status = matrix["controls"][control]["status"]
            state = finding["target"]["status"]["state"]
            assert (state == "satisfied") == (status == "satisfied-by-automated-check"), (control, status)
            assert {"name": "evidence-status", "ns": NS, "value": status} in finding["props"]
            assert finding["target"]["target-id"] == f"{matrix['controls'][control]['oscal_id']}_obj"
    # This module's synth runs no perimeter proof (test_assessment_results_carry_the_perimeter_proofs_decisions does).
    commercial = results["commercial"]
    assert not [o for o in commercial["observations"] if any(p["name"] == "request-id" for p in o["props"])]
    assert "no perimeter proof ran" in commercial["description"]


def test_assessment_results_carry_the_perimeter_proofs_decisions(fake_assembly: Path, tmp_path: Path) -> None:
    """With a perimeter document beside the evidence, its requests are observations of the environment's result,
    with the deciding statements, and the findings of the controls they cite link them."""
    from trestle.oscal.assessment_results import AssessmentResults

    proof = {"environment": "dev", "passed": True, "counts": {"as-expected": 1},
             "requests": [{"id": "workload.invoke[m1]", "decision": "denied", "verdict": "as-expected",
                           "expect": "deny", "controls": ["AU-11"], "principal": "workload",
                           "action": "bedrock:InvokeModel", "resource": "arn:aws:bedrock:::x",
                           "deciding": ["identity policy Invoke#DenyOthers", "endpoint policy E#Deny"]}]}
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "perimeter-dev.json").write_text(json.dumps(proof), encoding="utf-8")
    generate(fake_assembly, dest=tmp_path, settings={})
    raw = _load(tmp_path / "assessment-results.json")["assessment-results"]
    AssessmentResults.model_validate(raw)
    (result,) = raw["results"]
    (decision,) = [o for o in result["observations"] if any(p["name"] == "request-id" for p in o["props"])]
    assert [p["value"] for p in decision["props"] if p["name"] == "deciding-statement"] == proof["requests"][0]["deciding"]
    assert {"name": "decision", "ns": NS, "value": "denied"} in decision["props"]
    assert decision["origins"][0]["actors"][0]["actor-uuid"] in {c["uuid"] for c in result["local-definitions"]["components"]}
    au11 = next(f for f in result["findings"] if f["title"].startswith("AU-11 "))
    assert decision["uuid"] in {r["observation-uuid"] for r in au11["related-observations"]}
    failed = next(f for f in result["findings"] if f["title"].startswith("SC-12 "))  # key rotation failed
    assert failed["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    assert failed["target"]["implementation-status"] == {"state": "planned"}


def _oscal_catalog() -> dict:
    """The vendored NIST SP 800-53 r5 catalog (ids, titles, withdrawals) as an OSCAL catalog trestle resolves a profile
    against: a group per family, enhancements inside their base control, withdrawn ones marked so."""
    from compliant_bedrock.evidence.matrix import oscal_control_id

    data = json.loads((ROOT / "constructs/compliant_bedrock/evidence/data/nist-800-53-r5-catalog.json").read_text())
    controls: dict[str, dict] = {}
    families: dict[str, list[dict]] = {}
    for control_id, entry in data["controls"].items():
        oscal_id = oscal_control_id(control_id)
        control: dict = {"id": oscal_id, "title": entry["title"]}
        if entry.get("withdrawn"):
            control["props"] = [{"name": "status", "value": "withdrawn"}]
        else:
            control["parts"] = [{"id": f"{oscal_id}_smt", "name": "statement", "prose": entry["title"]}]
        controls[control_id] = control
        base = control_id.split("(")[0]
        if base != control_id:
            controls[base].setdefault("controls", []).append(control)
        else:
            families.setdefault(control_id.split("-")[0], []).append(control)
    metadata = {"title": data["source"]["title"], "last-modified": "2026-07-14T10:00:00Z", "version": "5",
                "oscal-version": "1.2.1"}
    return {"catalog": {"uuid": "5b0a39c4-7c58-4d0e-9a8e-4b1f1f0a4c11", "metadata": metadata, "groups": [
        {"id": family.lower(), "class": "family", "title": family, "controls": members}
        for family, members in sorted(families.items())]}}


def test_trestle_generates_and_assembles_an_ssp_from_the_component_definition(
        report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an assessor's tooling does with the component definition: in a trestle workspace with the NIST catalog and
    a profile of the controls it implements, ``trestle author ssp-generate`` writes the SSP's Markdown and
    ``ssp-assemble`` its OSCAL JSON, which ``trestle validate`` accepts; every environment's statement reaches the
    SSP under its component with its OSCAL implementation status. (trestle's CLI in-process: one import of trestle.)"""
    from trestle.cli import Trestle

    workspace = tmp_path / "workspace"  # a file to import must lie outside it

    def trestle(*args: str) -> None:
        assert Trestle().run([*args, "-tr", str(workspace)]) == 0, args

    workspace.mkdir()
    monkeypatch.chdir(workspace)
    assert Trestle().run(["init"]) == 0
    catalog = tmp_path / "nist-catalog.json"
    catalog.write_text(json.dumps(_oscal_catalog()), encoding="utf-8")
    trestle("import", "-f", str(catalog), "-o", "nist")
    trestle("import", "-f", str(report / "component-definition.json"), "-o", "bedrock")
    definition = _load(report / "component-definition.json")["component-definition"]
    statements = {(c["title"], r["control-id"]): (r["description"], next(
        p["value"] for p in r["props"] if p["name"] == "implementation-status"))
        for c in definition["components"] for ci in c.get("control-implementations", [])
        for r in ci["implemented-requirements"]}
    profile = {"profile": {"uuid": "0d9c5b7e-3f0a-4c61-8f4e-6a2b9c1d7e55", "metadata": {
        "title": "Controls the compliant-bedrock component definition implements",
        "last-modified": "2026-07-14T10:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "imports": [{"href": "trestle://catalogs/nist/catalog.json",
                     "include-controls": [{"with-ids": sorted({control for _, control in statements})}]}],
        "merge": {"as-is": True}}}
    (workspace / "profiles" / "bedrock").mkdir(parents=True)
    (workspace / "profiles" / "bedrock" / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    trestle("author", "ssp-generate", "-p", "bedrock", "-cd", "bedrock", "-o", "ssp-md")
    assert (workspace / "ssp-md" / "ac" / "ac-2.md").is_file()
    trestle("author", "ssp-assemble", "-m", "ssp-md", "-cd", "bedrock", "-o", "ssp-json")
    assembled = workspace / "system-security-plans" / "ssp-json" / "system-security-plan.json"
    trestle("validate", "-f", str(assembled))
    ssp = _load(assembled)["system-security-plan"]
    titles = {c["uuid"]: c["title"] for c in ssp["system-implementation"]["components"]}
    carried = {(titles[b["component-uuid"]], r["control-id"]): (b["description"], b["implementation-status"]["state"])
               for r in ssp["control-implementation"]["implemented-requirements"] for b in r.get("by-components", [])
               if titles[b["component-uuid"]] != "This System"}
    assert carried == statements


def test_each_environment_has_an_ssp_skeleton_trestle_validates(report: Path, assembly: Path) -> None:
    """ssp-<env>.json: every template resource in the inventory (type, logical id, construct path) and linked to the
    component it implements; by-component statements with OSCAL's status and the matrix's; AWS as the leveraged
    provider; what only the organization writes marked as a placeholder, never guessed."""
    from trestle.oscal.ssp import SystemSecurityPlan

    stacks = read_assembly(assembly)
    labels = _labels(assembly)
    component_definition = _load(report / "component-definition.json")["component-definition"]
    for env in sorted({s.environment for s in stacks}):
        raw = _load(report / f"ssp-{env}.json")["system-security-plan"]
        SystemSecurityPlan.model_validate(raw)
        assert "Pre-deployment evidence" in raw["metadata"]["remarks"]
        characteristics = raw["system-characteristics"]
        assert characteristics["system-name"].startswith(f"Placeholder ({PLACEHOLDER})")
        assert PLACEHOLDER in characteristics["system-information"]["information-types"][0]["title"]
        assert {"name": "fips-199-categorization", "ns": NS,
                "value": f"Placeholder ({PLACEHOLDER}): FIPS 199 security categorization"} in characteristics["props"]
        implementation = raw["system-implementation"]
        components = {c["uuid"]: c for c in implementation["components"]}
        assert {c["type"] for c in components.values()} >= {"this-system", "service"}
        aws = next(c for c in components.values() if c["title"].startswith("Amazon Web Services"))
        assert PLACEHOLDER in aws["description"] and aws["links"][0]["href"].startswith("https://marketplace.fedramp.gov")
        mine = [s for s in stacks if s.environment == env]
        inventory = {tuple(next(p["value"] for p in i["props"] if p["name"] == k) for k in
                           ("stack", "logical-id", "cloudformation-type", "construct-path")): i
                     for i in implementation["inventory-items"]}
        assert set(inventory) == {(s.name, r.logical_id, r.type, s.path(r.logical_id)) for s in mine
                                  for r in s.resources}
        by_id = {key[:2]: item for key, item in inventory.items()}
        parts = 0
        for component in components.values():
            part = next((p["value"] for p in component.get("props", []) if p["name"] == "component-id"), None)
            if part is None:
                continue
            parts += 1
            stack = next(s for s in mine if {"name": "stack", "ns": NS, "value": s.name} in component["props"])
            for logical_id in component_members(stack)[part]:  # each member resource names the component
                used = {u["component-uuid"] for u in by_id[(stack.name, logical_id)].get("implemented-components", [])}
                assert component["uuid"] in used, (env, part, logical_id)
        assert parts == len([c for c in component_definition["components"]
                             if {"name": "environment", "ns": NS, "value": env} in c["props"]])
        statuses = {(stack.name, c): e["status"] for stack in mine
                    for c, e in _matrix(report, labels[stack.name])["controls"].items()}
        for requirement in raw["control-implementation"]["implemented-requirements"]:
            for by in requirement["by-components"]:
                fine = next(p["value"] for p in by["props"] if p["name"] == "evidence-status")
                assert (fine, by["implementation-status"]["state"]) in (
                    ("satisfied-by-automated-check", "implemented"), ("partially-satisfied", "partial"),
                    ("risk-accepted", "partial")), (env, requirement["control-id"])
                stack = next(p["value"] for p in components[by["component-uuid"]]["props"] if p["name"] == "stack")
                control = next((c for (name, c), _ in statuses.items() if name == stack
                                and oscal_control_id(c) == requirement["control-id"]), None)
                assert control is None or statuses[(stack, control)] == fine, (env, requirement["control-id"])
                assert statuses.get((stack, control)) != "not-assessed-by-automation"


def test_the_configurations_poam_plan_replaces_the_placeholders(fake_assembly: Path, tmp_path: Path) -> None:
    """The organization's plan (``poam`` of the environment's settings, by item id) fills FedRAMP's fields; a plan
    for an id no item has is reported, not silently dropped."""
    from compliant_bedrock.evidence import report as evidence_report

    evidence_report.generate(fake_assembly, dest=tmp_path)
    items = _load(tmp_path / "poam.json")["items"]
    unguarded = next(i for i in items if i["source"] == "Bedrock rule Bedrock-UnguardedInferencePath")
    plan = {"point_of_contact": "ISSO, platform team",
            "items": {unguarded["id"]: {"scheduled_completion": "2027-03-31", "original_risk_rating": "High",
                                        "adjusted_risk_rating": "Moderate", "vendor_dependency": True,
                                        "milestones": [{"date": "2027-01-15", "description": "guardrail on Mantle"}]},
                      "POAM-0000000000": {"point_of_contact": "nobody"}}}
    _load.cache_clear()
    evidence_report.generate(fake_assembly, dest=tmp_path, poam_plans={"dev": plan})
    poam = _load(tmp_path / "poam.json")
    planned = next(i for i in poam["items"] if i["id"] == unguarded["id"])
    assert (planned["scheduled_completion"], planned["original_risk_rating"], planned["adjusted_risk_rating"]) == (
        "2027-03-31", "High", "Moderate")
    assert planned["milestones"] == ["2027-01-15: guardrail on Mantle"] and planned["vendor_dependency"] == "yes"
    assert planned["deviation_type"] == "vendor dependency" and planned["point_of_contact"] == "ISSO, platform team"
    other = next(i for i in poam["items"] if i["id"] != unguarded["id"])
    assert other["point_of_contact"] == "ISSO, platform team" and other["scheduled_completion"] == PLACEHOLDER
    assert poam["plans_without_item"] == ["dev: POAM-0000000000"]
    # ... and the OSCAL POA&M carries the plan: deadline, milestones as tasks, ratings as a characterization.
    from trestle.oscal.poam import PlanOfActionAndMilestones

    raw = _load(tmp_path / "poam-oscal.json")["plan-of-action-and-milestones"]
    PlanOfActionAndMilestones.model_validate(raw)
    (risk,) = [r for r in raw["risks"] if r["title"].startswith(unguarded["id"])]
    assert risk["deadline"] == "2027-03-31T00:00:00Z"
    (task,) = risk["remediations"][0]["tasks"]
    assert task["type"] == "milestone" and task["timing"]["on-date"]["date"] == "2027-01-15T00:00:00Z"
    assert {(f["name"], f["value"]) for f in risk["characterizations"][0]["facets"]} == {
        ("original-risk-rating", "High"), ("adjusted-risk-rating", "Moderate")}


def test_provenance_names_every_configuration_file_outside_the_checkout_apart(tmp_path: Path) -> None:
    """Two configuration files of one name in different directories outside the source checkout each keep their own
    digest (by name alone one would be lost, and which one depended on set order: two runs could differ)."""
    from compliant_bedrock.evidence.provenance import input_digests

    outdir, source, config = tmp_path / "cdk.out", tmp_path / "checkout", tmp_path / "config"
    (config / "organization").mkdir(parents=True)
    outdir.mkdir()
    source.mkdir()
    (config / "commercial.yaml").write_text("environment\n", encoding="utf-8")
    (config / "organization" / "commercial.yaml").write_text("organization\n", encoding="utf-8")
    files = [config / "organization" / "commercial.yaml", config / "commercial.yaml"]
    named = input_digests(outdir, [], files, source)["configuration"]
    assert named == {"commercial.yaml": hashlib.sha256(b"environment\n").hexdigest(),
                     "organization/commercial.yaml": hashlib.sha256(b"organization\n").hexdigest()}
    assert input_digests(outdir, [], files[::-1], source)["configuration"] == named


def test_a_perimeter_proof_is_cited_when_present(fake_assembly: Path, tmp_path: Path) -> None:
    """The perimeter proof (``perimeter-<env>.json``, written by its own tool) is optional input: cited with
    its sha256 when it is there, absent from the records when it is not."""
    generate(fake_assembly, dest=tmp_path, settings={})
    from compliant_bedrock.evidence.sdr import UNSET_EVIDENCE_BASE

    cited = {e["evidenceLocation"] for k in _load(tmp_path / "sdr-dev.json")["keySecurityIndicators"]
             for e in k["ksiEvidence"]}
    assert f"{UNSET_EVIDENCE_BASE}perimeter-dev.json" not in cited and f"{UNSET_EVIDENCE_BASE}matrix-dev.json" in cited
    proof = tmp_path / "perimeter-dev.json"
    proof.write_text(json.dumps({"environment": "dev", "passed": True, "counts": {"as-expected": 1},
                                 "requests": [{"id": "internet-to-runtime", "decision": "deny",
                                               "controls": ["SC-7"]}]}), encoding="utf-8")
    _load.cache_clear()
    generate(fake_assembly, dest=tmp_path, settings={})
    sdr = _load(tmp_path / "sdr-dev.json")
    assert next(e["evidenceText"] for k in sdr["keySecurityIndicators"] for e in k["ksiEvidence"]
            if e["evidenceLocation"] == f"{UNSET_EVIDENCE_BASE}perimeter-dev.json") == \
        "sha256 " + hashlib.sha256(proof.read_bytes()).hexdigest()
    assert [e.message for e in _sdr_validator().iter_errors(sdr)] == []
    assert proof.is_file()  # not ours: never removed as a stale file


def _git(repo: Path, *args: str) -> str:
    import os
    import subprocess

    dated = {**os.environ, "GIT_AUTHOR_DATE": "2026-07-14T10:00:00Z", "GIT_COMMITTER_DATE": "2026-07-14T10:00:00Z"}
    return subprocess.run(["git", "-c", "user.name=Evidence Test", "-c", "user.email=evidence@example.invalid",
                           "-c", "commit.gpgsign=false", "-C", str(repo), *args],
                          check=True, capture_output=True, text=True, env=dated).stdout.strip()


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    """A git checkout of its own with one configuration file committed (the tests need not run in a checkout)."""
    repo = tmp_path / "source"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "dev.yaml").write_text("name: dev\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "config/dev.yaml")
    _git(repo, "commit", "-q", "-m", "configuration")
    return repo


def test_provenance_names_commit_dirty_flag_tools_and_input_digests(fake_assembly: Path, source: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from compliant_bedrock.evidence import report as evidence_report

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    dest = tmp_path / "evidence"
    config = source / "config" / "dev.yaml"
    evidence_report.generate(fake_assembly, dest=dest, source_dir=source, config_files=[config])
    provenance = json.loads((dest / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["evidence_basis"].startswith("Pre-deployment evidence")
    assert provenance["source"]["commit"] == _git(source, "rev-parse", "HEAD")
    assert provenance["source"]["dirty"] is False
    committed = int(_git(source, "log", "-1", "--format=%ct"))
    assert provenance["timestamp"] == provenance["source"]["committed_at"] == "2026-07-14T10:00:00Z"
    assert provenance["timestamp_source"].startswith("time of commit") and committed > 0
    tools = provenance["tools"]
    assert {"compliant-bedrock", "aws-cdk-lib", "cdk-nag", "@cloud-copilot/iam-simulate", "cfn-lint",
            "compliance-trestle", "jsonschema", "python", "node"} <= set(tools)
    for name in ("aws-cdk-lib", "cdk-nag", "cfn-lint", "compliance-trestle", "jsonschema", "python"):
        assert tools[name]["version"] and tools[name]["role"], name
    assert tools["@cloud-copilot/iam-simulate"]["pinned"] and tools["@cloud-copilot/iam-simulate"]["version"] is None
    inputs = provenance["inputs"]["assembly"]
    for name in (f"{STACK}.template.json", "manifest.json", f"NIST.800.53.R5--{STACK}-NagReport.json"):
        assert inputs[name] == hashlib.sha256((fake_assembly / name).read_bytes()).hexdigest(), name
    assert provenance["inputs"]["configuration"] == {"config/dev.yaml": hashlib.sha256(config.read_bytes()).hexdigest()}
    digest = hashlib.sha256((dest / "provenance.json").read_bytes()).hexdigest()
    # Cited with its sha256 by the OSCAL document (back-matter), the SDR (metadata) and the summary.
    oscal = json.loads((dest / "component-definition.json").read_text())["component-definition"]
    (resource,) = oscal["back-matter"]["resources"]
    assert resource["rlinks"][0]["hashes"] == [{"algorithm": "SHA-256", "value": digest}]
    assert {"name": "source-commit", "ns": "urn:compliant-bedrock:oscal",
            "value": provenance["source"]["commit"]} in oscal["metadata"]["props"]
    assert oscal["metadata"]["last-modified"] == provenance["timestamp"]
    sdr = json.loads((dest / "sdr-dev.json").read_text())
    assert sdr["metadata"]["provenance"]["sha256"] == digest
    assert sdr["metadata"]["version"].endswith("+g" + provenance["source"]["commit"][:12])
    assert f"`provenance.json` (sha256 `{digest}`)" in (dest / "summary.md").read_text()
    # An uncommitted change is flagged, and the version says so.
    config.write_text("name: dev\nchanged: true\n", encoding="utf-8")
    evidence_report.generate(fake_assembly, dest=dest, source_dir=source, config_files=[config])
    provenance = json.loads((dest / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["source"]["dirty"] is True
    assert json.loads((dest / "sdr-dev.json").read_text())["metadata"]["version"].endswith(".dirty")


def test_the_evidence_date_is_the_epoch_or_the_commit_never_1970(fake_assembly: Path, source: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.provenance import ProvenanceError

    dest = tmp_path / "evidence"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    evidence_report.generate(fake_assembly, dest=dest, source_dir=source)
    provenance = json.loads((dest / "provenance.json").read_text())
    assert (provenance["timestamp"], provenance["timestamp_source"]) == ("2023-11-14T22:13:20Z", "SOURCE_DATE_EPOCH")
    # 0 (the Makefile's `|| echo 0` outside a checkout) is no date: the commit's time instead ...
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    evidence_report.generate(fake_assembly, dest=dest, source_dir=source)
    provenance = json.loads((dest / "provenance.json").read_text())
    assert provenance["timestamp"] == "2026-07-14T10:00:00Z" and "'0' is not a positive" in provenance["timestamp_source"]
    assert {e["lastUpdated"] for k in json.loads((dest / "sdr-dev.json").read_text())["keySecurityIndicators"]
            for e in k["ksiEvidence"]} == {"2026-07-14"}
    # ... and without a commit the evidence is refused, before any file is written.
    empty, nowhere = tmp_path / "not-a-checkout", tmp_path / "refused"
    empty.mkdir()
    for epoch in ("0", ""):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        with pytest.raises(ProvenanceError, match="never dated 1970-01-01"):
            evidence_report.generate(fake_assembly, dest=nowhere, source_dir=empty)
        assert not nowhere.exists() or not list(nowhere.iterdir())


def test_evidence_locations_are_built_on_the_configured_base_uri(fake_assembly: Path, tmp_path: Path) -> None:
    from compliant_bedrock.evidence import report as evidence_report

    base = "https://trust.example.gov/compliant-bedrock/2026-07-14"
    evidence_report.generate(fake_assembly, dest=tmp_path, evidence_base_uri=base,
                             package_overview_uri="https://trust.example.gov/package-overview.json")
    sdr = _load(tmp_path / "sdr-dev.json")
    locations = {e["evidenceLocation"] for k in sdr["keySecurityIndicators"] for e in k["ksiEvidence"]}
    assert locations and all(loc.startswith(base + "/") and (tmp_path / loc.removeprefix(base + "/")).is_file()
                             for loc in locations)
    assert sdr["metadata"]["provenance"]["location"] == f"{base}/provenance.json"
    assert [e.message for e in _sdr_validator().iter_errors(sdr)] == []
    for bad in ("./evidence/", "evidence", "https://trust.example.gov/x?y=1"):
        with pytest.raises(ValueError, match="not an absolute URI"):
            evidence_report.generate(fake_assembly, dest=tmp_path, evidence_base_uri=bad)
    with pytest.raises(ValueError, match="package overview URI"):
        evidence_report.generate(fake_assembly, dest=tmp_path, package_overview_uri="package-overview.json")


def test_organization_policies_are_drawn_around_the_account(fake_assembly: Path) -> None:
    from compliant_bedrock.evidence.diagram import build_scene, render_svg

    template_file = fake_assembly / f"{STACK}.template.json"
    body = json.loads(template_file.read_text(encoding="utf-8"))
    body["Resources"]["Scp"] = _tagged("AWS::Organizations::Policy", "Policies/ScpInference",
                                       {"Type": "SERVICE_CONTROL_POLICY", "Content": {}})
    template_file.write_text(json.dumps(body), encoding="utf-8")
    (stack,) = read_assembly(fake_assembly)
    scene = build_scene(stack)
    assert scene.accounted == len(stack.resources)
    org = next(b for b in scene.boxes if b.id == "org")
    assert org.lines == ["Policies/ScpInference (SERVICE_CONTROL_POLICY)"]
    region = next(b for b in scene.boxes if b.id == "region")
    assert org.x < region.x and org.y < region.y and org.y + org.h > region.y + region.h  # around the account
    helpers = next(b for b in scene.boxes if b.id == "helpers")
    assert not any("Organizations" in line for line in helpers.lines)  # drawn once, not also counted
    assert "not closed by the stack" in render_svg(scene)  # no default-SG custom resource in this template


def test_frontier_unguarded_path_is_risk_accepted_never_implemented(report: Path) -> None:
    """Mantle has no guardrail: SI-10 in the frontier environment carries the acceptance, not an implementation."""
    matrix = _matrix(report, "frontier")  # frontier's own stack keeps its name next to frontier-iam-events
    si10 = matrix["controls"]["SI-10"]
    assert si10["status"] == "risk-accepted"
    (unguarded,) = [r for r in si10["rules"] if r["rule"] == "Bedrock-UnguardedInferencePath"]
    # the workload's invoke policy and the developers' Codex policy (docs/codex.md), each under the acceptance
    assert [[p for p in ("CodexPolicy", "InvokePolicy") if p in row["resource"]]
            for row in sorted(unguarded["results"], key=lambda r: r["resource"])] == [["CodexPolicy"], ["InvokePolicy"]]
    for row in unguarded["results"]:
        assert row["result"] == "suppressed" and "accepted by AO for the frontier system" in row["reason"]
    document = _load(report / "component-definition.json")["component-definition"]
    for component in document["components"]:
        for implementation in component.get("control-implementations", []):
            if not any(p["name"] == "environment" and p["value"] == "frontier" for p in implementation["props"]):
                continue
            for requirement in implementation["implemented-requirements"]:
                if requirement["control-id"] == "si-10":
                    status = {p["name"]: p["value"] for p in requirement.get("props", [])}
                    assert "satisfied" not in str(status.get("evidence-status", "")), status
                    assert status["implementation-status"] != "implemented", status
    # The commercial environment serves GPT-5.6 through runtime Converse with the guardrail: not risk-accepted.
    assert _matrix(report, "commercial")["controls"]["SI-10"]["status"] != "risk-accepted"


def test_settings_sentences_are_checked_against_the_template() -> None:
    """An OSCAL statement from configuration states only values the environment's template contains."""
    from compliant_bedrock.evidence.facts import UNCONFIRMED, confirm_facts

    template = json.dumps({"Resources": {"Sg": {"Properties": {"CidrIp": "10.40.0.0/16"}},
                                         "Logs": {"Properties": {"RetentionInDays": 365}}}})
    facts = {"dev": {"private-link": ["Endpoint security group admits TCP 443 from 10.40.0.0/16 only.",
                                      "Endpoint security group admits TCP 443 from 10.99.0.0/16 only.",
                                      "VPC flow logs retained 365 days.", "VPC flow logs retained 731 days."]}}
    (ok, wrong_cidr, ok_days, wrong_days) = confirm_facts(facts, {"dev": template})["dev"]["private-link"]
    assert not ok.startswith(UNCONFIRMED) and not ok_days.startswith(UNCONFIRMED)
    assert wrong_cidr.startswith(UNCONFIRMED) and wrong_days.startswith(UNCONFIRMED)
    # no template for an environment: nothing to confirm against, sentences unchanged (and said elsewhere)
    assert confirm_facts(facts, {})["dev"] == facts["dev"]


def test_the_model_confirms_the_settings_sentences_whoever_writes_the_evidence(fake_assembly: Path,
                                                                               tmp_path: Path) -> None:
    """The gate at synth hands the library its settings' sentences unconfirmed: the model confirms them against the
    templates, so the component definition never states a CIDR the template lacks, on any path to the evidence."""
    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.facts import UNCONFIRMED

    facts = {"dev": {"private-link": ["Endpoint security group admits TCP 443 from 10.9.0.0/16 only.",
                                      "Endpoint security group admits TCP 443 from 10.99.0.0/16 only."]}}
    model = evidence_report.build_evidence(fake_assembly, dest=tmp_path, facts=facts)
    ok, wrong = model.facts["dev"]["private-link"]
    assert ok == facts["dev"]["private-link"][0] and wrong == UNCONFIRMED + facts["dev"]["private-link"][1]
    evidence_report.generate(fake_assembly, dest=tmp_path, facts=facts)
    text = (tmp_path / "component-definition.json").read_text(encoding="utf-8")
    assert UNCONFIRMED + "Endpoint security group admits TCP 443 from 10.99.0.0/16" in text
    assert text.count("10.99.0.0/16") == text.count(UNCONFIRMED + "Endpoint security group admits TCP 443 from 10.99")


# ---------------------------------------------------------------------------------------------
# Where prompts may be processed (cross-region inference destinations)


def _destinations(report: Path, env: str) -> dict[str, dict]:
    return {e["model"]: e for e in _load(report / f"matrix-{env}.json")["data_destinations"]}


def test_destinations_are_in_the_matrix_with_the_catalogs_source(report: Path) -> None:
    """commercial's GPT-5.6 Sol profile may run in Canada (UNCERTAIN per calling region, the model card cited);
    govcloud's us-gov. profile stays in GovCloud; frontier's Mantle models stay in us-east-2."""
    from compliant_bedrock.models import SRC_GOVCLOUD_BLOG, SRC_GPT56_SOL

    commercial = _destinations(report, "commercial")
    sol = commercial["us.openai.gpt-5.6-sol"]
    assert sol["source_region"] == "us-east-1" and sol["uncertain"] and sol["sources"] == [SRC_GPT56_SOL]
    assert sol["destinations"] == ["ca-central-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    assert "ca-central-1" in sol["outside_source_region"] and "ca-central-1" in sol["iam_regions"]
    assert commercial["openai.gpt-oss-120b-1:0"]["destinations"] == ["us-east-1"]
    gov = _destinations(report, "govcloud")["us-gov.openai.gpt-oss-20b-1:0"]
    assert gov["destinations"] == ["us-gov-east-1", "us-gov-west-1"] and not gov["uncertain"]
    assert gov["sources"] == [SRC_GOVCLOUD_BLOG] and gov["outside_source_region"] == ["us-gov-east-1"]
    frontier = _destinations(report, "frontier")
    assert set(frontier) == {"openai.gpt-5.5", "openai.gpt-5.4"}
    assert {(e["endpoint"], tuple(e["destinations"])) for e in frontier.values()} == {("bedrock-mantle", ("us-east-2",))}
    text = (report / "matrix-commercial.md").read_text(encoding="utf-8")
    section = text.split("## Where prompts may be processed (data destinations)", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith("| `us.openai.gpt-5.6-sol`"))
    assert "ca-central-1" in row and "UNCERTAIN" in row and SRC_GPT56_SOL in row


def test_destinations_outside_the_region_are_drawn_as_where_prompts_may_be_processed(report: Path,
                                                                                     assembly: Path) -> None:
    from compliant_bedrock.evidence.diagram import build_scene

    scenes = {_labels(assembly)[s.name]: build_scene(s) for s in read_assembly(assembly)}
    for env, outside, dashed in (("commercial", ["ca-central-1", "us-east-2", "us-west-1", "us-west-2"], True),
                                 ("govcloud", ["us-gov-east-1"], False)):
        scene = scenes[env]
        away = next(b for b in scene.boxes if b.id == "destinations")
        region = next(b for b in scene.boxes if b.id == "region")
        assert away.y > region.y + region.h  # outside this Region (and the boundary inside it)
        assert [n.title for n in away.nodes] == outside
        assert ("bedrock-runtime", "box:destinations", True) in {(e.src, e.dst, e.dashed == dashed) for e in scene.edges}
    ca = next(n for b in scenes["commercial"].boxes for n in b.nodes if n.id == "region:ca-central-1")
    assert ca.detail == "us.openai.gpt-5.6-sol (UNCERTAIN)"
    assert "Other AWS Regions where prompts and completions may be processed" in (
        report / "architecture-commercial.svg").read_text(encoding="utf-8")
    frontier = scenes["frontier"]
    assert not any(b.id == "destinations" for b in frontier.boxes)
    assert "inference stays in us-east-2: no model is routed elsewhere" in next(
        b for b in frontier.boxes if b.id == "aws").lines


def test_the_oscal_model_access_statement_names_the_destinations(report: Path) -> None:
    from compliant_bedrock.models import SRC_GPT56_SOL

    document = _load(report / "component-definition.json")["component-definition"]
    by_env = {next(p["value"] for p in ci["props"] if p["name"] == "environment"): ci
              for c in document["components"] if {"name": "component-id", "ns": "urn:compliant-bedrock:oscal",
                                                  "value": "model-access"} in c["props"]
              for ci in c["control-implementations"]}
    commercial = by_env["commercial"]
    assert ("Data leaves the region: prompts and completions may be processed outside us-east-1, in ca-central-1, "
            "us-east-2, us-west-1, us-west-2 (cross-region inference); the model catalog marks the destination regions "
            "of us.openai.gpt-5.6-sol UNCERTAIN.") in commercial["description"]
    assert SRC_GPT56_SOL in commercial["description"]
    assert {"name": "data-destination", "ns": "urn:compliant-bedrock:oscal",
            "value": "us.openai.gpt-5.6-sol: us-east-1 -> ca-central-1, us-east-1, us-east-2, us-west-1, us-west-2 "
                     "(UNCERTAIN)"} in commercial["props"]
    assert "outside us-gov-west-1, in us-gov-east-1 (cross-region inference)." in by_env["govcloud"]["description"]
    assert "Data stays in the region: every model this stack grants processes prompts in us-east-2 only." in by_env[
        "frontier"]["description"]


def test_destinations_are_never_invented(fake_assembly: Path) -> None:
    """A profile outside the catalog is UNCERTAIN with no source; a global. profile may run anywhere commercial."""
    from compliant_bedrock.evidence.destinations import data_destinations

    template_file = fake_assembly / f"{STACK}.template.json"
    body = json.loads(template_file.read_text(encoding="utf-8"))
    profile = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.example.model-1:0"
    body["Resources"]["Invoke"]["Properties"]["PolicyDocument"]["Statement"] = [
        {"Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": [
            profile, "arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.openai.gpt-5.6-sol"]},
        {"Effect": "Allow", "Action": "bedrock:InvokeModel",
         "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/example.model-1:0",
                      "arn:aws:bedrock:us-west-2::foundation-model/example.model-1:0"],
         "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}}},
        {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:eu-west-1::foundation-model/x.y"},
    ]
    template_file.write_text(json.dumps(body), encoding="utf-8")
    (stack,) = read_assembly(fake_assembly)
    found = {e["model"]: e for e in data_destinations(stack)}
    assert set(found) == {"us.example.model-1:0", "global.openai.gpt-5.6-sol"}  # a Deny grants nothing
    unknown = found["us.example.model-1:0"]
    assert unknown["uncertain"] and not unknown["verified"] and unknown["sources"] == []
    assert unknown["iam_regions"] == ["us-east-1", "us-west-2"] and "not in the catalog" in unknown["basis"]
    world = found["global.openai.gpt-5.6-sol"]
    assert world["destinations"] is None and world["outside_source_region"] is None


def test_accepted_deviations_are_poam_items(report: Path) -> None:
    """frontier's non-FIPS Mantle endpoint, commercial's accepted UNCERTAIN destinations and govcloud's accepted
    UNCERTAIN model id are POA&M items with the configuration's reason (and approver where it names one); the Mantle
    risk acceptance keeps its approver."""
    items = _load(report / "poam.json")["items"]
    (mantle,) = [i for i in items if i["environment"] == "frontier" and i["source"] == "configuration non_fips_endpoints"]
    # No approver named: a justification to review, not an accepted risk; AWS offers no FIPS endpoint for it.
    assert mantle["kind"] == "vendor-justification" and mantle["controls"] == ["SC-8(1)", "SC-13"]
    assert mantle["resource"] == "bedrock-mantle interface endpoint" and "not a FIPS endpoint" in mantle["weakness"]
    assert "non_fips_endpoints: [bedrock-mantle]" in mantle["reason"] and "accepted_by" not in mantle
    assert (mantle["deviation_type"], mantle["deviation_status"], mantle["vendor_dependency"]) == (
        "vendor dependency", "proposed", "yes")
    assert (mantle["weakness_detector"], mantle["weakness_source_identifier"]) == ("configuration", "non_fips_endpoints")
    unguarded = [i for i in items if i["environment"] == "frontier"
                 and i["source"] == "Bedrock rule Bedrock-UnguardedInferencePath"]
    assert [[p for p in ("CodexPolicy", "InvokePolicy") if p in i["resource"]]  # the workload's and Codex's grants
            for i in sorted(unguarded, key=lambda i: i["resource"])] == [["CodexPolicy"], ["InvokePolicy"]]
    for item in unguarded:
        assert item["accepted_by"] == "AO for the frontier system" and "RA-2026-017" in item["reason"]
    (uncertain,) = [i for i in items if i["source"] == "configuration accept_uncertain_destinations"]
    assert uncertain["environment"] == "commercial" and uncertain["resource"] == "us.openai.gpt-5.6-sol"
    assert uncertain["accepted_by"] == "AO for the commercial system, risk acceptance RA-2026-021"
    assert "ca-central-1" in uncertain["weakness"] and "UNCERTAIN" in uncertain["weakness"]
    assert uncertain["controls"] == ["AC-4", "SA-9(5)"] and uncertain["baselines"] == ["moderate", "high"]
    assert (uncertain["kind"], uncertain["deviation_type"], uncertain["deviation_status"]) == (
        "risk-accepted", "risk acceptance", "approved")
    # strict by default on model ids: govcloud's UNCERTAIN us-gov. profile id runs only as an accepted deviation
    (unverified,) = [i for i in items if i["environment"] == "govcloud" and i["source"].startswith("configuration")]
    assert (unverified["source"], unverified["resource"]) == ("configuration accept_unverified_models",
                                                              "us-gov.openai.gpt-oss-20b-1:0")
    assert unverified["accepted_by"] == "AO for the GovCloud system, risk acceptance RA-2026-022"
    assert "UNCERTAIN" in unverified["weakness"] and "list-inference-profiles" in unverified["reason"]
    assert (unverified["kind"], unverified["deviation_type"]) == ("risk-accepted", "risk acceptance")
    rows = (report / "poam.csv").read_text(encoding="utf-8")
    assert mantle["id"] in rows and uncertain["id"] in rows
# Honest statuses: the control-objective map, unchecked resources, UNKNOWN, the perimeter proof


def test_the_objective_map_agrees_with_the_vendored_catalog_and_the_control_table() -> None:
    """Every id of the map and of the control table exists in SP 800-53 r5 and is not withdrawn (unless it is in
    the map's withdrawn -> replacement table); every withdrawn id a rule cites is in that table; a control a
    template can show whole names its satisfying checks, and only Bedrock rules and perimeter families do."""
    import yaml

    from compliant_bedrock.compliance.pack import RULES
    from compliant_bedrock.evidence.matrix import rule_specs
    from compliant_bedrock.evidence.objectives import PERIMETER, catalog
    from compliant_bedrock.evidence.responsibility import control_table

    ids = catalog()["controls"]
    assert catalog()["count"] == len(ids) == 1189 and catalog()["withdrawn"] == 180
    assert ids["AC-3(1)"]["incorporated_into"] == ["AC-6"]
    requests = {r["id"] for r in yaml.safe_load((ROOT / "constructs/compliant_bedrock/compliance/perimeter/"
                                                        "requests.yaml").read_text(encoding="utf-8"))["requests"]}
    objectives = objective_map()
    for row in objectives.rows:
        assert row.control in ids, row
        if row.kind == "withdrawn":
            assert "withdrawn" in ids[row.control] and set(row.checks) <= set(ids[row.control]["incorporated_into"])
            assert all(c in ids and "withdrawn" not in ids[c] for c in row.checks), row
            continue
        assert "withdrawn" not in ids[row.control], row
        for check in row.checks:
            if check.startswith(PERIMETER):
                prefix = check.removeprefix(PERIMETER)
                assert prefix.startswith("attack") or any(r == prefix or r.startswith(prefix + ".") for r in requests)
            else:
                assert check in RULES, row
    cited = {c for spec in rule_specs().values() for c in spec.controls}
    assert cited <= set(ids)
    assert {c for c in cited if "withdrawn" in ids[c]} == set(objectives.withdrawn) == {"AC-3(1)", "SC-7(2)"}
    table = control_table()
    for match in table:
        if re.fullmatch(r"[A-Z]{2}-\d+(\(\d+\))?", match):
            assert match in ids and "withdrawn" not in ids[match], match
    template = {m for m, info in table.items() if info.scope == "template"}
    assert template and template <= set(objectives.satisfiers), template - set(objectives.satisfiers)
    assert all(control_info(c).scope == "outside" for c in objectives.never)
    assert all(control_info(c).scope != "outside" for c in objectives.satisfiers)
    for b in baseline_data()["baselines"].values():  # the FedRAMP profiles select no withdrawn control
        assert all(x in ids and "withdrawn" not in ids[x] for x in map(_catalog_id, b["controls"]))


def _catalog_id(oscal_id: str) -> str:
    from compliant_bedrock.evidence.baselines import catalog_to_control

    return catalog_to_control(oscal_id)


@pytest.mark.parametrize(("row", "error"), [
    ("AU-9\t-\tsatisfy\tNIST.800.53.R5-CloudTrailLogFileValidationEnabled\tcdk-nag's rule tests log-file validation well",
     "cdk-nag's citations only support"),
    ("AC-4*\t-\tsatisfy\tBedrock-EndpointPrivateDns\ta wildcard would claim every enhancement at once", "no families"),
    ("AU-9\t-\tsatisfy\tBedrock-AuditBucketObjectLock\tshort", "reason of at least six words"),
    ("AC-3(1)\t-\twithdrawn\t-\tSP 800-53 r5 withdrew it into another control", "names the controls that replaced"),
])
def test_the_objective_map_refuses_rows_an_assessor_could_not_accept(row: str, error: str) -> None:
    from compliant_bedrock.evidence.objectives import parse_objectives

    with pytest.raises(ValueError, match=re.escape(error)):
        parse_objectives("control\tpart\tkind\tchecks\treason\n" + row + "\n")


def test_withdrawn_and_never_controls_are_never_claimed_in_a_fresh_synth(report: Path, assembly: Path) -> None:
    objectives = objective_map()
    for env in _envs(assembly).values():
        controls = _matrix(report, env)["controls"]
        assert "AC-3(1)" in controls  # cdk-nag still cites it: the check below has something to refuse
        for control, item in controls.items():
            if control in objectives.withdrawn:
                assert item["status"] == "not-assessed-by-automation", (env, control)
                assert item["withdrawn"]["replaced_by"] == list(objectives.withdrawn[control][0])
                for replacement in item["withdrawn"]["replaced_by"]:  # its checks count for what replaced it
                    refs = {r["rule"]: r for r in controls[replacement]["rules"]}
                    assert {r["rule"] for r in item["rules"]} <= set(refs), (env, replacement)
                    assert all(refs[r["rule"]]["role"] == "supports" for r in item["rules"]), (env, replacement)
            if control in objectives.never or control_info(control).scope == "outside":
                assert item["status"] not in CLAIMED, (env, control, item["status"])
    document = _load(report / "component-definition.json")["component-definition"]
    listed = {r["control-id"] for c in document["components"] for ci in c.get("control-implementations", [])
              for r in ci["implemented-requirements"]}
    assert not listed & {oscal_control_id(c) for c in (*objectives.never, *objectives.withdrawn)}


def test_frontier_flows_around_the_guardrail_are_accepted_never_satisfied(report: Path) -> None:
    """Mantle bypasses the guardrail: AC-4 (information flow) carries the AO's acceptance like SI-10, and SI-10(1)
    never outranks its base; commercial, without that path, claims AC-4 and never accepts anything."""
    frontier, commercial = _matrix(report, "frontier")["controls"], _matrix(report, "commercial")["controls"]
    for control in ("AC-4", "SI-10", "SI-10(1)"):
        assert frontier[control]["status"] == "risk-accepted", (control, frontier[control]["why"])
    assert frontier["AC-4"]["accepted_risks"][0]["rule"] == "Bedrock-UnguardedInferencePath"
    assert "accepted_by" in frontier["AC-4"]["accepted_risks"][0]
    assert "base control SI-10" in frontier["SI-10(1)"]["why"]
    assert commercial["AC-4"]["status"] == "satisfied-by-automated-check"
    assert commercial["SI-10(1)"]["status"] == "not-assessed-by-automation"
    assert not any(item["status"] == "risk-accepted" for item in commercial.values())


def test_unchecked_resources_are_listed_and_cap_what_they_would_feed(report: Path, assembly: Path) -> None:
    """CDK's custom-resource provider (a plain CfnResource) gets no line from any cdk-nag rule: the matrix names it,
    and every control its rules would have fed stays below satisfied (AC-3 and AC-6 pass every satisfying check)."""
    provider = "Custom::VpcRestrictDefaultSGCustomResourceProvider"
    stacks = {s.name: s for s in read_assembly(assembly)}
    reported = {(f.stack, stacks[f.stack].logical_id(f.resource)) for f in read_findings(assembly)}
    for stack_name, env in _envs(assembly).items():
        if not env.startswith(("commercial", "govcloud", "frontier")):
            continue
        matrix = _matrix(report, env)
        unchecked = {u["label"]: u for u in matrix["unchecked_resources"]}
        assert set(unchecked) == {f"{provider}/Handler", f"{provider}/Role"}, env
        assert unchecked[f"{provider}/Handler"]["type"] == "AWS::Lambda::Function"
        assert "NIST.800.53.R5-LambdaDLQ" in unchecked[f"{provider}/Handler"]["rules"]
        assert "NIST.800.53.R5-IAMNoInlinePolicy" in unchecked[f"{provider}/Role"]["rules"]
        assert not {(stack_name, u["logical_id"]) for u in unchecked.values()} & reported
        fed = {c for u in unchecked.values() for rule in u["rules"] for c in matrix["rules"][rule]["controls"]}
        for control in fed & set(matrix["controls"]):
            item = matrix["controls"][control]
            assert item["status"] != "satisfied-by-automated-check", (env, control)
            assert item["unchecked"], (env, control)
        for control in ("AC-3", "AC-6"):
            item = matrix["controls"][control]
            if item["status"] == "risk-accepted":  # frontier: the AO's acceptance comes first
                continue
            assert item["status"] == "partially-satisfied", (env, control)
            assert f"never saw {provider}/Role" in item["why"] and "no check that can satisfy it" not in item["why"]


def _report_lines(assembly: Path, pack: str) -> tuple[Path, dict]:
    path = assembly / f"{pack}--{STACK}-NagReport.json"
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_an_unknown_result_never_satisfies(fake_assembly: Path, tmp_path: Path) -> None:
    """A rule that could not evaluate (UNKNOWN) has not shown anything: AU-11, satisfied by Object Lock, is not
    satisfied once another of its checks is UNKNOWN; the same holds for a supporting rule."""
    path, report = _report_lines(fake_assembly, "Bedrock")
    report["lines"].append({"ruleId": "Bedrock-AuditObjectLockCompliance", "resourceId": "Bucket", "compliance": "UNKNOWN",
                            "exceptionReason": "N/A", "ruleLevel": "Error",
                            "ruleInfo": "Object Lock mode not COMPLIANCE - (Control IDs: AU-9, AU-11)."})
    path.write_text(json.dumps(report), encoding="utf-8")
    generate(fake_assembly, dest=tmp_path, settings={})
    controls = _matrix(tmp_path, "dev")["controls"]
    assert controls["AU-11"]["status"] == "not-satisfied"
    assert "Could not be evaluated (UNKNOWN): Bedrock-AuditObjectLockCompliance" in controls["AU-11"]["why"]
    assert controls["AU-11(1)"]["status"] == "not-satisfied"  # an enhancement never outranks its base
    poam = _load(tmp_path / "poam.json")
    assert any(i["kind"] == "not-satisfied" and i["controls"] == ["AU-11"] for i in poam["items"])


def test_only_a_check_the_map_names_can_satisfy(fake_assembly: Path, tmp_path: Path) -> None:
    """cdk-nag's citations support, never satisfy: AU-10 (a template can show it whole) has only cdk-nag results
    in the hand-written assembly, so it is partial; AU-11 has its Bedrock satisfier and is satisfied."""
    generate(fake_assembly, dest=tmp_path, settings={})
    controls = _matrix(tmp_path, "dev")["controls"]
    assert control_info("AU-10").scope == "template"
    assert {r["rule"].split("-")[0] for r in controls["AU-10"]["rules"] if r.get("results")} == {"NIST.800.53.R5"}
    assert controls["AU-10"]["status"] == "partially-satisfied"
    assert "no check that can satisfy it passed" in controls["AU-10"]["why"]
    assert controls["AU-11"]["status"] == "satisfied-by-automated-check"


def test_a_resource_no_pack_reported_on_caps_what_its_rules_would_feed(fake_assembly: Path, tmp_path: Path) -> None:
    """A log group cdk-nag never reported on (a plain CfnResource) feeds AU-11 through the retention rule: AU-11 is
    satisfied without it (previous test) and partial with it, naming the resource."""
    template_file = fake_assembly / f"{STACK}.template.json"
    body = json.loads(template_file.read_text(encoding="utf-8"))
    body["Resources"]["Orphan"] = _tagged("AWS::Logs::LogGroup", "Provider/Logs", {"RetentionInDays": 1})
    template_file.write_text(json.dumps(body), encoding="utf-8")
    generate(fake_assembly, dest=tmp_path, settings={})
    matrix = _matrix(tmp_path, "dev")
    (orphan,) = matrix["unchecked_resources"]
    assert orphan["label"] == "Provider/Logs" and "NIST.800.53.R5-CloudWatchLogGroupRetentionPeriod" in orphan["rules"]
    au11 = matrix["controls"]["AU-11"]
    assert au11["status"] == "partially-satisfied" and au11["unchecked"] == ["Provider/Logs"]
    assert "never saw Provider/Logs" in au11["why"]


def test_a_failed_control_makes_its_ksi_not_implemented(fake_assembly: Path, tmp_path: Path) -> None:
    """KSI-IAM-ELP maps CM-9 (key rotation failed on it) and SI-3 (partially satisfied): a KSI with a failed
    control is Not Implemented, never Partially Implemented, whatever else of it is claimed."""
    generate(fake_assembly, dest=tmp_path, settings={})
    controls = _matrix(tmp_path, "dev")["controls"]
    assert controls["CM-9"]["status"] == "not-satisfied" and controls["SI-3"]["status"] in CLAIMED
    sdr = _load(tmp_path / "sdr-dev.json")
    ksi = next(k for k in sdr["keySecurityIndicators"] if k["ksiId"] == "KSI-IAM-ELP")
    assert ksi["ksiImplementationStatus"] == "Not Implemented"
    assert [e.message for e in _sdr_validator().iter_errors(sdr)] == []


def test_perimeter_outcomes_feed_the_statuses_the_poam_and_the_gate_controls(fake_assembly: Path,
                                                                             tmp_path: Path) -> None:
    """The environment's proof is a check like a rule: an as-expected family satisfies AC-6 (a vendor-justified
    suppression on a deploy-time function does not downgrade it), an open path fails AC-3 and takes the gate's
    own controls off (report-only or not), an accepted path is a risk acceptance with its approver and expiry."""
    nist, report = _report_lines(fake_assembly, "NIST.800.53.R5")
    for line in report["lines"]:  # the rules pass: the gate fails on the perimeter alone
        line["compliance"] = "Compliant" if line["compliance"] == "Non-Compliant" else line["compliance"]
    report["lines"] += [
        _nist_line("LambdaInsideVPC", "Handler/Resource", "Suppressed",
                   "This deploy-time function runs outside a VPC by design: it holds no data and has no inbound path"),
        _nist_line("LambdaDLQ", "Handler/Resource", "Compliant")]
    nist.write_text(json.dumps(report), encoding="utf-8")
    template_file = fake_assembly / f"{STACK}.template.json"
    body = json.loads(template_file.read_text(encoding="utf-8"))
    body["Resources"]["Handler"] = _tagged("AWS::Lambda::Function", "Handler/Resource")
    template_file.write_text(json.dumps(body), encoding="utf-8")
    tmp_path.mkdir(exist_ok=True)

    def request(request_id: str, verdict: str, controls: list[str], **extra: str) -> dict:
        return {"id": request_id, "verdict": verdict, "controls": controls, "rationale": "test", **extra}

    (tmp_path / "perimeter-dev.json").write_text(json.dumps({"environment": "dev", "passed": False, "requests": [
        request("workload.invoke[m1]", "as-expected", ["AC-6"]),
        request("workload.invoke.no-guardrail[m1]", "open", ["AC-3", "SI-10"]),
        request("user.api-key.create", "accepted", ["IA-5", "AC-17"], accepted_reason="API keys are needed by the "
                "batch tool until it moves to roles", accepted_by="AO, risk acceptance RA-2027-001",
                accepted_until="2027-03-31")], "counts": {}}), encoding="utf-8")
    generate(fake_assembly, dest=tmp_path, settings={})
    matrix = _matrix(tmp_path, "dev")
    controls = matrix["controls"]
    assert controls["AC-6"]["status"] == "satisfied-by-automated-check", controls["AC-6"]["why"]
    assert [j["rule"] for j in controls["AC-6"]["vendor_justifications"]] == ["NIST.800.53.R5-LambdaInsideVPC"]
    assert controls["AC-3"]["status"] == "not-satisfied"
    assert "Failed: perimeter:workload.invoke.no-guardrail on workload.invoke.no-guardrail[m1]" in controls["AC-3"]["why"]
    assert matrix["gate"]["passed"] is False and "open perimeter path" in matrix["gate"]["failed"]
    for control in ("CA-7", "CM-6"):
        assert controls[control]["status"] == "not-satisfied", control
        assert "open perimeter path" in controls[control]["why"]
    assert controls["IA-5"]["status"] == "risk-accepted"
    assert controls["IA-5"]["accepted_risks"][0]["accepted_by"] == "AO"
    document = _load(tmp_path / "component-definition.json")["component-definition"]
    gates = [c for c in document["components"] if any(p["value"] == "compliance-gate" for p in c["props"])]
    listed = {r["control-id"] for gate in gates for ci in gate.get("control-implementations", [])
              for r in ci["implemented-requirements"]}
    assert not listed & {"ca-7", "cm-6", "sa-11", "sa-11.1"}
    poam = _load(tmp_path / "poam.json")
    (path,) = [i for i in poam["items"] if i["source"] == "perimeter proof request user.api-key.create"]
    assert path["kind"] == "risk-accepted" and path["controls"] == ["AC-17", "IA-5"]
    assert path["accepted_by"] == "AO, risk acceptance RA-2027-001" and path["accepted_until"] == "2027-03-31"
    assert any(i["kind"] == "not-satisfied" and i["controls"] == ["AC-3"] for i in poam["items"])


# ---------------------------------------------------------------------------------------------
# One model, many renderers (#22 item 9)


def _canonical(model) -> bytes:
    """The model's data as bytes, to show rendering leaves it as it was."""
    import orjson

    return orjson.dumps({
        "stacks": [(s.name, s.file_name, s.environment, s.matrix, [f.__dict__ for f in s.evidence.findings])
                   for s in model.stacks],
        "perimeter": {env: p.document for env, p in model.perimeter.items()}, "facts": model.facts,
        "unverified": model.unverified, "deviations": model.deviations, "plans": model.poam_plans,
        "provenance": model.provenance, "cited": model.cited_provenance}, option=orjson.OPT_SORT_KEYS)


def test_every_renderer_is_a_pure_function_of_the_model(fake_assembly: Path, tmp_path: Path) -> None:
    """Rendering reads nothing but the model: the same model renders the same bytes twice, leaves the model as it
    was, and the writer writes exactly what the renderers returned (plus each stack's and the proof's files)."""
    import dataclasses

    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.render import RENDERERS, Manifest

    model = evidence_report.build_evidence(fake_assembly, dest=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.stacks = ()  # type: ignore[misc]
    before = _canonical(model)
    manifest = Manifest({}, {})
    first = [r.render(model, manifest) for r in RENDERERS]
    assert [r.render(model, manifest) for r in RENDERERS] == first
    assert _canonical(model) == before
    assert len({name for files in first for name in files}) == sum(len(files) for files in first)  # one owner each
    written = {p.name for p in evidence_report.generate(fake_assembly, dest=tmp_path)}
    rendered = {name for files in first for name in files}
    assert rendered <= written and {"matrix-dev.json", "provenance.json", "index.md"} <= written
    assert (tmp_path / "component-definition.json").read_text(encoding="utf-8") == next(
        files for files in first if "component-definition.json" in files)["component-definition.json"]


def test_the_writer_removes_what_a_renderer_owns_and_did_not_render(fake_assembly: Path, tmp_path: Path) -> None:
    """A file an earlier synth rendered that this one did not (an OSCAL POA&M without items, an SSP of an environment
    that left) would pass for current evidence; a file no renderer owns is not touched."""
    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.render import Renderer
    from compliant_bedrock.evidence.write import write_evidence

    model = evidence_report.build_evidence(fake_assembly, dest=tmp_path)
    for name in ("notes-old.txt", "notes-kept.txt", "ssp-gone.json", "operator-notes.md"):
        (tmp_path / name).write_text("earlier\n", encoding="utf-8")
    notes = Renderer("notes", lambda m, w: {"notes-kept.txt": f"{len(m.stacks)} stacks\n"}, ("notes-*.txt",))
    written = {p.name for p in write_evidence(model, tmp_path, (notes,))}
    assert "notes-kept.txt" in written and (tmp_path / "notes-kept.txt").read_text(encoding="utf-8") == "1 stacks\n"
    assert not (tmp_path / "notes-old.txt").exists() and not (tmp_path / "ssp-gone.json").exists()
    assert (tmp_path / "operator-notes.md").exists() and (tmp_path / "matrix-dev.json").exists()


def test_supporting_engines_join_the_model_only_when_their_file_exists(fake_assembly: Path, tmp_path: Path) -> None:
    """A supporting engine (cfn-guard) is one reader in SUPPORTING_READERS: without its file there is no observation
    (never an empty claim of a run); with it, its observations are in the model, sorted, and index.md counts them."""
    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.build import read_supporting
    from compliant_bedrock.evidence.index import evidence_counts
    from compliant_bedrock.evidence.model import SupportingObservation
    from compliant_bedrock.evidence.render import poam_of

    def reader(outdir: Path) -> list[SupportingObservation]:
        assert outdir == fake_assembly
        return [SupportingObservation("cfn-guard", "CT.KMS.PR.1", STACK, "Key", "fail", message="rotation off"),
                SupportingObservation("cfn-guard", "CT.S3.PR.1", STACK, "Bucket", "pass")]

    readers = (("compliance/cfn-guard.json", reader),)
    assert read_supporting(fake_assembly, readers) == ()
    from compliant_bedrock.evidence.build import SUPPORTING_READERS

    assert [file for file, _ in SUPPORTING_READERS] == ["compliance/cfn-guard.json"]  # cfn-guard joins the model
    (fake_assembly / "compliance").mkdir()
    (fake_assembly / "compliance" / "cfn-guard.json").write_text("{}\n", encoding="utf-8")
    found = read_supporting(fake_assembly, readers)
    assert [(o.resource, o.result) for o in found] == [("Bucket", "pass"), ("Key", "fail")]  # sorted: deterministic
    model = evidence_report.build_evidence(fake_assembly, dest=tmp_path)
    import dataclasses

    rows = dict(evidence_counts(dataclasses.replace(model, supporting=found), poam_of(model)))
    assert rows["Supporting observations (cfn-guard)"] == "2: 1 fail, 1 pass"
    assert dict(evidence_counts(model, poam_of(model)))["Supporting observations"].startswith("none")
    # cfn-guard's records (compliance.cfn_guard.GuardResult's fields) become observations, skips without a resource
    from types import SimpleNamespace

    from compliant_bedrock.evidence.build import guard_observations

    record = {"template": "t.json", "stack": STACK, "construct_path": None, "message": "m", "nist": []}
    failed, skipped = guard_observations([
        SimpleNamespace(**record, rule="ct_kms_pr_1", control_id="CT.KMS.PR.1", resource="Key", status="fail",
                        triage_verdict="false-positive", triage_reason="CDK's own provider key"),
        SimpleNamespace(**record, rule="ct_s3_pr_2", control_id="CT.S3.PR.2", resource=None, status="skip",
                        triage_verdict=None, triage_reason=None)])
    assert (failed.rule, failed.result, failed.triage) == ("CT.KMS.PR.1 (ct_kms_pr_1)", "fail",
                                                           "false-positive: CDK's own provider key")
    assert (skipped.resource, skipped.result, skipped.controls, skipped.triage) == ("", "skip", (), "")


def test_the_index_says_who_opens_what_with_counts_from_the_files(fake_assembly: Path, tmp_path: Path) -> None:
    """index.md names each present file's readers, and every figure it states is the written files' own."""
    from compliant_bedrock.evidence import report as evidence_report
    from compliant_bedrock.evidence.index import COUNTS_END, COUNTS_START

    evidence_report.generate(fake_assembly, dest=tmp_path)
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "Pre-deployment evidence" in index and index.count(COUNTS_START) == index.count(COUNTS_END) == 1
    rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", index.split(COUNTS_START)[1], re.M))
    matrix = _load(tmp_path / "matrix-dev.json")
    poam = _load(tmp_path / "poam.json")
    statuses = [c["status"] for c in matrix["controls"]]
    assert rows["Control statuses (control x stack)"].startswith(f"{len(statuses)}: ")
    for status in set(statuses):
        assert f"{statuses.count(status)} {status}" in rows["Control statuses (control x stack)"]
    assert rows["POA&M items (by kind)"].startswith(f"{len(poam['items'])}: ")
    assert rows["POA&M scoping rows (controls automation did not show)"] == str(len(poam["scoping"]))
    findings = read_findings(fake_assembly)
    assert rows["Rule results (all packs, all stacks)"].startswith(f"{len(findings)}: ")
    assert rows["Perimeter proof"].startswith("not run")
    guide = index.split("## Counts")[0]
    assert "| `component-definition.json` | assessor / 3PAO, FedRAMP package |" in guide
    assert "| `poam.csv` | security administrator, FedRAMP package |" in guide
    assert "findings.json" not in guide  # not written here (the gate writes it): not listed


def test_a_verification_gives_the_matrix_a_verified_column_and_each_contradiction_a_poam_item(
        assembly: Path, report: Path, tmp_path: Path) -> None:
    """make verify's results (verified-<env>.json, as infra.verify writes them) rendered with the synth's evidence:
    a confirmed claim marks its controls "confirmed", a contradicted one "contradicted" and files a POA&M item
    detected on the collection date; statuses never change; without a verification, no column at all."""
    import shutil

    from infra.verify import Verification, stack_of, write_evidence
    from infra.verify_checks import CONFIRMED, CONTRADICTED, Claim

    shutil.copytree(report, tmp_path / "compliance")
    trail = Claim("trail AuditTrailC93518EF", "IsLogging", CONTRADICTED, True, False)
    key = Claim("key AuditTrailKeyA4D56A7A", "KeyPolicy", CONFIRMED, note="every statement as synthesized")
    logging = Claim("invocation logging", "loggingConfig.textDataDeliveryEnabled", CONFIRMED)  # AU-2, AU-12 too
    scp = Claim("SERVICE_CONTROL_POLICY compliant-bedrock-inference in CompliantBedrock-organization-commercial",
                "attached to ou-exam-bedrock1", CONFIRMED)
    assert stack_of(scp, "CompliantBedrock-commercial") == "CompliantBedrock-organization-commercial"
    assert stack_of(trail, "CompliantBedrock-commercial") == "CompliantBedrock-commercial"
    result = Verification("commercial", "CompliantBedrock-commercial", "us-east-1", "2026-12-07T06:00:00Z",
                          {"Arn": "arn:aws:sts::111122223333:assumed-role/compliant-bedrock-verify/weekly",
                           "Account": "111122223333"}, [trail, key, scp, logging])
    write_evidence(tmp_path, result)
    before = _load(report / "matrix-commercial.json")
    generate(assembly, dest=tmp_path / "compliance")
    matrix = json.loads((tmp_path / "compliance" / "matrix-commercial.json").read_text())
    controls = {item["control"]: item for item in matrix["controls"]}
    assert [item["status"] for item in matrix["controls"]] == [item["status"] for item in before["controls"]]
    # the trail (AU-2, AU-9, AU-12) contradicted outranks the logging confirmed (AU-2, AU-12)
    assert controls["AU-2"]["verified_in_account"]["status"] == "contradicted"
    assert controls["AU-2"]["verified_in_account"]["confirmed"] == 1
    assert controls["AU-2"]["verified_in_account"]["contradicted"] == ["trail AuditTrailC93518EF IsLogging"]
    assert controls["SC-28"]["verified_in_account"] == {  # the key: SC-12, SC-28
        "status": "confirmed", "collected_at": "2026-12-07T06:00:00Z", "confirmed": 1, "contradicted": []}
    assert matrix["verified_in_account"][0]["collected_by"].endswith("assumed-role/compliant-bedrock-verify/weekly")
    markdown = (tmp_path / "compliance" / "matrix-commercial.md").read_text()
    assert "| Verified in account |" in markdown and "contradicted 2026-12-07T06:00:00Z (1)" in markdown
    assert "Verified in account" not in (report / "matrix-commercial.md").read_text()
    # the organization stack's claim marks its own matrix, not the environment's
    assert "AC-6" not in {c for c, i in controls.items() if i.get("verified_in_account", {}).get("confirmed")}
    poam = json.loads((tmp_path / "compliance" / "poam.json").read_text())
    found = [i for i in poam["items"] if i["weakness_detector"].startswith("deployed-twin verification")]
    assert len(found) == 1 and found[0]["kind"] == "not-satisfied" and found[0]["detected_on"] == "2026-12-07"
    assert found[0]["weakness"] == ("Deployed state contradicts the evidence: trail AuditTrailC93518EF IsLogging: "
                                    "expected true, live false")
    assert set(found[0]["controls"]) == {"AU-2", "AU-9", "AU-12"} and found[0]["environment"] == "commercial"
    assert "deployed state read from the account" in (tmp_path / "compliance" / "poam.csv").read_text()
    index = (tmp_path / "compliance" / "index.md").read_text()
    assert "| Deployed-state claims (make verify, 1 environment(s)) | 4: 3 confirmed, 1 contradicted |" in index
    assert "verified-commercial.md" in index


def test_an_unchanged_assembly_is_rendered_once_and_its_copied_evidence_is_the_fresh_one(
        assembly: Path, report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The evidence cache (evidence/stack_cache.py): a second render of the same assembly with the same code copies
    every stack's files and every document back, byte for byte what a fresh render writes; new code renders again;
    COMPLIANT_BEDROCK_EVIDENCE_CACHE=off keeps nothing."""
    import shutil

    from compliant_bedrock.evidence import report as report_module
    from compliant_bedrock.evidence import stack_cache

    monkeypatch.setenv(stack_cache.CACHE_ENV, str(tmp_path / "cache"))
    generate(assembly, dest=tmp_path / "first")  # fresh: the cache is empty
    rendered: list[str] = []
    copied: list[bool] = []
    render_stack, load_documents = report_module.render_stack, stack_cache.load_documents
    monkeypatch.setattr(report_module, "render_stack", lambda stack, *a, **k: rendered.append(stack.name)
                        or render_stack(stack, *a, **k))
    monkeypatch.setattr(stack_cache, "load_documents", lambda *a: copied.append(a[1] != "")
                        or load_documents(*a))
    generate(assembly, dest=tmp_path / "second")
    assert rendered == [] and copied == [True]
    assert (tmp_path / "second" / "poam.json").is_file()
    fresh = sorted(p.name for p in report.iterdir() if p.is_file())
    assert sorted(p.name for p in (tmp_path / "second").iterdir()) == fresh
    for name in fresh:
        assert (tmp_path / "second" / name).read_bytes() == (report / name).read_bytes(), name
    # make verify's claims about a stack: that stack is drawn again (its "verified in account" column), no other
    from infra.verify import Verification, write_evidence
    from infra.verify_checks import CONFIRMED, Claim

    shutil.copytree(tmp_path / "second", tmp_path / "verified" / "compliance")
    write_evidence(tmp_path / "verified", Verification(
        "commercial", "CompliantBedrock-commercial", "us-east-1", "2026-12-07T06:00:00Z", {"Arn": "arn"},
        [Claim("key AuditTrailKeyA4D56A7A", "KeyPolicy", CONFIRMED)]))
    generate(assembly, dest=tmp_path / "verified" / "compliance")
    assert rendered == ["CompliantBedrock-commercial"]
    # other code: no stack's key is the same, so every stack is drawn again
    stack = read_assembly(assembly)[0]
    before = stack_cache.stack_key(stack, "x", "digest", None, [])
    monkeypatch.setattr(stack_cache, "code_fingerprint", lambda: "another version of the renderers")
    assert stack_cache.stack_key(stack, "x", "digest", None, []) != before
    assert stack_cache.stack_key(stack, "x", "digest", b"{}", []) != stack_cache.stack_key(stack, "x", "digest", None, [])
    monkeypatch.setenv(stack_cache.CACHE_ENV, "off")
    assert stack_cache.location(assembly) is None
