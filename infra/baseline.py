"""The per-account Bedrock baseline, rolled out by a service-managed CloudFormation StackSet.

Every account below the organization's target OUs gets, in every approved region, the controls that
are per account and region: the account-level enforced guardrail and model invocation logging (F12:
a region without logging is a region where ordinary users invoke without a content record). The
StackSet's auto-deployment adds accounts that join the OUs later; CloudFormation does the fan-out
(no loop of ours, no credentials for member accounts).

Why ``AWS::CloudFormation::StackSet`` with a ``TemplateBody`` rather than ``cdk-stacksets``:
the baseline template is synthesized here from an env-agnostic stack that has **no assets** (the
invocation-logging function's code is inline ``ZipFile``), so the body is self-contained: no asset
bucket that every member account must read, no publishing step, and synth stays offline.
``cdk-stacksets`` (cdklabs, 0.0.x) exists to publish assets to per-region buckets for member
accounts: machinery this baseline does not need. The body is checked against CloudFormation's
51,200-byte ``TemplateBody`` limit at synth (past it a ``TemplateURL`` and an asset would be needed).

**Replicas** (``baseline.replica_regions``, AU-9(2), CP-9): a second service-managed StackSet,
``CompliantBedrock-baseline-replica`` (:class:`BaselineReplicaStack`), deploys first, to the same accounts, in
the replica regions only. Its one template holds a replica bucket and key per source region, each under a
condition on ``AWS::Region`` (the source's replica region), so an instance creates the replicas of exactly the
regions that replicate into it. Names are fixed by convention (:func:`replica_bucket_name`,
:func:`replica_key_alias`, :func:`replication_role_name`), so the env-agnostic baseline template names its
region's replica with ``Fn::Sub`` and a ``Mappings`` table (source region -> replica region), without
cross-region references.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Aws, CfnCondition, CfnResource, Fn, Stack, Tags
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from compliant_bedrock.audit_bucket import AuditBucket
from compliant_bedrock.audit_trail import declare_trail_coverage
from compliant_bedrock.compliance import attach_packs, judge, suppress_stack_rule
from compliant_bedrock.detection import TamperDetection
from compliant_bedrock.errors import ConstructPropsError
from compliant_bedrock.evidence.assembly import STACKSET_ASSEMBLIES, STACKSET_ASSEMBLY_METADATA
from compliant_bedrock.guardrail import BedrockGuardrail
from compliant_bedrock.guardrail_presets import federal_baseline
from compliant_bedrock.invocation_logging import ModelInvocationLogging
from compliant_bedrock.kms import AuditAdmins, protect_audit_key, retained_key
from compliant_bedrock.models import embedding_model_ids

#: CloudFormation quota for an inline template body.
TEMPLATE_BODY_MAX_BYTES = 51200
STACKSET_NAME = "CompliantBedrock-baseline"
#: The StackSet of the invocation-log replicas (``baseline.replica_regions``); it deploys before the baseline's.
REPLICA_STACKSET_NAME = "CompliantBedrock-baseline-replica"
#: The baseline template's table source region -> replica region (``Fn::FindInMap [ReplicaRegions, region, Replica]``).
REPLICA_MAPPING = "ReplicaRegions"
#: The trail the baseline's template names as its recorder (``Bedrock-TrailDataEventCoverage``).
ORGANIZATION_TRAIL = "organization trail of the management account (not created by compliant-bedrock)"
#: The organization of ``config/organization/organization.yaml`` (stack ``CompliantBedrock-organization``).
DEFAULT_ORGANIZATION = "organization"


def baseline_name(organization: str = DEFAULT_ORGANIZATION) -> str:
    """The name an organization's baseline carries in the evidence (``matrix-<name>``, ``perimeter-<name>``,
    its OSCAL environment) and in the cloud assembly (stack ``CompliantBedrock-<name>`` under
    ``cdk.out/stacksets/``): ``baseline`` for the default organization, ``baseline-<organization>`` for any
    other, so two organizations (one per partition) never share a baseline's evidence."""
    return "baseline" if organization == DEFAULT_ORGANIZATION else f"baseline-{organization}"


