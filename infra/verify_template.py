"""The synthesized template, read against a deployed stack: its values resolved with the stack's physical ids.

A policy in the template holds ``Ref`` and ``Fn::GetAtt``; the account holds the values they became. To say
whether a live policy is the one the template deployed, each template value is resolved with the stack's
physical resource ids and the environment's pseudo parameters; what cannot be resolved read-only (an attribute
this module does not know how to derive) becomes a wildcard segment, so it never makes a live value look wrong,
and the claim says how much of it was compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Stands for a template value not resolvable read-only; matches any live text in its place.
UNRESOLVED = "\x00?\x00"


@dataclass(frozen=True)
class Deployed:
    """What resolves a template's references: the stack's logical -> physical ids and its pseudo parameters."""

    physical: Mapping[str, str]
    types: Mapping[str, str]
    partition: str
    region: str
    account: str
    stack_name: str = ""

    def pseudo(self, name: str) -> str:
        return {"AWS::Partition": self.partition, "AWS::Region": self.region, "AWS::AccountId": self.account,
                "AWS::StackName": self.stack_name, "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": UNRESOLVED}.get(name, UNRESOLVED)

    def attribute(self, logical_id: str, attribute: str) -> str:
        """``Fn::GetAtt`` for the attributes the audit and perimeter policies use; others are unresolved."""
        physical = self.physical.get(logical_id)
        kind = self.types.get(logical_id, "")
        if physical is None:
            return UNRESOLVED
        arn = f"arn:{self.partition}"
        if kind == "AWS::KMS::Key" and attribute == "Arn":
            return physical if physical.startswith("arn:") else f"{arn}:kms:{self.region}:{self.account}:key/{physical}"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"{arn}:s3:::{physical}"
        if kind == "AWS::Bedrock::Guardrail" and attribute == "GuardrailArn":
            return physical
        if kind == "AWS::Bedrock::Guardrail" and attribute == "GuardrailId":
            return physical.rsplit("/", 1)[-1]
        if kind == "AWS::Bedrock::GuardrailVersion" and attribute == "Version":
            return guardrail_version(physical) or UNRESOLVED
        if kind == "AWS::IAM::Role" and attribute == "Arn":  # the stack's roles have no path (CDK's default)
            return f"{arn}:iam::{self.account}:role/{physical}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return f"{arn}:lambda:{self.region}:{self.account}:function:{physical}"
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return physical
        if kind == "AWS::CloudTrail::Trail" and attribute == "Arn":
            return physical if physical.startswith("arn:") else \
                f"{arn}:cloudtrail:{self.region}:{self.account}:trail/{physical}"
        return UNRESOLVED


def guardrail_version(physical_id: str) -> str | None:
    """The version number in a guardrail version's physical id (``<guardrail arn>|<version>``)."""
    match = re.search(r"[|:]([0-9]+)$", physical_id)
    return match.group(1) if match else None


def resolve(value: Any, deployed: Deployed) -> Any:
    """The template value with every intrinsic resolved to text (``UNRESOLVED`` where read-only cannot say)."""
    if isinstance(value, list):
        return [resolve(v, deployed) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            name = str(arg)
            return deployed.pseudo(name) if name.startswith("AWS::") else deployed.physical.get(name, UNRESOLVED)
        if key == "Fn::GetAtt":
            logical, attribute = (arg[0], arg[1]) if isinstance(arg, list) else [*str(arg).split(".", 1), ""][:2]
            return deployed.attribute(str(logical), str(attribute))
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            parts = resolve(arg[1], deployed)
            if not isinstance(parts, list):
                return UNRESOLVED
            return str(arg[0]).join(p if isinstance(p, str) else UNRESOLVED for p in parts)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return re.sub(r"\$\{([^}!]*)\}", lambda m: _sub(m.group(1), variables, deployed), str(text))
        if key.startswith("Fn::"):
            return UNRESOLVED
    return {k: resolve(v, deployed) for k, v in value.items()}


def _sub(name: str, variables: Mapping[str, Any], deployed: Deployed) -> str:
    if name in variables:
        value = resolve(variables[name], deployed)
        return value if isinstance(value, str) else UNRESOLVED
    if name.startswith("AWS::"):
        return deployed.pseudo(name)
    if "." in name:
        logical, attribute = name.split(".", 1)
        return deployed.attribute(logical, attribute)
    return deployed.physical.get(name, UNRESOLVED)


def statements(document: Any) -> list[dict[str, Any]]:
    """A policy document's statements (a JSON string, a dict, or None), each normalized for comparison."""
    if isinstance(document, str):
        document = json.loads(document)
    if not isinstance(document, dict):
        return []
    found = document.get("Statement") or []
    return [_normal(s) for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _normal(value: Any) -> Any:
    """Dicts kept (keys as they are), every leaf a sorted list of strings: AWS may return ``"x"`` for ``["x"]``."""
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    leaves = value if isinstance(value, list) else [value]
    return sorted(_text(v) for v in leaves)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def matches(expected: Any, live: Any) -> bool:
    """The live value is the template's: same keys, same leaves; an unresolved segment matches any text."""
    if isinstance(expected, dict) or isinstance(live, dict):
        if not (isinstance(expected, dict) and isinstance(live, dict)) or set(expected) != set(live):
            return False
        return all(matches(expected[k], live[k]) for k in expected)
    if isinstance(expected, list) and isinstance(live, list):
        if len(expected) != len(live):
            return False
        remaining = list(live)
        for item in expected:
            hit = next((i for i, candidate in enumerate(remaining) if matches(item, candidate)), None)
            if hit is None:
                return False
            remaining.pop(hit)
        return True
    return _text_matches(str(expected), str(live))


def _text_matches(expected: str, live: str) -> bool:
    if UNRESOLVED not in expected:
        return expected == live
    pattern = ".*".join(re.escape(part) for part in expected.split(UNRESOLVED))
    return re.fullmatch(pattern, live, re.DOTALL) is not None


@dataclass(frozen=True)
class PolicyDiff:
    """Statements of the live policy the template does not hold, and template statements the account lacks."""

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]

    @property
    def same(self) -> bool:
        return not self.added and not self.removed

    def describe(self) -> str:
        """One line naming the statements (by Sid, else their effect, actions and principal)."""
        parts = [f"statement {_name(s)} in the account, not in the template" for s in self.added]
        parts += [f"statement {_name(s)} of the template missing or changed in the account" for s in self.removed]
        return "; ".join(parts)


def _name(statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    if sid:
        return f"Sid {sid[0]!r}"
    action = statement.get("Action") or statement.get("NotAction") or []
    return f"({','.join(statement.get('Effect', []))} {','.join(action)} for {json.dumps(statement.get('Principal'))})"


def compare_policies(template_document: Any, live_document: Any, deployed: Deployed) -> PolicyDiff:
    """Statement by statement: each live statement matched to one template statement, and back."""
    expected = statements(resolve(template_document, deployed))
    live = statements(live_document)
    unmatched_live = list(live)
    removed = []
    for statement in expected:
        hit = next((i for i, candidate in enumerate(unmatched_live) if matches(statement, candidate)), None)
        if hit is None:
            removed.append(statement)
        else:
            unmatched_live.pop(hit)
    return PolicyDiff(added=unmatched_live, removed=[_readable(s) for s in removed])


def _readable(statement: dict[str, Any]) -> dict[str, Any]:
    """A template statement for the report: unresolved segments shown as ``<unresolved>``."""
    return json.loads(json.dumps(statement).replace(json.dumps(UNRESOLVED)[1:-1], "<unresolved>"))
