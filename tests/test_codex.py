"""Codex for developers: the inbound resolver, the permission set, their config, and the documented Codex setup.

One small synth for the module (a stack with the resolver and the permission set); the rest are pure functions
and the parsed documentation. The reference app's own Codex wiring is checked in test_reference_app.py.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib

import pytest
import yaml
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from compliant_bedrock.developer_access import (
    CODEX_POLICY_PATH,
    LONG_TERM_CREDENTIAL_ACTIONS,
    SSO_ROLE_PATTERN,
    CodexPermissionSet,
    check_instance_arn,
    codex_policy_name,
    session_minutes,
)
from compliant_bedrock.errors import ConstructPropsError
from compliant_bedrock.model_access import API_KEY_ACTIONS, MANTLE_INFERENCE_ACTIONS
from compliant_bedrock.resolver import InboundResolver, check_forwarder_cidr
from infra.app_factory import ROOT
from infra.config import DeveloperSettings
from tests.conftest import new_stack

INSTANCE = "arn:aws:sso:::instance/ssoins-72230000deadbeef"
FORWARDERS = ["10.200.0.53/32", "10.200.1.0/24"]


def _vpc(stack: Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.42.0.0/16",
                                       availability_zones=["us-east-2a", "us-east-2b"],
                                       isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"])


@pytest.fixture(scope="module")
def template() -> Template:
    stack = new_stack(region="us-east-2")
    key = kms.Key(stack, "Key")
    InboundResolver(stack, "Resolver", vpc=_vpc(stack), forwarder_cidrs=FORWARDERS, log_key=key,
                    log_retention_days=365)
    CodexPermissionSet(stack, "Developers", instance_arn=INSTANCE, codex_policy_name=codex_policy_name("frontier"),
                       session_duration="PT8H")
    return Template.from_stack(stack)


def _one(template: Template, rtype: str) -> dict:
    (resource,) = template.find_resources(rtype).values()
    return resource["Properties"]


# ---- the inbound resolver ---------------------------------------------------------------------------------
def test_resolver_is_inbound_in_two_zones_behind_its_own_security_group(template: Template) -> None:
    endpoint = _one(template, "AWS::Route53Resolver::ResolverEndpoint")
    assert endpoint["Direction"] == "INBOUND"
    assert [a["SubnetId"] for a in endpoint["IpAddresses"]] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
    (group_id,) = template.find_resources("AWS::EC2::SecurityGroup")
    assert endpoint["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]


def test_resolver_admits_dns_from_the_forwarders_only_and_opens_no_egress(template: Template) -> None:
    group = _one(template, "AWS::EC2::SecurityGroup")
    rules = sorted((r["CidrIp"], r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupIngress"])
    assert rules == sorted((c, p, 53, 53) for c in FORWARDERS for p in ("tcp", "udp"))
    # CDK's placeholder for "no egress": one rule to 255.255.255.255/32 that matches no traffic.
    assert [e["CidrIp"] for e in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]


def test_resolver_queries_are_logged_to_an_encrypted_retained_log_group(template: Template) -> None:
    (group_id, group), = template.find_resources("AWS::Logs::LogGroup").items()
    assert group["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in group["Properties"]
    assert group["DeletionPolicy"] == "Retain"
    config = _one(template, "AWS::Route53Resolver::ResolverQueryLoggingConfig")
    assert config["DestinationArn"] == {"Fn::GetAtt": [group_id, "Arn"]}
    (config_id,) = template.find_resources("AWS::Route53Resolver::ResolverQueryLoggingConfig")
    association = _one(template, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation")
    assert association == {"ResolverQueryLogConfigId": {"Fn::GetAtt": [config_id, "Id"]},
                           "ResourceId": "vpc-0123456789abcdef0"}


@pytest.mark.parametrize(("cidr", "words"), [
    ("0.0.0.0/0", "not a private network"), ("8.8.8.8/32", "not a private network"),
    ("10.0.0.0/8", "/24 or narrower"), ("10.200.0.0/16", "/24 or narrower"), ("fd00::/64", "IPv6"),
    ("10.200.0.1/24", "not a CIDR block"),
])
def test_forwarder_cidrs_must_be_private_and_specific(cidr: str, words: str) -> None:
    with pytest.raises(ConstructPropsError, match=re.escape(words)) as err:
        check_forwarder_cidr(cidr, "InboundResolver 'R'")
    assert repr(cidr) in str(err.value) and "forwarder_cidrs" in str(err.value)


def test_resolver_refuses_no_forwarders_and_a_single_zone() -> None:
    stack = new_stack(region="us-east-2")
    key = kms.Key(stack, "Key")
    with pytest.raises(ConstructPropsError, match="forwarder_cidrs is empty"):
        InboundResolver(stack, "None", vpc=_vpc(stack), forwarder_cidrs=[], log_key=key, log_retention_days=365)
    one_zone = ec2.Vpc.from_vpc_attributes(stack, "OneZone", vpc_id="vpc-0123456789abcdef1", vpc_cidr_block="10.1.0.0/16",
                                           availability_zones=["us-east-2a"], isolated_subnet_ids=["subnet-0c"])
    with pytest.raises(ConstructPropsError, match="two addresses in two zones"):
        InboundResolver(stack, "One", vpc=one_zone, forwarder_cidrs=FORWARDERS, log_key=key, log_retention_days=365)


# ---- the permission set -------------------------------------------------------------------------------------
def test_permission_set_references_the_codex_policy_and_holds_no_allow(template: Template) -> None:
    props = _one(template, "AWS::SSO::PermissionSet")
    assert props["InstanceArn"] == INSTANCE and props["SessionDuration"] == "PT8H"
    assert props["CustomerManagedPolicyReferences"] == [{"Name": "compliant-bedrock-codex-frontier",
                                                         "Path": CODEX_POLICY_PATH}]
    assert "ManagedPolicies" not in props  # no AWS managed policy rides along
    statements = props["InlinePolicy"]["Statement"]
    assert all(s["Effect"] == "Deny" for s in statements)


def test_permission_set_denies_api_keys_and_long_term_credentials(template: Template) -> None:
    statements = {s["Sid"]: s for s in _one(template, "AWS::SSO::PermissionSet")["InlinePolicy"]["Statement"]}
    assert statements["DenyApiKeys"]["Action"] == list(API_KEY_ACTIONS)
    assert "iam:CreateServiceSpecificCredential" in statements["DenyLongTermCredentials"]["Action"]
    assert statements["DenyLongTermCredentials"]["Action"] == list(LONG_TERM_CREDENTIAL_ACTIONS)
    for sid in ("DenyApiKeys", "DenyLongTermCredentials"):
        assert statements[sid]["Resource"] == "*" and "Condition" not in statements[sid]


@pytest.mark.parametrize(("duration", "ok"), [
    ("PT1H", True), ("PT8H", True), ("PT12H", True), ("PT1H30M", True), ("PT59M", False), ("PT13H", False),
    ("P1D", False), ("8h", False), ("", False),
])
def test_session_duration_is_iso_8601_within_identity_centers_limits(duration: str, ok: bool) -> None:
    if ok:
        assert 60 <= session_minutes(duration, "x") <= 720
    else:
        with pytest.raises(ConstructPropsError, match="session_duration"):
            session_minutes(duration, "x")


@pytest.mark.parametrize("arn", ["arn:aws:sso:::instance/ssoins-123", "arn:aws:sso::111122223333:instance/ssoins-"
                                 "72230000deadbeef", "ssoins-72230000deadbeef", "arn:aws:iam:::instance/ssoins-"
                                 "72230000deadbeef"])
def test_instance_arn_must_be_an_identity_center_instance(arn: str) -> None:
    with pytest.raises(ConstructPropsError, match=r"instance_arn .* is not an IAM Identity Center instance ARN"):
        check_instance_arn(arn, "x")


def test_instance_arn_must_be_of_the_stacks_partition() -> None:
    stack = new_stack(region="us-gov-west-1")
    with pytest.raises(ConstructPropsError, match=r"partition 'aws'.*'aws-us-gov'"):
        CodexPermissionSet(stack, "Developers", instance_arn=INSTANCE, codex_policy_name="p")


def test_developer_config_refuses_what_the_constructs_refuse() -> None:
    good = {"forwarder_cidrs": ["10.200.0.53/32"], "identity_center_instance_arn": INSTANCE}
    DeveloperSettings(**good)
    for bad, field in (({"forwarder_cidrs": ["0.0.0.0/0"]}, "forwarder_cidrs"),
                       ({"identity_center_instance_arn": "arn:aws:sso:::instance/x"}, "identity_center_instance_arn"),
                       ({"session_duration": "PT24H"}, "session_duration"),
                       ({"sso_role": "aws-reserved/sso.amazonaws.com/AWSReservedSSO_Other_0123456789abcdef"},
                        "sso_role"),
                       ({"sso_role": "AWSReservedSSO_CodexDeveloper_*"}, "sso_role")):
        with pytest.raises(ValueError, match=field):
            DeveloperSettings(**{**good, **bad})


def test_sso_role_names_only_identity_centers_reserved_path() -> None:
    assert SSO_ROLE_PATTERN.fullmatch("aws-reserved/sso.amazonaws.com/AWSReservedSSO_CodexDeveloper_0123456789abcdef")
    assert SSO_ROLE_PATTERN.fullmatch(
        "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_CodexDeveloper_0123456789abcdef")
    for name in ("AWSReservedSSO_CodexDeveloper_0123456789abcdef", "aws-reserved/sso.amazonaws.com/AWSReservedSSO_X_*",
                 "custom/AWSReservedSSO_CodexDeveloper_0123456789abcdef"):
        assert not SSO_ROLE_PATTERN.fullmatch(name)


def test_codex_policy_holds_no_wildcard_resource_for_inference() -> None:
    """The statements the permission set references: inference on the one project only (no ``*``)."""
    from compliant_bedrock.model_access import BedrockModelAccess

    stack = new_stack(region="us-east-2")
    access = BedrockModelAccess(stack, "Access", mantle_model_ids=["openai.gpt-5.5"], require_vpc_endpoint=False,
                                mantle_project_arn="arn:aws:bedrock-mantle:us-east-2:111122223333:project/p1",
                                guardrail_arn="arn:aws:bedrock:us-east-2:111122223333:guardrail/g",
                                guardrail_versioned_arn="arn:aws:bedrock:us-east-2:111122223333:guardrail/g:1")
    policy = access.codex_policy(managed_policy_name=codex_policy_name("frontier"), path=CODEX_POLICY_PATH)
    document = stack.resolve(policy.document.to_json())
    inference = {a.lower() for a in MANTLE_INFERENCE_ACTIONS} | {"bedrock:invokemodel",
                                                                  "bedrock:invokemodelwithresponsestream"}
    for statement in document["Statement"]:
        actions = [a.lower() for a in (statement["Action"] if isinstance(statement["Action"], list)
                                       else [statement["Action"]])]
        if statement["Effect"] == "Allow" and inference & set(actions):
            assert "*" not in json.dumps(statement["Resource"])
    assert any(s["Sid"] == "DenyApiKeys" and s["Effect"] == "Deny" for s in document["Statement"])
    assert stack.resolve(policy.node.default_child.managed_policy_name) == "compliant-bedrock-codex-frontier"
    iam.Role(stack, "Dev", assumed_by=iam.AccountRootPrincipal())  # grant_codex reuses the same policy
    assert access.grant_codex(stack.node.find_child("Dev")) is policy


# ---- the documented Codex configuration (docs/codex.md) ---------------------------------------------------
def _blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "codex.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_documented_codex_configuration_uses_codexs_keys_and_the_frontier_environment() -> None:
    frontier = yaml.safe_load((ROOT / "config" / "frontier.yaml").read_text(encoding="utf-8"))
    (toml_text,) = _blocks("toml")
    codex = tomllib.loads(toml_text)
    assert set(codex) == {"model", "model_provider", "model_providers"}
    assert codex["model_provider"] == "amazon-bedrock"
    aws = codex["model_providers"]["amazon-bedrock"]["aws"]
    assert set(aws) == {"profile", "region"}
    assert aws["region"] == frontier["region"]
    assert codex["model"] in [m["id"] for m in frontier["models"] if m.get("path") == "mantle"]

    (ini_text,) = _blocks("ini")
    profiles = configparser.ConfigParser()
    profiles.read_string(ini_text)
    profile = profiles[f"profile {aws['profile']}"]
    assert set(profile) == {"sso_session", "sso_account_id", "sso_role_name", "region"}
    assert profile["sso_account_id"] == frontier["account"]
    assert profile["sso_role_name"] == frontier["developers"]["permission_set_name"]
    assert profile["region"] == frontier["region"]
    session = profiles[f"sso-session {profile['sso_session']}"]
    assert set(session) == {"sso_start_url", "sso_region", "sso_registration_scopes"}


def test_documented_developer_config_is_the_frontier_one() -> None:
    frontier = yaml.safe_load((ROOT / "config" / "frontier.yaml").read_text(encoding="utf-8"))
    documented = yaml.safe_load(next(b for b in _blocks("yaml") if "developers:" in b))
    assert documented["developers"] == frontier["developers"]
    assert documented["client_cidrs"] == frontier["client_cidrs"]


def test_docs_name_every_forwarded_zone() -> None:
    from compliant_bedrock.resolver import FORWARDED_ZONES

    text = (ROOT / "docs" / "codex.md").read_text(encoding="utf-8")
    for zone in FORWARDED_ZONES:
        assert f"`{zone.format(region='us-east-2')}`" in text, zone


# ---- the environment's developers block ---------------------------------------------------------------------
def _frontier(**developers: object) -> dict:
    raw = yaml.safe_load((ROOT / "config" / "frontier.yaml").read_text(encoding="utf-8"))
    raw["developers"] = {**raw["developers"], **developers}
    return raw


@pytest.mark.parametrize(("change", "fragments"), [
    ({"models": ["openai.gpt-5.6-sol"]}, ["developers.models", "openai.gpt-5.6-sol", "path mantle"]),
    ({"forwarder_cidrs": ["10.0.0.0/8"]}, ["developers.forwarder_cidrs", "'10.0.0.0/8'", "/24 or narrower"]),
    ({"identity_center_instance_arn": "arn:aws-us-gov:sso:::instance/ssoins-72230000deadbeef"},
     ["developers.identity_center_instance_arn", "'aws-us-gov'", "'aws'"]),
    ({"session_duration": "PT13H"}, ["developers.session_duration", "'PT13H'", "PT1H to PT12H"]),
])
def test_developers_config_names_the_bad_field(change: dict, fragments: list[str]) -> None:
    from infra.config import ConfigError, parse_environment

    with pytest.raises(ConfigError) as err:
        parse_environment(_frontier(**change), "config/frontier.yaml")
    (problem,) = err.value.problems
    for fragment in fragments:
        assert fragment in problem, (fragment, problem)


def test_developers_need_mantle_models() -> None:
    from infra.config import ConfigError, parse_environment

    raw = yaml.safe_load((ROOT / "config" / "commercial.yaml").read_text(encoding="utf-8"))
    raw["developers"] = {"forwarder_cidrs": ["10.200.0.53/32"], "identity_center_instance_arn": INSTANCE}
    with pytest.raises(ConfigError, match="developers: Codex uses bedrock-mantle"):
        parse_environment(raw, "config/commercial.yaml")


def test_the_organization_exempts_the_recorded_developer_role_only() -> None:
    from infra.config import load_environments
    from infra.org_config import load_organizations

    (organization,) = [o for o in load_organizations(ROOT / "config", load_environments(ROOT / "config"))
                       if "frontier" in o.covers_environments]
    mantle = [r.arn("aws") for r in organization.exempt_roles()["mantle_roles"]]
    assert mantle == ["arn:aws:iam::222233334444:role/frontier-workload",
                      "arn:aws:iam::222233334444:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_CodexDeveloper_"
                      "0123456789abcdef"]
    assert [e.name for e in organization.developer_environments()] == ["frontier"]
