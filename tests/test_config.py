"""Bad configuration stops synth with a message naming environment, field, value and what is allowed."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.app_factory import ROOT
from infra.cli import run
from infra.config import ConfigError, load_environments, parse_environment

BASE = yaml.safe_load((ROOT / "tests" / "fixtures" / "environment.yaml").read_text())


def _with(**changes: object) -> dict:
    raw = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = raw
        *parents, leaf = dotted.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        if value is _DELETE:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    if "models" in changes and "accept_unverified_models" not in changes:  # keep acceptances of the models kept
        ids = {m if isinstance(m, str) else m.get("id") for m in raw.get("models") or [] if isinstance(m, str | dict)}
        raw["accept_unverified_models"] = {k: v for k, v in raw.get("accept_unverified_models", {}).items() if k in ids}
    return raw


_DELETE = object()
#: A structured risk acceptance config takes (reason, compensating, approved_by, expires).
_ACCEPTED = {"reason": "The mission needs this exception for unclassified drafting work only this year.",
             "compensating": "The application applies the guardrail itself and logs every prompt to its own store.",
             "approved_by": "AO, risk acceptance RA-2026-101", "expires": "2099-12-31"}

# (case id, changes, fragments the single message must contain)
BAD_CASES = [
    ("unknown-region", {"region": "us-east-9"}, ["region", "'us-east-9'", "unknown AWS region", "us-gov-west-1"]),
    ("partition-mismatch", {"partition": "aws-us-gov"}, ["partition", "'aws-us-gov'", "us-east-1", "'aws'"]),
    ("account-not-12-digits", {"account": "12345"}, ["account", "'12345'", "12 digits"]),
    ("account-unquoted", {"account": 12345678901}, ["account", "quote it", '"012345678901"']),
    ("malformed-model", {"models": ["OpenAI GPT"]}, ["models", "'OpenAI GPT'", "<provider>.<model>"]),
    ("profile-wrong-geo", {"models": ["eu.openai.gpt-oss-120b-1:0"]}, ["models", "'eu.openai.gpt-oss-120b-1:0'", "us-east-1"]),
    ("empty-models", {"models": []}, ["models", "is empty", "at least one model id"]),
    ("duplicate-model", {"models": ["openai.gpt-oss-20b-1:0", "openai.gpt-oss-20b-1:0"]}, ["models", "more than once"]),
    ("invalid-cidr", {"vpc__cidr": "10.0.0.0/33"}, ["vpc.cidr", "'10.0.0.0/33'", "not an IPv4 CIDR"]),
    ("cidr-host-bits", {"vpc__cidr": "10.0.0.1/16"}, ["vpc.cidr", "'10.0.0.1/16'", "host bits"]),
    ("cidr-too-large", {"vpc__cidr": "10.0.0.0/8"}, ["vpc.cidr", "/8", "/16 to /24"]),
    ("overlapping-client-cidrs", {"client_cidrs": ["10.1.0.0/16", "10.1.2.0/24"]}, ["client_cidrs", "'10.1.2.0/24'", "overlaps"]),
    ("open-client-cidr", {"client_cidrs": ["0.0.0.0/0"]}, ["client_cidrs", "'0.0.0.0/0'", "/8 or narrower"]),
    ("az-count-high", {"vpc__az_count": 9}, ["vpc.az_count", "9", "2 to 6"]),
    ("az-count-low", {"vpc__az_count": 1}, ["vpc.az_count", "1", "2 to 6"]),
    ("az-of-other-region", {"vpc__availability_zones": ["us-west-2a", "us-west-2b"]}, ["vpc.availability_zones", "'us-west-2a'", "us-east-1"]),
    ("retention-below-minimum", {"log_retention_days": 90}, ["log_retention_days", "90", "minimum of 365", "M-21-31"]),
    ("retention-not-cloudwatch", {"log_retention_days": 500}, ["log_retention_days", "500", "allowed", "731"]),
    ("object-lock-mode", {"object_lock__mode": "LEGAL_HOLD"}, ["object_lock.mode", "'LEGAL_HOLD'", "COMPLIANCE", "GOVERNANCE"]),
    ("object-lock-days", {"object_lock__days": 30}, ["object_lock.days", "30", "365 to 36500"]),
    ("missing-owner-tag", {"tags__owner": _DELETE}, ["tags.owner", "required field is missing"]),
    ("bad-classification", {"tags__data_classification": "secret"}, ["tags.data_classification", "'secret'", "cui"]),
    ("typo-top-level", {"log_retention_dayz": 365}, ["log_retention_dayz", "unknown key", "log_retention_days"]),
    ("typo-nested", {"vpc__az_cnt": 2}, ["vpc.az_cnt", "unknown key", "az_count"]),
    ("unknown-endpoint", {"endpoints": ["bedrock-runtime", "bedrock-agents"]}, ["endpoints.1", "'bedrock-agents'", "bedrock-agent"]),
    ("mantle-without-endpoint", {"region": "us-east-2", "vpc__availability_zones": ["us-east-2a", "us-east-2b"],
                                 "models": [{"id": "openai.gpt-5.5", "path": "mantle"}],
                                 "accept_unguarded": {"mantle": _ACCEPTED}},
     ["models", "openai.gpt-5.5 on path mantle", "'bedrock-mantle' in endpoints", "non_fips_endpoints"]),
    # The catalog refuses paths that do not exist, naming where the model is served and the line to write.
    ("mantle-only-model-on-runtime", {"models": ["openai.gpt-5.5"]},
     ["models", "'openai.gpt-5.5' is not a bedrock-runtime id", "bedrock-mantle as openai.gpt-5.5 in us-east-2",
      "'- {id: openai.gpt-5.5, path: mantle}'"]),
    ("frontier-model-in-region-on-runtime", {"models": ["openai.gpt-6-sol"]},
     ["models", "'openai.gpt-6-sol' is not a bedrock-runtime id", "write '- us.openai.gpt-6-sol'"]),
    ("global-profile-in-govcloud", {"region": "us-gov-west-1", "vpc__availability_zones": ["us-gov-west-1a", "us-gov-west-1b"],
                                    "models": ["global.openai.gpt-oss-120b-1:0"]},
     ["models", "'global.openai.gpt-oss-120b-1:0'", "commercial regions only", "us-gov.openai.gpt-oss-120b-1:0"]),
    ("mantle-model-where-not-served", {"models": [{"id": "openai.gpt-5.5", "path": "mantle"}]},
     ["models", "not served on bedrock-mantle in 'us-east-1'", "us-east-2"]),
    ("mantle-without-acceptance", {"region": "us-east-2", "vpc__availability_zones": ["us-east-2a", "us-east-2b"],
                                   "endpoints": ["bedrock-runtime", "bedrock-mantle"], "non_fips_endpoints": ["bedrock-mantle"],
                                   "models": [{"id": "openai.gpt-5.4", "path": "mantle"}]},
     ["models", "openai.gpt-5.4 on path mantle", "model invocation logging", "accept_unguarded: {mantle: {reason"]),
    ("runtime-openai-without-acceptance", {"models": [{"id": "us.openai.gpt-5.6-sol", "path": "runtime-openai"}]},
     ["models", "us.openai.gpt-5.6-sol on path runtime-openai", "accept_unguarded: {runtime-openai: {reason"]),
    ("acceptance-too-short", {"accept_unguarded": {"mantle": {**_ACCEPTED, "reason": "we need it"}}},
     ["accept_unguarded.mantle.reason", "8 words"]),
    ("acceptance-for-nothing", {"accept_unguarded": {"mantle": _ACCEPTED}},
     ["accept_unguarded.mantle", "no model uses path mantle"]),
    ("non-fips-endpoint-with-fips-service", {"non_fips_endpoints": ["bedrock-runtime"]},
     ["non_fips_endpoints", "'bedrock-runtime'", "without a FIPS service"]),
    ("mantle-without-own-trail", {"region": "us-east-2", "vpc__availability_zones": ["us-east-2a", "us-east-2b"],
                                  "endpoints": ["bedrock-runtime", "bedrock-mantle"], "non_fips_endpoints": ["bedrock-mantle"],
                                  "models": [{"id": "openai.gpt-5.4", "path": "mantle"}], "audit__create_trail": False,
                                  "audit__trail_covered_by": "commercial",
                                  "accept_unguarded": {"mantle": _ACCEPTED}},
     ["audit.create_trail", "allows Mantle", "AWS::BedrockMantle::*"]),
    ("mantle-endpoint-without-own-trail", {"endpoints": ["bedrock-runtime", "bedrock-mantle"],
                                           "non_fips_endpoints": ["bedrock-mantle"], "audit__create_trail": False,
                                           "audit__trail_covered_by": "commercial"},
     ["audit.create_trail", "the bedrock-mantle endpoint", "create_trail: true"]),
    ("bad-env-name", {"name": "Prod_1"}, ["name", "'Prod_1'", "lowercase"]),
    ("standard-tier-without-profile", {"region": "us-iso-east-1", "fips_endpoints": False, "guardrail__tier": "STANDARD", "models": ["openai.gpt-oss-120b-1:0"]},
     ["guardrail.tier", "'STANDARD'", "us-iso-east-1", "CLASSIC"]),
    ("logging-off-without-reason", {"audit__invocation_logging": False}, ["audit", "no_invocation_logging_reason", "8 words"]),
    ("governance-without-acceptance", {"object_lock__mode": "GOVERNANCE"},
     ["object_lock", "governance_acceptance", "8 words", "approved_by", "expires"]),
    ("governance-acceptance-with-compliance", {"object_lock__governance_acceptance": _ACCEPTED},
     ["object_lock", "only for mode: GOVERNANCE"]),
    ("governance-plain-reason", {"object_lock__mode": "GOVERNANCE", "object_lock__governance_reason": "x " * 9},
     ["object_lock", "governance_reason", "risk decision", "governance_acceptance"]),
    ("governance-short-reason", {"object_lock__mode": "GOVERNANCE",
                                 "object_lock__governance_acceptance": {**_ACCEPTED, "reason": "ops may erase logs"}},
     ["object_lock.governance_acceptance.reason", "8 words"]),
    ("acceptance-expired", {"object_lock__mode": "GOVERNANCE",
                            "object_lock__governance_acceptance": {**_ACCEPTED, "expires": "2020-01-01"}},
     ["object_lock.governance_acceptance.expires", "expired on 2020-01-01"]),
    ("acceptance-without-expiry", {"object_lock__mode": "GOVERNANCE",
                                   "object_lock__governance_acceptance": {k: v for k, v in _ACCEPTED.items()
                                                                          if k != "expires"}},
     ["object_lock.governance_acceptance.expires", "required field is missing"]),
    ("break-glass-arn-not-name", {"audit__break_glass_role_name": "arn:aws:iam::111122223333:role/bg"},
     ["audit.break_glass_role_name", "arn:aws:iam"]),
    ("bad-alert-email", {"audit__alert_emails": ["soc-at-agency"]}, ["audit.alert_emails", "'soc-at-agency'", "email"]),
    ("enforcement-off-without-acceptance", {"guardrail__enforce_account_level": False},
     ["guardrail", "no_account_enforcement", "8 words", "approved_by", "expires"]),
    ("enforcement-off-plain-reason", {"guardrail__enforce_account_level": False,
                                      "guardrail__no_account_enforcement_reason": "x " * 9},
     ["guardrail", "no_account_enforcement_reason", "risk decision", "no_account_enforcement: {reason"]),
    ("enforcement-off-short-approver", {"guardrail__enforce_account_level": False,
                                        "guardrail__no_account_enforcement": {**_ACCEPTED, "approved_by": "ops"}},
     ["guardrail.no_account_enforcement.approved_by", "decision record"]),
    ("enforcement-acceptance-while-on", {"guardrail__no_account_enforcement": _ACCEPTED},
     ["guardrail", "only for enforce_account_level: false"]),
    ("fips-where-none", {"region": "eu-west-1", "models": ["openai.gpt-oss-120b-1:0"]},
     ["fips_endpoints", "'eu-west-1'", "us-gov-west-1", "fips_endpoints: false"]),
    ("replica-same-region", {"account": "111122223333", "audit__replica_region": "us-east-1"},
     ["audit.replica_region", "'us-east-1'", "own region"]),
    ("replica-other-partition", {"account": "111122223333", "audit__replica_region": "us-gov-east-1"},
     ["audit.replica_region", "'us-gov-east-1'", "partition"]),
    ("replica-without-account", {"account": None, "audit__replica_region": "us-west-2"},
     ["audit.replica_region", "needs account"]),
    ("data-events-without-guardrail", {"audit__bedrock_data_event_types": ["AWS::Bedrock::Model"]},
     ["audit.bedrock_data_event_types", "AWS::Bedrock::Guardrail"]),
    ("bad-org-id", {"organization_id": "org-123"}, ["organization_id", "'org-123'"]),
    ("bad-principal-account", {"principal_accounts": ["12345"]}, ["principal_accounts", "'12345'", "12 digits"]),
    ("new-vpc-without-zones", {"vpc__availability_zones": _DELETE},
     ["vpc.availability_zones", "required for a new VPC", "describe-availability-zones"]),
    ("ipv6-client-cidr", {"client_cidrs": ["2001:db8::/56"]}, ["client_cidrs", "'2001:db8::/56'", "IPv4"]),
    ("fips-endpoint-without-fips-service", {"endpoints": ["bedrock-runtime", "bedrock-agent"]},
     ["fips_endpoints", "'bedrock-agent'", "no FIPS endpoint service", "fips_endpoints: false"]),
    ("subnets-exceed-cidr-with-zones", {"vpc__cidr": "10.40.0.0/23",
                                         "vpc__availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"]},
     ["vpc", "10.40.0.0/23", "cannot hold 3 /24 endpoint subnets"]),
    ("replica-without-audit-logs", {"account": "111122223333", "audit__replica_region": "us-west-2",
                                    "audit__create_trail": False, "audit__invocation_logging": False,
                                    "audit__trail_covered_by": "commercial",
                                    "audit__no_invocation_logging_reason":
                                        "Invocations are logged by the central logging account stack in this region"},
     ["audit.replica_region", "writes no audit logs", "remove replica_region"]),
    # Tamper alerts need a receiver: an address or the security account's event bus, in this partition.
    ("no-alert-subscriber", {"audit__alert_emails": []},
     ["audit.alert_emails / audit.alert_event_bus_arns: no alert subscriber", "arn:aws:events:<region>:<account>"]),
    ("alert-bus-not-an-arn", {"audit__alert_event_bus_arns": ["security-alerts"]},
     ["audit.alert_event_bus_arns", "'security-alerts' is not an event bus ARN"]),
    ("alert-bus-other-partition", {"audit__alert_event_bus_arns": [
        "arn:aws-us-gov:events:us-gov-west-1:999988887777:event-bus/security-alerts"]},
     ["audit.alert_event_bus_arns", "in partition 'aws-us-gov', not 'aws'"]),
    ("alert-bus-own-account", {"audit__alert_event_bus_arns": ["arn:aws:events:us-east-1:111122223333:event-bus/default"]},
     ["audit.alert_event_bus_arns", "this environment's own account and region"]),
    ("alert-bus-too-many", {"audit__alert_event_bus_arns": [
        f"arn:aws:events:us-east-1:99998888777{i}:event-bus/x" for i in range(5)]},
     ["audit.alert_event_bus_arns", "at most 5 targets"]),
    ("no-trail-and-none-named", {"audit__create_trail": False},
     ["create_trail: false needs trail_covered_by", "organization trail"]),
    ("trail-named-and-created", {"audit__trail_covered_by": "govcloud"},
     ["trail_covered_by is only for create_trail: false"]),
    ("trail-named-badly", {"audit__create_trail": False, "audit__trail_covered_by": "arn:aws:s3:::bucket"},
     ["audit.trail_covered_by", "neither an environment name nor a trail ARN"]),
    ("data-events-without-trail", {"audit__create_trail": False, "audit__trail_covered_by": "commercial",
                                   "audit__bedrock_data_event_types": ["AWS::Bedrock::Guardrail", "AWS::Bedrock::Model"]},
     ["audit", "bedrock_data_event_types", "create_trail is false"]),
    ("poam-plan-unknown-id", {"poam__items": {"AC-3": {"point_of_contact": "ISSO"}}},
     ["poam.items", "'AC-3'", "POA&M item ids", "poam.json"]),
    ("poam-plan-bad-rating", {"poam__items": {"POAM-0123456789": {"original_risk_rating": "Severe"}}},
     ["poam.items.POAM-0123456789.original_risk_rating", "'Low'", "'Critical'"]),
]


@pytest.mark.parametrize(("changes", "fragments"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_value_is_named_with_environment_field_value_and_fix(changes: dict, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_environment(_with(**changes), "config/commercial.yaml")
    assert len(caught.value.problems) == 1, caught.value.problems
    message = caught.value.problems[0]
    assert re.match(r"^config/commercial\.yaml: environment '(commercial|Prod_1)': ", message), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def _write(directory: Path, name: str, raw: dict) -> None:
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(raw))


def test_duplicate_environment_names_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a", _with(account="111122223333"))
    _write(tmp_path, "b", _with(account="444455556666"))
    with pytest.raises(ConfigError, match=r"b\.yaml: environment 'commercial': name: duplicate.*a\.yaml"):
        load_environments(tmp_path)


def test_a_mantle_environment_sharing_an_account_must_own_its_trail(tmp_path: Path) -> None:
    frontier = yaml.safe_load((ROOT / "config" / "frontier.yaml").read_text())
    _write(tmp_path, "a", _with(account="111122223333"))
    _write(tmp_path, "b", {**frontier, "account": "111122223333"})
    with pytest.raises(ConfigError, match=r"environment 'frontier': audit.create_trail: .* set create_trail: false in "
                                          r"'commercial' \(this environment allows Mantle"):
        load_environments(tmp_path)


def test_one_trail_per_account(tmp_path: Path) -> None:
    _write(tmp_path, "a", _with(account="111122223333"))
    _write(tmp_path, "b", _with(name="second", account="111122223333", region="us-west-2",
                                vpc__availability_zones=["us-west-2a", "us-west-2b"]))
    with pytest.raises(ConfigError, match=r"audit.create_trail: account 111122223333 already gets its multi-region trail"):
        load_environments(tmp_path)


def test_one_enforced_guardrail_per_account_and_region(tmp_path: Path) -> None:
    _write(tmp_path, "a", _with(account="111122223333"))
    _write(tmp_path, "b", _with(name="second", account="111122223333", audit__create_trail=False,
                                audit__trail_covered_by="commercial", audit__invocation_logging=False,
                                audit__no_invocation_logging_reason="Logged by the commercial environment in this "
                                                                    "account and region already"))
    with pytest.raises(ConfigError, match=r"environment 'second': guardrail.enforce_account_level: "
                                          r"111122223333/us-east-1 already enforces the guardrail of 'commercial'"):
        load_environments(tmp_path)
    _write(tmp_path, "b", _with(name="second", account="111122223333", audit__create_trail=False,
                                audit__trail_covered_by="commercial", audit__invocation_logging=False,
                                audit__no_invocation_logging_reason="Logged by the commercial environment in this "
                                                                    "account and region already",
                                guardrail__enforce_account_level=False,
                                guardrail__no_account_enforcement={
                                    **_ACCEPTED, "reason": "The commercial environment enforces its guardrail for "
                                                           "this account and region already"}))
    assert [e.name for e in load_environments(tmp_path)] == ["commercial", "second"]


def test_a_name_that_collides_with_a_replica_stack_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a", _with(name="rep", account="111122223333", audit__replica_region="us-west-2"))
    _write(tmp_path, "b", _with(name="rep-replica", audit__create_trail=False, audit__trail_covered_by="rep",
                                audit__invocation_logging=False,
                                audit__no_invocation_logging_reason="Logged by the rep environment in this "
                                                                    "account and region already"))
    with pytest.raises(ConfigError, match=r"environment 'rep-replica': name: its stack would be the replica stack "
                                          r"of environment 'rep'"):
        load_environments(tmp_path)


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("name: a\nregion: us-east-1\nregion: us-west-2\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml: not valid YAML: .*duplicate key 'region'.*line 3"):
        load_environments(tmp_path)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "a", _with(region="us-east-9", log_retention_days=1, tags__owner=_DELETE))
    with pytest.raises(ConfigError) as caught:
        load_environments(tmp_path)
    assert len(caught.value.problems) == 3


def test_unknown_selected_environment_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"-c env=prod: no such environment; known: commercial, frontier, govcloud"):
        load_environments(ROOT / "config", only="prod")


def test_shipped_environments_are_valid_and_partitioned() -> None:
    envs = {e.name: e for e in load_environments(ROOT / "config")}
    assert envs["commercial"].resolved_partition == "aws"
    assert envs["govcloud"].resolved_partition == "aws-us-gov"
    assert envs["govcloud"].availability_zones == ["us-gov-west-1a", "us-gov-west-1b"]
    frontier = envs["frontier"]
    assert frontier.model_ids("mantle") == ["openai.gpt-5.5", "openai.gpt-5.4"] and frontier.region == "us-east-2"
    assert frontier.fips_endpoints and frontier.non_fips_endpoints == ["bedrock-mantle"]
    assert set(frontier.accept_unguarded) == {"mantle"} and frontier.audit.create_trail
    assert envs["commercial"].model_ids("runtime-converse")[-1] == "us.openai.gpt-5.6-sol"
    assert not envs["commercial"].accept_unguarded and not envs["govcloud"].accept_unguarded


def test_existing_vpc_needs_subnets_and_zones() -> None:
    raw = _with(vpc={"vpc_id": "vpc-0123456789abcdef0", "cidr": "10.9.0.0/16", "subnet_ids": ["subnet-0123456789abcdef0"]})
    with pytest.raises(ConfigError, match=r"vpc: .*at least 2 subnets"):
        parse_environment(raw, "x.yaml")


def test_bad_config_fails_synth_cleanly_without_a_stack_trace(tmp_path: Path) -> None:
    """End to end: the app exits non-zero, names the problem, and prints no traceback."""
    _write(tmp_path, "broken", _with(region="us-east-9"))
    env = {**os.environ, "CDK_CONTEXT_JSON": f'{{"compliant-bedrock:config-dir": "{tmp_path}"}}',
           "CDK_OUTDIR": str(tmp_path / "out")}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "environment 'commercial': region: unknown AWS region 'us-east-9'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists(), "a half-built cloud assembly was written"


def test_an_environment_nobody_receives_alerts_from_fails_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A GovCloud environment without alert_emails or alert_event_bus_arns: exit 2, the fields named."""
    govcloud = yaml.safe_load((ROOT / "config" / "govcloud.yaml").read_text())
    govcloud["audit"] = {k: v for k, v in govcloud["audit"].items() if not k.startswith("alert_")}
    _write(tmp_path, "govcloud", govcloud)
    # in process, as app.py runs it (its exit through app.py: test_bad_config_fails_synth_cleanly_without_a_stack_trace)
    monkeypatch.setenv("CDK_CONTEXT_JSON", f'{{"compliant-bedrock:config-dir": "{tmp_path}"}}')
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    assert run() == 2
    stderr = capsys.readouterr().err
    assert (f"{tmp_path}/govcloud.yaml: environment 'govcloud': audit.alert_emails / audit.alert_event_bus_arns: no "
            "alert subscriber") in stderr
    assert "arn:aws-us-gov:events:<region>:<account>:event-bus/<name>" in stderr
    assert not (tmp_path / "out").exists(), "a half-built cloud assembly was written"


