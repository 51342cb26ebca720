"""Exact endpoint policies and IAM statements, in every partition (one synth per partition)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from conftest import PARTITION_REGIONS, new_stack

from compliant_bedrock.compliance import Compliance, evaluate
from compliant_bedrock.compliance.template import Template as RuleTemplate
from compliant_bedrock.model_access import BedrockModelAccess, MantleProject, RiskAcceptance
from compliant_bedrock.models import ModelIdError, resolve_model
from compliant_bedrock.private_link import BedrockPrivateLink, BedrockService

ACCOUNT = "111122223333"
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
IN_REGION = "openai.gpt-oss-120b-1:0"
#: The profile of each partition's geography ("aws-iso" has none: in-region models only).
PROFILES = {"aws": "us.openai.gpt-oss-20b-1:0", "aws-us-gov": "us-gov.openai.gpt-oss-20b-1:0"}
GLOBAL = "global.openai.gpt-oss-120b-1:0"
#: Strict by default: ids the catalog does not know (us.gpt-oss) or marks UNCERTAIN (us-gov.gpt-oss) need a reason.
CONFIRMED = "Confirmed with aws bedrock list-inference-profiles in the deployed account by the platform team"


def _allow(models: list[str]) -> dict[str, str]:
    return {m: CONFIRMED for m in models if m in (*PROFILES.values(), GLOBAL)}
#: In ``aws``: a model on the runtime OpenAI-compatible APIs and one on Mantle, both risk-accepted.
OPENAI_API = "us.openai.gpt-6-sol"
MANTLE = "openai.gpt-5.6-sol"
ACCEPT = RiskAcceptance("The mission needs these models and accepts the missing guardrail for unclassified drafts.",
                        "ApplyGuardrail on every prompt and answer by the application, logged to its own store.",
                        "the AO, RA-1", "2099-12-31")


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    region = stack.region
    return ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.20.0.0/16",
        availability_zones=[f"{region}a", f"{region}b"],
        isolated_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        isolated_subnet_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
    )


def _models(partition: str) -> list[str]:
    models = [IN_REGION]
    if partition in PROFILES:
        models.append(PROFILES[partition])
    if partition == "aws":
        models.append(GLOBAL)
    return models


class Built:
    def __init__(self, partition: str) -> None:
        self.partition = partition
        self.region = PARTITION_REGIONS[partition]
        stack = new_stack(region=self.region, account=ACCOUNT)
        services = [BedrockService.RUNTIME, BedrockService.CONTROL_PLANE]
        mantle = partition == "aws"
        if mantle:
            services.append(BedrockService.MANTLE)
        self.guardrail_arn = f"arn:{partition}:bedrock:{self.region}:{ACCOUNT}:guardrail/gr0123456789"
        self.project = MantleProject(stack, "Project", name="test-workloads") if mantle else None
        frontier = {
            "openai_api_model_ids": [OPENAI_API] if mantle else [],
            "mantle_model_ids": [MANTLE] if mantle else [],
            "mantle_project_arn": self.project.project_arn if self.project else None,
        }
        self.link = BedrockPrivateLink(
            stack, "Link", vpc=_vpc(stack), model_ids=_models(partition), services=services,
            guardrail_arns=[self.guardrail_arn], allowed_cidrs=["10.20.0.0/16", "192.168.10.0/24"], **frontier,
            allow_unverified_models=_allow(_models(partition)),
        )
        guardrail = {"guardrail_arn": self.guardrail_arn, "guardrail_versioned_arn": f"{self.guardrail_arn}:3",
                     "runtime_endpoint": self.link.runtime_endpoint}
        self.access = BedrockModelAccess(stack, "Access", model_ids=_models(partition), **guardrail,
                                         allow_unverified_models=_allow(_models(partition)))
        self.role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        self.access.grant_invoke(self.role)
        self.frontier: BedrockModelAccess | None = None
        if mantle:  # the unguarded paths on roles of their own (one BedrockModelAccess per role)
            self.frontier = BedrockModelAccess(
                stack, "Frontier", **guardrail, mantle_endpoint=self.link.endpoints[BedrockService.MANTLE],
                **frontier, accept_unguarded={"mantle": ACCEPT, "runtime-openai": ACCEPT})
            self.frontier.grant_invoke(iam.Role(stack, "FrontierApp", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")))
            self.frontier.grant_codex(iam.Role(stack, "Codex", assumed_by=iam.AccountPrincipal(ACCOUNT)))
        self.template = Template.from_stack(stack)
        self.json = self.template.to_json()

    def fm(self, model: str, region: str | None = None) -> str:
        return f"arn:{self.partition}:bedrock:{region or self.region}::foundation-model/{model}"

    def profile(self, profile_id: str) -> str:
        return f"arn:{self.partition}:bedrock:{self.region}:{ACCOUNT}:inference-profile/{profile_id}"

    def named_arns(self) -> list[str]:
        """What callers name: the in-region model and the profiles."""
        arns = [self.fm(IN_REGION)]
        if self.partition in PROFILES:
            arns.append(self.profile(PROFILES[self.partition]))
        if self.partition == "aws":
            arns.append(self.profile(GLOBAL))
        return sorted(arns)

    def destination_arns(self) -> list[str]:
        """Foundation models the profiles route to (the in-region model's own ARN is named, not repeated)."""
        if self.partition == "aws":
            return sorted([*(self.fm("openai.gpt-oss-20b-1:0", r) for r in ("us-east-1", "us-east-2", "us-west-1", "us-west-2")),
                           "arn:aws:bedrock:::foundation-model/openai.gpt-oss-120b-1:0"])
        if self.partition == "aws-us-gov":
            return sorted(self.fm("openai.gpt-oss-20b-1:0", r) for r in ("us-gov-east-1", "us-gov-west-1"))
        return []

    def profile_arns(self) -> list[str]:
        """In the order the models are named (a condition's values are not sorted by CDK)."""
        return [self.profile(m) for m in _models(self.partition) if m != IN_REGION]

    def expected_model_arns(self) -> list[str]:
        return sorted({*self.named_arns(), *self.destination_arns()})  # CDK sorts and de-duplicates

    def openai_api_arns(self) -> tuple[str, list[str]]:
        """(the GPT-6 Sol us. profile, the foundation models it routes to from us-east-1)."""
        return (self.profile(OPENAI_API), [self.fm("openai.gpt-6-sol", r) for r in ("us-east-1", "us-east-2", "us-west-2")])

    def resources(self, cfn_type: str) -> dict[str, Any]:
        return self.template.find_resources(cfn_type)

    def endpoint(self, service_suffix: str) -> dict[str, Any]:
        (props,) = [r["Properties"] for r in self.resources("AWS::EC2::VPCEndpoint").values()
                    if r["Properties"]["ServiceName"].endswith(f".{service_suffix}")]
        return props

    def policy_statements(self, construct: str = "AccessInvokePolicy") -> list[dict[str, Any]]:
        (policy,) = [r for k, r in self.resources("AWS::IAM::ManagedPolicy").items() if k.startswith(construct)]
        return normalized(policy["Properties"]["PolicyDocument"]["Statement"])

    def logical_id(self, cfn_type: str, prefix: str = "") -> str:
        (logical_id,) = [k for k in self.resources(cfn_type) if k.startswith(prefix)]
        return logical_id

    def endpoint_ref(self, service_suffix: str) -> dict[str, str]:
        (logical_id,) = [k for k, r in self.resources("AWS::EC2::VPCEndpoint").items()
                         if r["Properties"]["ServiceName"].endswith(f".{service_suffix}")]
        return {"Ref": logical_id}


def normalized(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """IAM accepts a string or a list; CDK writes a lone value as a string. Compare sorted lists
    (CDK sorts Action and Resource itself, not NotResource; order has no meaning in IAM)."""
    return [{k: (sorted([v] if isinstance(v, str) else v) if k in ("Action", "Resource", "NotResource")
                 and not isinstance(v, dict) else [v] if k in ("Action", "Resource") else v)
             for k, v in s.items()} for s in statements]


@pytest.fixture(scope="module", params=list(PARTITION_REGIONS), ids=list(PARTITION_REGIONS))
def built(request: pytest.FixtureRequest) -> Built:
    return Built(request.param)


PRINCIPAL_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def test_runtime_endpoint_policy_names_principals_actions_and_models(built: Built) -> None:
    props = built.endpoint("bedrock-runtime")
    assert props["PrivateDnsEnabled"] is True
    assert props["ServiceName"] == f"com.amazonaws.{built.region}.bedrock-runtime"
    arns = built.expected_model_arns()
    openai_statement = []
    if built.partition == "aws":
        profile, destinations = built.openai_api_arns()
        arns = sorted([*arns, profile, *destinations])
        openai_statement = [
            {"Sid": "AllowOpenAiApiOnTheDefaultProject", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": INVOKE,
             "Resource": [f"arn:aws:bedrock:us-east-1:{ACCOUNT}:project/default"],
             "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "bedrock:ModelArn": [profile]}}}]
    assert normalized(props["PolicyDocument"]["Statement"]) == [
        {"Sid": "AllowInvokeOfNamedModels", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": INVOKE,
         "Resource": arns, "Condition": PRINCIPAL_ACCOUNT},
        *openai_statement,
        {"Sid": "AllowApplyOfNamedGuardrails", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["bedrock:ApplyGuardrail"], "Resource": [built.guardrail_arn], "Condition": PRINCIPAL_ACCOUNT},
    ]


CONTROL_PLANE_READS = sorted(["bedrock:GetFoundationModel", "bedrock:ListFoundationModels", "bedrock:GetInferenceProfile",
                              "bedrock:ListInferenceProfiles", "bedrock:GetGuardrail", "bedrock:ListGuardrails"])


def test_other_endpoints_name_principals_and_actions(built: Built) -> None:
    assert normalized(built.endpoint("bedrock")["PolicyDocument"]["Statement"]) == [
        {"Sid": "AllowNamedPrincipalsNamedActions", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": CONTROL_PLANE_READS, "Resource": ["*"], "Condition": PRINCIPAL_ACCOUNT},
    ]
    if built.partition == "aws":
        project = {"Fn::GetAtt": [built.logical_id("AWS::BedrockMantle::Project"), "Arn"]}
        assert built.endpoint("bedrock-mantle")["PolicyDocument"]["Statement"] == [
            {"Sid": "AllowInferenceOfNamedModelsOnTheProject", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": "bedrock-mantle:CreateInference", "Resource": project,
             "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "bedrock-mantle:Model": [MANTLE]}}},
            {"Sid": "AllowModelList", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["bedrock-mantle:GetModel", "bedrock-mantle:ListModels"], "Resource": "*",
             "Condition": PRINCIPAL_ACCOUNT},
        ]
        # No FIPS here: no FIPS service exists for Mantle, and fips=False in this fixture.
        assert built.endpoint("bedrock-mantle")["ServiceName"] == "com.amazonaws.us-east-1.bedrock-mantle"


def test_endpoints_span_two_zones_in_isolated_subnets(built: Built) -> None:
    for endpoint in built.resources("AWS::EC2::VPCEndpoint").values():
        assert endpoint["Properties"]["SubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def test_security_group_admits_https_from_named_networks_only(built: Built) -> None:
    (group,) = built.resources("AWS::EC2::SecurityGroup").values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert ingress == [
        {"CidrIp": "10.20.0.0/16", "Description": "HTTPS from 10.20.0.0/16", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
        {"CidrIp": "192.168.10.0/24", "Description": "HTTPS from 192.168.10.0/24", "FromPort": 443, "IpProtocol": "tcp",
         "ToPort": 443},
    ]
    # No egress: endpoints answer, they never initiate (CDK writes a match-nothing rule).
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"
    assert not built.resources("AWS::EC2::SecurityGroupIngress")


API_KEYS = {"Sid": "DenyApiKeys", "Effect": "Deny", "Action": ["bedrock-mantle:CallWithBearerToken",
                                                               "bedrock:CallWithBearerToken"], "Resource": ["*"]}
PROJECT_CHANGES = {"Sid": "DenyProjectAndRetentionChanges", "Effect": "Deny", "Action": sorted([
    "bedrock-mantle:CreateProject", "bedrock-mantle:UpdateProject", "bedrock-mantle:ArchiveProject",
    "bedrock-mantle:PutAccountDataRetention", "bedrock:PutAccountDataRetention"]), "Resource": ["*"]}
MANTLE_ALL = sorted(["bedrock-mantle:CreateInference", "bedrock-mantle:GetInference", "bedrock-mantle:CancelInference",
                     "bedrock-mantle:DeleteInference", "bedrock-mantle:CountTokens"])


def test_invoke_policy_statements_are_exact(built: Built) -> None:
    """Guarded runtime only: every unguarded path (project calls, Mantle) and API keys are denied."""
    named, destinations = built.named_arns(), built.destination_arns()
    versioned = f"{built.guardrail_arn}:3"
    vpce = built.endpoint_ref("bedrock-runtime")
    guard = {"bedrock:GuardrailIdentifier": versioned, "aws:SourceVpce": vpce}
    expected = [
        {"Sid": "AllowInvokeOfNamedModels", "Effect": "Allow", "Action": INVOKE, "Resource": named,
         "Condition": {"StringEquals": guard}},
    ]
    if destinations:  # F18: a destination model only through one of the named profiles
        expected.append(
            {"Sid": "AllowInvokeThroughNamedProfiles", "Effect": "Allow", "Action": INVOKE, "Resource": destinations,
             "Condition": {"StringEquals": {**guard, "bedrock:InferenceProfileArn": built.profile_arns()}}})
    expected += [
        {"Sid": "AllowApplyOfTheGuardrail", "Effect": "Allow", "Action": ["bedrock:ApplyGuardrail"],
         "Resource": [built.guardrail_arn], "Condition": {"StringEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "DenyInvokeWithoutTheGuardrail", "Effect": "Deny", "Action": INVOKE, "Resource": built.expected_model_arns(),
         "Condition": {"StringNotEquals": {"bedrock:GuardrailIdentifier": versioned}}},
        {"Sid": "DenyOpenAiCompatibleApis", "Effect": "Deny", "Action": INVOKE,
         "Resource": [f"arn:{built.partition}:bedrock:*:{ACCOUNT}:project/*"]},
        {"Sid": "DenyInvokeOutsideTheEndpoint", "Effect": "Deny", "Action": sorted([*INVOKE, "bedrock:ApplyGuardrail"]),
         "Resource": ["*"], "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "DenyInvokeOfUnlistedModels", "Effect": "Deny", "Action": INVOKE, "NotResource": built.expected_model_arns()},
        API_KEYS,
        {"Sid": "DenyMantleInference", "Effect": "Deny", "Action": MANTLE_ALL, "Resource": ["*"]},
        PROJECT_CHANGES,
    ]
    statements = built.policy_statements()
    for statement in statements:
        if "NotResource" in statement:
            statement["NotResource"] = sorted(statement["NotResource"])
    assert statements == expected


def test_managed_agents_are_denied_unless_enabled(built: Built) -> None:
    assert built.policy_statements("AccessManagedAgentsDenyPolicy") == [
        {"Sid": "DenyManagedAgentSessions", "Effect": "Deny", "Action": sorted(
            f"bedrock-mantle:{a}" for a in ("CreateAgentSession", "GetAgentSession", "ListAgentSessions",
                                            "CreateAgentSessionEvent", "ListAgentSessionEvents", "ListAgentSessionItems",
                                            "DeleteAgentSession", "RegisterEnvironment", "ConnectEnvironment")),
         "Resource": ["*"]},
        {"Sid": "DenyPassRoleToManagedAgents", "Effect": "Deny", "Action": ["iam:PassRole"], "Resource": ["*"],
         "Condition": {"StringEquals": {"iam:PassedToService": "bedrock-mantle.amazonaws.com"}}},
    ]


def test_frontier_policy_opens_only_the_accepted_unguarded_paths(built: Built) -> None:
    """Runtime OpenAI-compatible APIs for one profile, Mantle for one model on one project; each surrounded."""
    if built.partition != "aws":
        pytest.skip("the unguarded paths are exercised in the commercial partition")
    profile, destinations = built.openai_api_arns()
    default_project = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:project/default"
    vpce, mantle_vpce = built.endpoint_ref("bedrock-runtime"), built.endpoint_ref("bedrock-mantle")
    project = {"Fn::GetAtt": [built.logical_id("AWS::BedrockMantle::Project"), "Arn"]}
    statements = built.policy_statements("FrontierInvokePolicy")
    for statement in statements:
        if "NotResource" in statement and isinstance(statement["NotResource"], list):
            statement["NotResource"] = sorted(statement["NotResource"])
    assert statements == [
        {"Sid": "AllowApplyOfTheGuardrail", "Effect": "Allow", "Action": ["bedrock:ApplyGuardrail"],
         "Resource": [built.guardrail_arn], "Condition": {"StringEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "AllowUnguardedOpenAiApiInvoke", "Effect": "Allow", "Action": INVOKE, "Resource": [profile],
         "Condition": {"StringEquals": {"aws:SourceVpce": vpce, "bedrock:ProjectArn": default_project}}},
        {"Sid": "AllowUnguardedOpenAiApiThroughProfiles", "Effect": "Allow", "Action": INVOKE, "Resource": destinations,
         "Condition": {"StringEquals": {"aws:SourceVpce": vpce, "bedrock:ProjectArn": default_project,
                                        "bedrock:InferenceProfileArn": [profile]}}},
        {"Sid": "AllowUnguardedOpenAiApiOnTheDefaultProject", "Effect": "Allow", "Action": INVOKE,
         "Resource": [default_project], "Condition": {"StringEquals": {"aws:SourceVpce": vpce, "bedrock:ModelArn": [profile]}}},
        {"Sid": "DenyOpenAiApiForOtherModels", "Effect": "Deny", "Action": INVOKE,
         "Resource": [f"arn:aws:bedrock:*:{ACCOUNT}:project/*"],
         "Condition": {"StringNotEquals": {"bedrock:ModelArn": [profile]}}},
        {"Sid": "DenyNonProjectInvokeWithoutTheGuardrail", "Effect": "Deny", "Action": INVOKE,
         "Resource": sorted([profile, *destinations]),
         "Condition": {"StringNotEquals": {"bedrock:GuardrailIdentifier": f"{built.guardrail_arn}:3"},
                       "Null": {"bedrock:ProjectArn": "true"}}},
        {"Sid": "DenyInvokeOutsideTheEndpoint", "Effect": "Deny", "Action": sorted([*INVOKE, "bedrock:ApplyGuardrail"]),
         "Resource": ["*"], "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "DenyInvokeOfUnlistedModels", "Effect": "Deny", "Action": INVOKE,
         "NotResource": sorted([profile, *destinations, default_project])},
        API_KEYS,
        {"Sid": "AllowUnguardedMantleInference", "Effect": "Allow", "Action": ["bedrock-mantle:CreateInference"],
         "Resource": [project],
         "Condition": {"StringEquals": {"bedrock-mantle:Model": [MANTLE], "aws:SourceVpce": mantle_vpce}}},
        *_mantle_denies(project, mantle_vpce),
        PROJECT_CHANGES,
    ]


def _mantle_denies(project: dict, mantle_vpce: dict) -> list[dict]:
    return [
        {"Sid": "DenyMantleInferenceOfUnlistedModels", "Effect": "Deny",
         "Action": ["bedrock-mantle:CountTokens", "bedrock-mantle:CreateInference"], "Resource": ["*"],
         "Condition": {"StringNotEquals": {"bedrock-mantle:Model": [MANTLE]}}},
        {"Sid": "DenyMantleInferenceOnOtherProjects", "Effect": "Deny", "Action": MANTLE_ALL, "NotResource": project},
        {"Sid": "DenyMantleOutsideTheEndpoint", "Effect": "Deny", "Action": ["bedrock-mantle:*"], "Resource": ["*"],
         "Condition": {"StringNotEquals": {"aws:SourceVpce": mantle_vpce}}},
    ]


def test_codex_grant_is_mantle_inference_on_the_project_via_the_endpoint_never_api_keys(built: Built) -> None:
    if built.partition != "aws":
        pytest.skip("Codex does not support Mantle in GovCloud; the fixture has Mantle in aws only")
    mantle_vpce = built.endpoint_ref("bedrock-mantle")
    project = {"Fn::GetAtt": [built.logical_id("AWS::BedrockMantle::Project"), "Arn"]}
    assert built.policy_statements("FrontierCodexPolicy") == [
        {"Sid": "AllowUnguardedMantleInferenceForCodex", "Effect": "Allow", "Action": ["bedrock-mantle:CreateInference"],
         "Resource": [project],
         "Condition": {"StringEquals": {"bedrock-mantle:Model": [MANTLE], "aws:SourceVpce": mantle_vpce}}},
        {"Sid": "AllowModelList", "Effect": "Allow", "Action": ["bedrock-mantle:GetModel", "bedrock-mantle:ListModels"],
         "Resource": ["*"], "Condition": {"StringEquals": {"aws:SourceVpce": mantle_vpce}}},
        *_mantle_denies(project, mantle_vpce),
        API_KEYS,
        PROJECT_CHANGES,
    ]


def test_the_mantle_project_is_dedicated_and_retained(built: Built) -> None:
    if built.partition != "aws":
        pytest.skip("Mantle in aws only in this fixture")
    (project,) = built.resources("AWS::BedrockMantle::Project").values()
    assert project["Properties"] == {"Name": "test-workloads"}
    assert project["DeletionPolicy"] == "Retain" and project["UpdateReplacePolicy"] == "Retain"


def test_no_bedrock_allow_has_wildcards(built: Built) -> None:
    for statement in built.policy_statements():
        if statement["Effect"] != "Allow":
            continue  # Denies are meant to be broad
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in a for a in actions)
        resources = statement.get("Resource", statement.get("NotResource"))
        for resource in resources if isinstance(resources, list) else [resources]:
            assert "*" not in json.dumps(resource)


def test_grant_invoke_attaches_the_managed_policies(built: Built) -> None:
    role = built.resources("AWS::IAM::Role")[built.logical_id("AWS::IAM::Role", "App")]
    policies = [k for k in built.resources("AWS::IAM::ManagedPolicy") if k.startswith("Access")]
    assert sorted(r["Ref"] for r in role["Properties"]["ManagedPolicyArns"]) == sorted(policies)
    assert "Policies" not in role["Properties"]


def test_arns_carry_the_literal_partition(built: Built) -> None:
    text = json.dumps(built.json)
    assert f"arn:{built.partition}:bedrock:" in text
    if built.partition != "aws":
        assert "arn:aws:" not in text


def test_bedrock_pack_accepts_the_constructs(built: Built) -> None:
    results = evaluate(RuleTemplate("Test", built.json))
    network = [r for r in results if r.rule_id.startswith(("Bedrock-Endpoint", "Bedrock-RuntimeEndpoint"))]
    iam_rules = [r for r in results if r.rule_id.startswith("Bedrock-Invoke")]
    assert {r.rule_id for r in network} >= {"Bedrock-EndpointPrivateDns", "Bedrock-EndpointPolicyNotDefault",
                                            "Bedrock-EndpointSecurityGroupRestricted", "Bedrock-RuntimeEndpointPresent",
                                            "Bedrock-RuntimeEndpointPolicyNamesModels"}
    assert iam_rules
    assert [r for r in network + iam_rules if r.compliance is not Compliance.COMPLIANT] == []


# ---------------------------------------------------------------- validation (no synth needed)


def _stack() -> cdk.Stack:
    return new_stack(region="us-east-1", account=ACCOUNT)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allowed_cidrs": ["0.0.0.0/0"]}, r"allowed_cidrs entry '0.0.0.0/0' opens the endpoints"),
        ({"allowed_cidrs": ["10.0.0.0/33"]}, r"allowed_cidrs entry '10.0.0.0/33' is not a CIDR"),
        ({"model_ids": []}, r"model_ids is empty"),
        ({"model_ids": ["not a model"]}, r"model id 'not a model' does not match"),
        ({"model_ids": ["eu.openai.gpt-oss-20b-1:0"]}, r"'eu.openai.gpt-oss-20b-1:0' can be called from eu-.* only, not from 'us-east-1'"),
        ({"services": ["bedrock-foo"]}, r"services \['bedrock-foo'\] must be among"),
        ({"endpoint_actions": {BedrockService.CONTROL_PLANE: ["bedrock:*"]}}, r"name actions \(no wildcards\)"),
        ({"endpoint_actions": {BedrockService.MANTLE: ["bedrock-mantle:ListModels"]}}, r"runtime and Mantle endpoint"),
    ],
)
def test_private_link_rejects_bad_props(kwargs: dict[str, Any], message: str) -> None:
    stack = _stack()
    props = {"vpc": _vpc(stack), "model_ids": [IN_REGION], "allowed_cidrs": ["10.20.0.0/16"], **kwargs}
    with pytest.raises((ValueError, ModelIdError), match=message):
        BedrockPrivateLink(stack, "Link", **props)


def test_private_link_refuses_to_open_to_the_world_later() -> None:
    stack = _stack()
    link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"])
    for peer in (ec2.Peer.any_ipv4(), ec2.Peer.ipv4("0.0.0.0/1"), ec2.Peer.ipv4("128.0.0.0/1")):
        with pytest.raises(ValueError, match=r"opens the endpoints to \(nearly\) every address"):
            link.allow_from(peer)
    with pytest.raises(ValueError, match=r"is IPv6"):
        link.allow_from(ec2.Peer.ipv6("2000::/3"))


def test_a_client_vpc_cidr_token_is_admitted_and_judged_without_a_crash() -> None:
    """allow_from(Peer.ipv4(other_vpc.vpc_cidr_block)): a common pattern, a token the pack must read."""
    stack = _stack()
    link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"])
    clients = ec2.Vpc(stack, "Clients", nat_gateways=0, availability_zones=["us-east-1a", "us-east-1b"],
                      subnet_configuration=[ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    link.allow_from(ec2.Peer.ipv4(clients.vpc_cidr_block))
    template = Template.from_stack(stack).to_json()
    results = [r for r in evaluate(RuleTemplate("Test", template)) if r.rule_id == "Bedrock-EndpointSecurityGroupRestricted"]
    assert results and {r.compliance for r in results} == {Compliance.COMPLIANT}


def test_private_link_needs_two_zones() -> None:
    stack = _stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "OneZone", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.20.0.0/16",
                                      availability_zones=["us-east-1a"], isolated_subnet_ids=["subnet-0123456789abcdef0"])
    with pytest.raises(ValueError, match=r"span 1 availability zone\(s\); at least 2"):
        BedrockPrivateLink(stack, "Link", vpc=vpc, model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"])


def test_model_access_requires_the_endpoint_unless_told_why_not() -> None:
    stack = _stack()
    with pytest.raises(ValueError, match=r"require_vpc_endpoint needs runtime_endpoint"):
        BedrockModelAccess(stack, "Access", model_ids=[IN_REGION], guardrail_arn="g", guardrail_versioned_arn="g:1")


def test_bedrock_managed_role_variant_drops_conditions_but_keeps_model_scope() -> None:
    stack = _stack()
    access = BedrockModelAccess(stack, "Access", model_ids=[IN_REGION], guardrail_arn="arn:g", guardrail_versioned_arn="arn:g:1",
                                require_vpc_endpoint=False, require_guardrail=False)
    statements = stack.resolve(access.policy.document.to_json())["Statement"]
    assert [s["Sid"] for s in statements] == ["AllowInvokeOfNamedModels", "AllowApplyOfTheGuardrail",
                                               "DenyOpenAiCompatibleApis", "DenyInvokeOfUnlistedModels", "DenyApiKeys",
                                               "DenyMantleInference", "DenyProjectAndRetentionChanges"]
    assert "Condition" not in statements[0]


def test_unverified_models_are_refused_unless_accepted_with_a_reason() -> None:
    """Strict by default: an id the catalog does not know, or marks UNCERTAIN, needs allow_unverified_models."""
    from compliant_bedrock.errors import ConstructPropsError

    stack = _stack()
    link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"])
    base = {"guardrail_arn": "arn:g", "guardrail_versioned_arn": "arn:g:1", "runtime_endpoint": link.runtime_endpoint}
    unknown, uncertain = "us.openai.gpt-5-example-v1:0", "us.openai.gpt-5.6-sol"
    with pytest.raises(ConstructPropsError, match=r"BedrockModelAccess 'Bare': model_ids: model id "
                       r"'us.openai.gpt-5-example-v1:0' is not in the model catalog.*allow_unverified_models="):
        BedrockModelAccess(stack, "Bare", model_ids=[IN_REGION, unknown], **base)
    with pytest.raises(ConstructPropsError, match=r"model_ids: model id 'us.openai.gpt-5.6-sol' is an UNCERTAIN "
                       r"inference profile id"):
        BedrockModelAccess(stack, "Uncertain", model_ids=[uncertain], **base)
    with pytest.raises(ConstructPropsError, match=r"did you mean 'openai.gpt-oss-120b-1:0'"):
        BedrockModelAccess(stack, "Typo", model_ids=["openai.gpt-oss-12b-1:0"], **base)
    with pytest.raises(ConstructPropsError, match=r"allow_unverified_models\['us.openai.gpt-5-example-v1:0'\]: "
                       r"'we need it' is not a reason"):
        BedrockModelAccess(stack, "Short", model_ids=[unknown], allow_unverified_models={unknown: "we need it"}, **base)
    with pytest.raises(ConstructPropsError, match=r"allow_unverified_models names \['openai.other-1:0'\], which no "
                       r"model prop of this construct uses"):
        BedrockModelAccess(stack, "Stale", model_ids=[IN_REGION],
                           allow_unverified_models={"openai.other-1:0": CONFIRMED}, **base)
    access = BedrockModelAccess(stack, "Access", model_ids=[IN_REGION, unknown, uncertain],
                                allow_unverified_models={unknown: CONFIRMED, uncertain: CONFIRMED}, **base)
    assert access.unverified_model_ids == [unknown, uncertain]
    assert access.accepted_unverified_models == {unknown: CONFIRMED, uncertain: CONFIRMED}


def test_model_access_on_an_endpoint_inherits_the_endpoints_acceptances() -> None:
    stack = _stack()
    unknown = "us.openai.gpt-5-example-v1:0"
    vpc = _vpc(stack)
    with pytest.raises(ValueError, match=r"BedrockPrivateLink 'Bare': model_ids: model id 'us.openai.gpt-5-example"):
        BedrockPrivateLink(stack, "Bare", vpc=vpc, model_ids=[unknown], allowed_cidrs=["10.20.0.0/16"])
    link = BedrockPrivateLink(stack, "Link", vpc=vpc, model_ids=[unknown], allowed_cidrs=["10.20.0.0/16"],
                              allow_unverified_models={unknown: CONFIRMED})
    access = BedrockModelAccess(stack, "Access", private_link=link, guardrail_arn="arn:g",
                                guardrail_versioned_arn="arn:g:1")
    assert access.accepted_unverified_models == {unknown: CONFIRMED}


def test_an_own_apps_accepted_ids_reach_the_evidence_once_per_environment(tmp_path: Path) -> None:
    """The gate's source for an own app (no configuration): the constructs' allow_unverified_models, one POA&M
    deviation per id and environment, with the reason and the construct, and no approver claimed."""
    from compliant_bedrock.model_standing import construct_acceptances

    app = cdk.App(context={}, outdir=str(tmp_path))
    stack = cdk.Stack(app, "Lab", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    cdk.Tags.of(stack).add("Environment", "lab")
    unknown = "us.openai.gpt-5-example-v1:0"
    link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION, unknown],
                              allowed_cidrs=["10.20.0.0/16"], allow_unverified_models={unknown: CONFIRMED})
    BedrockModelAccess(stack, "Access", private_link=link, guardrail_arn="arn:g", guardrail_versioned_arn="arn:g:1")
    unverified, deviations = construct_acceptances(app, Path(app.synth().directory))
    assert unverified == {"lab": [unknown]}
    (item,) = deviations["lab"]
    assert (item["subject"], item["source"], item["resource"]) == (
        f"unverified/{unknown}", "construct allow_unverified_models", unknown)
    assert item["reason"].startswith(CONFIRMED) and "Lab/Link" in item["reason"] and "accepted_by" not in item


def test_the_endpoint_refuses_a_model_its_region_does_not_serve_naming_where_it_is_served() -> None:
    """GPT-5.5 is on Mantle in us-east-2 only: the endpoint in us-east-1 refuses it at construction."""
    from compliant_bedrock.errors import ConstructPropsError

    stack = new_stack(region="us-east-1", account=ACCOUNT)
    project = MantleProject(stack, "Project", name="p1")
    with pytest.raises(ConstructPropsError, match=r"BedrockPrivateLink 'Link': mantle_model_ids: model "
                       r"'openai.gpt-5.5' is not served on bedrock-mantle in 'us-east-1'.* in us-east-2"):
        BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), mantle_model_ids=["openai.gpt-5.5"],
                           services=[BedrockService.RUNTIME, BedrockService.MANTLE],
                           mantle_project_arn=project.project_arn, allowed_cidrs=["10.20.0.0/16"],
                           allow_unverified_models={"openai.gpt-5.5": CONFIRMED})  # no acceptance makes it served


def test_an_unresolved_region_checks_only_what_holds_everywhere() -> None:
    """Region-agnostic stack: catalog membership is still checked; where a model is served cannot be."""
    from compliant_bedrock.errors import ConstructPropsError

    stack = cdk.Stack(cdk.App(), "Agnostic")
    base = {"guardrail_arn": "arn:g", "guardrail_versioned_arn": "arn:g:1", "require_vpc_endpoint": False}
    with pytest.raises(ConstructPropsError, match=r"model id 'openai.example-1:0' is not in the model catalog"):
        BedrockModelAccess(stack, "Unknown", model_ids=["openai.example-1:0"], **base)
    BedrockModelAccess(stack, "Known", model_ids=[IN_REGION], **base)


def test_library_never_writes_the_commercial_partition() -> None:
    root = Path(__file__).resolve().parent.parent
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for base in ("constructs", "infra")
        for path in (root / base).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"arn:aws:", line)
    ]
    offenders += [f"app.py:{n}" for n, line in enumerate((root / "app.py").read_text().splitlines(), 1) if "arn:aws:" in line]
    assert offenders == []


def test_fips_is_refused_where_bedrock_has_no_fips_endpoint() -> None:
    stack = new_stack(region="eu-west-1", account=ACCOUNT)
    with pytest.raises(ValueError, match=r"fips=True but 'eu-west-1' has no Bedrock FIPS endpoint service"):
        BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], fips=True,
                           allowed_cidrs=["10.20.0.0/16"])


def test_fips_is_refused_for_a_service_without_a_fips_endpoint() -> None:
    stack = new_stack(region="us-east-1", account=ACCOUNT)
    with pytest.raises(ValueError, match=r"fips=True but \['bedrock-agent'\] have no FIPS endpoint service"):
        BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], fips=True,
                           services=["bedrock-agent"], allowed_cidrs=["10.20.0.0/16"])


def test_ipv6_clients_are_refused_the_endpoints_are_ipv4() -> None:
    stack = new_stack(region="us-east-1", account=ACCOUNT)
    with pytest.raises(ValueError, match=r"allowed_cidrs entry '2001:db8::/56' is IPv6"):
        BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], allowed_cidrs=["2001:db8::/56"])


