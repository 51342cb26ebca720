"""A read-only view of a synthesized CloudFormation template, for rules that check it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    deletion_policy: str | None = None
    update_replace_policy: str | None = None

    @property
    def path(self) -> str:
        """The construct path (what cdk-nag reports), else the logical id."""
        return str(self.metadata.get("aws:cdk:path", self.logical_id))


@dataclass
class Template:
    """Resources by logical id, plus lookups rules need (references, policy statements)."""

    name: str
    body: dict[str, Any]
    resources: dict[str, Resource] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = {
            logical_id: Resource(
                logical_id, r.get("Type", ""), r.get("Properties") or {}, r.get("Metadata") or {},
                r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"),
            )
            for logical_id, r in (self.body.get("Resources") or {}).items()
        }

    @property
    def metadata(self) -> dict[str, Any]:
        return self.body.get("Metadata") or {}

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]


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


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_statements(resource: Resource) -> Iterator[dict[str, Any]]:
    """Identity-policy statements a resource carries (managed, inline, role-embedded)."""
    props = resource.properties
    if resource.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        yield from as_list((props.get("PolicyDocument") or {}).get("Statement"))
    elif resource.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for policy in as_list(props.get("Policies")):
            yield from as_list((policy.get("PolicyDocument") or {}).get("Statement"))


def literal_strings(value: Any) -> list[str]:
    """The literal string pieces of a value (tokens such as Fn::Join are flattened)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in literal_strings(v)]
    if isinstance(value, dict):
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            pieces = literal_strings(parts)
            return ["".join(pieces)] if sep == "" else pieces
        return []
    return []