def baseline_assembly(outdir: str | Path, name: str) -> Path:
    """Where the baseline's own cloud assembly (template, pack reports) goes inside the app's ``outdir``:
    beside the app's stacks, never one of them (``cdk deploy --all`` cannot deploy it to the management
    account: it is no artifact of the app's manifest)."""
    return Path(outdir) / STACKSET_ASSEMBLIES / f"CompliantBedrock-{name}"


def replica_bucket_name(source_region: str) -> str:
    """``Fn::Sub`` text of the replica bucket of ``source_region``'s invocation logs in an account:
    ``cb-${AWS::AccountId}-baseline-<source region>-replica`` (at most 47 of S3's 63 characters; the organization's
    audit-plane SCP protects ``cb-*-replica``). ``source_region`` may be ``${AWS::Region}`` (the source's template)."""
    return f"cb-${{AWS::AccountId}}-baseline-{source_region}-replica"


def replica_key_alias(source_region: str) -> str:
    """The alias of the replica bucket's key, in the replica region: ``alias/compliant-bedrock/baseline/<source>-replica``."""
    return f"alias/compliant-bedrock/baseline/{source_region}-replica"


def replication_role_name(source_region: str) -> str:
    """The source instance's replication role, one per region (IAM names are per account):
    ``CompliantBedrock-baseline-<source region>-replication`` (the audit-plane SCP protects ``CompliantBedrock-*``
    roles: only the StackSet's execution role and break-glass create, re-trust or re-police it)."""
    return f"CompliantBedrock-baseline-{source_region}-replication"


class BaselineStack(Stack):
    """Env-agnostic: one template for every account and region the StackSet deploys to."""

    def __init__(self, scope: Construct, construct_id: str, *, pii_action: str, log_retention_days: int,
                 object_lock_days: int, block_classification_markings: bool, break_glass_role_name: str,
                 execution_role_name: str, partition: str | None = None, alert_emails: Sequence[str] = (),
                 alert_event_bus_arns: Sequence[str] = (), data_events_trail: str | None = None,
                 organization_trail: str | None = None, replica_regions: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, construct_id, description="compliant-bedrock per-account baseline (StackSet)",
                         synthesizer=cdk.LegacyStackSynthesizer())  # no bootstrap in member accounts
        Tags.of(self).add("ManagedBy", "compliant-bedrock")
        self.guardrail = BedrockGuardrail(
            self, "AccountGuardrail",
            name="compliant-bedrock-account",
            description="federal-baseline preset enforced on every call of this account and region",
            policy=federal_baseline(pii_action=pii_action,  # type: ignore[arg-type]
                                    block_classification_markings=block_classification_markings),
            enforce_account_level=True,
            # The organization's partition (the template is env-agnostic): its embedding models, whose calls would
            # fail under enforcement; None: those documented in every partition.
            enforcement_excluded_models=embedding_model_ids(partition) if partition else (),
        )
        # StackSets deploy as ``stacksets-exec-<suffix>`` in each member account: that role, by its exact name
        # in the account the stack lands in, must keep updating the protected key and bucket policies (KMS
        # refuses a key policy its caller could not change). Never a pattern: anyone could create the name.
        admins = AuditAdmins(break_glass_role_name=break_glass_role_name, deploy_role_name=execution_role_name)
        self.invocation_logging = ModelInvocationLogging(
            self, "InvocationLogging", log_retention_days=log_retention_days, object_lock_days=object_lock_days,
            audit_admins=admins,
            **self._replication(replica_regions or {}),
        )
        # Tamper and bypass calls no account policy can deny are detected per account and region, too, and
        # reach the security account (a StackSet has no per-account context: its event bus is the receiver).
        # The bearer-token rule sees CloudTrail data events only if a trail selects them: the baseline has no trail,
        # so it keeps that rule only where the organization declares the trail that does (data_events_trail).
        self.detection = TamperDetection(self, "TamperDetection", audit_admins=admins, alert_emails=alert_emails,
                                         alert_event_bus_arns=alert_event_bus_arns,
                                         data_event_rules=data_events_trail is not None)
        if data_events_trail is not None:
            suppress_stack_rule(self, "Bedrock-DetectionDataEventsSelected", data_events_trail)
        # No trail here: member accounts are recorded by the organization's trail, which this package does not
        # create (whether it selects these buckets' object events is the organization trail's cross-stack check).
        declare_trail_coverage(self, trail=organization_trail or ORGANIZATION_TRAIL, reason=(
            "Every member account the StackSet reaches is recorded by the organization trail of the management "
            "account, which must select Bedrock, Mantle and S3 object data events of the invocation-log buckets"))

    def _replication(self, replica_regions: Mapping[str, str]) -> dict[str, str]:
        """Where this region's invocation-log bucket replicates: the replica StackSet's bucket and key alias in the
        region ``replica_regions`` maps this one to (one template for every region: ``Fn::FindInMap`` on
        ``AWS::Region``, names by convention with ``Fn::Sub``). Empty: no replica."""
        if not replica_regions:
            return {}
        table = cdk.CfnMapping(self, REPLICA_MAPPING, mapping={
            source: {"Replica": replica} for source, replica in sorted(replica_regions.items())})
        here = "${AWS::Region}"
        return {
            "replication_destination_bucket_arn": Fn.sub(f"arn:${{AWS::Partition}}:s3:::{replica_bucket_name(here)}"),
            "replication_destination_key_arn": Fn.sub(
                f"arn:${{AWS::Partition}}:kms:${{Replica}}:${{AWS::AccountId}}:{replica_key_alias(here)}",
                {"Replica": table.find_in_map(Aws.REGION, "Replica")}),
            "replication_role_name": Fn.sub(replication_role_name(here)),
        }


