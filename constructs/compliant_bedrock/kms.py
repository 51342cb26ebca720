"""Customer-managed KMS keys for audit data: rotated, retained, and usable only by named services."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def retained_key(scope: Construct, construct_id: str, *, description: str, alias: str | None = None) -> kms.Key:
    """A symmetric CMK with yearly rotation that survives ``cdk destroy`` (SC-12, SC-28, AU-9).

    The 30-day pending window is the maximum: a key scheduled for deletion by mistake can still
    be recovered before the audit data it protects becomes unreadable.
    """
    return kms.Key(
        scope,
        construct_id,
        description=description,
        alias=alias,
        enable_key_rotation=True,
        pending_window=Duration.days(30),
        removal_policy=RemovalPolicy.RETAIN,
    )


def allow_cloudwatch_logs(key: kms.IKey, scope: Construct) -> None:
    """Let CloudWatch Logs use ``key`` for this account's log groups in this region only.

    The encryption-context condition limits the grant to log groups of this account and region,
    as the CloudWatch Logs documentation requires for ``kms:Encrypt*``/``kms:Decrypt*``.
    """
    stack = Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs", resource="log-group", resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
