"""The weekly deployed-twin verification of an organization's environments, in its security account.

``CompliantBedrock-verification-<organization>`` runs ``make synth`` and ``make verify`` for every covered
environment on a schedule (``ScheduledVerification``: CodeBuild on EventBridge Scheduler, docs/verify.md) from the
security account named in ``verification.account`` of ``config/organization/<name>.yaml``: neither the management
account nor a verified account, so no administrator of a verified account can stop the verification of their own.
Each covered environment's stack and the organization stack create the read-only role it assumes
(``VerifierReadRole``), trusting this stack's project role by its exact ARN.
"""

from __future__ import annotations

from aws_cdk import Stack, Tags
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.kms import AuditAdmins
from compliant_bedrock.verify_schedule import ScheduledVerification, VerifierReadRole

from .org_config import OrganizationSettings


class VerificationStack(Stack):
    """``CompliantBedrock-verification[-<name>]``: the weekly verification, from the security account."""

    def __init__(self, scope: Construct, construct_id: str | None = None, *,
                 settings: OrganizationSettings) -> None:
        verification = settings.verification
        assert verification is not None  # built only for an organization with a verification block
        super().__init__(
            scope, construct_id or settings.verification_stack_name(),
            env={"account": verification.account, "region": settings.home_region},
            description=f"compliant-bedrock weekly verification of {', '.join(settings.covers_environments)} and "
                        f"organization {settings.organization_id} (security account)",
            termination_protection=True,
        )
        self.settings = settings
        Tags.of(self).add("ManagedBy", "compliant-bedrock")
        admins = AuditAdmins(break_glass_role_name=settings.roles.break_glass,
                             deploy_role_name=(f"cdk-{settings.roles.bootstrap_qualifier}-cfn-exec-role-"
                                               f"{verification.account}-{settings.home_region}"))
        source = s3.Bucket.from_bucket_name(self, "Source", verification.source_bucket)
        self.verification = ScheduledVerification(
            self, "Verification", source_bucket=source, source_key=verification.source_key,
            environments=list(settings.covers_environments), read_role_arns=read_role_arns(settings),
            schedule=verification.schedule, alert_emails=verification.alert_emails,
            alert_event_bus_arns=verification.alert_event_bus_arns,
            object_lock_days=verification.object_lock_days, log_retention_days=verification.log_retention_days,
            project_role_name=verification.project_role_name, audit_admins=admins)
        # The results bucket and its key are audit resources: changing their policies or deleting them alerts
        # the same subscribers (the security account's own administrators are the ones this cannot bind).
        self.detection = TamperDetection(self, "TamperDetection", audit_admins=admins,
                                         alert_emails=verification.alert_emails,
                                         alert_event_bus_arns=verification.alert_event_bus_arns,
                                         data_event_rules=False)


def read_role_arns(settings: OrganizationSettings) -> list[str]:
    """Every role the weekly verification assumes: each covered environment's and the management account's."""
    roles = {env.verify.role_arn for env in settings.covered_environments() if env.verify is not None}
    if settings.verify is not None and settings.verify.role_arn:
        roles.add(settings.verify.role_arn)
    return sorted(r for r in roles if r)


def add_read_role(stack: Stack, settings: OrganizationSettings, role_arn: str, *, organization: bool = False) -> None:
    """The read-only role ``role_arn`` names, in ``stack`` (its account), trusting the verification's project role."""
    trusted = settings.verifier_role_arn()
    assert trusted is not None
    VerifierReadRole(stack, "VerifierReadRole", trusted_role_arn=trusted, role_name=role_arn.rsplit("/", 1)[1],
                     organization=organization)
