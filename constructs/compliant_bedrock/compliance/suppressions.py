"""The one way to accept a finding: a known rule, a reason of substance, the narrowest scope.

Suppressions are written as cdk-nag metadata on the one CloudFormation resource they concern
(never by path string, never stack-wide for a resource rule), so cdk-nag honours them, the
Bedrock pack reads the same metadata, and every report lists them with their reasons.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

from aws_cdk import CfnResource, Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

from ..errors import CompliantBedrockError
from .pack import PACK_NAME, RULES

#: Packs whose rule ids are accepted (NIST ids are also checked against the shipped rule list).
KNOWN_PREFIXES = ("NIST.800.53.R5-", "AwsSolutions-", "HIPAA.Security-", "PCI.DSS.321-", f"{PACK_NAME}-")
#: cdk-nag's id for "this rule threw while evaluating the resource"; suppressed per rule via applies_to.
VALIDATION_FAILURE = "CdkNagValidationFailure"
MIN_REASON_WORDS = 8
_HOLLOW = re.compile(r"\b(todo|tbd|fixme|temporary|temp fix|ignore|not needed|n/a)\b", re.IGNORECASE)


class SuppressionError(CompliantBedrockError):
    """A suppression an auditor could not accept."""


@cache
def nist_rules() -> dict[str, str]:
    """cdk-nag's NIST 800-53 r5 rule ids -> control ids (data shipped from cdk-nag's sources)."""
    text = resources.files(__package__).joinpath("data/cdk-nag-nist-800-53-r5-rules.tsv").read_text("utf-8")
    return {row["rule_id"]: row["control_ids"] for row in csv.DictReader(text.splitlines(), delimiter="\t")}


def _check(rule_id: str, reason: str) -> None:
    if not rule_id.startswith(KNOWN_PREFIXES):
        raise SuppressionError(f"suppression rule id {rule_id!r} is not from a known pack ({', '.join(KNOWN_PREFIXES)})")
    if rule_id.startswith("NIST.800.53.R5-") and rule_id not in nist_rules():
        raise SuppressionError(f"suppression rule id {rule_id!r} is not a cdk-nag NIST 800-53 r5 rule (a typo?)")
    if rule_id.startswith(f"{PACK_NAME}-") and rule_id not in RULES:
        raise SuppressionError(f"suppression rule id {rule_id!r} is not a rule of the {PACK_NAME} pack")
    words = reason.split()
    if len(words) < MIN_REASON_WORDS or _HOLLOW.search(reason):
        raise SuppressionError(
            f"suppression of {rule_id}: reason {reason!r} is not one an auditor can accept; say in at least "
            f"{MIN_REASON_WORDS} words why the risk is absent or mitigated, and by what"
        )


def _resource(construct: IConstruct) -> CfnResource:
    if not hasattr(construct, "node"):
        raise SuppressionError(
            f"suppress({construct!r}): pass the construct itself (e.g. bucket.node.default_child), not a path "
            "string: a suppression is metadata on one CloudFormation resource"
        )
    if isinstance(construct, CfnResource):
        return construct
    child = construct.node.default_child
    if isinstance(child, CfnResource):
        return child
    raise SuppressionError(
        f"suppress({construct.node.path}): name the CloudFormation resource itself (or an L2 whose default "
        "child is one); a suppression never covers a whole subtree"
    )


def suppress(construct: IConstruct, rule_id: str, reason: str, *, applies_to: Sequence[str] = ()) -> None:
    """Accept one rule's finding on one resource, for a stated reason.

    :param construct: the CfnResource, or an L2 construct whose default child is the resource.
    :param rule_id: e.g. ``NIST.800.53.R5-S3BucketReplicationEnabled`` or ``Bedrock-InvokeRequiresGuardrail``.
    :param reason: why the risk is absent or mitigated (at least 8 words; no "TODO").
    :param applies_to: for rules with granular findings (IAM wildcards), exactly which ones; for
        ``CdkNagValidationFailure`` (a rule that could not evaluate the resource), which rules.
    """
    resource = _resource(construct)
    if rule_id == VALIDATION_FAILURE:
        if not applies_to:
            raise SuppressionError(f"suppression of {VALIDATION_FAILURE} on {resource.node.path}: name the rules "
                                   "that could not be evaluated in applies_to; never every rule of every pack")
        for each in applies_to:
            _check(each, reason)
    else:
        _check(rule_id, reason)
    NagSuppressions.add_resource_suppressions(
        resource,
        [NagPackSuppression(id=rule_id, reason=reason, applies_to=list(applies_to) or None)],
        apply_to_children=False,
    )


def suppress_stack_rule(stack: Stack, rule_id: str, reason: str) -> None:
    """Accept a finding of a stack-level Bedrock rule (e.g. logging configured by another stack).

    :param stack: the stack whose finding is accepted (the metadata goes on the stack, not on a resource).
    :param rule_id: a stack-level rule of the Bedrock pack (``docs/rules.md``: "Reads: the stack").
    :param reason: why the risk is absent or met elsewhere (at least 8 words; no placeholders).
    """
    rule_ = RULES.get(rule_id)
    if rule_ is None or rule_.resource_types:
        raise SuppressionError(f"suppress_stack_rule: {rule_id!r} is not a stack-level {PACK_NAME} rule; "
                               "suppress resource rules on the resource with suppress()")
    _check(rule_id, reason)
    NagSuppressions.add_stack_suppressions(stack, [NagPackSuppression(id=rule_id, reason=reason)])
