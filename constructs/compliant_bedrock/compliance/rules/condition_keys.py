"""Conditions on keys AWS sends: a policy must not rely on a condition key that its actions never carry.

A statement **relies** on a key when one of its conditions tests the key with an operator whose result, with
the key absent, is a constant the author did not choose. That is every operator except the ``...IfExists``
forms and ``Null``, which handle absence on purpose and are never judged. With the key absent:

* a negated operator (``StringNotEquals``, ``StringNotLike``, ``ArnNotEquals``, ``ArnNotLike``,
  ``NumericNotEquals``, ``DateNotEquals``, ``NotIpAddress``, ``StringNotEqualsIgnoreCase``) and any
  ``ForAllValues:`` operator **match**. A Deny then denies every call (an outage), and an Allow grants
  without the condition;
* every other operator (``StringEquals``, ``ArnLike``, ``Bool``, ``IpAddress``, ``Numeric*``, ``Date*``,
  ``ForAnyValue:*`` ...) **does not match**. An Allow then grants nothing, and a Deny never applies (the
  protection it states does not exist).

The rule fails a statement when such a key is **never** carried by **any** of the statement's actions: every
action answers "no" in ``compliance.condition_keys``. The answer comes from the SAR table (service-specific
and ``aws:`` tag keys per action) or from the cited global-key table (``aws:VpceOrgID`` is never sent to
bedrock or bedrock-mantle; ``aws:SourceAccount`` is never sent on a request an identity policy or SCP judges;
``lambda:SourceFunctionArn`` cannot be used in resource policies). A key that only some of the actions carry
passes: a negated exception (``ArnNotLike bedrock:InferenceProfileArn``) is then a deliberate "unless".

It does not fail on:
* keys unknown to both tables (a typo, a newer key, another service's key);
* ``"uncertain"`` answers (``aws:SourceVpce`` on bedrock-mantle);
* actions the tables cannot bound: ``*``, a wildcard service, a service outside the table, or a deploy-time
  value. Such an action may carry the key;
* ``NotAction`` statements, which are skipped. They cover every action but those listed, an open set that
  could include actions carrying the key.

Intrinsic values inside conditions do not matter: only the keys do.

Separately, an RCP statement fails when it names actions of a service that RCPs do not support (iam-data's
``rcpSupportedServices``; bedrock and bedrock-mantle are not among them, fact sheet A1c). Such a statement
protects nothing for that service.

Documents judged: identity policies (``AWS::IAM::Policy``/``ManagedPolicy``/inline role, user, group and SSO
policies), role trust policies, SCPs and RCPs (``AWS::Organizations::Policy``, whose ``Content`` may be a JSON
string), VPC endpoint policies, KMS key policies, and S3 bucket, SQS queue and SNS topic policies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import condition_keys as ck
from ..pack import Compliance, RuleContext, rule
from ..template import POLICY_TYPES, Resource, Template, as_list, possible_strings

_ORG_POLICY = "AWS::Organizations::Policy"
#: Resource policies: they judge requests of every principal, AWS service principals included.
_RESOURCE_POLICIES = {"AWS::EC2::VPCEndpoint": "PolicyDocument", "AWS::KMS::Key": "KeyPolicy",
                      "AWS::S3::BucketPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
                      "AWS::SNS::TopicPolicy": "PolicyDocument"}
RESOURCE_TYPES = (*POLICY_TYPES, _ORG_POLICY, *_RESOURCE_POLICIES)
_NEGATED = frozenset({"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike",
                      "numericnotequals", "datenotequals", "notipaddress"})
_CONSEQUENCE = {
    ("Deny", True): "with the key absent the condition matches, so the Deny denies every such call (an outage)",
    ("Deny", False): "with the key absent the condition never matches, so the Deny never applies",
    ("Allow", True): "with the key absent the condition matches, so the Allow grants without it",
    ("Allow", False): "with the key absent the condition never matches, so the Allow grants nothing",
}


@dataclass(frozen=True)
class Document:
    """One policy document of a resource: where it sits, whose requests it judges, its statements."""

    where: str
    scope: ck.Scope
    statements: list[dict[str, Any]]
    rcp: bool = False


def absent_match(operator: str) -> bool | None:
    """Whether the operator matches when its key is absent: True/False, or None for the operators that handle
    absence on purpose (``...IfExists``, ``Null``) and so never rely on the key."""
    qualifier, _, base = operator.lower().rpartition(":")
    if base.endswith("ifexists") or base == "null":
        return None
    if qualifier == "forallvalues":
        return True
    if qualifier == "foranyvalue":
        return False
    return base in _NEGATED


def _parse(value: Any) -> list[dict[str, Any]]:
    """A policy document as CloudFormation sends it: an object, a JSON string, or an intrinsic that builds one
    (every text it can take). Raises on text that is not a JSON object (the rule reports UNKNOWN)."""
    if isinstance(value, dict) and not any(k.startswith("Fn::") or k == "Ref" for k in value):
        return [value]
    if value is None:
        return []
    if isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3:
        return [d for branch in value["Fn::If"][1:] for d in _parse(branch)]  # both branches can be deployed
    documents = []
    for text in possible_strings(value):
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("a policy document that is not a JSON object")
        documents.append(document)
    return documents


def _statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in documents for s in as_list(d.get("Statement")) if isinstance(s, dict)]


def documents(resource: Resource) -> Iterator[Document]:
    """The policy documents of a resource the rule judges."""
    props = resource.properties
    if resource.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy",
                         "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"):
        yield Document("PolicyDocument", "identity", _statements(_parse(props.get("PolicyDocument"))))
    elif resource.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for i, policy in enumerate(as_list(props.get("Policies"))):
            if isinstance(policy, dict):
                name = policy.get("PolicyName")
                where = f"Policies[{i}]" + (f" ({name})" if isinstance(name, str) else "")
                yield Document(where, "identity", _statements(_parse(policy.get("PolicyDocument"))))
        if resource.type == "AWS::IAM::Role":
            yield Document("AssumeRolePolicyDocument", "resource",
                           _statements(_parse(props.get("AssumeRolePolicyDocument"))))
    elif resource.type == "AWS::SSO::PermissionSet":
        yield Document("InlinePolicy", "identity", _statements(_parse(props.get("InlinePolicy"))))
    elif resource.type == _ORG_POLICY:
        kind = props.get("Type")
        if kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            rcp = kind == "RESOURCE_CONTROL_POLICY"
            yield Document("Content", "resource" if rcp else "identity", _statements(_parse(props.get("Content"))),
                           rcp=rcp)
    elif resource.type in _RESOURCE_POLICIES:
        yield Document(_RESOURCE_POLICIES[resource.type], "resource",
                       _statements(_parse(props.get(_RESOURCE_POLICIES[resource.type]))))


def _subjects(statement: dict[str, Any]) -> list[str] | None:
    """What to ask ``key_sent`` about for each action (SAR actions, else the literal action), or None when an
    action is not bounded by the tables (``*``, a wildcard service, a deploy-time value)."""
    subjects: list[str] = []
    for pattern in possible_strings(statement.get("Action")):
        service, sep, name = pattern.lower().partition(":")
        if not sep or not service or any(c in service for c in "*?<>") or "<" in name:
            return None
        expanded = ck.expand_action(pattern)
        if expanded is not None:
            subjects += expanded
        elif any(c in name for c in "*?"):
            subjects.append(service)  # a pattern no SAR action matches: ask about the service
        else:
            subjects.append(pattern.lower())  # an action newer than the SAR snapshot
    return subjects or None


def _name(statement: dict[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index}"


def _actions_text(statement: dict[str, Any]) -> str:
    actions = possible_strings(statement.get("Action"))
    shown = ", ".join(actions[:4])
    return shown + (f" (+{len(actions) - 4} more)" if len(actions) > 4 else "")


def _fix(key: str, subjects: list[str], scope: ck.Scope) -> str:
    entry = ck.global_key(key)
    if entry is not None and entry.fix:
        return entry.fix
    first = next((s for s in subjects if ":" in s), subjects[0])
    carried = ck.listed_keys(first)
    carriers = ck.actions_carrying(key)
    parts = []
    if carried is not None:
        parts.append(f"condition {first} on keys it carries (the SAR lists: {', '.join(carried) or 'none'})")
    if carriers:
        parts.append(f"move {key} to a statement of actions that carry it ({', '.join(carriers)})")
    parts.append("or use ...IfExists/Null if absence is meant")
    return "; ".join(parts)


def never_sent(statement: dict[str, Any], scope: ck.Scope) -> list[tuple[str, str, ck.KeySent, bool]]:
    """(operator, key, answer, match-when-absent) for every key the statement relies on that none of its
    actions ever carries."""
    if statement.get("Effect") not in ("Allow", "Deny") or "NotAction" in statement:
        return []
    conditions = statement.get("Condition")
    if not isinstance(conditions, dict) or not conditions:
        return []
    subjects = _subjects(statement)
    if not subjects:
        return []
    found = []
    for operator, block in conditions.items():
        matches = absent_match(str(operator))
        if matches is None or not isinstance(block, dict):
            continue
        for key in block:
            answers = [ck.key_sent(s, str(key), scope) for s in subjects]
            if all(a.answer == "no" for a in answers):
                found.append((str(operator), str(key), answers[0], matches))
    return found


def unsupported_rcp_services(statement: dict[str, Any]) -> list[str]:
    """Services an RCP statement names that RCPs do not support (``*`` and NotAction name none)."""
    if "NotAction" in statement:
        return []
    services = {p.lower().partition(":")[0] for p in possible_strings(statement.get("Action")) if ":" in p}
    return sorted(s for s in services if s and not any(c in s for c in "*?<>") and not ck.rcp_supports(s))


def findings(resource: Resource) -> list[str]:
    """One sentence per failure: the policy (logical id), the statement, the key, the actions, the fix."""
    out: list[str] = []
    for document in documents(resource):
        for index, statement in enumerate(document.statements):
            where = f"{resource.logical_id} {document.where} {_name(statement, index)}"
            actions = _actions_text(statement)
            for operator, key, answer, matches in never_sent(statement, document.scope):
                subjects = _subjects(statement) or []
                consequence = _CONSEQUENCE[(statement["Effect"], matches)]
                out.append(f"{where}: {operator} {key} on {actions}: AWS never sends {key} for these actions "
                           f"({answer.reason}; {answer.source}); {consequence}. Fix: "
                           f"{_fix(key, subjects, document.scope)}")
            if document.rcp:
                services = unsupported_rcp_services(statement)
                if services:
                    out.append(f"{where}: an RCP on {actions}, but RCPs do not apply to {', '.join(services)} "
                               f"(not among the services RCPs support; {ck.RCP_SERVICES}), so it protects nothing "
                               f"there. Fix: guard {', '.join(services)} with SCPs, VPC endpoint policies and "
                               "identity policies; keep RCP statements to supported services")
    return out


def _detail(resource: Resource, template: Template, ctx: RuleContext) -> str:
    return " | ".join(findings(resource))


@rule(
    "ConditionKeyNeverSent",
    controls=("AC-3", "AC-4", "SC-7"),
    explanation="A policy statement relies on a condition key that AWS never sends for any of its actions (a Deny "
                "on an absent key denies every call, an Allow on it never grants: e.g. aws:VpceOrgID on bedrock), or "
                "an RCP statement names a service RCPs do not cover (bedrock)",
    fix="Condition on keys the actions carry (for Bedrock's network perimeter: aws:SourceVpce with the endpoint "
        "ids, aws:SourceVpc, aws:RequestedRegion); guard services RCPs do not cover with SCPs and endpoint policies",
    resource_types=RESOURCE_TYPES,
    detail=_detail,
)
def condition_key_never_sent(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    judged = False
    for document in documents(resource):
        for statement in document.statements:
            if never_sent(statement, document.scope):
                return Compliance.NON_COMPLIANT
            if document.rcp and unsupported_rcp_services(statement):
                return Compliance.NON_COMPLIANT
            judged = judged or bool(statement.get("Condition")) or document.rcp
    return Compliance.COMPLIANT if judged else Compliance.NOT_APPLICABLE
