"""The deployed twin (``infra.verify``) against a moto server: a clean account, then drift, each named by its field.

moto runs in server mode, so every read goes through boto3's real HTTP path. What moto 5.2.5 lacks is served
through ``model_checked``: a response validated against botocore's own service model, on the same client, for
those operations only (docs/verify.md lists them: "verified against the service model only").
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from infra.config import load_environments
from infra.org_config import load_organizations
from infra.verify import Access, main, verify_environment, write_evidence
from infra.verify_checks import CONTRADICTED, NOT_VERIFIABLE, UNREADABLE, Claim
from infra.verify_template import UNRESOLVED, Deployed, resolve

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "verify"
STACK = "CompliantBedrock-commercial"
ORG_STACK = "CompliantBedrock-organization-commercial"
ACCOUNT = "111122223333"  # config/commercial.yaml's account: moto serves it (MOTO_ACCOUNT_ID)
REGION = "us-east-1"
#: Resource types seeded into moto (the rest get a physical id in the stack only: nothing reads them).
SEEDED = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SNS::Topic", "AWS::CloudTrail::Trail", "AWS::EC2::VPCEndpoint",
          "AWS::Events::Rule", "AWS::SNS::Subscription", "AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion")


def model_checked(client: Any, operation: str, respond: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    """Serve ``operation`` of this client from ``respond(request params)``, its response validated against
    botocore's service model (as ``Stubber`` does); ``respond`` returning None lets the call reach moto."""
    output = client.meta.service_model.operation_model(operation).output_shape

    def handler(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body")
        request = {**(body if isinstance(body, dict) else json.loads(body) if body else {}),
                   "url_path": params.get("url_path", "")}  # a REST API's identifiers are in its path
        response = respond(request)
        if response is None:
            return None
        validate_parameters(response, output)  # raises ParamValidationError on a shape the model does not define
        return AWSResponse(params.get("url", ""), 200, {}, None), response

    client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", handler)


def _text(value: Any) -> Any:
    """A resolved template value as the account would hold it (unresolved segments get a concrete text)."""
    return json.loads(json.dumps(value).replace(json.dumps(UNRESOLVED)[1:-1], "resolved-at-deploy"))


class World:
    """The account moto holds plus what the model-checked stubs answer: stacks, drift, guardrail, Bedrock policy."""

    def __init__(self, session: Any, url: str, outdir: Path) -> None:
        self.session, self.url, self.outdir = session, url, outdir
        self.template = json.loads((outdir / f"{STACK}.template.json").read_text())
        self.org_template = json.loads((outdir / f"{ORG_STACK}.template.json").read_text())
        self.physical: dict[str, dict[str, str]] = {STACK: {}, ORG_STACK: {}}
        self.drift: dict[str, Any] = {"StackDriftStatus": "IN_SYNC", "drifts": []}
        self.enforced_version = "1"
        self.bedrock_policy_attached = True
        self.guardrail_id = "gr0example01"

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION, endpoint_url=self.url)

    def seed(self) -> None:
        resources = self.template["Resources"]
        physical = self.physical[STACK]
        s3, kms, sns, ec2 = (self.client(s) for s in ("s3", "kms", "sns", "ec2"))
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        for logical_id, resource in resources.items():
            kind, props = resource["Type"], resource.get("Properties") or {}
            if kind == "AWS::S3::Bucket":
                physical[logical_id] = name = f"cb-{logical_id.lower()}"[:63]
                s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket="ObjectLockConfiguration" in props)
                if "ObjectLockConfiguration" in props:
                    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=props["ObjectLockConfiguration"])
            elif kind == "AWS::KMS::Key":
                physical[logical_id] = kms.create_key()["KeyMetadata"]["KeyId"]
            elif kind == "AWS::SNS::Topic":
                physical[logical_id] = sns.create_topic(Name=logical_id)["TopicArn"]
            elif kind == "AWS::CloudTrail::Trail":
                physical[logical_id] = props.get("TrailName", logical_id)
            elif kind == "AWS::EC2::VPCEndpoint":
                physical[logical_id] = ec2.create_vpc_endpoint(
                    VpcId=vpc, ServiceName=props["ServiceName"], VpcEndpointType="Interface",
                    PrivateDnsEnabled=props.get("PrivateDnsEnabled", False))["VpcEndpoint"]["VpcEndpointId"]
            elif kind == "AWS::Bedrock::Guardrail":
                physical[logical_id] = f"arn:{self.partition}:bedrock:{REGION}:{ACCOUNT}:guardrail/{self.guardrail_id}"
            elif kind == "AWS::Events::Rule":
                physical[logical_id] = logical_id
            elif kind != "AWS::CDK::Metadata":
                physical[logical_id] = f"{logical_id.lower()}-id"
        for logical_id, resource in resources.items():  # the version's id names its guardrail's ARN
            if resource["Type"] == "AWS::Bedrock::GuardrailVersion":
                guardrail = resource["Properties"]["GuardrailIdentifier"]["Fn::GetAtt"][0]
                physical[logical_id] = f"{physical[guardrail]}|1"
        deployed = self.deployed(STACK)
        trail, events, bedrock = (self.client(s) for s in ("cloudtrail", "events", "bedrock"))
        for logical_id, resource in resources.items():
            kind, props = resource["Type"], resource.get("Properties") or {}
            live = _text(resolve(props, deployed))
            if kind == "AWS::KMS::Key":
                kms.put_key_policy(KeyId=physical[logical_id], PolicyName="default", Policy=json.dumps(live["KeyPolicy"]))
                if props.get("EnableKeyRotation"):
                    kms.enable_key_rotation(KeyId=physical[logical_id])
            elif kind == "AWS::S3::BucketPolicy":
                s3.put_bucket_policy(Bucket=live["Bucket"], Policy=json.dumps(live["PolicyDocument"]))
            elif kind == "AWS::EC2::VPCEndpoint":
                ec2.modify_vpc_endpoint(VpcEndpointId=physical[logical_id], PolicyDocument=json.dumps(live["PolicyDocument"]))
            elif kind == "AWS::CloudTrail::Trail":
                trail.create_trail(Name=physical[logical_id], S3BucketName=live["S3BucketName"],
                                   IsMultiRegionTrail=live.get("IsMultiRegionTrail", False),
                                   EnableLogFileValidation=live.get("EnableLogFileValidation", False),
                                   KmsKeyId=live.get("KMSKeyId", ""))
                trail.put_event_selectors(TrailName=physical[logical_id],
                                          AdvancedEventSelectors=live["AdvancedEventSelectors"])
                trail.start_logging(Name=physical[logical_id])
            elif kind == "AWS::Events::Rule":
                events.put_rule(Name=physical[logical_id], EventPattern=json.dumps(live.get("EventPattern", {})),
                                State=live.get("State", "ENABLED"))
                events.put_targets(Rule=physical[logical_id],
                                   Targets=[{"Id": t["Id"], "Arn": t["Arn"]} for t in live.get("Targets", [])])
            elif kind == "AWS::SNS::Subscription":
                physical[logical_id] = sns.subscribe(TopicArn=live["TopicArn"], Protocol=live["Protocol"],
                                                     Endpoint=live["Endpoint"])["SubscriptionArn"]
            elif kind == "Custom::BedrockModelInvocationLogging":
                bedrock.put_model_invocation_logging_configuration(loggingConfig=live["LoggingConfig"])
        self._seed_organization()

    def _seed_organization(self) -> None:
        org = self.client("organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            if not any(t["Type"] == kind and t["Status"] == "ENABLED" for t in
                       org.list_roots()["Roots"][0].get("PolicyTypes", [])):
                org.enable_policy_type(RootId=root, PolicyType=kind)
        self.ou = org.create_organizational_unit(ParentId=root, Name="bedrock")["OrganizationalUnit"]["Id"]
        physical = self.physical[ORG_STACK]
        for logical_id, resource in self.org_template["Resources"].items():  # the organization's guardrail
            if resource["Type"] == "AWS::Bedrock::Guardrail":
                physical[logical_id] = f"arn:{self.partition}:bedrock:{REGION}:{ACCOUNT}:guardrail/gr0example02"
        for logical_id, resource in self.org_template["Resources"].items():
            if resource["Type"] == "AWS::Bedrock::GuardrailVersion":
                physical[logical_id] = f"{physical[resource['Properties']['GuardrailIdentifier']['Fn::GetAtt'][0]]}|1"
        for logical_id, resource in self.org_template["Resources"].items():
            props = resource["Properties"]
            if resource["Type"] != "AWS::Organizations::Policy":
                continue
            props["TargetIds"] = [self.ou]  # the template's example OU is this organization's
            if props["Type"] == "BEDROCK_POLICY":  # moto has no Bedrock policies: model-checked below
                physical[logical_id] = self.bedrock_policy_id = "p-bedrock0001"
                self.bedrock_content = json.dumps(_text(json.loads(resolve(props["Content"], self.deployed(ORG_STACK)),
                                                                   strict=False)))
                continue
            policy = org.create_policy(Content=props["Content"], Description="", Name=props["Name"],
                                       Type=props["Type"])["Policy"]["PolicySummary"]["Id"]
            org.attach_policy(PolicyId=policy, TargetId=self.ou)
            physical[logical_id] = policy
        (self.outdir / f"{ORG_STACK}.template.json").write_text(json.dumps(self.org_template))

    partition = "aws"

    def deployed(self, stack: str) -> Deployed:
        template = self.template if stack == STACK else self.org_template
        return Deployed(self.physical[stack], {k: v["Type"] for k, v in template["Resources"].items()},
                        self.partition, REGION, ACCOUNT, stack)

    # -- what moto lacks, answered in the service model's shape -------------------------------------------------
    def prepare(self, service: str, client: Any) -> None:
        if service == "cloudformation":
            model_checked(client, "DescribeStacks", lambda r: {"Stacks": [{
                "StackName": r["StackName"], "StackStatus": "UPDATE_COMPLETE",
                "CreationTime": "2026-11-01T00:00:00Z"}]})
            model_checked(client, "ListStackResources", self._resources)
            model_checked(client, "DetectStackDrift", lambda r: {"StackDriftDetectionId": "drift-1"})
            model_checked(client, "DescribeStackDriftDetectionStatus", lambda r: {
                "StackId": STACK, "StackDriftDetectionId": "drift-1", "DetectionStatus": "DETECTION_COMPLETE",
                "StackDriftStatus": self.drift["StackDriftStatus"], "Timestamp": "2026-12-01T00:00:00Z"})
            model_checked(client, "DescribeStackResourceDrifts", lambda r: {"StackResourceDrifts": self.drift["drifts"]})
        elif service == "bedrock":
            model_checked(client, "GetGuardrail", self._guardrail)
            model_checked(client, "ListEnforcedGuardrailsConfiguration", self._enforced)
        elif service == "organizations":
            model_checked(client, "ListPoliciesForTarget", lambda r: None if r.get("Filter") != "BEDROCK_POLICY" else {
                "Policies": [self._bedrock_summary()] if self.bedrock_policy_attached else []})
            model_checked(client, "DescribePolicy", lambda r: None if r.get("PolicyId") != self.bedrock_policy_id else {
                "Policy": {"PolicySummary": self._bedrock_summary(), "Content": self.bedrock_content}})

    def _resources(self, request: dict[str, Any]) -> dict[str, Any]:
        stack = request["StackName"]
        template = self.template if stack == STACK else self.org_template
        return {"StackResourceSummaries": [
            {"LogicalResourceId": k, "PhysicalResourceId": self.physical[stack][k], "ResourceType": v["Type"],
             "ResourceStatus": "CREATE_COMPLETE", "LastUpdatedTimestamp": "2026-11-01T00:00:00Z"}
            for k, v in template["Resources"].items() if v["Type"] != "AWS::CDK::Metadata"]}

    def _bedrock_summary(self) -> dict[str, Any]:
        return {"Id": self.bedrock_policy_id, "Name": "compliant-bedrock-guardrail", "Type": "BEDROCK_POLICY",
                "AwsManaged": False}

    def _guardrail(self, request: dict[str, Any]) -> dict[str, Any]:
        stack, logical_id = next((stack, k) for stack, ids in self.physical.items() for k, v in ids.items()
                                 if v.endswith("/" + request["url_path"].split("/")[2].split("%7C")[0].split("%2F")[-1]))
        props = (self.template if stack == STACK else self.org_template)["Resources"][logical_id]["Properties"]
        guardrail_id = self.physical[stack][logical_id].rsplit("/", 1)[-1]
        content = props.get("ContentPolicyConfig", {}).get("FiltersConfig", [])
        pii = props.get("SensitiveInformationPolicyConfig", {}).get("PiiEntitiesConfig", [])
        return {"name": props["Name"], "guardrailId": guardrail_id, "version": "1", "status": "READY",
                "guardrailArn": self.physical[stack][logical_id],
                "contentPolicy": {"filters": [{"type": f["Type"], "inputStrength": f["InputStrength"],
                                               "outputStrength": f["OutputStrength"]} for f in content]},
                "sensitiveInformationPolicy": {"piiEntities": [{"type": p["Type"], "action": p["Action"]}
                                                               for p in pii], "regexes": []},
                "createdAt": "2026-11-01T00:00:00Z", "updatedAt": "2026-11-01T00:00:00Z",
                "blockedInputMessaging": props["BlockedInputMessaging"],
                "blockedOutputsMessaging": props["BlockedOutputsMessaging"]}

    def _enforced(self, request: dict[str, Any]) -> dict[str, Any]:
        props = next(r["Properties"] for r in self.template["Resources"].values()
                     if r["Type"] == "AWS::Bedrock::EnforcedGuardrailConfiguration")
        return {"guardrailsConfig": [{
            "configId": "config-1", "guardrailId": self.guardrail_id, "guardrailVersion": self.enforced_version,
            "guardrailArn": f"arn:{self.partition}:bedrock:{REGION}:{ACCOUNT}:guardrail/{self.guardrail_id}",
            "selectiveContentGuarding": {k.lower(): v for k, v in props["SelectiveContentGuarding"].items()},
            "modelEnforcement": {"includedModels": props["ModelEnforcement"]["IncludedModels"],
                                 "excludedModels": props["ModelEnforcement"]["ExcludedModels"]},
            "owner": "ACCOUNT"}]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in ("MOTO_ACCOUNT_ID",)}
    os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    outdir = tmp_path_factory.mktemp("cdk.out")
    for name in (STACK, ORG_STACK):
        (outdir / f"{name}.template.json").write_text((FIXTURES / f"{name}.template.json").read_text())
    # the assembly the perimeter proof reads: the two stacks, where the reference app deploys them
    (outdir / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {
        name: {"type": "aws:cloudformation:stack", "environment": f"aws://{account}/{REGION}",
               "properties": {"templateFile": f"{name}.template.json", "stackName": name}}
        for name, account in ((STACK, ACCOUNT), (ORG_STACK, "111111111111"))}}))
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    world = World(session, f"http://{host}:{port}", outdir)
    world.seed()
    try:
        yield world
    finally:
        server.stop()
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def _access(world: World) -> Access:
    from botocore.config import Config

    def factory(**kwargs: Any) -> Any:  # the caller's session, bound to moto
        return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                             region_name=kwargs.get("region_name", REGION))

    # no retries: a call moto cannot serve fails at once instead of after botocore's backoff
    return Access(session_factory=factory, endpoint_url=world.url, prepare_client=world.prepare,
                  client_config=Config(retries={"max_attempts": 1}))


