"""Where prompts go: each environment's model destinations from the catalog, and a declared data residency that
refuses a destination outside it or one the catalog cannot confirm (settings and catalog only, no synth)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compliant_bedrock.models import SRC_GOVCLOUD_BLOG, SRC_GPT56_SOL, model_destinations
from infra.app_factory import ROOT
from infra.config import ConfigError, load_environments, parse_environment

SHIPPED = {name: yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text(encoding="utf-8"))
           for name in ("commercial", "frontier", "govcloud")}
US_AND_CANADA = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1"]
ACCEPTED = {"reason": "The card lists source regions only and the data owner accepts all of them for drafts",
            "approved_by": "AO, RA-2026-099"}


def _commercial(**changes: object) -> dict:
    raw = copy.deepcopy(SHIPPED["commercial"])
    raw.pop("accept_uncertain_destinations", None)
    raw.update(changes)
    if "models" in changes and "accept_unverified_models" not in changes:  # keep acceptances of the models kept
        raw["accept_unverified_models"] = {k: v for k, v in raw.get("accept_unverified_models", {}).items()
                                           if k in changes["models"]}
    return raw


def _refused(raw: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_environment(raw, "config/commercial.yaml")
    (message,) = caught.value.problems
    assert message.startswith("config/commercial.yaml: environment 'commercial': "), message
    return message


def test_the_reference_environments_destinations() -> None:
    """commercial's GPT-5.6 Sol may run in Canada (its model card), UNCERTAIN per calling region; govcloud's
    us-gov. profile stays in GovCloud; frontier's Mantle models and every in-region id stay where they are called."""
    envs = {e.name: e for e in load_environments(ROOT / "config")}
    where = {name: {m.id: model_destinations(m.id, m.path, env.region) for m in env.models} for name, env in envs.items()}
    sol = where["commercial"]["us.openai.gpt-5.6-sol"]
    assert sol.source_region == "us-east-1" and "ca-central-1" in sol.elsewhere
    assert sol.uncertain and sol.sources == (SRC_GPT56_SOL,)
    assert where["commercial"]["openai.gpt-oss-120b-1:0"].regions == ("us-east-1",)
    gov = where["govcloud"]["us-gov.openai.gpt-oss-20b-1:0"]
    assert gov.regions == ("us-gov-east-1", "us-gov-west-1") and not gov.uncertain and gov.sources == (SRC_GOVCLOUD_BLOG,)
    assert where["govcloud"]["openai.gpt-oss-120b-1:0"].regions == ("us-gov-west-1",)
    assert {d.regions for d in where["frontier"].values()} == {("us-east-2",)}
    assert {d.endpoint for d in where["frontier"].values()} == {"bedrock-mantle"}


def test_the_shipped_residencies_are_the_ones_that_hold() -> None:
    envs = {e.name: e for e in load_environments(ROOT / "config")}
    assert envs["govcloud"].data_residency == "us-gov" and envs["frontier"].data_residency == "us"
    # commercial is not `us`: its GPT-5.6 Sol profile may run in ca-central-1, so it declares the list that is true
    assert sorted(envs["commercial"].data_residency) == sorted(US_AND_CANADA)
    accepted = envs["commercial"].accept_uncertain_destinations["us.openai.gpt-5.6-sol"]
    assert "RA-2026-021" in accepted.approved_by and len(accepted.reason.split()) >= 8


def test_commercial_declared_us_fails_naming_the_model_canada_and_the_source() -> None:
    message = _refused(_commercial(data_residency="us"))
    assert "data_residency: us (the United States" in message
    assert "us.openai.gpt-5.6-sol (bedrock-runtime, called in us-east-1)" in message
    assert ": ca-central-1 outside it" in message and SRC_GPT56_SOL in message
    assert "openai.gpt-oss-120b-1:0" not in message  # in-region in us-east-1: inside
    # accepting the uncertainty does not accept a destination known to be outside
    message = _refused(_commercial(data_residency="us",
                                   accept_uncertain_destinations={"us.openai.gpt-5.6-sol": ACCEPTED}))
    assert ": ca-central-1 outside it" in message and "accept_uncertain_destinations: {" not in message


def test_uncertain_destinations_fail_unless_accepted_in_writing() -> None:
    message = _refused(_commercial(data_residency=US_AND_CANADA))
    assert "UNCERTAIN: the model card lists the us. profile's source regions" in message
    assert "outside it" not in message and SRC_GPT56_SOL in message
    assert "accept_uncertain_destinations: {us.openai.gpt-5.6-sol: {reason: <at least 8 words>" in message
    env = parse_environment(_commercial(data_residency=US_AND_CANADA,
                                        accept_uncertain_destinations={"us.openai.gpt-5.6-sol": ACCEPTED}), "x.yaml")
    assert env.residency is not None and env.residency.allows("ca-central-1")
    short = _refused(_commercial(data_residency=US_AND_CANADA, accept_uncertain_destinations={
        "us.openai.gpt-5.6-sol": {"reason": "we need it", "approved_by": "the AO"}}))
    assert "accept_uncertain_destinations.us.openai.gpt-5.6-sol.reason" in short and "8 words" in short


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"data_residency": None, "accept_uncertain_destinations": {"us.openai.gpt-5.6-sol": ACCEPTED}},
     "no data_residency is declared"),
    ({"data_residency": "us", "accept_uncertain_destinations": {"openai.gpt-oss-120b-1:0": ACCEPTED}},
     "the catalog's destinations for it are not UNCERTAIN"),
    ({"data_residency": US_AND_CANADA, "accept_uncertain_destinations": {"us.openai.gpt-6-sol": ACCEPTED}},
     "no model of this environment has that id"),
])
def test_an_acceptance_for_nothing_is_refused(changes: dict, fragment: str) -> None:
    message = _refused(_commercial(**changes))
    assert "accept_uncertain_destinations." in message and fragment in message and "remove the acceptance" in message


