"""The deployed twin's pure parts: template values resolved against physical ids, policy comparison, waiting
for drift detection, and the input errors that stop it before any AWS call (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.verify import main
from infra.verify_checks import CONFIRMED, CONTRADICTED, NOT_VERIFIABLE, UNREADABLE, Claim, Reader, check_drift
from infra.verify_template import UNRESOLVED, Deployed, compare_policies, resolve

ACCOUNT = "111122223333"
STACK = "CompliantBedrock-commercial"


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _env() -> Any:
    """The tests' own environment (tests/fixtures/environment.yaml)."""
    import yaml

    from infra.config import parse_environment

    return parse_environment(yaml.safe_load((FIXTURES / "environment.yaml").read_text()), "environment.yaml")


def test_no_template_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "commercial.yaml").write_text((FIXTURES / "environment.yaml").read_text())
    assert main(["--env", "commercial", "--outdir", str(tmp_path), "--config-dir", str(tmp_path / "config")]) == 2
    assert "make synth ENV=commercial" in capsys.readouterr().err


def _deployed() -> Deployed:
    return Deployed({"Bucket": "my-bucket", "Key": "k-1"}, {"Bucket": "AWS::S3::Bucket", "Key": "AWS::KMS::Key"},
                    "aws-us-gov", "us-gov-west-1", ACCOUNT)


def test_a_template_reference_resolves_to_the_physical_id_in_its_partition() -> None:
    value = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}
    assert resolve(value, _deployed()) == "arn:aws-us-gov:s3:::my-bucket/*"
    assert resolve({"Fn::GetAtt": ["Role", "Arn"]}, _deployed()) == UNRESOLVED


def test_policy_comparison_finds_an_added_statement_and_tolerates_unresolved_values() -> None:
    template = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Principal": {"AWS": {
        "Fn::GetAtt": ["Role", "Arn"]}}, "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}}]}
    live = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Principal": {"AWS": "arn:x:iam::1:role/r"},
                           "Resource": "arn:aws-us-gov:s3:::my-bucket/*"}]}
    assert compare_policies(template, live, _deployed()).same
    opened = {"Statement": [*live["Statement"], {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "*",
                                                 "Resource": "*"}]}
    diff = compare_policies(template, opened, _deployed())
    assert not diff.same and "Sid 'Open'" in diff.describe()


def test_drift_detection_still_running_is_unreadable_not_confirmed() -> None:
    class Cfn:
        def detect_stack_drift(self, **_: Any) -> dict[str, Any]:
            return {"StackDriftDetectionId": "d"}

        def describe_stack_drift_detection_status(self, **_: Any) -> dict[str, Any]:
            return {"DetectionStatus": "DETECTION_IN_PROGRESS"}

    reader = Reader(lambda service: Cfn(), _deployed(), {"Resources": {}})
    check_drift(reader, STACK, timeout=4, sleep=lambda seconds: None)
    assert [c.status for c in reader.claims] == [UNREADABLE]
    assert "still running after 4 s" in reader.claims[0].note


def test_a_contradiction_names_the_field_expected_and_live() -> None:
    claim = Claim("trail AuditTrail", "IsLogging", CONTRADICTED, True, False)
    assert claim.line() == "trail AuditTrail IsLogging: expected true, live false"


def test_a_scalar_claim_is_contradicted_when_the_live_value_differs() -> None:
    reader = Reader(lambda service: None, _deployed(), {"Resources": {}})
    reader.claim("bucket B", "DefaultRetention.Days", 913, 1)
    reader.claim("bucket B", "DefaultRetention.Mode", "COMPLIANCE", "COMPLIANCE")
    assert [c.status for c in reader.claims] == [CONTRADICTED, CONFIRMED]


