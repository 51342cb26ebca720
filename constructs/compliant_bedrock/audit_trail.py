"""A multi-region CloudTrail trail with Bedrock data events, delivered where nobody can erase it.

``AuditTrail`` is built from ``CfnTrail`` rather than the L2 ``aws_cloudtrail.Trail``: the L2 has no
prop for advanced event selectors, writes its own bucket policy and creates its CloudWatch Logs role
with an inline policy (IAMNoInlinePolicy). Here every policy is written out and scoped to this trail:

* the trail has an explicit name, so its ARN (``trail/<name>``) is known at synth and every grant to
  ``cloudtrail.amazonaws.com`` is conditioned on ``aws:SourceArn`` = that ARN (confused deputy);
* log files go to an ``AuditBucket`` (Object Lock, versioning, SSE-KMS, access logging, retained);
* a dedicated CMK (rotated, retained) encrypts log files and the CloudWatch log group; its policy
  lets CloudTrail generate data keys only for this account's trails and this trail as source, and
  lets only the named log readers decrypt (the account root keeps CDK's default administration);
* events also go to an encrypted CloudWatch log group with explicit retention, through a role whose
  managed policy is scoped to that log group (AU-6 review and alarms);
* advanced event selectors record all management events (InvokeModel/Converse are management events)
  and one data-event selector per Bedrock resource type (ApplyGuardrail, InvokeAgent, Retrieve,
  InvokeFlow, async invoke ... are data events). A trail cannot mix basic and advanced selectors;
* bedrock-mantle data events (CreateInference ...) are selected wherever the partition has Mantle, whether
  or not the account uses it: a denied call is evidence too, and an unused type costs nothing;
* S3 object-level events (``AWS::S3::Object``, reads and deletes included) of the buckets named in
  ``object_event_buckets``: the invocation-log bucket holds prompts and completions, and who read or
  deleted them is otherwise only in best-effort S3 server access logs. Never the trail's own bucket.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .arns import stack_partition
from .audit_bucket import DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_OBJECT_LOCK_DAYS, AuditBucket, ObjectLockMode
from .compliance.rules.audit import MANTLE_PARTITIONS, S3_OBJECT_TYPE, TRAIL_COVERAGE_METADATA
from .errors import ConstructPropsError
from .grants import grant_records_read
from .kms import AuditAdmins, allow_cloudwatch_logs, protect_audit_key, retained_key, tag_audit
from .log_groups import encrypted_log_group

#: Outside the commercial partition CloudTrail rejects a type whose feature the partition lacks
#: (InvalidEventSelectorsException), and newer Bedrock features reach GovCloud and ISO late: there
#: only the core invocation, guardrail, agent and knowledge-base types are selected by default.
CORE_BEDROCK_DATA_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::Model",
    "AWS::Bedrock::AsyncInvoke",
    "AWS::Bedrock::AgentAlias",
    "AWS::Bedrock::InlineAgent",
    "AWS::Bedrock::KnowledgeBase",
)


#: CloudTrail data-event resource types of Amazon Bedrock (CloudTrail user guide, "Logging data events").
#: Override with ``bedrock_data_resource_types`` where a partition or region lacks one of them.
BEDROCK_DATA_RESOURCE_TYPES: tuple[str, ...] = (
    *CORE_BEDROCK_DATA_RESOURCE_TYPES,
    "AWS::Bedrock::FlowAlias",
    "AWS::Bedrock::FlowExecution",
    "AWS::Bedrock::PromptVersion",
    "AWS::Bedrock::Session",
    "AWS::Bedrock::Tool",
    "AWS::Bedrock::AutomatedReasoningPolicy",
    "AWS::Bedrock::AutomatedReasoningPolicyVersion",
    "AWS::Bedrock::DataAutomationProject",
    "AWS::Bedrock::DataAutomationInvocation",
    "AWS::Bedrock::DataAutomationProfile",
    "AWS::Bedrock::Blueprint",
)

#: CloudTrail data-event types of bedrock-mantle: inference (CreateInference, Get/Cancel/DeleteInference,
#: CountTokens) and files are data events on the project; Mantle inference is nowhere else recorded (model
#: invocation logging sees bedrock-runtime only). Source: AWS's Mantle CloudTrail page's selector example,
#: https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html
MANTLE_DATA_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::BedrockMantle::Project",
    "AWS::BedrockMantle::CustomizedModel",
    "AWS::BedrockMantle::Reservation",
)


def default_bedrock_data_resource_types(partition: str) -> tuple[str, ...]:
    """Every documented Bedrock data-event type in ``aws``; the core ones elsewhere."""
    return BEDROCK_DATA_RESOURCE_TYPES if partition == "aws" else CORE_BEDROCK_DATA_RESOURCE_TYPES


def default_mantle_data_events(partition: str) -> bool:
    """Select Mantle data events wherever the partition has bedrock-mantle (``MANTLE_PARTITIONS``: commercial
    regions and us-gov-west-1, ``models.MANTLE_REGIONS``), whether or not this account allows Mantle: a denied
    CreateInference is audit evidence too, and selecting an unused type costs nothing. Not in the ISO and China
    partitions, which have no Mantle endpoint (CloudTrail rejects a type whose feature the partition lacks), nor
    where the partition is only known at deployment."""
    return partition in MANTLE_PARTITIONS


#: CloudTrail quota: 500 values across all conditions of all advanced event selectors of a trail (not
#: adjustable; CloudTrail user guide, "Quotas in CloudTrail"; InvalidEventSelectorsException).
MAX_SELECTOR_VALUES = 500


#: Data-event types of Amazon Bedrock AgentCore, for callers that run agents there (not selected by default).
BEDROCK_AGENTCORE_DATA_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::BedrockAgentCore::Runtime",
    "AWS::BedrockAgentCore::RuntimeEndpoint",
    "AWS::BedrockAgentCore::Gateway",
    "AWS::BedrockAgentCore::Memory",
    "AWS::BedrockAgentCore::CodeInterpreter",
    "AWS::BedrockAgentCore::CodeInterpreterCustom",
    "AWS::BedrockAgentCore::Browser",
    "AWS::BedrockAgentCore::BrowserCustom",
    "AWS::BedrockAgentCore::WorkloadIdentity",
    "AWS::BedrockAgentCore::WorkloadIdentityDirectory",
    "AWS::BedrockAgentCore::TokenVault",
    "AWS::BedrockAgentCore::APIKeyCredentialProvider",
    "AWS::BedrockAgentCore::OAuth2CredentialProvider",
)

_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")


class AuditTrail(Construct):
    """A multi-region, validated, KMS-encrypted trail with Bedrock data events (AU-2, AU-3, AU-9, AU-12).

    :param trail_name: the trail's name (3-128 of ``A-Za-z0-9._-``); ``<stack name>-audit`` by default.
    :param log_retention_days: retention of the CloudWatch log group (a CloudWatch Logs value).
    :param log_readers: principals (or role/user ARNs) allowed to decrypt the trail's log files.
        The account root keeps key administration through CDK's default key policy.
    :param bedrock_data_resource_types: data-event resource types, one advanced selector each. Default: every
        documented Bedrock type in the ``aws`` partition, the core ones (model, guardrail, agents, knowledge
        bases, async invoke) in other partitions, where CloudTrail rejects the rest.
    :param object_lock_mode, object_lock_days, archive_after_days: see ``AuditBucket``.
    :param replication_destination_bucket_arn, replication_destination_key_arn, replication_role_name: see
        ``AuditBucket``.
    :param audit_admins: the break-glass and deploy roles, the only principals the key and bucket policies let
        disable, delete or re-police the trail's key and change the bucket (see ``AuditAdmins``,
        ``protect_audit_key``, ``AuditBucket``); ``None`` leaves them to IAM. Only ``cloudtrail.amazonaws.com``
        may write log files to the bucket.
    :param mantle_data_events: also select ``MANTLE_DATA_RESOURCE_TYPES`` (bedrock-mantle inference). Default:
        wherever the partition has Mantle (``default_mantle_data_events``), used or not; ``True`` wherever the
        account allows Mantle (``Bedrock-TrailMantleDataEvents`` fails a Mantle stack without).
    :param object_event_buckets: buckets whose S3 object-level events (reads, writes, deletes) the trail records,
        in one selector ``resources.ARN StartsWith <bucket ARN>/``: the invocation-log bucket (prompts and
        completions; ``Bedrock-TrailDataEventCoverage`` requires it). More with ``add_object_event_buckets``.
        Never the trail's own bucket or its access-log bucket (each delivery would be an event to deliver):
        refused with ``ConstructPropsError``.
    :param organization_id: make it the organization's trail (``o-...``): created in the management account (or
        a delegated administrator's), it records every account of the organization, whose members can neither
        stop nor change it; log files land under ``AWSLogs/<organization id>/<account>/`` as well. Needs
        CloudTrail's trusted access in AWS Organizations (docs/organization.md, "Organizations in two partitions").

    The trail itself is retained when the stack is deleted or the resource replaced (DeletionPolicy and
    UpdateReplacePolicy Retain): deleting the stack must not switch the account's audit off (AU-9, AU-12).
    Stopping or changing the trail through the CloudTrail API is not preventable from this account's own
    policies: ``TamperDetection`` alarms on it and the organization's SCPs deny it.

    Attributes: ``key``, ``bucket`` (``AuditBucket``), ``log_group``, ``log_role``, ``log_policy``,
    ``trail`` (``CfnTrail``), ``trail_name``, ``trail_arn``, ``object_event_buckets``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        trail_name: str | None = None,
        log_retention_days: int = 365,
        log_readers: Sequence[iam.IPrincipal | str] = (),
        bedrock_data_resource_types: Sequence[str] | None = None,
        object_lock_mode: ObjectLockMode = "COMPLIANCE",
        object_lock_days: int = DEFAULT_OBJECT_LOCK_DAYS,
        archive_after_days: int = DEFAULT_ARCHIVE_AFTER_DAYS,
        replication_destination_bucket_arn: str | None = None,
        replication_destination_key_arn: str | None = None,
        replication_role_name: str | None = None,
        audit_admins: AuditAdmins | None = AuditAdmins(),  # noqa: B008 (frozen, immutable)
        mantle_data_events: bool | None = None,
        object_event_buckets: Sequence[s3.IBucket] = (),
        organization_id: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # the stack's partition, or its region's (an app without cdk.json's partition-literal flag): where Mantle
        # exists its data events are selected whether or not the account uses it
        partition = stack_partition(stack) or "unknown"
        if organization_id is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", organization_id):
            raise ConstructPropsError(f"AuditTrail {construct_id!r}: organization_id {organization_id!r} is not an "
                                      "organization id (o- and 10-32 lowercase letters or digits)")
        self.organization_id = organization_id
        if bedrock_data_resource_types is None:
            # Every documented type in aws; the core ones elsewhere, where CloudTrail rejects the others (a failed
            # deploy). A partition only deployment knows gets the core set, which every partition accepts.
            bedrock_data_resource_types = default_bedrock_data_resource_types(partition)
        if mantle_data_events is None:
            mantle_data_events = default_mantle_data_events(partition)
        if mantle_data_events:  # Mantle inference is a data event; without these selectors it is not recorded
            bedrock_data_resource_types = [*bedrock_data_resource_types, *MANTLE_DATA_RESOURCE_TYPES]
        self.trail_name = trail_name or f"{stack.stack_name}-audit"
        if not Token.is_unresolved(self.trail_name) and not _TRAIL_NAME.match(self.trail_name):
            raise ConstructPropsError(f"AuditTrail {construct_id!r}: trail_name {self.trail_name!r} must be 3-128 characters "
                             "of letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
        types = list(dict.fromkeys(bedrock_data_resource_types))
        bad = [t for t in types if not _RESOURCE_TYPE.match(t)]
        if bad:
            raise ConstructPropsError(f"AuditTrail {construct_id!r}: bedrock_data_resource_types {bad!r} are not CloudTrail "
                             "resource types (AWS::<Service>::<Type>, e.g. AWS::Bedrock::Model)")
        self.trail_arn = stack.format_arn(service="cloudtrail", resource="trail", resource_name=self.trail_name,
                                          arn_format=ArnFormat.SLASH_RESOURCE_NAME)
        self._types = types
        self._where = f"AuditTrail {construct_id!r}"
        #: Buckets whose S3 object-level events the trail records (``add_object_event_buckets``).
        self.object_event_buckets: list[s3.IBucket] = []
        #: ARN prefixes of conventionally named buckets elsewhere (``add_object_event_prefixes``).
        self.object_event_prefixes: list[str] = []

        self.key = retained_key(self, "Key", description=f"CloudTrail trail {self.trail_name}: log files and log group")
        self._key_policy(stack, [p if not isinstance(p, str) else iam.ArnPrincipal(p) for p in log_readers])
        allow_cloudwatch_logs(self.key, self)
        if audit_admins is not None:
            protect_audit_key(self.key, audit_admins)

        self.bucket = AuditBucket(
            self, "Bucket", key=self.key, object_lock_mode=object_lock_mode, object_lock_days=object_lock_days,
            archive_after_days=archive_after_days,
            replication_destination_bucket_arn=replication_destination_bucket_arn,
            replication_destination_key_arn=replication_destination_key_arn,
            replication_role_name=replication_role_name, audit_admins=audit_admins,
            delivering_services=["cloudtrail.amazonaws.com"],
        )
        self._bucket_policy(stack)

        self.log_group = encrypted_log_group(self, "LogGroup", key=self.key, retention_days=log_retention_days)
        tag_audit(self.log_group)
        # Managed, not inline (IAMNoInlinePolicy); the GetAtt ARN of a log group ends in ":*", i.e. its streams.
        self.log_policy = iam.ManagedPolicy(
            self,
            "LogDelivery",
            description=f"Lets CloudTrail trail {self.trail_name} write to its own log group only.",
            statements=[
                iam.PolicyStatement(
                    sid="DeliverTrailEvents",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                )
            ],
        )
        # CloudTrail sends no aws:SourceArn/SourceAccount when it assumes this role (CloudTrail user guide).
        self.log_role = iam.Role(
            self,
            "LogRole",
            assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com"),
            managed_policies=[self.log_policy],
            description=f"CloudTrail trail {self.trail_name} delivery to CloudWatch Logs",
        )

        self.trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=self.trail_name,
            is_logging=True,
            is_multi_region_trail=True,
            is_organization_trail=True if organization_id is not None else None,
            include_global_service_events=True,
            enable_log_file_validation=True,
            s3_bucket_name=self.bucket.bucket_name,
            kms_key_id=self.key.key_arn,
            cloud_watch_logs_log_group_arn=self.log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.log_role.role_arn,
            advanced_event_selectors=advanced_event_selectors(types),
        )
        self.add_object_event_buckets(*object_event_buckets)
        # Deleting the stack (or replacing the resource) must not turn the account's audit trail off, and the
        # retained trail must keep delivering: its bucket policy and CloudWatch Logs role stay with it.
        self.trail.apply_removal_policy(RemovalPolicy.RETAIN)
        for resource in (self.log_role, self.log_policy):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)
        # CloudTrail checks bucket policy and role permissions when the trail is created.
        self.trail.node.add_dependency(self.bucket.bucket.policy, self.log_policy)

    def add_object_event_buckets(self, *buckets: s3.IBucket) -> None:
        """Record S3 object-level events (reads, writes, deletes) of ``buckets`` too, e.g. the invocation-log bucket.

        Refuses the trail's own bucket and its access-log bucket: CloudTrail writes each log file there as an S3
        object (and S3 logs that write to the access-log bucket), which would be an event to record and deliver
        again, without end. Refuses a selection past CloudTrail's 500 condition values per trail.
        """
        own = (self.bucket.bucket, self.bucket.access_logs_bucket)
        for bucket in buckets:
            if any(_same_bucket(bucket, mine) for mine in own):
                raise ConstructPropsError(
                    f"{self._where}: object_event_buckets: {bucket.node.path!r} is the trail's own bucket or its "
                    "access-log bucket; every log file CloudTrail delivers there is an S3 object event the trail "
                    "would record and deliver again, without end. Name only buckets other writers fill (the "
                    "invocation-log bucket, ModelInvocationLogging.bucket.bucket)")
            if not any(_same_bucket(bucket, chosen) for chosen in self.object_event_buckets):
                self.object_event_buckets.append(bucket)
        self._select_objects()

    def add_object_event_prefixes(self, *prefixes: str) -> None:
        """Record S3 object-level events under ARN prefixes of buckets named by convention in other accounts
        (an organization trail: ``arn:<partition>:s3:::stackset-compliantbedrock-baseline-``, the member baseline's
        buckets as CloudFormation names them). A prefix that could match this stack's own buckets (CloudFormation
        names them after the stack, lower-case) is refused for the same reason as ``add_object_event_buckets``."""
        stack = Stack.of(self)
        own = f"{stack.stack_name.lower()}-"
        for prefix in prefixes:
            name = prefix.split(":::", 1)[1] if prefix.startswith("arn:") and ":::" in prefix else ""
            if not re.fullmatch(r"arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{2,}", prefix) or own.startswith(name) \
                    or name.startswith(own):
                raise ConstructPropsError(
                    f"{self._where}: object event prefix {prefix!r}: give arn:<partition>:s3:::<bucket name prefix> of "
                    f"at least 3 characters that cannot name this stack's own buckets ({own}...)")
            if prefix not in self.object_event_prefixes:
                self.object_event_prefixes.append(prefix)
        self._select_objects()

    def _select_objects(self) -> None:
        prefixes = [b.arn_for_objects("") for b in self.object_event_buckets] + list(self.object_event_prefixes)
        selectors = advanced_event_selectors(self._types, object_arn_prefixes=prefixes)
        values = selector_value_count(selectors)
        if values > MAX_SELECTOR_VALUES:
            raise ConstructPropsError(
                f"{self._where}: bedrock_data_resource_types and object_event_buckets need {values} condition values, "
                f"over CloudTrail's {MAX_SELECTOR_VALUES} per trail (not adjustable); select fewer types or buckets")
        self.trail.advanced_event_selectors = selectors

    def grant_read(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Read the audit trail's records (auditors, a SIEM): the audit bucket's objects (decrypted through S3)
        and the log group's events, in one managed policy of this construct attached to the grantee's
        role, user or group. Nothing in it writes, deletes or changes retention."""
        return grant_records_read(self, grantee, self.bucket, self.log_group, "audit trail")

    def _key_policy(self, stack: Stack, readers: list[iam.IPrincipal]) -> None:
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogFiles",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": stack.format_arn(
                            service="cloudtrail", region="*", resource="trail", resource_name="*",
                            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceArn": self.trail_arn},
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
            )
        )
        if readers:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowNamedReadersToDecryptTrailLogFiles",
                    principals=readers,
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}},
                )
            )

    def _bucket_policy(self, stack: Stack) -> None:
        bucket = self.bucket.bucket
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailAclCheck",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailWrite",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                # an organization trail also writes every member account's files under the organization's id
                resources=[bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")]
                + ([bucket.arn_for_objects(f"AWSLogs/{self.organization_id}/*")] if self.organization_id else []),
                conditions={
                    "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": self.trail_arn}
                },
            )
        )


def _same_bucket(one: s3.IBucket, other: s3.IBucket) -> bool:
    """The same bucket: the same construct, or the same name (an import of it) once resolved in one stack."""
    if one is other or one.node.path == other.node.path:
        return True
    stack = Stack.of(other)
    try:
        return bool(stack.resolve(one.bucket_name) == stack.resolve(other.bucket_name))
    except Exception:  # a value of another app cannot be resolved here: by name it is not known to be the same
        return False


def selector_value_count(selectors: Sequence[cloudtrail.CfnTrail.AdvancedEventSelectorProperty]) -> int:
    """Condition values across all advanced event selectors (CloudTrail allows ``MAX_SELECTOR_VALUES``)."""
    count = 0
    for selector in selectors:
        for field in selector.field_selectors:  # type: ignore[union-attr]
            for values in (field.equal_to, field.starts_with, field.ends_with, field.not_equals,
                           field.not_starts_with, field.not_ends_with):
                count += len(values or [])
    return count


def advanced_event_selectors(
    bedrock_data_resource_types: Sequence[str] = BEDROCK_DATA_RESOURCE_TYPES,
    object_arn_prefixes: Sequence[str] = (),
) -> list[cloudtrail.CfnTrail.AdvancedEventSelectorProperty]:
    """All management events, one data-event selector per resource type, and one selector for the S3 object
    events under ``object_arn_prefixes`` (``<bucket ARN>/``, ARNs of the stack's partition) when any."""
    selectors = [
        cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name="All management events",
            field_selectors=[cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory",
                                                                               equal_to=["Management"])],
        )
    ]
    for resource_type in bedrock_data_resource_types:
        selectors.append(
            cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                name=f"Data events of {resource_type}",
                field_selectors=[
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Data"]),
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="resources.type",
                                                                      equal_to=[resource_type]),
                ],
            )
        )
    if object_arn_prefixes:
        # Reads, writes and deletes alike (no readOnly or eventName narrowing): who read or erased a prompt.
        selectors.append(cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name="S3 object events of the prompt and completion buckets",
            field_selectors=[
                cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Data"]),
                cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="resources.type", equal_to=[S3_OBJECT_TYPE]),
                cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="resources.ARN",
                                                                  starts_with=list(object_arn_prefixes)),
            ],
        ))
    return selectors


def declare_trail_coverage(stack: Stack, *, trail: str, reason: str) -> None:
    """Name, in ``stack``'s template, the trail that records a stack which creates none of its own.

    A stack with model invocation logging but no trail (``audit.create_trail: false``, the member baseline)
    passes ``Bedrock-TrailDataEventCoverage`` only with this: ``trail`` is that trail (its ARN, e.g. an
    organization trail, or the environment whose stack creates the account's trail) and ``reason`` says why
    it covers this stack, in at least 8 words. Whether the named trail really selects this stack's data events
    is a cross-stack check (``compliance.rules.audit.data_event_gaps`` over that trail's selectors).
    """
    if not isinstance(trail, str) or not trail.strip():
        raise ConstructPropsError(f"declare_trail_coverage: trail: {trail!r}; name the trail that records this stack")
    if not isinstance(reason, str) or len(reason.split()) < 8:
        raise ConstructPropsError(f"declare_trail_coverage: reason: {reason!r}; say in at least 8 words why that "
                                  "trail records this stack's Bedrock, Mantle and invocation-log object events")
    stack.add_metadata(TRAIL_COVERAGE_METADATA, {"trail": trail, "reason": reason})
