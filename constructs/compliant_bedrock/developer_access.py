"""An IAM Identity Center permission set for Codex developers: sign-in with short-term credentials, never keys.

A developer running Codex on a workstation signs in through Identity Center (``aws sso login``) and gets a
role session of at most ``MAX_SESSION_HOURS``; nothing long-lived exists to leak. The permission set
carries the Codex policy that :meth:`compliant_bedrock.model_access.BedrockModelAccess.codex_policy` writes into the workload account (by
reference: ``CustomerManagedPolicyReferences`` name it, so the statements live in one place, next to the
project and endpoint they name) and an inline policy of Denies that hold whatever the account adds: both
bearer-token actions, creating long-term credentials, Managed Agents sessions, project and retention changes.

Permission sets live in the organization's management account (or Identity Center's delegated administrator),
so this construct belongs in the stack deployed there (``docs/codex.md`` says why the reference app puts it in
the organization stack). Assigning it to a group and an account is left to the agency: that is a decision
about people, made in Identity Center (``aws sso-admin create-account-assignment``).
"""

from __future__ import annotations

import re

from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sso as sso
from constructs import Construct

from .errors import ConstructPropsError
from .model_access import MANAGED_AGENT_ACTIONS, key_and_project_denies

#: ``AWS::SSO::PermissionSet`` InstanceArn (the CloudFormation pattern, partitions spelled out).
INSTANCE_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}")
#: Identity Center's session duration limits (PT1H to PT12H).
MIN_SESSION_HOURS, MAX_SESSION_HOURS = 1, 12
_DURATION = re.compile(r"PT(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?")
#: A permission set name: 1-32 of letters, digits and +=,.@- (CloudFormation pattern).
PERMISSION_SET_NAME = re.compile(r"[\w+=,.@-]{1,32}")
#: Actions that mint a long-term credential for a principal (an access key, a Bedrock API key, a console password).
LONG_TERM_CREDENTIAL_ACTIONS: tuple[str, ...] = (
    "iam:CreateServiceSpecificCredential", "iam:CreateAccessKey", "iam:CreateLoginProfile",
)
#: A permission set's role in an account, by exact path and name as IAM shows it after the first assignment:
#: ``aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<permission set>_<16 hex>``. Identity Center
#: creates and changes these roles through its service-linked role (which SCPs do not bind); an exemption naming
#: one exactly is protected like every exempt role (``ProtectExemptRoles``: nobody else creates, re-trusts or
#: changes it; ``DenyAssumingExemptRoles``: nobody assumes it with AssumeRole; developers arrive by SAML).
SSO_ROLE_PATTERN = re.compile(r"aws-reserved/sso\.amazonaws\.com/(?:[a-z]{2}(?:-[a-z]+)+-\d/)?"
                              r"AWSReservedSSO_(?P<set>[\w+=,.@-]{1,32})_[0-9a-f]{16}")
#: The IAM path of the Codex policy a permission set references (same name in every account it is assigned in).
CODEX_POLICY_PATH = "/compliant-bedrock/"


def codex_policy_name(environment: str) -> str:
    """The fixed name of an environment's Codex policy, which its permission set references."""
    return f"compliant-bedrock-codex-{environment}"


def session_minutes(duration: str, where: str) -> int:
    """Minutes of an ISO 8601 duration ``PT<h>H<m>M`` within Identity Center's 1 to 12 hours, or an error naming it."""
    match = _DURATION.fullmatch(duration) if isinstance(duration, str) else None
    if match is None or not (match.group("h") or match.group("m")):
        raise ConstructPropsError(f"{where}: session_duration {duration!r} is not an ISO 8601 duration of hours and "
                                  "minutes; write e.g. 'PT8H' or 'PT1H30M'")
    minutes = int(match.group("h") or 0) * 60 + int(match.group("m") or 0)
    if not MIN_SESSION_HOURS * 60 <= minutes <= MAX_SESSION_HOURS * 60:
        raise ConstructPropsError(f"{where}: session_duration {duration!r} is {minutes} minutes; Identity Center allows "
                                  f"PT{MIN_SESSION_HOURS}H to PT{MAX_SESSION_HOURS}H")
    return minutes