@pytest.mark.parametrize(("changes", "fragments"), [
    ({"data_residency": "us", "models": ["global.openai.gpt-5.6-sol"]},
     ["global.openai.gpt-5.6-sol", "may process prompts in any commercial AWS region", "outside it"]),
    ({"data_residency": "us", "models": ["us.example.model-1:0"],
      "accept_unverified_models": {"us.example.model-1:0": ACCEPTED}},
     ["us.example.model-1:0", "UNCERTAIN: not in the catalog", "no source: not in the model catalog"]),
    ({"data_residency": "us-gov"}, ["the environment's region 'us-east-1' is outside it"]),
    ({"data_residency": ["us-east-1"], "models": ["openai.gpt-oss-120b-1:0"], "audit": {
        **SHIPPED["commercial"]["audit"], "replica_region": "us-west-2"}},
     ["audit.replica_region 'us-west-2' is outside it", "prompts and completions"]),
    ({"data_residency": "eu"}, ["'eu' is not a named residency", "us-gov", "list of regions"]),
    ({"data_residency": ["us-east-1", "us-east-9"]}, ["unknown AWS region 'us-east-9'"]),
])
def test_every_place_a_prompt_may_go_is_checked(changes: dict, fragments: list[str]) -> None:
    message = _refused(_commercial(**changes))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_no_residency_no_check() -> None:
    raw = _commercial(models=["global.openai.gpt-5.6-sol"])
    raw.pop("data_residency")
    assert parse_environment(raw, "x.yaml").residency is None


def test_a_residency_violation_fails_synth_with_exit_2(tmp_path: Path) -> None:
    """End to end through app.py: exit 2, the environment, model, destination outside and the source named."""
    (tmp_path / "commercial.yaml").write_text(yaml.safe_dump(_commercial(data_residency="us")), encoding="utf-8")
    env = {**os.environ, "CDK_CONTEXT_JSON": f'{{"compliant-bedrock:config-dir": "{tmp_path}"}}',
           "CDK_OUTDIR": str(tmp_path / "out")}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{tmp_path}/commercial.yaml: environment 'commercial': data_residency: us" in result.stderr
    assert "us.openai.gpt-5.6-sol" in result.stderr and "ca-central-1 outside it" in result.stderr
    assert SRC_GPT56_SOL in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_the_deviations_a_configuration_accepts_become_poam_items() -> None:
    """Each accepted deviation no suppression carries: named non-FIPS endpoints, FIPS off, ids outside the catalog,
    UNCERTAIN destinations under a residency (with the approver), an account no organization binds."""
    from infra.report import deviations_of

    envs = {e.name: e for e in load_environments(ROOT / "config")}
    found = deviations_of(envs)
    assert [d["subject"] for d in found["frontier"]] == ["non-fips/bedrock-mantle"]
    assert [(d["subject"], d["accepted_by"]) for d in found["commercial"]] == [
        ("unverified/us.openai.gpt-5.6-sol", "AO for the commercial system, risk acceptance RA-2026-023"),
        ("uncertain-destinations/us.openai.gpt-5.6-sol", "AO for the commercial system, risk acceptance RA-2026-021")]
    # the UNCERTAIN us-gov. profile id, accepted in writing with its approver
    assert [(d["subject"], d["accepted_by"]) for d in found["govcloud"]] == [
        ("unverified/us-gov.openai.gpt-oss-20b-1:0", "AO for the GovCloud system, risk acceptance RA-2026-022")]
    raw = _commercial(fips_endpoints=False, models=["openai.gpt-oss-120b-1:0", "openai.example-next-1:0"],
                      accept_unverified_models={"openai.example-next-1:0": ACCEPTED},
                      no_organization_reason="This account is a sandbox outside every organization of the agency")
    other = deviations_of({"sandbox": parse_environment(raw, "x.yaml")})["sandbox"]
    assert [d["subject"] for d in other] == ["non-fips/all", "unverified/openai.example-next-1:0", "no-organization"]
    assert all(d["reason"] and d["weakness"] and d["controls"] for d in other)


def test_poam_lists_each_deviation_once_with_the_environments_own_stack() -> None:
    from compliant_bedrock.evidence.poam import build_poam

    class Stack:  # what build_poam reads of a stack
        def __init__(self, name: str, environment: str) -> None:
            self.name, self.environment, self.findings = name, environment, []

    stacks = [Stack("CompliantBedrock-dev-replica", "dev"), Stack("CompliantBedrock-dev", "dev")]
    names = {"CompliantBedrock-dev": "dev", "CompliantBedrock-dev-replica": "dev-replica"}
    deviation = {"subject": "non-fips/bedrock-mantle", "weakness": "not FIPS", "controls": ["SC-13", "sc-8 (1)"],
                 "source": "configuration non_fips_endpoints", "reason": "no FIPS service", "accepted_by": "the AO"}
    poam = build_poam(stacks, names, {s.name: {"controls": {}} for s in stacks}, {"dev": [deviation]})
    (item,) = [i for i in poam["items"] if i["source"] == "configuration non_fips_endpoints"]
    assert item["environment"] == "dev" and item["controls"] == ["SC-8(1)", "SC-13"] and item["accepted_by"] == "the AO"
    assert item["kind"] == "risk-accepted" and item["reason"] == "no FIPS service"
    assert item["milestones"] == ["to be set by the system owner"] and item["deviation_type"] == "risk acceptance"
