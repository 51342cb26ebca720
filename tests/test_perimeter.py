"""The perimeter proof: the request matrix simulated against the synthesized policies.

One reference synth for the module; mutations edit copies of its templates (the proof reads only the
assembly), so each scenario costs one batched simulator run, not a synth.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from compliant_bedrock.compliance import perimeter
from compliant_bedrock.compliance.perimeter import simulator
from compliant_bedrock.compliance.perimeter.placeholders import Resolver
from infra import cli
from infra.app_factory import ROOT, build_app, cdk_json_context

ACCEPTANCES = ROOT / "config" / "perimeter" / "accepted-open-paths.yaml"
BREAK_GLASS = "compliant-bedrock-break-glass"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cdk.out")
    build_app(outdir=str(out), compliance=False).synth()  # the proof reads templates only: no cdk-nag needed
    return out


@pytest.fixture(scope="module")
def reference(outdir: Path) -> perimeter.Proof:
    return perimeter.prove(outdir, perimeter.load_acceptances(ACCEPTANCES), node_modules=ROOT / "node_modules")


def _by_id(proof: perimeter.Proof, env: str) -> dict[str, perimeter.Outcome]:
    return {o.id: o for o in proof.outcomes if o.environment == env}


# ---- the reference environments ------------------------------------------------------------------
def test_matrix_runs_on_every_reference_environment_and_the_gate_passes(reference: perimeter.Proof) -> None:
    assert {o.environment for o in reference.outcomes} == {"commercial", "govcloud"}
    assert reference.passed, reference.lines()
    assert reference.simulator == {"name": simulator.PACKAGE, "version": simulator.VERSION}
    commercial = _by_id(reference, "commercial")
    # generated from the template: one request per model ARN the invoke policy allows
    assert {i for i in commercial if i.startswith("workload.invoke[")} == {
        "workload.invoke[openai.gpt-oss-120b-1:0]", "workload.invoke[openai.gpt-oss-20b-1:0]"}
    assert {i for i in _by_id(reference, "govcloud") if i.startswith("workload.invoke[")} == {
        "workload.invoke[openai.gpt-oss-120b-1:0]"}
    # every workload and other-account request is decided as the matrix says, none by acceptance
    for outcome in reference.outcomes:
        if outcome.principal in ("workload", "other-account", "break-glass"):
            assert outcome.verdict == "as-expected", outcome.line()


def test_decisions_name_the_deciding_policy_and_statement(reference: perimeter.Proof) -> None:
    c = _by_id(reference, "commercial")
    invoke = "CompliantBedrock-commercial/ModelAccess/InvokePolicy"
    model = "[openai.gpt-oss-120b-1:0]"
    assert c[f"workload.invoke{model}"].decision == "allowed"
    assert c[f"workload.invoke{model}"].deciding == [
        f"identity policy {invoke}#AllowInvokeOfNamedModels",
        "endpoint policy CompliantBedrock-commercial/PrivateLink/BedrockRuntimeEndpoint#AllowInvokeOfNamedModels"]
    expected = {
        f"workload.invoke.no-guardrail{model}": "DenyInvokeWithoutTheGuardrail",
        f"workload.invoke.draft-guardrail{model}": "DenyInvokeWithoutTheGuardrail",
        f"workload.invoke.other-guardrail{model}": "DenyInvokeWithoutTheGuardrail",
        f"workload.invoke.public-endpoint{model}": "DenyInvokeOutsideTheEndpoint",
        "workload.invoke.unlisted-model": "DenyInvokeOfUnlistedModels",
        f"workload-broad.invoke.public-endpoint{model}": "DenyInvokeOutsideTheEndpoint",
        "workload-broad.invoke.unlisted-model": "DenyInvokeOfUnlistedModels",
    }
    for request, sid in expected.items():
        assert c[request].decision == "denied", request
        assert c[request].deciding == [f"identity policy {invoke}#{sid}"], request
    assert c[f"other-account.invoke.endpoint{model}"].deciding == [
        "endpoint policy: no statement allows it (implicit deny)"]
    # the account-plane paths the other perimeters close are open today, and shown as accepted
    assert c["admin.audit-key.schedule-deletion[AuditTrail/Key]"].verdict == "accepted"
    assert c["admin.audit-key.schedule-deletion[AuditTrail/Key]"].deciding[-1] == (
        "resource policy CompliantBedrock-commercial/AuditTrail/Key#statement 1")


def test_without_acceptances_the_gate_names_request_principal_action_policy_and_fix(outdir: Path,
                                                                                    reference: perimeter.Proof) -> None:
    proof = perimeter.Proof(reference.simulator, copy.deepcopy(reference.outcomes), [])
    for o in proof.outcomes:
        if o.verdict == "accepted":
            o.verdict = "open"
    line = next(x for x in proof.lines() if "user.api-key.create" in x)
    assert line.startswith("commercial: Perimeter user.api-key.create [IA-5, AC-2, AC-17] user "
                           "(arn:aws:iam::111122223333:role/bedrock-power-user) iam:CreateServiceSpecificCredential on ")
    assert "allowed, expected deny. Decided by: identity policy matrix:ordinary-bedrock-user#OwnApiKeys" in line
    assert "Fix: close the path" in line and "under the id user.api-key.create" in line


def test_evidence_files_and_findings(outdir: Path, reference: perimeter.Proof, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "compliance").mkdir(parents=True)
    (out / "compliance" / "findings.json").write_text(json.dumps({"passed": True}))
    written = perimeter.write_evidence(out, reference)
    assert sorted(p.name for p in written) == ["perimeter-commercial.json", "perimeter-commercial.md",
                                               "perimeter-govcloud.json", "perimeter-govcloud.md"]
    document = json.loads((out / "compliance" / "perimeter-commercial.json").read_text())
    request = next(r for r in document["requests"] if r["id"] == "workload.invoke.unlisted-model")
    assert request["decision"] == "denied" and request["controls"] == ["AC-3", "AC-6", "CM-7"]
    assert request["deciding"] == ["identity policy CompliantBedrock-commercial/ModelAccess/InvokePolicy"
                                   "#DenyInvokeOfUnlistedModels"]
    markdown = (out / "compliance" / "perimeter-commercial.md").read_text()
    assert "| `workload.invoke.unlisted-model` | workload | `bedrock:InvokeModel` | runtime-endpoint | deny | **denied** |" in markdown
    findings = json.loads((out / "compliance" / "findings.json").read_text())
    assert findings["passed"] is True and findings["perimeter"]["passed"] is True
    assert {a["id"].split("[")[0] for a in findings["perimeter"]["accepted"]} == {
        a.request for a in perimeter.load_acceptances(ACCEPTANCES)}


# ---- mutations flip named requests -------------------------------------------------------------
def _template(outdir: Path, stack: str = "CompliantBedrock-commercial") -> dict[str, Any]:
    return json.loads((outdir / f"{stack}.template.json").read_text())


def _write_assembly(directory: Path, stacks: dict[str, dict[str, Any]], region: str = "us-east-1",
                    paths_from: Path | None = None) -> Path:
    """A cloud assembly of these templates; the Environment tag dropped so each stack is its own environment.

    ``paths_from``: the commercial stack's construct-path metadata, so requests keep their reference ids."""
    directory.mkdir(parents=True)
    metadata = json.loads(paths_from.read_text()) if paths_from else {}
    artifacts = {}
    for name, template in stacks.items():
        for resource in template.get("Resources", {}).values():
            tags = (resource.get("Properties") or {}).get("Tags")
            if isinstance(tags, list):
                resource["Properties"]["Tags"] = [t for t in tags if t.get("Key") != "Environment"]
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": f"aws://unknown-account/{region}",
                           "properties": {"templateFile": f"{name}.template.json"}, "metadata": metadata}
    (directory / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    return directory


def _resources(template: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == rtype]


def _invoke_policy(template: dict[str, Any]) -> dict[str, Any]:
    return next(r for lid, r in template["Resources"].items() if lid.startswith("ModelAccessInvokePolicy"))


def _drop_statements(document: dict[str, Any], predicate: Any) -> None:
    document["Statement"] = [s for s in document["Statement"] if not predicate(s)]


def _denies(action: str) -> Any:
    return lambda s: s["Effect"] == "Deny" and action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])


