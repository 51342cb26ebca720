"""baseline.replica_regions: the member baseline's invocation logs get an Object-Locked copy in another region.

One synth of the reference organizations' stacks (commercial and GovCloud) for the module; each StackSet's kept
template is read as CloudFormation would deploy it in each region (conditions and mappings resolved by the
perimeter proof's placeholder resolver), so the source's replication target and the replica that exists there are
compared region by region.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from compliant_bedrock.compliance import attach_packs, judge
from compliant_bedrock.compliance.perimeter.placeholders import Resolver
from infra.app_factory import ROOT, cdk_json_context, selected_organizations
from infra.baseline import REPLICA_STACKSET_NAME, STACKSET_NAME, TEMPLATE_BODY_MAX_BYTES
from infra.config import ConfigError
from infra.org_config import load_organizations
from infra.organization_stack import OrganizationStack

ACCOUNT = "555566667777"


@pytest.fixture(scope="module")
def organizations() -> dict[str, Any]:
    return {o.name: o for o in selected_organizations()}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, organizations: dict[str, Any]) -> Path:
    """Both reference organization stacks, with their packs and kept StackSet assemblies, synthesized once."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    for settings in organizations.values():
        attach_packs(OrganizationStack(app, settings=settings))
    app.synth()
    assert [e.line() for e in judge(outdir, {})] == []
    return outdir


def _org(out: Path, name: str) -> dict[str, Any]:
    return json.loads((out / f"CompliantBedrock-organization-{name}.template.json").read_text())