def test_a_policy_over_the_iam_size_limit_is_refused_at_synth() -> None:
    """Cross-region profiles repeat one foundation-model ARN per destination region in four statements."""
    from compliant_bedrock.policy_size import MANAGED_POLICY_MAX_CHARS, policy_length

    def access(stack_id: str, count: int) -> BedrockModelAccess:
        stack = new_stack(region="eu-west-1", account=ACCOUNT, stack_id=stack_id)
        link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=["eu.openai.example-1:0"],
                                  allowed_cidrs=["10.20.0.0/16"],
                                  allow_unverified_models={"eu.openai.example-1:0": CONFIRMED})
        models = [f"eu.openai.example-{i}:0" for i in range(count)]
        return BedrockModelAccess(stack, "Access", model_ids=models, allow_unverified_models=dict.fromkeys(models, CONFIRMED),
                                  guardrail_arn=f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:guardrail/abcdefghijkl",
                                  guardrail_versioned_arn=f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:guardrail/abcdefghijkl:1",
                                  runtime_endpoint=link.runtime_endpoint)

    two = access("Two", 2)
    resolved = Stack.of(two).resolve(two.policy.document)
    assert 5000 < policy_length(resolved) <= MANAGED_POLICY_MAX_CHARS  # two profiles fit, just
    with pytest.raises(ValueError, match=r"the models .* make the invoke policy ~\d+ characters, over IAM's 6144"):
        access("Three", 3)


