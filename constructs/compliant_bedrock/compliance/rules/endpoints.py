"""PrivateLink rules: Bedrock only through interface endpoints that name who and what may pass."""

from __future__ import annotations

import ipaddress
import re

from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, possible_strings, referenced_ids
from .iam import grants_any, invoke_allow_statements, pinned_values

_BEDROCK_SERVICE = re.compile(r"\.(bedrock(?:-runtime|-agent|-agent-runtime|-mantle)?)(?:-fips)?$")
_PRINCIPAL_KEYS = {"aws:principalaccount", "aws:principalorgid", "aws:principalarn", "aws:principalorgpaths"}


def bedrock_service(endpoint: Resource) -> str | None:
    """``bedrock-runtime`` etc. for a Bedrock interface endpoint, else None."""
    for name in possible_strings(endpoint.properties.get("ServiceName")):
        match = _BEDROCK_SERVICE.search(name)
        if match:
            return match.group(1)
    return None


def _principal_pinned(statement: dict, template: Template) -> bool:
    """A principal-account/org/ARN condition that pins named values (not StringLike ``*``, not Null)."""
    for key in _PRINCIPAL_KEYS:
        values = pinned_values(statement, key)
        if values and not any(template.is_open(v) for v in values):
            return True
    return False


def _principal_is_anyone(statement: dict) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))


@rule(
    "RuntimeEndpointPresent",
    controls=("SC-7", "SC-7(4)", "AC-4"),
    explanation="The stack grants Bedrock model invocation but creates no bedrock-runtime interface endpoint",
    fix="Add BedrockPrivateLink (it always creates the bedrock-runtime endpoint) to the stack",
)
def runtime_endpoint_present(template: Template, ctx: RuleContext) -> Compliance:
    uses_bedrock = any(invoke_allow_statements(r) for r in template.resources.values())
    if not uses_bedrock:
        return Compliance.NOT_APPLICABLE
    endpoints = template.of_type("AWS::EC2::VPCEndpoint")
    if any(bedrock_service(e) == "bedrock-runtime" for e in endpoints):
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT


