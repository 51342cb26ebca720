"""Interface VPC endpoints that make Bedrock reachable only from inside named networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .arns import model_arns, route_arns, runtime_project_arn
from .errors import ConstructPropsError
from .model_standing import check_construct_models
from .models import INVOKE_ACTIONS, InferencePath, resolve_model

if TYPE_CHECKING:
    from .network import IsolatedVpc


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

#: What each non-inference endpoint lets through: named actions, never ``<prefix>:*``. The control plane and
#: the agent build API admit reads only (administration goes through CloudFormation or an admin network,
#: not the workloads' endpoint); agent runtime admits the agent, flow and knowledge-base calls (all of them
#: guardrail-free paths of their own: grant them to roles deliberately). Pass ``endpoint_actions`` to change.
DEFAULT_ENDPOINT_ACTIONS: dict[BedrockService, tuple[str, ...]] = {
    BedrockService.CONTROL_PLANE: (
        "bedrock:GetFoundationModel", "bedrock:ListFoundationModels", "bedrock:GetInferenceProfile",
        "bedrock:ListInferenceProfiles", "bedrock:GetGuardrail", "bedrock:ListGuardrails",
    ),
    BedrockService.AGENT: (
        "bedrock:GetAgent", "bedrock:ListAgents", "bedrock:GetKnowledgeBase", "bedrock:ListKnowledgeBases",
        "bedrock:GetFlow", "bedrock:ListFlows",
    ),
    BedrockService.AGENT_RUNTIME: (
        "bedrock:Retrieve", "bedrock:RetrieveAndGenerate", "bedrock:InvokeAgent", "bedrock:InvokeFlow",
    ),
}
#: Mantle inference and the model list (what the construct's IAM grants use on the endpoint).
MANTLE_ENDPOINT_INFERENCE: tuple[str, ...] = ("bedrock-mantle:CreateInference",)
MANTLE_ENDPOINT_STORED: tuple[str, ...] = (
    "bedrock-mantle:GetInference", "bedrock-mantle:CancelInference", "bedrock-mantle:DeleteInference",
)
MANTLE_ENDPOINT_READ: tuple[str, ...] = ("bedrock-mantle:GetModel", "bedrock-mantle:ListModels")

_OPEN_CIDRS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def _check_cidr(construct_id: str, cidr: str) -> str:
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as err:
        raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} is not a CIDR "
                         f"block ({err}); use e.g. '10.0.0.0/16'") from None
    if net.version != 4:
        raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} is IPv6; the "
                         "endpoints have IPv4 addresses only, so name the clients' IPv4 networks")
    if net in _OPEN_CIDRS or net.prefixlen < 8:
        raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: allowed_cidrs entry {cidr!r} opens the "
                         "endpoints to (nearly) every address; name the client networks, /8 or narrower")
    return str(net)


class BedrockPrivateLink(Construct):
    """Interface endpoints for Bedrock with private DNS, a 443-only security group and endpoint policies.

    * ``bedrock-runtime`` is always created; other services by choice; FIPS variants where AWS has them.
    * The security group admits TCP 443 from the named CIDRs and security groups only (SC-7, AC-4).
    * Every endpoint carries a policy that names the allowed principals (this account, or named accounts
      of an AWS Organization) and the actions (never ``<service>:*``). The runtime endpoint's policy also
      names the model ARNs (and ``project/default`` with ``bedrock:ModelArn`` for the OpenAI-compatible
      models), the Mantle endpoint's the project and the models (``bedrock-mantle:Model``), so even a
      principal with broad IAM rights cannot reach another model through this network (AC-4, SC-7).
    * FIPS is per endpoint: ``fips=True`` uses the FIPS service of every endpoint that has one and refuses
      any other endpoint unless it is listed in ``non_fips_services`` (bedrock-mantle has no FIPS service).

    Known limit: the runtime endpoint policy does not require ``bedrock:GuardrailIdentifier``. No AWS text
    read says the endpoint evaluates that service-specific key; if it did not, the condition would deny every
    call through the endpoint. The guardrail is required by the IAM policy (``BedrockModelAccess``) for its
    holders, and account-wide only by an enforced guardrail configuration or an organization policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc | IsolatedVpc,
        model_ids: Sequence[str] = (),
        guardrail_arns: Sequence[str] = (),
        services: Sequence[BedrockService | str] = (BedrockService.RUNTIME,),
        fips: bool = False,
        non_fips_services: Sequence[BedrockService | str] = (),
        allowed_cidrs: Sequence[str] = (),
        allowed_security_groups: Sequence[ec2.ISecurityGroup] = (),
        principal_org_id: str | None = None,
        principal_accounts: Sequence[str] = (),
        subnets: ec2.SubnetSelection | None = None,
        openai_api_model_ids: Sequence[str] = (),
        mantle_model_ids: Sequence[str] = (),
        mantle_project_arn: str | None = None,
        mantle_stored_responses: bool = False,
        endpoint_actions: dict[BedrockService, Sequence[str]] | None = None,
        allow_unverified_models: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param vpc: the VPC to place the endpoints in (an ``IsolatedVpc`` gives its literal CIDR too).
        :param model_ids: runtime Converse models the runtime endpoint lets through (via the model catalog).
        :param guardrail_arns: guardrails the runtime endpoint lets ``ApplyGuardrail`` reach; for a STANDARD-tier
            guardrail pass ``BedrockGuardrail.resource_arns`` (its profile in each destination region too).
        :param services: endpoints to create; ``bedrock-runtime`` is added if missing.
        :param fips: use the FIPS endpoint services (``bedrock``, ``bedrock-runtime`` have them; asking for
            another service with ``fips`` is an error unless it is in ``non_fips_services``).
        :param non_fips_services: with ``fips``, the endpoints explicitly accepted as non-FIPS (e.g.
            ``bedrock-mantle``, which has no FIPS service); each must have no FIPS service.
        :param allowed_cidrs: client networks admitted on 443. Default: the VPC CIDR, which must then
            be a literal (an imported VPC or ``IsolatedVpc``), since a token cannot be checked.
        :param allowed_security_groups: client security groups admitted on 443.
        :param principal_org_id: also require principals of this AWS Organization.
        :param principal_accounts: the accounts whose principals may use the endpoints (default: this
            stack's account). With ``principal_org_id`` both are required, so other accounts of the
            organization cannot tunnel through this network into Bedrock under their own, unaudited, accounts.
        :param subnets: where the endpoint interfaces go. Default: the isolated (else private)
            subnets, one per AZ. Public subnets are never chosen.
        :param openai_api_model_ids: runtime models reached through Responses/Chat Completions: the runtime
            endpoint also admits ``project/default`` for them (``bedrock:ModelArn``).
        :param mantle_model_ids, mantle_project_arn, mantle_stored_responses: what the Mantle endpoint admits:
            inference on that project for those models (plus Get/Cancel/Delete with stored responses).
        :param endpoint_actions: the named actions other endpoints admit (``DEFAULT_ENDPOINT_ACTIONS``).
        :param allow_unverified_models: model id -> why it is taken although the model catalog does not know it
            (or marks it UNCERTAIN) for this stack's region (at least 8 words: how it was confirmed there, by whom).
            Without it such an id is refused; an id the catalog knows is not served here is refused always.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        literal_cidr = getattr(vpc, "cidr", None)
        if hasattr(vpc, "vpc") and isinstance(literal_cidr, str):  # an IsolatedVpc: its VPC and literal CIDR
            vpc = vpc.vpc
        else:
            literal_cidr = None
        try:
            wanted = {BedrockService(s) for s in services} | {BedrockService.RUNTIME}
        except ValueError:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: services {list(services)!r} must be among "
                             f"{[s.value for s in BedrockService]}") from None
        if not (model_ids or openai_api_model_ids or mantle_model_ids):
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: model_ids is empty; the runtime endpoint "
                             "policy must name the models it lets through")
        if mantle_model_ids and BedrockService.MANTLE not in wanted:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: mantle_model_ids need 'bedrock-mantle' in services")
        if BedrockService.MANTLE in wanted and mantle_model_ids and not mantle_project_arn:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: mantle_model_ids need mantle_project_arn (the "
                             "endpoint policy names the project)")
        try:
            exempt = {BedrockService(s) for s in non_fips_services}
        except ValueError:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: non_fips_services {list(non_fips_services)!r} "
                             f"must be among {[s.value for s in BedrockService]}") from None
        has_fips = sorted(s.value for s in exempt if s in FIPS_SERVICE_NAMES)
        if has_fips:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: non_fips_services {has_fips} have a FIPS endpoint "
                             "service; use it (remove them from non_fips_services)")
        if exempt and not fips:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: non_fips_services is only for fips=True")
        if fips and not Token.is_unresolved(stack.region) and stack.region not in FIPS_REGIONS:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: fips=True but {stack.region!r} has no Bedrock "
                             f"FIPS endpoint service; regions with one: {', '.join(sorted(FIPS_REGIONS))}")
        no_fips = sorted(s.value for s in wanted if s not in FIPS_SERVICE_NAMES and s not in exempt)
        if fips and no_fips:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: fips=True but {no_fips} have no FIPS endpoint "
                             "service; remove them from services, list them in non_fips_services to accept a "
                             "non-FIPS endpoint for them, or set fips=False (never a silent non-FIPS endpoint)")
        # Strict by default, the endpoint too: a model not served in this region (GPT-5.5 on Mantle outside
        # us-east-2) is refused naming the regions that serve it; an id the catalog cannot vouch for, unless accepted.
        #: Model ids taken although the catalog cannot vouch for them here -> the reason given.
        self.accepted_unverified_models = check_construct_models(
            f"BedrockPrivateLink {construct_id!r}",
            [*(("model_ids", m, InferencePath.RUNTIME_CONVERSE) for m in model_ids),
             *(("openai_api_model_ids", m, InferencePath.RUNTIME_OPENAI) for m in openai_api_model_ids),
             *(("mantle_model_ids", m, InferencePath.MANTLE) for m in mantle_model_ids)],
            None if Token.is_unresolved(stack.region) else stack.region, allow_unverified_models)
        self.model_routes = [resolve_model(m, stack.region) for m in model_ids]
        self.openai_api_routes = [resolve_model(m, stack.region) for m in openai_api_model_ids]
        self._mantle = (list(mantle_model_ids), mantle_project_arn, mantle_stored_responses)
        for service, actions in (endpoint_actions or {}).items():
            if service not in DEFAULT_ENDPOINT_ACTIONS or not actions or any("*" in a or "?" in a for a in actions):
                raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: endpoint_actions[{service!r}] = {list(actions)!r}: "
                                 f"name actions (no wildcards) for {[s.value for s in DEFAULT_ENDPOINT_ACTIONS]} only; "
                                 "the runtime and Mantle endpoint policies follow the models")
        self._endpoint_actions = {**DEFAULT_ENDPOINT_ACTIONS, **(endpoint_actions or {})}
        #: Endpoint services created non-FIPS although ``fips`` is on (accepted by name).
        self.non_fips_services = sorted(s.value for s in exempt & wanted)

        cidrs = [_check_cidr(construct_id, c) for c in allowed_cidrs]
        if not cidrs and not allowed_security_groups:
            cidr = literal_cidr or _literal_cidr(vpc)
            if cidr is None:
                raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: pass allowed_cidrs or "
                                 "allowed_security_groups; the VPC CIDR is a token and cannot be checked")
            cidrs = [_check_cidr(construct_id, cidr)]

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
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: subnets select public subnets; "
                             "endpoints belong in isolated or private subnets")
        if len(set(selected.availability_zones)) < 2:
            raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: subnets span "
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

        for account in principal_accounts:
            if not (Token.is_unresolved(account) or (len(account) == 12 and account.isdigit())):
                raise ConstructPropsError(f"BedrockPrivateLink {construct_id!r}: principal_accounts entry {account!r} is not "
                                 "a 12-digit account id")
        accounts: str | list[str] = list(principal_accounts) if principal_accounts else stack.account
        if isinstance(accounts, list) and len(accounts) == 1:
            accounts = accounts[0]
        self._principal_condition = {"StringEquals": {
            **({"aws:PrincipalOrgID": principal_org_id} if principal_org_id else {}),
            "aws:PrincipalAccount": accounts,
        }}
        self.endpoints: dict[BedrockService, ec2.InterfaceVpcEndpoint] = {}
        for service in sorted(wanted, key=lambda s: list(BedrockService).index(s)):
            name = FIPS_SERVICE_NAMES[service] if fips and service not in exempt else service.value
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
        stack = Stack.of(self)
        if service is BedrockService.MANTLE:
            return self._mantle_statements()
        if service is not BedrockService.RUNTIME:
            return [
                iam.PolicyStatement(
                    sid="AllowNamedPrincipalsNamedActions",
                    principals=[iam.AnyPrincipal()],
                    actions=list(self._endpoint_actions[service]),
                    resources=["*"],
                    conditions=self._principal_condition,
                )
            ]
        statements = []
        if self.model_routes or self.openai_api_routes:
            statements.append(iam.PolicyStatement(
                sid="AllowInvokeOfNamedModels",
                principals=[iam.AnyPrincipal()],
                actions=list(INVOKE_ACTIONS),
                resources=list(dict.fromkeys(arn for route in [*self.model_routes, *self.openai_api_routes]
                                             for arn in model_arns(stack, route))),
                conditions=self._principal_condition,
            ))
        if self.openai_api_routes:
            named = list(dict.fromkeys(a for r in self.openai_api_routes for a in route_arns(stack, r)[0]))
            statements.append(iam.PolicyStatement(
                sid="AllowOpenAiApiOnTheDefaultProject",
                principals=[iam.AnyPrincipal()],
                actions=list(INVOKE_ACTIONS),
                resources=[runtime_project_arn(stack)],
                conditions={"StringEquals": {**self._principal_condition["StringEquals"], "bedrock:ModelArn": named}},
            ))
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

    def _mantle_statements(self) -> list[iam.PolicyStatement]:
        """Inference on the named project for the named models, and the model list; nothing else."""
        models, project, stored = self._mantle
        statements = []
        if models and project:
            statements.append(iam.PolicyStatement(
                sid="AllowInferenceOfNamedModelsOnTheProject",
                principals=[iam.AnyPrincipal()],
                actions=[*MANTLE_ENDPOINT_INFERENCE, *(MANTLE_ENDPOINT_STORED if stored else ())],
                resources=[project],
                conditions={"StringEquals": {**self._principal_condition["StringEquals"],
                                             "bedrock-mantle:Model": list(models)}},
            ))
        statements.append(iam.PolicyStatement(
            sid="AllowModelList",
            principals=[iam.AnyPrincipal()],
            actions=list(MANTLE_ENDPOINT_READ),
            resources=["*"],
            conditions=self._principal_condition,
        ))
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


def _literal_cidr(vpc: ec2.IVpc) -> str | None:
    """The VPC's CIDR as a literal: ``vpc_cidr_block`` itself (an imported VPC), or the CIDR its
    ``AWS::EC2::VPC`` was created with (``ec2.Vpc`` in this app exposes only a token); else None."""
    if not Token.is_unresolved(vpc.vpc_cidr_block):
        return vpc.vpc_cidr_block
    resource = vpc.node.default_child if hasattr(vpc, "node") else None
    cidr = getattr(resource, "cidr_block", None) if isinstance(resource, ec2.CfnVPC) else None
    return cidr if isinstance(cidr, str) and not Token.is_unresolved(cidr) else None