def _stack_sets(out: Path, name: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """StackSet name -> (logical id, resource) in organization ``name``'s stack."""
    return {r["Properties"]["StackSetName"]: (lid, r) for lid, r in _org(out, name)["Resources"].items()
            if r["Type"] == "AWS::CloudFormation::StackSet"}


def _body(out: Path, name: str, stack_set: str) -> dict[str, Any]:
    return json.loads(_stack_sets(out, name)[stack_set][1]["Properties"]["TemplateBody"])


def _deployed(template: dict[str, Any], region: str) -> tuple[Resolver, dict[str, Any]]:
    """The template as its stack instance in ``region`` (account ACCOUNT): the resources its conditions keep."""
    resolver = Resolver(template, "StackSet-instance", region, ACCOUNT)
    kept = {lid: r for lid, r in template["Resources"].items()
            if "Condition" not in r or resolver.condition(r["Condition"])}
    return resolver, kept


def _of_type(resources: dict[str, Any], cfn_type: str) -> dict[str, Any]:
    return {lid: r for lid, r in resources.items() if r["Type"] == cfn_type}


# ---- the replica StackSet: deployed first, to the same accounts, in the replica regions only -----------------
@pytest.mark.parametrize("name", ["commercial", "govcloud"])
def test_the_replica_stackset_deploys_before_the_baseline_to_its_accounts_in_the_replica_regions(
        out: Path, organizations: dict[str, Any], name: str) -> None:
    settings = organizations[name]
    sets = _stack_sets(out, name)
    (_, baseline), (replica_id, replica) = sets[STACKSET_NAME], sets[REPLICA_STACKSET_NAME]
    assert replica_id in baseline["DependsOn"]  # replicas exist before any source replicates into them
    assert "DependsOn" not in replica
    (group,) = replica["Properties"]["StackInstancesGroup"]
    assert group["Regions"] == sorted(set(settings.baseline.replica_regions.values()))
    assert group["DeploymentTargets"] == baseline["Properties"]["StackInstancesGroup"][0]["DeploymentTargets"]
    assert replica["Properties"]["PermissionModel"] == "SERVICE_MANAGED"
    assert replica["Metadata"]["compliant-bedrock:assembly"] == f"stacksets/CompliantBedrock-baseline-{name}-replica"
    for stack_set in (baseline, replica):
        assert len(stack_set["Properties"]["TemplateBody"].encode()) < TEMPLATE_BODY_MAX_BYTES


def test_reference_mappings_send_every_region_elsewhere_in_its_partition(organizations: dict[str, Any]) -> None:
    assert organizations["commercial"].baseline.replica_regions == {
        "us-east-1": "us-west-2", "us-east-2": "us-west-2", "us-west-2": "us-east-2"}
    assert organizations["govcloud"].baseline.replica_regions == {
        "us-gov-west-1": "us-gov-east-1", "us-gov-east-1": "us-gov-west-1"}


# ---- what each replica region gets -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["commercial", "govcloud"])
def test_each_replica_region_gets_a_locked_versioned_kms_bucket_per_source_mapped_to_it(
        out: Path, organizations: dict[str, Any], name: str) -> None:
    settings = organizations[name]
    template = _body(out, name, REPLICA_STACKSET_NAME)
    partition = "aws-us-gov" if name == "govcloud" else "aws"
    for region in sorted(set(settings.baseline.replica_regions.values())):
        resolver, here = _deployed(template, region)
        sources = sorted(s for s, r in settings.baseline.replica_regions.items() if r == region)
        locked = {resolver.value(b["Properties"]["BucketName"]): b for b in _of_type(here, "AWS::S3::Bucket").values()
                  if b["Properties"].get("ObjectLockEnabled") is True}
        assert sorted(locked) == [f"cb-{ACCOUNT}-baseline-{s}-replica" for s in sources], region
        aliases = {a["Properties"]["AliasName"]: a["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
                   for a in _of_type(here, "AWS::KMS::Alias").values()}
        assert sorted(aliases) == [f"alias/compliant-bedrock/baseline/{s}-replica" for s in sources], region
        for source in sources:
            props = locked[f"cb-{ACCOUNT}-baseline-{source}-replica"]["Properties"]
            assert props["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
                "Mode": "COMPLIANCE", "Days": settings.baseline.object_lock_days}}}
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}
            (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            key_id = aliases[f"alias/compliant-bedrock/baseline/{source}-replica"]
            assert sse["ServerSideEncryptionByDefault"] == {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]}}
            key = here[key_id]
            assert key["Properties"]["EnableKeyRotation"] is True
            assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
            # only the source region's replication role, through S3 in this region, from this account
            statements = {s.get("Sid"): s for s in resolver.value(key["Properties"]["KeyPolicy"])["Statement"]}
            assert statements["AllowSourceReplicationRole"]["Condition"] == {"StringEquals": {
                "kms:CallerAccount": ACCOUNT, "kms:ViaService": f"s3.{region}.{resolver.value({'Ref': 'AWS::URLSuffix'})}",
                "aws:PrincipalArn": f"arn:{partition}:iam::{ACCOUNT}:role/CompliantBedrock-baseline-{source}-replication"}}
            assert statements["AllowSourceReplicationRole"]["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]
            admins = statements["DenyAuditKeyTamperExceptBreakGlassAndDeploy"]["Condition"]["ArnNotEquals"]
            assert sorted(admins["aws:PrincipalArn"]) == sorted(
                f"arn:{partition}:iam::{ACCOUNT}:role/{r}"
                for r in (settings.roles.break_glass, settings.baseline.execution_role))


def test_only_the_source_replication_role_writes_a_replica(out: Path) -> None:
    template = _body(out, "commercial", REPLICA_STACKSET_NAME)
    resolver, here = _deployed(template, "us-west-2")  # the replicas of us-east-1 and us-east-2
    writers = {}
    for policy in _of_type(here, "AWS::S3::BucketPolicy").values():
        for statement in resolver.value(policy["Properties"]["PolicyDocument"])["Statement"]:
            if statement.get("Sid") == "DenyRecordsNotWrittenByTheirDeliverer" and "ArnNotEquals" in statement["Condition"]:
                assert statement["Action"] == ["s3:PutObject", "s3:ReplicateObject"]
                assert set(statement["Condition"]) == {"ArnNotEquals"}  # no service writes into a replica
                writers[resolver.value(policy["Properties"]["Bucket"])] = statement["Condition"]["ArnNotEquals"][
                    "aws:PrincipalArn"]
    assert writers == {f"cb-{ACCOUNT}-baseline-{s}-replica": [
        f"arn:aws:iam::{ACCOUNT}:role/CompliantBedrock-baseline-{s}-replication"] for s in ("us-east-1", "us-east-2")}


def test_a_source_groups_resources_exist_only_in_its_replica_region(out: Path) -> None:
    template = _body(out, "commercial", REPLICA_STACKSET_NAME)
    conditions = template["Conditions"]
    grouped = {lid: r for lid, r in template["Resources"].items() if lid.startswith("Replica")}
    assert len(grouped) == 3 * 6  # per source: key, alias, bucket, its policy, access-log bucket, its policy
    for lid, resource in grouped.items():
        source = next(s for s in ("us-east-1", "us-east-2", "us-west-2") if lid.startswith(f"Replica{s.replace('-', '')}"))
        replica = {"us-east-1": "us-west-2", "us-east-2": "us-west-2", "us-west-2": "us-east-2"}[source]
        assert conditions[resource["Condition"]] == {"Fn::Equals": [{"Ref": "AWS::Region"}, replica]}, lid
    # the tamper detection of every replica instance (its IAM rules only where IAM's events arrive)
    detection = [r for lid, r in template["Resources"].items() if lid.startswith("TamperDetection")]
    assert detection and all(r.get("Condition") in (None, next(c for c in conditions if c.startswith("TamperDetection")))
                             for r in detection)


# ---- the source: each baseline region replicates to its mapped region's bucket and key ----------------------
@pytest.mark.parametrize("name", ["commercial", "govcloud"])
def test_every_baseline_region_replicates_to_the_replica_that_exists_in_its_mapped_region(
        out: Path, organizations: dict[str, Any], name: str) -> None:
    settings = organizations[name]
    source, replica_template = _body(out, name, STACKSET_NAME), _body(out, name, REPLICA_STACKSET_NAME)
    assert source["Mappings"] == {"ReplicaRegions": {s: {"Replica": r} for s, r in settings.baseline.replica_regions.items()}}
    for region in settings.baseline_regions:
        resolver, here = _deployed(source, region)
        (bucket,) = [b for b in _of_type(here, "AWS::S3::Bucket").values() if "ReplicationConfiguration" in b["Properties"]]
        config = resolver.value(bucket["Properties"]["ReplicationConfiguration"])
        (rule,) = config["Rules"]
        # Object Lock and KMS kept: SSE-KMS objects replicated and re-encrypted with the replica's key; deletes never
        assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
        assert (rule["Status"], rule["Filter"]) == ("Enabled", {"Prefix": ""})
        assert bucket["Properties"]["ObjectLockEnabled"] is True
        # the names resolve, in this region, to what the replica StackSet creates in the mapped region
        mapped = settings.baseline.replica_regions[region]
        replica_resolver, there = _deployed(replica_template, mapped)
        names = {replica_resolver.value(b["Properties"]["BucketName"]) for b in _of_type(there, "AWS::S3::Bucket").values()
                 if b["Properties"].get("ObjectLockEnabled") is True}
        partition = resolver.partition
        bucket_name = rule["Destination"]["Bucket"].removeprefix(f"arn:{partition}:s3:::")
        assert bucket_name == f"cb-{ACCOUNT}-baseline-{region}-replica" and bucket_name in names
        aliases = {a["Properties"]["AliasName"] for a in _of_type(there, "AWS::KMS::Alias").values()}
        key = rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]
        assert key == f"arn:{partition}:kms:{mapped}:{ACCOUNT}:alias/compliant-bedrock/baseline/{region}-replica"
        assert key.split(":", 5)[5] in aliases
        # the role the replica's key and bucket name, scoped to exactly that bucket (the key grants it by name)
        (role_id,) = [lid for lid, r in _of_type(here, "AWS::IAM::Role").items() if "RoleName" in r["Properties"]]
        assert resolver.value(here[role_id]["Properties"]["RoleName"]) == f"CompliantBedrock-baseline-{region}-replication"
        assert config["Role"] == resolver.value({"Fn::GetAtt": [role_id, "Arn"]})
        (policy,) = [p for p in _of_type(here, "AWS::IAM::ManagedPolicy").values()
                     if p["Properties"].get("Roles") == [{"Ref": role_id}]]
        statements = {s["Sid"]: s for s in resolver.value(policy["Properties"]["PolicyDocument"])["Statement"]}
        assert statements["WriteReplica"]["Resource"] == f"arn:{partition}:s3:::{bucket_name}/*"
        assert "EncryptReplica" not in statements  # an alias cannot be named in IAM: the replica key's policy grants
        assert not [a for s in statements.values() for a in json.dumps(s["Action"]).split('"') if a.startswith("kms:Encrypt")]


