"""config/organization/*.yaml ``verification``: the weekly verification's config is refused, naming the field,
when a verified account's read-only role is missing or could not be the one its stack creates. No synth."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra.app_factory import ROOT
from infra.config import ConfigError, load_environments
from infra.org_config import load_organizations


@pytest.fixture
def config(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path / "config"


def _edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _problems(config: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_organizations(config, load_environments(config))
    return "\n".join(err.value.problems)


def test_the_shipped_config_verifies_every_covered_environment(config: Path) -> None:
    organizations = load_organizations(config, load_environments(config))
    for organization in organizations:
        assert organization.verification is not None, organization.name
        assert organization.verifier_role_arn() == (f"arn:{organization.partition}:iam::"
                                                    f"{organization.verification.account}:role/compliant-bedrock-verifier")


@pytest.mark.parametrize(("edit", "field"), [
    (lambda env: env.pop("verify"), r"config/frontier\.yaml: verify\.role_arn: None \(missing\)"),
    (lambda env: env.update(verify={"profile": "frontier-readonly"}), r"config/frontier\.yaml: verify\.role_arn: None"),
    (lambda env: env.update(verify={"role_arn": "arn:aws:iam::111122223333:role/compliant-bedrock-verify"}),
     r"config/frontier\.yaml: verify\.role_arn: .*account 111122223333, not 222233334444"),
    (lambda env: env.update(verify={"role_arn": "arn:aws-us-gov:iam::222233334444:role/compliant-bedrock-verify"}),
     r"config/frontier\.yaml: verify\.role_arn: .*partition 'aws-us-gov', not 'aws'"),
    (lambda env: env.update(verify={"role_arn": "arn:aws:iam::222233334444:role/ops/compliant-bedrock-verify"}),
     r"config/frontier\.yaml: verify\.role_arn: .*a role path"),
])
def test_a_verified_environment_without_its_read_role_is_refused_naming_the_field(config: Path, edit, field: str) -> None:
    _edit(config / "frontier.yaml", edit)
    assert re.search(field, _problems(config)), _problems(config)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda org: org["verification"].update(account="111111111111"), "verification.account: 111111111111 is the management"),
    (lambda org: org["verification"].update(account="222233334444"), "verification.account: 222233334444 is environment 'frontier'"),
    (lambda org: org.pop("verify"), "verify.role_arn: None: the weekly verification reads this organization's policies"),
    (lambda org: org["verification"].update(alert_emails=[]), "verification.alert_emails / verification.alert_event_bus_arns"),
    (lambda org: org["verification"].update(schedule="rate(30 days)"), "verification.schedule"),
    (lambda org: org["verification"].update(
        alert_event_bus_arns=["arn:aws:events:us-east-1:999988887777:event-bus/security-alerts"]),
     "verification.alert_event_bus_arns: .* own account"),
])
def test_a_verification_block_that_cannot_work_is_refused_naming_the_field(config: Path, edit, field: str) -> None:
    _edit(config / "organization" / "commercial.yaml", edit)
    assert re.search(field, _problems(config)), _problems(config)


def test_two_environments_of_one_account_share_one_read_role(config: Path) -> None:
    """IAM role names are per account: two environments of one account (the second in another region) create one
    read-only role, in the first stack by name, so both must name it alike."""
    from types import SimpleNamespace

    from infra.org_config import _check_verified

    organization = next(o for o in load_organizations(config, load_environments(config)) if o.name == "commercial")
    role = SimpleNamespace
    envs = {"a": role(account="111122223333", verify=role(role_arn="arn:aws:iam::111122223333:role/compliant-bedrock-verify")),
            "b": role(account="111122223333", verify=role(role_arn="arn:aws:iam::111122223333:role/another-verify"))}
    organization = organization.model_copy(update={"covers_environments": ["a", "b"]})
    problems = _check_verified(organization, "org.yaml", envs)
    assert problems == ["config/b.yaml: verify.role_arn: role 'another-verify', but environment 'a' of the same "
                        "account 111122223333 names 'compliant-bedrock-verify'; one read-only role per account"]
    envs["b"].verify.role_arn = envs["a"].verify.role_arn
    assert _check_verified(organization, "org.yaml", envs) == []


def test_one_read_role_per_account_in_the_first_environment_by_name() -> None:
    from types import SimpleNamespace as ns

    from infra.app_factory import _read_roles

    arn = "arn:aws:iam::111122223333:role/compliant-bedrock-verify"
    envs = [ns(name="a", account="111122223333", verify=ns(role_arn=arn)),
            ns(name="b", account="111122223333", verify=ns(role_arn=arn)),
            ns(name="c", account="222233334444", verify=ns(role_arn=arn.replace("111122223333", "222233334444")))]
    verified = ns(verification=object(), covered_environments=lambda: envs)
    unverified = ns(verification=None, covered_environments=lambda: envs)
    assert sorted(_read_roles([unverified, verified])) == ["a", "c"]
    assert _read_roles([unverified]) == {}
