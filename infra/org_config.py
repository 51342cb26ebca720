"""Organization configuration: ``config/organization/organization.yaml``, parsed into typed settings.

Not an environment: environments are ``config/*.yaml`` (globbed non-recursively), this file lives one
level down. When it exists, the reference app also builds the organization stack
(``CompliantBedrock-organization``) for the management account. Every error names the file, the field,
the bad value and the fix, and the CLI exits 2 without a traceback (``ConfigError``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compliant_bedrock.organization import (
    DEFAULT_BREAK_GLASS_ROLE,
    DEFAULT_DEPLOY_ROLE_PATTERN,
    MAX_ATTACHED_PER_TARGET,
    ORG_ID_PATTERN,
    PROFILE_PREFIX_PATTERN,
    ROLE_NAME_PATTERN,
    TARGET_PATTERN,
)

from .config import (
    CLOUDWATCH_RETENTION_DAYS,
    DEFAULT_OBJECT_LOCK_DAYS,
    MIN_LOG_RETENTION_DAYS,
    ConfigError,
    _region_check,
    _UniqueKeyLoader,
    partition_of,
)

ORGANIZATION_FILE = Path("organization") / "organization.yaml"
ORGANIZATION_STACK = "CompliantBedrock-organization"
_ACCOUNT = re.compile(r"^\d{12}$")
#: config value -> the global condition key the endpoint deny uses.
ENDPOINT_KEYS = {"vpce-org-id": "aws:VpceOrgID", "source-vpce": "aws:SourceVpce", "source-vpc": "aws:SourceVpc"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _roles(value: list[str], *, patterns: bool) -> list[str]:
    for name in value:
        if not ROLE_NAME_PATTERN.fullmatch(name) or (not patterns and "*" in name):
            kind = "role names or patterns" if patterns else "role names (no '*')"
            raise ValueError(f"{name!r} is not allowed; {kind} of 1-64 letters, digits and +=,.@_-")
        if name.startswith("*"):
            raise ValueError(f"{name!r} would exempt every role; name the roles")
    return value


class EndpointSettings(_Strict):
    #: vpce-org-id: any endpoint the organization owns (no ids; see README for the caveat);
    #: source-vpce / source-vpc: the listed endpoint or VPC ids.
    condition: Literal["vpce-org-id", "source-vpce", "source-vpc"] = "vpce-org-id"
    ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids(self) -> EndpointSettings:
        if self.condition == "vpce-org-id" and self.ids:
            raise ValueError("endpoints.ids: only for condition source-vpce or source-vpc; vpce-org-id uses the "
                             "organization id")
        pattern = {"source-vpce": r"vpce-[0-9a-f]{8,17}", "source-vpc": r"vpc-[0-9a-f]{8,17}"}.get(self.condition)
        if pattern and not self.ids:
            raise ValueError(f"endpoints.ids: required for condition {self.condition}; list the ids")
        for value in self.ids:
            if pattern and not re.fullmatch(pattern, value):
                raise ValueError(f"endpoints.ids: {value!r} is not a {self.condition} id ({pattern})")
        return self


class RoleSettings(_Strict):
    break_glass: str = DEFAULT_BREAK_GLASS_ROLE
    deploy: list[str] = Field(default_factory=lambda: [DEFAULT_DEPLOY_ROLE_PATTERN], min_length=1)
    batch_inference: list[str] = Field(default_factory=list)
    mantle: list[str] = Field(default_factory=list)
    network_exempt: list[str] = Field(default_factory=list)

    @field_validator("break_glass")
    @classmethod
    def _break_glass(cls, value: str) -> str:
        return _roles([value], patterns=False)[0]

    @field_validator("deploy", "batch_inference", "mantle", "network_exempt")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return _roles(value, patterns=True)


class GuardrailSettings(_Strict):
    #: Enforce the management account's guardrail org-wide (BEDROCK_POLICY) in home_region.
    enforce: bool = True
    pii_action: Literal["BLOCK", "ANONYMIZE"] = "BLOCK"
    excluded_models: list[str] = Field(default_factory=list)
    #: Also write the older ``input_tags: ignore`` key (see README "Organization").
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
        return self


class BaselineSettings(_Strict):
    """The per-account baseline StackSet (enforced guardrail and invocation logging in every region)."""

    enabled: bool = True
    #: OUs or the root to deploy to (service-managed StackSets target OUs); default: the OU/root targets.
    target_ous: list[str] = Field(default_factory=list)
    #: Regions of every account; default: approved_regions.
    regions: list[str] = Field(default_factory=list)
    log_retention_days: int = Field(default=MIN_LOG_RETENTION_DAYS, ge=MIN_LOG_RETENTION_DAYS)
    object_lock_days: int = Field(default=DEFAULT_OBJECT_LOCK_DAYS, ge=MIN_LOG_RETENTION_DAYS, le=36500)
    #: Required when enabled is false: where every account's per-region guardrail and logging come from.
    disabled_reason: str | None = None

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

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention value; allowed: "
                             f"{[d for d in CLOUDWATCH_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]}")
        return value

    @model_validator(mode="after")
    def _reason(self) -> BaselineSettings:
        if not self.enabled and (self.disabled_reason is None or len(self.disabled_reason.split()) < 8):
            raise ValueError("baseline.enabled: false needs disabled_reason of at least 8 words saying where every "
                             "account's enforced guardrail and invocation logging per region come from")
        return self


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
    #: Environments (names of config/*.yaml) whose account-wide controls these policies provide: their
    #: evidence names this stack and the management account instead of passing silently.
    covers_environments: list[str] = Field(default_factory=list)

    @field_validator("management_account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if isinstance(value, int):
            raise ValueError(f"{value!r} was read as a number; quote it (\"{value:012d}\") so leading zeros survive")
        if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
            raise ValueError(f"{value!r} is not an AWS account id; expected exactly 12 digits, quoted")
        return value

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
        if "global." in self.cross_region_profiles and partition != "aws":
            raise ValueError("cross_region_profiles: 'global.' exists only in the aws partition")
        return self

    @property
    def baseline_target_ous(self) -> list[str]:
        return list(self.baseline.target_ous) or [t for t in self.targets if not t.isdigit()]

    @property
    def baseline_regions(self) -> list[str]:
        return list(self.baseline.regions) or list(self.approved_regions)

    @property
    def endpoint_key(self) -> str:
        return ENDPOINT_KEYS[self.endpoints.condition]

    @property
    def endpoint_values(self) -> list[str]:
        return [self.organization_id] if self.endpoints.condition == "vpce-org-id" else list(self.endpoints.ids)

    def coverage_reason(self, environment: str) -> str | None:
        """Why an environment's account-wide controls are met elsewhere (a suppression reason), or None."""
        if environment not in self.covers_environments:
            return None
        return (f"Enforced for every principal by the organization policies of stack {ORGANIZATION_STACK} in management "
                f"account {self.management_account} (SCPs compliant-bedrock-inference and compliant-bedrock-audit-plane, "
                f"RCP compliant-bedrock-audit-resources, BEDROCK_POLICY compliant-bedrock-guardrail)")


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key (a typo?); see README 'Organization' for the allowed keys"
    if error["type"] == "missing":
        return f"{loc}: required field is missing"
    if not loc:
        return message
    if "input" in error and error["type"] not in ("value_error", "assertion_error"):
        return f"{loc} = {error['input']!r}: {message}"
    return f"{loc}: {message}"


