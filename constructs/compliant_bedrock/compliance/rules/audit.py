"""Audit rules: a multi-region validated trail with Bedrock data events, immutable and retained logs."""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...partitions import IAM_EVENTS_REGION, MANTLE_PARTITIONS
from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, possible_strings, referenced_ids
from .iam import invoke_allow_statements, mantle_allow_statements

#: Data-event types a Bedrock trail must select: guardrail use and model invocation at least.
REQUIRED_BEDROCK_DATA_TYPES = ("AWS::Bedrock::Guardrail", "AWS::Bedrock::Model")
#: Template metadata key ``AuditBucket`` puts on its bucket, so the pack checks every audit bucket,
#: also one no trail of its own stack references (a cross-region replica).
AUDIT_BUCKET_METADATA = "compliant-bedrock:audit-bucket"
#: Tag key on audit keys, buckets and log groups (``kms.AUDIT_TAG_KEY``; rules must not import constructs).
AUDIT_TAG = "compliant-bedrock:audit"
#: Template metadata of a stack without a trail of its own: ``{"trail": ..., "reason": ...}``, the trail that
#: records it (``audit_trail.declare_trail_coverage``; config ``audit.trail_covered_by``).
TRAIL_COVERAGE_METADATA = "compliant-bedrock:trail-coverage"
#: CloudTrail's data-event type of S3 objects (``resources.ARN`` ``StartsWith arn:<partition>:s3:::<bucket>/``).
S3_OBJECT_TYPE = "AWS::S3::Object"


def is_invocation_logging(resource: Resource) -> bool:
    """The custom resource that calls PutModelInvocationLoggingConfiguration."""
    if not resource.type.startswith("Custom::"):
        return False
    return "InvocationLogging" in resource.type or any(k.lower() == "loggingconfig" for k in resource.properties)


def _audit_bucket_ids(template: Template) -> set[str]:
    """Buckets a trail or invocation logging writes to (by reference or by literal name), and every
    bucket marked as an AuditBucket."""
    ids: set[str] = set()
    names: set[str] = set()
    for trail in template.of_type("AWS::CloudTrail::Trail"):
        ids |= referenced_ids(trail.properties.get("S3BucketName"))
        names |= set(possible_strings(trail.properties.get("S3BucketName")))
    for resource in template.resources.values():
        if is_invocation_logging(resource):
            ids |= referenced_ids(resource.properties)
            names |= set(possible_strings(resource.properties))
    buckets = {r.logical_id: r for r in template.of_type("AWS::S3::Bucket")}
    ids |= {lid for lid, b in buckets.items() if b.metadata.get(AUDIT_BUCKET_METADATA) is True
            or (isinstance(b.properties.get("BucketName"), str) and b.properties["BucketName"] in names)}
    return {i for i in ids if i in buckets}