@rule(
    "EndpointPrivateDns",
    controls=("SC-7", "SC-8", "AC-4"),
    explanation="The Bedrock interface endpoint does not have private DNS enabled, so SDKs resolve the public endpoint",
    fix="Set PrivateDnsEnabled: true (BedrockPrivateLink always does)",
    resource_types=("AWS::EC2::VPCEndpoint",),
)
def endpoint_private_dns(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if bedrock_service(resource) is None:
        return Compliance.NOT_APPLICABLE
    return Compliance.COMPLIANT if resource.properties.get("PrivateDnsEnabled") is True else Compliance.NON_COMPLIANT


@rule(
    "EndpointPolicyNotDefault",
    controls=("AC-3", "AC-4", "SC-7(11)"),
    explanation="The Bedrock interface endpoint has no policy (the default allows any principal any action) or "
                "allows anyone without a principal-account or organization condition",
    fix="Give the endpoint a policy whose statements are conditioned on aws:PrincipalAccount or aws:PrincipalOrgID",
    resource_types=("AWS::EC2::VPCEndpoint",),
)
def endpoint_policy_not_default(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if bedrock_service(resource) is None:
        return Compliance.NOT_APPLICABLE
    statements = as_list((resource.properties.get("PolicyDocument") or {}).get("Statement"))
    if not statements:
        return Compliance.NON_COMPLIANT
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if _principal_is_anyone(statement) and not _principal_pinned(statement, template):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


@rule(
    "RuntimeEndpointPolicyNamesModels",
    controls=("AC-3", "AC-4", "AC-6"),
    explanation="The bedrock-runtime endpoint policy allows wildcard actions or resources instead of naming "
                "the invoke actions and model ARNs",
    fix="List bedrock:InvokeModel/InvokeModelWithResponseStream (and ApplyGuardrail) on named model and guardrail ARNs",
    resource_types=("AWS::EC2::VPCEndpoint",),
)
def runtime_endpoint_policy_names_models(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if bedrock_service(resource) != "bedrock-runtime":
        return Compliance.NOT_APPLICABLE
    statements = as_list((resource.properties.get("PolicyDocument") or {}).get("Statement"))
    allows = [s for s in statements if s.get("Effect") == "Allow"]
    if not allows:
        return Compliance.NON_COMPLIANT
    for statement in allows:
        actions = possible_strings(statement.get("Action"))
        resources = possible_strings(statement.get("Resource"))
        if "NotAction" in statement or "NotResource" in statement or not actions or not resources:
            return Compliance.NON_COMPLIANT
        if any(template.is_open(a) for a in actions) or any(template.is_open(r) for r in resources):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


def _open_network(value: object, template: Template) -> bool:
    """An ingress source wider than a named network: /0 to /7, a wildcard, or a value only deployment knows.
    A Ref/GetAtt of a template resource (e.g. a VPC's CidrBlock) is a named network."""
    for text in possible_strings(value):
        if text.startswith("<") and text.endswith(">") and not template.is_open(text):
            continue
        try:
            if ipaddress.ip_network(text, strict=False).prefixlen < 8:
                return True
        except ValueError:
            return True
    return False


def _ingress_rules(template: Template, group_id: str) -> list[dict]:
    group = template.resources.get(group_id)
    rules = list(as_list(group.properties.get("SecurityGroupIngress"))) if group else []
    for ingress in template.of_type("AWS::EC2::SecurityGroupIngress"):
        if group_id in referenced_ids(ingress.properties.get("GroupId")):
            rules.append(ingress.properties)
    return rules


@rule(
    "EndpointSecurityGroupRestricted",
    controls=("SC-7", "SC-7(5)", "AC-4", "CM-7"),
    explanation="The Bedrock interface endpoint's security group admits traffic other than TCP 443 from named "
                "networks (open CIDR, other ports, or the VPC default group)",
    fix="Attach a dedicated security group with TCP 443 ingress from named CIDRs or security groups only",
    resource_types=("AWS::EC2::VPCEndpoint",),
)
def endpoint_security_group_restricted(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if bedrock_service(resource) is None:
        return Compliance.NOT_APPLICABLE
    entries = as_list(resource.properties.get("SecurityGroupIds"))
    groups = referenced_ids(entries)
    if not groups or len(groups) < len(entries):  # none, or a group outside the template we cannot inspect
        return Compliance.NON_COMPLIANT
    for group_id in groups:
        if group_id not in template.resources or template.resources[group_id].type != "AWS::EC2::SecurityGroup":
            return Compliance.NON_COMPLIANT
        for ingress in _ingress_rules(template, group_id):
            if str(ingress.get("IpProtocol")).lower() not in ("tcp", "6"):
                return Compliance.NON_COMPLIANT
            if str(ingress.get("FromPort")) != "443" or str(ingress.get("ToPort")) != "443":
                return Compliance.NON_COMPLIANT
            if any(_open_network(ingress.get(k), template) for k in ("CidrIp", "CidrIpv6") if k in ingress):
                return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT


@rule(
    "EndpointPolicyNamesActions",
    controls=("AC-3", "AC-4", "AC-6", "SC-7(11)"),
    explanation="A Bedrock interface endpoint policy allows wildcard or unnamed actions (e.g. bedrock-mantle:* or "
                "bedrock:*), or lets bedrock-mantle inference through without naming the project and the models "
                "(bedrock-mantle:Model)",
    fix="List the actions each endpoint carries (BedrockPrivateLink does: named read actions on the control plane, "
        "inference on the named Mantle project for the named models)",
    resource_types=("AWS::EC2::VPCEndpoint",),
)
def endpoint_policy_names_actions(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    service = bedrock_service(resource)
    if service is None:
        return Compliance.NOT_APPLICABLE
    statements = as_list((resource.properties.get("PolicyDocument") or {}).get("Statement"))
    allows = [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]
    if not allows:
        return Compliance.NON_COMPLIANT
    for statement in allows:
        actions = possible_strings(statement.get("Action"))
        if "NotAction" in statement or not actions or any(template.is_open(a) for a in actions):
            return Compliance.NON_COMPLIANT
        if grants_any(statement, ("bedrock-mantle:createinference",)):
            resources = possible_strings(statement.get("Resource"))
            models = pinned_values(statement, "bedrock-mantle:Model")
            if "NotResource" in statement or not resources or any(template.is_open(r) for r in resources):
                return Compliance.NON_COMPLIANT
            if not models or any(template.is_open(m) for m in models):
                return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT
