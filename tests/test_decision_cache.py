"""The perimeter proof's decision cache: a question asked again is answered from disk, a different one never is.

Pure functions and a counting stand-in for the simulator's Node process (the real simulator's cached decisions
are compared with fresh ones on the reference assembly in test_perimeter.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from compliant_bedrock.compliance.perimeter import decision_cache, simulator
from infra.app_factory import ROOT

NODE_MODULES = ROOT / "node_modules"
ACCOUNT, OTHER = "111122223333", "444455556666"


def _simulation(account: str = ACCOUNT, *, action: str = "bedrock:InvokeModel", resource_arn: str | None = None,
                scp_deny: str = "bedrock:CreateFoundationModelAgreement", context: dict[str, str] | None = None,
                endpoint: dict[str, Any] | None = None, rcp: dict[str, Any] | None = None,
                resource_policy: dict[str, Any] | None = None) -> dict[str, Any]:
    principal = f"arn:aws:iam::{account}:role/app"
    simulation: dict[str, Any] = {
        "request": {"principal": principal, "action": action,
                    "resource": {"resource": resource_arn or "arn:aws:bedrock:us-east-1::foundation-model/m",
                                 "accountId": account},
                    "contextVariables": {"aws:PrincipalAccount": account, **(context or {})}},
        "identityPolicies": [{"name": "invoke", "policy": {"Version": "2012-10-17", "Statement": [
            {"Sid": "Invoke", "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": account}}}]}}],
        "serviceControlPolicies": [{"orgIdentifier": "organization", "policies": [{"name": "deny", "policy": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": scp_deny, "Resource": "*"}]}}]}],
        "resourceControlPolicies": [{"orgIdentifier": "organization", "policies": [rcp]}] if rcp else [],
        "vpcEndpointPolicies": [endpoint] if endpoint else [],
    }
    if resource_policy is not None:
        simulation["resourcePolicy"] = resource_policy
    return simulation


def _digest(simulation: dict[str, Any], fingerprint: str = "f") -> str:
    return decision_cache.canonicalize(simulation, fingerprint).digest


def test_account_ids_are_renamed_consistently_and_everything_else_is_in_the_key() -> None:
    base = _digest(_simulation())
    # the same question in another account (a StackSet's instances): one digest, one simulation
    assert _digest(_simulation(OTHER)) == base
    canonical = decision_cache.canonicalize(_simulation(OTHER), "f")
    assert ACCOUNT not in json.dumps(canonical.simulation) and OTHER not in json.dumps(canonical.simulation)
    assert canonical.tokens == {"000000000001": OTHER}
    endpoint = {"name": "vpce", "policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                                          "Principal": "*"}]}}
    key_policy = {"Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*", "Principal": "*"}]}
    rcp = {"name": "rcp", "policy": {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                                    "Principal": "*"}]}}
    changed = {
        "action": _simulation(action="bedrock:Converse"),
        "resource": _simulation(resource_arn="arn:aws:bedrock:us-east-2::foundation-model/m"),
        "context key": _simulation(context={"aws:SourceVpce": "vpce-1"}),
        "context value": _simulation(context={"aws:RequestedRegion": "us-west-2"}),
        "scp": _simulation(scp_deny="bedrock:*"),
        "rcp": _simulation(rcp=rcp),
        "endpoint policy": _simulation(endpoint=endpoint),
        "resource policy": _simulation(resource_policy=key_policy),
        "simulator": None,
    }
    digests = {what: _digest(s) if s else _digest(_simulation(), "another simulator") for what, s in changed.items()}
    assert base not in digests.values() and len(set(digests.values())) == len(digests), digests
    # two different accounts stay different: a cross-account question is not a same-account one
    cross = _simulation()
    cross["request"]["resource"]["accountId"] = OTHER
    assert _digest(cross) != base
    # an identity policy statement changed (the order of statements too: the evidence cites statement indexes)
    widened = _simulation()
    widened["identityPolicies"][0]["policy"]["Statement"][0]["Action"] = "bedrock:*"
    assert _digest(widened) != base
    reordered = _simulation()
    reordered["identityPolicies"][0]["policy"]["Statement"].insert(0, {"Effect": "Deny", "Action": "x:*",
                                                                       "Resource": "*"})
    reordered_later = _simulation()
    reordered_later["identityPolicies"][0]["policy"]["Statement"].append({"Effect": "Deny", "Action": "x:*",
                                                                          "Resource": "*"})
    assert _digest(reordered) != _digest(reordered_later)
    # a policy naming another account than the request's: each document's ids are placed in the whole renaming
    foreign = _simulation()
    foreign["identityPolicies"][0]["policy"]["Statement"][0]["Condition"]["StringEquals"][
        "aws:PrincipalAccount"] = OTHER
    assert _digest(foreign) != base


@pytest.mark.parametrize("pattern", ["arn:aws:iam::1111*:role/app", "NumericLessThan"])
def test_ids_are_not_renamed_where_a_wildcard_or_an_ordering_could_tell_them_apart(pattern: str) -> None:
    """``1111*`` matches 111122223333 and not its token: such a simulation is kept as it is."""
    simulation = _simulation()
    statement = simulation["identityPolicies"][0]["policy"]["Statement"][0]
    if pattern.startswith("arn:"):
        statement["Condition"] = {"ArnLike": {"aws:PrincipalArn": pattern}}
    else:
        statement["Condition"] = {pattern: {"aws:MultiFactorAuthAge": "3600"}}
    canonical = decision_cache.canonicalize(simulation, "f")
    assert canonical.tokens == {} and canonical.simulation == json.loads(json.dumps(simulation))
    other = copy.deepcopy(simulation)
    other["request"]["principal"] = other["request"]["principal"].replace(ACCOUNT, OTHER)
    assert decision_cache.canonicalize(other, "f").digest != canonical.digest


def test_restore_puts_the_request_ids_back() -> None:
    canonical = decision_cache.canonicalize(_simulation(OTHER), "f")
    result = {"result": "Allowed", "grants": [{"policyIdentifier": "arn:aws:iam::000000000001:policy/p"}]}
    assert decision_cache.restore(result, canonical.tokens)["grants"][0]["policyIdentifier"] == (
        f"arn:aws:iam::{OTHER}:policy/p")


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The simulator's process replaced by a stand-in that allows what the identity policy's action names."""
    batches: list[int] = []

    def run(simulations: list[dict[str, Any]], **_: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        batches.append(len(simulations))
        return {}, {s["id"]: {"id": s["id"], "result": "Allowed" if s["simulation"]["identityPolicies"][0]["policy"][
            "Statement"][0]["Action"] == s["simulation"]["request"]["action"] else "ImplicitlyDenied",
            "grants": [{"policyIdentifier": s["simulation"]["request"]["principal"]}]} for s in simulations}

    monkeypatch.setattr(simulator, "run", run)
    return batches


def test_a_second_run_simulates_nothing_and_a_changed_policy_misses(tmp_path: Path, counting: list[int]) -> None:
    batch = [{"id": f"env|r{i}", "simulation": _simulation(account)} for i, account in
             enumerate([ACCOUNT, OTHER, "999988887777"])]
    batch.append({"id": "env|denied", "simulation": _simulation(action="bedrock:Converse")})
    first = decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path)
    assert first.counts == {"requests": 4, "distinct": 2, "cached": 0, "simulated": 2} and counting == [2]
    assert first.simulator == {"name": simulator.PACKAGE, "version": simulator.VERSION}
    # each request gets its own ids back, though one simulation decided three of them
    assert [first.results[f"env|r{i}"]["grants"][0]["policyIdentifier"] for i in range(3)] == [
        f"arn:aws:iam::{a}:role/app" for a in (ACCOUNT, OTHER, "999988887777")]
    assert first.results["env|denied"]["result"] == "ImplicitlyDenied"

    second = decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path)
    assert second.counts["simulated"] == 0 and second.counts["cached"] == 2 and counting == [2]
    assert second.results == first.results
    assert json.loads((tmp_path / decision_cache.LAST_RUN).read_text())["simulated"] == 0

    widened = copy.deepcopy(batch)
    widened[3]["simulation"]["identityPolicies"][0]["policy"]["Statement"][0]["Action"] = "bedrock:Converse"
    third = decision_cache.evaluate(widened, node_modules=NODE_MODULES, directory=tmp_path)
    assert third.counts["simulated"] == 1 and counting == [2, 1]
    assert third.results["env|denied"]["result"] == "Allowed"


