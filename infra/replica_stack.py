"""Replica buckets for an environment's audit logs, in another region of the same partition.

Deployed before the environment's stack (a stack dependency sets the order). Names are fixed and
derived from the account and environment, so the source stack can name its replication target
without cross-region references: the bucket by name, the key by alias, and the replica key's
policy grants the source's replication role by its fixed name.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from compliant_bedrock.audit_bucket import AuditBucket
from compliant_bedrock.compliance import accept_risk, suppress_stack_rule
from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.kms import protect_audit_key, retained_key

from .config import EnvironmentSettings


@dataclass(frozen=True)
class ReplicaTarget:
    """What a source AuditBucket needs to replicate into its replica (all literal)."""

    bucket_arn: str
    key_alias_arn: str
    role_name: str


def replica_targets(settings: EnvironmentSettings) -> dict[str, ReplicaTarget]:
    """Source name (``trail``, ``invlogs``) -> its replica, for the sources the environment has."""
    region, account = settings.audit.replica_region, settings.account
    if region is None or account is None:
        return {}
    partition = settings.resolved_partition
    sources = [name for name, on in (("trail", settings.audit.create_trail),
                                     ("invlogs", settings.audit.invocation_logging)) if on]
    return {
        source: ReplicaTarget(
            bucket_arn=f"arn:{partition}:s3:::{replica_bucket_name(settings, source)}",
            key_alias_arn=f"arn:{partition}:kms:{region}:{account}:{replica_key_alias(settings, source)}",
            role_name=f"{settings.stack_name}-{source}-replication",
        )
        for source in sources
    }


def replica_bucket_name(settings: EnvironmentSettings, source: str) -> str:
    # cb-<12 digits>-<env, at most 24>-<source>-replica: at most 56 of S3's 63 characters.
    return f"cb-{settings.account}-{settings.name}-{source}-replica"


def replica_key_alias(settings: EnvironmentSettings, source: str) -> str:
    return f"alias/compliant-bedrock/{settings.name}/{source}-replica"


class ReplicaStack(Stack):
    """One Object-Locked, KMS-encrypted replica bucket per audit source of an environment."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        region = settings.audit.replica_region
        assert region is not None and settings.account is not None  # config validation guarantees both
        super().__init__(
            scope, construct_id, env={"account": settings.account, "region": region},
            description=f"compliant-bedrock audit log replicas of {settings.name} ({settings.region} -> {region})",
            termination_protection=True,
        )
        self.settings = settings
        for key, value in settings.stack_tags().items():
            Tags.of(self).add(key, value)
        self.buckets: dict[str, AuditBucket] = {}
        for source, target in replica_targets(settings).items():
            key = retained_key(self, f"{source.capitalize()}ReplicaKey",
                               description=f"Replica of {settings.name}'s {source} audit logs",
                               alias=replica_key_alias(settings, source))
            self._grant_replication(key, target)
            protect_audit_key(key, settings.audit_admins)
            self.buckets[source] = AuditBucket(
                self, f"{source.capitalize()}Replica", key=key,
                bucket_name=replica_bucket_name(settings, source),
                object_lock_mode=settings.object_lock.mode, object_lock_days=settings.object_lock.days,
                archive_after_days=settings.audit.archive_after_days,
                replica_of=f"the {source} audit bucket of {settings.stack_name} in {settings.region}",
                audit_admins=settings.audit_admins,
                # Only the source's replication role writes replicas (s3:ReplicateObject): no forged records.
                delivering_role_arns=[self.format_arn(service="iam", region="", resource="role",
                                                      resource_name=target.role_name)],
            )
            governance = settings.object_lock.governance_acceptance
            if settings.object_lock.mode == "GOVERNANCE" and governance is not None:
                accept_risk(self.buckets[source].bucket, "Bedrock-AuditObjectLockCompliance", governance.acceptance(),
                            what=f"GOVERNANCE Object Lock on the {source} replica bucket")

        # Tamper calls on the replicas' keys and buckets are recorded in this region: alarm here too.
        self.detection = TamperDetection(self, "TamperDetection", alert_emails=settings.audit.alert_emails,
                                         alert_event_bus_arns=settings.audit.alert_event_bus_arns,
                                         audit_admins=settings.audit_admins)
        # The bearer-token rule here sees this region's Bedrock data events through the account's multi-region trail.
        suppress_stack_rule(self, "Bedrock-DetectionDataEventsSelected", (
            f"The multi-region trail of {settings.stack_name} in {settings.region} records this region too and "
            "selects AWS::Bedrock::Model data events (the environment's configuration requires them)")
            if settings.audit.create_trail else (
            "audit.create_trail is false: this account's multi-region trail, created outside this app's stacks for "
            "this environment, records this region and its Bedrock data events"))

    def _grant_replication(self, key: kms.Key, target: ReplicaTarget) -> None:
        """Let exactly the source's replication role encrypt replicas through S3 in this region.

        The role does not exist yet when this stack deploys, so it is named in a condition
        (``aws:PrincipalArn``), which KMS accepts, rather than as a principal, which it would refuse.
        """
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSourceReplicationRole",
                principals=[iam.AnyPrincipal()],
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": self.account,
                        "kms:ViaService": f"s3.{self.region}.{self.url_suffix}",
                        "aws:PrincipalArn": self.format_arn(service="iam", region="", resource="role",
                                                            resource_name=target.role_name),
                    }
                },
            )
        )
