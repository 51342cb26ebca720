"""Customer-managed KMS keys for audit data: rotated, retained, and usable only by named services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from .compliance.rules.audit import AUDIT_TAG
from .errors import ConstructPropsError


def retained_key(scope: Construct, construct_id: str, *, description: str, alias: str | None = None) -> kms.Key:
    """A symmetric CMK with yearly rotation that survives ``cdk destroy`` (SC-12, SC-28, AU-9).

    ``pending_window`` (30 days, the maximum) governs only CloudFormation's own deletion of the key:
    the ScheduleKeyDeletion API lets a caller choose 7 to 30 days. For audit keys,
    ``protect_audit_key`` denies scheduling (and any window under 30 days) in the key policy itself.

    :param description: what the key encrypts (shown in the KMS console).
    :param alias: an alias for the key (CDK prefixes ``alias/`` when it is missing); default none.
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


#: Tag on every resource that holds or protects audit data (keys, buckets, log groups); the
#: organization's SCPs and RCPs key on it (``aws:ResourceTag/compliant-bedrock:audit``).
AUDIT_TAG_KEY = AUDIT_TAG
AUDIT_TAG_VALUE = "true"
#: The role an incident responder assumes to repair or retire the audit plane (created outside this package).
DEFAULT_BREAK_GLASS_ROLE_NAME = "compliant-bedrock-break-glass"
#: CDK's default bootstrap qualifier: its CloudFormation execution role is ``cdk-<qualifier>-cfn-exec-role-...``.
DEFAULT_BOOTSTRAP_QUALIFIER = "hnb659fds"
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
#: A role name that reads as a prefix: ending in a separator, or a leading part of CDK's bootstrap execution role
#: (``cdk``, ``cdk-hnb659fds``, ``cdk-hnb659fds-cfn-exec-role``, ... up to the account without its region).
_PREFIX_SHAPE = re.compile(r"^(?:.*[-_.@=,+]|cdk(?:-[a-z0-9]+(?:-cfn(?:-exec(?:-role(?:-\d{0,12})?)?)?)?)?)$")
#: Key actions that make audit records unreadable or stop their delivery: disabling or deleting the key
#: crypto-shreds every Object-Locked record at once, a new key policy can drop the services' grants, and
#: alias changes redirect a replica's writer (it names its key by alias). CancelKeyDeletion stays open to
#: everyone: it only rescues a key (and scheduling is denied here anyway).
KEY_TAMPER_ACTIONS: tuple[str, ...] = (
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
    "kms:ReplicateKey", "kms:DeleteAlias", "kms:UpdateAlias",
)
#: KMS's longest pending window: a scheduled deletion can be cancelled for this many days.
KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class AuditAdmins:
    """The only principals that may change or destroy the audit plane: a break-glass role and the role
    CloudFormation deploys with (it must keep updating key and bucket policies).

    :param break_glass_role_name: name of the incident responders' role (``aws:PrincipalArn`` is the role's
        ARN for every session of it). Create it outside this package, with MFA on its trust policy.
    :param deploy_role_name: the CloudFormation execution role; default CDK's bootstrap role
        ``cdk-hnb659fds-cfn-exec-role-<account>-<region>`` of the stack's environment. If you deploy with
        another role (``cdk deploy --role-arn``, a pipeline), name it here, or updates of protected key and
        bucket policies fail (KMS's policy-lockout check refuses a policy its caller could not change).
        An exact name only: a pattern is a role name any account administrator can create (stacks a
        service-managed StackSet deploys name its ``stacksets-exec-<suffix>`` role exactly).
    """

    break_glass_role_name: str = DEFAULT_BREAK_GLASS_ROLE_NAME
    deploy_role_name: str | None = None

    def __post_init__(self) -> None:
        for prop in ("break_glass_role_name", "deploy_role_name"):
            value = getattr(self, prop)
            if isinstance(value, str) and ("*" in value or "?" in value):
                raise ConstructPropsError(f"AuditAdmins: {prop}: {value!r} is a pattern; the audit key and bucket "
                                          "policies exempt exact role ARNs only (a pattern exempts every role an account "
                                          "administrator names to match it); name the one role, without '*' or '?'")
            if isinstance(value, str) and _PREFIX_SHAPE.fullmatch(value):
                raise ConstructPropsError(f"AuditAdmins: {prop}: {value!r} reads as a prefix of role names (it ends in a "
                                          "separator, or stops short of CDK's cdk-<qualifier>-cfn-exec-role-<account>-"
                                          "<region>), not one role; name the exact role CloudFormation deploys with, "
                                          "e.g. cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1")
            named = isinstance(value, str) and _ROLE_NAME.fullmatch(value)
            if value is not None and not named:
                raise ConstructPropsError(f"AuditAdmins: {prop}: {value!r} is not an exact IAM role name; allowed: 1-64 "
                                 "of letters, digits and +=,.@_- (the name, without path or ARN; no '*': a pattern is "
                                 "a name anyone can create)")

    def role_arns(self, scope: Construct) -> list[str]:
        """The two roles' ARNs in ``scope``'s stack (account and region may be tokens)."""
        stack = Stack.of(scope)
        deploy = self.deploy_role_name or f"cdk-{DEFAULT_BOOTSTRAP_QUALIFIER}-cfn-exec-role-{stack.account}-{stack.region}"
        return [stack.format_arn(service="iam", region="", resource="role", resource_name=name)
                for name in (self.break_glass_role_name, deploy)]


def tag_audit(construct: IConstruct) -> None:
    """Mark ``construct`` (and what it contains) as audit data for organization policies."""
    Tags.of(construct).add(AUDIT_TAG_KEY, AUDIT_TAG_VALUE)


def protect_audit_key(key: kms.Key, admins: AuditAdmins) -> None:
    """Deny every principal but ``admins`` the key actions that destroy or cut off audit records, deny
    deletion windows under 30 days to everyone, and tag the key as audit (SC-12, AU-9).

    These Denies are in the key policy, so they bind **every principal of the account**, the root user
    included, whatever IAM allows. Negated-operator semantics: ``ArnNotEquals aws:PrincipalArn`` is true
    when the key is absent, so a request without a principal ARN is denied too (fail closed); every IAM
    role, user and the root user carry one, and no AWS service calls these actions as a service principal.
    """
    principals = admins.role_arns(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyAuditKeyTamperExceptBreakGlassAndDeploy",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=list(KEY_TAMPER_ACTIONS),
            resources=["*"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": principals}},
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyKeyDeletionWindowUnder30Days",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:ScheduleKeyDeletion"],
            resources=["*"],
            conditions={"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": str(KEY_DELETION_WINDOW_DAYS)}},
        )
    )
    tag_audit(key)
