"""Environment configuration: one YAML file per environment, parsed into typed, validated settings.

Everything a platform team may vary lives here, and nothing else in the app reads raw config.
Every rule below fails with the environment, the field, the bad value and what is allowed, so a
pipeline log says what to fix without a stack trace.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compliant_bedrock.arns import iam_event_region
from compliant_bedrock.audit_bucket import DEFAULT_OBJECT_LOCK_DAYS as _DEFAULT_LOCK_DAYS
from compliant_bedrock.audit_bucket import MAX_OBJECT_LOCK_DAYS
from compliant_bedrock.compliance.rules.audit import REQUIRED_BEDROCK_DATA_TYPES
from compliant_bedrock.compliance.suppressions import _HOLLOW as _PLACEHOLDER
from compliant_bedrock.compliance.suppressions import MIN_REASON_WORDS, RiskAcceptance, hollow, today
from compliant_bedrock.detection import EVENT_BUS_ARN_PATTERN, MAX_ALERT_EVENT_BUSES
from compliant_bedrock.developer_access import (
    INSTANCE_ARN_PATTERN,
    PERMISSION_SET_NAME,
    SSO_ROLE_PATTERN,
    check_instance_arn,
    session_minutes,
)
from compliant_bedrock.errors import ConstructPropsError
from compliant_bedrock.guardrail import guardrail_profile_for_region
from compliant_bedrock.kms import DEFAULT_BREAK_GLASS_ROLE_NAME, AuditAdmins
from compliant_bedrock.log_groups import RETENTION_DAYS
from compliant_bedrock.model_standing import acceptance_problem, unverified_reason
from compliant_bedrock.models import (
    MANTLE_PROJECT_PATTERN,
    PATHS,
    UNGUARDED_PATHS,
    InferencePath,
    ModelIdError,
    Residency,
    check_path,
    model_destinations,
)
from compliant_bedrock.private_link import FIPS_ENDPOINTS, FIPS_REGIONS, BedrockService
from compliant_bedrock.resolver import check_forwarder_cidr

#: OMB M-21-31 asks for 12 months of logs in active storage: the floor for every log group here.
MIN_LOG_RETENTION_DAYS = 365
# The lists below are the library's (one definition each); config only narrows them.
#: M-21-31's 12 months active + 18 months cold storage = 30 months, kept immutable by default.
DEFAULT_OBJECT_LOCK_DAYS = _DEFAULT_LOCK_DAYS
#: The retention values CloudWatch Logs accepts.
CLOUDWATCH_RETENTION_DAYS = tuple(RETENTION_DAYS)
#: The Bedrock endpoint services an environment may name.
ENDPOINT_SERVICES = tuple(s.value for s in BedrockService)
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{1,256}$")


class ConfigError(Exception):
    """Invalid configuration: one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def __str__(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}"


@cache
def partition_of(region: str) -> str | None:
    """The region's partition from aws-cdk-lib's region facts (not a list kept by hand); None if unknown.

    Asked per region in use: listing every region's partition up front costs ~80 jsii calls
    (0.2 s) on every synth.
    """
    from aws_cdk.region_info import Fact, FactName

    return Fact.find(region, FactName.PARTITION) if region in _region_names() else None


@cache
def _region_names() -> frozenset[str]:
    from aws_cdk.region_info import Fact

    return frozenset(Fact.regions)


def known_regions() -> dict[str, str]:
    """Every region aws-cdk-lib knows a partition for -> that partition (for messages; slow)."""
    return {r: p for r in sorted(_region_names()) if (p := partition_of(r))}


def account_id(value: Any) -> str:
    """A 12-digit account id given as a quoted string (a YAML number loses leading zeros), or ValueError."""
    if isinstance(value, int):
        raise ValueError(f"{value!r} was read as a number; quote it (\"{value:012d}\") so leading zeros survive")
    if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"{value!r} is not an AWS account id; expected exactly 12 digits, quoted (never '*')")
    return value


def _region_check(value: str) -> str:
    if partition_of(value) is None:
        raise ValueError(f"unknown AWS region {value!r}; known regions: {', '.join(sorted(known_regions()))}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class VpcSettings(_Strict):
    """A new isolated VPC (``cidr`` + ``az_count``), or an existing one (``vpc_id`` + ``subnet_ids``)."""

    cidr: str = Field(description="VPC CIDR (new VPC), or the existing VPC's CIDR, for the endpoint SG rule.")
    az_count: int | None = Field(default=None, description="New VPC: how many AZs get an endpoint subnet (2-6).")
    availability_zones: list[str] | None = Field(
        default=None, description="AZ names as the account names them. New VPC: required (az_count of them, "
        "if given). Existing VPC: one per subnet id."
    )
    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_ids: list[str] | None = None

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise ValueError(f"{value!r} is not an IPv4 CIDR block ({err}); use e.g. '10.40.0.0/16'") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"{value!r} has prefix /{net.prefixlen}; allowed: /16 to /24 (AWS VPC limits)")
        return str(net)

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int | None) -> int | None:
        if value is not None and not 2 <= value <= 6:
            raise ValueError(f"{value} is out of range; allowed: 2 to 6 (at least 2 for endpoint resilience)")
        return value

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, value: list[str] | None) -> list[str] | None:
        for subnet in value or []:
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", subnet):
                raise ValueError(f"{subnet!r} is not a subnet id; expected 'subnet-' and 8 to 17 hex digits")
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"{value!r} repeats a subnet id")
        return value

    @model_validator(mode="after")
    def _mode(self) -> VpcSettings:
        if self.vpc_id is None:
            if self.subnet_ids is not None:
                raise ValueError("subnet_ids is only for an existing VPC; add vpc_id or remove subnet_ids")
            net = ipaddress.IPv4Network(self.cidr)
            count = self.az_count or len(self.availability_zones or ()) or 2
            if 2 ** (24 - net.prefixlen) < count:
                raise ValueError(f"cidr {self.cidr} cannot hold {count} /24 endpoint subnets; widen it")
        else:
            if self.az_count is not None:
                raise ValueError("az_count is only for a new VPC; an existing VPC takes subnet_ids")
            if not self.subnet_ids or len(self.subnet_ids) < 2:
                raise ValueError("an existing VPC needs subnet_ids with at least 2 subnets in different AZs")
            if not self.availability_zones or len(self.availability_zones) != len(self.subnet_ids):
                raise ValueError("an existing VPC needs availability_zones, one per entry of subnet_ids, in order")
        return self

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None


class VerifyAccess(_Strict):
    """How ``compliant-bedrock verify`` reads this account: a named profile of the caller's AWS config, or a role
    it assumes (read-only; docs/verify.md lists the permissions). Neither: the caller's default credentials."""

    profile: str | None = Field(default=None, min_length=1)
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@/_-]+$")

    @model_validator(mode="after")
    def _one(self) -> VerifyAccess:
        if self.profile and self.role_arn:
            raise ValueError("give profile or role_arn, not both: the role is assumed with the caller's default "
                             "credentials; name the profile in AWS_PROFILE instead")
        return self


