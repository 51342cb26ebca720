"""Organization configuration: ``config/organization/<name>.yaml``, one file per organization, parsed into typed settings.

Not environments: environments are ``config/*.yaml`` (globbed non-recursively), these files live one
level down. An organization lives in one partition (GovCloud and ISO accounts belong to organizations of
their own), so an app that deploys to two partitions has two files, and builds one organization stack per
file (``CompliantBedrock-organization-<name>``; a file named ``organization.yaml`` keeps the earlier
release's ``CompliantBedrock-organization``) for that organization's management account. Every environment
is covered by exactly one organization of its own partition, or says why none (``no_organization_reason``).
Every error names the file, the field, the bad value and the fix, and the CLI exits 2 without a traceback
(``ConfigError``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from compliant_bedrock.detection import EVENT_BUS_ARN_PATTERN
from compliant_bedrock.organization import (
    DEFAULT_BOOTSTRAP_QUALIFIER,
    DEFAULT_BREAK_GLASS_ROLE,
    EXACT_ROLE_NAME_PATTERN,
    KEY_SOURCE,
    MAX_ATTACHED_PER_TARGET,
    ORG_ID_PATTERN,
    PROFILE_PREFIX_PATTERN,
    TARGET_PATTERN,
    EndpointCondition,
    ExemptRole,
)
from compliant_bedrock.partitions import support

from .baseline import replication_role_name
from .config import (
    CLOUDWATCH_RETENTION_DAYS,
    DEFAULT_OBJECT_LOCK_DAYS,
    MIN_LOG_RETENTION_DAYS,
    AuditSettings,
    ConfigError,
    VerifyAccess,
    _model_at,
    _region_check,
    _UniqueKeyLoader,
    account_id,
    did_you_mean,
    partition_of,
    without_misspelt_missing,
)

ORGANIZATION_DIR = "organization"
ORGANIZATION_STACK = "CompliantBedrock-organization"
VERIFICATION_STACK = "CompliantBedrock-verification"
#: The services whose interface endpoints admit inference and model management (an environment's Bedrock endpoints).
BEDROCK_ENDPOINT_SERVICES = ("bedrock-runtime", "bedrock", "bedrock-mantle", "bedrock-agent-runtime", "bedrock-agent")
_VPCE = re.compile(r"^vpce-[0-9a-f]{8,17}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _exact(name: str) -> str:
    if not EXACT_ROLE_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not an exact role name (1-64 of letters, digits and +=,.@_-; no '*': a "
                         "pattern is a name any account administrator can create)")
    return name


class AccountRole(_Strict):
    """A role by exact ARN: its account (12 digits, quoted) and its exact name."""

    account: str
    role: str

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return account_id(value)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _exact(value)


class EnvironmentRole(_Strict):
    """A role of one environment's account (the account comes from that environment's config)."""

    environment: str
    role: str

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _exact(value)


class EndpointSettings(_Strict):
    #: source-vpce: inference only through the listed endpoints (aws:SourceVpce, a key Bedrock sends on every
    #: request through an endpoint). vpce-org-id is refused: Bedrock does not send aws:VpceOrgID.
    condition: Literal["source-vpce"] = "source-vpce"
    #: environment -> {endpoint service: vpce id}, as the environment stack's outputs name them after
    #: deployment (docs/organization.md: how the ids reach this file).
    ids: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Any:
        if value in ("vpce-org-id", "source-vpc"):
            reason = (f"Bedrock and Mantle do not send aws:VpceOrgID ({KEY_SOURCE}): a Deny on it refuses every "
                      "inference call" if value == "vpce-org-id" else "VPC ids name every endpoint of the VPC")
            raise ValueError(f"{value!r} is not allowed: {reason}; use source-vpce with the endpoint ids")
        return value

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for env, services in value.items():
            for service, vpce in (services or {}).items():
                if service not in BEDROCK_ENDPOINT_SERVICES:
                    raise ValueError(f"ids.{env}: {service!r} is not a Bedrock endpoint service; allowed: "
                                     f"{', '.join(BEDROCK_ENDPOINT_SERVICES)}")
                if not isinstance(vpce, str) or not _VPCE.fullmatch(vpce):
                    raise ValueError(f"ids.{env}.{service}: {vpce!r} is not a VPC endpoint id (vpce- and 8-17 hex)")
        return value


class RoleSettings(_Strict):
    #: The break-glass role's exact name; exempt in every covered environment's and baseline account.
    break_glass: str = DEFAULT_BREAK_GLASS_ROLE
    #: CDK bootstrap qualifier: cdk-<q>-cfn-exec-role-<account>-<region> (deployer) and
    #: cdk-<q>-deploy-role-<account>-<region> (stack updater) of each covered environment, by exact ARN.
    bootstrap_qualifier: str = DEFAULT_BOOTSTRAP_QUALIFIER
    #: The only member-account principals that may assume the deploy roles (a CI/CD role); empty: deploy
    #: from the management account.
    pipeline: list[AccountRole] = Field(default_factory=list)
    batch_inference: list[AccountRole] = Field(default_factory=list)
    #: Mantle roles, each in the account of an environment that accepted the Mantle path.
    mantle: list[EnvironmentRole] = Field(default_factory=list)
    network_exempt: list[AccountRole] = Field(default_factory=list)

    @field_validator("break_glass")
    @classmethod
    def _break_glass(cls, value: str) -> str:
        return _exact(value)

    @field_validator("bootstrap_qualifier")
    @classmethod
    def _qualifier(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]{1,10}", value):
            raise ValueError(f"{value!r} is not a CDK bootstrap qualifier (1-10 lowercase letters or digits)")
        return value


class GuardrailSettings(_Strict):
    #: Enforce the management account's guardrail org-wide (BEDROCK_POLICY) in home_region.
    enforce: bool = True
    pii_action: Literal["BLOCK", "ANONYMIZE"] = "BLOCK"
    #: Models the Bedrock policy skips in addition to the partition's embedding models, which it always skips
    #: (their calls fail under an enforced guardrail; compliant_bedrock.models.embedding_model_ids).
    excluded_models: list[str] = Field(default_factory=list)
    #: Enforce on the embedding models too (every embedding call fails): why, in at least 8 words.
    enforce_embedding_models_reason: str | None = None
    #: Also write the older ``input_tags: ignore`` key (see docs/organization.md).
    legacy_input_tags: bool = False
    #: Required when enforce is false: where the organization-wide guardrail is enforced instead.
    not_enforced_reason: str | None = None

    @model_validator(mode="after")
    def _reason(self) -> GuardrailSettings:
        if not self.enforce and (self.not_enforced_reason is None or len(self.not_enforced_reason.split()) < 8):
            raise ValueError("guardrail.enforce: false needs not_enforced_reason of at least 8 words saying which "
                             "BEDROCK_POLICY in which account enforces a guardrail instead")
        if self.enforce and self.not_enforced_reason is not None:
            raise ValueError("guardrail.not_enforced_reason is only for enforce: false; remove it")
        reason = self.enforce_embedding_models_reason
        if reason is not None and (not self.enforce or len(reason.split()) < 8):
            raise ValueError("guardrail.enforce_embedding_models_reason: only with enforce: true, and in at least 8 "
                             "words: enforcing on embedding models makes every embedding call fail (AWS); leave it "
                             "unset to exclude them")
        return self


class _AuditPlaneSettings(_Strict):
    """What every audit plane of the organization stack shares: who receives its tamper alerts (the security
    account's event bus and/or addresses), its log groups' retention and its buckets' Object Lock days."""

    alert_event_bus_arns: list[str] = Field(default_factory=list)
    alert_emails: list[str] = Field(default_factory=list)
    log_retention_days: int = Field(default=MIN_LOG_RETENTION_DAYS, ge=MIN_LOG_RETENTION_DAYS)
    object_lock_days: int = Field(default=DEFAULT_OBJECT_LOCK_DAYS, ge=MIN_LOG_RETENTION_DAYS, le=36500)

    @field_validator("alert_event_bus_arns")
    @classmethod
    def _alert_buses(cls, value: list[str]) -> list[str]:
        return AuditSettings._buses(value)

    @field_validator("alert_emails")
    @classmethod
    def _alert_emails(cls, value: list[str]) -> list[str]:
        return AuditSettings._emails(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention value; allowed: "
                             f"{[d for d in CLOUDWATCH_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]}")
        return value


class BaselineSettings(_AuditPlaneSettings):
    """The per-account baseline StackSet (enforced guardrail and invocation logging in every region).

    ``replica_regions`` (AU-9(2), CP-9): ``{source region: replica region}`` for every region of the baseline, each
    mapped to another region of the organization's partition. A second service-managed StackSet
    (``CompliantBedrock-baseline-replica``, deployed first, to the same accounts, in the replica regions only) creates
    in each account one Object-Locked (COMPLIANCE, ``object_lock_days``), versioned, SSE-KMS replica bucket per
    source region, ``cb-<account>-baseline-<source region>-replica``, with its own retained, rotated key
    (``alias/compliant-bedrock/baseline/<source region>-replica``); each region's invocation-log bucket replicates
    there (SSE-KMS kept, delete markers never replicated). A mapping rather than one replica region: the baseline
    instance in that one region would need a copy in yet another region, so every region names its own (two
    regions replicate to each other: ``{us-gov-west-1: us-gov-east-1, us-gov-east-1: us-gov-west-1}``). Empty (the
    default): no replica, and the evidence says so (AU-9(2) and CP-9 risk-accepted).
    """

    enabled: bool = True
    #: OUs or the root to deploy to (service-managed StackSets target OUs); default: the OU/root targets.
    target_ous: list[str] = Field(default_factory=list)
    #: Regions of every account; default: approved_regions.
    regions: list[str] = Field(default_factory=list)
    #: The execution role service-managed StackSets create in each member account, by exact name
    #: (stacksets-exec-<suffix>, as a member account lists it): exempt, by exact ARN, in ``accounts``.
    execution_role: str | None = None
    #: The member accounts the baseline deploys to (the StackSet's accounts below target_ous, by
    #: INTERSECTION): each gets its execution role exempted by exact ARN. Environments' accounts are
    #: never among them (they configure the same per-region singletons themselves).
    accounts: list[str] = Field(default_factory=list)
    #: Required when enabled is false: where every account's per-region guardrail and logging come from.
    disabled_reason: str | None = None
    #: Tamper-alert subscribers of every baseline account, at least one when enabled: an event bus of the security
    #: account (a StackSet has no per-account context; its bus policy admits the accounts' events:PutEvents)
    #: and/or addresses (each account's topic asks each address to confirm).
    alert_event_bus_arns: list[str] = Field(default_factory=list)
    alert_emails: list[str] = Field(default_factory=list)
    #: The trail that records Bedrock data events (AWS::Bedrock::Model, AWS::BedrockMantle::*) in the baseline
    #: accounts, e.g. an organization trail, and where it is managed (>= 8 words). Without it the baseline has no
    #: bearer-token rule: no trail it could rely on selects those events (Bedrock-DetectionDataEventsSelected).
    data_events_trail: str | None = None
    #: Source region -> replica region of the invocation-log bucket (class docstring); empty: no replica.
    replica_regions: dict[str, str] = Field(default_factory=dict)

    @field_validator("replica_regions")
    @classmethod
    def _replica_regions(cls, value: dict[str, str]) -> dict[str, str]:
        for source, replica in value.items():
            _region_check(source)
            _region_check(replica)
            if source == replica:
                raise ValueError(f"{source!r} is mapped to itself; a replica in the source's own region is lost with "
                                 "it (AU-9(2)): name another region of the partition")
        return value


    @field_validator("target_ous")
    @classmethod
    def _ous(cls, value: list[str]) -> list[str]:
        for target in value:
            if not re.fullmatch(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}", target):
                raise ValueError(f"{target!r} is not an OU (ou-xxxx-xxxxxxxx) or root (r-xxxx) id; a service-managed "
                                 "StackSet deploys to OUs, not to single accounts")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for region in value:
            _region_check(region)
        return value

    @field_validator("execution_role")
    @classmethod
    def _execution_role(cls, value: str | None) -> str | None:
        return None if value is None else _exact(value)

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return [account_id(account) for account in value or []]

    @model_validator(mode="after")
    def _reason(self) -> BaselineSettings:
        if self.enabled and (self.execution_role is None or not self.accounts):
            raise ValueError("baseline: enabled needs execution_role (the exact stacksets-exec-<suffix> name a member "
                             "account lists: aws iam list-roles --query \"Roles[?starts_with(RoleName,'stacksets-exec-')]"
                             ".RoleName\") and accounts (the member accounts it deploys to): the exemption names each")
        if self.enabled and not self.alert_event_bus_arns and not self.alert_emails:
            raise ValueError("baseline.alert_emails / baseline.alert_event_bus_arns: no alert subscriber; every baseline "
                             "account's tamper alerts would reach nobody. Set alert_event_bus_arns to an event bus of "
                             "the security account (arn:<partition>:events:<region>:<account>:event-bus/<name>, its "
                             "policy admitting the baseline accounts' events:PutEvents) and/or alert_emails")
        if self.data_events_trail is not None and len(self.data_events_trail.split()) < 8:
            raise ValueError("baseline.data_events_trail: name the trail that selects Bedrock data events in the "
                             "baseline accounts and where it is managed, in at least 8 words")
        if not self.enabled and (self.disabled_reason is None or len(self.disabled_reason.split()) < 8):
            raise ValueError("baseline.enabled: false needs disabled_reason of at least 8 words saying where every "
                             "account's enforced guardrail and invocation logging per region come from")
        return self


class TrailSettings(_AuditPlaneSettings):
    """The organization trail: every account of the organization, from the management account."""

    enabled: bool = True
    #: Required when enabled is false: which organization trail records the accounts instead.
    disabled_reason: str | None = None
    #: Who may read the log files (role ARNs of the management or log-archive account: auditors, a SIEM).
    log_readers: list[str] = Field(default_factory=list)
    #: Who receives the management account's tamper alerts (its trail, keys and buckets; no SCP binds that
    #: account), at least one when enabled: the security account's event bus and/or addresses.
    alert_event_bus_arns: list[str] = Field(default_factory=list)
    alert_emails: list[str] = Field(default_factory=list)


    @field_validator("log_readers")
    @classmethod
    def _readers(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", arn):
                raise ValueError(f"{arn!r} is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)")
        return value

    @model_validator(mode="after")
    def _reason(self) -> TrailSettings:
        if not self.enabled and (self.disabled_reason is None or len(self.disabled_reason.split()) < 8):
            raise ValueError("trail.enabled: false needs disabled_reason of at least 8 words naming the organization "
                             "trail that records every account's management, Bedrock and Mantle events instead")
        if self.enabled and not (self.alert_event_bus_arns or self.alert_emails):
            raise ValueError("trail.alert_emails / trail.alert_event_bus_arns: no alert subscriber; the management "
                             "account's tamper alerts (its trail, keys and buckets, which no SCP protects) would reach "
                             "nobody. Set alert_event_bus_arns to the security account's event bus and/or alert_emails")
        return self


class VerificationSettings(_AuditPlaneSettings):
    """The weekly deployed-twin verification (``ScheduledVerification``, docs/verify.md) of every covered environment
    and of this organization's policies, run from the security account. Absent: nobody verifies on a schedule (a
    person runs ``make verify``)."""

    #: The security account that runs it: neither the management account nor a covered environment's, so no
    #: administrator of a verified account can stop the verification of their own account.
    account: str
    #: The bucket (in the security account) your pipeline uploads a zip of this app and its config/ to, and the key.
    source_bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    source_key: str = Field(default="compliant-bedrock.zip", min_length=1)
    #: At least weekly (KSI-MLA-EVC): rate(N days) with N <= 7, rate(N hours) or a cron expression.
    schedule: str = "rate(7 days)"
    #: The CodeBuild project's role name: each read-only role (``verify.role_arn`` of every covered environment and of
    #: this organization) trusts exactly arn:<partition>:iam::<account>:role/<this name>.
    project_role_name: str = Field(default="compliant-bedrock-verifier", pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return account_id(value)

    @field_validator("schedule")
    @classmethod
    def _weekly(cls, value: str) -> str:
        if not re.fullmatch(r"rate\([1-7] days?\)|rate\(\d+ hours?\)|cron\(.+\)", value):
            raise ValueError(f"{value!r}: at least weekly (KSI-MLA-EVC), e.g. rate(7 days) or cron(0 6 ? * MON *)")
        return value

    @model_validator(mode="after")
    def _subscriber(self) -> VerificationSettings:
        if not (self.alert_event_bus_arns or self.alert_emails):
            raise ValueError("verification.alert_emails / verification.alert_event_bus_arns: no alert subscriber; a "
                             "contradiction found on the weekly run would reach nobody. Set alert_emails and/or an "
                             "event bus of the security account")
        return self


class RcpSettings(_Strict):
    """The RCP that keeps the audit buckets and keys inside the organization."""

    enabled: bool = True
    #: Required when enabled is false (e.g. a partition where AWS does not document RCPs).
    disabled_reason: str | None = None

    @model_validator(mode="after")
    def _reason(self) -> RcpSettings:
        if not self.enabled and (self.disabled_reason is None or len(self.disabled_reason.split()) < 8):
            raise ValueError("rcp.enabled: false needs disabled_reason of at least 8 words saying what keeps principals "
                             "outside the organization from the audit buckets and keys instead")
        return self


#: Features of the organization stack whose availability differs by partition (compliant_bedrock.partitions).
Feature = Literal["resource_control_policies", "bedrock_policy", "organization_trail", "service_managed_stacksets"]


class AttachedSettings(_Strict):
    #: Policies of each type already attached to every target (FullAWSAccess / RCPFullAWSAccess count).
    scp: int = Field(default=1, ge=1, le=MAX_ATTACHED_PER_TARGET)
    rcp: int = Field(default=1, ge=1, le=MAX_ATTACHED_PER_TARGET)


class OrganizationSettings(_Strict):
    management_account: str
    organization_id: str
    home_region: str
    targets: list[str] = Field(min_length=1)
    approved_regions: list[str] = Field(min_length=1)
    endpoints: EndpointSettings = Field(default_factory=EndpointSettings)
    roles: RoleSettings = Field(default_factory=RoleSettings)
    cross_region_profiles: list[str] = Field(default_factory=lambda: ["us."])
    guardrail: GuardrailSettings = Field(default_factory=GuardrailSettings)
    attached_per_target: AttachedSettings = Field(default_factory=AttachedSettings)
    baseline: BaselineSettings = Field(default_factory=BaselineSettings)
    trail: TrailSettings = Field(default_factory=TrailSettings)
    rcp: RcpSettings = Field(default_factory=RcpSettings)
    #: A feature AWS does not document in this organization's partition, verified by the team in its own
    #: organization: feature -> how (at least 8 words, e.g. the command that listed the enabled policy type).
    verified_features: dict[Feature, str] = Field(default_factory=dict)
    #: Environments (names of config/*.yaml) whose account-wide controls these policies provide: their
    #: evidence names this stack and the management account instead of passing silently.
    covers_environments: list[str] = Field(default_factory=list)
    #: How ``compliant-bedrock verify`` reads the policies attached to the targets (the management account or a
    #: delegated administrator; docs/verify.md); absent: the covered environment's own access.
    verify: VerifyAccess | None = None
    #: The weekly verification from the security account (docs/verify.md); absent: none scheduled.
    verification: VerificationSettings | None = None

    @field_validator("management_account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return account_id(value)

    @field_validator("organization_id")
    @classmethod
    def _org(cls, value: str) -> str:
        if not ORG_ID_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not an organization id (o- and 10-32 lowercase letters or digits)")
        return value

    @field_validator("home_region")
    @classmethod
    def _home(cls, value: str) -> str:
        return _region_check(value)

    @field_validator("approved_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for region in value:
            _region_check(region)
        if len(set(value)) != len(value):
            raise ValueError(f"{value!r} repeats a region")
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for target in value:
            if not TARGET_PATTERN.fullmatch(target):
                raise ValueError(f"{target!r} is not a root (r-xxxx), OU (ou-xxxx-xxxxxxxx) or account id (12 digits, quoted)")
        if len(set(value)) != len(value):
            raise ValueError(f"{value!r} repeats a target")
        return value

    @field_validator("cross_region_profiles")
    @classmethod
    def _profiles(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not PROFILE_PREFIX_PATTERN.fullmatch(prefix):
                raise ValueError(f"{prefix!r} is not an inference-profile prefix such as 'us.'")
        return value

    @model_validator(mode="after")
    def _cross(self) -> OrganizationSettings:
        partition = partition_of(self.home_region)
        for region in self.approved_regions:
            if partition_of(region) != partition:
                raise ValueError(f"approved_regions: {region!r} is in partition {partition_of(region)!r}, not "
                                 f"home_region's {partition!r}; an organization lives in one partition")
        if self.home_region not in self.approved_regions:
            raise ValueError(f"home_region: {self.home_region!r} is not in approved_regions; the guardrail the "
                             "BEDROCK_POLICY enforces lives there, so approve it")
        if self.baseline.enabled and not self.baseline_target_ous:
            raise ValueError("baseline.target_ous: no OU or root to deploy the baseline StackSet to (targets names "
                             "accounts only); list OUs, or set baseline.enabled: false with disabled_reason")
        for region in self.baseline.regions:
            if region not in self.approved_regions:
                raise ValueError(f"baseline.regions: {region!r} is not in approved_regions; the SCPs deny Bedrock there")
        replicas = self.baseline.replica_regions
        if replicas and not self.baseline.enabled:
            raise ValueError("baseline.replica_regions: the baseline is disabled; remove replica_regions")
        for source, replica in replicas.items():
            if source not in self.baseline_regions:
                raise ValueError(f"baseline.replica_regions: {source!r} is not a baseline region "
                                 f"({', '.join(self.baseline_regions)}); map only the regions the baseline deploys to")
            if partition_of(replica) != partition:
                raise ValueError(f"baseline.replica_regions: {source!r} -> {replica!r} is in partition "
                                 f"{partition_of(replica)!r}, not the organization's {partition!r}; S3 replicates "
                                 "within a partition")
        unmapped = [r for r in self.baseline_regions if r not in replicas]
        if replicas and unmapped:
            raise ValueError(f"baseline.replica_regions: no replica region for {', '.join(map(repr, unmapped))}; map "
                             "every baseline region (each region's instance replicates to its own replica region)")
        used = {"resource_control_policies": (self.rcp.enabled, "rcp.enabled: true"),
                "bedrock_policy": (self.guardrail.enforce, "guardrail.enforce: true"),
                "organization_trail": (self.trail.enabled, "trail.enabled: true"),
                "service_managed_stacksets": (self.baseline.enabled, "baseline.enabled: true")}
        for feature, (on, field) in used.items():
            found = support(feature, partition)
            verified = self.verified_features.get(feature)  # type: ignore[call-overload]
            if verified is not None and len(verified.split()) < 8:
                raise ValueError(f"verified_features.{feature}: at least 8 words saying how it was verified in this "
                                 "organization (the command and its result)")
            if on and found.available is False:
                raise ValueError(f"{field}: AWS documents that {partition} does not offer it ({found.source}); turn it off")
            if on and found.available is None and verified is None:
                raise ValueError(f"{field}: AWS does not document {feature} in partition {partition!r} ({found.source}); "
                                 "turn it off with its reason, or record in verified_features."
                                 f"{feature} how you verified it in this organization")
        for arn in self.trail.log_readers:
            if arn.split(":")[1] != partition:
                raise ValueError(f"trail.log_readers: {arn!r} is not in partition {partition!r}")
        for arn in self.trail.alert_event_bus_arns:
            match = EVENT_BUS_ARN_PATTERN.fullmatch(arn)
            if match and (match.group(1) != partition or match.group(3) == self.management_account):
                raise ValueError(f"trail.alert_event_bus_arns: {arn!r} must be a bus of this organization's partition "
                                 f"({partition!r}) in an account other than the management account")
        for arn in self.baseline.alert_event_bus_arns:
            match = EVENT_BUS_ARN_PATTERN.fullmatch(arn)
            if match and match.group(1) != partition:
                raise ValueError(f"baseline.alert_event_bus_arns: {arn!r} is in partition {match.group(1)!r}, not the "
                                 f"organization's {partition!r}")
            if match and match.group(3) in self.baseline.accounts:
                raise ValueError(f"baseline.alert_event_bus_arns: {arn!r} is in baseline account {match.group(3)}, "
                                 "whose administrators would receive their own alerts; name the security account's bus")
        if self.verification is not None:
            self._check_verification(partition)
        if "global." in self.cross_region_profiles and partition != "aws":
            raise ValueError("cross_region_profiles: 'global.' exists only in the aws partition")
        return self

    def _check_verification(self, partition: str) -> None:
        verification = self.verification
        assert verification is not None
        if verification.account == self.management_account:
            raise ValueError(f"verification.account: {verification.account} is the management account; run the "
                             "verification from the security account, outside every account it verifies")
        role = self.verify.role_arn if self.verify is not None else None
        if role is None or read_role_problem(role, self.management_account, partition):
            raise ValueError(f"verify.role_arn: {role!r}: the weekly verification reads this organization's policies "
                             "through a read-only role of the management account that this stack creates: give "
                             f"arn:{partition}:iam::{self.management_account}:role/compliant-bedrock-verify"
                             + (f" ({read_role_problem(role, self.management_account, partition)})" if role else ""))
        for arn in verification.alert_event_bus_arns:
            match = EVENT_BUS_ARN_PATTERN.fullmatch(arn)
            if match and match.group(1) != partition:
                raise ValueError(f"verification.alert_event_bus_arns: {arn!r} is in partition {match.group(1)!r}, not "
                                 f"the organization's {partition!r}")
            if match and match.group(3) == verification.account:
                raise ValueError(f"verification.alert_event_bus_arns: {arn!r} is a bus of the verification's own account "
                                 "(its tamper detection refuses it: the alerts would stay where its administrators "
                                 "silence them); use alert_emails, or a bus of another account")

    def verifier_role_arn(self) -> str | None:
        """The weekly verification's project role, which every read-only role trusts (None: no verification)."""
        if self.verification is None:
            return None
        return f"arn:{self.partition}:iam::{self.verification.account}:role/{self.verification.project_role_name}"

    def verification_stack_name(self) -> str:
        return self.stack_name.replace(ORGANIZATION_STACK, VERIFICATION_STACK, 1)

    @property
    def baseline_target_ous(self) -> list[str]:
        return list(self.baseline.target_ous) or [t for t in self.targets if not t.isdigit()]

    @property
    def baseline_regions(self) -> list[str]:
        return list(self.baseline.regions) or list(self.approved_regions)

    #: Covered environments, by name (account, region, endpoints, Mantle), set by :func:`load_organizations`.
    _covered: dict[str, Any] = PrivateAttr(default_factory=dict)
    #: The file's stem (``commercial`` for ``config/organization/commercial.yaml``), set by the loader.
    _name: str = PrivateAttr(default="organization")

    @property
    def name(self) -> str:
        return self._name

    @property
    def stack_name(self) -> str:
        """``CompliantBedrock-organization-<name>``; ``organization.yaml`` keeps the earlier single-file name."""
        return ORGANIZATION_STACK if self._name == "organization" else f"{ORGANIZATION_STACK}-{self._name}"

    @property
    def partition(self) -> str:
        return str(partition_of(self.home_region))

    def covered_environments(self) -> list[Any]:
        """The covered environments' settings, by name (set by :func:`load_organizations`)."""
        return [env for _, env in sorted(self._covered.items())]

    def developer_environments(self) -> list[Any]:
        """Covered environments with Codex developers (config ``developers``), by name."""
        return [env for _, env in sorted(self._covered.items()) if getattr(env, "developers", None) is not None]

    def _env_accounts(self) -> list[tuple[str, str]]:
        return sorted({(env.account, env.region) for env in self._covered.values()})

    def exempt_roles(self) -> dict[str, list[ExemptRole]]:
        """Every exemption of the policies, by exact ARN: per covered environment's account and region and
        per baseline account (docs/organization.md: the exemption model)."""
        q = self.roles.bootstrap_qualifier
        accounts = sorted({a for a, _ in self._env_accounts()} | set(self.baseline.accounts if self.baseline.enabled else ()))
        deployers = [ExemptRole(a, f"cdk-{q}-cfn-exec-role-{a}-{r}") for a, r in self._env_accounts()]
        if self.baseline.enabled and self.baseline.execution_role:
            deployers += [ExemptRole(a, self.baseline.execution_role) for a in self.baseline.accounts]
        return {
            "break_glass": [ExemptRole(a, self.roles.break_glass) for a in accounts],
            "deployers": deployers,
            "stack_updaters": [ExemptRole(a, f"cdk-{q}-deploy-role-{a}-{r}") for a, r in self._env_accounts()],
            "pipeline": [ExemptRole(r.account, r.role) for r in self.roles.pipeline],
            "batch_roles": [ExemptRole(r.account, r.role) for r in self.roles.batch_inference],
            "mantle_roles": [ExemptRole(self._covered[r.environment].account, r.role) for r in self.roles.mantle
                             if r.environment in self._covered]
                            # Codex developers: the permission set's role, once recorded (docs/codex.md)
                            + [ExemptRole(env.account, env.developers.sso_role) for env in self.developer_environments()
                               if env.developers.sso_role],
            "network_exempt_roles": [ExemptRole(r.account, r.role) for r in self.roles.network_exempt],
            # S3 assumes them; each baseline account's replica bucket accepts records from its region's only.
            "replication_roles": [ExemptRole(a, replication_role_name(r)) for a in self.baseline.accounts
                                  for r in self.baseline_regions] if self.baseline.enabled and self.baseline.replica_regions
                                 else [],
        }

    def endpoint_condition(self) -> EndpointCondition:
        ids = self.endpoints.ids
        values = sorted({v for env in self.covers_environments for v in (ids.get(env) or {}).values()})
        mantle_envs = {r.environment for r in self.roles.mantle}
        mantle = sorted({(ids.get(env) or {}).get("bedrock-mantle") for env in mantle_envs} - {None})
        return EndpointCondition("aws:SourceVpce", tuple(values), tuple(mantle))  # type: ignore[arg-type]

    def approved_endpoint_arns(self) -> list[str]:
        out = []
        for name in self.covers_environments:
            env = self._covered.get(name)
            for vpce in (self.endpoints.ids.get(name) or {}).values():
                if env is not None:
                    out.append(f"arn:{self.partition}:ec2:{env.region}:{env.account}:vpc-endpoint/{vpce}")
        return sorted(out)

    def endpoint_ids(self) -> dict[str, dict[str, str]]:
        """environment -> service -> the recorded endpoint id (the perimeter proof names the endpoints so)."""
        return {env: dict(self.endpoints.ids.get(env) or {}) for env in self.covers_environments}

    def coverage_reason(self, environment: str) -> str | None:
        """Why an environment's account-wide controls are met elsewhere (a suppression reason), or None."""
        if environment not in self.covers_environments:
            return None
        return (f"Enforced for every principal of the covered accounts (but the exact exemptions the policies name: "
                f"break-glass, deployers, stack updaters, pipeline, accepted Mantle roles, none creatable or assumable "
                f"by an account administrator) by the organization policies of stack {self.stack_name} in management "
                f"account {self.management_account} (SCPs compliant-bedrock-inference and compliant-bedrock-audit-plane-*, "
                f"RCP compliant-bedrock-audit-resources, BEDROCK_POLICY compliant-bedrock-guardrail)")


def read_role_problem(role_arn: str, account: str | None, partition: str) -> str | None:
    """What is wrong with ``role_arn`` as a read-only role this app creates in ``account`` (None: nothing)."""
    parts = role_arn.split(":")
    if parts[1] != partition:
        return f"partition {parts[1]!r}, not {partition!r}"
    if parts[4] != account:
        return f"account {parts[4]}, not {account}"
    if "/" in parts[5].removeprefix("role/"):
        return "a role path; give the role's name directly under role/"
    return None


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        owner = _model_at(OrganizationSettings, tuple(error["loc"]))
        keys = list(owner.model_fields) if owner else []
        return (f"{loc}: unknown key{did_you_mean(error['loc'][-1], keys)}; allowed keys here: "
                f"{', '.join(keys) if keys else 'see docs/configuration.md'}")
    if error["type"] == "missing":
        return f"{loc}: required field is missing"
    if not loc:
        return message
    if "input" in error and error["type"] not in ("value_error", "assertion_error"):
        return f"{loc} = {error['input']!r}: {message}"
    return f"{loc}: {message}"


def _parse(path: Path) -> OrganizationSettings:
    source = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ConfigError([f"{source}: not valid YAML: {err}".replace("\n", " ")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: expected a mapping of settings, got {type(raw).__name__}"])
    if not _NAME.fullmatch(path.stem):
        raise ConfigError([f"{source}: the file name {path.stem!r} names the organization stack "
                           f"({ORGANIZATION_STACK}-<name>): use 2-24 lowercase letters, digits and '-'"])
    try:
        settings = OrganizationSettings.model_validate(raw)
    except ValidationError as err:
        raise ConfigError([f"{source}: organization: {_describe(e)}"
                           for e in without_misspelt_missing(err.errors())]) from None
    object.__setattr__(settings, "_name", path.stem)
    return settings


_NAME = re.compile(r"[a-z][a-z0-9-]{1,23}")


def _check_covered(settings: OrganizationSettings, source: str, by_name: dict[str, Any],
                   unparsed: Collection[str] = ()) -> list[str]:
    """What one organization's file gets wrong about the environments it covers."""
    problems = []
    unknown = [n for n in settings.covers_environments if n not in by_name and n not in unparsed]
    if unknown:
        problems.append(f"{source}: organization: covers_environments: {unknown!r} are not environments "
                        f"(known: {', '.join(by_name)}); name files of config/*.yaml")
    for name in settings.covers_environments:
        env = by_name.get(name)
        if env is None:
            continue
        if env.resolved_partition != settings.partition:
            problems.append(f"{source}: organization: covers_environments: {name!r} is in partition "
                            f"{env.resolved_partition!r} ({env.region}), this organization in {settings.partition!r} "
                            f"({settings.home_region}): an organization's policies bind accounts of its own partition "
                            "only; cover it from an organization file of its partition")
            continue
        if env.organization_id is not None and env.organization_id != settings.organization_id:
            problems.append(f"{source}: organization: covers_environments: {name!r} admits principals of "
                            f"organization {env.organization_id!r} (organization_id in config/{name}.yaml), not this "
                            f"organization's {settings.organization_id!r}; one of the two is wrong")
        if env.region not in settings.approved_regions:
            problems.append(f"{source}: organization: covers_environments: {name!r} is in {env.region!r}, which "
                            "is not in approved_regions: the SCPs would deny its Bedrock calls; approve the region")
        if env.allows_mantle and not any(r.environment == name for r in settings.roles.mantle):
            problems.append(f"{source}: organization: roles.mantle: no role of environment {name!r}, which uses "
                            "Mantle (a bedrock-mantle endpoint or a model on path mantle); add "
                            f"{{environment: {name}, role: <its workload role>}} or the SCP denies it")
        if env.account is None:
            problems.append(f"{source}: organization: covers_environments: {name!r} names no account; the "
                            "exemptions (deploy roles, break-glass) are exact ARNs with its account: set "
                            f"account: in config/{name}.yaml")
        recorded = settings.endpoints.ids.get(name) or {}
        for service in [s for s in env.endpoints if s in BEDROCK_ENDPOINT_SERVICES]:
            if service not in recorded:
                problems.append(f"{source}: organization: endpoints.ids.{name}.{service}: missing; the SCP admits "
                                "inference only through recorded endpoint ids: deploy the environment stack, then "
                                "record its endpoint ids (docs/organization.md, 'Deploying from the management "
                                "account': the describe-stack-resources command)")
        for service in recorded:
            if service not in env.endpoints:
                problems.append(f"{source}: organization: endpoints.ids.{name}.{service}: environment {name!r} "
                                "has no such endpoint; remove the id")
    for name in settings.endpoints.ids:
        if name not in settings.covers_environments:
            problems.append(f"{source}: organization: endpoints.ids.{name}: not a covered environment "
                            f"(covers_environments: {settings.covers_environments}); remove it")
    for role in settings.roles.mantle:
        env = by_name.get(role.environment)
        if role.environment not in settings.covers_environments or env is None:
            problems.append(f"{source}: organization: roles.mantle: environment {role.environment!r} is not a "
                            "covered environment; a Mantle role lives in the account of the environment that "
                            "accepted the path")
        elif not env.allows_mantle:
            problems.append(f"{source}: organization: roles.mantle: environment {role.environment!r} does not "
                            "use Mantle (no risk acceptance); remove the role")
    if settings.verification is not None:
        problems += _check_verified(settings, source, by_name)
    env_accounts = {by_name[n].account for n in settings.covers_environments if n in by_name}
    for account in settings.baseline.accounts if settings.baseline.enabled else []:
        if account in env_accounts:
            problems.append(f"{source}: organization: baseline.accounts: {account} is a covered environment's "
                            "account, which configures its own enforced guardrail and invocation logging (one "
                            "per account and region): remove it from the baseline")
    return problems


def _check_verified(settings: OrganizationSettings, source: str, by_name: dict[str, Any]) -> list[str]:
    """With a weekly verification, every covered environment names the read-only role the app creates for it."""
    problems = []
    verification = settings.verification
    assert verification is not None
    names: dict[str, tuple[str, str]] = {}
    for name in settings.covers_environments:
        env = by_name.get(name)
        if env is None or env.account is None:
            continue
        if env.account == verification.account:
            problems.append(f"{source}: organization: verification.account: {verification.account} is environment "
                            f"{name!r}'s account; run the verification from a security account it does not verify")
        role = env.verify.role_arn if env.verify is not None else None
        problem = read_role_problem(role, env.account, settings.partition) if role else "missing"
        if problem:
            problems.append(f"config/{name}.yaml: verify.role_arn: {role!r} ({problem}): {source} verifies this "
                            "environment weekly through a read-only role its stack creates: set verify: {role_arn: "
                            f"\"arn:{settings.partition}:iam::{env.account}:role/compliant-bedrock-verify\"}}")
            continue
        role_name = role.rsplit("/", 1)[1]
        other = names.setdefault(env.account, (name, role_name))
        if other[1] != role_name:
            problems.append(f"config/{name}.yaml: verify.role_arn: role {role_name!r}, but environment {other[0]!r} "
                            f"of the same account {env.account} names {other[1]!r}; one read-only role per account")
    return problems


def load_organizations(config_dir: Path, environments: list[Any] | None = None,
                       unparsed: Collection[str] = ()) -> list[OrganizationSettings]:
    """Every ``config_dir/organization/*.yaml``, one organization each (none: an empty list).

    ``environments`` (``EnvironmentSettings``, all of the app's): each must be covered by exactly one
    organization of its own partition, or carry ``no_organization_reason`` (an app without organization
    files checks nothing: its evidence says no organization policy binds it). ``unparsed``: names of environments
    whose files did not validate (reported already), not named again as unknown. Every file's problems come in one
    pass: a file that does not parse does not hide the others' cross-file problems.
    """
    directory = config_dir / ORGANIZATION_DIR
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")) if directory.is_dir() else []
    problems: list[str] = []
    parsed: list[tuple[str, OrganizationSettings]] = []
    for path in files:
        try:
            parsed.append((str(path), _parse(path)))
        except ConfigError as err:
            problems.extend(err.problems)
    broken = bool(problems)  # an organization that did not parse may be the one that covers an environment
    seen: dict[str, str] = {}
    for source, settings in parsed:
        if settings.organization_id in seen:
            problems.append(f"{source}: organization: organization_id: {settings.organization_id} is already "
                            f"configured in {seen[settings.organization_id]}; one file per organization (its SCPs are "
                            "global, so two stacks would fight over them)")
        seen.setdefault(settings.organization_id, source)
    if environments is not None and parsed:
        by_name = {env.name: env for env in environments}
        covering: dict[str, list[str]] = {}
        for source, settings in parsed:
            problems += _check_covered(settings, source, by_name, unparsed)
            for name in settings.covers_environments:
                covering.setdefault(name, []).append(source)
        for env in environments if not broken else []:
            sources = covering.get(env.name, [])
            if len(sources) > 1:
                problems.append(f"config/{env.name}.yaml: environment {env.name!r}: covered by {len(sources)} "
                                f"organizations ({', '.join(sources)}); an account belongs to one organization: keep "
                                "it in one covers_environments")
            elif sources and env.no_organization_reason is not None:
                problems.append(f"config/{env.name}.yaml: environment {env.name!r}: no_organization_reason: the "
                                f"environment is covered by {sources[0]}; remove the reason")
            elif not sources and env.no_organization_reason is None:
                partitions = sorted({s.partition for _, s in parsed})
                problems.append(f"config/{env.name}.yaml: environment {env.name!r}: no organization covers it "
                                f"(organizations of partitions {', '.join(partitions)}): add it to covers_environments "
                                f"of the organization file of partition {env.resolved_partition!r}, or set "
                                "no_organization_reason (at least 8 words: why no organization's SCPs bind its account)")
        if problems:
            raise ConfigError(problems)
        for _, settings in parsed:
            object.__setattr__(settings, "_covered",
                               {n: by_name[n] for n in settings.covers_environments if n in by_name})
    if problems:
        raise ConfigError(problems)
    return [settings for _, settings in parsed]
