"""The organization stack: the management account's SCPs, RCPs and org-wide guardrail.

Deployed once, from the management account (or a delegated administrator for the policy types), in
``home_region``: the Bedrock policy enforces a guardrail of the management account *in that region*,
so enforcing it in another region needs another guardrail there (a second organization config and
stack per region; the SCPs and RCPs are global and belong to one stack only).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Stack, Tags
from constructs import Construct

from compliant_bedrock.audit_trail import AuditTrail
from compliant_bedrock.compliance import suppress_stack_rule
from compliant_bedrock.compliance.perimeter.discovery import ORGANIZATION_METADATA
from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.developer_access import CodexPermissionSet, codex_policy_name
from compliant_bedrock.guardrail import BedrockGuardrail
from compliant_bedrock.guardrail_presets import federal_baseline
from compliant_bedrock.kms import AuditAdmins
from compliant_bedrock.organization import BedrockOrganizationGuardrails
from compliant_bedrock.partitions import partition_has_mantle, support

from .app_factory import cdk_json_context
from .baseline import (
    REPLICA_STACKSET_NAME,
    STACKSET_NAME,
    baseline_assembly,
    baseline_name,
    baseline_stack_set,
    baseline_template,
    replica_template,
)
from .config import partition_of
from .org_config import OrganizationSettings


class OrganizationStack(Stack):
    """``CompliantBedrock-organization[-<name>]``: policies for every account below the configured targets."""

    def __init__(self, scope: Construct, construct_id: str | None = None, *,
                 settings: OrganizationSettings) -> None:
        super().__init__(
            scope, construct_id or settings.stack_name,
            env={"account": settings.management_account, "region": settings.home_region},
            description=f"compliant-bedrock organization policies ({settings.organization_id}, {settings.home_region})",
            termination_protection=True,
        )
        self.settings = settings
        Tags.of(self).add("ManagedBy", "compliant-bedrock")
        # Which environments these policies bind, for the perimeter proof (a GovCloud environment of the
        # same app is in another organization and must not be judged under these policies).
        self.template_options.metadata = {ORGANIZATION_METADATA: {
            "organization_id": settings.organization_id,
            "partition": partition_of(settings.home_region),
            "covers_environments": list(settings.covers_environments),
            # The recorded endpoint ids the SCP admits: the proof names each environment's endpoints so.
            "endpoint_ids": settings.endpoint_ids(),
        }}
        self.guardrail: BedrockGuardrail | None = None
        if settings.guardrail.enforce:
            self.guardrail = BedrockGuardrail(
                self, "OrganizationGuardrail",
                name="compliant-bedrock-organization",
                description="federal-baseline preset enforced organization-wide (compliant-bedrock)",
                policy=federal_baseline(
                    pii_action=settings.guardrail.pii_action,
                    block_classification_markings=not str(partition_of(settings.home_region)).startswith("aws-iso"),
                ),
                # The Bedrock policy enforces this guardrail organization-wide and its resource policy admits
                # the organization; a guardrail has one resource policy, so no account-level one besides it.
                enforce_account_level=False,
            )
        self.policies = BedrockOrganizationGuardrails(
            self, "Policies",
            organization_id=settings.organization_id,
            target_ids=settings.targets,
            approved_regions=settings.approved_regions,
            endpoint_condition=settings.endpoint_condition(),
            guardrail=self.guardrail,
            # Exact ARNs per account (docs/organization.md: the exemption model): break-glass, the CDK
            # execution and deploy roles of each covered environment, the StackSet's execution role in each
            # baseline account, the pipeline, and the Mantle roles of the accepting environment's account.
            **settings.exempt_roles(),
            approved_endpoint_arns=settings.approved_endpoint_arns(),
            cross_region_profile_prefixes=settings.cross_region_profiles,
            guardrail_excluded_models=settings.guardrail.excluded_models,
            guardrail_enforce_embedding_models_reason=settings.guardrail.enforce_embedding_models_reason,
            legacy_input_tags=settings.guardrail.legacy_input_tags,
            other_scps_per_target=settings.attached_per_target.scp,
            other_rcps_per_target=settings.attached_per_target.rcp,
            resource_control_policies=settings.rcp.enabled,
        )
        # What the partition does not offer is turned off in config with its reason, and the finding says so.
        if not settings.rcp.enabled:
            suppress_stack_rule(self, "Bedrock-OrgRcpAuditResources",
                                f"No RCP in this organization: {settings.rcp.disabled_reason} (RCPs in "
                                f"{settings.partition}: {support('resource_control_policies', settings.partition).source})")
        if not settings.guardrail.enforce:
            suppress_stack_rule(self, "Bedrock-OrgGuardrailPolicy",
                                f"No BEDROCK_POLICY in this organization: {settings.guardrail.not_enforced_reason} "
                                f"(BEDROCK_POLICY in {settings.partition}: "
                                f"{support('bedrock_policy', settings.partition).source})")
        # Codex developers of the covered environments: permission sets live where Identity Center is administered
        # (this account), each referencing its environment's Codex policy by name (docs/codex.md).
        self.permission_sets = [
            CodexPermissionSet(self, f"CodexPermissionSet-{env.name}",
                               instance_arn=env.developers.identity_center_instance_arn,
                               name=env.developers.permission_set_name,
                               session_duration=env.developers.session_duration,
                               codex_policy_name=codex_policy_name(env.name))
            for env in settings.developer_environments()]
        self.trail: AuditTrail | None = None
        if settings.trail.enabled:
            # Every account of the organization, every region, with Bedrock and Mantle data events (denied attempts
            # included): member accounts can neither stop nor change an organization trail; the management account
            # is outside every SCP, so its key and bucket policies name the only two roles that may change them.
            admins = AuditAdmins(
                break_glass_role_name=settings.roles.break_glass,
                deploy_role_name=(f"cdk-{settings.roles.bootstrap_qualifier}-cfn-exec-role-"
                                  f"{settings.management_account}-{settings.home_region}"))
            self.trail = AuditTrail(
                self, "OrganizationTrail", trail_name="compliant-bedrock-organization",
                organization_id=settings.organization_id,
                log_retention_days=settings.trail.log_retention_days,
                object_lock_days=settings.trail.object_lock_days,
                log_readers=settings.trail.log_readers,
                mantle_data_events=partition_has_mantle(settings.partition),
                audit_admins=admins,
            )
            if settings.baseline.enabled:
                # The member baseline's invocation-log bucket holds prompts and completions: who read or deleted
                # them is recorded here (CloudFormation names a StackSet instance's buckets
                # stackset-<stackset name>-<uuid>-..., lower-case; the baseline creates no other trail).
                self.trail.add_object_event_prefixes(f"arn:{settings.partition}:s3:::stackset-{STACKSET_NAME.lower()}-")
                # ... and their replicas (named cb-<account>-baseline-<source region>-replica), account by account.
                if settings.baseline.replica_regions:
                    self.trail.add_object_event_prefixes(*(f"arn:{settings.partition}:s3:::cb-{account}-baseline-"
                                                           for account in settings.baseline.accounts))
            # No SCP binds the management account: stopping or changing its trail is detected instead.
            self.detection = TamperDetection(self, "TamperDetection", audit_admins=admins,
                                             alert_emails=settings.trail.alert_emails,
                                             alert_event_bus_arns=settings.trail.alert_event_bus_arns)
        if settings.verification is not None and settings.verify is not None and settings.verify.role_arn:
            # The weekly verification reads this account's stack and the policies attached to each target.
            from .verification_stack import add_read_role

            add_read_role(self, settings, settings.verify.role_arn, organization=True)
        self.baseline = None
        self.baseline_replica = None
        if settings.baseline.enabled:
            # Its own assembly beside the app's (never an artifact of it): evidence and proof read it there.
            name = baseline_name(settings.name)
            outdir = Path(cdk.Stage.of(self).outdir)  # type: ignore[union-attr]
            assembly = baseline_assembly(outdir, name)
            data_events_trail = (
                f"The organization trail compliant-bedrock-organization of management account "
                f"{settings.management_account} (stack {settings.stack_name}) records every member account's "
                "Bedrock and Mantle data events and these buckets' object events"
                if settings.trail.enabled else settings.baseline.data_events_trail)
            if settings.baseline.replica_regions:
                self.baseline_replica = self._replica_stack_set(settings, outdir, f"{name}-replica", data_events_trail)
            template = baseline_template(
                cdk_json_context(),  # the same feature flags as every other stack
                assembly=assembly, name=name,
                pii_action=settings.guardrail.pii_action,
                log_retention_days=settings.baseline.log_retention_days,
                object_lock_days=settings.baseline.object_lock_days,
                block_classification_markings=not str(partition_of(settings.home_region)).startswith("aws-iso"),
                break_glass_role_name=settings.roles.break_glass,
                execution_role_name=str(settings.baseline.execution_role),
                partition=str(partition_of(settings.home_region)),
                alert_emails=settings.baseline.alert_emails,
                alert_event_bus_arns=settings.baseline.alert_event_bus_arns,
                # the organization trail this stack creates records every member account's data events
                data_events_trail=data_events_trail,
                replica_regions=settings.baseline.replica_regions,
                organization_trail=(f"organization trail compliant-bedrock-organization (management account "
                                    f"{settings.management_account}, {settings.home_region})"
                                    if settings.trail.enabled else None),
            )
            self.baseline = baseline_stack_set(self, "BaselineStackSet", template=template,
                                               target_ous=settings.baseline_target_ous,
                                               regions=settings.baseline_regions,
                                               accounts=settings.baseline.accounts,
                                               assembly=assembly.relative_to(outdir).as_posix())
            if self.baseline_replica is not None:
                # The replicas exist before any source replicates into them (S3 checks the destination on
                # PutBucketReplication): the baseline's StackSet waits for the replicas' StackSet.
                self.baseline.add_resource_dependency(self.baseline_replica)

    def _replica_stack_set(self, settings: OrganizationSettings, outdir: Path, name: str,
                           data_events_trail: str | None):
        """The baseline's invocation-log replicas: a StackSet to the same accounts, in the replica regions only."""
        assembly = baseline_assembly(outdir, name)
        template = replica_template(
            cdk_json_context(), assembly=assembly, name=name,
            replica_regions=settings.baseline.replica_regions,
            object_lock_days=settings.baseline.object_lock_days,
            break_glass_role_name=settings.roles.break_glass,
            execution_role_name=str(settings.baseline.execution_role),
            alert_emails=settings.baseline.alert_emails,
            alert_event_bus_arns=settings.baseline.alert_event_bus_arns,
            data_events_trail=data_events_trail,
        )
        return baseline_stack_set(
            self, "BaselineReplicaStackSet", template=template, target_ous=settings.baseline_target_ous,
            regions=sorted(set(settings.baseline.replica_regions.values())), accounts=settings.baseline.accounts,
            assembly=assembly.relative_to(outdir).as_posix(), stack_set_name=REPLICA_STACKSET_NAME,
            description="compliant-bedrock per-account baseline: Object-Locked replicas of the invocation logs of "
                        "every baseline region, in its replica region")