def _config(world: World) -> Path:
    """The tests' own environment and organization (tests/fixtures), as a config directory."""
    config = world.outdir.parent / "config"
    if not config.is_dir():
        (config / "organization").mkdir(parents=True)
        (config / "commercial.yaml").write_text((ROOT / "tests" / "fixtures" / "environment.yaml").read_text())
        (config / "organization" / "commercial.yaml").write_text(
            (ROOT / "tests" / "fixtures" / "organization.yaml").read_text())
    return config


def _run(world: World) -> Any:
    env = load_environments(_config(world), "commercial")[0]
    organizations = load_organizations(_config(world), load_environments(_config(world)))
    return verify_environment(env, world.outdir, _access(world), organizations=organizations,
                              acceptances=ROOT / "config" / "perimeter" / "accepted-open-paths.yaml",
                              node_modules=ROOT / "node_modules")


def _problems(claims: list[Claim]) -> list[str]:
    return [c.line() for c in claims if c.status in (CONTRADICTED, UNREADABLE)]


@pytest.fixture(scope="module")
def clean(world: World) -> Any:
    return _run(world)


def test_a_clean_account_confirms_every_claim(clean: Any, world: World) -> None:
    assert _problems(clean.claims) == []
    assert clean.exit_code == 0
    # only what docs/verify.md lists as not verifiable read-only; nothing else is waved through
    assert sorted(c.subject.split(" ")[0] + " " + c.field for c in clean.claims if c.status == NOT_VERIFIABLE) == [
        "event receives this account's alerts"]
    assert any(c.subject == "perimeter proof" and c.status == "confirmed" for c in clean.claims)
    fields = {(c.subject.split(" ")[0], c.field) for c in clean.claims}
    for expected in [("trail", "IsLogging"), ("key", "KeyPolicy"), ("endpoint", "PolicyDocument"),
                     ("bucket", "DefaultRetention.Days"), ("bucket", "PolicyDocument"), ("guardrail", "status"),
                     ("enforced", "guardrailVersion"), ("invocation", "loggingConfig.textDataDeliveryEnabled"),
                     ("rule", "Targets"), ("subscription", "Endpoint"), ("stack", "StackDriftStatus")]:
        assert expected in fields, expected
    assert any(c.field.startswith("attached to ou-") and c.subject.startswith("SERVICE_CONTROL_POLICY")
               for c in clean.claims)
    assert any(c.field.startswith("attached to ou-") and c.subject.startswith("BEDROCK_POLICY") for c in clean.claims)
    paths = write_evidence(world.outdir, clean)
    evidence = json.loads(paths[0].read_text())
    assert evidence["collected_by"]["Account"] == ACCOUNT and evidence["collected_at"].endswith("Z")
    assert "Collected " in paths[1].read_text()


