"""Writing suppressions and risk acceptances: cdk-nag metadata on the one resource (or stack) they concern.

What may be written is the registry's (``compliance.registry``): these functions refuse early what the registry would
refuse in the synthesized template, so the error names the construct.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

from .pack import PACK_NAME, RULES
from .registry import (  # noqa: F401  (re-exported: the public names have always lived here)
    _HOLLOW,
    KNOWN_PREFIXES,
    MIN_REASON_WORDS,
    RISK_METADATA,
    VALIDATION_FAILURE,
    RiskAcceptance,
    SuppressionError,
    _check,
    _plain,
    check_template,
    hollow,
    nist_rules,
    structured_form,
    today,
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
    :param reason: why the risk is absent or mitigated (at least 8 words; no "TODO"; no approver: a risk decision is
        :func:`accept_risk`'s, and rules with ``risk_decision`` refuse a plain suppression).
    :param applies_to: for rules with granular findings (IAM wildcards), exactly which ones; for
        ``CdkNagValidationFailure`` (a rule that could not evaluate the resource), which rules.
    """
    resource = _resource(construct)
    if rule_id == VALIDATION_FAILURE:
        if not applies_to:
            raise SuppressionError(f"suppression of {VALIDATION_FAILURE} on {resource.node.path}: name the rules "
                                   "that could not be evaluated in applies_to; never every rule of every pack")
        for each in applies_to:
            _plain(each, reason, f"suppress({resource.node.path})")
    else:
        _plain(rule_id, reason, f"suppress({resource.node.path})")
    NagSuppressions.add_resource_suppressions(
        resource,
        [NagPackSuppression(id=rule_id, reason=reason, applies_to=list(applies_to) or None)],
        apply_to_children=False,
    )


def suppress_stack_rule(stack: Stack, rule_id: str, reason: str) -> None:
    """Accept a finding of a stack-level Bedrock rule (e.g. logging configured by another stack).

    :param stack: the stack whose finding is accepted (the metadata goes on the stack, not on a resource).
    :param rule_id: a stack-level rule of the Bedrock pack (``docs/rules.md``: "Reads: the stack").
    :param reason: why the risk is absent or met elsewhere (at least 8 words; no placeholders; no approver: a risk
        decision is ``accept_risk``'s).
    """
    _stack_rule(rule_id, "suppress_stack_rule")
    _plain(rule_id, reason, f"suppress_stack_rule({stack.stack_name})")
    NagSuppressions.add_stack_suppressions(stack, [NagPackSuppression(id=rule_id, reason=reason)])


def _stack_rule(rule_id: str, caller: str) -> None:
    rule_ = RULES.get(rule_id)
    if rule_ is None or rule_.resource_types:
        raise SuppressionError(f"{caller}: {rule_id!r} is not a stack-level {PACK_NAME} rule; "
                               "accept resource rules on the resource")


def accept_risk(construct: IConstruct, rule_id: str, acceptances: RiskAcceptance | Sequence[RiskAcceptance], *,
                what: str | Sequence[str] | None = None) -> None:
    """Accept a risk on one resource (or, for a stack-level Bedrock rule, on a ``Stack``): the structured form.

    Writes the suppression (reason: :meth:`compliant_bedrock.compliance.registry.RiskAcceptance.text`, joined with `` | `` for several) and the acceptances
    themselves as ``compliant_bedrock:risk_acceptances`` metadata, which the registry (:func:`compliant_bedrock.compliance.registry.check_template`) checks
    and the evidence files with approver and expiry.

    :param construct: the CfnResource (or an L2 whose default child is one) the finding is on; a ``Stack`` for a
        stack-level Bedrock rule.
    :param rule_id: the rule whose finding is accepted (any known pack's; required for ``risk_decision`` rules).
    :param acceptances: one ``RiskAcceptance``, or several (e.g. one per unguarded path a policy opens).
    :param what: what is accepted, one per acceptance (default: the rule id), e.g. ``Unguarded path mantle for
        openai.gpt-5.5``.
    """
    given = [acceptances] if isinstance(acceptances, RiskAcceptance) else list(acceptances)
    labels = [what] if isinstance(what, str) else list(what or [rule_id] * len(given))
    if not given or len(labels) != len(given):
        raise SuppressionError(f"accept_risk({rule_id}): give one or more RiskAcceptance, and one 'what' for each")
    _check(rule_id, given[0].reason)
    reason = " | ".join(a.text(label) for a, label in zip(given, labels, strict=True))
    records = [a.record(rule_id, label) for a, label in zip(given, labels, strict=True)]
    if isinstance(construct, Stack):
        _stack_rule(rule_id, "accept_risk")
        NagSuppressions.add_stack_suppressions(construct, [NagPackSuppression(id=rule_id, reason=reason)])
        metadata = construct.template_options.metadata or {}
        existing = list(metadata.get(RISK_METADATA) or [])
        construct.template_options.metadata = {**metadata, RISK_METADATA: [*existing, *records]}
        return
    resource = _resource(construct)
    NagSuppressions.add_resource_suppressions(resource, [NagPackSuppression(id=rule_id, reason=reason)],
                                              apply_to_children=False)
    existing = list(resource.get_metadata(RISK_METADATA) or [])
    resource.add_metadata(RISK_METADATA, [*existing, *records])