def test_another_simulator_or_runner_starts_an_empty_cache(tmp_path: Path, counting: list[int]) -> None:
    modules = tmp_path / "node_modules"
    for package in (NODE_MODULES / "@cloud-copilot").iterdir():
        (modules / "@cloud-copilot" / package.name).mkdir(parents=True)
        (modules / "@cloud-copilot" / package.name / "package.json").write_bytes((package / "package.json").read_bytes())
    before = decision_cache.fingerprint(modules)
    assert before == decision_cache.fingerprint(NODE_MODULES)
    data = modules / "@cloud-copilot" / "iam-data" / "package.json"
    data.write_text(json.dumps({**json.loads(data.read_text()), "version": "9.9.9"}))
    assert decision_cache.fingerprint(modules) != before  # the IAM data the simulator reads is in the key
    batch = [{"id": "env|r", "simulation": _simulation()}]
    decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path / "cache")
    stored = decision_cache.DecisionCache(tmp_path / "cache", decision_cache.fingerprint(NODE_MODULES))
    assert len(stored.decisions) == 1
    # a file of another fingerprint under the same name (a prefix collision, a copied file) is not read
    other = decision_cache.DecisionCache(tmp_path / "cache", stored.fingerprint[:24] + "0" * 40)
    assert other.path == stored.path and other.decisions == {}


def test_the_cache_goes_where_it_is_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         counting: list[int]) -> None:
    assert decision_cache.location(tmp_path) == tmp_path / ".cache" / "perimeter"
    monkeypatch.setenv(decision_cache.CACHE_ENV, "off")
    assert decision_cache.location(tmp_path) is None
    batch = [{"id": "env|r", "simulation": _simulation()}]
    for _ in range(2):  # off: every run simulates
        decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=decision_cache.location(tmp_path))
    assert counting == [1, 1] and not (tmp_path / ".cache").exists()
    monkeypatch.setenv(decision_cache.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert decision_cache.location(tmp_path) == tmp_path / "elsewhere"


def test_a_cached_decision_still_needs_the_pinned_simulator_installed(tmp_path: Path, counting: list[int],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The evidence names the simulator that decided: with it gone (or another version), cached answers are not
    passed off as its answers."""
    batch = [{"id": "env|r", "simulation": _simulation()}]
    decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path)
    monkeypatch.setenv(simulator.NODE_MODULES_ENV, str(tmp_path / "empty"))
    with pytest.raises(simulator.SimulatorError, match="is not installed"):
        decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path)
    monkeypatch.delenv(simulator.NODE_MODULES_ENV)
    monkeypatch.setattr(simulator, "VERSION", "0.0.1")
    with pytest.raises(simulator.SimulatorError, match=r"0\.1\.173 is installed, 0\.0\.1 is pinned"):
        decision_cache.evaluate(batch, node_modules=NODE_MODULES, directory=tmp_path)
    assert counting == [1]
