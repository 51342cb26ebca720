"""The suppression registry: only known rules, reasons an auditor accepts, one resource at a time."""

from __future__ import annotations

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from conftest import new_stack

from compliant_bedrock.compliance import suppress, suppress_stack_rule
from compliant_bedrock.compliance.suppressions import SuppressionError

REASON = "The queue holds only synthetic test messages and is deleted with the sandbox account."


@pytest.fixture(scope="module")
def stack():
    return new_stack()


def test_a_reasoned_suppression_lands_on_the_resource(stack) -> None:
    queue = sqs.Queue(stack, "Accepted")
    suppress(queue, "NIST.800.53.R5-S3BucketSSLRequestsOnly", REASON)
    metadata = stack.resolve(queue.node.default_child.get_metadata("cdk_nag"))
    assert metadata["rules_to_suppress"] == [{"id": "NIST.800.53.R5-S3BucketSSLRequestsOnly", "reason": REASON}]


@pytest.mark.parametrize("reason", [
    "too short to say anything",                                         # fewer than eight words
    "TODO: write the reason why this finding is fine here later on",     # a placeholder
    "Not needed for this resource because it is only used in tests here",  # a hollow phrase
    "TBD by the security team once the design review has been completed",
])
def test_reasons_an_auditor_cannot_accept_are_refused(stack, reason: str) -> None:
    with pytest.raises(SuppressionError, match="not one an auditor can accept"):
        suppress(sqs.Queue(stack, f"Q{abs(hash(reason))}"), "NIST.800.53.R5-S3BucketSSLRequestsOnly", reason)


@pytest.mark.parametrize(("rule_id", "message"), [
    ("Checkov-CKV_AWS_27", "not from a known pack"),
    ("NIST.800.53.R5-S3BucketSSLRequestOnly", "not a cdk-nag NIST 800-53 r5 rule"),   # a typo
    ("Bedrock-NoSuchRule", "not a rule of the Bedrock pack"),
])
def test_unknown_rules_are_refused(stack, rule_id: str, message: str) -> None:
    with pytest.raises(SuppressionError, match=message):
        suppress(sqs.Queue(stack, f"U{rule_id.replace('.', '')}"), rule_id, REASON)


def test_a_validation_failure_suppression_names_its_rules(stack) -> None:
    with pytest.raises(SuppressionError, match="name the rules"):
        suppress(sqs.Queue(stack, "Vf"), "CdkNagValidationFailure", REASON)
    with pytest.raises(SuppressionError, match="not a cdk-nag NIST"):
        suppress(sqs.Queue(stack, "Vf2"), "CdkNagValidationFailure", REASON, applies_to=["NIST.800.53.R5-Nope"])


def test_a_subtree_or_a_path_string_is_refused(stack) -> None:
    from constructs import Construct

    group = Construct(stack, "Group")
    s3.CfnBucket(group, "Inner")
    with pytest.raises(SuppressionError, match="never covers a whole subtree"):
        suppress(group, "NIST.800.53.R5-S3BucketLoggingEnabled", REASON)
    with pytest.raises(SuppressionError, match="not a path string"):
        suppress("Test/Group/Inner", "NIST.800.53.R5-S3BucketLoggingEnabled", REASON)  # type: ignore[arg-type]


def test_stack_wide_suppression_is_for_stack_level_rules_only(stack) -> None:
    with pytest.raises(SuppressionError, match="not a stack-level Bedrock rule"):
        suppress_stack_rule(stack, "Bedrock-LogGroupEncryptedRetained", REASON)  # a resource rule
    with pytest.raises(SuppressionError, match="not a stack-level Bedrock rule"):
        suppress_stack_rule(stack, "NIST.800.53.R5-S3BucketSSLRequestsOnly", REASON)
    with pytest.raises(SuppressionError, match="not one an auditor can accept"):
        suppress_stack_rule(stack, "Bedrock-InvocationLoggingConfigured", "short")
    suppress_stack_rule(stack, "Bedrock-InvocationLoggingConfigured", REASON)