def test_policy_length_counts_intrinsics_at_their_longest() -> None:
    from compliant_bedrock.policy_size import policy_length

    arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:us-east-1:", {"Ref": "AWS::AccountId"},
                             ":inference-profile/us.x"]]}
    assert policy_length({"Resource": arn}) == len('{"Resource":""}') + len("arn:aws-us-gov:bedrock:us-east-1:"
                                                                            "111122223333:inference-profile/us.x")
    assert policy_length({"R": {"Ref": "Endpoint"}}) == len('{"R":""}') + 32
    assert policy_length({"R": {"Fn::GetAtt": ["Guardrail", "GuardrailArn"]}}) == len('{"R":""}') + 128


@pytest.mark.parametrize("versioned", [f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abcdefghijkl",
                                       f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abcdefghijkl:DRAFT"])
def test_model_access_refuses_the_guardrail_draft(versioned: str) -> None:
    stack = _stack()
    with pytest.raises(ValueError, match=r"names no published version"):
        BedrockModelAccess(stack, "Access", model_ids=[IN_REGION], require_vpc_endpoint=False,
                           guardrail_arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abcdefghijkl",
                           guardrail_versioned_arn=versioned)


def test_model_access_allows_apply_on_the_guardrail_profiles_too() -> None:
    stack = _stack()
    guardrail = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abcdefghijkl"
    profiles = [f"arn:aws:bedrock:{r}:{ACCOUNT}:guardrail-profile/us.guardrail.v1:0" for r in ("us-east-1", "us-west-2")]
    access = BedrockModelAccess(stack, "Access", model_ids=[IN_REGION], require_vpc_endpoint=False,
                                guardrail_arn=guardrail, guardrail_profile_arns=profiles,
                                guardrail_versioned_arn=f"{guardrail}:1")
    statements = {s["Sid"]: s for s in stack.resolve(access.policy.document.to_json())["Statement"]}
    assert statements["AllowApplyOfTheGuardrail"]["Resource"] == [guardrail, *profiles]


@pytest.mark.parametrize("region", ["us-gov-west-1", "us-iso-east-1"])
def test_global_profiles_are_refused_outside_the_commercial_partition(region: str) -> None:
    with pytest.raises(ModelIdError, match=r"routes among commercial regions only"):
        resolve_model("global.openai.gpt-oss-120b-1:0", region)


# ---------------------------------------------------------------- frontier paths, FIPS per endpoint, F14 (no synth)


def _endpoint_policy(link: BedrockPrivateLink, service: BedrockService) -> list[dict[str, Any]]:
    return Stack.of(link).resolve(link.endpoints[service].node.default_child.policy_document)["Statement"]


def test_isolated_vpc_default_admits_its_literal_cidr() -> None:
    """IsolatedVpc's vpc_cidr_block is a token: the default (no allowed_cidrs) takes its literal CIDR."""
    from aws_cdk import aws_kms as kms

    from compliant_bedrock.network import IsolatedVpc

    stack = new_stack(region="us-east-1", account=ACCOUNT, zones=["us-east-1a", "us-east-1b"])
    network = IsolatedVpc(stack, "Net", cidr="10.42.0.0/16", availability_zones=["us-east-1a", "us-east-1b"],
                          log_key=kms.Key(stack, "K"), flow_log_retention_days=365)
    for vpc in (network, network.vpc):  # the construct itself, or its ec2.Vpc (the CfnVPC's literal CidrBlock)
        link = BedrockPrivateLink(stack, f"Link{type(vpc).__name__}", vpc=vpc, model_ids=[IN_REGION])
        ingress = stack.resolve(link.security_group.node.default_child.security_group_ingress)
        assert [(i["cidrIp"], i["fromPort"]) for i in ingress] == [("10.42.0.0/16", 443)]


def test_organization_principals_are_narrowed_to_named_accounts() -> None:
    stack = _stack()
    link = BedrockPrivateLink(stack, "Link", vpc=_vpc(stack), model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"],
                              principal_org_id="o-abcdefghij", principal_accounts=[ACCOUNT, "444455556666"])
    (statement,) = _endpoint_policy(link, BedrockService.RUNTIME)
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij",
                                                       "aws:PrincipalAccount": [ACCOUNT, "444455556666"]}}
    # Without named accounts, the organization condition still comes with this account only.
    stack2 = _stack()
    link2 = BedrockPrivateLink(stack2, "Link", vpc=_vpc(stack2), model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"],
                               principal_org_id="o-abcdefghij")
    assert _endpoint_policy(link2, BedrockService.RUNTIME)[0]["Condition"]["StringEquals"]["aws:PrincipalAccount"] == ACCOUNT
    with pytest.raises(ValueError, match=r"principal_accounts entry '1234' is not a 12-digit account id"):
        stack3 = _stack()
        BedrockPrivateLink(stack3, "Link", vpc=_vpc(stack3), model_ids=[IN_REGION], principal_accounts=["1234"])


