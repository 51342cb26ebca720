"""Rules across environments (check_environments): one trail per account, one invocation-logging owner
per account and region, and what "per account" means for environments that name no account."""

from __future__ import annotations

from typing import Any

from infra.config import ConfigError, EnvironmentSettings, check_environments

BASE: dict[str, Any] = {
    "vpc": {"cidr": "10.40.0.0/16"},
    "models": ["openai.gpt-oss-120b-1:0"],
    "tags": {"owner": "team@example.gov", "data_classification": "cui", "cost_center": "CC-1"},
}
REASON = "Invocations of this account and region are logged by the platform account's baseline stack"
ORG_TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/organization-audit"


def env(name: str, region: str = "us-east-1", account: str | None = None, **audit: Any) -> tuple[str, EnvironmentSettings]:
    if audit.get("create_trail") is False:  # an environment without a trail names the one that records it
        audit.setdefault("trail_covered_by", ORG_TRAIL)
    raw = {**BASE, "name": name, "region": region, "vpc": {**BASE["vpc"], "availability_zones": [f"{region}a", f"{region}b"]},
           "audit": {"alert_emails": ["security-alerts@example.gov"], **audit}}
    if account:
        raw["account"] = account
    return f"config/{name}.yaml", EnvironmentSettings.model_validate(raw)


def problems(*envs: tuple[str, EnvironmentSettings], field: str = "audit.") -> list[str]:
    """The problems check_environments reports about ``field`` (a prefix)."""
    try:
        check_environments(list(envs))
    except ConfigError as err:
        return [p for p in err.problems if f": {field}" in p]
    return []


def test_one_invocation_logging_owner_per_account_and_region() -> None:
    (line,) = problems(env("aa", account="111122223333", create_trail=False),
                       env("bb", account="111122223333", create_trail=False))
    assert line == ("config/bb.yaml: environment 'bb': audit.invocation_logging: 111122223333/us-east-1 is already "
                    "configured by 'aa' (one setting per account and region)")
    assert not problems(env("aa", account="111122223333", create_trail=False),
                        env("bb", "us-west-2", account="111122223333", create_trail=False))  # another region
    assert not problems(env("aa", account="111122223333", create_trail=False),
                        env("bb", account="444455556666", create_trail=False))  # another account


def test_environments_without_an_account_may_share_one() -> None:
    """Two env-agnostic environments deploy to whichever account the CLI names: maybe the same one."""
    (trail,) = problems(env("aa"), env("bb", "us-west-2"))
    assert "audit.create_trail: 'aa' creates a multi-region trail and either environment has no account" in trail
    assert "name `account` in each" in trail
    lines = problems(env("aa", create_trail=False), env("bb", account="111122223333", create_trail=False))
    assert len(lines) == 1 and "audit.invocation_logging: 'aa' configures us-east-1 too" in lines[0]
    assert not problems(env("aa"), env("bb", "us-west-2", create_trail=False))


def test_partitions_never_share_an_account() -> None:
    assert not problems(env("aa"), env("gov", "us-gov-west-1"))


def test_an_environment_that_opts_out_is_no_owner() -> None:
    assert not problems(env("aa"), env("bb", create_trail=False, invocation_logging=False,
                                      no_invocation_logging_reason=REASON))


def test_one_enforced_guardrail_per_account_and_region() -> None:
    (line,) = problems(env("aa", account="111122223333", create_trail=False),
                       env("bb", account="111122223333", create_trail=False, invocation_logging=False,
                           no_invocation_logging_reason=REASON), field="guardrail.enforce_account_level")
    assert "111122223333/us-east-1 already enforces the guardrail of 'aa'" in line
    (line,) = problems(env("aa"), env("bb", create_trail=False, invocation_logging=False,
                                      no_invocation_logging_reason=REASON), field="guardrail.enforce_account_level")
    assert "either environment has no account" in line and "no_account_enforcement: {reason" in line


def test_an_environment_without_a_trail_names_one_that_records_its_account() -> None:
    assert not problems(env("aa", account="111122223333"),
                        env("bb", "us-west-2", account="111122223333", create_trail=False, trail_covered_by="aa"))
    (line,) = problems(env("aa", account="111122223333"),
                       env("bb", "us-west-2", account="444455556666", create_trail=False, trail_covered_by="aa"))
    assert "audit.trail_covered_by: 'aa' does not create a trail in this environment's account" in line
    (line,) = problems(env("aa", account="111122223333"),
                       env("bb", "us-west-2", account="111122223333", create_trail=False, trail_covered_by="cc"))
    assert "audit.trail_covered_by: no environment 'cc'" in line