class RiskAcceptanceSettings(_Strict):
    """A written, approved, dated risk decision (a path no guardrail covers, account enforcement off, GOVERNANCE
    Object Lock): it becomes the rule's structured acceptance (``RiskAcceptance``) and a POA&M item."""

    reason: str
    compensating: str
    approved_by: str
    #: Until when the acceptance holds (YYYY-MM-DD); an expired one fails synth, so it is reviewed again.
    expires: dt.date

    @field_validator("reason", "compensating")
    @classmethod
    def _words(cls, value: str) -> str:
        if hollow(value):
            raise ValueError(f"{value!r} is not one an auditor can accept; say in at least {MIN_REASON_WORDS} words "
                             "why the risk is acceptable and what compensates for the missing control")
        return value

    @field_validator("approved_by")
    @classmethod
    def _approver(cls, value: str) -> str:
        if len(value.split()) < 2 or bool(_PLACEHOLDER.search(value)):
            raise ValueError(f"{value!r}: name who approved the exception and the decision record (e.g. 'AO, risk "
                             "acceptance RA-2026-031')")
        return value

    @field_validator("expires")
    @classmethod
    def _not_expired(cls, value: dt.date) -> dt.date:
        if value < today():
            raise ValueError(f"expired on {value.isoformat()}; fix the finding or renew the acceptance with a new "
                             "approval")
        return value

    def acceptance(self) -> RiskAcceptance:
        return RiskAcceptance(self.reason, self.compensating, self.approved_by, self.expires.isoformat())


class GuardrailSettings(_Strict):
    preset: Literal["federal-baseline"] = "federal-baseline"
    #: BLOCK refuses a prompt or answer with US PII; ANONYMIZE masks it and lets the call go on.
    pii_action: Literal["BLOCK", "ANONYMIZE"] = "BLOCK"
    tier: Literal["CLASSIC", "STANDARD"] = "CLASSIC"
    #: Enforce the guardrail for every principal of the account in this environment's region
    #: (AWS::Bedrock::EnforcedGuardrailConfiguration, whole request guarded). One per account and region.
    enforce_account_level: bool = True
    #: Required when enforce_account_level is false: a risk decision, so a structured acceptance (reason, e.g. which
    #: organization policy or environment enforces the guardrail instead; compensating; approved_by; expires); it
    #: becomes the Bedrock-GuardrailEnforcedAccountLevel acceptance in every report and a POA&M item.
    no_account_enforcement: RiskAcceptanceSettings | None = None
    #: Replaced by ``no_account_enforcement`` (a plain reason is not a risk acceptance); refused with the new form.
    no_account_enforcement_reason: str | None = None

    @model_validator(mode="after")
    def _enforcement_reason(self) -> GuardrailSettings:
        if self.no_account_enforcement_reason is not None:
            raise ValueError("no_account_enforcement_reason: a plain reason no longer turns account enforcement off "
                             "(a risk decision): replace it with no_account_enforcement: {reason, compensating, "
                             "approved_by, expires}")
        accepted = self.no_account_enforcement
        if self.enforce_account_level and accepted is not None:
            raise ValueError("no_account_enforcement is only for enforce_account_level: false; remove it")
        if not self.enforce_account_level and accepted is None:
            raise ValueError("enforce_account_level: false needs no_account_enforcement: {reason (at least 8 words: "
                             "what enforces the guardrail for every principal of this account and region instead, "
                             "e.g. the organization's Bedrock policy or the environment that enforces it), compensating, "
                             "approved_by, expires: YYYY-MM-DD}")
        return self


class ObjectLockSettings(_Strict):
    mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    days: int = DEFAULT_OBJECT_LOCK_DAYS
    #: Required for mode GOVERNANCE (a principal with s3:BypassGovernanceRetention can erase records): a risk
    #: decision, so a structured acceptance; it becomes the Bedrock-AuditObjectLockCompliance acceptance.
    governance_acceptance: RiskAcceptanceSettings | None = None
    #: Replaced by ``governance_acceptance``; refused with the new form.
    governance_reason: str | None = None

    @model_validator(mode="after")
    def _governance_reason(self) -> ObjectLockSettings:
        if self.governance_reason is not None:
            raise ValueError("governance_reason: a plain reason no longer allows GOVERNANCE mode (a risk decision): "
                             "replace it with governance_acceptance: {reason, compensating, approved_by, expires}")
        accepted = self.governance_acceptance
        if self.mode == "COMPLIANCE" and accepted is not None:
            raise ValueError("governance_acceptance is only for mode: GOVERNANCE; remove it")
        if self.mode == "GOVERNANCE" and accepted is None:
            raise ValueError("mode: GOVERNANCE needs governance_acceptance: {reason (at least 8 words: why records may "
                             "be erased before their retention ends, s3:BypassGovernanceRetention, and who may do it), "
                             "compensating, approved_by, expires: YYYY-MM-DD}")
        return self

    @field_validator("days")
    @classmethod
    def _days(cls, value: int) -> int:
        if not MIN_LOG_RETENTION_DAYS <= value <= MAX_OBJECT_LOCK_DAYS:
            raise ValueError(
                f"{value} is out of range; allowed: {MIN_LOG_RETENTION_DAYS} to {MAX_OBJECT_LOCK_DAYS} days "
                f"(OMB M-21-31 asks for at least 12 months; the default {DEFAULT_OBJECT_LOCK_DAYS} is 30 months)"
            )
        return value


_TRAIL_ARN = re.compile(r"arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[A-Za-z0-9._-]{3,128}")


