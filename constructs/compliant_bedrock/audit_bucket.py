"""An S3 bucket for audit records that nobody can erase or rewrite during its retention period.

``AuditBucket`` is the one place where audit data (CloudTrail log files, Bedrock model invocation
logs) lands. It is built for AU-9 (protection of audit information) and AU-11 (retention):

* **Object Lock** with a default retention (COMPLIANCE by default: not even the account root can
  shorten it or delete a locked version) and **versioning**, so an overwrite leaves the original;
* **SSE-KMS** with a customer-managed, rotated, retained key and S3 Bucket Keys (SC-28);
* TLS 1.2+ only, all public access blocked, ACLs disabled (``BUCKET_OWNER_ENFORCED``) (SC-8, AC-3);
* **server access logging** to a separate access-log bucket (AU-2, AU-12);
* lifecycle transition to Glacier Instant Retrieval (still locked, still readable in milliseconds);
* ``RemovalPolicy.RETAIN`` on both buckets and the key: ``cdk destroy`` never takes audit data with it.

Cross-region replication (CP-9, CP-6) needs a bucket in another region, hence another stack. The
reference app deploys that replica stack first (an ``AuditBucket`` there, with a literal bucket
name from config) and passes its bucket ARN and key ARN here as literal strings:
``replication_destination_bucket_arn`` and ``replication_destination_key_arn``. No cross-stack
tokens (cross-region references need CDK's SSM custom resources): either literal ARNs, or, in an
env-agnostic template (a StackSet's, one body for every account and region), an ``Fn::Sub`` or
``Fn::Join`` whose literal parts still show the ARN's shape (``arn:${AWS::Partition}:s3:::cb-${AWS::AccountId}-...``,
``...:alias/<name>``); an opaque token (an import, a bare reference) is refused, because nothing of it
could be checked. Without a replica the ``S3BucketReplicationEnabled`` finding is suppressed on this
bucket alone, with its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import Duration, FeatureFlags, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .compliance import suppress
from .compliance.rules.audit import AUDIT_BUCKET_METADATA
from .errors import ConstructPropsError
from .grants import attach_read_policy
from .kms import AuditAdmins, protect_audit_key, retained_key, tag_audit

#: The aws-s3 feature flag AuditBucket sets on itself (see its constructor).
ACCESS_LOGS_POLICY_FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"

ObjectLockMode = Literal["COMPLIANCE", "GOVERNANCE"]

#: Bucket actions that loosen or stop the protection of audit records: weaker Object Lock for new
#: records, a new policy (dropping the service grants or these Denies), lifecycle expiry, replication
#: elsewhere, another key, versioning, access logging off, GOVERNANCE bypass, and deleting the bucket.
BUCKET_TAMPER_ACTIONS: tuple[str, ...] = (
    "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration", "s3:PutEncryptionConfiguration",
    "s3:PutBucketVersioning", "s3:PutBucketLogging", "s3:BypassGovernanceRetention", "s3:DeleteBucket",
)
#: Writes that create records: only the delivering service (or the replication role, on a replica).
RECORD_WRITE_ACTIONS: tuple[str, ...] = ("s3:PutObject", "s3:ReplicateObject")

#: 30 months: OMB M-21-31 asks for 12 months of active storage and 18 more in cold storage.
DEFAULT_OBJECT_LOCK_DAYS = 913
DEFAULT_ARCHIVE_AFTER_DAYS = 90

_BUCKET_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$")
#: Stands for one value only deployment knows (a pseudo parameter, a mapping lookup) in a token's literal text.
_HOLE = "\ue000"
#: The same shapes with holes: a whole field (partition, region, account) or part of a name; key/ or alias/ literal.
_TOKEN_BUCKET_ARN = re.compile(rf"^arn:(?:aws[a-z-]*|{_HOLE}):s3:::[a-z0-9{_HOLE}][a-z0-9.{_HOLE}-]*[a-z0-9{_HOLE}]$")
_TOKEN_KEY_ARN = re.compile(rf"^arn:(?:aws[a-z-]*|{_HOLE}):kms:([a-z0-9-]+|{_HOLE}):(?:\d{{12}}|{_HOLE}):"
                            rf"(key/[A-Za-z0-9{_HOLE}-]+|alias/[A-Za-z0-9/_{_HOLE}-]+)$")

NO_REPLICA_REASON = (
    "Cross-region replication is not configured for this environment (no replica region is named in its "
    "configuration). Integrity and availability of the audit records rest on S3 Object Lock with a default "
    "retention and on versioning: no version can be deleted or overwritten before the retention ends, and S3 "
    "stores every object redundantly across availability zones of the region."
)


def replica_reason(source: str) -> str:
    """Why a replica bucket itself is not replicated again."""
    return (f"This bucket is itself the cross-region replica of {source}; it has Object Lock with a default "
            "retention and versioning like its source, and replicating the replica again would add no "
            "protection against the loss of a region that the source and this replica do not already give.")


class AuditBucket(Construct):
    """A protected bucket for audit records, with its own access-log bucket and optional replication.

    :param key: the CMK for SSE-KMS; a new ``retained_key`` when omitted. It must be a key of this app
        (``kms.Key``), because log writers (CloudTrail, Bedrock) add statements to its policy.
    :param object_lock_mode: ``COMPLIANCE`` (default: nobody can shorten the retention) or ``GOVERNANCE``.
    :param object_lock_days: default retention of every object version, in days.
    :param archive_after_days: days before current and noncurrent versions move to GLACIER_IR.
    :param access_logs_bucket: an existing access-log bucket to share; a new one when omitted.
    :param replication_destination_bucket_arn: ARN of a versioned, Object-Lock replica bucket (S3 refuses to
        replicate an Object-Locked bucket into one without Object Lock), normally in another region of the same
        partition; replication is off when omitted. Literal, or an ``Fn::Sub``/``Fn::Join`` whose literal parts
        keep the shape (see the module docstring).
    :param replication_destination_key_arn: ARN of the replica bucket's KMS key, or of an alias of it
        (``alias/...``, known before the replica is deployed); required with the bucket ARN, literal or a
        shaped token like the bucket ARN (``key/`` or ``alias/`` in its literal text). With an alias ARN, IAM
        cannot name the key, so the replica key's own policy must grant the replication role (``ReplicaStack``
        and the baseline's replica StackSet in the reference app do, by the role name below).
    :param replication_role_name: a fixed name for the replication role, so a replica key policy
        deployed earlier can name it (a token such as ``Fn::Sub`` too); CloudFormation picks one when omitted.
    :param bucket_name: a fixed bucket name (a replica's source needs it before deploying).
    :param replica_of: this bucket is the replica of that bucket; the no-replication finding is then
        suppressed with that reason instead.
    :param audit_admins: the break-glass and deploy roles, the only principals the bucket policy lets
        change Object Lock, the policy, lifecycle, replication, encryption, versioning or logging, bypass
        GOVERNANCE retention or delete the bucket (AU-9). These Denies bind every principal of the account,
        with one exception S3 documents: the account's root user can always put or delete a bucket policy.
        A key created here gets ``protect_audit_key`` too. ``None`` leaves both open (the Bedrock pack's
        ``AuditBucketTamperDenied``/``AuditKeyDeletionProtected`` then fail).
    :param delivering_services: service principals that write the records (``cloudtrail.amazonaws.com``,
        ``bedrock.amazonaws.com``); with ``delivering_role_arns``, the only writers the bucket accepts
        (``s3:PutObject``/``s3:ReplicateObject`` denied to everyone else: no forged records, AU-9, AU-10).
    :param delivering_role_arns: roles that write the records (a replica's source replication role).
        With neither, the bucket accepts writes from any principal IAM allows.

    Attributes: ``bucket``, ``key``, ``access_logs_bucket``, ``replication_role`` (``None`` without
    replica), ``replication_policy`` (``None`` without replica).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.Key | None = None,
        object_lock_mode: ObjectLockMode = "COMPLIANCE",
        object_lock_days: int = DEFAULT_OBJECT_LOCK_DAYS,
        archive_after_days: int = DEFAULT_ARCHIVE_AFTER_DAYS,
        access_logs_bucket: s3.Bucket | None = None,
        replication_destination_bucket_arn: str | None = None,
        replication_destination_key_arn: str | None = None,
        replication_role_name: str | None = None,
        bucket_name: str | None = None,
        replica_of: str | None = None,
        audit_admins: AuditAdmins | None = AuditAdmins(),  # noqa: B008 (frozen, immutable)
        delivering_services: Sequence[str] = (),
        delivering_role_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        # Without this flag S3 grants log delivery to an access-log bucket by ACL, which a bucket-owner-
        # enforced bucket refuses (jsii: 'objectOwnership must be set to "ObjectWriter"'). Set here, on this
        # construct, so it holds in any app whatever its cdk.json says; a bucket passed in must have it.
        self.node.set_context(ACCESS_LOGS_POLICY_FLAG, True)
        if access_logs_bucket is not None and not FeatureFlags.of(access_logs_bucket).is_enabled(ACCESS_LOGS_POLICY_FLAG):
            raise ConstructPropsError(
                f"AuditBucket {construct_id!r}: access_logs_bucket {access_logs_bucket.node.path!r} would receive "
                "server access logs through an ACL, which its bucket-owner-enforced ownership refuses; set the feature "
                f"flag {ACCESS_LOGS_POLICY_FLAG!r}: true in cdk.json (or on that bucket's scope with "
                "node.set_context before creating it), or omit access_logs_bucket for one of the construct's own")
        target = _validate(self, construct_id, object_lock_mode, object_lock_days, archive_after_days,
                           replication_destination_bucket_arn, replication_destination_key_arn)
        if replication_role_name and not replication_destination_bucket_arn:
            raise ConstructPropsError(f"AuditBucket {construct_id!r}: replication_role_name names the replication role, "
                             "but there is no replication_destination_bucket_arn; remove it or add the replica")
        if key is None:
            key = retained_key(self, "Key", description=f"SSE-KMS of audit bucket {self.node.path}")
            if audit_admins is not None:
                protect_audit_key(key, audit_admins)
        self.key = key
        self.audit_admins = audit_admins
        self.access_logs_bucket = access_logs_bucket or self._access_logs_bucket(archive_after_days)

        retention_period = Duration.days(object_lock_days)
        lock = (s3.ObjectLockRetention.compliance(retention_period) if object_lock_mode == "COMPLIANCE"
                else s3.ObjectLockRetention.governance(retention_period))
        self.replication_role: iam.Role | None = None
        self.replication_policy: iam.ManagedPolicy | None = None
        replication: dict = {}
        if target is not None:
            self.replication_role = iam.Role(
                self, "ReplicationRole",
                role_name=replication_role_name,
                assumed_by=iam.ServicePrincipal(
                    "s3.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                ),
                description=f"S3 replication of audit bucket {self.node.path} to its replica",
            )
            # Immutable: the bucket must not add its own inline grants (IAMNoInlinePolicy).
            role_ref = iam.Role.from_role_arn(self, "ReplicationRoleRef", self.replication_role.role_arn,
                                              mutable=False)
            replication = {
                "replication_role": role_ref,
                "replication_rules": [
                    s3.ReplicationRule(
                        id="audit-replica",
                        priority=1,
                        destination=s3.Bucket.from_bucket_arn(self, "Replica", target.bucket_arn),
                        kms_key=kms.Key.from_key_arn(self, "ReplicaKey", target.key_arn),
                        sse_kms_encrypted_objects=True,
                        # Deletes never propagate: the replica keeps what the source loses.
                        delete_marker_replication=False,
                        filter=s3.Filter(prefix=""),
                    )
                ],
            }

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=lock,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=f"{construct_id}/",
            lifecycle_rules=_archive_rules(archive_after_days),
            removal_policy=RemovalPolicy.RETAIN,
            **replication,
        )
        self.bucket.node.default_child.add_metadata(AUDIT_BUCKET_METADATA, True)
        tag_audit(self.bucket)
        self._deny_tamper(self.bucket, list(delivering_services), list(delivering_role_arns))
        # The access logs record who read and wrote the records: the same denies, and only S3 logging writes.
        if access_logs_bucket is None:
            tag_audit(self.access_logs_bucket)
            self._deny_tamper(self.access_logs_bucket, ["logging.s3.amazonaws.com"], [])
            self.access_logs_bucket.policy.apply_removal_policy(RemovalPolicy.RETAIN)
        # The policies carry the Denies and the delivery grants: they outlive the stack with the buckets.
        self.bucket.policy.apply_removal_policy(RemovalPolicy.RETAIN)
        if target is not None:
            self.replication_policy = self._replication_policy(target)
        else:
            suppress(self.bucket, "NIST.800.53.R5-S3BucketReplicationEnabled",
                     replica_reason(replica_of) if replica_of else NO_REPLICA_REASON)

    def _deny_tamper(self, bucket: s3.Bucket, services: list[str], roles: list[str]) -> None:
        resources = [bucket.bucket_arn, bucket.arn_for_objects("*")]
        if self.audit_admins is not None:
            # ArnNotEquals is true when aws:PrincipalArn is absent, so a request without one is denied too;
            # every IAM principal and the root user carry it, and no service changes bucket configuration.
            bucket.add_to_resource_policy(iam.PolicyStatement(
                sid="DenyAuditBucketTamperExceptBreakGlassAndDeploy", effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()], actions=list(BUCKET_TAMPER_ACTIONS), resources=resources,
                conditions={"ArnNotEquals": {"aws:PrincipalArn": self.audit_admins.role_arns(self)}},
            ))
        if not services and not roles:
            return
        # Deny when the writer is neither a delivering service NOR a delivering role (conditions AND):
        # * StringNotEquals aws:PrincipalServiceName: the key is present only when a service principal
        #   calls, so for the delivering service it is false (not denied) and for every IAM principal the
        #   key is absent, which makes a negated operator true (denied unless the next condition clears it);
        # * ArnNotEquals aws:PrincipalArn: false only for the named roles. Absent for a service principal,
        #   so true there, but the service already failed the first condition and is not denied.
        # The "IfExists" forms would change nothing here: both negated operators already match absent keys.
        conditions: dict = {}
        if services:
            conditions["StringNotEquals"] = {"aws:PrincipalServiceName": services}
        if roles:
            conditions["ArnNotEquals"] = {"aws:PrincipalArn": roles}
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyRecordsNotWrittenByTheirDeliverer", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=list(RECORD_WRITE_ACTIONS), resources=[bucket.arn_for_objects("*")], conditions=conditions,
        ))

    def read_statements(self) -> list[iam.PolicyStatement]:
        """What reading the audit records takes: list the bucket, get every object version and its lock
        state, and decrypt through S3 (only) with the bucket's key."""
        stack = Stack.of(self)
        return [
            iam.PolicyStatement(sid="ListAuditBucket", resources=[self.bucket.bucket_arn],
                                actions=["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"]),
            iam.PolicyStatement(sid="ReadAuditObjects", resources=[self.bucket.arn_for_objects("*")],
                                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention",
                                         "s3:GetObjectLegalHold"]),
            iam.PolicyStatement(sid="DecryptAuditObjectsThroughS3", actions=["kms:Decrypt"],
                                resources=[self.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"}}),
        ]

    def accept_object_wildcard(self, policy: iam.ManagedPolicy) -> None:
        """The one wildcard of ``read_statements`` (every object of this bucket), accepted on ``policy`` alone."""
        logical_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)
        suppress(policy, "AwsSolutions-IAM5", applies_to=[f"Resource::<{logical_id}.Arn>/*"],
                 reason="Reading audit records means reading every object of this one audit bucket; object keys "
                        "are dated paths written by the service, so no narrower name exists")

    def grant_read(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Read this bucket's audit records (auditors, a SIEM): a managed policy of this construct,
        attached to the grantee's role, user or group. Objects stay locked: nothing here deletes or writes."""
        return attach_read_policy(self, grantee, description=f"Read the audit records of {self.node.path}.",
                                  statements=self.read_statements, after_create=self.accept_object_wildcard)

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    def _access_logs_bucket(self, archive_after_days: int) -> s3.Bucket:
        # SSE-S3: S3 server access log delivery does not write to SSE-KMS buckets. No Object Lock either:
        # a log-delivery target must not have a default retention. Versioning keeps overwritten logs.
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=_archive_rules(archive_after_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # No S3BucketLoggingEnabled / AwsSolutions-S1 suppression: both rules already accept a bucket that is
        # another bucket's access-log target, and a standing suppression would hide this bucket losing that role.
        suppress(bucket, "NIST.800.53.R5-S3DefaultEncryptionKMS",
                 "S3 server access log delivery only writes to buckets whose default encryption is SSE-S3 "
                 "(AES-256); the audit records themselves are in the SSE-KMS audit bucket.")
        suppress(bucket, "NIST.800.53.R5-S3BucketReplicationEnabled",
                 "Server access logs are secondary evidence kept versioned in the region; the primary audit "
                 "records are protected by Object Lock in the audit bucket and replicated from there when "
                 "a replica is configured.")
        return bucket

    def _replication_policy(self, target: _Replica) -> iam.ManagedPolicy:
        stack = Stack.of(self)
        source_objects = self.bucket.arn_for_objects("*")
        bucket_arn, key_arn, replica_region = target.bucket_arn, target.key_arn, target.key_region
        policy = iam.ManagedPolicy(
            self,
            "ReplicationPolicy",
            description="Lets S3 replicate this audit bucket's object versions to its replica, and nothing else.",
            roles=[self.replication_role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadSourceConfiguration",
                    actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    resources=[self.bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadSourceVersions",
                    actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                             "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"],
                    resources=[source_objects],
                ),
                iam.PolicyStatement(
                    sid="WriteReplica",
                    actions=["s3:ReplicateObject", "s3:ReplicateTags"],
                    resources=[f"{bucket_arn}/*"],
                ),
                iam.PolicyStatement(
                    sid="DecryptSource",
                    actions=["kms:Decrypt"],
                    resources=[self.key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [self.bucket.bucket_arn, source_objects]},
                    },
                ),
            ],
        )
        if not target.by_alias:
            # By alias, IAM cannot name the key: the replica key's policy grants this role instead.
            policy.add_statements(
                iam.PolicyStatement(
                    sid="EncryptReplica",
                    actions=["kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{replica_region}.{stack.url_suffix}"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
                    },
                )
            )
        bucket_logical_id = stack.resolve(self.bucket.node.default_child.logical_id)
        suppress(
            policy, "AwsSolutions-IAM5",
            "Replication reads and writes object versions whose keys are not known in advance; the wildcards "
            "cover only the objects of this audit bucket and of its one replica bucket.",
            applies_to=[f"Resource::<{bucket_logical_id}.Arn>/*", f"Resource::{target.bucket_text}/*"],
        )
        return policy


