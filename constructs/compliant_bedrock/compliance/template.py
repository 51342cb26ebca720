"""A read-only view of a synthesized CloudFormation template, for rules that check it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: A value only deployment knows (a parameter, an import, Fn::Select ...): never a wildcard, never verified.
DEPLOY_TIME = "<deploy-time value>"
#: A value a template condition can remove (``Fn::If [c, X, AWS::NoValue]``): not known to be there, so a
#: rule that needs it (a key ARN, a pinned condition value) must not count it as present.
MAYBE_ABSENT = "<value a condition can remove>"
#: Most combinations ``possible_strings`` spells out; past it, the value counts as ``DEPLOY_TIME``.
_MAX_COMBINATIONS = 256
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    deletion_policy: str | None = None
    update_replace_policy: str | None = None
    #: The template condition that decides whether the resource is created (``Condition``), if any.
    condition: str | None = None

    @property
    def path(self) -> str:
        """The construct path (what cdk-nag reports), else the logical id."""
        return str(self.metadata.get("aws:cdk:path", self.logical_id))


@dataclass
class Template:
    """Resources by logical id, plus lookups rules need (references, policy statements)."""

    name: str
    body: dict[str, Any]
    #: The region the stack deploys to (the assembly manifest's environment); None when env-agnostic or unknown.
    region: str | None = None
    resources: dict[str, Resource] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = {
            logical_id: Resource(
                logical_id, r.get("Type", ""), r.get("Properties") or {}, r.get("Metadata") or {},
                r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"), r.get("Condition"),
            )
            for logical_id, r in (self.body.get("Resources") or {}).items()
        }

    @property
    def metadata(self) -> dict[str, Any]:
        return self.body.get("Metadata") or {}

    @property
    def conditions(self) -> dict[str, Any]:
        return self.body.get("Conditions") or {}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    def is_open(self, text: str) -> bool:
        """A ``possible_strings`` value that could match more than it names: an IAM wildcard, a value only
        deployment knows, or a template parameter (whose value could be ``*``)."""
        if has_wildcard(text):
            return True
        parameters = self.body.get("Parameters") or {}
        return any(f"<Ref {name}>" in text for name in parameters)


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a property value points at through Ref or Fn::GetAtt (at any depth)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        for inner in value.values():
            found |= referenced_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced_ids(inner)
    return found


def region_of(environment: Any) -> str | None:
    """The region of an assembly manifest's ``environment`` (``aws://<account>/<region>``); None if unknown."""
    text = str(environment or "")
    if not text.startswith("aws://"):
        return None
    region = text.removeprefix("aws://").partition("/")[2]
    return None if not region or region.startswith("unknown") else region


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


#: Every resource type that carries identity-policy statements, and where.
POLICY_TYPES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy",
                "AWS::IAM::GroupPolicy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group",
                "AWS::SSO::PermissionSet")


def policy_statements(resource: Resource) -> Iterator[dict[str, Any]]:
    """Identity-policy statements a resource carries (managed, inline, role-embedded, SSO permission set)."""
    props = resource.properties
    if resource.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy",
                         "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"):
        yield from _statements(props.get("PolicyDocument"))
    elif resource.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for policy in as_list(props.get("Policies")):
            if isinstance(policy, dict):
                yield from _statements(policy.get("PolicyDocument"))
    elif resource.type == "AWS::SSO::PermissionSet":
        yield from _statements(props.get("InlinePolicy"))


def _statements(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, str):  # a JSON string (allowed for inline and SSO policies)
        import json

        try:
            document = json.loads(document)
        except ValueError:
            return
    if isinstance(document, dict):
        yield from (s for s in as_list(document.get("Statement")) if isinstance(s, dict))


def possible_strings(value: Any) -> list[str]:
    """Every string ``value`` can take at deploy time, so that no intrinsic hides a wildcard.

    ``Fn::Join`` and ``Fn::Sub`` are spelled out, ``Fn::If`` gives both branches (a branch that removes the
    value gives ``MAYBE_ABSENT``, which counts as open), ``Ref``/``Fn::GetAtt``
    become ``<Ref X>``/``<X.Attr>`` (a named value, never ``*``), and anything else (a parameter's
    import, ``Fn::Select`` ...) becomes ``DEPLOY_TIME``. Lists are flattened.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool | int | float):
        return [str(value).lower() if isinstance(value, bool) else str(value)]
    if isinstance(value, list):
        return [s for v in value for s in possible_strings(v)]
    if not (isinstance(value, dict) and len(value) == 1):
        return [DEPLOY_TIME]
    ((name, args),) = value.items()
    if name == "Ref":
        return [] if args == "AWS::NoValue" else [f"<Ref {args}>"]
    if name == "Fn::GetAtt":
        target = ".".join(str(a) for a in args) if isinstance(args, list) else str(args)
        return [f"<{target}>"]
    if name == "Fn::If" and isinstance(args, list) and len(args) == 3:
        # a branch that is AWS::NoValue (or empty) removes the value: say so, never drop it silently
        return [s for branch in args[1:] for s in (possible_strings(branch) or [MAYBE_ABSENT])]
    if name == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
        return _combine([possible_strings(part) or [""] for part in args[1]], str(args[0]))
    if name == "Fn::Sub":
        text, variables = (args[0], args[1]) if isinstance(args, list) and len(args) == 2 else (args, {})
        if not isinstance(text, str) or not isinstance(variables, dict):
            return [DEPLOY_TIME]
        pieces: list[list[str]] = []
        last = 0
        for match in _SUB_VARIABLE.finditer(text):
            pieces.append([text[last:match.start()]])
            literal, variable = match.groups()
            if literal:
                pieces.append(["${" + variable + "}"])
            elif variable in variables:
                pieces.append(possible_strings(variables[variable]) or [""])
            else:
                pieces.append([f"<Ref {variable}>" if "." not in variable else f"<{variable}>"])
            last = match.end()
        pieces.append([text[last:]])
        return _combine(pieces, "")
    return [DEPLOY_TIME]


def _combine(options: list[list[str]], separator: str) -> list[str]:
    count = 1
    for choice in options:
        count *= max(len(choice), 1)
    if count > _MAX_COMBINATIONS:
        return [DEPLOY_TIME]
    return [separator.join(parts) for parts in itertools.product(*options)]


def has_wildcard(text: str) -> bool:
    """IAM wildcards (``*``, ``?``), a value only deployment knows, or one a condition can remove."""
    return "*" in text or "?" in text or DEPLOY_TIME in text or MAYBE_ABSENT in text
