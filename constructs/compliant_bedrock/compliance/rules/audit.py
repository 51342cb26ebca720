"""Audit rules: a multi-region validated trail with Bedrock data events, immutable and retained logs."""

from __future__ import annotations

import json

from ..pack import Compliance, RuleContext, rule
from ..template import Resource, Template, as_list, possible_strings, referenced_ids
from .iam import invoke_allow_statements, mantle_allow_statements

#: Data-event types a Bedrock trail must select: guardrail use and model invocation at least.
REQUIRED_BEDROCK_DATA_TYPES = ("AWS::Bedrock::Guardrail", "AWS::Bedrock::Model")
#: Template metadata key ``AuditBucket`` puts on its bucket, so the pack checks every audit bucket,
#: also one no trail of its own stack references (a cross-region replica).
AUDIT_BUCKET_METADATA = "compliant-bedrock:audit-bucket"


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
    types: set[str] = set()
    for selector in as_list(trail.properties.get("AdvancedEventSelectors")):
        fields = {f.get("Field"): f for f in as_list(selector.get("FieldSelectors")) if isinstance(f, dict)}
        if "Data" in as_list((fields.get("eventCategory") or {}).get("Equals")) \
                and set(fields) == {"eventCategory", "resources.type"}:
            types |= set(as_list((fields.get("resources.type") or {}).get("Equals")))
    return types


@rule(
    "TrailMantleDataEvents",
    controls=("AU-2", "AU-3", "AU-12"),
    explanation="The stack allows bedrock-mantle (a grant, a Mantle project or endpoint) but no trail of the stack "
                "records Mantle data events (AWS::BedrockMantle::Project, ::CustomizedModel, ::Reservation): Mantle "
                "inference is a CloudTrail data event, invocation logging does not see it, so it goes unrecorded",
    fix="Create the trail with AuditTrail(mantle_data_events=True) (config: a Mantle environment owns its account's "
        "trail, or the owner sets audit.mantle_data_events: true)",
)
def trail_mantle_data_events(template: Template, ctx: RuleContext) -> Compliance:
    if not allows_mantle(template):
        return Compliance.NOT_APPLICABLE
    for trail in template.of_type("AWS::CloudTrail::Trail"):
        if set(REQUIRED_MANTLE_DATA_TYPES) <= _data_types(trail):
            return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT
