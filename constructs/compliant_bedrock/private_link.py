"""Interface VPC endpoints that make Bedrock reachable only from inside named networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from enum import Enum

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .arns import model_arns
from .models import INVOKE_ACTIONS, resolve_model


class BedrockService(str, Enum):
    """Bedrock API surfaces that have an interface endpoint."""

    RUNTIME = "bedrock-runtime"
    CONTROL_PLANE = "bedrock"
    AGENT = "bedrock-agent"
    AGENT_RUNTIME = "bedrock-agent-runtime"
    MANTLE = "bedrock-mantle"


#: Endpoint services with a FIPS 140-validated variant (the names aws-cdk-lib knows as *_FIPS).
FIPS_SERVICE_NAMES: dict[BedrockService, str] = {
    BedrockService.RUNTIME: "bedrock-runtime-fips",
    BedrockService.CONTROL_PLANE: "bedrock-fips",
}
#: The services (as configured, e.g. ``bedrock-runtime``) that can be reached through a FIPS endpoint.
FIPS_ENDPOINTS: tuple[str, ...] = tuple(s.value for s in FIPS_SERVICE_NAMES)

#: Regions whose Bedrock FIPS endpoint services exist (AWS's Bedrock PrivateLink documentation).
FIPS_REGIONS: frozenset[str] = frozenset(
    {"us-east-1", "us-east-2", "us-west-2", "ca-central-1", "us-gov-east-1", "us-gov-west-1"}
)

#: IAM prefix of the actions each endpoint carries (agent runtime actions are ``bedrock:``).
_ACTION_PREFIX: dict[BedrockService, str] = {
    BedrockService.CONTROL_PLANE: "bedrock",
    BedrockService.AGENT: "bedrock",
    BedrockService.AGENT_RUNTIME: "bedrock",
    BedrockService.MANTLE: "bedrock-mantle",
}

_OPEN_CIDRS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def _check_cidr(construct_id: str, cidr: str) -> str:
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as err:
        raise ValueError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} is not a CIDR "
                         f"block ({err}); use e.g. '10.0.0.0/16'") from None
    if net.version != 4:
        raise ValueError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} is IPv6; the "
                         "endpoints have IPv4 addresses only, so name the clients' IPv4 networks")
    if net in _OPEN_CIDRS or net.prefixlen < 8:
        raise ValueError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} opens the "
                         "endpoints to (nearly) every address; name the client networks, /8 or narrower")
    return str(net)


class BedrockPrivateLink(Construct):
    """Interface endpoints for Bedrock with private DNS, a 443-only security group and endpoint policies.

    * ``bedrock-runtime`` is always created; other services by choice; FIPS variants where AWS has them.
    * The security group admits TCP 443 from the named CIDRs and security groups only (SC-7, AC-4).
    * Every endpoint carries a policy that names the allowed principals (this account, or an AWS
      Organization). The runtime endpoint's policy also names the actions and model ARNs, so even
      a principal with broad IAM rights cannot reach another model through this network (AC-4, SC-7).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        model_ids: Sequence[str],
        guardrail_arns: Sequence[str] = (),
        services: Sequence[BedrockService | str] = (BedrockService.RUNTIME,),
        fips: bool = False,
        allowed_cidrs: Sequence[str] = (),
        allowed_security_groups: Sequence[ec2.ISecurityGroup] = (),
        principal_org_id: str | None = None,
        subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        """
        :param vpc: the VPC to place the endpoints in.
        :param model_ids: models the runtime endpoint lets through (resolved via the model catalog).
        :param guardrail_arns: guardrails the runtime endpoint lets ``ApplyGuardrail`` reach; for a STANDARD-tier
            guardrail pass ``BedrockGuardrail.resource_arns`` (its profile in each destination region too).
        :param services: endpoints to create; ``bedrock-runtime`` is added if missing.
        :param fips: use the FIPS endpoint services (``bedrock``, ``bedrock-runtime`` have them; asking for
            another service with ``fips`` is an error, never a silent non-FIPS endpoint).
        :param allowed_cidrs: client networks admitted on 443. Default: the VPC CIDR, which must then
            be a literal (an imported VPC or ``IsolatedVpc``), since a token cannot be checked.
        :param allowed_security_groups: client security groups admitted on 443.
        :param principal_org_id: admit principals of this AWS Organization instead of this account only.
        :param subnets: where the endpoint interfaces go. Default: the isolated (else private)
            subnets, one per AZ. Public subnets are never chosen.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        try:
            wanted = {BedrockService(s) for s in services} | {BedrockService.RUNTIME}
        except ValueError:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: services {list(services)!r} must be among "
                             f"{[s.value for s in BedrockService]}") from None
        if not model_ids:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: model_ids is empty; the runtime endpoint "
                             "policy must name the models it lets through")
        if fips and not Token.is_unresolved(stack.region) and stack.region not in FIPS_REGIONS:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: fips=True but {stack.region!r} has no Bedrock "
                             f"FIPS endpoint service; regions with one: {', '.join(sorted(FIPS_REGIONS))}")
        no_fips = sorted(s.value for s in wanted if s not in FIPS_SERVICE_NAMES)
        if fips and no_fips:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: fips=True but {no_fips} have no FIPS endpoint "
                             "service; remove them from services or set fips=False (never a silent non-FIPS endpoint)")
        self.model_routes = [resolve_model(m, stack.region) for m in model_ids]

        cidrs = [_check_cidr(construct_id, c) for c in allowed_cidrs]
        if not cidrs and not allowed_security_groups:
            if Token.is_unresolved(vpc.vpc_cidr_block):
                raise ValueError(f"BedrockPrivateLink {construct_id!r}: pass allowed_cidrs or "
                                 "allowed_security_groups; the VPC CIDR is a token and cannot be checked")
            cidrs = [_check_cidr(construct_id, vpc.vpc_cidr_block)]

        selection = subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if vpc.isolated_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS,
            one_per_az=True,
        )
        selected = vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnet_type=selection.subnet_type,
            subnets=selection.subnets,
        )
        if selected.has_public:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: subnets select public subnets; "
                             "endpoints belong in isolated or private subnets")
        if len(set(selected.availability_zones)) < 2:
            raise ValueError(f"BedrockPrivateLink {construct_id!r}: subnets span "
                             f"{len(set(selected.availability_zones))} availability zone(s); at least 2 are "
                             "needed so one zone's failure does not cut Bedrock off")

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Bedrock interface endpoints: HTTPS from named clients only",
            allow_all_outbound=False,
        )
        for cidr in cidrs:
            self.security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"HTTPS from {cidr}")
        for group in allowed_security_groups:
            self.security_group.add_ingress_rule(group, ec2.Port.tcp(443), "HTTPS from a client security group")

        self._principal_condition = (
            {"StringEquals": {"aws:PrincipalOrgID": principal_org_id}}
            if principal_org_id
            else {"StringEquals": {"aws:PrincipalAccount": stack.account}}
        )
        self.endpoints: dict[BedrockService, ec2.InterfaceVpcEndpoint] = {}
        for service in sorted(wanted, key=lambda s: list(BedrockService).index(s)):
            name = FIPS_SERVICE_NAMES[service] if fips else service.value
            endpoint = ec2.InterfaceVpcEndpoint(
                self,
                _construct_name(service),
                vpc=vpc,
                service=ec2.InterfaceVpcEndpointAwsService(name),
                subnets=selection,
                security_groups=[self.security_group],
                private_dns_enabled=True,
                open=False,
            )
            for statement in self._policy_statements(service, guardrail_arns):
                endpoint.add_to_policy(statement)
            self.endpoints[service] = endpoint
        self.runtime_endpoint = self.endpoints[BedrockService.RUNTIME]

    def _policy_statements(self, service: BedrockService, guardrail_arns: Sequence[str]) -> list[iam.PolicyStatement]:
        if service is not BedrockService.RUNTIME:
            return [
                iam.PolicyStatement(
                    sid="AllowNamedPrincipalsOnly",
                    principals=[iam.AnyPrincipal()],
                    actions=[f"{_ACTION_PREFIX[service]}:*"],
                    resources=["*"],
                    conditions=self._principal_condition,
                )
            ]
        stack = Stack.of(self)
        statements = [
            iam.PolicyStatement(
                sid="AllowInvokeOfNamedModels",
                principals=[iam.AnyPrincipal()],
                actions=list(INVOKE_ACTIONS),
                resources=[arn for route in self.model_routes for arn in model_arns(stack, route)],
                conditions=self._principal_condition,
            )
        ]
        if guardrail_arns:
            statements.append(
                iam.PolicyStatement(
                    sid="AllowApplyOfNamedGuardrails",
                    principals=[iam.AnyPrincipal()],
                    actions=["bedrock:ApplyGuardrail"],
                    resources=list(guardrail_arns),
                    conditions=self._principal_condition,
                )
            )
        return statements

    def allow_from(self, peer: ec2.IPeer, description: str = "HTTPS from a client") -> None:
        """Admit another client network or security group on 443 (and nothing else).

        A literal CIDR peer is held to the constructor's rule for ``allowed_cidrs`` (IPv4, /8 or
        narrower); a CIDR token (another VPC's ``vpc_cidr_block``) names a network and is accepted.
        """
        cidr = peer.unique_id
        if not Token.is_unresolved(cidr) and any(ch in cidr for ch in "./:") and not cidr.startswith("sg-"):
            _check_cidr(self.node.id, cidr)
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(443), description)


def _construct_name(service: BedrockService) -> str:
    return "".join(part.capitalize() for part in service.value.split("-")) + "Endpoint"
