"""One multi-region trail per account, one enforced guardrail and one invocation logging per account and region,
across an app's stacks (rules/one_per_account.py): judged on hand-written assemblies, no synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compliant_bedrock.compliance import Compliance, RuleContext, evaluate
from compliant_bedrock.compliance.assembly_facts import read_facts
from compliant_bedrock.compliance.template import Template

TRAIL = "Bedrock-OneTrailPerAccount"
ENFORCEMENT = "Bedrock-OneGuardrailEnforcementPerRegion"
LOGGING = "Bedrock-OneInvocationLoggingPerRegion"
RULES = (TRAIL, ENFORCEMENT, LOGGING)

_RESOURCES: dict[str, dict[str, Any]] = {
    TRAIL: {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsMultiRegionTrail": True, "TrailName": "audit"}},
    ENFORCEMENT: {"Type": "AWS::Bedrock::EnforcedGuardrailConfiguration",
                  "Properties": {"GuardrailIdentifier": "g", "GuardrailVersion": "1"}},
    LOGGING: {"Type": "Custom::BedrockModelInvocationLogging", "Properties": {"LoggingConfig": {}}},
}


def _stack(*rules: str) -> dict[str, Any]:
    return {"Resources": {rule.rsplit("-", 1)[1]: _RESOURCES[rule] for rule in rules}}


def _outcomes(tmp_path: Path, stacks: dict[str, tuple[dict[str, Any], str]]) -> dict[str, dict[str, str]]:
    """stack -> rule -> outcome, for an assembly of ``name: (template, "aws://<account>/<region>")``."""
    artifacts = {}
    for name, (template, environment) in stacks.items():
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": environment,
                           "properties": {"templateFile": f"{name}.template.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    facts = read_facts(tmp_path)
    found: dict[str, dict[str, str]] = {}
    for name, (template, _environment) in stacks.items():
        results = evaluate(Template(name, template), RuleContext(stack=name, assembly=facts))
        found[name] = {r.rule_id: r.compliance for r in results if r.rule_id in RULES}
        found[name] |= {f"{r.rule_id}:detail": r.detail for r in results if r.rule_id in RULES and r.detail}
    return found


EVERYTHING = (TRAIL, ENFORCEMENT, LOGGING)


def test_one_of_each_per_account_and_region_is_compliant(tmp_path: Path) -> None:
    """The frontier pattern: the account's trail and us-east-1's audit in one stack, us-east-2's in another
    (same account); a second account has its own of everything."""
    found = _outcomes(tmp_path, {
        "A": (_stack(*EVERYTHING), "aws://111122223333/us-east-1"),
        "B": (_stack(ENFORCEMENT, LOGGING), "aws://111122223333/us-east-2"),
        "C": (_stack(*EVERYTHING), "aws://222233334444/us-east-1"),
        "Gov": (_stack(*EVERYTHING), "aws://111122223333/us-gov-west-1"),  # another partition: another account
    })
    assert found["A"] == found["C"] == found["Gov"] == dict.fromkeys(EVERYTHING, Compliance.COMPLIANT)
    assert found["B"] == {TRAIL: Compliance.NOT_APPLICABLE, ENFORCEMENT: Compliance.COMPLIANT,
                          LOGGING: Compliance.COMPLIANT}


def test_a_second_owner_in_one_account_fails_on_the_later_stack_naming_the_first(tmp_path: Path) -> None:
    found = _outcomes(tmp_path, {
        "A": (_stack(*EVERYTHING), "aws://111122223333/us-east-1"),
        "B": (_stack(*EVERYTHING), "aws://111122223333/us-east-1"),
        "C": (_stack(TRAIL, LOGGING), "aws://111122223333/us-west-2"),  # another region: only its trail clashes
    })
    assert {r: found["A"][r] for r in RULES} == dict.fromkeys(RULES, Compliance.COMPLIANT)
    assert {r: found["B"][r] for r in RULES} == dict.fromkeys(RULES, Compliance.NON_COMPLIANT)
    assert found["B"][f"{LOGGING}:detail"] == "stack A creates one too and both deploy to 111122223333/us-east-1"
    assert found["C"][TRAIL] == Compliance.NON_COMPLIANT and found["C"][LOGGING] == Compliance.COMPLIANT
    assert found["C"][f"{TRAIL}:detail"] == "stack A creates one too and both deploy to 111122223333"


@pytest.mark.parametrize("other", ["aws://unknown-account/unknown-region", "aws://111122223333/unknown-region",
                                   "aws://unknown-account/us-east-1"])
def test_an_environment_agnostic_stack_meets_every_owner_of_its_partition(tmp_path: Path, other: str) -> None:
    """It could deploy anywhere, as an environment without ``account`` in the config: a clash, named as such."""
    found = _outcomes(tmp_path, {"A": (_stack(*EVERYTHING), "aws://111122223333/us-east-1"),
                                 "B": (_stack(*EVERYTHING), other)})
    assert {r: found["B"][r] for r in RULES} == dict.fromkeys(RULES, Compliance.NON_COMPLIANT)
    assert "(environment-agnostic), so both could deploy to the same one" in found["B"][f"{ENFORCEMENT}:detail"]


def test_an_environment_agnostic_stack_alone_is_judged_alone(tmp_path: Path) -> None:
    found = _outcomes(tmp_path, {"A": (_stack(*EVERYTHING), "aws://unknown-account/unknown-region"),
                                 "Net": ({"Resources": {}}, "aws://unknown-account/unknown-region")})
    assert {r: found["A"][r] for r in RULES} == dict.fromkeys(RULES, Compliance.COMPLIANT)
    assert set(found["Net"].values()) == {Compliance.NOT_APPLICABLE}


def test_a_single_region_trail_is_not_the_accounts_trail(tmp_path: Path) -> None:
    single = {"Resources": {"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsMultiRegionTrail": False}}}}
    found = _outcomes(tmp_path, {"A": (_stack(TRAIL), "aws://111122223333/us-east-1"),
                                 "B": (single, "aws://111122223333/us-east-1")})
    assert found["A"][TRAIL] == Compliance.COMPLIANT and found["B"][TRAIL] == Compliance.NOT_APPLICABLE


def test_a_lone_template_is_judged_on_its_own_resources() -> None:
    """Without the assembly (cdk-nag 3.x's plugin) two in one template still fail; one passes."""
    two = {"Resources": {"T1": _RESOURCES[TRAIL], "T2": _RESOURCES[TRAIL]}}
    (result,) = [r for r in evaluate(Template("S", two)) if r.rule_id == TRAIL]
    assert result.compliance == Compliance.NON_COMPLIANT
    assert result.detail == "the stack itself creates 2 (multi-region trail: one per account)"
    (alone,) = [r for r in evaluate(Template("S", _stack(TRAIL))) if r.rule_id == TRAIL]
    assert alone.compliance == Compliance.COMPLIANT


def test_run_bedrock_pack_judges_across_the_apps_stacks(tmp_path: Path) -> None:
    """The cdk-nag 2.x route reads the assembly as the gate does: a second trail in the account fails there too."""
    import contextlib
    import io

    from compliant_bedrock.compliance import run_bedrock_pack

    _outcomes(tmp_path, {"A": (_stack(TRAIL), "aws://111122223333/us-east-1"),
                         "B": (_stack(TRAIL), "aws://111122223333/us-west-2")})
    with contextlib.redirect_stderr(io.StringIO()):
        blocking = run_bedrock_pack(tmp_path, fail=False)
    assert ("B", TRAIL) in {(f.stack, f.rule_id) for f in blocking}
    assert ("A", TRAIL) not in {(f.stack, f.rule_id) for f in blocking}