def test_fips_runtime_next_to_a_non_fips_mantle_endpoint_only_when_named() -> None:
    stack = new_stack(region="us-east-2", account=ACCOUNT)
    project = MantleProject(stack, "Project", name="p1")
    kwargs = {"vpc": _vpc(stack), "mantle_model_ids": ["openai.gpt-5.5"], "mantle_project_arn": project.project_arn,
              "services": ["bedrock-runtime", "bedrock-mantle"], "fips": True, "allowed_cidrs": ["10.20.0.0/16"]}
    with pytest.raises(ValueError, match=r"\['bedrock-mantle'\] have no FIPS endpoint service; .*non_fips_services"):
        BedrockPrivateLink(stack, "Refused", **kwargs)
    link = BedrockPrivateLink(stack, "Link", non_fips_services=["bedrock-mantle"], **kwargs)
    names = {s: stack.resolve(e.node.default_child.service_name) for s, e in link.endpoints.items()}
    assert names == {BedrockService.RUNTIME: "com.amazonaws.us-east-2.bedrock-runtime-fips",
                     BedrockService.MANTLE: "com.amazonaws.us-east-2.bedrock-mantle"}
    assert link.non_fips_services == ["bedrock-mantle"]
    with pytest.raises(ValueError, match=r"non_fips_services \['bedrock-runtime'\] have a FIPS endpoint service"):
        BedrockPrivateLink(stack, "Runtime", non_fips_services=["bedrock-runtime"], **kwargs)


