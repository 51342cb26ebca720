"""Read access to audit records: one managed policy per construct, attached to each grantee.

The project never uses inline policies (cdk-nag IAMNoInlinePolicy), so a ``grant_read`` creates a
managed policy on the owning construct the first time and attaches that same policy to every later
grantee, as ``BedrockGuardrail.grant_apply`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

if TYPE_CHECKING:
    from .audit_bucket import AuditBucket

READ_POLICY_ID = "ReadPolicy"


def log_read_statement(log_groups: Sequence[logs.ILogGroup]) -> iam.PolicyStatement:
    """Read the events of these log groups (no key permission: CloudWatch Logs decrypts them itself)."""
    return iam.PolicyStatement(
        sid="ReadAuditLogGroups",
        actions=["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"],
        resources=[g.log_group_arn for g in log_groups],
    )


def attach_read_policy(owner: Construct, grantee: iam.IGrantable, *, description: str,
                       statements: Callable[[], list[iam.PolicyStatement]],
                       after_create: Callable[[iam.ManagedPolicy], None] = lambda policy: None) -> iam.ManagedPolicy:
    """The owner's read policy (created on first use) attached to ``grantee``'s role, user or group."""
    principal = grantee.grant_principal
    attach = getattr(principal, "add_managed_policy", None)  # IRole, IUser and IGroup have it
    if attach is None:
        raise TypeError(f"{type(owner).__name__} {owner.node.id!r}: grant_read needs a role, user or group, got "
                        f"{type(principal).__name__}")
    policy = owner.node.try_find_child(READ_POLICY_ID)
    if policy is None:
        policy = iam.ManagedPolicy(owner, READ_POLICY_ID, description=description, statements=statements())
        after_create(policy)
    attach(policy)
    return policy


def grant_records_read(owner: Construct, grantee: iam.IGrantable, bucket: AuditBucket, log_group: logs.ILogGroup,
                       what: str) -> iam.ManagedPolicy:
    """Read ``what``'s records: ``bucket``'s objects (decrypted through S3) and ``log_group``'s events.

    ``owner``: the construct the managed policy is created in (the records' owner); ``grantee``: the role or
    user given the policy (never an inline one)."""
    return attach_read_policy(
        owner, grantee, description=f"Read the {what}'s records: audit bucket and log group.",
        statements=lambda: [*bucket.read_statements(), log_read_statement([log_group])],
        after_create=bucket.accept_object_wildcard)
