"""IsolatedVpc: no route to the internet, every flow logged by a role only VPC Flow Logs of this account can use."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from conftest import new_stack

from compliant_bedrock.network import IsolatedVpc


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack(zones=["us-east-1a", "us-east-1b"])
    IsolatedVpc(stack, "Network", cidr="10.40.0.0/16", availability_zones=["us-east-1a", "us-east-1b"],
                log_key=kms.Key(stack, "LogKey"), flow_log_retention_days=365)
    return Template.from_stack(stack).to_json()


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_no_path_to_the_internet(template: dict[str, Any]) -> None:
    for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway",
                 "AWS::EC2::VPCGatewayAttachment"):
        assert not _of_type(template, kind), kind
    subnets = _of_type(template, "AWS::EC2::Subnet")
    assert len(subnets) == 2 and all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    assert not [r for r in _of_type(template, "AWS::EC2::Route") if "0.0.0.0/0" in str(r)]


def test_flow_logs_record_all_traffic_to_the_encrypted_group(template: dict[str, Any]) -> None:
    (flow_log,) = _of_type(template, "AWS::EC2::FlowLog")
    assert flow_log["Properties"]["TrafficType"] == "ALL"  # REJECT-only would miss accepted exfiltration
    assert flow_log["Properties"]["LogDestinationType"] == "cloud-watch-logs"
    (group,) = _of_type(template, "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in group["Properties"]


def test_the_flow_log_role_trusts_this_accounts_flow_logs_only(template: dict[str, Any]) -> None:
    (role,) = [r for r in _of_type(template, "AWS::IAM::Role")
               if "vpc-flow-logs" in str(r["Properties"]["AssumeRolePolicyDocument"])]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ec2:us-east-1:111122223333:vpc-flow-log/*"},
    }
    assert not role["Properties"].get("Policies")  # no inline grant (IAMNoInlinePolicy)


def test_the_default_security_group_is_closed(template: dict[str, Any]) -> None:
    (closer,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::VpcRestrictDefaultSG"]
    assert closer["Properties"]["DefaultSecurityGroupId"] == {"Fn::GetAtt": [_vpc_id(template), "DefaultSecurityGroup"]}


def _vpc_id(template: dict[str, Any]) -> str:
    (logical_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::EC2::VPC"]
    return logical_id


def test_one_zone_is_refused() -> None:
    stack = new_stack(stack_id="OneZone")
    with pytest.raises(ValueError, match="at least 2 zones"):
        IsolatedVpc(stack, "Network", cidr="10.40.0.0/16", availability_zones=["us-east-1a"],
                    log_key=kms.Key(stack, "LogKey"), flow_log_retention_days=365)


def test_an_account_specific_stack_without_its_zones_is_refused_not_looked_up() -> None:
    """ec2.Vpc asks the stack for its zones: in a stack with account and region that is a lookup (credentials at
    synth). IsolatedVpc refuses it and names the fix; pinned zones must include the VPC's."""
    from compliant_bedrock.network import pin_availability_zones

    stack = new_stack(stack_id="Unpinned")
    with pytest.raises(ValueError, match=r"look its availability zones up.*pin_availability_zones\(stack, \['us-east-1a'"):
        IsolatedVpc(stack, "Network", cidr="10.40.0.0/16", availability_zones=["us-east-1a", "us-east-1b"],
                    log_key=kms.Key(stack, "LogKey"), flow_log_retention_days=365)
    pinned = new_stack(stack_id="Pinned", zones=["us-east-1a", "us-east-1b"])
    with pytest.raises(ValueError, match=r"\['us-east-1c'\] are not among the stack's zones"):
        IsolatedVpc(pinned, "Network", cidr="10.40.0.0/16", availability_zones=["us-east-1a", "us-east-1c"],
                    log_key=kms.Key(pinned, "LogKey"), flow_log_retention_days=365)
    with pytest.raises(ValueError, match="already has constructs"):
        pin_availability_zones(pinned, ["us-east-1a", "us-east-1b"])