def _archive_rules(archive_after_days: int) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="archive-to-glacier-ir",
            transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                       transition_after=Duration.days(archive_after_days))],
            noncurrent_version_transitions=[
                s3.NoncurrentVersionTransition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                               transition_after=Duration.days(archive_after_days))
            ],
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


#: S3 Object Lock's longest default retention (100 years, in days as S3 counts them).
MAX_OBJECT_LOCK_DAYS = 36500


@dataclass(frozen=True)
class _Replica:
    """A validated replication target: the ARNs as given, the replica key's region (a literal, or a token that
    selects it from the key ARN) and whether the key is named by an alias."""

    bucket_arn: str
    key_arn: str
    key_region: str
    by_alias: bool
    #: The bucket ARN as cdk-nag spells it in a finding (``${X}`` as ``<X>``, a reference as ``<Id>``).
    bucket_text: str


def _skeleton(node: Any) -> str | None:
    """The literal text of a resolved ``Fn::Sub`` / ``Fn::Join`` (delimiter ""), each value only deployment knows
    as one ``_HOLE``; a bare reference or any other intrinsic is one hole; None for anything else."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        return None
    (operator, arg), = node.items()
    if operator == "Fn::Join":
        if not (isinstance(arg, list) and len(arg) == 2 and arg[0] == "" and isinstance(arg[1], list)):
            return None
        parts = [_skeleton(part) for part in arg[1]]
        return None if any(part is None for part in parts) else "".join(parts)  # type: ignore[arg-type]
    if operator == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        if not isinstance(text, str) or not isinstance(variables, dict):
            return None
        return re.sub(r"\$\{([^}!][^}]*)\}",
                      lambda m: v if isinstance(v := variables.get(m.group(1)), str) else _HOLE, text)
    return _HOLE


def _nag_text(node: Any) -> str:
    """How cdk-nag flattens a resolved value in a finding's text (its ``flattenCfnReference``)."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(_nag_text(i) for i in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _nag_text(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_nag_text(resource)}.{_nag_text(attribute)}>"
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_nag_text(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def _validate(scope: Construct, construct_id: str, mode: str, lock_days: int, archive_days: int,
              bucket_arn: str | None, key_arn: str | None) -> _Replica | None:
    where = f"AuditBucket {construct_id!r}"
    if mode not in ("COMPLIANCE", "GOVERNANCE"):
        raise ConstructPropsError(f"{where}: object_lock_mode must be 'COMPLIANCE' or 'GOVERNANCE', got {mode!r}")
    if not isinstance(lock_days, int) or not 1 <= lock_days <= MAX_OBJECT_LOCK_DAYS:
        raise ConstructPropsError(f"{where}: object_lock_days must be 1 to {MAX_OBJECT_LOCK_DAYS} days (S3's limit is 100 "
                         f"years), got {lock_days!r}")
    if not isinstance(archive_days, int) or archive_days < 1:
        raise ConstructPropsError(f"{where}: archive_after_days must be a positive number of days, got {archive_days!r}")
    if bool(bucket_arn) != bool(key_arn):
        raise ConstructPropsError(f"{where}: replication needs both replication_destination_bucket_arn and "
                         "replication_destination_key_arn (the replica is SSE-KMS encrypted)")
    if not (bucket_arn and key_arn):
        return None
    token_help = ("or, in an env-agnostic template, an Fn::Sub/Fn::Join whose literal parts keep that shape "
                  "(e.g. arn:${AWS::Partition}:...:${AWS::AccountId}...; no import or bare reference)")
    if Token.is_unresolved(bucket_arn):
        resolved = Stack.of(scope).resolve(bucket_arn)
        skeleton = _skeleton(resolved)
        if skeleton is None or _HOLE not in skeleton or not _TOKEN_BUCKET_ARN.match(skeleton):
            raise ConstructPropsError(f"{where}: replication_destination_bucket_arn must be a literal S3 bucket ARN "
                                      f"(arn:<partition>:s3:::<name>), {token_help}; got {resolved!r}")
        bucket_text = _nag_text(resolved)
    elif not _BUCKET_ARN.match(bucket_arn):
        raise ConstructPropsError(f"{where}: replication_destination_bucket_arn must be a literal S3 bucket ARN "
                         f"(arn:<partition>:s3:::<name>), got {bucket_arn!r}")
    else:
        bucket_text = bucket_arn
    if Token.is_unresolved(key_arn):
        resolved = Stack.of(scope).resolve(key_arn)
        skeleton = _skeleton(resolved)
        match = _TOKEN_KEY_ARN.match(skeleton) if skeleton is not None and _HOLE in skeleton else None
        if match is None:
            raise ConstructPropsError(f"{where}: replication_destination_key_arn must be a literal KMS key ARN "
                                      f"(arn:<partition>:kms:<region>:<account>:key/<id> or alias/<name>), "
                                      f"{token_help}, key/ or alias/ in its literal text; got {resolved!r}")
        # A region only deployment knows is the ARN's fourth field.
        region = match.group(1) if match.group(1) != _HOLE else Fn.select(3, Fn.split(":", key_arn))
        return _Replica(bucket_arn, key_arn, region, match.group(2).startswith("alias/"), bucket_text)
    match = _KEY_ARN.match(key_arn)
    if match is None:
        raise ConstructPropsError(f"{where}: replication_destination_key_arn must be a literal KMS key ARN "
                         f"(arn:<partition>:kms:<region>:<account>:key/<id>), got {key_arn!r}")
    return _Replica(bucket_arn, key_arn, match.group(1), match.group(2).startswith("alias/"), bucket_text)