def test_a_template_value_not_derivable_is_never_confirmed() -> None:
    reader = Reader(lambda service: None, _deployed(), {"Resources": {}})
    reader.claim("enforced guardrail G", "guardrailVersion", resolve({"Fn::GetAtt": ["Version", "Version"]},
                                                                     _deployed()), "7")
    assert reader.claims[0].status == NOT_VERIFIABLE


def test_a_failed_read_is_an_unreadable_claim_naming_the_call() -> None:
    from botocore.exceptions import ClientError

    class Kms:
        def get_key_policy(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetKeyPolicy")

    reader = Reader(lambda service: Kms(), _deployed(), {"Resources": {}})
    reader.guarded("key K", "KeyPolicy", lambda: reader.call("kms", "GetKeyPolicy", KeyId="k-1", PolicyName="default"))
    assert [(c.status, c.note) for c in reader.claims] == [
        (UNREADABLE, "kms:GetKeyPolicy: AccessDeniedException: no")]


def test_exit_codes_rank_a_contradiction_over_a_failed_read() -> None:
    from infra.verify import Verification

    def result(*statuses: str) -> Verification:
        return Verification("e", "s", "us-east-1", "t", {}, [Claim("x", "y", s) for s in statuses])

    assert result(CONFIRMED, NOT_VERIFIABLE).exit_code == 0
    assert result(CONFIRMED, UNREADABLE).exit_code == 3
    assert result(UNREADABLE, CONTRADICTED).exit_code == 1


def test_credentials_of_another_account_are_refused() -> None:
    from infra.verify import BadInput, _identity

    class Sts:
        def get_caller_identity(self) -> dict[str, str]:
            return {"Account": "999999999999", "Arn": "arn:x:sts::999999999999:assumed-role/r/s", "UserId": "u"}

    env = _env()
    with pytest.raises(BadInput, match=r"account 999999999999 .* the environment's account is 111122223333"):
        _identity(lambda service: Sts(), env)


def test_the_verification_is_oscal_assessment_results_trestle_validates() -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    from infra.verify import Verification
    from infra.verify_oscal import assessment_results

    result = Verification("commercial", STACK, "us-east-1", "2026-12-07T03:47:35Z",
                          {"Account": ACCOUNT, "Arn": "arn:x:sts::111122223333:assumed-role/verify/s", "UserId": "u"},
                          [Claim("trail T", "IsLogging", CONTRADICTED, True, False), Claim("key K", "KeyPolicy", CONFIRMED),
                           Claim("bucket B", "PolicyDocument", UNREADABLE, note="s3:GetBucketPolicy: AccessDenied")])
    raw = assessment_results(result)["assessment-results"]
    document = AssessmentResults.model_validate(raw)
    findings = document.results[0].findings
    assert {(f.target.target_id, f.target.status.reason) for f in findings} >= {("au-12_obj", "fail"), ("au-9_obj", "other")}
    assert len(document.results[0].observations) == 3
    assert raw["results"][0]["observations"][0]["collected"] == "2026-12-07T03:47:35Z"


def test_the_perimeter_proof_runs_again_only_when_a_live_policy_differs(tmp_path: Path) -> None:
    from infra.verify_perimeter import prove_live

    same = prove_live(tmp_path, "commercial", {STACK: {"Trail": {"IsLogging": False}}}, {}, acceptances=None,
                      node_modules=None)
    assert [c.status for c in same] == [CONFIRMED]
    # a differing key policy without an assembly to prove it on is not verifiable, never confirmed
    differs = prove_live(tmp_path, "commercial", {STACK: {"Key": {"KeyPolicy": {"Statement": []}}}}, {},
                         acceptances=None, node_modules=None)
    assert [c.status for c in differs] == [NOT_VERIFIABLE] and "manifest.json" in differs[0].note
    detached = prove_live(tmp_path, "commercial", {}, {"org": {"Scp"}}, acceptances=None, node_modules=None)
    assert [c.status for c in detached] == [NOT_VERIFIABLE]


def test_verify_access_takes_a_profile_or_a_role_not_both() -> None:
    from pydantic import ValidationError

    from infra.config import VerifyAccess

    assert VerifyAccess(profile="commercial-readonly").profile == "commercial-readonly"
    with pytest.raises(ValidationError, match="give profile or role_arn, not both"):
        VerifyAccess(profile="p", role_arn="arn:aws:iam::111122223333:role/verify")
    with pytest.raises(ValidationError, match="role_arn"):
        VerifyAccess(role_arn="arn:aws:iam::111122223333:user/someone")


def test_a_deleted_policy_is_a_contradiction_not_a_failed_read() -> None:
    from botocore.exceptions import ClientError

    class S3:
        def get_bucket_policy(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "NoSuchBucketPolicy", "Message": "The bucket policy does not exist"}},
                              "GetBucketPolicy")

    reader = Reader(lambda service: S3(), _deployed(), {"Resources": {}})
    reader.guarded("bucket policy P", "PolicyDocument", lambda: reader.call("s3", "GetBucketPolicy", Bucket="b"))
    assert reader.claims[0].line() == ("bucket policy P PolicyDocument: expected present, live not found "
                                       "(s3:GetBucketPolicy: NoSuchBucketPolicy: The bucket policy does not exist)")