def test_model_access_refuses_mantle_without_a_dedicated_project() -> None:
    stack = new_stack(region="us-east-2", account=ACCOUNT)
    base = {"guardrail_arn": "arn:g", "guardrail_versioned_arn": "arn:g:1", "require_vpc_endpoint": False,
            "mantle_model_ids": ["openai.gpt-5.5"]}
    with pytest.raises(ValueError, match=r"mantle_model_ids need mantle_project_arn, a dedicated"):
        BedrockModelAccess(stack, "A", **base)
    default = f"arn:aws:bedrock-mantle:us-east-2:{ACCOUNT}:project/default"
    with pytest.raises(ValueError, match=r"is the default project or a wildcard"):
        BedrockModelAccess(stack, "B", mantle_project_arn=default, **base)
    with pytest.raises(ModelIdError, match=r"BedrockModelAccess 'C': mantle_model_ids: model 'openai.gpt-5.5' is not "
                       r"served on bedrock-mantle in 'us-west-2'.* in us-east-2"):
        BedrockModelAccess(new_stack(region="us-west-2", account=ACCOUNT), "C",
                           mantle_project_arn=f"arn:aws:bedrock-mantle:us-west-2:{ACCOUNT}:project/proj_abc", **base)
    with pytest.raises(ValueError, match=r"name 'default' would look like the account's default project"):
        MantleProject(stack, "P", name="default")