def check_instance_arn(arn: str, where: str, partition: str | None = None) -> str:
    """``arn`` if it is an Identity Center instance ARN (of ``partition``, when known), else an error naming it."""
    match = INSTANCE_ARN_PATTERN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ConstructPropsError(f"{where}: instance_arn {arn!r} is not an IAM Identity Center instance ARN; copy it "
                                  "from 'aws sso-admin list-instances' (arn:<partition>:sso:::instance/ssoins-...)")
    if partition is not None and match.group("partition") != partition:
        raise ConstructPropsError(f"{where}: instance_arn {arn!r} is in partition {match.group('partition')!r}, the "
                                  f"stack in {partition!r}; use the Identity Center instance of this partition")
    return arn


def permission_set_denies() -> list[iam.PolicyStatement]:
    """The permission set's inline Denies: the package's key and project Denies, long-term credentials and
    Managed Agents sessions. None names a resource of the workload account, so they apply wherever the
    permission set is provisioned."""
    return [
        *key_and_project_denies(),
        iam.PolicyStatement(sid="DenyLongTermCredentials", effect=iam.Effect.DENY,
                            actions=list(LONG_TERM_CREDENTIAL_ACTIONS), resources=["*"]),
        iam.PolicyStatement(sid="DenyManagedAgentSessions", effect=iam.Effect.DENY,
                            actions=list(MANAGED_AGENT_ACTIONS), resources=["*"]),
    ]


class CodexPermissionSet(Construct):
    """``AWS::SSO::PermissionSet`` for Codex developers: the Codex policy by reference, Denies inline.

    * ``CustomerManagedPolicyReferences``: the Codex policy of the workload account
      (:meth:`compliant_bedrock.model_access.BedrockModelAccess.codex_policy` with ``managed_policy_name=codex_policy_name(<env>)`` and
      ``path=CODEX_POLICY_PATH``); Identity Center refuses to provision the set into an account without it,
      so the permission set never grants more than the package's policy there. No AWS managed policy.
    * ``InlinePolicy``: :func:`permission_set_denies` (API keys on both endpoints, long-term credentials,
      Managed Agents sessions, project and retention changes), IA-2, IA-5, AC-6.
    * ``SessionDuration``: 1 to 12 hours (ISO 8601), AC-12.
    """

    def __init__(self, scope: Construct, construct_id: str, *, instance_arn: str, codex_policy_name: str,
                 name: str = "CodexDeveloper", session_duration: str = "PT8H",
                 codex_policy_path: str = CODEX_POLICY_PATH, description: str | None = None) -> None:
        """
        :param instance_arn: the Identity Center instance (``arn:<partition>:sso:::instance/ssoins-...``). Required.
        :param codex_policy_name: the Codex policy's name in the workload account (:func:`codex_policy_name`).
        :param name: the permission set's name (its roles are ``AWSReservedSSO_<name>_<suffix>``).
        :param session_duration: ISO 8601, PT1H to PT12H.
        :param codex_policy_path: the Codex policy's IAM path.
        """
        super().__init__(scope, construct_id)
        where = f"CodexPermissionSet {construct_id!r}"
        partition = Stack.of(self).partition
        check_instance_arn(instance_arn, where, None if Token.is_unresolved(partition) else partition)
        if not PERMISSION_SET_NAME.fullmatch(name):
            raise ConstructPropsError(f"{where}: name {name!r} is not a permission set name (1-32 of letters, digits "
                                      "and +=,.@_-)")
        self.session_minutes = session_minutes(session_duration, where)
        if not re.fullmatch(r"[\w+=,.@-]{1,128}", codex_policy_name):
            raise ConstructPropsError(f"{where}: codex_policy_name {codex_policy_name!r} is not an IAM policy name")
        if not (codex_policy_path.startswith("/") and codex_policy_path.endswith("/")):
            raise ConstructPropsError(f"{where}: codex_policy_path {codex_policy_path!r} must begin and end with '/'")
        self.inline_policy = iam.PolicyDocument(statements=permission_set_denies())
        self.permission_set = sso.CfnPermissionSet(
            self, "Resource",
            instance_arn=instance_arn,
            name=name,
            description=description or "Codex on Bedrock: Mantle inference on the approved models via the private "
                                       "endpoint; no API keys, no long-term credentials",
            session_duration=session_duration,
            customer_managed_policy_references=[sso.CfnPermissionSet.CustomerManagedPolicyReferenceProperty(
                name=codex_policy_name, path=codex_policy_path)],
            inline_policy=self.inline_policy.to_json(),
        )
        # The preview Managed Agents action names are not in cfn-lint's action list yet (as in BedrockModelAccess's
        # ManagedAgentsDenyPolicy): W3037 is silenced on this resource only.
        self.permission_set.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3037"]}})
        self.permission_set_arn: str = self.permission_set.attr_permission_set_arn
        self.name = name
