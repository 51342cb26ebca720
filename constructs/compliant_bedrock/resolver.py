"""A Route 53 Resolver inbound endpoint, so workstations on the agency network resolve the private endpoints.

Interface endpoints with private DNS answer ``bedrock-mantle.<region>.api.aws`` and
``bedrock-runtime[-fips].<region>.amazonaws.com`` with their private addresses only inside the VPC. A
developer's workstation on the agency network asks the agency's own DNS, which must forward those names into
the VPC: that is what an inbound resolver endpoint receives. Without it, the workstation resolves the public
addresses and every call is refused by the ``aws:SourceVpce`` denies (or, worse, a policy without them lets
it through the internet). The endpoint admits DNS from the agency's forwarders only, and every query it
answers is logged (AU-12, SI-4: who resolved what, from where).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53resolver as r53r
from constructs import Construct

from .errors import ConstructPropsError
from .log_groups import encrypted_log_group

#: The widest network a forwarder entry may name: DNS forwarders are a handful of servers, not a network.
MAX_FORWARDER_PREFIX = 24
#: The names the agency's DNS forwards to the inbound endpoint's addresses, per region (conditional forwarders).
FORWARDED_ZONES: tuple[str, ...] = (
    "bedrock-mantle.{region}.api.aws", "bedrock-runtime.{region}.amazonaws.com",
    "bedrock-runtime-fips.{region}.amazonaws.com", "bedrock.{region}.amazonaws.com",
    "bedrock-fips.{region}.amazonaws.com",
)


def check_forwarder_cidr(cidr: str, where: str) -> str:
    """``cidr`` as a normalized private IPv4 network of /24 or narrower, or a ``ConstructPropsError`` naming it."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as err:
        raise ConstructPropsError(f"{where}: forwarder_cidrs entry {cidr!r} is not a CIDR block ({err}); name the "
                                  "agency's DNS forwarders, e.g. '10.10.1.53/32'") from None
    if net.version != 4:
        raise ConstructPropsError(f"{where}: forwarder_cidrs entry {cidr!r} is IPv6; the inbound endpoint gets IPv4 "
                                  "addresses only, so name the forwarders' IPv4 addresses")
    if not net.is_private:
        raise ConstructPropsError(f"{where}: forwarder_cidrs entry {cidr!r} is not a private network; DNS reaches the "
                                  "endpoint over VPN or Direct Connect from the agency's private forwarders only")
    if net.prefixlen < MAX_FORWARDER_PREFIX:
        raise ConstructPropsError(f"{where}: forwarder_cidrs entry {cidr!r} admits {net.num_addresses} addresses; "
                                  f"name the forwarders themselves (/32) or their subnet, /{MAX_FORWARDER_PREFIX} or "
                                  "narrower")
    return str(net)