def test_an_unaccepted_unguarded_path_is_left_for_the_rule_and_an_accepted_one_is_its_reason() -> None:
    stack = new_stack(region="us-east-2", account=ACCOUNT)
    project = MantleProject(stack, "Project", name="p1")
    base = {"guardrail_arn": "arn:g", "guardrail_versioned_arn": "arn:g:1", "require_vpc_endpoint": False,
            "mantle_model_ids": ["openai.gpt-5.5"], "mantle_project_arn": project.project_arn}
    bare = BedrockModelAccess(stack, "Bare", **base)
    assert bare.policy.node.default_child.get_metadata("cdk_nag") is None
    accepted = BedrockModelAccess(stack, "Accepted", accept_unguarded={"mantle": ACCEPT}, **base)
    (suppression,) = accepted.policy.node.default_child.get_metadata("cdk_nag")["rules_to_suppress"]
    assert suppression["id"] == "Bedrock-UnguardedInferencePath"
    assert suppression["reason"].startswith("Unguarded path mantle for openai.gpt-5.5 accepted by the AO, RA-1 until 2099-12-31: ")
    with pytest.raises(ValueError, match=r"accept_unguarded names \['runtime-openai'\], which this policy does not open"):
        BedrockModelAccess(stack, "Extra", accept_unguarded={"mantle": ACCEPT, "runtime-openai": ACCEPT}, **base)


