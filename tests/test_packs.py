"""The packs are active and selectable: a deliberately bad construct is flagged by each."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from compliant_bedrock.compliance import attach_packs, judge
from infra.app_factory import cdk_json_context


def test_every_pack_flags_a_bad_log_group_and_extra_packs_are_selectable(tmp_path: Path) -> None:
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "Canary", env=cdk.Environment(account="111122223333", region="us-east-1"))
    group = logs.LogGroup(stack, "Unencrypted", retention=logs.RetentionDays.ONE_WEEK,
                          removal_policy=cdk.RemovalPolicy.DESTROY)
    assert group  # no KMS key, one week: every pack must object
    attach_packs(stack, ["HIPAA", "PCI"])
    outdir = Path(app.synth().directory)
    fired = {f.rule_id for f in judge(outdir, {})}
    for rule in ("NIST.800.53.R5-CloudWatchLogGroupEncrypted", "HIPAA.Security-CloudWatchLogGroupEncrypted",
                 "PCI.DSS.321-CloudWatchLogGroupEncrypted", "Bedrock-LogGroupEncryptedRetained"):
        assert rule in fired, sorted(fired)
    for pack in ("NIST.800.53.R5", "AwsSolutions", "HIPAA.Security", "PCI.DSS.321", "Bedrock"):
        assert "lines" in json.loads((outdir / f"{pack}--Canary-NagReport.json").read_text())


def _token_cidr_stack(tmp_path: Path, *, accept: bool) -> tuple[Path, list]:
    """A security group admitting TCP from the VPC's CIDR *token*: cdk-nag's port rules cannot
    evaluate it (they throw and report UNKNOWN)."""
    from aws_cdk import aws_ec2 as ec2

    from compliant_bedrock.compliance import suppress

    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "Unknown", env=cdk.Environment(account="111122223333", region="us-east-1"))
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, availability_zones=["us-east-1a", "us-east-1b"],
                  subnet_configuration=[ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)
    group.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.all_tcp())
    if accept:
        suppress(group, "CdkNagValidationFailure", applies_to=["NIST.800.53.R5-EC2RestrictedSSH",
                                                               "NIST.800.53.R5-EC2RestrictedCommonPorts",
                                                               "AwsSolutions-EC23"],
                 reason="Ingress comes only from this VPC's own CIDR, which the VPC resource defines in this stack")
    attach_packs(stack)
    outdir = Path(app.synth().directory)
    return outdir, judge(outdir, {})


def test_a_rule_that_cannot_evaluate_a_resource_fails_the_gate(tmp_path: Path) -> None:
    _, errors = _token_cidr_stack(tmp_path, accept=False)
    unknown = {f.rule_id: f for f in errors if f.compliance == "UNKNOWN"}
    assert {"NIST.800.53.R5-EC2RestrictedSSH", "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "AwsSolutions-EC23"} <= set(unknown)
    line = unknown["NIST.800.53.R5-EC2RestrictedSSH"].line()
    assert "Unknown/Group/Resource" in line and "could not be evaluated" in line and "CdkNagValidationFailure" in line


def test_a_validation_failure_is_accepted_only_per_rule_with_a_reason(tmp_path: Path) -> None:
    from aws_cdk import aws_sqs as sqs

    from compliant_bedrock.compliance import SuppressionError, suppress

    _, errors = _token_cidr_stack(tmp_path, accept=True)
    assert not [f for f in errors if f.compliance == "UNKNOWN"]
    stack = cdk.Stack(cdk.App(), "S")
    queue = sqs.Queue(stack, "Q")
    reason = "Ingress comes only from this VPC's own CIDR, which the VPC resource defines in this stack"
    for bad in ({}, {"applies_to": ["NIST.800.53.R5-NoSuchRule"]}):
        try:
            suppress(queue, "CdkNagValidationFailure", reason=reason, **bad)
        except SuppressionError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_a_warning_the_evidence_relies_on_blocks_and_other_warnings_do_not() -> None:
    """The evidence says "default security group closed": cdk-nag reports that rule at warning level only."""
    from compliant_bedrock.compliance.gate import Finding, blocking

    def warning(rule_id: str) -> Finding:
        return Finding(pack=rule_id.split("-")[0], stack="S", rule_id=rule_id, resource="S/Vpc", level="Warning",
                       compliance="Non-Compliant", controls=(), info="", reason=None)

    closed = warning("NIST.800.53.R5-VPCDefaultSecurityGroupClosed")
    advice = warning("AwsSolutions-VPC7")
    assert blocking([closed, advice]) == [closed]