class InboundResolver(Construct):
    """``AWS::Route53Resolver::ResolverEndpoint`` (INBOUND) in two zones, DNS from named forwarders only, and
    query logging of the VPC to an encrypted, retained log group.

    * Two IP addresses in two subnets of different Availability Zones (Route 53 Resolver requires two; two
      zones keep resolution up through a zone outage, CP-10, SC-22).
    * A security group admitting TCP and UDP 53 from ``forwarder_cidrs`` only and no egress (answers leave
      through the stateful return path; an inbound endpoint opens no connections), SC-7, AC-4.
    * ``AWS::Route53Resolver::ResolverQueryLoggingConfig`` associated with the VPC, to a KMS-encrypted log
      group kept ``log_retention_days`` and retained on stack deletion (AU-2, AU-11, AU-12, SC-28). The log
      key's policy must admit CloudWatch Logs (``kms.allow_cloudwatch_logs``).

    The agency's DNS then forwards each name of :meth:`forwarded_zones` to the endpoint's two addresses
    (``docs/codex.md``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, forwarder_cidrs: Sequence[str],
                 log_key: kms.IKey, log_retention_days: int, subnets: ec2.SubnetSelection | None = None,
                 name: str | None = None) -> None:
        """
        :param vpc: the VPC of the interface endpoints (private DNS answers there).
        :param forwarder_cidrs: the agency DNS forwarders allowed to query (private IPv4, /24 or narrower).
        :param log_key: the CMK of the query-log group (its policy admits CloudWatch Logs).
        :param log_retention_days: retention of the query log, a CloudWatch Logs value.
        :param subnets: where the two addresses go. Default: the isolated (else private) subnets, one per zone.
        :param name: the endpoint's name (default: the construct path's id).
        """
        super().__init__(scope, construct_id)
        where = f"InboundResolver {construct_id!r}"
        if isinstance(forwarder_cidrs, str):
            raise ConstructPropsError(f"{where}: forwarder_cidrs is the string {forwarder_cidrs!r}; pass a list of "
                                      "CIDR blocks")
        if not forwarder_cidrs:
            raise ConstructPropsError(f"{where}: forwarder_cidrs is empty; name the agency DNS forwarders that forward "
                                      "the Bedrock names into the VPC (e.g. ['10.10.1.53/32'])")
        self.forwarder_cidrs = [check_forwarder_cidr(c, where) for c in forwarder_cidrs]
        if len(set(self.forwarder_cidrs)) < len(self.forwarder_cidrs):
            raise ConstructPropsError(f"{where}: forwarder_cidrs lists {self.forwarder_cidrs} with duplicates; name "
                                      "each forwarder once")
        if subnets is not None:
            selected = vpc.select_subnets(
                subnet_type=subnets.subnet_type, subnets=subnets.subnets, subnet_group_name=subnets.subnet_group_name,
                availability_zones=subnets.availability_zones, one_per_az=subnets.one_per_az)
        else:
            selected = vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if vpc.isolated_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS,
                one_per_az=True)
        chosen: list[ec2.ISubnet] = []
        zones: set[str] = set()
        for subnet in selected.subnets:
            zone = subnet.availability_zone
            if Token.is_unresolved(zone) or zone not in zones:
                chosen.append(subnet)
                zones.add(zone)
            if len(chosen) == 2:
                break
        if len(chosen) < 2:
            raise ConstructPropsError(f"{where}: the VPC's selected subnets span {len(zones)} Availability Zone(s); an "
                                      "inbound resolver endpoint needs two addresses in two zones (pass subnets in two "
                                      "zones)")

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Route 53 Resolver inbound endpoint: DNS (TCP/UDP 53) from the agency forwarders only")
        for cidr in self.forwarder_cidrs:
            for port, label in ((ec2.Port.tcp(53), "TCP"), (ec2.Port.udp(53), "UDP")):
                self.security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), port, f"DNS over {label} from forwarder {cidr}")

        self.endpoint = r53r.CfnResolverEndpoint(
            self, "Resource",
            direction="INBOUND",
            name=name or construct_id,
            security_group_ids=[self.security_group.security_group_id],
            ip_addresses=[r53r.CfnResolverEndpoint.IpAddressRequestProperty(subnet_id=s.subnet_id) for s in chosen],
        )
        #: Its id: ``aws route53resolver list-resolver-endpoint-ip-addresses --resolver-endpoint-id <id>`` prints
        #: the two addresses the agency's DNS forwards to (CloudFormation returns no addresses).
        self.endpoint_id: str = self.endpoint.attr_resolver_endpoint_id

        self.log_group = encrypted_log_group(self, "QueryLogGroup", key=log_key, retention_days=log_retention_days)
        self.query_logging = r53r.CfnResolverQueryLoggingConfig(
            self, "QueryLogging", name=f"{name or construct_id}-queries", destination_arn=self.log_group.log_group_arn)
        self.query_logging_association = r53r.CfnResolverQueryLoggingConfigAssociation(
            self, "QueryLoggingAssociation", resolver_query_log_config_id=self.query_logging.attr_id,
            resource_id=vpc.vpc_id)

    def forwarded_zones(self) -> list[str]:
        """The names the agency's DNS forwards here (conditional forwarders), for this stack's region."""
        region = Stack.of(self).region
        return [zone.format(region=region) for zone in FORWARDED_ZONES]