def test_the_replicated_invocation_bucket_passes_the_replication_rule(out: Path) -> None:
    kept = out / "stacksets" / "CompliantBedrock-baseline-commercial"
    lines = json.loads((kept / "NIST.800.53.R5--CompliantBedrock-baseline-commercial-NagReport.json").read_text())["lines"]
    replication = {line["resourceId"]: line["compliance"] for line in lines
                   if line["ruleId"] == "NIST.800.53.R5-S3BucketReplicationEnabled"}
    assert replication["CompliantBedrock-baseline-commercial/InvocationLogging/Bucket/Bucket/Resource"] == "Compliant"


# ---- the organization: replicas inside the audit plane ------------------------------------------------------
def test_the_organization_protects_the_replicas_and_their_writers(out: Path) -> None:
    template = _org(out, "commercial")
    statements: dict[str, Any] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Organizations::Policy":
            content = resource["Properties"]["Content"]
            content = json.loads(content) if isinstance(content, str) else content
            statements.update({s["Sid"]: s for s in content.get("Statement", [])})
    roles = [f"arn:aws:iam::*:role/CompliantBedrock-baseline-{r}-replication" for r in ("us-east-1", "us-east-2", "us-west-2")]
    # nobody in a member account becomes a replica's only writer (S3 assumes it as a service)
    assert set(roles) <= set(statements["DenyAssumingExemptRoles"]["Resource"])
    assert set(roles) <= set(statements["ProtectExemptRoles"]["Resource"])
    assert set(roles) <= set(statements["DenyPassingExemptRoles"]["Resource"])
    # the replica buckets by name (cb-*-replica), their keys by the audit tag
    assert {"arn:aws:s3:::cb-*-replica", "arn:aws:s3:::cb-*-replica/*"} <= set(statements["ProtectAuditResources"]["Resource"])
    replica = _body(out, "commercial", REPLICA_STACKSET_NAME)
    for key in _of_type(replica["Resources"], "AWS::KMS::Key").values():
        assert {"Key": "compliant-bedrock:audit", "Value": "true"} in key["Properties"]["Tags"]
    # who read or deleted a replicated prompt is recorded too
    (trail,) = _of_type(template["Resources"], "AWS::CloudTrail::Trail").values()
    prefixes = [f["StartsWith"] for s in trail["Properties"]["AdvancedEventSelectors"] for f in s["FieldSelectors"]
                if f["Field"] == "resources.ARN"]
    assert ["arn:aws:s3:::stackset-compliantbedrock-baseline-", f"arn:aws:s3:::cb-{ACCOUNT}-baseline-"] in prefixes


# ---- configuration errors name the field --------------------------------------------------------------------
GOOD = (ROOT / "tests" / "fixtures" / "organization.yaml").read_text()  # regions us-east-1, us-west-2


@pytest.mark.parametrize(("mapping", "message"), [
    ({"us-east-1": "us-west-2", "us-west-2": "us-east-1", "us-east-2": "us-west-2"},
     r"baseline\.replica_regions: 'us-east-2' is not a baseline region"),
    ({"us-east-1": "us-east-1", "us-west-2": "us-east-1"}, r"baseline\.replica_regions: 'us-east-1' is mapped to itself"),
    ({"us-east-1": "us-gov-west-1", "us-west-2": "us-east-1"},
     r"baseline\.replica_regions: 'us-east-1' -> 'us-gov-west-1' is in partition 'aws-us-gov'"),
    ({"us-east-1": "us-west-2"}, r"baseline\.replica_regions: no replica region for 'us-west-2'"),
    ({"us-east-1": "us-north-9", "us-west-2": "us-east-1"}, r"baseline\.replica_regions.*unknown AWS region 'us-north-9'"),
])
def test_a_bad_replica_mapping_names_the_field(tmp_path: Path, mapping: dict[str, str], message: str) -> None:
    raw = yaml.safe_load(GOOD)
    raw["baseline"]["replica_regions"] = mapping
    (tmp_path / "organization").mkdir()
    (tmp_path / "organization" / "organization.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message):
        load_organizations(tmp_path)


def test_a_good_mapping_loads(tmp_path: Path) -> None:
    raw = yaml.safe_load(GOOD)
    raw["baseline"]["replica_regions"] = {"us-east-1": "us-west-2", "us-west-2": "us-east-1"}
    (tmp_path / "organization").mkdir()
    (tmp_path / "organization" / "organization.yaml").write_text(yaml.safe_dump(raw))
    (settings,) = load_organizations(tmp_path)
    assert settings.baseline.replica_regions == {"us-east-1": "us-west-2", "us-west-2": "us-east-1"}


def test_a_body_is_the_same_under_the_cli_which_asks_every_app_for_path_metadata() -> None:
    """`cdk synth` hands every App of its process path metadata and version reporting (CDK_CONTEXT_JSON, read by the
    jsii runtime, so given here as context): 6 KB more would push the replicated baseline past TemplateBody's
    51,200 bytes under the CLI, where the tests never measured it."""
    from infra.baseline import replica_template

    cli = {**cdk_json_context(), "aws:cdk:enable-path-metadata": True, "aws:cdk:version-reporting": True}
    body = replica_template(cli, replica_regions={"us-east-1": "us-west-2"}, object_lock_days=913,
                            break_glass_role_name="break-glass", execution_role_name="stacksets-exec-0123",
                            alert_emails=["soc@example.gov"])
    assert "aws:cdk:path" not in json.dumps(body) and "CDKMetadata" not in body["Resources"]