def test_injected_drift_is_reported_with_its_field(clean: Any, world: World) -> None:
    physical = world.physical[STACK]
    trail_id = next(k for k, v in world.template["Resources"].items() if v["Type"] == "AWS::CloudTrail::Trail")
    key_id = next(k for k in world.template["Resources"] if k.startswith("AuditTrailKey"))
    endpoint_id = next(k for k in world.template["Resources"] if k.startswith("PrivateLinkBedrockRuntimeEndpoint"))
    scp_id = next(k for k in world.org_template["Resources"] if k.startswith("PoliciesScpInference"))
    saved = copy.deepcopy(world.drift)
    kms, ec2 = world.client("kms"), world.client("ec2")
    key_policy = json.loads(kms.get_key_policy(KeyId=physical[key_id], PolicyName="default")["Policy"])
    endpoint_policy = ec2.describe_vpc_endpoints(VpcEndpointIds=[physical[endpoint_id]])["VpcEndpoints"][0]["PolicyDocument"]
    try:
        world.client("organizations").detach_policy(PolicyId=world.physical[ORG_STACK][scp_id], TargetId=world.ou)
        kms.put_key_policy(KeyId=physical[key_id], PolicyName="default", Policy=json.dumps({**key_policy, "Statement": [
            *key_policy["Statement"], {"Sid": "Widened", "Effect": "Allow", "Principal": {"AWS": "*"},
                                       "Action": "kms:*", "Resource": "*"}]}))
        world.client("cloudtrail").stop_logging(Name=physical[trail_id])
        ec2.modify_vpc_endpoint(VpcEndpointId=physical[endpoint_id], PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}))
        world.enforced_version = "DRAFT"
        world.bedrock_policy_attached = False
        world.drift = {"StackDriftStatus": "DRIFTED", "drifts": [{
            "StackId": STACK, "LogicalResourceId": trail_id, "ResourceType": "AWS::CloudTrail::Trail",
            "StackResourceDriftStatus": "MODIFIED", "Timestamp": "2026-12-01T00:00:00Z",
            "PropertyDifferences": [{"PropertyPath": "/IsLogging", "ExpectedValue": "true", "ActualValue": "false",
                                     "DifferenceType": "NOT_EQUAL"}]}]}
        drifted = _run(world)
    finally:  # the module's account back as seeded
        world.client("organizations").attach_policy(PolicyId=world.physical[ORG_STACK][scp_id], TargetId=world.ou)
        kms.put_key_policy(KeyId=physical[key_id], PolicyName="default", Policy=json.dumps(key_policy))
        world.client("cloudtrail").start_logging(Name=physical[trail_id])
        ec2.modify_vpc_endpoint(VpcEndpointId=physical[endpoint_id], PolicyDocument=endpoint_policy)
        world.enforced_version, world.bedrock_policy_attached, world.drift = "1", True, saved
    lines = _problems(drifted.claims)
    assert drifted.exit_code == 1
    assert f"trail {trail_id} IsLogging: expected true, live false" in lines
    assert any(line.startswith(f"key {key_id} KeyPolicy: expected") and "Sid 'Widened'" in line for line in lines)
    assert any(line.startswith(f"endpoint {endpoint_id} PolicyDocument: expected") for line in lines)
    assert any(f"({scp_id}) in {ORG_STACK} attached to {world.ou}: expected attached, live not attached" in line
               for line in lines)
    assert any(line.startswith("BEDROCK_POLICY") and "live not attached" in line for line in lines)
    assert any("guardrailVersion: expected 1, live DRAFT" in line for line in lines)
    assert f"resource {trail_id} (AWS::CloudTrail::Trail) drift /IsLogging: expected true, live false (NOT_EQUAL)" in lines
    # the same judges on live data: the rule pack and the perimeter proof with the live documents substituted
    assert any(line.startswith("rule Bedrock-") for line in lines), lines
    # the opened endpoint policy lets another account's principals invoke through this network
    assert any(line.startswith("perimeter other-account.invoke.endpoint[") and "expected deny, live" in line
               for line in lines), lines