@rule(
    "TrailMultiRegionValidated",
    controls=("AU-2", "AU-9", "AU-12", "SI-7"),
    explanation="The trail is not multi-region, not logging, or has log-file validation off",
    fix="Set IsMultiRegionTrail, IsLogging and EnableLogFileValidation to true (AuditTrail does)",
    resource_types=("AWS::CloudTrail::Trail",),
)
def trail_multi_region_validated(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    p = resource.properties
    ok = p.get("IsMultiRegionTrail") is True and p.get("EnableLogFileValidation") is True and p.get("IsLogging") is True
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


@rule(
    "TrailBedrockDataEvents",
    controls=("AU-2", "AU-3", "AU-12"),
    explanation="The trail does not record management events and Bedrock data events (ApplyGuardrail, model, "
                "agent, knowledge-base ...) through advanced event selectors",
    fix="Give the trail advanced event selectors for Management and for AWS::Bedrock::* data types (AuditTrail does)",
    resource_types=("AWS::CloudTrail::Trail",),
)
def trail_bedrock_data_events(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    management, data_types = False, set()
    for selector in as_list(resource.properties.get("AdvancedEventSelectors")):
        fields = {f.get("Field"): f for f in as_list(selector.get("FieldSelectors")) if isinstance(f, dict)}
        category = as_list((fields.get("eventCategory") or {}).get("Equals"))
        # Only a selector that narrows nothing else counts: readOnly, eventName or resources.ARN
        # selectors record a subset (e.g. reads only) and would pass for the whole.
        if "Management" in category and set(fields) == {"eventCategory"}:
            management = True
        if "Data" in category and set(fields) == {"eventCategory", "resources.type"}:
            data_types |= set(as_list((fields.get("resources.type") or {}).get("Equals")))
    ok = management and all(t in data_types for t in REQUIRED_BEDROCK_DATA_TYPES)
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


@rule(
    "AuditBucketObjectLock",
    controls=("AU-9", "AU-9(2)", "AU-11", "SI-7"),
    explanation="The bucket receiving audit logs lacks Object Lock with a default retention of at least the "
                "configured minimum, or versioning",
    fix="Create audit buckets with AuditBucket (Object Lock COMPLIANCE with default retention, versioning)",
    resource_types=("AWS::S3::Bucket",),
)
def audit_bucket_object_lock(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if resource.logical_id not in _audit_bucket_ids(template):
        return Compliance.NOT_APPLICABLE
    p = resource.properties
    retention = ((p.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
    versioned = (p.get("VersioningConfiguration") or {}).get("Status") == "Enabled"
    locked = p.get("ObjectLockEnabled") is True and retention.get("Mode") in ("COMPLIANCE", "GOVERNANCE")
    days = retention.get("Days") or 365 * (retention.get("Years") or 0)
    long_enough = isinstance(days, int) and days >= ctx.min_object_lock_days
    return Compliance.COMPLIANT if locked and long_enough and versioned else Compliance.NON_COMPLIANT


@rule(
    "InvocationLoggingConfigured",
    controls=("AU-2", "AU-3", "AU-12"),
    explanation="The stack grants Bedrock model invocation but does not configure model invocation logging "
                "with text delivery",
    fix="Add ModelInvocationLogging to the stack",
)
def invocation_logging_configured(template: Template, ctx: RuleContext) -> Compliance:
    if not any(invoke_allow_statements(r) for r in template.resources.values()):
        return Compliance.NOT_APPLICABLE
    for resource in template.resources.values():
        if is_invocation_logging(resource):
            text = json.dumps(resource.properties)
            if '"textDataDeliveryEnabled": true' in text or '"textDataDeliveryEnabled": "true"' in text:
                return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT


@rule(
    "LogGroupEncryptedRetained",
    controls=("AU-9", "AU-11", "SC-28"),
    explanation="The log group is not KMS-encrypted or keeps logs for less than the configured minimum",
    fix="Create log groups with encrypted_log_group and a retention of at least the minimum in config",
    resource_types=("AWS::Logs::LogGroup",),
)
def log_group_encrypted_retained(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    p = resource.properties
    days = p.get("RetentionInDays")
    ok = p.get("KmsKeyId") is not None and isinstance(days, int) and days >= ctx.min_log_retention_days
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


@rule(
    "AuditDataRetainedOnDelete",
    controls=("AU-9", "AU-11", "CP-9"),
    explanation="A log group, KMS key or audit bucket would be deleted with the stack or on replacement",
    fix="Set RemovalPolicy.RETAIN (DeletionPolicy and UpdateReplacePolicy Retain)",
    resource_types=("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::S3::Bucket"),
)
def audit_data_retained_on_delete(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if resource.type == "AWS::S3::Bucket" and resource.logical_id not in _audit_bucket_ids(template):
        return Compliance.NOT_APPLICABLE
    ok = resource.deletion_policy == "Retain" and resource.update_replace_policy == "Retain"
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


# ------------------------------------------------------------------ tamper protection (every principal)

#: Key actions whose Deny (to all but named roles) makes audit records undestroyable by key tamper.
KEY_TAMPER_REQUIRED = ("kms:schedulekeydeletion", "kms:disablekey", "kms:putkeypolicy")
#: Bucket actions whose Deny (to all but named roles) keeps Object Lock, policy, lifecycle and replication.
BUCKET_TAMPER_REQUIRED = ("s3:putbucketobjectlockconfiguration", "s3:putbucketpolicy", "s3:deletebucketpolicy",
                          "s3:putlifecycleconfiguration", "s3:putreplicationconfiguration",
                          "s3:bypassgovernanceretention")
_NEGATED = ("arnnotequals", "arnnotlike", "stringnotequals", "stringnotlike")
#: Keys a tamper Deny may exempt by: who calls, never how (a VPC, an IP or a tag would be a way around).
_EXEMPTION_KEYS = ("aws:principalarn", "aws:principalservicename")


def _covers(statement: dict, actions: tuple[str, ...]) -> bool:
    granted = [str(a).lower() for a in as_list(statement.get("Action"))]
    return all(any(fnmatch.fnmatchcase(action, g) for g in granted) for action in actions)


def _everyone(statement: dict) -> bool:
    principal = statement.get("Principal")
    return "NotPrincipal" not in statement and (principal == "*" or (
        isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"]))


def _named(value: str, template: Template) -> bool:
    """An exact principal: no wildcard at all (a pattern, even a long prefix such as ``stacksets-exec-*``, is a
    name any account administrator can create: perimeter review 2, N1), and no parameter."""
    return not template.is_open(value) and "*" not in value and "?" not in value


def _denies_all_but_named(statement: dict, actions: tuple[str, ...], template: Template) -> bool:
    """A Deny of ``actions`` to every principal, exempting at most named principals (no wildcard but a named
    role's generated suffix, no parameter)."""
    if statement.get("Effect") != "Deny" or not _everyone(statement) or not _covers(statement, actions):
        return False
    for operator, block in (statement.get("Condition") or {}).items():
        if operator.lower() not in _NEGATED or not isinstance(block, dict):
            return False
        for key, value in block.items():
            if key.lower() not in _EXEMPTION_KEYS or not all(_named(v, template) for v in possible_strings(value)):
                return False
    return True


def _short_window_denied(statement: dict) -> bool:
    if statement.get("Effect") != "Deny" or not _everyone(statement) or not _covers(statement, KEY_TAMPER_REQUIRED[:1]):
        return False
    condition = statement.get("Condition") or {}
    if not condition:
        return True  # scheduling denied outright
    if set(condition) != {"NumericLessThan"}:
        return False
    block = condition["NumericLessThan"]
    values = possible_strings(block.get("kms:ScheduleKeyDeletionPendingWindowInDays")) if len(block) == 1 else []
    return bool(values) and all(v.isdigit() and int(v) >= 30 for v in values)


def _audit_key_ids(template: Template) -> set[str]:
    """Keys that encrypt audit data: tagged as audit, used by a trail, an audit bucket or an audit log group."""
    ids: set[str] = set()
    for key in template.of_type("AWS::KMS::Key"):
        tags = {t.get("Key"): t.get("Value") for t in as_list(key.properties.get("Tags")) if isinstance(t, dict)}
        if tags.get(AUDIT_TAG) == "true":
            ids.add(key.logical_id)
    for trail in template.of_type("AWS::CloudTrail::Trail"):
        ids |= referenced_ids(trail.properties.get("KMSKeyId"))
    for bucket_id in _audit_bucket_ids(template):
        ids |= referenced_ids(template.resources[bucket_id].properties.get("BucketEncryption"))
    for log_group in template.of_type("AWS::Logs::LogGroup"):
        tags = {t.get("Key"): t.get("Value") for t in as_list(log_group.properties.get("Tags")) if isinstance(t, dict)}
        if tags.get(AUDIT_TAG) == "true":
            ids |= referenced_ids(log_group.properties.get("KmsKeyId"))
    return {i for i in ids if i in template.resources and template.resources[i].type == "AWS::KMS::Key"}


def _bucket_policy_statements(bucket_id: str, template: Template) -> list[dict]:
    statements: list[dict] = []
    for policy in template.of_type("AWS::S3::BucketPolicy"):
        if bucket_id in referenced_ids(policy.properties.get("Bucket")):
            document = policy.properties.get("PolicyDocument") or {}
            statements += [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]
    return statements


@rule(
    "AuditControlPlaneRetained",
    controls=("AU-9", "AU-12", "CP-9"),
    explanation="Deleting the stack (or replacing the resource) would delete the trail or turn model "
                "invocation logging off: anyone allowed cloudformation:DeleteStack switches audit off",
    fix="Retain the trail (AuditTrail does) and the invocation-logging custom resource (ModelInvocationLogging's "
        "retain_on_delete, on by default): DeletionPolicy and UpdateReplacePolicy Retain",
)
def audit_control_plane_retained(template: Template, ctx: RuleContext) -> Compliance:
    planes = [*template.of_type("AWS::CloudTrail::Trail"),
              *(r for r in template.resources.values() if is_invocation_logging(r))]
    if not planes:
        return Compliance.NOT_APPLICABLE
    ok = all(r.deletion_policy == "Retain" and r.update_replace_policy == "Retain" for r in planes)
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT


@rule(
    "AuditKeyDeletionProtected",
    controls=("AU-9", "SC-12", "SC-28"),
    explanation="The key policy of a key that encrypts audit data does not deny ScheduleKeyDeletion, DisableKey "
                "and PutKeyPolicy to every principal but named roles, or does not deny deletion windows under 30 "
                "days: an administrator can crypto-shred Object-Locked records or cut off their delivery",
    fix="protect_audit_key(key, AuditAdmins(...)) (AuditTrail, ModelInvocationLogging and AuditBucket do by default)",
    resource_types=("AWS::KMS::Key",),
)
def audit_key_deletion_protected(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if resource.logical_id not in _audit_key_ids(template):
        return Compliance.NOT_APPLICABLE
    statements = [s for s in as_list((resource.properties.get("KeyPolicy") or {}).get("Statement"))
                  if isinstance(s, dict)]
    tamper = any(_denies_all_but_named(s, KEY_TAMPER_REQUIRED, template) for s in statements)
    window = any(_short_window_denied(s) for s in statements)
    return Compliance.COMPLIANT if tamper and window else Compliance.NON_COMPLIANT


@rule(
    "AuditBucketTamperDenied",
    controls=("AU-9", "AU-10", "SI-7"),
    explanation="The audit bucket's policy does not deny Object Lock, policy, lifecycle and replication changes "
                "and GOVERNANCE bypass to every principal but named roles, or does not deny object writes from "
                "anyone but the delivering service or role (forged records)",
    fix="Create audit buckets with AuditBucket (audit_admins and delivering_services/delivering_role_arns)",
    resource_types=("AWS::S3::Bucket",),
)
def audit_bucket_tamper_denied(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if resource.logical_id not in _audit_bucket_ids(template):
        return Compliance.NOT_APPLICABLE
    statements = _bucket_policy_statements(resource.logical_id, template)
    config = any(_denies_all_but_named(s, BUCKET_TAMPER_REQUIRED, template) for s in statements)
    writes = any(_denies_all_but_named(s, ("s3:putobject",), template) for s in statements)
    return Compliance.COMPLIANT if config and writes else Compliance.NON_COMPLIANT


@rule(
    "AuditObjectLockCompliance",
    risk_decision=True,
    controls=("AU-9", "AU-11"),
    explanation="The audit bucket's default Object Lock retention is not COMPLIANCE mode: under GOVERNANCE a "
                "principal with s3:BypassGovernanceRetention erases records before their retention ends",
    fix="Use object_lock_mode COMPLIANCE (the default), or accept the risk with object_lock.governance_acceptance: "
        "{reason, compensating, approved_by, expires} in config (accept_risk(<bucket>, ...) in an own app)",
    resource_types=("AWS::S3::Bucket",),
)
def audit_object_lock_compliance(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if resource.logical_id not in _audit_bucket_ids(template):
        return Compliance.NOT_APPLICABLE
    retention = ((resource.properties.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention")
    mode = (retention or {}).get("Mode")
    return Compliance.COMPLIANT if mode == "COMPLIANCE" else Compliance.NON_COMPLIANT


#: The tamper calls a stack with an audit plane must alarm on (``TamperDetection`` covers these and more),
#: including those that silence the alarm itself: a rule disabled, deleted or re-targeted, a topic deleted,
#: re-policed or unsubscribed.
REQUIRED_TAMPER_EVENTS: tuple[str, ...] = (
    "StopLogging", "DeleteTrail", "DeleteModelInvocationLoggingConfiguration", "DeleteEnforcedGuardrailConfiguration",
    "ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy", "PutBucketObjectLockConfiguration", "PutBucketPolicy",
    "DisableRule", "DeleteRule", "RemoveTargets", "PutRule", "PutTargets",
    "Unsubscribe", "SetTopicAttributes", "DeleteTopic", "RemovePermission", "AddPermission", "SetSubscriptionAttributes",
)
#: IAM is global: its CloudTrail events reach EventBridge in one region per partition only (cited in
#: ``compliant_bedrock.partitions``). Partitions not listed: unknown, so no IAM-event rule is claimed there.
IAM_EVENT_REGIONS = IAM_EVENTS_REGION
_CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


def cloudtrail_pattern(resource: Resource) -> dict | None:
    """The ``detail`` of an EventBridge rule matching CloudTrail API-call records, else None."""
    pattern = resource.properties.get("EventPattern")
    if isinstance(pattern, str):
        pattern = json.loads(pattern)
    if not isinstance(pattern, dict) or _CLOUDTRAIL_DETAIL_TYPE not in as_list(pattern.get("detail-type")):
        return None
    detail = pattern.get("detail")
    return detail if isinstance(detail, dict) else {}


@rule(
    "AuditTamperDetected",
    controls=("SI-4", "AU-6", "IR-5"),
    explanation="The stack has audit resources but no enabled EventBridge rules, targeting a KMS-encrypted SNS "
                "topic of the stack, for the tamper calls prevention cannot stop (StopLogging, DeleteTrail, "
                "invocation-logging and enforced-guardrail deletion, key deletion/disable/policy, Object Lock and "
                "bucket-policy changes)",
    fix="Add TamperDetection to the stack (the reference stack does)",
)
def audit_tamper_detected(template: Template, ctx: RuleContext) -> Compliance:
    has_audit = (template.of_type("AWS::CloudTrail::Trail") or _audit_bucket_ids(template)
                 or any(is_invocation_logging(r) for r in template.resources.values()))
    if not has_audit:
        return Compliance.NOT_APPLICABLE
    encrypted_topics = {t.logical_id for t in template.of_type("AWS::SNS::Topic")
                        if t.properties.get("KmsMasterKeyId") is not None}
    covered: set[str] = set()
    for event_rule in template.of_type("AWS::Events::Rule"):
        p = event_rule.properties
        targets = [t for t in as_list(p.get("Targets")) if isinstance(t, dict)]
        alerting = any(referenced_ids(t.get("Arn")) & encrypted_topics for t in targets)
        detail = cloudtrail_pattern(event_rule)
        if p.get("State", "ENABLED") != "ENABLED" or not alerting or detail is None:
            continue
        covered |= {n for n in as_list(detail.get("eventName")) if isinstance(n, str)}
    return Compliance.COMPLIANT if set(REQUIRED_TAMPER_EVENTS) <= covered else Compliance.NON_COMPLIANT
#: CloudTrail data-event types that record bedrock-mantle inference (Mantle's CloudTrail page's selector).
REQUIRED_MANTLE_DATA_TYPES = ("AWS::BedrockMantle::Project", "AWS::BedrockMantle::CustomizedModel",
                              "AWS::BedrockMantle::Reservation")


def allows_mantle(template: Template) -> bool:
    """The stack grants Mantle inference, creates a Mantle project, or opens a bedrock-mantle endpoint."""
    from .endpoints import bedrock_service

    return (any(mantle_allow_statements(r) for r in template.resources.values())
            or bool(template.of_type("AWS::BedrockMantle::Project"))
            or any(bedrock_service(e) == "bedrock-mantle" for e in template.of_type("AWS::EC2::VPCEndpoint")))


def _data_types(trail: Resource) -> set[str]:
    return _selected_types(trail.properties.get("AdvancedEventSelectors"))


def _selected_types(selectors: Any) -> set[str]:
    """Resource types whose data events the advanced selectors record whole."""
    types: set[str] = set()
    for selector in as_list(selectors):
        fields = {f.get("Field"): f for f in as_list(selector.get("FieldSelectors")) if isinstance(f, dict)}
        if "Data" in as_list((fields.get("eventCategory") or {}).get("Equals")) \
                and set(fields) == {"eventCategory", "resources.type"}:
            types |= set(as_list((fields.get("resources.type") or {}).get("Equals")))
    return types


def _declared_trail(template: Template) -> str | None:
    coverage = template.metadata.get(TRAIL_COVERAGE_METADATA)
    trail = coverage.get("trail") if isinstance(coverage, dict) else None
    return trail if isinstance(trail, str) and trail.strip() else None


def _mantle_required(template: Template, ctx: RuleContext) -> bool:
    """Mantle inference is possible in the stack's account: the stack allows it, or (an environment's stack, with a
    trail or invocation logging) no SCP the gate read denies it there to every principal."""
    if allows_mantle(template):
        return True
    facts, stack = ctx.assembly, ctx.stack
    environment = bool(template.of_type("AWS::CloudTrail::Trail")) or any(
        is_invocation_logging(r) for r in template.resources.values())
    return facts is not None and stack is not None and environment and not facts.mantle_denied(stack)


def _mantle_unrecorded(template: Template, ctx: RuleContext) -> bool:
    if any(set(REQUIRED_MANTLE_DATA_TYPES) <= _data_types(t) for t in template.of_type("AWS::CloudTrail::Trail")):
        return False
    facts, stack = ctx.assembly, ctx.stack
    if facts is None or stack is None:
        return True
    # the organization trail records every member account; a stack without a trail, the trail it names (one
    # outside this assembly, e.g. the baseline's organization trail judged in the baseline's own assembly, is
    # taken at its declaration, as Bedrock-TrailDataEventCoverage does)
    org = facts.organization_of(stack)
    declared = None if template.of_type("AWS::CloudTrail::Trail") else _declared_trail(template)
    covering = facts.covering_trail(stack, declared) if declared else None
    if declared and covering is None and org is None:
        return False
    others = [t for t in ((org.trail if org else None), covering) if t is not None]
    return not any(not data_event_gaps(t.selectors, resource_types=REQUIRED_MANTLE_DATA_TYPES) for t in others)


@rule(
    "TrailMantleDataEvents",
    controls=("AU-2", "AU-3", "AU-12"),
    explanation="Mantle inference is possible in the stack's account (the stack allows bedrock-mantle, or no SCP of "
                "the organization denies it there) but no trail records Mantle data events "
                "(AWS::BedrockMantle::Project, ::CustomizedModel, ::Reservation): not the stack's, not the trail it "
                "names, not its organization's trail. Mantle inference is a CloudTrail data event, invocation logging "
                "does not see it, so it goes unrecorded",
    fix="Create the trail with AuditTrail (Mantle data events are selected by default where the partition has "
        "Mantle) or AuditTrail(mantle_data_events=True); or let the organization trail (config/organization/<name>.yaml "
        "trail:) or the trail the stack names record them; or deny Mantle in that account by SCP",
)
def trail_mantle_data_events(template: Template, ctx: RuleContext) -> Compliance:
    if not _mantle_required(template, ctx):
        return Compliance.NOT_APPLICABLE
    return Compliance.NON_COMPLIANT if _mantle_unrecorded(template, ctx) else Compliance.COMPLIANT


# ------------------------------------------------------------------ data-event coverage (prompts, Bedrock, Mantle)

#: Fields a data-event selector may have and still record every event of its types (resources.ARN only with
#: StartsWith): readOnly, eventName, userIdentity ... record a subset (e.g. reads only, no deletes).
_WHOLE_FIELDS = frozenset({"eventCategory", "resources.type", "resources.ARN"})
_MIN_COVERAGE_REASON_WORDS = 8
_S3_REF = re.compile(r"^arn:[^:]*:s3:::<Ref ([^>]+)>")
_S3_LITERAL = re.compile(r"^arn:[^:]*:s3:::")
_PARTITION = re.compile(r"arn:(aws(?:-[a-z]+)*):")


def _canonical_s3(prefix: str) -> str:
    """One spelling per S3 object ARN prefix: ``<Id.Arn>/...`` for a bucket of the template (GetAtt, or Ref in an
    ``arn:<partition>:s3:::`` join), ``s3:::<name>/...`` for a literal name (any partition spelling)."""
    ref = _S3_REF.match(prefix)
    if ref:
        return f"<{ref.group(1)}.Arn>{prefix[ref.end():]}"
    return _S3_LITERAL.sub("s3:::", prefix)


def data_event_gaps(selectors: Iterable[Mapping[str, Any]], *, resource_types: Sequence[str] = (),
                    object_arn_prefixes: Sequence[str] = ()) -> list[str]:
    """What a trail's advanced event selectors leave unrecorded: each ``resource_types`` type without a selector of
    all its data events, each ``object_arn_prefixes`` prefix (``arn:<partition>:s3:::<bucket>/``) whose S3 object
    events no selector records. Empty: nothing missing.

    Pure: ``selectors`` are CloudTrail's advanced selectors as a template (``AdvancedEventSelectors``) or
    ``aws cloudtrail get-event-selectors`` spells them (``FieldSelectors`` of ``Field`` and ``Equals``/``StartsWith``
    ...), so the same function checks an organization trail of another account. A selector counts only if it
    narrows nothing but ``resources.ARN`` by ``StartsWith``: one on ``readOnly`` or ``eventName`` records part.
    """
    whole: set[str] = set()
    starts: dict[str, list[str]] = {}
    for selector in selectors:
        fields = {f.get("Field"): f for f in as_list(selector.get("FieldSelectors")) if isinstance(f, dict)}
        category, kinds, arn = fields.get("eventCategory"), fields.get("resources.type"), fields.get("resources.ARN")
        if (not set(fields) <= _WHOLE_FIELDS or category is None or kinds is None
                or set(category) != {"Field", "Equals"} or "Data" not in as_list(category.get("Equals"))
                or set(kinds) != {"Field", "Equals"}):
            continue
        types = [t for t in as_list(kinds.get("Equals")) if isinstance(t, str)]
        if arn is None:
            whole.update(types)
        elif set(arn) == {"Field", "StartsWith"}:
            for kind in types:
                starts.setdefault(kind, []).extend(_canonical_s3(p) for p in possible_strings(arn.get("StartsWith")))
    gaps = [f"{t} data events" for t in resource_types if t not in whole]
    if S3_OBJECT_TYPE not in whole:
        for prefix in object_arn_prefixes:
            wanted = _canonical_s3(prefix)
            if not any(p and (p == "s3:::" or wanted.startswith(p)) for p in starts.get(S3_OBJECT_TYPE, [])):
                gaps.append(f"{S3_OBJECT_TYPE} events under {prefix}")
    return gaps


def template_partition(template: Template) -> str | None:
    """The partition the template's literal ARNs name (most of them), or None (env-agnostic: deployment decides)."""
    found = Counter(_PARTITION.findall(json.dumps(template.body.get("Resources") or {})))
    return found.most_common(1)[0][0] if found else None


def _invocation_log_prefixes(template: Template) -> list[list[str]]:
    """Where invocation logging writes objects (``s3Config``, large payloads of ``cloudWatchConfig``): for each, the
    object ARN prefixes that name it (``<bucket ARN>/<keyPrefix>/``, by reference and by literal name)."""
    buckets = {r.logical_id for r in template.of_type("AWS::S3::Bucket")}
    found: list[list[str]] = []
    for resource in template.resources.values():
        if not is_invocation_logging(resource):
            continue
        config = next((v for k, v in resource.properties.items() if k.lower() == "loggingconfig"), None)
        config = config if isinstance(config, dict) else {}
        for target in (config.get("s3Config"), (config.get("cloudWatchConfig") or {}).get("largeDataDeliveryS3Config")):
            if not isinstance(target, dict):
                continue
            key = target.get("keyPrefix")
            # A key prefix only deployment knows: require the whole bucket.
            key = f"{key.strip('/')}/" if isinstance(key, str) and key.strip("/") else ""
            name = target.get("bucketName")
            spellings = [f"<{lid}.Arn>/{key}" for lid in sorted(referenced_ids(name) & buckets)]
            spellings += [f"arn:*:s3:::{n}/{key}" for n in possible_strings(name) if "<" not in n]
            if spellings:
                found.append(spellings)
    return found


def _coverage_gaps(template: Template, ctx: RuleContext) -> list[str] | None:
    """What the template's trails leave unrecorded; None when the rule does not apply."""
    trails = template.of_type("AWS::CloudTrail::Trail")
    logging = [r for r in template.resources.values() if is_invocation_logging(r)]
    if not trails and not logging:
        return None
    if not trails:
        coverage = template.metadata.get(TRAIL_COVERAGE_METADATA)
        trail = coverage.get("trail") if isinstance(coverage, dict) else None
        reason = coverage.get("reason") if isinstance(coverage, dict) else None
        if isinstance(trail, str) and trail.strip() and isinstance(reason, str) \
                and len(reason.split()) >= _MIN_COVERAGE_REASON_WORDS:
            # When the named trail is in this assembly, it must select the data events (types: the generated
            # name of this stack's invocation-log bucket is not known to another stack's selectors)
            covering = ctx.assembly.covering_trail(ctx.stack, trail) if ctx.assembly and ctx.stack else None
            if covering is None:
                return []
            required = list(REQUIRED_BEDROCK_DATA_TYPES)
            if covering.partition in MANTLE_PARTITIONS or allows_mantle(template):
                required += REQUIRED_MANTLE_DATA_TYPES
            return [f"{gap} (trail {covering.name} of stack {covering.stack})"
                    for gap in data_event_gaps(covering.selectors, resource_types=required)]
        return [f"no trail in the stack, and no {TRAIL_COVERAGE_METADATA} metadata naming the trail that records it "
                f"(with a reason of at least {_MIN_COVERAGE_REASON_WORDS} words)"]
    selectors = [s for t in trails for s in as_list(t.properties.get("AdvancedEventSelectors")) if isinstance(s, dict)]
    required = list(REQUIRED_BEDROCK_DATA_TYPES)
    if template_partition(template) in MANTLE_PARTITIONS or allows_mantle(template):
        required += REQUIRED_MANTLE_DATA_TYPES
    gaps = data_event_gaps(selectors, resource_types=required)
    for spellings in _invocation_log_prefixes(template):
        missing = [data_event_gaps(selectors, object_arn_prefixes=[p]) for p in spellings]
        if all(missing):
            gaps += missing[0]
    return gaps


@rule(
    "TrailDataEventCoverage",
    controls=("AU-2", "AU-3", "AU-12"),
    explanation="No trail of the stack records S3 object events (reads, writes, deletes) of the invocation-log "
                "bucket, which holds the prompts and completions, or the Bedrock (Guardrail, Model) and, where the "
                "partition has Mantle, bedrock-mantle data events; or the stack has invocation logging but no trail "
                "and names none that records it",
    fix="AuditTrail(object_event_buckets=[logging.bucket.bucket]) (the reference stack wires it; Bedrock and Mantle "
        "types are selected by default); a stack without a trail: declare_trail_coverage(stack, trail=..., "
        "reason=...) (config: audit.trail_covered_by)",
)
def trail_data_event_coverage(template: Template, ctx: RuleContext) -> Compliance:
    gaps = _coverage_gaps(template, ctx)
    if gaps is None:
        return Compliance.NOT_APPLICABLE
    return Compliance.NON_COMPLIANT if gaps else Compliance.COMPLIANT
def _tamper_rules(template: Template) -> list[Resource]:
    """Enabled EventBridge rules on CloudTrail records that target an SNS topic of the stack."""
    topics = {t.logical_id for t in template.of_type("AWS::SNS::Topic")}
    return [r for r in template.of_type("AWS::Events::Rule") if cloudtrail_pattern(r) is not None
            and r.properties.get("State", "ENABLED") == "ENABLED"
            and any(referenced_ids(t.get("Arn")) & topics for t in as_list(r.properties.get("Targets"))
                    if isinstance(t, dict))]


def _unreceived(template: Template) -> list[str]:
    """Tamper rules whose alerts nobody receives: their topics have no subscription in the stack and the rule
    forwards to no event bus (of another account or region, through a role EventBridge assumes)."""
    subscribed = {i for s in template.of_type("AWS::SNS::Subscription") for i in referenced_ids(s.properties.get("TopicArn"))}
    unreceived = []
    for event_rule in _tamper_rules(template):
        targets = [t for t in as_list(event_rule.properties.get("Targets")) if isinstance(t, dict)]
        to_subscribed_topic = any(referenced_ids(t.get("Arn")) & subscribed for t in targets)
        to_bus = any(t.get("RoleArn") and any(":event-bus/" in v for v in possible_strings(t.get("Arn")))
                     for t in targets)
        if not (to_subscribed_topic or to_bus):
            unreceived.append(event_rule.path)
    return unreceived


@rule(
    "TamperAlertsReceived",
    controls=("SI-4", "SI-4(5)", "IR-6"),
    explanation="A tamper-detection rule alerts an SNS topic that nobody is subscribed to in the stack and forwards "
                "to no event bus: the alarm goes off and reaches nobody",
    fix="Give TamperDetection alert_emails or alert_event_bus_arns (config: audit.alert_emails / "
        "audit.alert_event_bus_arns, an event bus of the security account)",
    detail=lambda template, ctx: "rules without a receiver: " + ", ".join(_unreceived(template)),
)
def tamper_alerts_received(template: Template, ctx: RuleContext) -> Compliance:
    if not _tamper_rules(template):
        return Compliance.NOT_APPLICABLE
    return Compliance.NON_COMPLIANT if _unreceived(template) else Compliance.COMPLIANT


def _matches_iam_events(resource: Resource) -> bool:
    detail = cloudtrail_pattern(resource)
    return detail is not None and "iam.amazonaws.com" in as_list(detail.get("eventSource"))


def condition_regions(expression: object, conditions: dict) -> set[str] | None:
    """The regions a template condition admits, when it only compares ``AWS::Region`` to literals (``Fn::Equals``,
    ``Fn::Or``, a named ``Condition``); None when it says anything else."""
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    (operator, operands), = expression.items()
    if operator == "Condition" and isinstance(operands, str):
        return condition_regions(conditions.get(operands), conditions)
    if operator == "Fn::Or" and isinstance(operands, list):
        regions: set[str] = set()
        for operand in operands:
            admitted = condition_regions(operand, conditions)
            if admitted is None:
                return None
            regions |= admitted
        return regions
    if operator == "Fn::Equals" and isinstance(operands, list) and len(operands) == 2:
        ref, literal = sorted(operands, key=lambda o: isinstance(o, str))
        if ref == {"Ref": "AWS::Region"} and isinstance(literal, str):
            return {literal}
    return None


@rule(
    "IamEventRuleInIamRegion",
    controls=("SI-4", "AU-6"),
    explanation="An EventBridge rule matches IAM's CloudTrail events in a region where they never arrive: IAM is "
                "global and its events reach EventBridge only in the partition's IAM region (us-east-1, "
                "us-gov-west-1), so the rule claims a detection that never fires",
    fix="Deploy IAM-event rules in the IAM region (TamperDetection(iam_events_only=True) in a stack there; the "
        "reference app adds <stack>-iam-events), or give the rule a template condition on AWS::Region = the IAM "
        "region (TamperDetection does in an env-agnostic stack)",
    resource_types=("AWS::Events::Rule",),
)
def iam_event_rule_in_iam_region(resource: Resource, template: Template, ctx: RuleContext) -> Compliance:
    if not _matches_iam_events(resource):
        return Compliance.NOT_APPLICABLE
    iam_regions = set(IAM_EVENT_REGIONS.values())
    if resource.condition is not None:
        admitted = condition_regions({"Condition": resource.condition}, template.conditions)
        if admitted is not None and admitted <= iam_regions and (template.region is None or template.region in admitted):
            return Compliance.COMPLIANT
        return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT if template.region in iam_regions else Compliance.NON_COMPLIANT


#: Event names that CloudTrail records as DATA events, by event source, and the trail resource types that record
#: them: a rule matching them sees nothing unless the trail selects those types (Bedrock and Mantle CloudTrail pages).
DATA_EVENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bedrock.amazonaws.com": (("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream",
                               "InvokeModelWithBidirectionalStream"), ("AWS::Bedrock::Model",)),
    "bedrock-mantle.amazonaws.com": (("CreateInference",), REQUIRED_MANTLE_DATA_TYPES),
}


def data_event_types(resource: Resource) -> set[str]:
    """The trail data-event types an EventBridge rule depends on: those of each data-event source it matches
    without naming events (bearer-token use), or with a data event's name."""
    detail = cloudtrail_pattern(resource)
    if detail is None:
        return set()
    names = set(as_list(detail.get("eventName")))
    needed: set[str] = set()
    for source in as_list(detail.get("eventSource")):
        data_names, types = DATA_EVENTS.get(source, ((), ()))
        if types and (not names or names & set(data_names)):
            needed |= set(types)
    return needed


def _data_event_gaps(template: Template, ctx: RuleContext) -> dict[str, set[str]]:
    """Rule path -> the data-event types it depends on that no trail of the stack selects, nor (a stack without a
    trail) the multi-region trail it names when that trail is in the assembly: CloudTrail hands EventBridge in each
    region the data events a trail of the account selects there."""
    selected: set[str] = set()
    for trail in template.of_type("AWS::CloudTrail::Trail"):
        selected |= _data_types(trail)
    declared = None if template.of_type("AWS::CloudTrail::Trail") else _declared_trail(template)
    if declared and ctx.assembly is not None and ctx.stack is not None:
        covering = ctx.assembly.covering_trail(ctx.stack, declared)
        if covering is not None and covering.multi_region:
            selected |= _selected_types(list(covering.selectors))
    gaps = {}
    for event_rule in template.of_type("AWS::Events::Rule"):
        missing = data_event_types(event_rule) - selected
        if missing:
            gaps[event_rule.path] = missing
    return gaps


def _data_event_detail(template: Template, ctx: RuleContext) -> str:
    gaps = _data_event_gaps(template, ctx)
    where = ("the stack has no trail, so these rules depend on a trail elsewhere (the account's or the "
             "organization's trail) selecting them; name it with declare_trail_coverage (checked when that trail is "
             "in the app) or, outside the app, suppress_stack_rule naming it"
             if not template.of_type("AWS::CloudTrail::Trail") else "the stack's trail does not select them")
    return "; ".join(f"{path} needs {', '.join(sorted(types))}" for path, types in sorted(gaps.items())) + f" ({where})"


@rule(
    "DetectionDataEventsSelected",
    controls=("AU-2", "AU-12", "SI-4"),
    explanation="An EventBridge rule matches CloudTrail DATA events (Mantle CreateInference, bearer-token calls) that "
                "no trail of the stack selects: CloudTrail sends EventBridge only the data events a trail selects, so "
                "the rule never fires",
    fix="Select the data events in the stack's trail (AuditTrail: AWS::Bedrock::Model, and with mantle_data_events "
        "the AWS::BedrockMantle::* types); without a trail in the stack, declare_trail_coverage(<stack>, trail=<the "
        "account's trail of this app>, reason=...), or for a trail outside the app suppress_stack_rule(<stack>, "
        "'Bedrock-DetectionDataEventsSelected', reason=<which trail selects them>) (the reference app does for "
        "audit.create_trail: false)",
    detail=_data_event_detail,
)
def detection_data_events_selected(template: Template, ctx: RuleContext) -> Compliance:
    if not any(data_event_types(r) for r in template.of_type("AWS::Events::Rule")):
        return Compliance.NOT_APPLICABLE
    return Compliance.NON_COMPLIANT if _data_event_gaps(template, ctx) else Compliance.COMPLIANT