def load_organization(config_dir: Path, environments: list[Any] | None = None) -> OrganizationSettings | None:
    """The organization settings, or None when ``config_dir/organization/organization.yaml`` does not exist.

    ``environments`` (``EnvironmentSettings``): checked against ``covers_environments``.
    """
    path = config_dir / ORGANIZATION_FILE
    if not path.is_file():
        return None
    source = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ConfigError([f"{source}: not valid YAML: {err}".replace("\n", " ")]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: expected a mapping of settings, got {type(raw).__name__}"])
    try:
        settings = OrganizationSettings.model_validate(raw)
    except ValidationError as err:
        raise ConfigError([f"{source}: organization: {_describe(e)}" for e in err.errors()]) from None
    if environments is not None:
        by_name = {env.name: env for env in environments}
        problems = []
        unknown = [n for n in settings.covers_environments if n not in by_name]
        if unknown:
            problems.append(f"{source}: organization: covers_environments: {unknown!r} are not environments "
                            f"(known: {', '.join(by_name)}); name files of config/*.yaml")
        for name in settings.covers_environments:
            env = by_name.get(name)
            if env is None:
                continue
            if env.region not in settings.approved_regions:
                problems.append(f"{source}: organization: covers_environments: {name!r} is in {env.region!r}, which "
                                "is not in approved_regions: the SCPs would deny its Bedrock calls; approve the region")
            if env.allows_mantle and not settings.roles.mantle:
                problems.append(f"{source}: organization: roles.mantle: empty, but environment {name!r} uses Mantle "
                                "(a bedrock-mantle endpoint or a model on path mantle); name its Mantle roles or the "
                                "SCP denies them")
        if problems:
            raise ConfigError(problems)
    return settings