def test_a_denied_read_is_exit_3_never_a_pass(world: World) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetKeyPolicy")

    def prepare(service: str, client: Any) -> None:
        world.prepare(service, client)
        if service == "kms":
            client.meta.events.register("before-call.kms.GetKeyPolicy", refuse)

    access = _access(world)
    access.prepare_client = prepare
    env = load_environments(_config(world), "commercial")[0]
    result = verify_environment(env, world.outdir, access, organizations=[], drift=False)
    unreadable = [c for c in result.claims if c.status == UNREADABLE]
    assert unreadable and all("AccessDeniedException" in c.note for c in unreadable)
    assert result.exit_code == 3


def test_no_credentials_is_exit_2_with_the_fix(world: World, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(world.outdir / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(world.outdir / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["--env", "commercial", "--outdir", str(world.outdir), "--config-dir", str(_config(world))],
                access=Access(endpoint_url=world.url))
    assert code == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_verify_renders_the_synths_evidence_again_with_its_claims(world: World, clean: Any,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Where cdk.out holds a synth's evidence, make verify renders it again (the matrices' "verified in account",
    contradictions as POA&M items: tests/test_evidence.py); without one, it renders nothing."""
    import infra.report

    calls: list[Path] = []
    monkeypatch.setattr(infra.report, "generate", lambda outdir, **_: calls.append(outdir) or [])
    import infra.verify
    from infra.verify import _render_again

    assert _render_again(world.outdir, _config(world)) == 0 and calls == []  # no synth evidence: nothing to render
    # the verification itself is the other tests' (here: a clean result, read once by the module's fixture)
    monkeypatch.setattr(infra.verify, "verify_environment", lambda env, *a, **k: clean)
    argv = ["--env", "commercial", "--outdir", str(world.outdir), "--config-dir", str(_config(world)), "--no-drift"]
    findings = world.outdir / "compliance" / "findings.json"
    findings.write_text('{"passed": true}')
    try:
        assert main(argv, access=_access(world)) == 0
    finally:
        findings.unlink()
    assert calls == [world.outdir]
    assert "rendered again with the verified claims" in capsys.readouterr().out