def _mutants(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Four assemblies' worth of environments in one: mutations that touch disjoint requests share one."""
    mutants = {name: copy.deepcopy(base) for name in ("base", "loosened", "hardened", "enforced")}
    loosened, hardened = mutants["loosened"], mutants["hardened"]
    # loosened: widen the endpoint policy, drop the invoke policy's endpoint and API-key denies, drop key denies
    runtime = next(r for r in _resources(loosened, "AWS::EC2::VPCEndpoint")
                   if "bedrock-runtime" in json.dumps(r["Properties"]["ServiceName"]))
    runtime["Properties"]["PolicyDocument"] = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "bedrock:*", "Resource": "*"}]}
    invoke = _invoke_policy(loosened)["Properties"]["PolicyDocument"]
    _drop_statements(invoke, lambda s: s.get("Sid") == "DenyInvokeOutsideTheEndpoint")
    _drop_statements(invoke, _denies("bedrock:CallWithBearerToken"))
    for key in _resources(loosened, "AWS::KMS::Key"):
        _drop_statements(key["Properties"]["KeyPolicy"], lambda s: s["Effect"] == "Deny")
    # hardened: an API-key deny in the invoke policy, break-glass-only denies in the audit key policies
    _invoke_policy(hardened)["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "DenyApiKeys", "Effect": "Deny", "Resource": "*",
         "Action": ["bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"]})
    for key in _resources(hardened, "AWS::KMS::Key"):
        key["Properties"]["KeyPolicy"]["Statement"].append({
            "Sid": "DenyAuditKeyDestruction", "Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": "*",
            "Action": ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::Join": ["", [
                "arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, f":role/{BREAK_GLASS}"]]}}}})
    # enforced: account-level guardrail enforcement
    guardrail = next(lid for lid, r in base["Resources"].items() if r["Type"] == "AWS::Bedrock::Guardrail")
    version = next(lid for lid, r in base["Resources"].items() if r["Type"] == "AWS::Bedrock::GuardrailVersion")
    mutants["enforced"]["Resources"]["AccountEnforcement"] = {
        "Type": "AWS::Bedrock::EnforcedGuardrailConfiguration",
        "Properties": {"GuardrailIdentifier": {"Fn::GetAtt": [guardrail, "GuardrailId"]},
                       "GuardrailVersion": {"Fn::GetAtt": [version, "Version"]}}}
    return {f"CompliantBedrock-{name}": t for name, t in mutants.items()}


@pytest.fixture(scope="module")
def mutated(outdir: Path, tmp_path_factory: pytest.TempPathFactory) -> perimeter.Proof:
    directory = _write_assembly(tmp_path_factory.mktemp("mutants") / "out", _mutants(_template(outdir)),
                                paths_from=outdir / "CompliantBedrock-commercial.metadata.json")
    return perimeter.prove(directory, node_modules=ROOT / "node_modules")  # one simulator run for all mutants


MODEL = "[openai.gpt-oss-120b-1:0]"


@pytest.mark.parametrize(("mutant", "request_id", "before", "after", "decided_by"), [
    ("loosened", f"other-account.invoke.endpoint{MODEL}", "denied", "allowed", "endpoint policy"),
    ("loosened", f"workload-broad.invoke.public-endpoint{MODEL}", "denied", "allowed", "identity policy"),
    ("loosened", "workload-broad.api-key.use", "allowed", "allowed", "identity policy matrix:"),
    ("loosened", "admin.audit-key.disable[AuditTrail/Key]", "allowed", "allowed", "resource policy"),
    ("hardened", "workload-broad.api-key.use", "allowed", "denied", "#DenyApiKeys"),
    ("hardened", "admin.audit-key.schedule-deletion[AuditTrail/Key]", "allowed", "denied", "#DenyAuditKeyDestruction"),
    ("hardened", "admin.audit-key.put-policy[InvocationLogging/Key]", "allowed", "denied", "#DenyAuditKeyDestruction"),
    ("hardened", "break-glass.audit-key.schedule-deletion[AuditTrail/Key]", "allowed", "allowed", "resource policy"),
    ("enforced", f"user.invoke.public.no-guardrail{MODEL}", "allowed", "guarded", "identity policy"),
    ("enforced", "user.invoke.other-region", "allowed", "allowed", "identity policy"),
    ("enforced", f"user.batch-inference{MODEL}", "allowed", "allowed", "identity policy"),
])
def test_a_mutation_flips_a_named_request(mutated: perimeter.Proof, mutant: str, request_id: str, before: str,
                                          after: str, decided_by: str) -> None:
    base, changed = _by_id(mutated, "base")[request_id], _by_id(mutated, mutant)[request_id]
    assert base.decision == before, base.line()
    assert changed.decision == after, changed.line()
    assert changed.environment == mutant
    assert any(decided_by in d for d in changed.deciding), changed.deciding
    if after == "guarded":
        assert changed.guarded_by == f"CompliantBedrock-{mutant}/AccountEnforcement"
        assert changed.verdict == "as-expected" and any("guarded:" in a for a in changed.assumptions)
    if after != before:
        assert changed.verdict != base.verdict


def test_the_workload_keeps_working_under_every_mutant_that_does_not_target_it(mutated: perimeter.Proof) -> None:
    for outcome in mutated.outcomes:
        if outcome.id.startswith(("workload.invoke[", "workload.invoke-stream[")):
            assert outcome.decision in ("allowed", "guarded"), outcome.line()


def test_organization_policies_from_any_stack_are_evaluated(outdir: Path, tmp_path: Path) -> None:
    """SCP, RCP and Bedrock policy from an organization stack: no engine change, decided by them."""
    scp = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyBedrockApiKeys", "Effect": "Deny", "Resource": "*", "Action": "iam:CreateServiceSpecificCredential",
         "Condition": {"StringEquals": {"iam:ServiceSpecificCredentialServiceName": "bedrock.amazonaws.com"}}},
        {"Sid": "DenyBedrockOutsideApprovedRegions", "Effect": "Deny", "Resource": "*",
         "Action": ["bedrock:*", "bedrock-mantle:*"],
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}}]}
    rcp = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyAuditObjectForgery", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{BREAK_GLASS}"},
                                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}
    bedrock = {"bedrock": {"guardrail_inference": {"us-east-1": {"config_1": {
        "identifier": {"@@assign": "arn:aws:bedrock:us-east-1:111122223333:guardrail/abcdefghijkl:1"},
        "input_tags": {"@@assign": "ignore"}}}}}}
    org = {"Resources": {
        "Scp": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "scp", "Type": "SERVICE_CONTROL_POLICY", "Content": scp, "TargetIds": ["r-abcd"]}},
        "Rcp": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "rcp", "Type": "RESOURCE_CONTROL_POLICY", "Content": json.dumps(rcp), "TargetIds": ["r-abcd"]}},
        "Guard": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "bedrock", "Type": "BEDROCK_POLICY", "Content": bedrock, "TargetIds": ["r-abcd"]}}}}
    directory = _write_assembly(tmp_path / "out", {"CompliantBedrock-commercial": _template(outdir),
                                                    "CompliantBedrock-organization": org},
                                paths_from=outdir / "CompliantBedrock-commercial.metadata.json")
    proof = perimeter.prove(directory, node_modules=ROOT / "node_modules")
    assert {o.environment for o in proof.outcomes} == {"commercial"}  # the org stack is not an environment
    c = _by_id(proof, "commercial")
    assert c["user.api-key.create"].decision == "denied"
    assert c["user.api-key.create"].deciding == ["SCP CompliantBedrock-organization/Scp#DenyBedrockApiKeys"]
    assert c["user.invoke.other-region"].decision == "denied"
    assert c["user.invoke.other-region"].deciding == [
        "SCP CompliantBedrock-organization/Scp#DenyBedrockOutsideApprovedRegions"]
    assert c["admin.audit-bucket.forge-object[AuditTrail/Bucket]"].decision == "denied"
    assert c["admin.audit-bucket.forge-object[AuditTrail/Bucket]"].deciding == [
        "RCP CompliantBedrock-organization/Rcp#DenyAuditObjectForgery"]
    guarded = c[f"user.invoke.public.no-guardrail{MODEL}"]
    assert (guarded.decision, guarded.guarded_by) == ("guarded", "CompliantBedrock-organization/Guard")
    assert c[f"workload.invoke{MODEL}"].decision == "guarded"  # FullAWSAccess sits next to the SCPs
    assert c[f"user.batch-inference{MODEL}"].decision == "allowed"  # not guardable: still open