class BaselineReplicaStack(Stack):
    """Env-agnostic, like the baseline: the replica buckets of every source region, each created only in its replica
    region (a condition on ``AWS::Region``), with the protections of an environment's replicas (``ReplicaStack``).

    Per source region: a retained, rotated key (alias :func:`replica_key_alias`), whose policy lets only the source's
    replication role (:func:`replication_role_name`, by ``aws:PrincipalArn``: the role does not exist yet) encrypt
    through S3 in this region, and which only break-glass and the StackSet's execution role may change; an
    ``AuditBucket`` (:func:`replica_bucket_name`) with Object Lock COMPLIANCE for ``object_lock_days``, versioning and
    SSE-KMS, written only by that role. Tamper detection alerts the baseline's receivers.
    """

    def __init__(self, scope: Construct, construct_id: str, *, replica_regions: Mapping[str, str],
                 object_lock_days: int, break_glass_role_name: str, execution_role_name: str,
                 alert_emails: Sequence[str] = (), alert_event_bus_arns: Sequence[str] = (),
                 data_events_trail: str | None = None) -> None:
        super().__init__(scope, construct_id, description="compliant-bedrock per-account baseline: invocation-log "
                         "replicas (StackSet)", synthesizer=cdk.LegacyStackSynthesizer())
        if not replica_regions:
            raise ConstructPropsError("baseline replica: replica_regions is empty; map each baseline region to its "
                                      "replica region")
        Tags.of(self).add("ManagedBy", "compliant-bedrock")
        admins = AuditAdmins(break_glass_role_name=break_glass_role_name, deploy_role_name=execution_role_name)
        self.buckets: dict[str, AuditBucket] = {}
        self.keys: dict[str, kms.Key] = {}
        for source, replica in sorted(replica_regions.items()):
            if source == replica:
                raise ConstructPropsError(f"baseline replica: {source!r} replicates to itself; name another region")
            group = Construct(self, f"Replica-{source}")
            role_arn = Fn.sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{replication_role_name(source)}")
            key = self.keys[source] = retained_key(
                group, "Key", description=f"Replica of the baseline's invocation logs of {source}",
                alias=replica_key_alias(source))
            key.add_to_resource_policy(iam.PolicyStatement(
                sid="AllowSourceReplicationRole", principals=[iam.AnyPrincipal()],
                actions=["kms:Encrypt", "kms:GenerateDataKey"], resources=["*"],
                conditions={"StringEquals": {"kms:CallerAccount": self.account,
                                             "kms:ViaService": f"s3.{self.region}.{self.url_suffix}",
                                             "aws:PrincipalArn": role_arn}},
            ))
            protect_audit_key(key, admins)
            self.buckets[source] = AuditBucket(
                group, "Bucket", key=key, bucket_name=Fn.sub(replica_bucket_name(source)),
                replica_of=f"the invocation-log bucket of the baseline StackSet's stack instance in {source}",
                object_lock_mode="COMPLIANCE", object_lock_days=object_lock_days, audit_admins=admins,
                # Only the source's replication role writes replicas (s3:ReplicateObject): no forged records.
                delivering_role_arns=[role_arn],
            )
            # Only in the replica region of this source: an instance holds the replicas of the regions mapped to it.
            here = CfnCondition(self, f"ReplicaOf{''.join(part.title() for part in source.split('-'))}",
                                expression=Fn.condition_equals(Aws.REGION, replica))
            for child in group.node.find_all():
                if isinstance(child, CfnResource):
                    child.cfn_options.condition = here
        # Tamper calls on the replicas' keys and buckets are recorded in the replica region: alarm there too.
        self.detection = TamperDetection(
            self, "TamperDetection", audit_admins=admins, alert_emails=alert_emails,
            alert_event_bus_arns=alert_event_bus_arns, data_event_rules=data_events_trail is not None)
        if data_events_trail is not None:
            suppress_stack_rule(self, "Bedrock-DetectionDataEventsSelected", data_events_trail)


