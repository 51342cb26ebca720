"""The per-account baseline (StackSet) has evidence like any stack and is proven as a member account.

One reference synth through the CLI's pipeline (gate, perimeter proof, evidence) for the module; the
mutations of the baseline edit a copy of the organization template (the proof reads only the assembly), so
they cost one batched simulator run, not a synth.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliant_bedrock.compliance import perimeter
from compliant_bedrock.compliance_gate import prune_stale
from compliant_bedrock.evidence.assembly import AssemblyError, read_assembly, stack_sets
from infra.app_factory import ROOT, selected_organizations
from infra.baseline import STACKSET_NAME, baseline_name

#: The commercial organization's baseline (the GovCloud organization's is baseline-govcloud, proven alike).
BASELINE = "baseline-commercial"
BASELINE_STACK = f"CompliantBedrock-{BASELINE}"
ORGANIZATION_STACK = "CompliantBedrock-organization-commercial"
ORG = f"{ORGANIZATION_STACK}/Policies"


@pytest.fixture(scope="module")
def out(reference_out: Path) -> Path:
    """The reference app synthesized, gated, proven and reported once, as `make synth` does (conftest, shared)."""
    return reference_out


@pytest.fixture(scope="module")
def settings():
    organization = next(o for o in selected_organizations() if o.name == "commercial")
    assert organization.baseline.enabled
    return organization


@pytest.fixture(scope="module")
def proof(out: Path) -> dict[str, Any]:
    return json.loads((out / "compliance" / f"perimeter-{BASELINE}.json").read_text())


def _by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in document["requests"]}


def _org_template(out: Path) -> dict[str, Any]:
    return json.loads((out / f"{ORGANIZATION_STACK}.template.json").read_text())


def _stack_set(template: dict[str, Any], name: str = STACKSET_NAME) -> dict[str, Any]:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFormation::StackSet"
                   and r["Properties"]["StackSetName"] == name]
    return resource


# ---- the baseline's own assembly: evidence, never a deployable stack ------------------------------------
def test_the_baseline_is_no_stack_of_the_app_but_its_template_and_reports_are_kept(out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = sorted(n for n, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack")
    # `cdk deploy --all` deploys these: the baseline is not among them (it would land in the management account)
    assert BASELINE_STACK not in stacks and ORGANIZATION_STACK in stacks
    assert not [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloud-assembly"]  # no nested stage
    kept = out / "stacksets" / BASELINE_STACK
    resource = _stack_set(_org_template(out))
    assert resource["Metadata"]["compliant-bedrock:assembly"] == f"stacksets/{BASELINE_STACK}"
    # the kept template is the StackSet's TemplateBody, and each pack judged it
    assert json.loads((kept / f"{BASELINE_STACK}.template.json").read_text()) == json.loads(
        resource["Properties"]["TemplateBody"])
    for pack in ("NIST.800.53.R5", "AwsSolutions", "Bedrock"):
        assert json.loads((kept / f"{pack}--{BASELINE_STACK}-NagReport.json").read_text())["lines"], pack
    assert baseline_name("commercial") == BASELINE and baseline_name("govcloud") == "baseline-govcloud"
    assert baseline_name() == "baseline"  # a single organization.yaml keeps the short name
    assert STACKSET_NAME == "CompliantBedrock-baseline"  # the StackSet's name; its evidence is the organization's


def test_the_baseline_has_a_matrix_a_proof_and_an_oscal_component(out: Path) -> None:
    dest = out / "compliance"
    for name in (f"matrix-{BASELINE}.json", f"matrix-{BASELINE}.md", f"responsibility-{BASELINE}.md", f"sdr-{BASELINE}.json",
                 f"architecture-{BASELINE}.svg", f"perimeter-{BASELINE}.json", f"perimeter-{BASELINE}.md"):
        assert (dest / name).is_file(), name
    matrix = json.loads((dest / f"matrix-{BASELINE}.json").read_text())
    assert matrix["stack"] == BASELINE_STACK and matrix["environment"] == BASELINE
    statuses = {c["status"] for c in matrix["controls"]}
    assert "satisfied-by-automated-check" in statuses and "not-satisfied" not in statuses
    summary = json.loads((dest / "summary.json").read_text())
    assert summary["stacks"][BASELINE_STACK]["gate"] == "pass"
    assert summary["perimeter"][BASELINE]["passed"] is True
    document = json.loads((dest / "component-definition.json").read_text())["component-definition"]
    implementations = [ci for c in document["components"] for ci in c.get("control-implementations", [])
                       if any((p["name"], p["value"]) == ("environment", BASELINE) for p in ci["props"])]
    assert {c["title"] for c in document["components"] if any(ci in implementations
                                                                for ci in c.get("control-implementations", []))} >= {
        f"{part} ({BASELINE})" for part in ("Model invocation logging", "Bedrock guardrail", "Synth-time compliance gate")}
    gate = next(ci for c in document["components"] if c["title"] == f"Synth-time compliance gate ({BASELINE})"
                for ci in c.get("control-implementations", []) if ci in implementations)
    assert "Perimeter proof" in json.dumps(gate) and f"perimeter-{BASELINE}.md" in json.dumps(gate)
    assert BASELINE in json.loads((dest / "baseline-coverage.json").read_text())["coverage"]
    poam = json.dumps(json.loads((dest / "poam.json").read_text()))
    assert BASELINE_STACK in poam  # its suppressed findings are accepted risks like any stack's


def test_the_evidence_says_where_the_stackset_deploys_it_and_which_policies_bind_it(out: Path, settings) -> None:
    accounts, regions = ", ".join(settings.baseline.accounts), ", ".join(sorted(settings.baseline_regions))
    for text in ((out / "compliance" / f"matrix-{BASELINE}.md").read_text(),
                 json.dumps(json.loads((out / "compliance" / "component-definition.json").read_text())),
                 (out / "compliance" / f"perimeter-{BASELINE}.md").read_text()):
        assert f"StackSet `{STACKSET_NAME}` of stack {ORGANIZATION_STACK}" in text
        assert f"account {settings.management_account}" in text
        assert f"to accounts {accounts} (INTERSECTION with OUs {', '.join(settings.baseline_target_ous)})" in text
        assert f"in regions {regions}" in text
        assert f"(organization {settings.organization_id}) bind those accounts" in text
        assert "SCPs compliant-bedrock-audit-plane-1" in text and "Bedrock policy compliant-bedrock-guardrail" in text


# ---- the proof as each member account and region ---------------------------------------------------------
def test_every_baseline_account_and_region_is_proven_and_nothing_is_accepted(proof: dict[str, Any],
                                                                              settings) -> None:
    instances = {f"@{a}/{r}" for a in settings.baseline.accounts for r in settings.baseline_regions}
    requests = proof["requests"]
    assert proof["passed"] is True and set(proof["counts"]) == {"as-expected"}
    assert {r["id"][r["id"].index("@"):] for r in requests} == instances
    per_instance = {i: [r for r in requests if r["id"].endswith(i)] for i in instances}
    assert len({len(rows) for rows in per_instance.values()}) == 1 and len(requests) >= 70 * len(instances)
    for request in requests:
        assert request["verdict"] == "as-expected" and request["accepted_reason"] is None, request["id"]
        assert any(a.startswith(f"stack instance StackSet-{STACKSET_NAME}-") for a in request["assumptions"])
        # the instance's own account: the principal, and every resource that names an account
        account = request["id"].rsplit("@", 1)[1].split("/")[0]
        assert f":{account}:" in request["principal_arn"]
    assert proof["scope"][1].startswith(f"Not a stack of this app: the service-managed StackSet `{STACKSET_NAME}`")


def test_member_inference_is_denied_by_the_organization_and_what_slips_past_is_guarded(proof: dict[str, Any]) -> None:
    by_id = _by_id(proof)
    endpoint = f"SCP {ORG}/ScpInference#DenyInferenceOutsideApprovedEndpoints"
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        at = f"@555566667777/{region}"
        for rid in ("user.invoke.no-approved-endpoint", "user.invoke-stream.no-approved-endpoint",
                    "user.invoke.own-endpoint"):
            assert (by_id[rid + at]["decision"], by_id[rid + at]["expect"]) == ("denied", "deny"), rid
            assert endpoint in by_id[rid + at]["deciding"], rid
        outside = by_id["user.invoke.outside-regions" + at]
        assert outside["decision"] == "denied" and outside["context"]["aws:RequestedRegion"] == "us-west-1"
        assert f"SCP {ORG}/ScpInference#DenyBedrockOutsideApprovedRegions" in outside["deciding"]
        for rid, sid in (("user.api-key.use", "DenyBedrockApiKeys"), ("user.api-key.create", "DenyBedrockApiKeyCreation"),
                         ("user.batch-inference.any-model", "DenyBatchInferenceExceptNamedRoles")):
            assert f"SCP {ORG}/ScpInference#{sid}" in by_id[rid + at]["deciding"], rid
        # a call an AWS service makes for the user passes the endpoint SCP: the baseline's own enforcement guards it
        via = by_id["user.invoke.via-service" + at]
        assert (via["decision"], via["guarded_by"]) == ("guarded", f"{BASELINE_STACK}/AccountGuardrail/AccountEnforcement")


def test_member_administrators_cannot_switch_off_or_rewrite_the_audit_plane(proof: dict[str, Any],
                                                                           settings) -> None:
    by_id = _by_id(proof)
    at = "@555566667777/us-east-2"
    audit = f"SCP {ORG}/ScpAuditPlane1"
    for rid in ("admin.invocation-logging.delete", "admin.invocation-logging.repoint",
                "admin.guardrail-enforcement.delete", "admin.guardrail-enforcement.put"):
        assert by_id[rid + at]["deciding"] == [f"{audit}#ProtectBedrockAuditConfiguration"], rid
    # the audit key: its own key policy AND the organization deny it (either alone would still hold)
    for verb in ("disable", "schedule-deletion", "put-policy"):
        deciding = by_id[f"admin.audit-key.{verb}[InvocationLogging/Key]{at}"]["deciding"]
        assert f"resource policy {BASELINE_STACK}/InvocationLogging/Key#DenyAuditKeyTamperExceptBreakGlassAndDeploy" in deciding
        assert f"{audit}#ProtectAuditKeys" in deciding
    for verb in ("object-lock", "put-policy", "delete-policy", "lifecycle"):
        deciding = by_id[f"admin.audit-bucket.{verb}[InvocationLogging/Bucket]{at}"]["deciding"]
        assert (f"resource policy {BASELINE_STACK}/InvocationLogging/Bucket/Bucket/Policy"
                "#DenyAuditBucketTamperExceptBreakGlassAndDeploy") in deciding
        assert f"{audit}#ProtectAuditResources" in deciding  # stackset-compliantbedrock-* meets the bucket name
    for verb in ("delete", "retention", "disassociate-key"):
        assert by_id[f"admin.audit-log-group.{verb}[InvocationLogging/LogGroup]{at}"]["deciding"] == [
            f"{audit}#ProtectAuditResources"]
    assert by_id["admin.stack.delete" + at]["deciding"] == [f"{audit}#ProtectPackageStacks"]
    # break-glass keeps its way in (exact ARN in this account)
    assert by_id[f"break-glass.audit-key.schedule-deletion[InvocationLogging/Key]{at}"]["decision"] == "allowed"
    # becoming the exempt execution role or break-glass in the member account, and the package's deputies there
    for name in (settings.baseline.execution_role, settings.roles.break_glass):
        for verb in ("create", "retrust", "attach-policy", "pass-to-lambda", "assume"):
            assert by_id[f"attack.{verb}-exempt-role[{name}]{at}"]["decision"] == "denied", (verb, name)
    generated = {i.split("[")[0].removesuffix(at) for i in by_id if i.startswith("attack.") and i.endswith(at)}
    assert {"attack.deputy-function.UpdateFunctionCode", "attack.deputy-function.look-alike",
            "attack.writer-exemption-from-other-code", "attack.deputy-stack.UpdateStack",
            "attack.detection.DisableRule", "attack.detection.DeleteTopic"} <= generated


def test_the_replicas_have_their_own_evidence_and_proof_in_the_replica_regions(out: Path, settings) -> None:
    """The replica StackSet is read like the baseline's: a matrix, and a proof as each account in each replica region,
    where the account's inference is guarded by the baseline's enforcement deployed with it (DependsOn)."""
    replica = f"{BASELINE}-replica"
    dest = out / "compliance"
    summary = json.loads((dest / "summary.json").read_text())
    assert summary["stacks"][f"{BASELINE_STACK}-replica"]["gate"] == "pass"
    assert summary["perimeter"][replica]["passed"] is True
    proof = json.loads((dest / f"perimeter-{replica}.json").read_text())
    by_id = _by_id(proof)
    regions = sorted(set(settings.baseline.replica_regions.values()))
    assert {i[i.index("@"):] for i in by_id} == {f"@{a}/{r}" for a in settings.baseline.accounts for r in regions}
    assert set(proof["counts"]) == {"as-expected"}
    for region in regions:
        at = f"@555566667777/{region}"
        assert by_id["user.invoke.via-service" + at]["guarded_by"] == f"{BASELINE_STACK}/AccountGuardrail/AccountEnforcement"
        for source in [s for s, r in settings.baseline.replica_regions.items() if r == region]:
            # a replica's only writer is nobody's to become, and its bucket and key are the audit plane's
            for verb in ("create", "retrust", "attach-policy", "pass-to-lambda", "assume"):
                request = by_id[f"attack.{verb}-exempt-role[CompliantBedrock-baseline-{source}-replication]{at}"]
                assert request["decision"] == "denied", (verb, source)
            deciding = by_id[f"admin.audit-bucket.object-lock[Replica-{source}/Bucket]{at}"]["deciding"]
            assert any(d.endswith("#ProtectAuditResources") for d in deciding)  # cb-*-replica
            assert any("#DenyAuditBucketTamperExceptBreakGlassAndDeploy" in d for d in deciding)


# ---- mutants of the baseline: the proof fails ----------------------------------------------------------
def _mutant_assembly(out: Path, directory: Path, bodies: dict[str, dict[str, Any]]) -> Path:
    """The organization stack alone, its StackSets replaced by one StackSet per mutated body (named by the key)."""
    directory.mkdir(parents=True)
    template = _org_template(out)
    reference = _stack_set(template)
    for logical_id in [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::CloudFormation::StackSet"]:
        del template["Resources"][logical_id]
    for name, body in bodies.items():
        mutant = copy.deepcopy(reference)
        mutant.pop("Metadata")  # no kept assembly: the proof reads the TemplateBody itself
        mutant["Properties"].update({"StackSetName": name, "TemplateBody": json.dumps(body)})
        template["Resources"][name.replace("-", "")] = mutant
    (directory / "org.template.json").write_text(json.dumps(template))
    manifest = json.loads((out / "manifest.json").read_text())
    artifact = manifest["artifacts"][ORGANIZATION_STACK]
    artifact["properties"]["templateFile"] = "org.template.json"
    artifact.pop("additionalMetadataFile", None)
    (directory / "manifest.json").write_text(json.dumps({"version": manifest["version"],
                                                         "artifacts": {ORGANIZATION_STACK: artifact}}))
    return directory


@pytest.fixture(scope="module")
def mutated(out: Path, tmp_path_factory: pytest.TempPathFactory) -> perimeter.Proof:
    body = json.loads(_stack_set(_org_template(out))["Properties"]["TemplateBody"])
    unenforced = copy.deepcopy(body)
    for logical_id in [lid for lid, r in unenforced["Resources"].items()
                       if r["Type"] == "AWS::Bedrock::EnforcedGuardrailConfiguration"]:
        del unenforced["Resources"][logical_id]
    exempting = copy.deepcopy(body)  # the key deny exempting a role name any member administrator can create
    for resource in exempting["Resources"].values():
        for statement in (resource.get("Properties") or {}).get("KeyPolicy", {}).get("Statement", []):
            if statement.get("Sid") == "DenyAuditKeyTamperExceptBreakGlassAndDeploy":
                statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append(
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops-automation"})
    directory = _mutant_assembly(out, tmp_path_factory.mktemp("mutants") / "out",
                                 {"CompliantBedrock-baseline-unenforced": unenforced,
                                  "CompliantBedrock-baseline-exempting": exempting})
    return perimeter.prove(directory, node_modules=ROOT / "node_modules")


def test_a_baseline_without_its_enforced_guardrail_fails_the_proof(mutated: perimeter.Proof) -> None:
    open_ = {o.id for o in mutated.blocking if o.environment == "baseline-unenforced"}
    # us-east-1 keeps the organization's Bedrock policy; the other regions had only the baseline's enforcement
    assert open_ == {"user.invoke.via-service@555566667777/us-east-2", "user.invoke.via-service@555566667777/us-west-2"}
    assert not mutated.passed


def test_a_key_exemption_an_administrator_can_obtain_fails_the_proof(mutated: perimeter.Proof) -> None:
    open_ = {o.id.split("@")[0] for o in mutated.blocking if o.environment == "baseline-exempting"}
    assert {"attack.create-exempt-role[ops-automation]", "attack.retrust-exempt-role[ops-automation]",
            "attack.assume-exempt-role[ops-automation]"} <= open_


# ---- stale or foreign assemblies, acceptances ------------------------------------------------------------
def test_a_kept_assembly_that_is_not_the_deployed_template_is_refused_and_stale_ones_pruned(
        out: Path, tmp_path: Path) -> None:
    copy_ = tmp_path / "out"
    shutil.copytree(out, copy_, ignore=shutil.ignore_patterns("compliance", "*.png", "*.svg"))
    (copy_ / "stacksets" / "CompliantBedrock-old").mkdir()
    assert copy_ / "stacksets" / "CompliantBedrock-old" in prune_stale(copy_)
    assert sorted(p.name for p in (copy_ / "stacksets").iterdir()) == [
        BASELINE_STACK, f"{BASELINE_STACK}-replica", "CompliantBedrock-baseline-govcloud",
        "CompliantBedrock-baseline-govcloud-replica"]
    kept = copy_ / "stacksets" / BASELINE_STACK / f"{BASELINE_STACK}.template.json"
    template = json.loads(kept.read_text())
    template["Description"] = "an earlier synth's baseline"
    kept.write_text(json.dumps(template))
    with pytest.raises(AssemblyError, match="holds another template than the StackSet deploys"):
        read_assembly(copy_)
    (member,) = [s for s in stack_sets(copy_) if s.holder == ORGANIZATION_STACK  # the proof still evaluates the
                 and s.stack_set_name == STACKSET_NAME]                          # TemplateBody, which is what deploys
    assert member.assembly is None and member.problem


def test_a_stackset_template_the_proof_did_not_read_fails_the_gate(out: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import aws_cdk as cdk

    from compliant_bedrock import ComplianceGate
    from compliant_bedrock.compliance.perimeter import discovery

    copy_ = tmp_path / "out"
    shutil.copytree(out, copy_, ignore=shutil.ignore_patterns("*.png", "*.svg"))
    monkeypatch.setattr(discovery, "stack_sets", lambda outdir: [])  # the proof no longer sees the StackSet
    verdict = io.StringIO()
    result = ComplianceGate(cdk.App(), perimeter="required", node_modules=ROOT / "node_modules",
                            out=verdict).judge(copy_)
    assert result.exit_code == 3 and "environment(s) baseline" in result.message in verdict.getvalue()
    assert not (copy_ / "compliance").exists()  # no evidence that claims an unproven perimeter


def test_an_acceptance_names_one_instance_of_one_request(tmp_path: Path) -> None:
    entry = {"reason": "Accepted for this one member account while its migration to the baseline completes",
             "approved_by": "AO, risk acceptance RA-2026-077", "expires": "2999-01-01"}
    path = tmp_path / "accepted.yaml"
    request = "admin.audit-key.disable[InvocationLogging/Key]@555566667777/us-east-2"
    path.write_text(yaml.safe_dump({"accepted": [{**entry, "request": request}]}))
    (acceptance,) = perimeter.load_acceptances(path)
    assert acceptance.covers(BASELINE, request)
    assert not acceptance.covers(BASELINE, request.replace("us-east-2", "us-west-2"))
    path.write_text(yaml.safe_dump({"accepted": [{**entry, "request": "admin.audit-key.disable@555566667777/us-east-2"}]}))
    with pytest.raises(perimeter.PerimeterError, match="names a request family"):
        perimeter.load_acceptances(path)


def test_the_cli_files_the_deviations_the_configuration_accepts(out: Path) -> None:
    """As `make synth` runs it: the gate's POA&M carries frontier's non-FIPS Mantle endpoint and commercial's accepted
    UNCERTAIN destinations (the configuration's deviations reach the evidence through the CLI and the gate)."""
    items = json.loads((out / "compliance" / "poam.json").read_text())["items"]
    filed = {(i["environment"], i["source"], i["resource"]) for i in items if i["source"].startswith("configuration")}
    assert filed == {("frontier", "configuration non_fips_endpoints", "bedrock-mantle interface endpoint"),
                     ("commercial", "configuration accept_uncertain_destinations", "us.openai.gpt-5.6-sol"),
                     ("commercial", "configuration accept_unverified_models", "us.openai.gpt-5.6-sol"),
                     ("govcloud", "configuration accept_unverified_models", "us-gov.openai.gpt-oss-20b-1:0")}
# ---- every evidence file says what it is; the provenance of this synth ------------------------------------
def test_every_evidence_file_says_it_is_pre_deployment_evidence(out: Path) -> None:
    """findings.json and the perimeter files (written by the gate and the proof) as much as the report's."""
    dest = out / "compliance"
    files = sorted(p for p in dest.iterdir() if p.is_file())
    names = {p.name for p in files}
    assert {"findings.json", "provenance.json", f"perimeter-{BASELINE}.json", f"perimeter-{BASELINE}.md",
            "perimeter-commercial.md", "sdr-commercial.json", "poam.csv"} <= names
    for path in files:
        if path.suffix == ".png":  # drawn from the same scene as its SVG, which carries the statement as text
            assert "Pre-deployment evidence" in (dest / f"{path.stem}.svg").read_text(encoding="utf-8"), path.name
            continue
        assert "pre-deployment evidence" in path.read_text(encoding="utf-8").lower(), path.name
    for path in [dest / "findings.json", *dest.glob("perimeter-*.json"), dest / "provenance.json"]:
        assert json.loads(path.read_text())["evidence_basis"].startswith("Pre-deployment evidence"), path.name


def test_provenance_of_the_synth_names_the_simulator_and_the_configuration(out: Path) -> None:
    from compliant_bedrock.compliance.perimeter import simulator

    provenance = json.loads((out / "compliance" / "provenance.json").read_text())
    assert provenance["tools"][simulator.PACKAGE]["version"] == simulator.VERSION  # the proof ran
    assert provenance["tools"]["node"]["version"]
    configuration = provenance["inputs"]["configuration"]
    assert {"config/commercial.yaml", "config/perimeter/accepted-open-paths.yaml", "cdk.json"} <= set(configuration)
    assert configuration["config/commercial.yaml"] == hashlib.sha256((ROOT / "config" / "commercial.yaml").read_bytes()).hexdigest()
    kept = f"stacksets/{BASELINE_STACK}/{BASELINE_STACK}.template.json"
    assert provenance["inputs"]["assembly"][kept] == hashlib.sha256((out / kept).read_bytes()).hexdigest()
    assert not provenance["timestamp"].startswith("1970")


#: The environments whose figures the README and docs/ quote (this repository's config/).
DOCUMENTED_ENVIRONMENTS = {"commercial", "frontier", "govcloud"}


def shipped_docs_config() -> None:
    """Skip a docs-figure test in a fork whose config/ no longer is the one the docs describe."""
    present = {p.stem for p in (ROOT / "config").glob("*.yaml")}
    if present != DOCUMENTED_ENVIRONMENTS:
        pytest.skip(f"config/ has environments {sorted(present)}, the docs quote figures for "
                    f"{sorted(DOCUMENTED_ENVIRONMENTS)}: regenerate the docs' figures for a fork")


def test_the_docs_verdict_figures_are_what_the_reference_synth_prints(out: Path) -> None:
    """The figures of every verdict line the README and docs/ quote for the reference app are this synth's, never
    typed from an older one (docs/getting-started.md quotes the own-app example's: tests/test_own_app.py). The docs
    describe this repository's own config/: a fork that adds an environment is not held to them (skipped, said)."""
    import re

    shipped_docs_config()

    verdict = re.compile(r"\((\d+) stacks, perimeter proof (\d+) requests in (\d+) environment\(s\)\)")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"`compliance: gate passed \(\d+ stacks, perimeter proof \d+ requests in \d+ "
                     r"environment\(s\)\); evidence in cdk.out/compliance/`", readme), (
        "README: the verdict line of `make synth` is missing")
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = sum(1 for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack")
    proofs = [json.loads(p.read_text()) for p in (out / "compliance").glob("perimeter-*.json")]
    actual = (stacks, sum(len(p["requests"]) for p in proofs), len(proofs))
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    stated = {(page.name, tuple(map(int, m))) for page in pages if page.name != "getting-started.md"
              for m in verdict.findall(page.read_text(encoding="utf-8"))}
    assert {figures for _, figures in stated} == {actual}, sorted(stated)


def test_the_auditors_pages_counts_are_what_the_reference_synth_renders(out: Path) -> None:
    """docs/auditors.md states the counts block index.md renders from this synth's evidence model, never figures typed
    from an older synth (tools/auditor_counts.py rewrites it)."""
    from compliant_bedrock.evidence.index import COUNTS_END, COUNTS_START
    from tools.auditor_counts import counts_block

    shipped_docs_config()
    index = (out / "compliance" / "index.md").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "auditors.md").read_text(encoding="utf-8")
    assert COUNTS_START in index and COUNTS_END in index
    stated = counts_block(page, "docs/auditors.md")

    def judged(block: str) -> str:  # cfn-guard runs in make synth after the gate, not in this module's synth
        return "\n".join(line for line in block.splitlines() if not line.startswith("| Supporting observations"))

    assert judged(stated) == judged(counts_block(index, "index.md")), (
        "docs/auditors.md: counts differ from the reference synth; run make synth, then tools/auditor_counts.py")
    assert "| Supporting observations (cfn-guard) | " in stated  # the page quotes make synth, cfn-guard included
    # ... and the page's figures are the files' own
    poam = json.loads((out / "compliance" / "poam.json").read_text())
    assert f"| POA&M items (by kind) | {len(poam['items'])}: " in stated
    assert f"| POA&M scoping rows (controls automation did not show) | {len(poam['scoping'])} |" in stated
    proofs = [json.loads(p.read_text()) for p in (out / "compliance").glob("perimeter-*.json")]
    assert f"| Perimeter proof requests (environments) | {sum(len(p['requests']) for p in proofs)} ({len(proofs)}): " in stated