def test_an_environment_outside_the_iam_region_gets_an_iam_events_stack_name(tmp_path: Path) -> None:
    envs = {e.name: e for e in load_environments(ROOT / "config")}
    assert envs["frontier"].iam_events_region == "us-east-1"
    assert envs["commercial"].iam_events_region is None and envs["govcloud"].iam_events_region is None
    _write(tmp_path, "a", _with(name="east", account="111122223333", region="us-east-2",
                                vpc__availability_zones=["us-east-2a", "us-east-2b"]))
    _write(tmp_path, "b", _with(name="east-iam-events", account="444455556666"))
    with pytest.raises(ConfigError, match=r"environment 'east-iam-events': name: its stack would be the IAM-events "
                                          r"stack of environment 'east'"):
        load_environments(tmp_path)


def test_props_a_construct_refuses_fail_synth_cleanly_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Valid config whose models overflow IAM's policy size: the construct's message, exit 2, no traceback."""
    models = [f"eu.openai.example-{i}:0" for i in range(3)]
    accepted = {m: {"reason": "Confirmed with aws bedrock list-inference-profiles in eu-west-1 by the platform team",
                    "approved_by": "AO, RA-TEST-2"} for m in models}
    _write(tmp_path, "eu", _with(name="eu", region="eu-west-1", fips_endpoints=False, models=models,
                                 accept_unverified_models=accepted,
                                 vpc__availability_zones=["eu-west-1a", "eu-west-1b"]))
    monkeypatch.setenv("CDK_CONTEXT_JSON", f'{{"compliant-bedrock:config-dir": "{tmp_path}"}}')
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "out"))
    assert run() == 2  # in process, as app.py runs it
    stderr = capsys.readouterr().err
    assert "invalid construct properties: BedrockModelAccess" in stderr
    assert "over IAM's 6144" in stderr
    assert not list((tmp_path / "out").glob("*.template.json")), "a half-built cloud assembly was written"


def test_a_defect_is_not_reported_as_bad_props() -> None:
    """Only the library's own refusals exit 2 without a traceback; a TypeError is a defect and propagates."""
    from compliant_bedrock.errors import ConstructPropsError
    from infra.cli import run

    def refuse(outdir: str | None):
        raise ConstructPropsError("Thing 'X': prop: 'bad' is not allowed; use 'good'")

    def crash(outdir: str | None):
        raise TypeError("unsupported operand type(s)")

    assert run(build=refuse) == 2
    with pytest.raises(TypeError, match="unsupported operand"):
        run(build=crash)


def test_a_poam_plan_reaches_the_evidence_as_plain_data() -> None:
    from infra.report import poam_plans_of

    env = parse_environment(_with(poam={"point_of_contact": "ISSO, platform team", "items": {"POAM-0123456789": {
        "scheduled_completion": "2027-03-31", "milestones": [{"date": "2027-01-15", "description": "vendor fix"}],
        "deviation_type": "false positive"}}}), "config/commercial.yaml")
    plans = poam_plans_of({env.name: env})
    assert plans == {env.name: {"point_of_contact": "ISSO, platform team", "items": {"POAM-0123456789": {
        "scheduled_completion": "2027-03-31", "milestones": [{"date": "2027-01-15", "description": "vendor fix"}],
        "deviation_type": "false positive"}}}}
    assert poam_plans_of({"x": parse_environment(_with(), "config/commercial.yaml")}) == {}