def replica_template(context: dict[str, Any], *, assembly: Path | None = None, name: str = "baseline-replica",
                     **props: Any) -> dict[str, Any]:
    """:class:`BaselineReplicaStack`'s template, synthesized and gated like :func:`baseline_template`."""
    return baseline_template(context, assembly=assembly, name=name, stack_type=BaselineReplicaStack, **props)


def baseline_template(context: dict[str, Any], *, assembly: Path | None = None, name: str = "baseline",
                      stack_type: type[Stack] = BaselineStack, **props: Any) -> dict[str, Any]:
    """Synthesize the baseline in an App of its own (never deployed by ``cdk deploy``) and return its template.

    ``assembly``: keep that App's cloud assembly there (the template and its pack reports, for the evidence
    and the perimeter proof; :func:`baseline_assembly`), replacing what an earlier synth left; default: a
    temporary directory. ``name``: :func:`baseline_name`; the stack is ``CompliantBedrock-<name>``.
    """
    key = json.dumps([context, name, f"{stack_type.__module__}.{stack_type.__qualname__}", props], sort_keys=True,
                     default=repr)
    if assembly is not None:
        shutil.rmtree(assembly, ignore_errors=True)  # no report of an earlier synth may pass for this one
        assembly.mkdir(parents=True)
    kept = _SYNTHESIZED.get(key)
    if kept is not None:  # the same inputs synthesize the same files: a process builds each baseline once
        template, files = kept
        for relative, content in files.items() if assembly is not None else ():
            (assembly / relative).parent.mkdir(parents=True, exist_ok=True)
            (assembly / relative).write_bytes(content)
        return json.loads(template)
    with tempfile.TemporaryDirectory(prefix="cb-baseline-") as scratch:
        outdir = assembly if assembly is not None else Path(scratch)
        template = _synthesize(context, outdir, name, stack_type, props)
        files = {str(p.relative_to(outdir)): p.read_bytes() for p in outdir.rglob("*") if p.is_file()}
    _SYNTHESIZED[key] = (json.dumps(template), files)
    return template


#: Inputs -> (template, the kept assembly's files) of every baseline this process synthesized: an app built twice in
#: one process (the tests build the reference app in several modules) pays for each nested synth and gate once.
_SYNTHESIZED: dict[str, tuple[str, dict[str, bytes]]] = {}