def test_the_synths_assessment_results_carry_every_perimeter_decision(out: Path) -> None:
    """As `make synth` writes them: each environment's proven requests are observations of its result, with the
    decision and the statements that decided it; trestle's model validates the document and the OSCAL POA&M."""
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.poam import PlanOfActionAndMilestones

    dest = out / "compliance"
    raw = json.loads((dest / "assessment-results.json").read_text())["assessment-results"]
    AssessmentResults.model_validate(raw)
    PlanOfActionAndMilestones.model_validate(
        json.loads((dest / "poam-oscal.json").read_text())["plan-of-action-and-milestones"])
    results = {next(p["value"] for p in r["props"] if p["name"] == "environment"): r for r in raw["results"]}
    for proof_file in sorted(dest.glob("perimeter-*.json")):
        proof = json.loads(proof_file.read_text())
        decisions = {next(p["value"] for p in o["props"] if p["name"] == "request-id"): o
                     for o in results[proof["environment"]]["observations"]
                     if any(p["name"] == "request-id" for p in o["props"])}
        assert set(decisions) == {r["id"] for r in proof["requests"]}, proof_file.name
        for request in proof["requests"]:
            props = decisions[request["id"]]["props"]
            assert [p["value"] for p in props if p["name"] == "decision"] == [request["decision"]]
            assert [p["value"] for p in props if p["name"] == "deciding-statement"] == [str(d) for d in
                                                                                         request["deciding"] or []]


