"""The perimeter proof: the request matrix simulated against the synthesized policies.

One reference synth for the module; mutations edit copies of its templates (the proof reads only the
assembly), so each scenario costs one batched simulator run, not a synth.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2

from compliant_bedrock.compliance import perimeter
from compliant_bedrock.compliance.perimeter import proof as proof_module
from compliant_bedrock.compliance.perimeter import simulator
from compliant_bedrock.compliance.perimeter.placeholders import Resolver
from infra import cli
from infra.app_factory import ROOT, cdk_json_context, selected_environments, selected_organizations

ACCEPTANCES = ROOT / "config" / "perimeter" / "accepted-open-paths.yaml"
BREAK_GLASS = "compliant-bedrock-break-glass"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory, reference_out: Path) -> Path:
    """The reference assembly (conftest's shared synth), copied without its evidence, diagrams or decision cache:
    the proofs here write their own."""
    import shutil

    out = tmp_path_factory.mktemp("cdk.out") / "assembly"
    shutil.copytree(reference_out, out, ignore=shutil.ignore_patterns("compliance", "*.png", "*.svg", ".cache"))
    return out


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory, reference_out: Path) -> Path:
    """A copy of the decision cache the shared reference synth filled, fresh (its proof ran on an empty cache): the
    reference proof here reads every decision back, and is compared with that synth's evidence."""
    import shutil

    from compliant_bedrock.compliance.perimeter.decision_cache import CACHE_SUBDIR

    directory = tmp_path_factory.mktemp("decisions") / "perimeter"
    shutil.copytree(reference_out / CACHE_SUBDIR, directory)
    return directory


@pytest.fixture(scope="module")
def reference(outdir: Path, decisions: Path) -> perimeter.Proof:
    return perimeter.prove(outdir, perimeter.load_acceptances(ACCEPTANCES), node_modules=ROOT / "node_modules",
                           cache_dir=decisions)


def _by_id(proof: perimeter.Proof, env: str) -> dict[str, perimeter.Outcome]:
    return {o.id: o for o in proof.outcomes if o.environment == env}


# ---- the reference environments ------------------------------------------------------------------
COMMERCIAL_INVOKE = "CompliantBedrock-commercial/ModelAccess/InvokePolicy"
ORG = "CompliantBedrock-organization-commercial/Policies"
GOV_ORG = "CompliantBedrock-organization-govcloud/Policies"
MODEL = "[openai.gpt-oss-120b-1:0]"
#: The environments each organization covers (config/organization/<name>.yaml): one per partition. Read from config/,
#: as are the environments, so an environment added there (docs/adding-an-environment.md) is checked, not a failure.
COVERED = {o.stack_name: tuple(o.covers_environments) for o in selected_organizations({"env": None})}
ENVIRONMENTS = {e.name for e in selected_environments({"env": None})}
#: The member baselines' environments (each organization's StackSet and its replica regions).
BASELINES = {"baseline-commercial", "baseline-govcloud", "baseline-commercial-replica", "baseline-govcloud-replica"}


def _invoke_arns(template: dict[str, Any]) -> set[str]:
    """Model/profile ARNs the invoke policy allows InvokeModel on, read from the raw template."""
    arns: set[str] = set()
    for statement in _invoke_policy(template)["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and "bedrock:InvokeModel" in actions:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            arns |= {r for r in resources if isinstance(r, str)}
    return arns


def test_matrix_runs_on_every_reference_environment_and_the_gate_passes(outdir: Path,
                                                                       reference: perimeter.Proof) -> None:
    assert {o.environment for o in reference.outcomes} == ENVIRONMENTS | BASELINES
    assert reference.passed, reference.lines()
    assert reference.simulator == {"name": simulator.PACKAGE, "version": simulator.VERSION}
    commercial = _by_id(reference, "commercial")
    # generated from the template: one request per model ARN the invoke policy allows, the destination
    # models of the us. profile (same name, other regions) each a request of its own
    invokes = {i for i in commercial if i.startswith("workload.invoke[")}
    assert len(invokes) == len(_invoke_arns(_template(outdir))) == 8
    assert {"workload.invoke[openai.gpt-oss-120b-1:0]", "workload.invoke[openai.gpt-oss-20b-1:0]",
            "workload.invoke[us.openai.gpt-5.6-sol]", "workload.invoke[openai.gpt-5.6-sol]",
            "workload.invoke[openai.gpt-5.6-sol@us-west-2]"} <= invokes
    assert {i for i in _by_id(reference, "govcloud") if i.startswith("workload.invoke[")} == {
        "workload.invoke[openai.gpt-oss-120b-1:0]", "workload.invoke[us-gov.openai.gpt-oss-20b-1:0]",
        "workload.invoke[openai.gpt-oss-20b-1:0]", "workload.invoke[openai.gpt-oss-20b-1:0@us-gov-east-1]"}
    # frontier (Mantle) allows no runtime model: no invoke request is generated, and runtime invoke is denied
    frontier = _by_id(reference, "frontier")
    assert not {i for i in frontier if i.startswith("workload.invoke[")}
    assert frontier["workload.invoke.unlisted-model"].deciding == [
        "identity policy CompliantBedrock-frontier/ModelAccess/InvokePolicy#DenyRuntimeInvoke"]
    assert frontier["user.mantle.create-inference.endpoint"].decision == "denied"
    assert f"SCP {ORG}/ScpInference#DenyMantleExceptNamedRoles" in frontier["user.mantle.create-inference.endpoint"].deciding
    # every workload and other-account request is decided as the matrix says, none by acceptance
    for outcome in reference.outcomes:
        if outcome.principal in ("workload", "workload-broad", "other-account", "break-glass"):
            assert outcome.verdict in ("as-expected", "n/a"), outcome.line()


def test_every_request_is_decided_by_a_simulation_of_its_own(outdir: Path, reference: perimeter.Proof,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Results are keyed by request id: two requests under one id would share one simulation's decision."""
    keys = [(o.environment, o.id) for o in reference.outcomes]
    assert len(keys) == len(set(keys))
    c = _by_id(reference, "commercial")
    assert c["workload.invoke[openai.gpt-5.6-sol@us-west-2]"].resource == (
        "arn:aws:bedrock:us-west-2::foundation-model/openai.gpt-5.6-sol")
    assert c["workload.invoke[openai.gpt-5.6-sol]"].resource == (
        "arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-5.6-sol")
    monkeypatch.setattr(proof_module, "_model_suffix", lambda arn, region: "same")
    with pytest.raises(perimeter.PerimeterError, match=r"duplicate request ids commercial\|"):
        perimeter.prove(outdir, node_modules=ROOT / "node_modules")


def test_cached_decisions_equal_fresh_ones_and_an_unchanged_assembly_simulates_nothing(
        reference_out: Path, reference: perimeter.Proof) -> None:
    """The second proof of the same assembly reads every decision back: its outcomes are the fresh proof's, which the
    shared reference synth ran on an empty cache and wrote as evidence (compliance/perimeter-<env>.json)."""
    again = reference.simulations
    assert again["cached"] == again["distinct"] <= again["requests"] == len(
        [o for o in reference.outcomes if o.simulator_result is not None]) and again["simulated"] == 0
    fresh = {}
    for path in sorted((reference_out / "compliance").glob("perimeter-*.json")):
        evidence = json.loads(path.read_text())
        fresh[evidence["environment"]] = evidence["requests"]
    cached = {}
    for outcome in reference.outcomes:
        cached.setdefault(outcome.environment, []).append(asdict(outcome))
    assert set(fresh) == set(cached)
    for env, requests in fresh.items():
        assert [{k: r.get(k) for k in cached[env][0]} for r in requests] == cached[env], env
    assert reference.simulator == {"name": simulator.PACKAGE, "version": simulator.VERSION}
    # a StackSet's instances ask one question in each of their accounts: fewer simulations than requests
    requests, distinct = reference.distinct["baseline-commercial"]
    assert distinct < requests


def test_decisions_name_the_deciding_policy_and_statement(reference: perimeter.Proof) -> None:
    c, gov = _by_id(reference, "commercial"), _by_id(reference, "govcloud")
    invoke = _by_id(reference, "commercial")[f"workload.invoke{MODEL}"]
    assert (invoke.decision, invoke.guarded_by) == ("guarded", "CompliantBedrock-commercial/Guardrail/AccountEnforcement")
    assert invoke.deciding == [
        f"identity policy {COMMERCIAL_INVOKE}#AllowInvokeOfNamedModels",
        "endpoint policy CompliantBedrock-commercial/PrivateLink/BedrockRuntimeEndpoint#AllowInvokeOfNamedModels",
        "SCP FullAWSAccess#statement 1",
        "RCP arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess#statement 1"]
    endpoint_scp = f"SCP {ORG}/ScpInference#DenyInferenceOutsideApprovedEndpoints"
    expected = {
        f"workload.invoke.no-guardrail{MODEL}": ["DenyInvokeWithoutTheGuardrail"],
        f"workload.invoke.draft-guardrail{MODEL}": ["DenyInvokeWithoutTheGuardrail"],
        f"workload.invoke.other-guardrail{MODEL}": ["DenyInvokeWithoutTheGuardrail"],
        f"workload.invoke.public-endpoint{MODEL}": ["DenyInvokeOutsideTheEndpoint", endpoint_scp],
        "workload.invoke.unlisted-model": ["DenyInvokeOfUnlistedModels"],
        f"workload-broad.invoke.public-endpoint{MODEL}": ["DenyInvokeOutsideTheEndpoint", endpoint_scp],
        "workload-broad.invoke.unlisted-model": ["DenyInvokeOfUnlistedModels"],
        "workload-broad.api-key.use": ["DenyApiKeys", f"SCP {ORG}/ScpInference#DenyBedrockApiKeys"],
    }
    for request, deciding in expected.items():
        assert c[request].decision == "denied", request
        assert c[request].deciding == [f"identity policy {COMMERCIAL_INVOKE}#{deciding[0]}", *deciding[1:]], request
    # govcloud: the invoke policy's own denies and its own partition's organization SCPs
    gov_invoke = "CompliantBedrock-govcloud/ModelAccess/InvokePolicy"
    assert gov[f"workload-broad.invoke.public-endpoint{MODEL}"].deciding == [
        f"identity policy {gov_invoke}#DenyInvokeOutsideTheEndpoint",
        f"SCP {GOV_ORG}/ScpInference#DenyInferenceOutsideApprovedEndpoints"]
    assert gov["workload-broad.api-key.use"].deciding == [f"identity policy {gov_invoke}#DenyApiKeys",
                                                          f"SCP {GOV_ORG}/ScpInference#DenyBedrockApiKeys"]
    assert c[f"other-account.invoke.endpoint{MODEL}"].deciding == [
        "endpoint policy: no statement allows it (implicit deny)"]
    # the audit keys: the key policy denies everywhere, the organization's SCP on top where it binds
    key = "resource policy CompliantBedrock-{}/AuditTrail/Key#"
    request = "admin.audit-key.schedule-deletion[AuditTrail/Key]"
    assert c[request].deciding == [key.format("commercial") + "DenyAuditKeyTamperExceptBreakGlassAndDeploy",
                                   key.format("commercial") + "DenyKeyDeletionWindowUnder30Days",
                                   f"SCP {ORG}/ScpAuditPlane1#ProtectAuditKeys"]
    assert (gov[request].verdict, gov[request].deciding) == ("as-expected", [
        key.format("govcloud") + "DenyAuditKeyTamperExceptBreakGlassAndDeploy",
        key.format("govcloud") + "DenyKeyDeletionWindowUnder30Days",
        f"SCP {GOV_ORG}/ScpAuditPlane1#ProtectAuditKeys"])
    # an SCP-only path: closed by each partition's organization
    trail = "admin.trail.stop-logging[AuditTrail/Trail]"
    assert (c[trail].decision, c[trail].deciding) == ("denied", [f"SCP {ORG}/ScpAuditPlane1#ProtectAuditResources"])
    assert (gov[trail].decision, gov[trail].deciding) == ("denied", [f"SCP {GOV_ORG}/ScpAuditPlane1#ProtectAuditResources"])


def test_the_organization_closes_every_user_and_administrator_path_without_acceptance(
        outdir: Path, reference: perimeter.Proof) -> None:
    for stack, covered in COVERED.items():
        metadata = _template(outdir, stack)["Metadata"]["compliant-bedrock:organization"]
        assert tuple(metadata["covers_environments"]) == covered
    assert perimeter.load_acceptances(ACCEPTANCES) == []
    for env in [e for covered in COVERED.values() for e in covered]:
        rows = [o for o in reference.outcomes if o.environment == env and o.principal in ("user", "admin")]
        assert len([o for o in rows if o.decision != "not-applicable"]) >= 40, env
        for o in rows:
            if o.decision == "not-applicable":
                assert o.note and o.verdict == "n/a", o.line()
                continue
            assert o.decision in ("denied", "guarded") and o.verdict == "as-expected", f"{env}: {o.line()}"
        assert not [o for o in reference.outcomes if o.environment == env and o.verdict == "accepted"]


#: Paths only an organization SCP closes (no account-level policy can): accepted in GovCloud until its own
#: organization stack bound it.
SCP_ONLY = ("user.api-key.create", "user.api-key.use", "user.invoke.other-region", "user.responses.other-endpoint",
            "user.batch-inference[openai.gpt-oss-120b-1:0]", "admin.trail.stop-logging[AuditTrail/Trail]")


def test_govcloud_is_closed_by_the_organization_of_its_own_partition(reference: perimeter.Proof) -> None:
    assert not [o for o in reference.outcomes if o.verdict == "accepted"]
    gov = _by_id(reference, "govcloud")
    for request in SCP_ONLY:
        o = gov[request]
        assert (o.decision, o.verdict) == ("denied", "as-expected"), o.line()
        # decided by the GovCloud organization's SCPs (aws-us-gov ARNs), never the commercial one's
        assert any(d.startswith(f"SCP {GOV_ORG}/") for d in o.deciding), o.line()
        assert not any(ORG in d for d in o.deciding), o.line()
    # no RCP in that partition (not documented there): the audit keys are closed by their own key policy
    assert not any("RCP" in d for o in gov.values() for d in o.deciding)
    # what account-level policies close in govcloud is closed there too
    for request, decision in {"admin.audit-key.disable[AuditTrail/Key]": "denied",
                              "admin.audit-bucket.put-policy[AuditTrail/Bucket]": "denied",
                              f"user.invoke.public.no-guardrail{MODEL}": "denied"}.items():
        assert (gov[request].decision, gov[request].verdict) == (decision, "as-expected"), gov[request].line()


def test_without_acceptances_the_gate_names_request_principal_action_policy_and_fix(reference: perimeter.Proof,
                                                                                   mutated: perimeter.Proof) -> None:
    proof = perimeter.Proof(reference.simulator, copy.deepcopy(reference.outcomes), [])
    for o in proof.outcomes:
        if o.verdict == "accepted":
            o.verdict = "open"
    assert proof.passed and not proof.lines()  # nothing is accepted: every environment passes on its own
    # the unbound GovCloud copy of the mutants' assembly: an SCP-only path, named with principal, action and fix
    line = next(x for x in mutated.lines() if x.startswith("gov-unbound: Perimeter user.api-key.create"))
    assert line.startswith("gov-unbound: Perimeter user.api-key.create [IA-5, AC-2, AC-17] user "
                           "(arn:aws-us-gov:iam::444433332222:role/bedrock-power-user) "
                           "iam:CreateServiceSpecificCredential on ")
    assert "allowed, expected deny. Decided by: identity policy matrix:ordinary-bedrock-user#OwnApiKeys" in line
    assert "Fix: close the path" in line and "under the id user.api-key.create" in line


def test_evidence_files_and_findings(reference: perimeter.Proof, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "compliance").mkdir(parents=True)
    (out / "compliance" / "findings.json").write_text(json.dumps({"passed": True}))
    written = perimeter.write_evidence(out, reference)
    environments = BASELINES | ENVIRONMENTS
    assert sorted(p.name for p in written) == sorted(f"perimeter-{env}.{ext}" for env in environments
                                                     for ext in ("json", "md"))
    document = json.loads((out / "compliance" / "perimeter-commercial.json").read_text())
    request = next(r for r in document["requests"] if r["id"] == "workload.invoke.unlisted-model")
    assert request["decision"] == "denied" and request["controls"] == ["AC-3", "AC-6", "CM-7"]
    assert request["deciding"] == [f"identity policy {COMMERCIAL_INVOKE}#DenyInvokeOfUnlistedModels"]
    assert document["passed"] is True and "accepted" not in document["counts"]
    markdown = (out / "compliance" / "perimeter-commercial.md").read_text()
    assert "| `workload.invoke.unlisted-model` | workload | `bedrock:InvokeModel` | runtime-endpoint | deny | **denied** |" in markdown
    frontier = json.loads((out / "compliance" / "perimeter-frontier.json").read_text())
    assert frontier["environment"] == "frontier" and frontier["passed"] is True
    govcloud = json.loads((out / "compliance" / "perimeter-govcloud.json").read_text())
    assert govcloud["passed"] is True and "accepted" not in govcloud["counts"]
    findings = json.loads((out / "compliance" / "findings.json").read_text())
    assert findings["passed"] is True and findings["perimeter"]["passed"] is True
    assert findings["perimeter"]["accepted"] == []


# ---- mutations flip named requests -------------------------------------------------------------
def _template(outdir: Path, stack: str = "CompliantBedrock-commercial") -> dict[str, Any]:
    return json.loads((outdir / f"{stack}.template.json").read_text())


def _write_assembly(directory: Path, stacks: dict[str, tuple[dict[str, Any], str, Path | None]],
                    accounts: dict[str, str] | None = None) -> Path:
    """A cloud assembly of these templates: stack name -> (template, region, construct-path metadata file).

    The Environment tag is dropped so each stack is the environment its name says; the metadata file of the
    stack a template was copied from keeps request ids and policy names as in the reference synth."""
    directory.mkdir(parents=True)
    artifacts = {}
    for name, (template, region, paths_from) in stacks.items():
        for resource in template.get("Resources", {}).values():
            tags = (resource.get("Properties") or {}).get("Tags")
            if isinstance(tags, list):
                resource["Properties"]["Tags"] = [t for t in tags if t.get("Key") != "Environment"]
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        account = (accounts or {}).get(name, "unknown-account")
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": f"aws://{account}/{region}",
                           "properties": {"templateFile": f"{name}.template.json"},
                           "metadata": json.loads(paths_from.read_text()) if paths_from else {}}
    (directory / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    return directory


def _resources(template: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == rtype]


def _invoke_policy(template: dict[str, Any]) -> dict[str, Any]:
    return next(r for lid, r in template["Resources"].items() if lid.startswith("ModelAccessInvokePolicy"))


def _drop_statements(document: dict[str, Any], *sids: str) -> None:
    kept = [s for s in document["Statement"] if s.get("Sid") not in sids]
    assert len(kept) < len(document["Statement"]), f"none of {sids} in the policy: the mutation would be a no-op"
    document["Statement"] = kept


def _gov_mutants(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GovCloud without its organization stack (account-level policies alone) with one protection removed or broken per
    mutant; mutations that touch disjoint requests share one mutant."""
    mutants = {name: copy.deepcopy(base) for name in ("gov-unbound", "gov-loosened", "gov-unenforced", "gov-locked-out")}
    loosened = mutants["gov-loosened"]
    # the runtime endpoint policy opened to anyone, the invoke policy's endpoint and API-key denies dropped,
    # the audit key and bucket policies' tamper denies dropped
    runtime = next(r for r in _resources(loosened, "AWS::EC2::VPCEndpoint")
                   if "bedrock-runtime" in json.dumps(r["Properties"]["ServiceName"]))
    runtime["Properties"]["PolicyDocument"] = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "bedrock:*", "Resource": "*"}]}
    _drop_statements(_invoke_policy(loosened)["Properties"]["PolicyDocument"],
                     "DenyInvokeOutsideTheEndpoint", "DenyApiKeys")
    for key in _resources(loosened, "AWS::KMS::Key"):
        if any(s.get("Sid") == "DenyAuditKeyTamperExceptBreakGlassAndDeploy" for s in key["Properties"]["KeyPolicy"]["Statement"]):
            _drop_statements(key["Properties"]["KeyPolicy"], "DenyAuditKeyTamperExceptBreakGlassAndDeploy")
    for bucket_policy in _resources(loosened, "AWS::S3::BucketPolicy"):
        _drop_statements(bucket_policy["Properties"]["PolicyDocument"], "DenyAuditBucketTamperExceptBreakGlassAndDeploy")
    # no account-level guardrail enforcement
    unenforced = mutants["gov-unenforced"]["Resources"]
    enforcement = [lid for lid, r in unenforced.items() if r["Type"] == "AWS::Bedrock::EnforcedGuardrailConfiguration"]
    assert enforcement
    for lid in enforcement:
        del unenforced[lid]
    # the key deny without its break-glass/deploy exemption: it locks the break-glass role out too
    for key in _resources(mutants["gov-locked-out"], "AWS::KMS::Key"):
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            if statement.get("Sid") == "DenyAuditKeyTamperExceptBreakGlassAndDeploy":
                del statement["Condition"]
    return {f"CompliantBedrock-{name}": t for name, t in mutants.items()}


def _organization_without(template: dict[str, Any], sids: set[str]) -> dict[str, Any]:
    """The organization stack with SCP statements dropped, by Sid, from whichever policy holds them."""
    mutated = copy.deepcopy(template)
    for resource in _resources(mutated, "AWS::Organizations::Policy"):
        props = resource["Properties"]
        content = json.loads(props["Content"]) if isinstance(props["Content"], str) else props["Content"]
        present = {s.get("Sid") for s in content.get("Statement") or []} & sids if isinstance(content, dict) else set()
        if present:
            _drop_statements(content, *present)
            props["Content"] = json.dumps(content)
            sids = sids - present
    assert not sids, f"{sids} in no policy: the mutation would be a no-op"
    return mutated


@pytest.fixture(scope="module")
def mutated(outdir: Path, tmp_path_factory: pytest.TempPathFactory, decisions: Path) -> perimeter.Proof:
    """Every mutant in one assembly, one simulator run; the reference proof is the 'before' of each."""
    gov_paths = outdir / "CompliantBedrock-govcloud.metadata.json"
    stacks = {name: (t, "us-gov-west-1", gov_paths)
              for name, t in _gov_mutants(_template(outdir, "CompliantBedrock-govcloud")).items()}
    # the govcloud copies in their own account (its ARNs are literal), without the GovCloud organization stack
    manifest = json.loads((outdir / "manifest.json").read_text())
    gov_account = manifest["artifacts"]["CompliantBedrock-govcloud"]["environment"].split("/")[2]
    # commercial, bound by an organization stack missing two SCP statements
    stacks["CompliantBedrock-commercial"] = (_template(outdir), "us-east-1",
                                             outdir / "CompliantBedrock-commercial.metadata.json")
    stacks["CompliantBedrock-organization-commercial"] = (
        _organization_without(_template(outdir, "CompliantBedrock-organization-commercial"),
                              {"ProtectAuditResources", "DenyBedrockApiKeyCreation"}),
        "us-east-1", outdir / "CompliantBedrock-organization-commercial.metadata.json")
    directory = _write_assembly(tmp_path_factory.mktemp("mutants") / "out", stacks,
                                {name: gov_account for name in stacks if name.startswith("CompliantBedrock-gov-")})
    # the reference's decisions: a simulation the mutation leaves unchanged is read back (keyed by its documents)
    return perimeter.prove(directory, node_modules=ROOT / "node_modules", cache_dir=decisions)


#: mutant -> the environment it is compared with: the unmutated GovCloud copy (bound by no organization, like
#: the mutants) or the reference commercial environment
_BEFORE = {"gov-loosened": "gov-unbound", "gov-unenforced": "gov-unbound", "gov-locked-out": "gov-unbound",
           "commercial": "commercial"}
ADMIN = "identity policy matrix:administrator#AdministratorAccess"
BROAD = "identity policy matrix:ordinary-bedrock-user#BroadBedrock"


@pytest.mark.parametrize(("mutant", "request_id", "before", "after", "decided_by"), [
    # the endpoint policy: another account through this environment's PrivateLink (and this account's
    # enforced guardrail does not guard another account's call)
    ("gov-loosened", f"other-account.invoke.endpoint{MODEL}", "denied", "allowed", "endpoint policy"),
    # the invoke policy's own denies bind the workload whatever else it holds, where no SCP does
    ("gov-loosened", f"workload-broad.invoke.public-endpoint{MODEL}", "denied", "guarded", BROAD),
    ("gov-loosened", "workload-broad.api-key.use", "denied", "allowed", BROAD),
    # the audit key and bucket policy denies hold against an account administrator
    ("gov-loosened", "admin.audit-key.disable[AuditTrail/Key]", "denied", "allowed", ADMIN),
    ("gov-loosened", "admin.audit-key.put-policy[InvocationLogging/Key]", "denied", "allowed", ADMIN),
    ("gov-loosened", "admin.audit-bucket.put-policy[AuditTrail/Bucket]", "denied", "allowed", ADMIN),
    # the key deny's exemption keeps the break-glass role's one way to retire an audit key
    ("gov-locked-out", "break-glass.audit-key.schedule-deletion[AuditTrail/Key]", "allowed", "denied",
     "#DenyAuditKeyTamperExceptBreakGlassAndDeploy"),
    # account guardrail enforcement is what guards an ordinary user's unguarded invoke ...
    ("gov-unenforced", f"user.invoke.public.no-guardrail{MODEL}", "guarded", "allowed", BROAD),
    ("gov-unenforced", f"user.invoke.endpoint.no-guardrail{MODEL}", "guarded", "allowed", BROAD),
    # ... and it never claimed another region or batch jobs
    ("gov-unenforced", "user.invoke.other-region", "allowed", "allowed", BROAD),
    ("gov-unenforced", f"user.batch-inference{MODEL}", "allowed", "allowed", BROAD),
    # the organization's SCPs close what no account-level policy can
    ("commercial", "admin.trail.stop-logging[AuditTrail/Trail]", "denied", "allowed", ADMIN),
    ("commercial", "user.api-key.create", "denied", "allowed", "identity policy matrix:ordinary-bedrock-user#OwnApiKeys"),
])
def test_a_mutation_flips_a_named_request(reference: perimeter.Proof, mutated: perimeter.Proof, mutant: str,
                                          request_id: str, before: str, after: str, decided_by: str) -> None:
    before_proof = mutated if _BEFORE[mutant].startswith("gov-") else reference
    base, changed = _by_id(before_proof, _BEFORE[mutant])[request_id], _by_id(mutated, mutant)[request_id]
    assert base.decision == before, base.line()
    assert changed.decision == after, changed.line()
    assert any(decided_by in d for d in changed.deciding), changed.deciding
    if after != "guarded":
        assert changed.guarded_by is None, changed.line()
    if after != before:
        assert changed.verdict == "open" and base.verdict in ("as-expected", "accepted"), changed.line()


def test_the_mutants_change_nothing_else_they_do_not_target(reference: perimeter.Proof,
                                                            mutated: perimeter.Proof) -> None:
    """The commercial copy differs from the reference only by the two SCP statements dropped."""
    before = _by_id(reference, "commercial")
    after = _by_id(mutated, "commercial")
    assert set(before) == set(after)
    changed = {i for i in before if (before[i].decision, before[i].deciding) != (after[i].decision, after[i].deciding)}
    flipped = {"admin.trail.stop-logging[AuditTrail/Trail]", "admin.trail.delete[AuditTrail/Trail]",
               "admin.trail.update[AuditTrail/Trail]", "admin.trail.event-selectors[AuditTrail/Trail]",
               "user.api-key.create"}
    assert flipped <= changed
    # The buckets' placeholder names meet ProtectAuditResources' patterns (CloudFormation's generated names), so
    # dropping it changes who decides their requests; their bucket policies still deny every one of them.
    for request in changed - flipped:
        assert request.startswith("admin.audit-bucket."), request
        assert after[request].decision == "denied" and before[request].deciding != after[request].deciding


def test_the_workload_keeps_working_under_every_mutant(mutated: perimeter.Proof) -> None:
    invokes = [o for o in mutated.outcomes if o.id.startswith(("workload.invoke[", "workload.invoke-stream["))]
    assert {o.environment for o in invokes} == {*_BEFORE, "gov-unbound"}
    for outcome in invokes:
        assert outcome.decision in ("allowed", "guarded"), outcome.line()
        assert (outcome.decision == "guarded") == (outcome.environment != "gov-unenforced"), outcome.line()


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
    commercial = _template(outdir)
    # without the account's own enforcement, so the organization's Bedrock policy is what guards
    commercial["Resources"] = {lid: r for lid, r in commercial["Resources"].items()
                               if r["Type"] != "AWS::Bedrock::EnforcedGuardrailConfiguration"}
    directory = _write_assembly(tmp_path / "out", {
        "CompliantBedrock-commercial": (commercial, "us-east-1", outdir / "CompliantBedrock-commercial.metadata.json"),
        "CompliantBedrock-organization": (org, "us-east-1", None)})
    proof = perimeter.prove(directory, node_modules=ROOT / "node_modules")
    assert {o.environment for o in proof.outcomes} == {"commercial"}  # the org stack is not an environment
    c = _by_id(proof, "commercial")
    assert c["user.api-key.create"].decision == "denied"
    assert c["user.api-key.create"].deciding == ["SCP CompliantBedrock-organization/Scp#DenyBedrockApiKeys"]
    assert c["user.invoke.other-region"].decision == "denied"
    assert c["user.invoke.other-region"].deciding == [
        "SCP CompliantBedrock-organization/Scp#DenyBedrockOutsideApprovedRegions"]
    forged = c["admin.audit-bucket.forge-object[AuditTrail/Bucket]"]
    assert forged.decision == "denied"
    assert "RCP CompliantBedrock-organization/Rcp#DenyAuditObjectForgery" in forged.deciding, forged.deciding
    guarded = c[f"user.invoke.public.no-guardrail{MODEL}"]
    assert (guarded.decision, guarded.guarded_by) == ("guarded", "CompliantBedrock-organization/Guard")
    assert c[f"workload.invoke{MODEL}"].decision == "guarded"  # FullAWSAccess sits next to the SCPs
    assert c[f"user.batch-inference{MODEL}"].decision == "allowed"  # not guardable: still open
    # the same policies, declared an organization of the aws partition (no covered list): they bind every
    # environment of that partition and none of another (a GovCloud account is never below a commercial root)
    org["Metadata"] = {"compliant-bedrock:organization": {"organization_id": "o-exampleorg1", "partition": "aws"}}
    gov = _template(outdir, "CompliantBedrock-govcloud")
    directory = _write_assembly(tmp_path / "by-partition", {
        "CompliantBedrock-commercial": (commercial, "us-east-1", outdir / "CompliantBedrock-commercial.metadata.json"),
        "CompliantBedrock-govcloud": (gov, "us-gov-west-1", outdir / "CompliantBedrock-govcloud.metadata.json"),
        "CompliantBedrock-organization": (org, "us-east-1", None)})
    proof = perimeter.prove(directory, node_modules=ROOT / "node_modules")
    assert _by_id(proof, "commercial")["user.api-key.create"].decision == "denied"
    gov_key = _by_id(proof, "govcloud")["user.api-key.create"]
    assert gov_key.decision == "allowed" and not any("CompliantBedrock-organization" in d for d in gov_key.deciding)


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
                                 "this path is closed already so the acceptance must be removed now",
                                 approved_by="AO, risk acceptance RA-2026-001", expires="2099-12-31")
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


def test_the_frontier_workload_reaches_exactly_its_accepted_mantle_models(reference: perimeter.Proof) -> None:
    """The Mantle path the frontier environment accepted works for its workload, and only as accepted: the
    named models on its own project through its endpoint (the organization exempts frontier-workload* roles
    from its Mantle deny); another model or the public endpoint is denied."""
    frontier = _by_id(reference, "frontier")
    for model in ("openai.gpt-5.5", "openai.gpt-5.4"):
        allowed = frontier[f"workload.mantle.invoke[{model}]"]
        assert (allowed.decision, allowed.verdict) == ("allowed", "as-expected"), allowed.line()
        assert ":project/proj_" in allowed.resource
        assert any("AllowUnguardedMantleInference" in d for d in allowed.deciding)
        assert frontier[f"workload.mantle.unlisted-model[{model}]"].decision == "denied"
        assert frontier[f"workload.mantle.public-endpoint[{model}]"].decision == "denied"
    assert not [o for o in _by_id(reference, "commercial").values() if o.id.startswith("workload.mantle.invoke")]


def test_the_frontier_developer_runs_codex_on_the_accepted_models_and_nothing_else(reference: perimeter.Proof) -> None:
    """The Codex permission set's role (recorded in config, exempt by exact ARN from the organization's Mantle
    denies) holding the Codex policy: model list and the accepted models through the endpoint, nothing around
    them (docs/codex.md)."""
    frontier = _by_id(reference, "frontier")
    role = "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_CodexDeveloper_0123456789abcdef"
    listed = frontier["developer.codex.model-list"]
    assert (listed.decision, listed.verdict) == ("allowed", "as-expected") and listed.principal_arn.endswith(role)
    for model in ("openai.gpt-5.5", "openai.gpt-5.4"):
        allowed = frontier[f"developer.codex.invoke[{model}]"]
        assert (allowed.decision, allowed.verdict) == ("allowed", "as-expected"), allowed.line()
        assert any("CodexPolicy#AllowUnguardedMantleInferenceForCodex" in d for d in allowed.deciding)
        for denied in (f"developer.codex.other-model[{model}]", f"developer.codex.public-endpoint[{model}]"):
            assert frontier[denied].decision == "denied", frontier[denied].line()
    for denied in ("developer.codex.other-project", "developer.api-key.use", "developer.runtime-api-key.use",
                   "developer.api-key.create", "developer.managed-agents.session"):
        assert (frontier[denied].decision, frontier[denied].verdict) == ("denied", "as-expected"), denied
    # the organization stack's permission set, which references the Codex policy by name, is the developer's too
    assert any("CodexPermissionSet-frontier#DenyLongTermCredentials" in d
               for d in frontier["developer.api-key.create"].deciding)
    # the workload does not hold the Codex policy: its identity is the invoke policy alone
    assert not any("CodexPolicy" in d for o in frontier.values() if o.principal == "workload" for d in o.deciding)
    assert not [o for o in _by_id(reference, "commercial").values() if o.principal == "developer"]


# ---- the administrator who read the policies (perimeter review 2) ----------------------------------
def test_requests_carry_only_the_keys_bedrock_sends_and_the_workload_is_allowed(reference: perimeter.Proof) -> None:
    """The shipped organization config, simulated with aws:SourceVpce only: the workload's guarded call through
    its own endpoint is allowed (with aws:VpceOrgID, which Bedrock never sends, it would be an outage)."""
    invoke = _by_id(reference, "commercial")[f"workload.invoke{MODEL}"]
    assert invoke.decision in ("allowed", "guarded") and invoke.verdict == "as-expected", invoke.line()
    assert invoke.context["aws:SourceVpce"].startswith("vpce-")
    for outcome in reference.outcomes:
        assert not {"aws:VpceOrgID", "aws:VpceAccount", "aws:VpceOrgPaths"} & set(outcome.context), outcome.id


def test_the_proof_attacks_with_generated_principals_and_deputies(reference: perimeter.Proof) -> None:
    for env in ("commercial", "frontier"):
        outcomes = _by_id(reference, env)
        attacks = {i: o for i, o in outcomes.items() if i.startswith("attack.")}
        assert all(o.verdict == "as-expected" and o.decision == "denied" for o in attacks.values()), [
            o.line() for o in attacks.values() if o.decision != "denied"]
        region = {"commercial": "us-east-1", "frontier": "us-east-2"}[env]
        account = {"commercial": "111122223333", "frontier": "222233334444"}[env]
        cfn_exec = f"cdk-hnb659fds-cfn-exec-role-{account}-{region}"
        for verb in ("create", "retrust", "attach-policy", "pass-to-lambda", "assume"):
            for name in (cfn_exec, "compliant-bedrock-break-glass", f"cdk-hnb659fds-deploy-role-{account}-{region}"):
                assert f"attack.{verb}-exempt-role[{name}]" in attacks, (env, verb, name)
        for deputy in ("attack.deputy-stack.UpdateStack", "attack.deputy-stack.CreateChangeSet",
                       "attack.deputy-function.look-alike", "attack.writer-exemption-from-other-code"):
            assert deputy in attacks, (env, deputy)
        assert any(i.startswith("attack.deputy-function.UpdateFunctionCode[") for i in attacks)
        assert any(i.startswith("attack.detection.DisableRule[") for i in attacks)
        assert any(i.startswith("attack.endpoint.modify[") for i in attacks)
    # the frontier workload's role name, created in commercial's account, reaches no Mantle model (N3)
    elsewhere = _by_id(reference, "commercial")["attack.mantle.exempt-name-elsewhere[frontier-workload]"]
    assert elsewhere.decision == "denied" and elsewhere.principal_arn.endswith(":111122223333:role/frontier-workload")
    # and through another endpoint of the organization nothing passes (N5)
    assert _by_id(reference, "commercial")["user.responses.other-endpoint"].decision == "denied"
    assert _by_id(reference, "frontier")["attack.mantle.data-retention"].decision == "denied"  # N9


def test_an_exemption_by_pattern_is_obtained_and_the_proof_names_the_path(reference: perimeter.Proof) -> None:
    """Reopen N1 in the policies (an exemption by name in any account) and the generated request shows it."""
    from compliant_bedrock.compliance.perimeter import attacks

    scp = perimeter.Policy("scp", "scp", {"Statement": [{"Effect": "Deny", "Action": "cloudtrail:StopLogging",
                                                          "Resource": "*", "Condition": {"ArnNotLike": {
                                                              "aws:PrincipalArn": "arn:aws:iam::*:role/stacksets-exec-*"}}}]})
    names = attacks.candidate_roles(attacks.exempt_principals([scp]), "111122223333")
    assert names == [("stacksets-exec-pwn", "arn:aws:iam::*:role/stacksets-exec-*")]
    # an exemption naming another account is matched by no role of this one
    exact = perimeter.Policy("scp", "scp", {"Statement": [{"Effect": "Deny", "Action": "cloudtrail:StopLogging",
                                                           "Resource": "*", "Condition": {"ArnNotEquals": {
                                                               "aws:PrincipalArn": "arn:aws:iam::999988887777:role/x"}}}]})
    assert attacks.candidate_roles(attacks.exempt_principals([exact]), "111122223333") == []


@pytest.mark.parametrize(("entry", "message"), [
    ({"request": "user.api-key.use", "reason": "a reason of at least eight words for this path here",
      "expires": "2099-01-01"}, "approved_by"),
    ({"request": "user.api-key.use", "reason": "a reason of at least eight words for this path here",
      "approved_by": "AO, risk acceptance RA-1"}, "expires"),
    ({"request": "user.api-key.use", "reason": "a reason of at least eight words for this path here",
      "approved_by": "AO, risk acceptance RA-1", "expires": "2020-01-01"}, "expired on 2020-01-01"),
    ({"request": "user.batch-inference", "reason": "a reason of at least eight words for this path here",
      "approved_by": "AO, risk acceptance RA-1", "expires": "2099-01-01"}, "names a request family"),
])
def test_acceptances_need_an_exact_id_an_approver_and_a_future_expiry(tmp_path: Path, entry: dict[str, Any],
                                                                      message: str) -> None:
    path = tmp_path / "acceptances.yaml"
    path.write_text(yaml.safe_dump({"accepted": [entry]}))
    with pytest.raises(perimeter.PerimeterError, match=message):
        perimeter.load_acceptances(path)


def test_an_acceptance_covers_its_exact_request_only() -> None:
    acceptance = perimeter.Acceptance("user.batch-inference[openai.gpt-oss-120b-1:0]",
                                      "a reason of at least eight words for this one path",
                                      approved_by="AO, risk acceptance RA-1", expires="2099-01-01")
    assert acceptance.covers("govcloud", "user.batch-inference[openai.gpt-oss-120b-1:0]")
    assert not acceptance.covers("govcloud", "user.batch-inference[openai.gpt-oss-20b-1:0]")
    assert not acceptance.covers("govcloud", "user.batch-inference")
    family = perimeter.Acceptance("user.batch-inference", "a reason of at least eight words for this one path",
                                  approved_by="AO, risk acceptance RA-1", expires="2099-01-01")
    assert not family.covers("govcloud", "user.batch-inference[openai.gpt-oss-120b-1:0]")  # never by prefix