def _synthesize(context: dict[str, Any], outdir: Path, name: str, stack_type: type[Stack],
                props: dict[str, Any]) -> dict[str, Any]:
    # Neither construct paths nor version reporting in a TemplateBody (the CLI asks every App of its process for
    # them): the kept assembly's manifest names the paths, and the body stays the same, and as small, under the
    # CLI as under the tests that measure it against TEMPLATE_BODY_MAX_BYTES.
    app = cdk.App(context=context, outdir=str(outdir),
                  post_cli_context={"aws:cdk:enable-path-metadata": False, "aws:cdk:version-reporting": False})
    stack = stack_type(app, f"CompliantBedrock-{name}", **props)
    attach_packs(stack)
    assembly = app.synth()
    # The same gate as every deployed stack: a baseline no `make synth` judges would be unreviewed.
    errors = judge(outdir, {})
    if errors:
        raise ConstructPropsError(f"{name}: the StackSet template fails the compliance gate:\n"
                                  + "\n".join(f"  {e.line()}" for e in errors))
    artifact = assembly.get_stack_by_name(stack.stack_name)
    if artifact.assets:
        raise ConstructPropsError(f"{name}: the StackSet template needs assets ({len(artifact.assets)}), which a "
                                  "TemplateBody cannot carry; keep every construct of the baseline asset-free")
    return dict(artifact.template)


def baseline_stack_set(scope: Construct, construct_id: str, *, template: dict[str, Any], target_ous: Sequence[str],
                       regions: Sequence[str], accounts: Sequence[str], assembly: str | None = None,
                       stack_set_name: str = STACKSET_NAME,
                       description: str = "compliant-bedrock per-account baseline: enforced guardrail and invocation "
                                          "logging per region") -> cloudformation.CfnStackSet:
    """A service-managed StackSet to the ``accounts`` below ``target_ous`` (INTERSECTION) in ``regions``.

    Only the listed accounts: their StackSets execution role is what the organization's policies exempt,
    by exact ARN, and no environment account is among them (it configures its own per-region singletons,
    one enforced guardrail and one invocation-logging configuration per account and region). One
    account's or region's failure does not stop the others (failure tolerance per region, in parallel).
    ``assembly``: where, relative to the app's cloud assembly, the template's own assembly (its pack
    reports) was kept; recorded in the resource's metadata, where the evidence and the perimeter proof find it.
    """
    body = json.dumps(template, separators=(",", ":"), sort_keys=True)
    size = len(body.encode("utf-8"))
    if size > TEMPLATE_BODY_MAX_BYTES:
        raise ConstructPropsError(f"baseline: the template body is {size} bytes, over CloudFormation's {TEMPLATE_BODY_MAX_BYTES}; "
                         "trim the baseline (e.g. fewer guardrail words/regexes) or publish it with a TemplateURL")
    if not target_ous:
        raise ConstructPropsError("baseline: target_ous is empty; a service-managed StackSet deploys to OUs (or the root)")
    if not accounts:
        raise ConstructPropsError("baseline: accounts is empty; name the member accounts (their execution role is "
                                  "exempted by exact ARN)")
    stack_set = cloudformation.CfnStackSet(
        scope, construct_id,
        stack_set_name=stack_set_name,
        description=description,
        permission_model="SERVICE_MANAGED",
        auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
            enabled=True, retain_stacks_on_account_removal=True),
        # The delegated administrator calls it as DELEGATED_ADMIN; from the management account, SELF.
        call_as="SELF",
        capabilities=["CAPABILITY_IAM"],
        managed_execution={"Active": True},
        operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
            failure_tolerance_percentage=100, max_concurrent_percentage=100, region_concurrency_type="PARALLEL"),
        stack_instances_group=[cloudformation.CfnStackSet.StackInstancesProperty(
            deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                organizational_unit_ids=list(target_ous), accounts=list(accounts),
                account_filter_type="INTERSECTION"),
            regions=list(regions),
        )],
        template_body=body,
    )
    if assembly is not None:
        stack_set.add_metadata(STACKSET_ASSEMBLY_METADATA, assembly)
    return stack_set
