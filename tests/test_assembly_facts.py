"""Rules that read the rest of the assembly: Mantle data events wherever the SCPs leave Mantle possible, and the
trail a stack without one names, checked when that trail is in the synth. Pure templates, no synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliant_bedrock.compliance import Compliance, RuleContext, evaluate
from compliant_bedrock.compliance.assembly_facts import read_facts
from compliant_bedrock.compliance.template import Template

ACCOUNT, OTHER = "111122223333", "222233334444"
MANTLE = ["AWS::BedrockMantle::Project", "AWS::BedrockMantle::CustomizedModel", "AWS::BedrockMantle::Reservation"]
BEDROCK = ["AWS::Bedrock::Guardrail", "AWS::Bedrock::Model"]


def _selectors(types: list[str]) -> list[dict[str, Any]]:
    return [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [t]}]}
            for t in types]


def _trail(types: list[str], *, organization: bool = False, name: str = "audit") -> dict[str, Any]:
    props: dict[str, Any] = {"TrailName": name, "AdvancedEventSelectors": _selectors(types),
                             "S3BucketName": f"arn:aws:s3:::{name}"}
    if organization:
        props["IsOrganizationTrail"] = True
    return {"Type": "AWS::CloudTrail::Trail", "Properties": props}


def _environment(name: str, trail_types: list[str] | None, coverage: str | None = None) -> dict[str, Any]:
    """An environment's stack: invocation logging, its trail (or a named one), tagged with its name."""
    resources: dict[str, Any] = {
        "Logging": {"Type": "Custom::BedrockInvocationLogging", "Properties": {
            "ServiceToken": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:x",
            "Tags": [{"Key": "Environment", "Value": name}]}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Tags": [{"Key": "Environment", "Value": name}]}},
    }
    if trail_types is not None:
        resources["Trail"] = _trail(trail_types, name=f"{name}-audit")
    body: dict[str, Any] = {"Resources": resources}
    if coverage:
        body["Metadata"] = {"compliant-bedrock:trail-coverage": {
            "trail": coverage, "reason": "the environment that creates this account's trail records these events"}}
    return body


def _organization(covers: list[str], mantle_roles: list[str], trail_types: list[str] | None = None) -> dict[str, Any]:
    scp = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyMantleInferenceExceptNamedRoles", "Effect": "Deny", "Action": "bedrock-mantle:CreateInference",
        "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": mantle_roles}}}]}
    resources: dict[str, Any] = {"Scp": {"Type": "AWS::Organizations::Policy", "Properties": {
        "Name": "compliant-bedrock-inference", "Type": "SERVICE_CONTROL_POLICY", "Content": json.dumps(scp),
        "TargetIds": ["ou-abcd-12345678"]}}}
    if trail_types is not None:
        resources["OrgTrail"] = _trail(trail_types, organization=True, name="compliant-bedrock-organization")
    return {"Metadata": {"compliant-bedrock:organization": {"organization_id": "o-exampleorg1", "partition": "aws",
                                                             "covers_environments": covers}},
            "Resources": resources}


