"""One organization per partition: coverage of every environment, what a partition offers (cited), the
organization trail, and the GovCloud organization stack of the reference app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from compliant_bedrock.compliance import attach_packs, judge
from compliant_bedrock.partitions import FEATURES, IAM_EVENTS_REGION, support
from infra.app_factory import ROOT, cdk_json_context, selected_organizations
from infra.config import ConfigError, load_environments
from infra.org_config import load_organizations
from infra.organization_stack import OrganizationStack

SHIPPED = ROOT / "config"
GOV = (SHIPPED / "organization" / "govcloud.yaml").read_text()
COM = (SHIPPED / "organization" / "commercial.yaml").read_text()


def _config(tmp_path: Path, organizations: dict[str, str], env_changes: dict[str, tuple[str, str]] | None = None) -> Path:
    """The shipped environments (every file of config/, a fork's too) and these organization files (name -> text) in
    a config directory of its own."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for env in sorted(p.stem for p in SHIPPED.glob("*.yaml")):
        text = (SHIPPED / f"{env}.yaml").read_text()
        if env_changes and env in env_changes:
            assert env_changes[env][0] in text
            text = text.replace(*env_changes[env])
        (tmp_path / f"{env}.yaml").write_text(text)
    (tmp_path / "organization").mkdir()
    for name, text in organizations.items():
        (tmp_path / "organization" / f"{name}.yaml").write_text(text)
    return tmp_path


def _load(directory: Path) -> list:
    return load_organizations(directory, load_environments(directory))


# ---- coverage ---------------------------------------------------------------------------------------
def test_the_shipped_config_covers_every_environment_once_in_its_own_partition() -> None:
    organizations = selected_organizations({})
    assert [(o.name, o.partition, o.stack_name) for o in organizations] == [
        ("commercial", "aws", "CompliantBedrock-organization-commercial"),
        ("govcloud", "aws-us-gov", "CompliantBedrock-organization-govcloud")]
    # every environment of config/ (a fork's added ones too) is covered, unless it says why not
    assert {e for o in organizations for e in o.covers_environments} == {
        e.name for e in load_environments(SHIPPED) if not e.no_organization_reason}


def test_an_uncovered_environment_fails_naming_the_field_unless_it_says_why(tmp_path: Path) -> None:
    directory = _config(tmp_path, {"commercial": COM})  # the GovCloud organization's file removed
    with pytest.raises(ConfigError, match=r"environment 'govcloud': no organization covers it .*partition "
                                          r"'aws-us-gov'.*no_organization_reason"):
        _load(directory)
    reason = "no_organization_reason: This account is a standalone GovCloud sandbox outside any organization\n"
    uncovered = yaml.safe_load(GOV)["covers_environments"]  # govcloud, and any a fork added to that organization
    directory = _config(tmp_path / "ok", {"commercial": COM}, {e: (f"name: {e}\n", f"name: {e}\n" + reason) for e in uncovered})
    assert [o.name for o in _load(directory)] == ["commercial"]


def test_an_environment_of_another_partition_or_of_two_organizations_is_refused(tmp_path: Path) -> None:
    other = COM.replace("covers_environments: [commercial, frontier]", "covers_environments: [commercial, frontier, govcloud]")
    with pytest.raises(ConfigError) as err:
        _load(_config(tmp_path, {"commercial": other, "govcloud": GOV}))
    text = str(err.value)
    assert "commercial.yaml: organization: covers_environments: 'govcloud' is in partition 'aws-us-gov'" in text
    assert "covered by 2 organizations" in text
    twice = GOV.replace("organization_id: o-examplegov01", "organization_id: o-exampleorg1")
    with pytest.raises(ConfigError, match="o-exampleorg1 is already configured"):
        _load(_config(tmp_path / "dup", {"commercial": COM, "govcloud": twice}))


def test_the_organization_file_name_names_the_stack(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the file name 'Gov_Cloud' names the organization stack"):
        _load(_config(tmp_path, {"commercial": COM, "Gov_Cloud": GOV}))


# ---- what a partition offers ------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    (("  enforce: false\n", "  enforce: true\n"),
     r"guardrail.enforce: true: AWS does not document bedrock_policy in partition 'aws-us-gov' \(BEDROCK_POLICY: no AWS"),
    (("rcp:\n", "rcp:\n  enabled: true\n"), r"rcp.enabled: true: AWS does not document resource_control_policies"),
])
def test_a_feature_aws_does_not_document_in_the_partition_is_refused_with_its_source(
        tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = GOV.replace(*change)
    if change[0] == "  enforce: false\n":  # the reason belongs to enforce: false only
        text = text[:text.index("  not_enforced_reason:")] + text[text.index("  pii_action:"):]
    if change[0] == "rcp:\n":
        text = text.replace("  enabled: false\n", "")
    with pytest.raises(ConfigError, match=message):
        _load(_config(tmp_path, {"commercial": COM, "govcloud": text}))
    # verified in the team's own organization: accepted, with the record of how
    feature = "bedrock_policy" if "enforce" in change[0] else "resource_control_policies"
    verified = text + (f"verified_features:\n  {feature}: aws organizations list-roots showed the policy type "
                       "ENABLED in this organization on 2026-12-01\n")
    assert _load(_config(tmp_path / "verified", {"commercial": COM, "govcloud": verified}))


def test_every_feature_cites_its_source_in_both_partitions() -> None:
    for feature, partitions in FEATURES.items():
        assert set(partitions) >= {"aws", "aws-us-gov"}, feature
        for partition, found in partitions.items():
            assert found.source and found.confidence in ("H", "M", "L"), (feature, partition)
            assert found.available is not None or found.confidence == "L", (feature, partition)
    assert support("bedrock_policy", "aws-iso").available is None  # an unlisted partition documents nothing
    assert IAM_EVENTS_REGION == {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1"}


# ---- the GovCloud organization stack -----------------------------------------------------------------
@pytest.fixture(scope="module")
def gov_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = next(o for o in selected_organizations({}) if o.name == "govcloud")
    outdir = tmp_path_factory.mktemp("gov-org.out")
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    attach_packs(OrganizationStack(app, settings=settings))
    app.synth()
    assert judge(outdir, {}) == []  # what the partition lacks is suppressed with its reason, nothing else
    return outdir


@pytest.fixture(scope="module")
def gov_template(gov_assembly: Path) -> dict[str, Any]:
    return json.loads((gov_assembly / "CompliantBedrock-organization-govcloud.template.json").read_text())


def _typed(template: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == rtype]


def test_the_govcloud_organization_has_scps_of_its_partition_and_nothing_aws_does_not_document(
        gov_template: dict[str, Any]) -> None:
    policies = _typed(gov_template, "AWS::Organizations::Policy")
    assert {p["Type"] for p in policies} == {"SERVICE_CONTROL_POLICY"}  # no RCP, no BEDROCK_POLICY
    text = json.dumps(gov_template)
    assert "arn:aws-us-gov:" in text and "arn:aws:" not in text
    inference = next(json.loads(p["Content"]) if isinstance(p["Content"], str) else p["Content"]
                     for p in policies if p["Name"] == "compliant-bedrock-inference")
    regions = next(s for s in inference["Statement"] if s["Sid"] == "DenyBedrockOutsideApprovedRegions")
    assert "us-gov-west-1" in json.dumps(regions) and "us-east-1" not in json.dumps(regions)


def test_the_suppressed_findings_cite_the_missing_feature(gov_assembly: Path) -> None:
    report = json.loads(next(gov_assembly.glob("Bedrock--CompliantBedrock-organization-govcloud-NagReport.json"))
                        .read_text())
    reasons = {line["ruleId"]: line.get("exceptionReason", "") for line in report["lines"]
               if line["compliance"] == "Suppressed"}
    assert "no AWS text found on its availability in AWS GovCloud" in reasons["Bedrock-OrgRcpAuditResources"]
    assert "BEDROCK_POLICY: no AWS text found" in reasons["Bedrock-OrgGuardrailPolicy"]


def test_the_organization_trail_records_every_account_with_bedrock_and_mantle_data_events(
        gov_template: dict[str, Any]) -> None:
    (trail,) = _typed(gov_template, "AWS::CloudTrail::Trail")
    assert trail["IsOrganizationTrail"] is True and trail["IsMultiRegionTrail"] is True
    assert trail["EnableLogFileValidation"] is True and trail["KMSKeyId"]
    types = {v for s in trail["AdvancedEventSelectors"] for f in s["FieldSelectors"] if f["Field"] == "resources.type"
             for v in f["Equals"]}
    assert {"AWS::Bedrock::Model", "AWS::Bedrock::Guardrail", "AWS::BedrockMantle::Project"} <= types
    # object reads and deletes of the member baseline's prompt and completion buckets, in every member account
    objects = [s for s in trail["AdvancedEventSelectors"]
               if any(f["Field"] == "resources.type" and f["Equals"] == ["AWS::S3::Object"] for f in s["FieldSelectors"])]
    # ... and of their replicas in the other region (cb-<account>-baseline-<source region>-replica)
    assert [f["StartsWith"] for s in objects for f in s["FieldSelectors"] if f["Field"] == "resources.ARN"] == [
        ["arn:aws-us-gov:s3:::stackset-compliantbedrock-baseline-", "arn:aws-us-gov:s3:::cb-999900001111-baseline-"]]
    # every member account's log files land in the locked bucket, under the organization's id
    (policy,) = [p for p in _typed(gov_template, "AWS::S3::BucketPolicy")
                 if "AWSCloudTrailWrite" in json.dumps(p["PolicyDocument"])]
    write = next(s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "AWSCloudTrailWrite")
    assert "AWSLogs/o-examplegov01/*" in json.dumps(write["Resource"])
    assert any(r.get("DeletionPolicy") == "Retain" for r in gov_template["Resources"].values()
               if r["Type"] == "AWS::CloudTrail::Trail")


def test_an_object_event_prefix_that_could_name_the_trails_own_bucket_is_refused() -> None:
    from compliant_bedrock.audit_trail import AuditTrail
    from compliant_bedrock.errors import ConstructPropsError

    stack = cdk.Stack(cdk.App(), "CompliantBedrock-organization-x", env={"account": "111111111111", "region": "us-east-1"})
    trail = AuditTrail(stack, "Trail")
    for prefix in ("arn:aws:s3:::compliantbedrock-", "arn:aws:s3:::compliantbedrock-organization-x-trail", "s3://x"):
        with pytest.raises(ConstructPropsError, match="cannot name this stack's own buckets"):
            trail.add_object_event_prefixes(prefix)
    trail.add_object_event_prefixes("arn:aws:s3:::stackset-compliantbedrock-baseline-")


def test_an_organization_without_its_trail_says_which_trail_instead(tmp_path: Path) -> None:
    text = COM.replace("trail:\n", "trail:\n  enabled: false\n")
    with pytest.raises(ConfigError, match=r"trail\.enabled: false needs disabled_reason"):
        _load(_config(tmp_path, {"commercial": text, "govcloud": GOV}))


def test_the_management_accounts_alerts_reach_someone(tmp_path: Path) -> None:
    text = COM[:COM.index("trail:\n")] + "trail:\n  log_retention_days: 365\n" + COM[COM.index("attached_per_target:"):]
    with pytest.raises(ConfigError, match=r"trail\.alert_emails / trail\.alert_event_bus_arns: no alert subscriber"):
        _load(_config(tmp_path, {"commercial": text, "govcloud": GOV}))


def test_cli_builds_one_organization_stack_per_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _config(tmp_path / "config", {"commercial": COM, "govcloud": GOV})
    shutil.copytree(SHIPPED / "perimeter", directory / "perimeter")
    assert {o.stack_name for o in _load(directory)} == {"CompliantBedrock-organization-commercial",
                                                       "CompliantBedrock-organization-govcloud"}
    # -c env=govcloud: only the organization that covers it (its SCPs decide its perimeter)
    assert [o.name for o in selected_organizations({"env": "govcloud"}, config_dir=directory)] == ["govcloud"]


def test_each_environments_evidence_names_the_organization_that_binds_it() -> None:
    from infra.report import facts_of

    envs = load_environments(SHIPPED)
    facts = facts_of({e.name: e for e in envs}, selected_organizations({}))
    gov = " ".join(facts["govcloud"]["compliance-gate"])
    assert "organization o-examplegov01 (aws-us-gov), stack CompliantBedrock-organization-govcloud" in gov
    assert "RCP" not in gov and "BEDROCK_POLICY" not in gov  # what that partition does not offer is not claimed
    commercial = " ".join(facts["commercial"]["compliance-gate"])
    assert "CompliantBedrock-organization-commercial" in commercial and "BEDROCK_POLICY" in commercial