# ---- acceptances ------------------------------------------------------------------------------------
def test_acceptances_need_a_reason_and_a_known_request(tmp_path: Path) -> None:
    with pytest.raises(perimeter.PerimeterError, match="at least 8 words"):
        perimeter.Acceptance("user.api-key.create", "accepted for now")
    with pytest.raises(perimeter.PerimeterError, match="at least 8 words"):
        perimeter.Acceptance("user.api-key.create", "TODO write a reason here for the auditors later on")
    bad = tmp_path / "a.yaml"
    bad.write_text("accepted:\n  - request: user.no-such-request\n    reason: " + "word " * 10 + "\n")
    with pytest.raises(perimeter.PerimeterError, match=r"unknown perimeter request 'user\.no-such-request'"):
        perimeter.load_acceptances(bad)


def test_an_acceptance_that_covers_no_open_request_fails_the_gate(outdir: Path, reference: perimeter.Proof) -> None:
    stale = perimeter.Acceptance("workload.invoke.unlisted-model",
                                 "this path is closed already so the acceptance must be removed now")
    outcomes = copy.deepcopy(reference.outcomes)
    proof = perimeter.Proof(reference.simulator, outcomes, [stale])
    assert not proof.passed
    assert proof.lines()[-1].startswith("perimeter acceptance workload.invoke.unlisted-model: covers no open request")