@pytest.mark.parametrize(("live_name", "live_tags", "expected"), [
    ("frontier-workloads", [{"Key": "CostCenter", "Value": "CC-1003"}, {"Key": "Owner", "Value": "ai-platform"}],
     {"Name": CONFIRMED, "Tags": CONFIRMED}),
    ("renamed", [{"Key": "CostCenter", "Value": "CC-9999"}], {"Name": CONTRADICTED, "Tags": CONTRADICTED}),
])
def test_a_mantle_project_is_read_through_cloud_control(live_name: str, live_tags: list, expected: dict) -> None:
    """Mantle has no boto3 client: the project is read with Cloud Control's GetResource, here through botocore's
    Stubber on a real cloudcontrol client (request and response checked against its service model)."""
    import json

    import boto3
    from botocore.stub import Stubber

    from infra.verify_checks import check_mantle_projects

    client = boto3.client("cloudcontrol", region_name="us-east-2", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stubber = Stubber(client)
    stubber.add_response("get_resource", {
        "TypeName": "AWS::BedrockMantle::Project",
        "ResourceDescription": {"Identifier": "proj-0123456789", "Properties": json.dumps(
            {"Name": live_name, "Tags": list(reversed(live_tags))})}},
        {"TypeName": "AWS::BedrockMantle::Project", "Identifier": "proj-0123456789"})
    template = {"Resources": {"MantleProject": {"Type": "AWS::BedrockMantle::Project", "Properties": {
        "Name": "frontier-workloads",
        "Tags": [{"Key": "CostCenter", "Value": "CC-1003"}, {"Key": "Owner", "Value": "ai-platform"}]}}}}
    reader = Reader(lambda service: client,
                    Deployed({"MantleProject": "proj-0123456789"}, {"MantleProject": "AWS::BedrockMantle::Project"},
                             "aws", "us-east-2", "222233334444", "CompliantBedrock-frontier"), template)
    with stubber:
        check_mantle_projects(reader)
    stubber.assert_no_pending_responses()
    assert {c.field: c.status for c in reader.claims} == expected
    assert all(c.subject == "mantle project MantleProject" for c in reader.claims)


def test_a_mantle_project_gone_from_the_stack_is_a_contradiction() -> None:
    from infra.verify_checks import check_mantle_projects

    template = {"Resources": {"MantleProject": {"Type": "AWS::BedrockMantle::Project", "Properties": {"Name": "x"}}}}
    reader = Reader(lambda service: None, Deployed({}, {}, "aws", "us-east-2", "222233334444"), template)
    check_mantle_projects(reader)
    assert [(c.subject, c.status) for c in reader.claims] == [("mantle project MantleProject", CONTRADICTED)]
