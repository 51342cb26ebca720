"""Requests an account administrator who has read the policies would try (perimeter review 2, N1-N5, N8).

The matrix in ``requests.yaml`` asks fixed principals fixed questions. These requests are generated from
the policies themselves, so they follow every change of an exemption:

* **Becoming an exemption.** Every principal a deny exempts (``aws:PrincipalArn`` of an SCP, key or bucket
  policy deny) is turned into the role an administrator of the environment's account would create or take
  over: the same name in this account (a ``*`` in a pattern becomes ``pwn``). Creating it, re-trusting it,
  attaching a policy to it, passing it to new code, and assuming it must all be denied.
* **Deputies.** The package's own principals act for whoever can give them new work: the writer function
  (new code, configuration, an invocation, a look-alike function), the environment's stack (update, change
  sets, stack policy), the tamper detection (disable a rule, remove its targets, delete its topic), the
  approved endpoints (a new endpoint policy) and the Mantle project and data retention.
* **Mantle by name elsewhere.** A Mantle exemption's role name, created in another environment's account,
  must not reach Mantle.

Every one of these is expected ``deny``. A request the environment has nothing for (no function, no Mantle
project) is not generated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from .discovery import Environment, Policy, _statements

_NEGATED = ("arnnotequals", "arnnotlike", "stringnotequals", "stringnotlike")
_ROLE = re.compile(r"^arn:[^:]+:iam::([^:]*):role/(.+)$")
#: How an administrator becomes a role of a given name (each must be denied on an exempt name).
BECOMING = (
    ("create", "iam:CreateRole", {}),
    ("retrust", "iam:UpdateAssumeRolePolicy", {}),
    ("attach-policy", "iam:AttachRolePolicy", {}),
    ("pass-to-lambda", "iam:PassRole", {"iam:PassedToService": "lambda.amazonaws.com"}),
    ("assume", "sts:AssumeRole", {}),
)
STACK_ACTIONS = ("cloudformation:UpdateStack", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                 "cloudformation:SetStackPolicy", "cloudformation:ContinueUpdateRollback")
FUNCTION_ACTIONS = ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction")


def exempt_principals(policies: Sequence[Policy]) -> list[str]:
    """Every ``aws:PrincipalArn`` value a Deny statement of ``policies`` exempts (negated operators)."""
    found: list[str] = []
    for policy in policies:
        for statement in _statements(policy.document):
            if statement.get("Effect") != "Deny":
                continue
            for operator, block in (statement.get("Condition") or {}).items():
                if operator.lower().removesuffix("ifexists") not in _NEGATED or not isinstance(block, dict):
                    continue
                for key, value in block.items():
                    if key.lower() == "aws:principalarn":
                        found += [str(v) for v in (value if isinstance(value, list) else [value])]
    return sorted(set(found))


def mantle_exemptions(scps: Sequence[Policy]) -> list[tuple[str, str]]:
    """(account, role name) of every principal an SCP deny of ``bedrock-mantle`` inference exempts."""
    found = []
    for policy in scps:
        for statement in _statements(policy.document):
            actions = statement.get("Action")
            actions = [str(a).lower() for a in (actions if isinstance(actions, list) else [actions])]
            if statement.get("Effect") == "Deny" and actions == ["bedrock-mantle:createinference"]:
                for arn in exempt_principals([Policy(policy.name, policy.kind, {"Statement": [statement]})]):
                    match = _ROLE.match(arn)
                    if match and match.group(1).isdigit():
                        found.append((match.group(1), match.group(2)))
    return sorted(set(found))


def candidate_roles(exemptions: Sequence[str], account: str) -> list[tuple[str, str]]:
    """(role name an administrator of ``account`` would create or take over, the exemption it would match),
    one per distinct name: every exemption whose account is ``account`` or a pattern (``*``). An exemption
    naming another literal account is not matched by any role of this one."""
    names: dict[str, str] = {}
    for arn in exemptions:
        match = _ROLE.match(arn)
        if match and fnmatchcase(account, match.group(1) or "*"):
            names.setdefault(match.group(2).replace("*", "pwn").replace("?", "x"), arn)
    return sorted(names.items())


def specs(env: Environment, scps: Sequence[Policy], mantle_names: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Request specs (the shape of ``requests.yaml`` entries, with ``role`` naming the principal's role) for
    ``env``. ``mantle_names``: (account, role name) of every Mantle exemption of the organization."""
    resource_policies = [p for p, _ in [*env.keys.values(), *env.buckets.values()] if p is not None]
    out: list[dict[str, Any]] = []
    role_arn = f"arn:{env.partition}:iam::{env.account}:role/{{name}}"
    for name, imitated in candidate_roles(exempt_principals([*scps, *resource_policies]), env.account):
        for verb, action, context in BECOMING:
            out.append(_spec(f"attack.{verb}-exempt-role[{name}]", "admin", action, role_arn.format(name=name),
                             ["AC-6", "AC-2", "AU-9", "CM-5"], context,
                             f"an account administrator obtains the exemption of {imitated} by the role's name"))
    for label, arn in env.functions:
        for action in FUNCTION_ACTIONS:
            verb = action.split(":", 1)[1]
            out.append(_spec(f"attack.deputy-function.{verb}[{label}]", "admin", action, arn, ["AC-6", "CM-5", "AU-9"],
                             {}, "the package's function acts as an exempt principal: new code, configuration or "
                             "an invocation lends it to the caller"))
    if env.functions:
        look_alike = f"arn:{env.partition}:lambda:{env.region}:{env.account}:function:{env.stack}-pwn"
        out.append(_spec("attack.deputy-function.look-alike", "admin", "lambda:CreateFunction", look_alike,
                         ["AC-6", "CM-5"], {}, "a new function named like the package's writer would share its "
                         "lambda:SourceFunctionArn exemption"))
        out.append(_spec("attack.writer-exemption-from-other-code", "admin",
                         "bedrock:DeleteModelInvocationLoggingConfiguration", "*", ["AU-9", "AU-12", "AC-6"],
                         {"lambda:SourceFunctionArn": f"arn:{env.partition}:lambda:{env.region}:{env.account}"
                                                      ":function:attacker-function"},
                         "a function of the administrator's turns invocation logging off"))
    for action in STACK_ACTIONS:
        out.append(_spec(f"attack.deputy-stack.{action.split(':', 1)[1]}", "admin", action, "{stack_arn}",
                         ["CM-5", "AU-9", "AC-6"], {}, "CloudFormation acts as the exempt execution role: a new "
                         "template or stack policy for the package's stack is a deputy"))
    for label, arn in env.rules:
        for action in ("events:DisableRule", "events:RemoveTargets"):
            out.append(_spec(f"attack.detection.{action.split(':', 1)[1]}[{label}]", "admin", action, arn,
                             ["SI-4", "AU-6", "IR-5"], {}, "switching off tamper detection before tampering"))
    for label, arn in env.topics:
        for action in ("sns:DeleteTopic", "sns:SetTopicAttributes"):
            out.append(_spec(f"attack.detection.{action.split(':', 1)[1]}[{label}]", "admin", action, arn,
                             ["SI-4", "AU-6", "IR-5"], {}, "silencing the tamper alerts' topic"))
    for service, (vpce, _policy) in sorted(env.endpoints.items()):
        if service.startswith("bedrock"):
            arn = f"arn:{env.partition}:ec2:{env.region}:{env.account}:vpc-endpoint/{vpce}"
            out.append(_spec(f"attack.endpoint.modify[{service}]", "admin", "ec2:ModifyVpcEndpoint", arn,
                             ["SC-7", "AC-4", "CM-5"], {}, "a new endpoint policy drops the environment's model list"))
    for label, arn in env.mantle_projects:
        out.append(_spec(f"attack.mantle.update-project[{label}]", "admin", "bedrock-mantle:UpdateProject", arn,
                         ["CM-5", "SI-12"], {}, "changing the accepted project's settings (data retention)"))
    if env.mantle_projects:
        out.append(_spec("attack.mantle.data-retention", "admin", "bedrock-mantle:PutAccountDataRetention", "*",
                         ["CM-5", "SI-12"], {}, "changing the account's Mantle data retention"))
    for account, name in mantle_names:
        if account != env.account:
            out.append(_spec(f"attack.mantle.exempt-name-elsewhere[{name}]", "user", "bedrock-mantle:CreateInference",
                             "{mantle_project_arn}", ["AC-3", "AC-6", "SI-10", "AU-12"],
                             {"bedrock-mantle:Model": "{mantle_model}"},
                             "a Mantle exemption's role name, created in another account, reaches no model",
                             role=name, via="mantle-endpoint" if "bedrock-mantle" in env.endpoints else "public"))
    return out


def _spec(rid: str, principal: str, action: str, resource: str, controls: list[str], context: dict[str, str],
          rationale: str, *, role: str | None = None, via: str = "public") -> dict[str, Any]:
    spec: dict[str, Any] = {"id": rid, "principal": principal, "action": action, "resource": resource, "via": via,
                            "expect": "deny", "controls": controls, "rationale": rationale, "context": context,
                            "generated": True}
    if role is not None:
        spec["role"] = role
    return spec

