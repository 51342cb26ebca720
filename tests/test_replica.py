"""audit.replica_region: a replica stack first, then source buckets replicating into it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from compliant_bedrock.compliance import judge
from infra.app_factory import ROOT, build_app, rule_contexts

ACCOUNT = "111122223333"
SOURCE, REPLICA = "CompliantBedrock-commercial", "CompliantBedrock-commercial-replica"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    config = tmp_path_factory.mktemp("config")
    raw = yaml.safe_load((ROOT / "tests" / "fixtures" / "environment.yaml").read_text())
    raw["account"] = ACCOUNT
    raw["audit"]["replica_region"] = "us-west-2"
    (config / "commercial.yaml").write_text(yaml.safe_dump(raw))
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(outdir=str(outdir), config_dir=config)
    app.synth()
    return outdir, judge(outdir, rule_contexts(app))


def _resources(outdir: Path, stack: str, cfn_type: str) -> dict:
    body = json.loads((outdir / f"{stack}.template.json").read_text())
    return {k: r for k, r in body["Resources"].items() if r["Type"] == cfn_type}


def test_replica_stack_deploys_first_in_the_replica_region(synth: tuple[Path, list]) -> None:
    outdir, errors = synth
    assert [f.line() for f in errors] == []
    manifest = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    assert manifest[REPLICA]["environment"] == f"aws://{ACCOUNT}/us-west-2"
    assert REPLICA in manifest[SOURCE]["dependencies"]


def test_each_audit_bucket_replicates_to_its_named_replica(synth: tuple[Path, list]) -> None:
    outdir, _ = synth
    rules = [b["Properties"]["ReplicationConfiguration"]["Rules"][0]
             for b in _resources(outdir, SOURCE, "AWS::S3::Bucket").values()
             if "ReplicationConfiguration" in b["Properties"]]
    assert sorted(r["Destination"]["Bucket"] for r in rules) == [
        f"arn:aws:s3:::cb-{ACCOUNT}-commercial-invlogs-replica", f"arn:aws:s3:::cb-{ACCOUNT}-commercial-trail-replica"]
    assert {r["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"] for r in rules} == {
        f"arn:aws:kms:us-west-2:{ACCOUNT}:alias/compliant-bedrock/commercial/{s}-replica" for s in ("trail", "invlogs")}
    assert all(r["DeleteMarkerReplication"] == {"Status": "Disabled"} for r in rules)


def test_replica_buckets_are_locked_and_their_keys_admit_only_the_replication_roles(synth: tuple[Path, list]) -> None:
    outdir, _ = synth
    buckets = {b["Properties"].get("BucketName"): b for b in _resources(outdir, REPLICA, "AWS::S3::Bucket").values()}
    for source in ("trail", "invlogs"):
        bucket = buckets[f"cb-{ACCOUNT}-commercial-{source}-replica"]
        assert bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 913}
        assert bucket["DeletionPolicy"] == "Retain"
    grants = [s for k in _resources(outdir, REPLICA, "AWS::KMS::Key").values()
              for s in k["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowSourceReplicationRole"]
    assert sorted(g["Condition"]["StringEquals"]["aws:PrincipalArn"] for g in grants) == [
        f"arn:aws:iam::{ACCOUNT}:role/{SOURCE}-invlogs-replication", f"arn:aws:iam::{ACCOUNT}:role/{SOURCE}-trail-replication"]
    for grant in grants:  # the role may use the key only through S3 in the replica region, from its own account
        assert grant["Condition"] == {"StringEquals": {
            "aws:PrincipalArn": grant["Condition"]["StringEquals"]["aws:PrincipalArn"],
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": {"Fn::Join": ["", ["s3.us-west-2.", {"Ref": "AWS::URLSuffix"}]]}}}
    roles = {r["Properties"].get("RoleName") for r in _resources(outdir, SOURCE, "AWS::IAM::Role").values()}
    assert {f"{SOURCE}-trail-replication", f"{SOURCE}-invlogs-replication"} <= roles


def test_replica_keys_and_buckets_deny_tamper_and_accept_only_the_replication_role(synth: tuple[Path, list]) -> None:
    outdir, _ = synth
    for key in _resources(outdir, REPLICA, "AWS::KMS::Key").values():
        sids = {s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]}
        assert {"DenyAuditKeyTamperExceptBreakGlassAndDeploy", "DenyKeyDeletionWindowUnder30Days"} <= sids
    writers = {}
    for policy in _resources(outdir, REPLICA, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "DenyRecordsNotWrittenByTheirDeliverer" and "ArnNotEquals" in statement["Condition"]:
                assert statement["Action"] == ["s3:PutObject", "s3:ReplicateObject"]
                (role,) = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
                writers[role] = statement["Condition"]
    assert sorted(writers) == [f"arn:aws:iam::{ACCOUNT}:role/{SOURCE}-invlogs-replication",
                               f"arn:aws:iam::{ACCOUNT}:role/{SOURCE}-trail-replication"]
    assert all(set(c) == {"ArnNotEquals"} for c in writers.values())  # no service writes into a replica


def test_replicated_buckets_carry_no_replication_suppression(synth: tuple[Path, list]) -> None:
    outdir, _ = synth
    report = json.loads((outdir / f"NIST.800.53.R5--{SOURCE}-NagReport.json").read_text())["lines"]
    replication = {line["resourceId"]: line["compliance"] for line in report
                   if line["ruleId"] == "NIST.800.53.R5-S3BucketReplicationEnabled"}
    assert replication[f"{SOURCE}/AuditTrail/Bucket/Bucket/Resource"] == "Compliant"
    assert replication[f"{SOURCE}/InvocationLogging/Bucket/Bucket/Resource"] == "Compliant"


def test_evidence_covers_the_replica_stack_with_unique_oscal_uuids(synth: tuple[Path, list], tmp_path: Path) -> None:
    """The replica shares its source's environment: its statements need their own uuids, and its
    buckets, keys and policies belong to the audit trail component (not to no component at all)."""
    from compliant_bedrock.evidence import component_members, read_assembly
    from infra.report import generate

    outdir, _ = synth
    generate(outdir, dest=tmp_path, settings={})
    document = json.loads((tmp_path / "component-definition.json").read_text())["component-definition"]
    uuids: list[str] = []
    for component in document["components"]:
        uuids.append(component["uuid"])
        for implementation in component.get("control-implementations", []):
            uuids.append(implementation["uuid"])
            uuids += [r["uuid"] for r in implementation["implemented-requirements"]]
    assert len(uuids) == len(set(uuids))
    stacks = {(p["value"]) for c in document["components"] for i in c.get("control-implementations", [])
              for p in i["props"] if p["name"] == "stack"}
    assert REPLICA in stacks
    replica = next(s for s in read_assembly(outdir) if s.name == REPLICA)
    members = component_members(replica)
    placed = {lid for ids in members.values() for lid in ids}
    assert placed == {r.logical_id for r in replica.resources}
    assert len([lid for lid in members["audit-trail"] if replica.template.resources[lid].type == "AWS::S3::Bucket"]) >= 2


def test_the_replica_stack_is_termination_protected(synth: tuple[Path, list]) -> None:
    outdir, _ = synth
    manifest = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    assert manifest[REPLICA]["properties"]["terminationProtection"] is True
