"""How long IAM will count a policy document that still holds CloudFormation intrinsics.

IAM rejects a managed policy over 6,144 characters (whitespace not counted) at deploy time. The
template holds ``Ref``/``Fn::GetAtt``/``Fn::Join`` where the account, the partition or an
endpoint id are not known at synth, so each is counted at the longest value it can take.
No library measures this; it is checked here so the error comes at synth, naming what to change.
"""

from __future__ import annotations

import json
from typing import Any

#: IAM quota: characters of a managed policy document, whitespace excluded.
MANAGED_POLICY_MAX_CHARS = 6144

#: Longest value of each pseudo parameter (``aws-us-gov``, ``ap-southeast-4``, ``amazonaws.com.cn``).
_PSEUDO = {"AWS::AccountId": 12, "AWS::Partition": 10, "AWS::Region": 14, "AWS::URLSuffix": 16}
#: A referenced resource's id (a VPC endpoint id is 22) and an ARN attribute, at their longest in practice.
_REF_ID = 32
_ATT_ARN = 128
_OTHER = 64


def _longest(intrinsic: dict[str, Any]) -> int:
    (name, args), = intrinsic.items()
    if name == "Ref":
        return _PSEUDO.get(args, _REF_ID)
    if name == "Fn::GetAtt":
        attribute = args[1] if isinstance(args, list) else str(args).split(".", 1)[-1]
        return _ATT_ARN if str(attribute).endswith("Arn") else _REF_ID
    if name == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
        separator, parts = args
        return len(separator) * max(len(parts) - 1, 0) + sum(
            len(p) if isinstance(p, str) else _longest(p) if _is_intrinsic(p) else _OTHER for p in parts)
    return _OTHER


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::"))


def _as_literals(value: Any) -> Any:
    if _is_intrinsic(value):
        return "x" * _longest(value)
    if isinstance(value, dict):
        return {k: _as_literals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_literals(v) for v in value]
    return value


def policy_length(resolved_document: dict[str, Any]) -> int:
    """Characters IAM counts for ``resolved_document`` (``Stack.resolve`` output), intrinsics at their longest."""
    return len(json.dumps(_as_literals(resolved_document), separators=(",", ":")))