def test_unverified_ids_are_printed_on_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from infra.cli import _print_unverified

    env = SimpleNamespace(name="lab", region="us-east-1", models=[
        SimpleNamespace(id=IN_REGION, path="runtime-converse"),
        SimpleNamespace(id="us.openai.gpt-9-example", path="runtime-converse")],
        accept_unverified_models={"us.openai.gpt-9-example": SimpleNamespace(reason=CONFIRMED, approved_by="the AO")})
    _print_unverified([env])
    err = capsys.readouterr().err
    assert "environment 'lab': model id 'us.openai.gpt-9-example' (path runtime-converse) is not in the model catalog" in err
    assert "accepted by accept_unverified_models (approved by the AO)" in err
    assert IN_REGION not in err


def test_endpoints_are_never_placed_in_public_subnets() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Public", ip_addresses=ec2.IpAddresses.cidr("10.30.0.0/16"), nat_gateways=0,
                  availability_zones=["us-east-1a", "us-east-1b"],
                  subnet_configuration=[ec2.SubnetConfiguration(name="pub", subnet_type=ec2.SubnetType.PUBLIC)])
    with pytest.raises(ValueError, match="select public subnets; endpoints belong in isolated or private subnets"):
        BedrockPrivateLink(stack, "Link", vpc=vpc, model_ids=[IN_REGION], allowed_cidrs=["10.20.0.0/16"],
                           subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))