def _assembly(tmp_path: Path, stacks: dict[str, tuple[dict[str, Any], str]]) -> Path:
    tmp_path.mkdir(parents=True)
    artifacts = {}
    for name, (template, account) in stacks.items():
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": f"aws://{account}/us-east-1",
                           "properties": {"templateFile": f"{name}.template.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    return tmp_path


def _outcome(directory: Path, stack: str, rule: str) -> str:
    template = Template(stack, json.loads((directory / f"{stack}.template.json").read_text()), "us-east-1")
    results = evaluate(template, RuleContext(stack=stack, assembly=read_facts(directory)))
    (result,) = [r for r in results if r.rule_id == rule]
    return result.compliance


def test_mantle_data_events_are_required_wherever_no_scp_denies_mantle(tmp_path: Path) -> None:
    no_mantle = _environment("dev", BEDROCK)  # a trail without Mantle types, a stack that never grants Mantle
    # no organization: any administrator of the account can call Mantle, so the trail must record it
    alone = _assembly(tmp_path / "alone", {"CompliantBedrock-dev": (no_mantle, ACCOUNT)})
    assert _outcome(alone, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.NON_COMPLIANT
    # the organization's SCP denies Mantle to every principal of that account: nothing to record
    denied = _assembly(tmp_path / "denied", {"CompliantBedrock-dev": (no_mantle, ACCOUNT), "Org": (
        _organization(["dev"], [f"arn:aws:iam::{OTHER}:role/frontier-workload"]), "111111111111")})
    assert _outcome(denied, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.NOT_APPLICABLE
    # it exempts a role of this account: Mantle is possible here, so it must be recorded ...
    exempt = _organization(["dev"], [f"arn:aws:iam::{ACCOUNT}:role/frontier-workload"])
    here = _assembly(tmp_path / "here", {"CompliantBedrock-dev": (no_mantle, ACCOUNT), "Org": (exempt, "111111111111")})
    assert _outcome(here, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.NON_COMPLIANT
    # ... which the organization trail does for every member account
    with_trail = _organization(["dev"], [f"arn:aws:iam::{ACCOUNT}:role/frontier-workload"], BEDROCK + MANTLE)
    org = _assembly(tmp_path / "org", {"CompliantBedrock-dev": (no_mantle, ACCOUNT), "Org": (with_trail, "111111111111")})
    assert _outcome(org, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.COMPLIANT


def test_a_named_trail_in_the_synth_must_select_the_data_events(tmp_path: Path) -> None:
    covered = _environment("dev", None, coverage="prod")
    weak = _assembly(tmp_path / "weak", {"CompliantBedrock-dev": (covered, ACCOUNT),
                                         "CompliantBedrock-prod": (_environment("prod", ["AWS::Bedrock::Model"]), ACCOUNT)})
    assert _outcome(weak, "CompliantBedrock-dev", "Bedrock-TrailDataEventCoverage") == Compliance.NON_COMPLIANT
    assert _outcome(weak, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.NON_COMPLIANT
    full = _assembly(tmp_path / "full", {"CompliantBedrock-dev": (covered, ACCOUNT),
                                         "CompliantBedrock-prod": (_environment("prod", BEDROCK + MANTLE), ACCOUNT)})
    assert _outcome(full, "CompliantBedrock-dev", "Bedrock-TrailDataEventCoverage") == Compliance.COMPLIANT
    assert _outcome(full, "CompliantBedrock-dev", "Bedrock-TrailMantleDataEvents") == Compliance.COMPLIANT
    # a trail of another account records nothing of this one: the declaration alone is what remains
    other = _assembly(tmp_path / "other", {"CompliantBedrock-dev": (covered, ACCOUNT),
                                           "CompliantBedrock-prod": (_environment("prod", ["AWS::Bedrock::Model"]), OTHER)})
    assert _outcome(other, "CompliantBedrock-dev", "Bedrock-TrailDataEventCoverage") == Compliance.COMPLIANT


def test_detection_in_a_stack_without_a_trail_counts_the_multi_region_trail_it_names(tmp_path: Path) -> None:
    """A bearer-token rule in a stack whose account trail lives in another stack of the app: the named trail's
    selectors feed it when that trail records every region; a single-region trail, or none named, does not."""
    covered = _environment("dev", None, coverage="prod")
    covered["Resources"]["KeyUsed"] = {"Type": "AWS::Events::Rule", "Properties": {"State": "ENABLED", "EventPattern": {
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["bedrock.amazonaws.com"], "requestParameters": {"callWithBearerToken": [True]}}}}}
    rule = "Bedrock-DetectionDataEventsSelected"

    def outcome(name: str, multi_region: bool, coverage: bool = True) -> str:
        prod = _environment("prod", BEDROCK + MANTLE)
        prod["Resources"]["Trail"]["Properties"]["IsMultiRegionTrail"] = multi_region
        dev = covered if coverage else {k: v for k, v in covered.items() if k != "Metadata"}
        return _outcome(_assembly(tmp_path / name, {"CompliantBedrock-dev": (dev, ACCOUNT),
                                                    "CompliantBedrock-prod": (prod, ACCOUNT)}), "CompliantBedrock-dev", rule)

    assert outcome("multi", True) == Compliance.COMPLIANT
    assert outcome("single", False) == Compliance.NON_COMPLIANT
    assert outcome("undeclared", True, coverage=False) == Compliance.NON_COMPLIANT