def test_the_docs_perimeter_excerpt_is_what_the_reference_synth_decided(out: Path) -> None:
    """docs/evidence.md quotes rows of perimeter-commercial.md: each row's request, principal, action, path,
    expectation, decision, controls and verdict are this synth's (the deciding statements are shortened there)."""
    def rows(text: str) -> dict[str, list[str]]:
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
                 if line.startswith("| `") and line.count("|") == 10]
        return {row[0]: row for row in cells}

    quoted = rows((ROOT / "docs" / "evidence.md").read_text(encoding="utf-8"))
    actual = rows((out / "compliance" / "perimeter-commercial.md").read_text(encoding="utf-8"))
    assert quoted, "docs/evidence.md: the perimeter-commercial.md excerpt is missing"
    for request, row in quoted.items():
        assert request in actual, f"{request}: no longer a request of perimeter-commercial.md"
        assert row[:6] + row[7:] == actual[request][:6] + actual[request][7:], request


def test_the_docs_responsibility_excerpt_is_what_the_reference_synth_wrote(out: Path) -> None:
    """docs/evidence.md quotes rows of responsibility-commercial.md: status and responsibility are this synth's, and
    each quoted SSP text (cut at "...") is how this synth's text begins."""
    def rows(text: str) -> dict[str, list[str]]:
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
                 if line.count("|") == 5 and line.startswith("| ") and not line.startswith(("| Control", "| ---"))]
        return {row[0]: row for row in cells}

    page = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    excerpt = page.split("## Responsibility and SSP starting text", 1)[1].split("\n## ", 1)[0]
    quoted = rows(excerpt)
    actual = rows((out / "compliance" / "responsibility-commercial.md").read_text(encoding="utf-8"))
    assert quoted, "docs/evidence.md: the responsibility-commercial.md excerpt is missing"
    for control, row in quoted.items():
        assert row[1:3] == actual[control][1:3], control
        assert actual[control][3].startswith(row[3].removesuffix("...").rstrip()), control


