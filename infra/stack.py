"""The reference deployment for one environment, composed only from ``compliant_bedrock`` constructs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from compliant_bedrock.audit_trail import AuditTrail, declare_trail_coverage, default_bedrock_data_resource_types
from compliant_bedrock.compliance import accept_risk, suppress_stack_rule
from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.developer_access import CODEX_POLICY_PATH, codex_policy_name
from compliant_bedrock.guardrail import BedrockGuardrail
from compliant_bedrock.guardrail_presets import federal_baseline
from compliant_bedrock.invocation_logging import ModelInvocationLogging
from compliant_bedrock.kms import allow_cloudwatch_logs, protect_audit_key, retained_key, tag_audit
from compliant_bedrock.model_access import BedrockModelAccess, MantleProject
from compliant_bedrock.models import InferencePath
from compliant_bedrock.network import IsolatedVpc
from compliant_bedrock.private_link import BedrockPrivateLink, BedrockService
from compliant_bedrock.resolver import InboundResolver

from .config import EnvironmentSettings
from .replica_stack import replica_targets


class ReferenceStack(Stack):
    """Private Bedrock access with model-scoped IAM, a guardrail on every call and immutable audit."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(
            scope,
            construct_id,
            env={"account": settings.account, "region": settings.region} if settings.account else {"region": settings.region},
            description=f"compliant-bedrock reference deployment ({settings.name}, {settings.region})",
            # Always: deleting this stack is a deliberate act (turn protection off first), env-agnostic too.
            termination_protection=True,
        )
        self.settings = settings
        for key, value in settings.stack_tags().items():
            Tags.of(self).add(key, value)

        #: The flow logs' key; only a new VPC has flow logs here (the trail and invocation logging bring their own).
        self.log_key: kms.Key | None = None
        self.vpc = self._network()
        self.guardrail = BedrockGuardrail(
            self,
            "Guardrail",
            name=f"{settings.name}-{settings.guardrail.preset}",
            description=f"{settings.guardrail.preset} preset for {settings.name} (compliant-bedrock)",
            # Classification banners are a spill only below the classified (aws-iso*) partitions.
            policy=federal_baseline(
                pii_action=settings.guardrail.pii_action,
                block_classification_markings=not settings.resolved_partition.startswith("aws-iso"),
            ),
            tier=settings.guardrail.tier,
            enforce_account_level=settings.guardrail.enforce_account_level,
        )
        if not settings.guardrail.enforce_account_level:
            accepted = settings.guardrail.no_account_enforcement
            assert accepted is not None  # config requires it with enforce_account_level: false
            accept_risk(self, "Bedrock-GuardrailEnforcedAccountLevel", accepted.acceptance(),
                        what=f"No account-level guardrail enforcement in {settings.name}")
        # Paths per model (config -> catalog-checked ids): Converse with the guardrail, the OpenAI-compatible
        # runtime APIs, or Mantle in this environment's own project; unguarded ones carry their acceptance.
        converse = settings.model_ids(InferencePath.RUNTIME_CONVERSE)
        openai_api = settings.model_ids(InferencePath.RUNTIME_OPENAI)
        mantle = settings.model_ids(InferencePath.MANTLE)
        self.mantle_project: MantleProject | None = (
            MantleProject(self, "MantleProject", name=settings.mantle_project_name) if mantle else None)
        mantle_project_arn = self.mantle_project.project_arn if self.mantle_project else None
        # The configuration's written acceptances of ids the catalog cannot vouch for (config checked them already).
        accepted_models = {model_id: f"{a.reason} (approved by {a.approved_by})"
                           for model_id, a in settings.accept_unverified_models.items()}
        self.private_link = BedrockPrivateLink(
            self,
            "PrivateLink",
            vpc=self.vpc,
            model_ids=converse,
            openai_api_model_ids=openai_api,
            mantle_model_ids=mantle,
            mantle_project_arn=mantle_project_arn,
            mantle_stored_responses=settings.mantle.stored_responses,
            guardrail_arns=self.guardrail.resource_arns,
            services=[BedrockService(s) for s in settings.endpoints],
            fips=settings.fips_endpoints,
            non_fips_services=settings.non_fips_endpoints,
            allowed_cidrs=settings.client_cidrs or [settings.vpc.cidr],
            principal_org_id=settings.organization_id,
            principal_accounts=settings.principal_accounts,
            allow_unverified_models=accepted_models,
        )
        self.model_access = BedrockModelAccess(
            self,
            "ModelAccess",
            model_ids=converse,
            openai_api_model_ids=openai_api,
            guardrail_arn=self.guardrail.guardrail_arn,
            guardrail_profile_arns=self.guardrail.profile_arns,
            guardrail_versioned_arn=self.guardrail.versioned_arn,
            runtime_endpoint=self.private_link.runtime_endpoint,
            mantle_model_ids=mantle,
            mantle_project_arn=mantle_project_arn,
            mantle_endpoint=self.private_link.endpoints.get(BedrockService.MANTLE),
            mantle_stored_responses=settings.mantle.stored_responses,
            managed_agents=settings.mantle.managed_agents,
            accept_unguarded={path: a.acceptance() for path, a in settings.accept_unguarded.items()},
            allow_unverified_models=accepted_models,
        )
        self._developers()
        self._audit()
        CfnOutput(self, "RuntimeEndpointId", value=self.private_link.runtime_endpoint.vpc_endpoint_id,
                  description="bedrock-runtime interface endpoint (aws:SourceVpce of every allowed invoke)")
        CfnOutput(self, "InvokePolicyArn", value=self.model_access.policy.managed_policy_arn,
                  description="Attach to workload roles: invoke the named models, via the endpoint, with the guardrail")
        CfnOutput(self, "GuardrailVersionedArn", value=self.guardrail.versioned_arn,
                  description="Pass as guardrailIdentifier/guardrailVersion on every call")
        if self.mantle_project is not None:
            CfnOutput(self, "MantleProjectId", value=self.mantle_project.project_id,
                      description="Send as the OpenAI-Project header on bedrock-mantle calls (the only project granted)")

    def _developers(self) -> None:
        """Codex for developers (config ``developers``): the inbound resolver workstations' DNS forwards to, and
        the Codex policy under the fixed name the organization stack's permission set references."""
        developers = self.settings.developers
        self.resolver: InboundResolver | None = None
        self.codex_policy = None
        if developers is None:
            return
        key = self.log_key
        if key is None:  # an existing VPC: no flow-log key of this stack
            key = retained_key(self, "ResolverLogKey", description=f"DNS query log of {self.settings.name}")
            allow_cloudwatch_logs(key, self)
            protect_audit_key(key, self.settings.audit_admins)
        self.resolver = InboundResolver(self, "InboundResolver", vpc=self.vpc, forwarder_cidrs=developers.forwarder_cidrs,
                                        log_key=key, log_retention_days=self.settings.log_retention_days,
                                        name=f"{self.settings.name}-inbound")
        tag_audit(self.resolver.log_group)
        self.codex_policy = self.model_access.codex_policy(
            developers.models or None, managed_policy_name=codex_policy_name(self.settings.name), path=CODEX_POLICY_PATH,
            developer_role=developers.sso_role)
        CfnOutput(self, "InboundResolverId", value=self.resolver.endpoint_id,
                  description="Forward the Bedrock names to this endpoint's two addresses (docs/codex.md)")
        CfnOutput(self, "CodexPolicyArn", value=self.codex_policy.managed_policy_arn,
                  description="The Codex policy the organization stack's permission set references by name")

    def _audit(self) -> None:
        """The account's multi-region trail (where this environment owns it) and invocation logging."""
        settings = self.settings
        protection = {
            "object_lock_mode": settings.object_lock.mode,
            "object_lock_days": settings.object_lock.days,
            "archive_after_days": settings.audit.archive_after_days,
            "audit_admins": settings.audit_admins,
        }
        replicas = replica_targets(settings)

        def replication(source: str) -> dict[str, str]:
            target = replicas.get(source)
            if target is None:
                return {}
            return {"replication_destination_bucket_arn": target.bucket_arn,
                    "replication_destination_key_arn": target.key_alias_arn,
                    "replication_role_name": target.role_name}

        self.audit_trail: AuditTrail | None = None
        if settings.audit.create_trail:
            self.audit_trail = AuditTrail(
                self, "AuditTrail", log_retention_days=settings.log_retention_days, **protection,
                bedrock_data_resource_types=settings.audit.bedrock_data_event_types
                or default_bedrock_data_resource_types(settings.resolved_partition),
                **replication("trail"),
                # Mantle data events wherever the partition has Mantle (a denied call is evidence); always here.
                mantle_data_events=settings.allows_mantle or None,
            )
            CfnOutput(self, "TrailArn", value=self.audit_trail.trail_arn, description="Multi-region audit trail")
        else:
            declare_trail_coverage(self, trail=str(settings.audit.trail_covered_by), reason=(
                "audit.create_trail is false: this account's multi-region trail, which records this environment's "
                f"Bedrock, Mantle and invocation-log object events, is {settings.audit.trail_covered_by}"))
        self.invocation_logging: ModelInvocationLogging | None = None
        if settings.audit.invocation_logging:
            self.invocation_logging = ModelInvocationLogging(
                self, "InvocationLogging", log_retention_days=settings.log_retention_days, **protection,
                **replication("invlogs"),
            )
            if self.audit_trail is not None:  # who read or deleted a prompt or completion (S3 object events)
                self.audit_trail.add_object_event_buckets(self.invocation_logging.bucket.bucket)
        else:
            suppress_stack_rule(self, "Bedrock-InvocationLoggingConfigured",
                                str(settings.audit.no_invocation_logging_reason))
        # What prevention in this account cannot stop (stopping the trail, deleting logging or the enforced
        # guardrail, API keys, silencing the alerts) is alarmed on, to the configured subscribers (required).
        # Outside the partition's IAM region the IAM-event rules live in <stack>-iam-events (app_factory).
        self.detection = TamperDetection(
            self, "TamperDetection", alert_emails=settings.audit.alert_emails,
            alert_event_bus_arns=settings.audit.alert_event_bus_arns, audit_admins=settings.audit_admins,
            # Mantle inference on any other project alerts (needs the Mantle data events this trail selects).
            approved_mantle_project_arns=[self.mantle_project.project_arn] if self.mantle_project else [])
        if not settings.audit.create_trail:
            suppress_stack_rule(self, "Bedrock-DetectionDataEventsSelected",
                                "audit.create_trail is false: this account's multi-region trail is created outside "
                                "this stack (by the environment of this configuration that owns the account's trail, "
                                "whose trail selects AWS::Bedrock::Model data events, or by the organization trail), "
                                "and the bearer-token detection depends on that trail's Bedrock data events")
        governance = settings.object_lock.governance_acceptance
        if settings.object_lock.mode == "GOVERNANCE" and governance is not None:
            for owner in (self.audit_trail, self.invocation_logging):
                if owner is not None:
                    accept_risk(owner.bucket.bucket, "Bedrock-AuditObjectLockCompliance", governance.acceptance(),
                                what=f"GOVERNANCE Object Lock on {owner.bucket.bucket.node.path}")

    @property
    def availability_zones(self) -> list[str]:
        """Zones from config: synth never looks them up, so it runs offline and without credentials."""
        return self.settings.availability_zones

    def _network(self) -> ec2.IVpc:
        vpc = self.settings.vpc
        if vpc.existing:
            return ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=vpc.vpc_id,
                vpc_cidr_block=vpc.cidr,
                availability_zones=list(vpc.availability_zones or []),
                isolated_subnet_ids=list(vpc.subnet_ids or []),
            )
        self.log_key = retained_key(self, "LogKey", description=f"CloudWatch Logs of {self.settings.name}: VPC flow logs")
        allow_cloudwatch_logs(self.log_key, self)
        protect_audit_key(self.log_key, self.settings.audit_admins)
        network = IsolatedVpc(
            self,
            "Network",
            cidr=vpc.cidr,
            availability_zones=self.settings.availability_zones,
            log_key=self.log_key,
            flow_log_retention_days=self.settings.log_retention_days,
        )
        tag_audit(network.flow_log_group)
        return network.vpc