class AuditSettings(_Strict):
    #: CloudTrail is multi-region: create it in one environment per account only.
    create_trail: bool = True
    #: Required when create_trail is false: the trail that records this environment, the name of the
    #: environment whose stack creates the account's trail or a trail ARN (an organization trail).
    trail_covered_by: str | None = None
    invocation_logging: bool = True
    #: Required when invocation_logging is false: why, in words an auditor accepts (it becomes the
    #: reason of the Bedrock-InvocationLoggingConfigured suppression in every report).
    no_invocation_logging_reason: str | None = None
    #: Days before audit objects move to Glacier Instant Retrieval (still locked, still readable).
    archive_after_days: int = Field(default=90, ge=30, le=3650)
    #: CloudTrail data-event types to select; default: every documented Bedrock type in ``aws``, the
    #: core ones (model, guardrail, agents, knowledge bases, async invoke) in other partitions.
    bedrock_data_event_types: list[str] | None = None
    #: Replicate the audit buckets to this region (same partition; needs ``account``); none when absent.
    replica_region: str | None = None
    #: The incident responders' role: with the deploy role, the only principal the audit key and bucket
    #: policies let disable, delete or re-police the audit plane. Created outside this app.
    break_glass_role_name: str = Field(default=DEFAULT_BREAK_GLASS_ROLE_NAME, pattern=r"^[\w+=,.@-]{1,64}$")
    #: The role CloudFormation deploys with; default CDK's bootstrap cdk-hnb659fds-cfn-exec-role-<account>-<region>.
    deploy_role_name: str | None = Field(default=None, pattern=r"^[\w+=,.@-]{1,64}$")
    #: Addresses subscribed to the tamper-alert topic (each confirms by email).
    alert_emails: list[str] = Field(default_factory=list)
    #: Event buses every tamper rule forwards to (an event bus of the security account, whose policy admits this
    #: account's events:PutEvents), at most four. With alert_emails: at least one subscriber is required.
    alert_event_bus_arns: list[str] = Field(default_factory=list)

    @field_validator("break_glass_role_name", "deploy_role_name")
    @classmethod
    def _exact_role(cls, value: str | None, info: Any) -> str | None:
        """The construct's rule (exact names, no pattern, no prefix), reported here under the config field."""
        if value is not None:
            try:
                AuditAdmins(**{info.field_name: value})
            except ValueError as err:
                raise ValueError(str(err).split(": ", 2)[-1]) from None
        return value

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address (name@domain)")
        return value

    @field_validator("alert_event_bus_arns")
    @classmethod
    def _buses(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not EVENT_BUS_ARN_PATTERN.fullmatch(arn):
                raise ValueError(f"{arn!r} is not an event bus ARN (arn:<partition>:events:<region>:<account>:"
                                 "event-bus/<name>)")
        if len(set(value)) != len(value):
            raise ValueError(f"{value!r} names a bus more than once")
        if len(value) > MAX_ALERT_EVENT_BUSES:
            raise ValueError(f"{len(value)} buses; an EventBridge rule has at most 5 targets (the alert topic and "
                             f"{MAX_ALERT_EVENT_BUSES} buses)")
        return value

    @field_validator("bedrock_data_event_types")
    @classmethod
    def _data_types(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not re.fullmatch(r"AWS::Bedrock[A-Za-z]*::[A-Za-z]+", name):
                raise ValueError(f"{name!r} is not a Bedrock CloudTrail resource type (e.g. AWS::Bedrock::Guardrail)")
        if value is not None and not set(REQUIRED_BEDROCK_DATA_TYPES) <= set(value):
            raise ValueError("must include AWS::Bedrock::Guardrail and AWS::Bedrock::Model (ApplyGuardrail and "
                             "model invocation data events, which the Bedrock rule pack requires)")
        return value

    @field_validator("trail_covered_by")
    @classmethod
    def _covered_by(cls, value: str | None) -> str | None:
        if value is not None and not (ENV_NAME_PATTERN.fullmatch(value) or _TRAIL_ARN.fullmatch(value)):
            raise ValueError(f"{value!r} is neither an environment name nor a trail ARN "
                             "(arn:<partition>:cloudtrail:<region>:<account>:trail/<name>)")
        return value

    @field_validator("replica_region")
    @classmethod
    def _replica(cls, value: str | None) -> str | None:
        return None if value is None else _region_check(value)

    @model_validator(mode="after")
    def _logging_reason(self) -> AuditSettings:
        if not self.create_trail and self.bedrock_data_event_types is not None:
            raise ValueError("bedrock_data_event_types selects events of this environment's trail, but "
                             "create_trail is false; set them where the account's trail is created")
        if self.create_trail == (self.trail_covered_by is not None):
            raise ValueError("trail_covered_by is only for create_trail: false; remove it" if self.create_trail else
                             "create_trail: false needs trail_covered_by: the environment whose stack creates this "
                             "account's trail, or the ARN of the trail that records it (an organization trail)")
        reason = self.no_invocation_logging_reason
        if self.invocation_logging and reason is not None:
            raise ValueError("no_invocation_logging_reason is only for invocation_logging: false; remove it")
        if not self.invocation_logging and (reason is None or len(reason.split()) < 8):
            raise ValueError("invocation_logging: false needs no_invocation_logging_reason of at least 8 words "
                             "saying where this account and region's Bedrock invocations are logged instead")
        return self


class TagSettings(_Strict):
    owner: str
    data_classification: Literal["public", "internal", "confidential", "cui"]
    cost_center: str

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        if not _TAG_VALUE.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid tag value (1-256 letters, digits, spaces and _.:/=+-@)")
        return value


class ComplianceSettings(_Strict):
    #: Packs checked on top of NIST 800-53 r5 and AWS Solutions.
    extra_packs: list[Literal["HIPAA", "PCI"]] = Field(default_factory=list)


PATH_NAMES = tuple(p.value for p in InferencePath)
UNGUARDED_PATH_NAMES = tuple(sorted(p.value for p in UNGUARDED_PATHS))
_HOLLOW_REASON = re.compile(r"\b(todo|tbd|fixme|temporary|temp fix|ignore|not needed|n/a)\b", re.IGNORECASE)


class ModelChoice(_Strict):
    """One model and the path that reaches it. In YAML a plain id means ``{id: <id>, path: runtime-converse}``."""

    id: str
    #: runtime-converse (guardrail enforced), runtime-openai (Responses/Chat Completions on bedrock-runtime, no
    #: guardrail) or mantle (bedrock-mantle: no guardrail, no invocation logging).
    path: Literal[PATH_NAMES] = "runtime-converse"  # type: ignore[valid-type]

    def __str__(self) -> str:
        return self.id if self.path == "runtime-converse" else f"{self.id} ({self.path})"


class MantleSettings(_Strict):
    """The environment's bedrock-mantle project and what its grants include."""

    #: Name of the environment's AWS::BedrockMantle::Project; default ``<env name>-workloads``.
    project_name: str | None = None
    #: Also grant Get/Cancel/DeleteInference (stored or background responses, kept 30 days by AWS).
    stored_responses: bool = False
    #: Do not deny Bedrock Managed Agents sessions (preview; an unguarded Mantle path).
    managed_agents: bool = False

    @field_validator("project_name")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and (not MANTLE_PROJECT_PATTERN.fullmatch(value) or value == "default"):
            raise ValueError(f"{value!r} is not a dedicated project name; use 1-64 letters, digits, '_' and '-' "
                             "(never 'default')")
        return value


class DeveloperSettings(_Strict):
    """Codex for the environment's developers (``docs/codex.md``): DNS from the agency network into the VPC, and
    an Identity Center permission set (deployed by the organization stack) carrying the Codex policy."""

    #: The agency DNS forwarders that forward the Bedrock names to the inbound resolver (private, /24 or narrower).
    forwarder_cidrs: list[str]
    #: ``arn:<partition>:sso:::instance/ssoins-...`` (``aws sso-admin list-instances``).
    identity_center_instance_arn: str
    #: ISO 8601, PT1H to PT12H (Identity Center's limits).
    session_duration: str = "PT8H"
    permission_set_name: str = "CodexDeveloper"
    #: The permission set's role in this account, by exact name, recorded after the first assignment (like the
    #: endpoint ids): the organization's SCPs exempt exactly this role from the Mantle denies. None: not yet
    #: assigned, so no developer can call Mantle (the SCPs deny it).
    sso_role: str | None = None
    #: Mantle models Codex may use (default: every model of the environment on path mantle).
    models: list[str] = Field(default_factory=list)

    @field_validator("forwarder_cidrs")
    @classmethod
    def _forwarders(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("is empty; name the agency DNS forwarders (e.g. ['10.10.1.53/32'])")
        try:
            return [check_forwarder_cidr(c, "developers") for c in value]
        except ConstructPropsError as err:
            raise ValueError(str(err).removeprefix("developers: ")) from None

    @field_validator("identity_center_instance_arn")
    @classmethod
    def _instance(cls, value: str) -> str:
        try:
            return check_instance_arn(value, "developers")
        except ConstructPropsError as err:
            raise ValueError(str(err).removeprefix("developers: ")) from None

    @field_validator("session_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            session_minutes(value, "developers")
        except ConstructPropsError as err:
            raise ValueError(str(err).removeprefix("developers: ")) from None
        return value

    @model_validator(mode="after")
    def _role(self) -> DeveloperSettings:
        if not PERMISSION_SET_NAME.fullmatch(self.permission_set_name):
            raise ValueError(f"permission_set_name: {self.permission_set_name!r} is not a permission set name (1-32 "
                             "of letters, digits and +=,.@_-)")
        if self.sso_role is not None:
            match = SSO_ROLE_PATTERN.fullmatch(self.sso_role)
            if match is None or match.group("set") != self.permission_set_name:
                raise ValueError(f"sso_role: {self.sso_role!r} is not the role of permission set "
                                 f"{self.permission_set_name!r}; copy its path and name from IAM after the first "
                                 "assignment: aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_"
                                 f"{self.permission_set_name}_<16 hex>")
        return self


class DestinationsAcceptance(_Strict):
    """Why a model whose destination regions the catalog marks UNCERTAIN may still run under ``data_residency``,
    and who approved it (it becomes a POA&M item)."""

    reason: str
    approved_by: str

    @field_validator("reason")
    @classmethod
    def _words(cls, value: str) -> str:
        if _HOLLOW_REASON.search(value) or len(value.split()) < MIN_REASON_WORDS:
            raise ValueError(f"{value!r} is not one an auditor can accept; say in at least {MIN_REASON_WORDS} words "
                             "why prompts may go wherever this profile routes them although the catalog cannot "
                             "confirm its destination regions")
        return value

    @field_validator("approved_by")
    @classmethod
    def _approver(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError(f"{value!r}: name who approved it (a role or a person, and a ticket)")
        return value


class UnverifiedModelAcceptance(_Strict):
    """Why a model id the catalog cannot vouch for (unknown, or UNCERTAIN here) is used anyway, and who approved it
    (``accept_unverified_models.<model id>``; it becomes a POA&M deviation with the approver)."""

    reason: str
    approved_by: str

    @field_validator("reason")
    @classmethod
    def _words(cls, value: str) -> str:
        problem = acceptance_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("approved_by")
    @classmethod
    def _approver(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError(f"{value!r}: name who approved it (a role or a person, and a ticket)")
        return value


#: FedRAMP's risk ratings (POA&M template columns Original / Adjusted Risk Rating).
RISK_RATINGS = ("Low", "Moderate", "High", "Critical")
#: FedRAMP's deviation types, and "none" for a weakness to be fixed, not deviated from.
DEVIATION_TYPES = ("risk acceptance", "operational requirement", "false positive", "vendor dependency", "none")


class PoamMilestone(_Strict):
    """One planned milestone of a POA&M item."""

    date: dt.date
    description: str = Field(min_length=3)


class PoamItemPlan(_Strict):
    """What the organization plans for one POA&M item (``poam.items.<POAM id>``, the id poam.json gives it): each
    field given here replaces the POA&M's "to be set by the system owner" or its derived value."""

    scheduled_completion: dt.date | None = None
    milestones: list[PoamMilestone] = Field(default_factory=list)
    point_of_contact: str | None = Field(default=None, min_length=3)
    original_risk_rating: Literal[RISK_RATINGS] | None = None  # type: ignore[valid-type]
    adjusted_risk_rating: Literal[RISK_RATINGS] | None = None  # type: ignore[valid-type]
    deviation_type: Literal[DEVIATION_TYPES] | None = None  # type: ignore[valid-type]
    vendor_dependency: bool | None = None


class PoamSettings(_Strict):
    """The organization's part of the environment's POA&M: its point of contact and, per item, its plan."""

    point_of_contact: str | None = Field(default=None, min_length=3)
    items: dict[str, PoamItemPlan] = Field(default_factory=dict)

    @field_validator("items")
    @classmethod
    def _ids(cls, value: dict[str, PoamItemPlan]) -> dict[str, PoamItemPlan]:
        bad = [k for k in value if not re.fullmatch(r"POAM-[0-9A-F]{10}", k)]
        if bad:
            raise ValueError(f"{bad}: not POA&M item ids; use the id poam.json gives the item (POAM- and 10 "
                             "hexadecimal digits)")
        return value


class EnvironmentSettings(_Strict):
    """One deployment target: an account (or env-agnostic) and a region.

    ``data_residency`` declares where prompts and completions may be processed: ``us`` (regions ``us-*``:
    commercial US, GovCloud, ISO), ``us-gov`` (``us-gov-*`` only) or an explicit list of regions. Synth then
    refuses the environment's region, its audit replica region (the invocation logs hold prompts and completions)
    and every model whose destination regions in the model catalog leave it, naming the model, those regions and
    the catalog's source; a ``global.`` profile (any commercial region) never fits one. A model whose destinations
    the catalog marks UNCERTAIN is refused too, unless ``accept_uncertain_destinations.<model id>`` gives a reason
    (at least 8 words) and an approver. Absent, nothing is checked; the evidence lists the destinations either way.
    """

    name: str
    region: str
    account: str | None = None
    partition: str | None = Field(default=None, description="Optional; when given, must match the region.")
    vpc: VpcSettings
    endpoints: list[Literal[ENDPOINT_SERVICES]] = Field(default_factory=lambda: ["bedrock-runtime"])  # type: ignore[valid-type]
    fips_endpoints: bool = False
    client_cidrs: list[str] = Field(default_factory=list, description="Networks admitted to the endpoints; default: the VPC CIDR.")
    organization_id: str | None = Field(default=None, pattern=r"^o-[a-z0-9]{10,32}$")
    #: Why no organization of ``config/organization/`` covers this environment's account (at least 8 words),
    #: when the app has organizations: its account-wide controls then rest on its own stack alone.
    no_organization_reason: str | None = None
    models: list[ModelChoice]
    #: Unguarded paths this environment uses, each with its approved risk acceptance.
    accept_unguarded: dict[Literal[UNGUARDED_PATH_NAMES], RiskAcceptanceSettings] = Field(  # type: ignore[valid-type]
        default_factory=dict)
    mantle: MantleSettings = Field(default_factory=MantleSettings)
    #: Codex for developers: the inbound resolver and the permission set (docs/codex.md). None: neither.
    developers: DeveloperSettings | None = None
    #: With fips_endpoints: true, endpoints accepted as non-FIPS by name (only those without a FIPS service).
    non_fips_endpoints: list[Literal[ENDPOINT_SERVICES]] = Field(default_factory=list)  # type: ignore[valid-type]
    #: Accounts whose principals may use the endpoints (default: the stack's account); with organization_id both
    #: must hold, so other accounts of the organization cannot tunnel through this network.
    principal_accounts: list[str] = Field(default_factory=list)
    #: Where prompts may be processed: ``us``, ``us-gov`` or a list of regions (see the class docstring); None: no check.
    data_residency: str | list[str] | None = None
    #: Model id -> why its UNCERTAIN destinations are accepted under ``data_residency``, and who approved it.
    accept_uncertain_destinations: dict[str, DestinationsAcceptance] = Field(default_factory=dict)
    #: Model id -> why it is taken although the model catalog does not know it, or marks it UNCERTAIN for this
    #: region or partition, and who approved it (strict by default: without it such an id fails synth; a POA&M item).
    accept_unverified_models: dict[str, UnverifiedModelAcceptance] = Field(default_factory=dict)
    guardrail: GuardrailSettings = Field(default_factory=GuardrailSettings)
    log_retention_days: int = MIN_LOG_RETENTION_DAYS
    object_lock: ObjectLockSettings = Field(default_factory=ObjectLockSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    tags: TagSettings
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)
    #: The organization's POA&M plans: point of contact, and per item scheduled completion, milestones, ratings.
    poam: PoamSettings = Field(default_factory=PoamSettings)
    #: How ``compliant-bedrock verify`` reads the deployed account (docs/verify.md); absent: default credentials.
    verify: VerifyAccess | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not allowed; use 2-24 lowercase letters, digits and '-', starting with a letter")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _region_check(value)

    @field_validator("no_organization_reason")
    @classmethod
    def _no_organization(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) < 8:
            raise ValueError("at least 8 words: why no organization's SCPs bind this environment's account")
        return value

    @field_validator("data_residency")
    @classmethod
    def _residency(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, str):
            Residency.of(value)
        elif value is not None:
            if not value:
                raise ValueError("is empty; name the regions prompts may be processed in, or us / us-gov")
            for region in value:
                _region_check(region)
            if len(set(value)) < len(value):
                raise ValueError(f"lists {sorted({r for r in value if value.count(r) > 1})} more than once")
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return None if value is None else account_id(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value < MIN_LOG_RETENTION_DAYS:
            raise ValueError(f"{value} days is below the minimum of {MIN_LOG_RETENTION_DAYS} "
                             "(OMB M-21-31: 12 months of logs in active storage)")
        if value not in CLOUDWATCH_RETENTION_DAYS:
            allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]
            raise ValueError(f"{value} is not a CloudWatch Logs retention value; allowed: {allowed}")
        return value

    @field_validator("client_cidrs")
    @classmethod
    def _client_cidrs(cls, value: list[str]) -> list[str]:
        nets = []
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as err:
                raise ValueError(f"{cidr!r} is not a CIDR block ({err})") from None
            if net.version != 4:
                raise ValueError(f"{cidr!r} is IPv6; the endpoints have IPv4 addresses only, so name the clients' "
                                 "IPv4 networks")
            if net.prefixlen < 8:
                raise ValueError(f"{cidr!r} admits (nearly) every address; name client networks of /8 or narrower")
            for other in nets:
                if net.version == other.version and net.overlaps(other):
                    raise ValueError(f"{cidr!r} overlaps {str(other)!r}; list each client network once")
            nets.append(net)
        return [str(n) for n in nets]

    @field_validator("models", mode="before")
    @classmethod
    def _model_entries(cls, value: Any) -> Any:
        """A plain id is the runtime Converse path: ``- openai.gpt-oss-120b-1:0``."""
        return [{"id": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("models")
    @classmethod
    def _models_unique(cls, value: list[ModelChoice]) -> list[ModelChoice]:
        if not value:
            raise ValueError("is empty; list at least one model id, e.g. openai.gpt-oss-120b-1:0")
        ids = [m.id for m in value]
        dupes = sorted({m for m in ids if ids.count(m) > 1})
        if dupes:
            raise ValueError(f"lists {dupes} more than once")
        return value

    @field_validator("principal_accounts")
    @classmethod
    def _principal_accounts(cls, value: list[str]) -> list[str]:
        for account in value:
            if not (isinstance(account, str) and re.fullmatch(r"\d{12}", account)):
                raise ValueError(f"{account!r} is not an AWS account id; expected exactly 12 digits, quoted")
        return value

    def model_ids(self, path: InferencePath | str | None = None) -> list[str]:
        """The configured ids, all or those reached on ``path``."""
        wanted = InferencePath(path).value if path is not None else None
        return [m.id for m in self.models if wanted is None or m.path == wanted]

    @property
    def allows_mantle(self) -> bool:
        """A model on path mantle, or a bedrock-mantle endpoint (what Bedrock-TrailMantleDataEvents looks for)."""
        return bool(self.model_ids(InferencePath.MANTLE)) or "bedrock-mantle" in self.endpoints

    @model_validator(mode="after")
    def _cross_field(self) -> EnvironmentSettings:
        region_partition = partition_of(self.region)
        if self.partition is not None and self.partition != region_partition:
            raise ValueError(f"partition: {self.partition!r} does not match region {self.region!r}, which is in "
                             f"{region_partition!r}; remove partition or fix the region")
        for model in self.models:
            try:
                check_path(model.id, InferencePath(model.path), self.region)
            except ModelIdError as err:
                raise ValueError(f"models: {err}") from None
        self._check_paths()
        self._check_residency()
        replica = self.audit.replica_region
        if replica is not None:
            if replica == self.region:
                raise ValueError(f"audit.replica_region: {replica!r} is the environment's own region; name another")
            if partition_of(replica) != region_partition:
                raise ValueError(f"audit.replica_region: {replica!r} is in partition {partition_of(replica)!r}, "
                                 f"not {region_partition!r}; replication cannot cross partitions")
            if self.account is None:
                raise ValueError(f"audit.replica_region: {replica!r} needs account: the replica buckets are named "
                                 "after it, so the source can name them before they exist")
            if not self.audit.create_trail and not self.audit.invocation_logging:
                raise ValueError(f"audit.replica_region: {replica!r}, but this environment writes no audit logs "
                                 "(create_trail and invocation_logging are false); remove replica_region")
        no_fips = [e for e in self.endpoints if e not in FIPS_ENDPOINTS and e not in self.non_fips_endpoints]
        if self.fips_endpoints and no_fips:
            raise ValueError(f"fips_endpoints: true, but endpoints {no_fips} have no FIPS endpoint service "
                             f"(FIPS: {', '.join(FIPS_ENDPOINTS)}); remove them, accept them as non-FIPS by name "
                             f"(non_fips_endpoints: {no_fips}) or set fips_endpoints: false")
        for endpoint in self.non_fips_endpoints:
            if not self.fips_endpoints or endpoint not in self.endpoints or endpoint in FIPS_ENDPOINTS:
                raise ValueError(f"non_fips_endpoints: {endpoint!r} must be an endpoint of this environment without "
                                 f"a FIPS service (FIPS: {', '.join(FIPS_ENDPOINTS)}), and only with "
                                 "fips_endpoints: true; remove it")
        if self.fips_endpoints and self.region not in FIPS_REGIONS:
            raise ValueError(f"fips_endpoints: true, but {self.region!r} has no Bedrock FIPS endpoint service; "
                             f"regions with one: {', '.join(sorted(FIPS_REGIONS))} (or set fips_endpoints: false)")
        if self.guardrail.tier == "STANDARD":
            try:
                guardrail_profile_for_region(self.region)
            except ValueError:
                raise ValueError(f"guardrail.tier: 'STANDARD' needs a cross-region guardrail profile, and none is "
                                 f"known for {self.region!r} (us-* -> us, us-gov-* -> us-gov, eu-* -> eu, ap-* -> "
                                 "apac); use tier: CLASSIC here") from None
        for zone in self.vpc.availability_zones or []:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", zone):
                raise ValueError(f"vpc.availability_zones: {zone!r} is not a zone of {self.region!r} "
                                 f"(expected e.g. {self.region}a)")
        if not self.vpc.existing and not self.vpc.availability_zones:
            raise ValueError(f"vpc.availability_zones: required for a new VPC; list {self.vpc.az_count or 2} zones of "
                             f"{self.region!r} as this account names them (aws ec2 describe-availability-zones "
                             f"--region {self.region}): zone letters differ by region (ap-northeast-1 has no 1b) "
                             "and synth never looks them up")
        if not self.vpc.existing and self.vpc.availability_zones is not None:
            count = self.vpc.az_count or len(self.vpc.availability_zones)
            if len(self.vpc.availability_zones) != count:
                raise ValueError(f"vpc.availability_zones: names {len(self.vpc.availability_zones)} zones but "
                                 f"vpc.az_count is {count}; make them agree")
        self._check_alerts(region_partition)
        return self

    @model_validator(mode="after")
    def _models_vouched_for(self) -> EnvironmentSettings:
        """Strict by default: every model the catalog cannot vouch for here is accepted in words (all at once)."""
        problems = model_problems([(m.id, m.path) for m in self.models], self.region,
                                  self.accept_unverified_models)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _check_alerts(self, partition: str | None) -> None:
        """Tamper alerts reach somebody: an address or an event bus of this partition (not this account's own)."""
        if not self.audit.alert_emails and not self.audit.alert_event_bus_arns:
            raise ValueError("audit.alert_emails / audit.alert_event_bus_arns: no alert subscriber; the tamper alerts "
                             "would reach nobody. Set alert_event_bus_arns to an event bus of the security account "
                             f"(arn:{partition}:events:<region>:<account>:event-bus/<name>, its policy admitting this "
                             "account's events:PutEvents) and/or alert_emails (each address confirms by email)")
        for arn in self.audit.alert_event_bus_arns:
            match = EVENT_BUS_ARN_PATTERN.fullmatch(arn)
            if match and match.group(1) != partition:
                raise ValueError(f"audit.alert_event_bus_arns: {arn!r} is in partition {match.group(1)!r}, not "
                                 f"{partition!r} (region {self.region!r}); EventBridge delivers within a partition")
            if match and (match.group(2), match.group(3)) == (self.region, self.account):
                raise ValueError(f"audit.alert_event_bus_arns: {arn!r} is a bus of this environment's own account and "
                                 "region, where an administrator silences it; name a bus of the security account")

    @property
    def residency(self) -> Residency | None:
        return None if self.data_residency is None else Residency.of(self.data_residency)

    def _check_residency(self) -> None:
        """Every place a prompt may be processed lies inside ``data_residency``: the region, the replica of the
        invocation logs, each model's destinations in the catalog (certain ones, or accepted in writing)."""
        residency = self.residency
        models = {m.id: m for m in self.models}
        for model_id in self.accept_uncertain_destinations:
            model = models.get(model_id)
            if residency is None or model is None or not model_destinations(model_id, model.path, self.region).uncertain:
                why = ("no data_residency is declared, so nothing is checked" if residency is None else
                       "no model of this environment has that id" if model is None else
                       "the catalog's destinations for it are not UNCERTAIN")
                raise ValueError(f"accept_uncertain_destinations.{model_id}: {why}; remove the acceptance (an "
                                 "exception for nothing reads as a standing pre-approval)")
        if residency is None:
            return
        where = f"data_residency: {residency}"
        if not residency.allows(self.region):
            raise ValueError(f"{where}: the environment's region {self.region!r} is outside it (in-region inference "
                             "and the audit logs are there); declare a residency that contains it")
        replica = self.audit.replica_region
        if replica is not None and not residency.allows(replica):
            raise ValueError(f"{where}: audit.replica_region {replica!r} is outside it (the replica holds the "
                             "invocation logs: prompts and completions); name a replica region inside it")
        problems, regions = [], {self.region}
        for model in self.models:
            dest = model_destinations(model.id, model.path, self.region)
            regions.update(dest.regions or ())
            outside = residency.outside(dest)
            unaccepted = dest.uncertain and model.id not in self.accept_uncertain_destinations
            if not outside and not unaccepted:
                continue
            cite = f"source: {', '.join(dest.sources)}" if dest.sources else "no source: not in the model catalog"
            text = (f"{model.id} ({dest.endpoint}, called in {self.region}) may process prompts in {dest.describe()} "
                    f"({'UNCERTAIN: ' if dest.uncertain else ''}{dest.basis}; {cite})")
            if outside:
                text += f": {', '.join(outside)} outside it"
            if unaccepted:
                text += (f"{'; and' if outside else ':'} the catalog cannot confirm those destinations, so a residency "
                         f"holds for it only with accept_uncertain_destinations: {{{model.id}: {{reason: <at least "
                         f"{MIN_REASON_WORDS} words>, approved_by: <who, and the ticket>}}}}")
            problems.append(text)
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems) + ". Reach those models another way (an in-region "
                             "id, a profile whose destinations stay inside), remove them, or declare the residency "
                             f"that is true (e.g. data_residency: [{', '.join(sorted(regions))}])")

    @property
    def iam_events_region(self) -> str | None:
        """The region of another stack for the IAM-event rules (IAM delivers its events only in its partition's
        IAM region), or None when this environment's region is that region (or the partition's is unknown)."""
        region = iam_event_region(str(self.resolved_partition))
        return region if region is not None and region != self.region else None

    def _check_paths(self) -> None:
        """Unguarded paths need their written acceptance; Mantle needs its endpoint and its own trail."""
        for path in sorted(UNGUARDED_PATHS, key=lambda p: p.value):
            models = self.model_ids(path)
            if models and path.value not in self.accept_unguarded:
                enforcement = PATHS[path]
                missing = ["the guardrail"] + ([] if enforcement.invocation_logging else ["model invocation logging"])
                raise ValueError(
                    f"models: {', '.join(models)} on path {path.value}: {' and '.join(missing)} cannot apply there "
                    f"(AWS; {enforcement.sources[0]}). Reach them through runtime-converse where the catalog offers "
                    f"it, or accept the risk in writing: accept_unguarded: {{{path.value}: {{reason: <at least "
                    f"{MIN_REASON_WORDS} words>, compensating: <what stands in for the guardrail>, approved_by: "
                    "<who, and the ticket>}} (it becomes the Bedrock-UnguardedInferencePath suppression reason)")
            if not models and path.value in self.accept_unguarded:
                raise ValueError(f"accept_unguarded.{path.value}: no model uses path {path.value}; remove the "
                                 "acceptance (an exception for nothing reads as a standing pre-approval)")
        if self.model_ids(InferencePath.MANTLE):
            if "bedrock-mantle" not in self.endpoints:
                raise ValueError(f"models: {', '.join(self.model_ids(InferencePath.MANTLE))} on path mantle need "
                                 "'bedrock-mantle' in endpoints (and, with fips_endpoints: true, in non_fips_endpoints: "
                                 "AWS has no bedrock-mantle FIPS service)")
        elif self.mantle != MantleSettings():
            raise ValueError("mantle: settings for the Mantle project, but no model uses path mantle; remove them")
        if self.allows_mantle and not self.audit.create_trail:
            raise ValueError("audit.create_trail: false, but this environment allows Mantle (a mantle model or the "
                             "bedrock-mantle endpoint), whose inference only CloudTrail data events record; it must own "
                             "its account's trail (create_trail: true) so the trail selects AWS::BedrockMantle::* data "
                             "events")
        if self.mantle.managed_agents and "mantle" not in self.accept_unguarded:
            raise ValueError("mantle.managed_agents: true needs accept_unguarded.mantle (sessions run unguarded)")
        self._check_developers()

    def _check_developers(self) -> None:
        """Codex runs on Mantle: the environment must have Mantle models; the instance ARN its partition."""
        developers = self.developers
        if developers is None:
            return
        mantle = self.model_ids(InferencePath.MANTLE)
        if not mantle:
            raise ValueError("developers: Codex uses bedrock-mantle, and no model of this environment is on path "
                             "mantle; add one (with accept_unguarded.mantle) or remove developers")
        unknown = sorted(set(developers.models) - set(mantle))
        if unknown:
            raise ValueError(f"developers.models: {unknown} are not models of this environment on path mantle "
                             f"({', '.join(mantle)})")
        partition = partition_of(self.region)
        check = INSTANCE_ARN_PATTERN.fullmatch(developers.identity_center_instance_arn)
        if check is not None and check.group("partition") != partition:
            raise ValueError(f"developers.identity_center_instance_arn: {developers.identity_center_instance_arn!r} is "
                             f"in partition {check.group('partition')!r}, the environment in {partition!r}; use the "
                             "Identity Center instance of this partition")
        if partition != "aws":
            raise ValueError(f"developers: Codex does not support Mantle in {partition} (OpenAI, "
                             "developers.openai.com/codex/amazon-bedrock); remove developers")

    @property
    def mantle_project_name(self) -> str:
        return self.mantle.project_name or f"{self.name}-workloads"

    @property
    def resolved_partition(self) -> str:
        return partition_of(self.region)

    @property
    def availability_zones(self) -> list[str]:
        """Zone names from the configuration, so synth never looks them up (offline, no credentials)."""
        return list(self.vpc.availability_zones or ())

    def stack_tags(self) -> dict[str, str]:
        """The tags every stack of this environment carries (its evidence and cost reports group by them)."""
        return {"Environment": self.name, "Owner": self.tags.owner,
                "DataClassification": self.tags.data_classification, "CostCenter": self.tags.cost_center,
                "ManagedBy": "compliant-bedrock"}

    @property
    def stack_name(self) -> str:
        return f"CompliantBedrock-{self.name}"

    @property
    def audit_admins(self) -> AuditAdmins:
        """The only roles the audit key and bucket policies let change the audit plane."""
        return AuditAdmins(break_glass_role_name=self.audit.break_glass_role_name,
                           deploy_role_name=self.audit.deploy_role_name)


# ---------------------------------------------------------------------------------------------
# Strict by default on models, and every problem at once


def did_you_mean(word: object, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``choices`` to a mistyped key, else `` (a typo?)``."""
    near = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else " (a typo?)"


def without_misspelt_missing(errors: list[Any]) -> list[Any]:
    """Pydantic's errors less a "missing" one that a mistyped key beside it explains (``home_regoin`` for
    ``home_region``): the typo's line says both, with "did you mean"."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing" and e["loc"]}
    explained: set[tuple[Any, ...]] = set()
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" and loc:
            siblings = [str(m[-1]) for m in missing if m[:-1] == loc[:-1]]
            near = difflib.get_close_matches(str(loc[-1]), siblings, n=1, cutoff=0.6)
            if near:
                explained.add((*loc[:-1], near[0]))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in explained)]


def model_problems(models: list[tuple[str, str]], region: str, accepted: Any) -> list[str]:
    """Every model of an environment the catalog refuses, or cannot vouch for and no acceptance names, and every
    acceptance of nothing: one line each (``models: ...`` / ``accept_unverified_models.<id>: ...``)."""
    problems: list[str] = []
    why: dict[str, str | None] = {}
    for model_id, path in models:
        try:
            why[model_id] = unverified_reason(model_id, path, region)
        except ModelIdError as err:
            problems.append(f"models: {err}")
            continue
        if why[model_id] is not None and model_id not in accepted:
            problems.append(
                f"models: model id {model_id!r} (path {path}) {why[model_id]}; use a catalog id, or accept it in "
                f"writing: accept_unverified_models: {{{model_id}: {{reason: <at least {MIN_REASON_WORDS} words: how "
                f"it was confirmed in {region}>, approved_by: <who, and the ticket>}}}} (it becomes a POA&M item)")
    for model_id in accepted:
        if model_id not in why and model_id not in {m for m, _ in models}:
            problems.append(f"accept_unverified_models.{model_id}: no model of this environment has that id; remove "
                            "the acceptance (an exception for nothing reads as a standing pre-approval)")
        elif model_id in why and why[model_id] is None:
            problems.append(f"accept_unverified_models.{model_id}: the model catalog vouches for it in {region}; "
                            "remove the acceptance (an exception for nothing reads as a standing pre-approval)")
    return problems


def _salvaged_model_problems(raw: dict[str, Any], err: ValidationError) -> list[str]:
    """The model checks on a mapping that failed validation elsewhere, when its region and models are valid."""
    if any(e["loc"] and e["loc"][0] in ("region", "models") for e in err.errors()):
        return []
    region, entries = raw.get("region"), raw.get("models")
    if not isinstance(region, str) or partition_of(region) is None or not isinstance(entries, list):
        return []
    models = []
    for entry in entries:
        entry = {"id": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) \
                or entry.get("path", "runtime-converse") not in PATH_NAMES:
            return []
        models.append((entry["id"], str(entry.get("path", "runtime-converse"))))
    accepted = raw.get("accept_unverified_models")
    return model_problems(models, region, accepted if isinstance(accepted, dict) else {})


# ---------------------------------------------------------------------------------------------
# Loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of ``loc`` (to list its allowed keys)."""
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nested is None:
            return None
        model = nested
    return model


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    field = ".".join(str(p) for p in loc)
    kind = error["type"]
    if not loc:  # cross-field rules name their fields themselves
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        owner = _model_at(EnvironmentSettings, loc)
        allowed = ", ".join(owner.model_fields) if owner else "see README"
        return f"{field}: unknown key{did_you_mean(loc[-1], owner.model_fields if owner else ())}; allowed keys here: {allowed}"
    if kind == "missing":
        return f"{field}: required field is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("value_error", "assertion_error") or "input" not in error:
        return f"{field}: {message}"
    return f"{field} = {error['input']!r}: {message}"


def parse_environment(raw: Any, source: str) -> EnvironmentSettings:
    """Validate one environment's mapping, or raise ConfigError naming source, env and field."""
    label = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else Path(source).stem
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: environment {label!r}: expected a mapping of settings, got {type(raw).__name__}"])
    try:
        return EnvironmentSettings.model_validate(raw)
    except ValidationError as err:
        # A cross-field rule's message may hold several problems, one per line (the model checks).
        problems = [line for e in without_misspelt_missing(err.errors()) for line in _describe(e).split("\n")]
        # The model checks run only once every field is valid; run them on the raw mapping too, so a bad model id
        # is reported in the same pass as a typo elsewhere in the file.
        problems += [p for p in _salvaged_model_problems(raw, err) if p not in problems]
        raise ConfigError([f"{source}: environment {label!r}: {p}" for p in problems]) from None


def check_environments(envs: list[tuple[str, EnvironmentSettings]], unparsed: Collection[str] = ()) -> None:
    """Rules across environments: unique names, one trail per account, no two invocation-logging owners.

    An environment without ``account`` deploys to whatever account the CLI's credentials name, which
    synth cannot know: it may share an account with any other environment of its partition (never of
    another partition). So it may own the trail, or a region's invocation logging, only when no other
    environment of its partition could own the same one.
    """
    problems: list[str] = []
    names: dict[str, str] = {}
    trails: list[EnvironmentSettings] = []
    logging_owners: list[EnvironmentSettings] = []
    enforcement_owners: list[EnvironmentSettings] = []

    def clash(env: EnvironmentSettings, owners: list[EnvironmentSettings], same_region: bool) -> EnvironmentSettings | None:
        for other in owners:
            if other.resolved_partition != env.resolved_partition or (same_region and other.region != env.region):
                continue
            if env.account is None or other.account is None or env.account == other.account:
                return other
        return None

    for source, env in envs:
        if env.name in names:
            problems.append(f"{source}: environment {env.name!r}: name: duplicate of the environment in {names[env.name]}; "
                            "environment names must be unique")
        names.setdefault(env.name, source)
        if env.audit.create_trail:
            other = clash(env, trails, same_region=False)
            if other is not None:
                problems.append(f"{source}: environment {env.name!r}: audit.create_trail: " + (
                    f"account {env.account} already gets its multi-region trail from {other.name!r}; " + (
                        f"set create_trail: false in {other.name!r} (this environment allows Mantle, so it must own "
                        "its account's trail), or deploy it into an account of its own" if env.allows_mantle
                        else "set false here")
                    if env.account and env.account == other.account else
                    f"{other.name!r} creates a multi-region trail and either environment has no account, so both "
                    "could deploy to one account: name `account` in each, or set create_trail: false here"))
            trails.append(env)
        if env.audit.invocation_logging:
            other = clash(env, logging_owners, same_region=True)
            if other is not None:
                problems.append(f"{source}: environment {env.name!r}: audit.invocation_logging: " + (
                    f"{env.account}/{env.region} is already configured by {other.name!r} (one setting per account "
                    "and region)" if env.account and env.account == other.account else
                    f"{other.name!r} configures {env.region} too and either environment has no account, so both could "
                    "deploy to one account: name `account` in each, or set invocation_logging: false here"))
            logging_owners.append(env)
        if env.guardrail.enforce_account_level:
            other = clash(env, enforcement_owners, same_region=True)
            if other is not None:
                problems.append(f"{source}: environment {env.name!r}: guardrail.enforce_account_level: " + (
                    f"{env.account}/{env.region} already enforces the guardrail of {other.name!r} (one enforced "
                    "configuration per account and region)" if env.account and env.account == other.account else
                    f"{other.name!r} enforces its guardrail in {env.region} too and either environment has no account, "
                    "so both could deploy to one account: name `account` in each, or") +
                    " set false here with no_account_enforcement: {reason naming that environment, compensating, approved_by, "
                    "expires}")
            enforcement_owners.append(env)
    owners = {env.name: env for _, env in envs}
    for source, env in envs:
        owner = owners.get(str(env.audit.trail_covered_by)) if not env.audit.create_trail else None
        if owner is None and env.audit.trail_covered_by and not _TRAIL_ARN.fullmatch(env.audit.trail_covered_by) \
                and env.audit.trail_covered_by not in unparsed:  # one that failed to validate is reported already
            problems.append(f"{source}: environment {env.name!r}: audit.trail_covered_by: no environment "
                            f"{env.audit.trail_covered_by!r}; name the environment that creates this account's "
                            "trail, or the trail's ARN")
        elif owner is not None and (not owner.audit.create_trail or owner.resolved_partition != env.resolved_partition
                                    or (None not in (owner.account, env.account) and owner.account != env.account)):
            problems.append(f"{source}: environment {env.name!r}: audit.trail_covered_by: {owner.name!r} does not "
                            "create a trail in this environment's account (it needs create_trail: true and the same "
                            "account and partition)")
    replicated = {f"{env.name}-replica": env.name for _, env in envs if env.audit.replica_region}
    replicated |= {f"{env.name}-iam-events": env.name for _, env in envs if env.iam_events_region}  # the same clash
    for source, env in envs:
        if env.name in replicated:
            kind = "IAM-events" if env.name.endswith("-iam-events") else "replica"
            problems.append(f"{source}: environment {env.name!r}: name: its stack would be the {kind} stack of "
                            f"environment {replicated[env.name]!r} (CompliantBedrock-{env.name}); rename it")
    if problems:
        raise ConfigError(problems)


def read_environments(config_dir: Path) -> tuple[list[tuple[str, EnvironmentSettings]], list[str], set[str]]:
    """Every ``*.yaml`` in ``config_dir``: the (file, settings) that validate, every problem of every file and of
    the rules across them (over the files that validate), and the names of those that did not (every problem in
    one pass: ``infra.validate`` goes on to the organization files with what parsed)."""
    files = sorted(config_dir.glob("*.yaml")) + sorted(config_dir.glob("*.yml"))
    if not files:
        return [], [f"{config_dir}: no environment files (*.yaml); add one per environment, see README"], set()
    problems: list[str] = []
    envs: list[tuple[str, EnvironmentSettings]] = []
    unparsed: set[str] = set()  # file stems (and names) of environments that did not validate
    for path in files:
        source = str(path)
        raw: Any = None
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
            envs.append((source, parse_environment(raw, source)))
        except yaml.YAMLError as err:
            problems.append(f"{source}: not valid YAML: {err}".replace("\n", " "))
            unparsed.add(path.stem)
        except ConfigError as err:
            problems.extend(err.problems)
            unparsed.update([path.stem] + ([raw["name"]] if isinstance(raw, dict) and isinstance(raw.get("name"), str)
                                           else []))
    try:  # the rules across files too, over the files that parsed
        check_environments(envs, unparsed=unparsed)
    except ConfigError as err:
        problems.extend(err.problems)
    return envs, problems, unparsed


def load_environments(config_dir: Path, only: str | None = None) -> list[EnvironmentSettings]:
    """Every ``*.yaml`` in ``config_dir``, validated together; ``only`` selects one by name."""
    envs, problems, _ = read_environments(config_dir)
    if problems:
        raise ConfigError(problems)
    if only is not None:
        chosen = [env for _, env in envs if env.name == only]
        if not chosen:
            raise ConfigError([f"-c env={only}: no such environment; known: {', '.join(e.name for _, e in envs)}"])
        return chosen
    return [env for _, env in envs]