def test_the_docs_scp_document_count_is_the_reference_organizations(out: Path) -> None:
    """docs/organization.md says how many SCP documents the commercial organization fills (its headroom)."""
    import re

    words = {"three": 3, "four": 4, "five": 5}
    page = (ROOT / "docs" / "organization.md").read_text(encoding="utf-8")
    stated = re.search(r"organization's SCPs fill (\w+) documents", page)
    assert stated, "docs/organization.md: the SCP document count is missing"
    template = json.loads((out / "CompliantBedrock-organization-commercial.template.json").read_text())
    scps = [r for r in template["Resources"].values()
            if r["Type"] == "AWS::Organizations::Policy" and r["Properties"]["Type"] == "SERVICE_CONTROL_POLICY"]
    assert words[stated[1]] == len(scps)


def test_the_configurations_poam_point_of_contact_reaches_the_poam_through_the_cli_and_the_gate(out: Path) -> None:
    """commercial's configuration names its POA&M point of contact; the other environments' items say it is the
    system owner's to set."""
    items = json.loads((out / "compliance" / "poam.json").read_text())["items"]
    contacts = {(i["environment"].removesuffix("-replica"), i["point_of_contact"]) for i in items}
    assert ("commercial", "ISSO of the commercial system, platform-team@example.gov") in contacts
    assert {c for env, c in contacts if env == "commercial"} == {"ISSO of the commercial system, platform-team@example.gov"}
    assert ("frontier", "to be set by the system owner") in contacts


# -- the weekly verification (config/organization/*.yaml verification), wired into the reference app ---------------

@pytest.mark.parametrize(("organization", "partition", "schedule_type"), [
    ("commercial", "aws", "AWS::Scheduler::Schedule"),
    # Scheduler is not documented in GovCloud (partitions.SCHEDULER_PARTITIONS): an EventBridge scheduled rule
    ("govcloud", "aws-us-gov", "AWS::Events::Rule")])
def test_each_organization_verifies_its_environments_weekly_from_the_security_account(
        out: Path, organization: str, partition: str, schedule_type: str) -> None:
    """The verification stack is in the security account, passed the gate with the app (the fixture's exit 0), and
    its project role assumes exactly the read-only roles the covered environments' stacks and the organization
    stack create, each trusting that project role only."""
    settings = next(o for o in selected_organizations() if o.name == organization)
    verification = settings.verification
    assert verification is not None
    manifest = json.loads((out / "manifest.json").read_text())["artifacts"]
    stack = f"CompliantBedrock-verification-{organization}"
    assert manifest[stack]["environment"] == f"aws://{verification.account}/{settings.home_region}"
    assert verification.account not in {settings.management_account} | {e.account for e in settings.covered_environments()}
    template = json.loads((out / f"{stack}.template.json").read_text())
    kinds = [r["Type"] for r in template["Resources"].values()]
    assert schedule_type in kinds and "AWS::CodeBuild::Project" in kinds
    project_role = next(r["Properties"] for r in template["Resources"].values()
                        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == verification.project_role_name)
    assert project_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assumed = [s["Resource"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
               for s in r["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "AssumeTheReadOnlyRoles"]
    expected = sorted({e.verify.role_arn for e in settings.covered_environments()} | {settings.verify.role_arn})
    assert [sorted(a) if isinstance(a, list) else [a] for a in assumed] == [expected]
    assert all(arn.startswith(f"arn:{partition}:iam::") for arn in expected)
    # every read-only role exists, in its own account's stack, trusting the project role by aws:PrincipalArn
    trusted = f"arn:{partition}:iam::{verification.account}:role/{verification.project_role_name}"
    holders = [*(e.stack_name for e in settings.covered_environments()), settings.stack_name]
    for holder in holders:
        resources = json.loads((out / f"{holder}.template.json").read_text())["Resources"]
        roles = [r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "compliant-bedrock-verify"]
        assert len(roles) == 1, holder
        trust = roles[0]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Condition"] for s in trust] == [{"ArnEquals": {"aws:PrincipalArn": trusted}}], holder
        policy = next(r["Properties"]["PolicyDocument"] for r in resources.values()
                      if r["Type"] == "AWS::IAM::ManagedPolicy" and "read-only" in r["Properties"].get("Description", ""))
        actions = policy["Statement"][0]["Action"]
        assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "DetectStackDrift")) for a in actions), holder
        # only the management account's role reads the organization's policies
        assert ("organizations:DescribePolicy" in actions) == (holder == settings.stack_name), holder
