"""An isolated VPC for Bedrock endpoints: no internet path at all, every flow logged."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .errors import ConstructPropsError
from .log_groups import encrypted_log_group


class IsolatedVpc(Construct):
    """A VPC with isolated subnets only (no IGW, no NAT) and VPC flow logs to an encrypted log group.

    Bedrock is reached through interface endpoints, so workloads here need no route to the
    internet (SC-7). Flow logs of ALL traffic give the boundary monitoring AU-12 and SI-4 ask for.
    """

    def __init__(self, scope: Construct, construct_id: str, *, cidr: str, availability_zones: Sequence[str],
                 log_key: kms.IKey, flow_log_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        #: The literal CIDR (``vpc.vpc_cidr_block`` is a token): what BedrockPrivateLink admits by default.
        self.cidr = cidr
        if len(availability_zones) < 2:
            raise ConstructPropsError(
                f"IsolatedVpc {construct_id!r}: availability_zones needs at least 2 zones for "
                f"endpoint resilience, got {list(availability_zones)!r}"
            )
        _refuse_zone_lookup(Stack.of(self), construct_id, availability_zones)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="endpoints", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
        )
        _quiet_cdk_provider_lint(Stack.of(self))
        self.flow_log_group = encrypted_log_group(
            self, "FlowLogGroup", key=log_key, retention_days=flow_log_retention_days,
            retention_prop="flow_log_retention_days",
        )
        # A managed policy rather than CDK's inline grant (IAMNoInlinePolicy), scoped to this group.
        writer = iam.ManagedPolicy(
            self,
            "FlowLogWriter",
            description="Lets VPC Flow Logs deliver to this VPC's flow-log group only.",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    # GetAtt Arn of a log group already ends in ":*", covering its streams.
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(service="ec2", resource="vpc-flow-log", resource_name="*")
                    },
                },
            ),
            managed_policies=[writer],
        )
        # An immutable reference stops FlowLog from adding its own inline grant to the role.
        fixed_role = iam.Role.from_role_arn(self, "FlowLogRoleRef", role.role_arn, mutable=False)
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, fixed_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )


def _quiet_cdk_provider_lint(stack: Stack) -> None:
    """aws-cdk-lib's restrict-default-SG provider repeats a GetAtt dependency as DependsOn (cfn-lint
    W3005, harmless). It is CDK's code, not ours: mark that one resource rather than the whole lint."""
    provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    handler = provider.node.try_find_child("Handler") if provider else None
    if isinstance(handler, CfnResource):
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def availability_zones_context_key(account: str, region: str) -> str:
    """The context key under which CDK caches an account's zone lookup (``cdk.context.json``)."""
    return f"availability-zones:account={account}:region={region}"


def pin_availability_zones(stack: Stack, zones: Sequence[str]) -> list[str]:
    """Give an account-specific stack its availability zones, so nothing in it looks them up.

    ``ec2.Vpc`` (inside :class:`IsolatedVpc`) asks its stack for the zones; in a stack with ``account`` and
    ``region`` CDK answers with a lookup in that account at synth: AWS credentials, and a ``cdk.context.json``
    entry. This stores the zones where that lookup would look first. Call it right after creating the stack,
    before adding constructs (CDK accepts context only on a node without children); returns ``zones``.

    :param stack: the account-specific stack (``env`` with account and region) the zones belong to.
    :param zones: the zone names as the account has them (``aws ec2 describe-availability-zones``).
    """
    zones = list(zones)
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return zones  # an environment-agnostic stack never looks zones up
    if stack.node.children:
        raise ConstructPropsError(
            f"pin_availability_zones: stack {stack.stack_name!r} already has constructs "
            f"({', '.join(c.node.id for c in stack.node.children)}); call it right after creating the stack")
    stack.node.set_context(availability_zones_context_key(stack.account, stack.region), zones)
    return zones


def _refuse_zone_lookup(stack: Stack, construct_id: str, zones: Sequence[str]) -> None:
    """An account-specific stack whose zones are neither pinned nor overridden would look them up."""
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return
    if type(stack).availability_zones is not Stack.availability_zones:  # a subclass names its zones
        return
    known = stack.node.try_get_context(availability_zones_context_key(stack.account, stack.region))
    if known is None:
        raise ConstructPropsError(
            f"IsolatedVpc {construct_id!r}: stack {stack.stack_name!r} names account and region, so ec2.Vpc would "
            "look its availability zones up in that account at synth (AWS credentials needed); call "
            f"compliant_bedrock.pin_availability_zones(stack, {list(zones)!r}) right after creating the stack, or "
            "override the stack's availability_zones property")
    missing = [z for z in zones if z not in known]
    if missing:
        raise ConstructPropsError(
            f"IsolatedVpc {construct_id!r}: availability_zones {missing} are not among the stack's zones {known}; "
            "name zones the stack has (pin_availability_zones)")