# ---- the proof never skips silently --------------------------------------------------------------
def _tiny_app(outdir: str | None = None, **_: Any) -> cdk.App:
    """One stack with a Bedrock runtime endpoint: an environment for the proof, cheap to synthesize."""
    app = cdk.App(context=cdk_json_context(), outdir=outdir)
    stack = cdk.Stack(app, "CompliantBedrock-tiny", env=cdk.Environment(region="us-east-1"))
    ec2.CfnVPCEndpoint(stack, "Endpoint", vpc_id="vpc-12345678",
                       service_name="com.amazonaws.us-east-1.bedrock-runtime")
    return app


def test_synth_fails_with_exit_3_when_the_simulator_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(simulator.NODE_MODULES_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    assert cli.run(build=_tiny_app) == 3
    err = capsys.readouterr().err
    assert f"the IAM simulator {simulator.PACKAGE} {simulator.VERSION} is not installed" in err
    assert "make setup" in err and "no evidence written" in err
    assert not (tmp_path / "cdk.out" / "compliance").exists()


def test_a_simulator_error_or_a_refused_request_fails_never_skips(tmp_path: Path) -> None:
    refused = {"id": "x", "simulation": {
        "request": {"principal": "arn:aws:iam::111122223333:role/r", "action": "bedrock:InvokeModel",
                    "resource": {"resource": "arn:aws:bedrock:us-east-1::foundation-model/m", "accountId": "111122223333"},
                    "contextVariables": {}},
        "identityPolicies": [{"name": "bad", "policy": {"Statement": [{"Effect": "Perhaps", "Action": "*"}]}}],
        "serviceControlPolicies": [], "resourceControlPolicies": []}}
    with pytest.raises(simulator.SimulatorError, match="refused 1 request"):
        simulator.run([refused], node_modules=ROOT / "node_modules")
    broken = tmp_path / "node_modules" / "@cloud-copilot" / "iam-simulate"
    shutil.copytree(ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate", broken)
    (broken / "package.json").write_text(json.dumps({
        **json.loads((broken / "package.json").read_text()), "version": "0.0.1"}))
    with pytest.raises(simulator.SimulatorError, match=r"0\.0\.1 is installed, 0\.1\.173 is pinned.*make setup"):
        simulator.run([refused], node_modules=tmp_path / "node_modules")


def test_the_pin_in_package_json_is_the_version_the_proof_requires() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"][simulator.PACKAGE] == simulator.VERSION
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{simulator.PACKAGE}"]["version"] == simulator.VERSION
    assert lock["packages"][f"node_modules/{simulator.PACKAGE}"]["license"] == "AGPL-3.0-or-later"


def test_the_library_never_imports_or_ships_the_agpl_simulator() -> None:
    library = ROOT / "constructs" / "compliant_bedrock"
    for source in library.rglob("*"):
        if source.is_file() and source.suffix in (".py", ".mjs", ".js", ".json", ".yaml"):
            text = source.read_text(encoding="utf-8", errors="ignore")
            assert "from '@cloud-copilot" not in text and 'require("@cloud-copilot' not in text, source
    assert not list(library.rglob("node_modules"))


# ---- placeholders ------------------------------------------------------------------------------------
def test_placeholders_are_stable_and_consistent_across_references(outdir: Path) -> None:
    template = _template(outdir)
    first = Resolver(template, "CompliantBedrock-commercial", "us-east-1", None)
    again = Resolver(template, "CompliantBedrock-commercial", "us-east-1", None)
    endpoint = next(lid for lid, r in template["Resources"].items()
                    if r["Type"] == "AWS::EC2::VPCEndpoint" and "runtime" in json.dumps(r["Properties"]["ServiceName"]))
    vpce = first.ref(endpoint)
    assert vpce == again.ref(endpoint) and vpce.startswith("vpce-") and len(vpce) == 22
    policy = first.value(_invoke_policy(template)["Properties"]["PolicyDocument"])
    allow = next(s for s in policy["Statement"] if s.get("Sid") == "AllowInvokeOfNamedModels")
    assert allow["Condition"]["StringEquals"]["aws:SourceVpce"] == vpce
    assert allow["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"].startswith(
        "arn:aws:bedrock:us-east-1:111122223333:guardrail/")
    gov = Resolver(_template(outdir, "CompliantBedrock-govcloud"), "CompliantBedrock-govcloud", "us-gov-west-1", None)
    assert gov.ref("AWS::Partition") == "aws-us-gov"
    with pytest.raises(ValueError, match="Fn::Transform has no placeholder rule"):
        first.value({"Fn::Transform": {"Name": "x"}})
