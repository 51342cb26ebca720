"""Read a deployed stack and judge each claim its template makes: confirmed, contradicted, or not verifiable.

Every call here is a read (Describe*, Get*, List*; DetectStackDrift only records a drift result in
CloudFormation): nothing is written into the account. Each check compares one resource of the synthesized
template with what the account holds at the physical id the stack gives it, and says the field when they
differ (``trail IsLogging: expected true, live false``). A read that fails is never a pass: it is a claim
``unreadable`` with AWS's error, and the run exits 3 unless something was contradicted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .verify_template import UNRESOLVED, Deployed, compare_policies, guardrail_version, matches, resolve

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
NOT_VERIFIABLE = "not verifiable read-only"
UNREADABLE = "unreadable"

#: Error codes that mean the caller may not read (or has no valid credentials): exit 3, never "not verifiable".
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure",
                          "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                          "UnrecognizedClientException", "AccessDeniedForDependencyException", "NotAuthorized"})
#: Error codes that mean the thing the template created is gone (a deleted policy, key, rule ...): a contradiction.
NOT_FOUND_CODES = frozenset({"NoSuchBucket", "NoSuchBucketPolicy", "ObjectLockConfigurationNotFoundError",
                             "NotFoundException", "ResourceNotFoundException", "InvalidVpcEndpointId.NotFound",
                             "NotFound", "PolicyNotFoundException", "TargetNotFoundException", "NoSuchEntity",
                             "TrailNotFoundException"})
_STACK_DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})


@dataclass(frozen=True)
class Claim:
    """One thing the pre-deployment evidence says, and what the account says about it."""

    subject: str
    field: str
    status: str
    expected: Any = None
    live: Any = None
    note: str = ""

    def line(self) -> str:
        """``<subject> <field>: expected X, live Y`` (contradictions), else the status and the note."""
        if self.status == CONTRADICTED:
            text = f"{self.subject} {self.field}: expected {_show(self.expected)}, live {_show(self.live)}"
        else:
            text = f"{self.subject} {self.field}: {self.status}"
        return f"{text} ({self.note})" if self.note else text

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "field": self.field, "status": self.status, "expected": self.expected,
                "live": self.live, "note": self.note}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text.replace(UNRESOLVED, "<unresolved>")


class ReadFailed(Exception):
    """A read the verifier needed failed: ``denied`` when AWS refused the caller (permissions, credentials)."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.denied = code in DENIED_CODES
        self.not_found = code in NOT_FOUND_CODES


@dataclass
class Reader:
    """Reads through boto3 clients (``clients(service)``) and collects claims about one stack."""

    clients: Callable[[str], Any]
    deployed: Deployed
    template: dict[str, Any]
    claims: list[Claim] = field(default_factory=list)
    #: Logical id -> the live value of the property the rule pack judges (policies, trail settings ...).
    live_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Organization policies (logical ids) not attached to one of their targets.
    detached: set[str] = field(default_factory=set)

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.clients(service)
        try:
            return getattr(client, _snake(operation))(**params)
        except ClientError as err:
            error = err.response.get("Error", {})
            raise ReadFailed(f"{service}:{operation}", str(error.get("Code", "Error")),
                             str(error.get("Message", ""))) from err
        except BotoCoreError as err:
            raise ReadFailed(f"{service}:{operation}", type(err).__name__, str(err)) from err

    def claim(self, subject: str, name: str, expected: Any, live: Any, note: str = "") -> None:
        """Confirmed when the live value is the template's (unresolved template segments match anything)."""
        if expected == UNRESOLVED:  # comparing with "anything" would be a check that cannot fail
            self.claims.append(Claim(subject, name, NOT_VERIFIABLE, live=live,
                                     note="the template's value is not derivable read-only from the stack"))
            return
        same = matches(_leaves(expected), _leaves(live))
        self.claims.append(Claim(subject, name, CONFIRMED if same else CONTRADICTED, expected, live, note))

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """Template resources of these types, with their physical ids (None: not in the stack)."""
        for logical_id, resource in (self.template.get("Resources") or {}).items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties") or {}, self.deployed.physical.get(logical_id)

    def guarded(self, subject: str, name: str, read: Callable[[], None]) -> None:
        """Run one resource's reads; a failed read becomes an unreadable claim naming the call and AWS's error,
        except "not found": what the template created is gone, a contradiction."""
        try:
            read()
        except ReadFailed as err:
            if err.not_found:
                self.claims.append(Claim(subject, name, CONTRADICTED, "present", "not found", str(err)))
                return
            self.claims.append(Claim(subject, name, UNREADABLE, note=str(err)))


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _leaves(value: Any) -> Any:
    """Scalars compared as text (``true``, ``913``); dicts and lists kept for ``matches``."""
    if isinstance(value, dict):
        return {str(k): _leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _missing(reader: Reader, subject: str) -> None:
    reader.claims.append(Claim(subject, "deployed", CONTRADICTED, "in the stack", "not in the stack"))


# -- the stack ------------------------------------------------------------------------------------------------

def check_stack(reader: Reader, stack_name: str) -> dict[str, tuple[str, str, str]]:
    """The stack's status and every template resource's physical id (logical id -> (physical, type, status))."""
    stack = reader.call("cloudformation", "DescribeStacks", StackName=stack_name)["Stacks"][0]
    status = stack["StackStatus"]
    reader.claims.append(Claim(f"stack {stack_name}", "StackStatus",
                               CONFIRMED if status in _STACK_DONE else CONTRADICTED,
                               " or ".join(sorted(_STACK_DONE)), status))
    found: dict[str, tuple[str, str, str]] = {}
    token: str | None = None
    while True:
        page = reader.call("cloudformation", "ListStackResources", StackName=stack_name,
                           **({"NextToken": token} if token else {}))
        for item in page.get("StackResourceSummaries", []):
            found[item["LogicalResourceId"]] = (item.get("PhysicalResourceId", ""), item["ResourceType"],
                                                item["ResourceStatus"])
        token = page.get("NextToken")
        if not token:
            break
    for logical_id, resource in (reader.template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::CDK::Metadata" or resource.get("Condition"):
            continue
        subject = f"resource {logical_id} ({resource.get('Type')})"
        if logical_id not in found:
            _missing(reader, subject)
        elif not found[logical_id][2].endswith("_COMPLETE") or "ROLLBACK" in found[logical_id][2]:
            reader.claims.append(Claim(subject, "ResourceStatus", CONTRADICTED, "*_COMPLETE", found[logical_id][2]))
    return found


def check_drift(reader: Reader, stack_name: str, *, timeout: float = 120.0,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """CloudFormation's own drift detection, waited for at most ``timeout`` seconds; each drifted property named."""
    subject = f"stack {stack_name}"
    detection = reader.call("cloudformation", "DetectStackDrift", StackName=stack_name)["StackDriftDetectionId"]
    waited = 0.0
    while True:
        status = reader.call("cloudformation", "DescribeStackDriftDetectionStatus", StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if waited >= timeout:
            reader.claims.append(Claim(subject, "drift", UNREADABLE, note=f"drift detection {detection} still "
                                       f"running after {timeout:.0f} s; run verify again or raise --drift-timeout"))
            return
        sleep(2.0)
        waited += 2.0
    if status["DetectionStatus"] == "DETECTION_FAILED" and status.get("StackDriftStatus") != "DRIFTED":
        reader.claims.append(Claim(subject, "drift", UNREADABLE,
                                   note=f"drift detection failed: {status.get('DetectionStatusReason', '')}"))
        return
    if status.get("StackDriftStatus") == "IN_SYNC":
        reader.claims.append(Claim(subject, "StackDriftStatus", CONFIRMED, "IN_SYNC", "IN_SYNC"))
        return
    token: str | None = None
    while True:
        page = reader.call("cloudformation", "DescribeStackResourceDrifts", StackName=stack_name,
                           StackResourceDriftStatusFilters=["MODIFIED", "DELETED"],
                           **({"NextToken": token} if token else {}))
        for drift in page.get("StackResourceDrifts", []):
            what = f"resource {drift['LogicalResourceId']} ({drift['ResourceType']})"
            if drift["StackResourceDriftStatus"] == "DELETED":
                reader.claims.append(Claim(what, "drift", CONTRADICTED, "IN_SYNC", "DELETED"))
            for difference in drift.get("PropertyDifferences", []):
                reader.claims.append(Claim(what, f"drift {difference['PropertyPath']}", CONTRADICTED,
                                           difference.get("ExpectedValue"), difference.get("ActualValue"),
                                           difference.get("DifferenceType", "")))
        token = page.get("NextToken")
        if not token:
            break
    if status.get("StackDriftStatus") != "IN_SYNC" and not any(c.field.startswith("drift") for c in reader.claims):
        reader.claims.append(Claim(subject, "StackDriftStatus", CONTRADICTED, "IN_SYNC", status.get("StackDriftStatus")))


# -- audit: trail, invocation logging, keys, buckets -----------------------------------------------------------

def _selectors(selectors: Any) -> list[str]:
    """Advanced event selectors as comparable text, without their names (AWS may not return them)."""
    out = []
    for selector in selectors or []:
        fields = sorted(json.dumps({k: sorted(v) if isinstance(v, list) else v for k, v in f.items()},
                                   sort_keys=True) for f in selector.get("FieldSelectors", []))
        # an unresolved template segment stays one (json.dumps escapes its control characters)
        out.append(";".join(fields).replace(json.dumps(UNRESOLVED)[1:-1], UNRESOLVED))
    return sorted(out)


def check_trails(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("AWS::CloudTrail::Trail"):
        subject = f"trail {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(logical_id: str = logical_id, props: dict = props, physical: str = physical,
                 subject: str = subject) -> None:
            trails = reader.call("cloudtrail", "DescribeTrails", trailNameList=[physical]).get("trailList", [])
            if not trails:
                _missing(reader, subject)
                return
            trail = trails[0]
            status = reader.call("cloudtrail", "GetTrailStatus", Name=physical)
            reader.claim(subject, "IsLogging", bool(props.get("IsLogging", True)), status.get("IsLogging"))
            reader.claim(subject, "LogFileValidationEnabled", bool(props.get("EnableLogFileValidation", False)),
                         bool(trail.get("LogFileValidationEnabled")))
            reader.claim(subject, "IsMultiRegionTrail", bool(props.get("IsMultiRegionTrail", False)),
                         bool(trail.get("IsMultiRegionTrail")))
            if "KMSKeyId" in props:
                reader.claim(subject, "KmsKeyId", resolve(props["KMSKeyId"], reader.deployed), trail.get("KmsKeyId"))
            selectors = reader.call("cloudtrail", "GetEventSelectors", TrailName=physical)
            if "AdvancedEventSelectors" in props:
                reader.claim(subject, "AdvancedEventSelectors",
                             _selectors(resolve(props["AdvancedEventSelectors"], reader.deployed)),
                             _selectors(selectors.get("AdvancedEventSelectors")))
            reader.live_properties[logical_id] = {
                "IsLogging": bool(status.get("IsLogging")),
                "EnableLogFileValidation": bool(trail.get("LogFileValidationEnabled")),
                "IsMultiRegionTrail": bool(trail.get("IsMultiRegionTrail")),
                **({"AdvancedEventSelectors": selectors["AdvancedEventSelectors"]}
                   if selectors.get("AdvancedEventSelectors") is not None else {})}

        reader.guarded(subject, "configuration", read)


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}")
    else:
        yield prefix, value


def _dig(value: Any, path: str) -> Any:
    for part in path.split(".")[1:]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_invocation_logging(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("Custom::BedrockModelInvocationLogging"):
        subject = f"invocation logging {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(props: dict = props, subject: str = subject) -> None:
            live = reader.call("bedrock", "GetModelInvocationLoggingConfiguration").get("loggingConfig")
            expected = resolve(props.get("LoggingConfig") or {}, reader.deployed)
            for path, value in _flatten(expected, "loggingConfig"):
                reader.claim(subject, path, value, _dig({"loggingConfig": live}, "x." + path) if live else None)

        reader.guarded(subject, "loggingConfig", read)


def check_keys(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("AWS::KMS::Key"):
        subject = f"key {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(logical_id: str = logical_id, props: dict = props, physical: str = physical,
                 subject: str = subject) -> None:
            policy = reader.call("kms", "GetKeyPolicy", KeyId=physical, PolicyName="default")["Policy"]
            _policy_claim(reader, subject, "KeyPolicy", logical_id, props.get("KeyPolicy"), policy)
            if props.get("EnableKeyRotation"):
                rotation = reader.call("kms", "GetKeyRotationStatus", KeyId=physical)
                reader.claim(subject, "KeyRotationEnabled", True, bool(rotation.get("KeyRotationEnabled")))

        reader.guarded(subject, "KeyPolicy", read)


def _policy_claim(reader: Reader, subject: str, name: str, logical_id: str, template_document: Any,
                  live_document: Any) -> None:
    """Statement-by-statement comparison; a differing live document is kept for the rule pack to judge."""
    live = json.loads(live_document) if isinstance(live_document, str) else live_document
    diff = compare_policies(template_document, live, reader.deployed)
    if diff.same:
        reader.claims.append(Claim(subject, name, CONFIRMED, note="every statement as synthesized"))
        return
    reader.claims.append(Claim(subject, name, CONTRADICTED, diff.removed or "(the template's statements)",
                               diff.added or "(statements missing)", diff.describe()))
    reader.live_properties.setdefault(logical_id, {})[name] = live


def check_buckets(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("AWS::S3::Bucket"):
        lock = props.get("ObjectLockConfiguration")
        if not lock:
            continue
        subject = f"bucket {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(logical_id: str = logical_id, lock: dict = lock, physical: str = physical,
                 subject: str = subject) -> None:
            live = reader.call("s3", "GetObjectLockConfiguration", Bucket=physical).get("ObjectLockConfiguration", {})
            reader.claim(subject, "ObjectLockEnabled", lock.get("ObjectLockEnabled"), live.get("ObjectLockEnabled"))
            retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
            live_retention = (live.get("Rule") or {}).get("DefaultRetention") or {}
            for key in ("Mode", "Days", "Years"):
                if key in retention:
                    reader.claim(subject, f"DefaultRetention.{key}", retention[key], live_retention.get(key))
            reader.live_properties[logical_id] = {"ObjectLockConfiguration": live}

        reader.guarded(subject, "ObjectLockConfiguration", read)
    for logical_id, props, _ in reader.resources("AWS::S3::BucketPolicy"):
        bucket = resolve(props.get("Bucket"), reader.deployed)
        subject = f"bucket policy {logical_id}"
        if not isinstance(bucket, str) or UNRESOLVED in bucket:
            reader.claims.append(Claim(subject, "PolicyDocument", NOT_VERIFIABLE,
                                       note="its bucket is not a resource of this stack"))
            continue

        def read_policy(logical_id: str = logical_id, props: dict = props, bucket: str = bucket,
                        subject: str = subject) -> None:
            policy = reader.call("s3", "GetBucketPolicy", Bucket=bucket)["Policy"]
            _policy_claim(reader, subject, "PolicyDocument", logical_id, props.get("PolicyDocument"), policy)

        reader.guarded(subject, "PolicyDocument", read_policy)


# -- the network and the guardrail ----------------------------------------------------------------------------

def check_endpoints(reader: Reader) -> None:
    found = list(reader.resources("AWS::EC2::VPCEndpoint"))
    ids = [physical for _, _, physical in found if physical]
    live_by_id: dict[str, dict[str, Any]] = {}
    if ids:
        def read() -> None:
            for endpoint in reader.call("ec2", "DescribeVpcEndpoints", VpcEndpointIds=ids).get("VpcEndpoints", []):
                live_by_id[endpoint["VpcEndpointId"]] = endpoint

        reader.guarded("endpoints", "DescribeVpcEndpoints", read)
        if any(c.status == UNREADABLE and c.subject == "endpoints" for c in reader.claims):
            return
    for logical_id, props, physical in found:
        subject = f"endpoint {logical_id}"
        live = live_by_id.get(physical or "")
        if live is None:
            _missing(reader, subject)
            continue
        reader.claim(subject, "State", "available", str(live.get("State", "")).lower())
        reader.claim(subject, "ServiceName", resolve(props.get("ServiceName"), reader.deployed), live.get("ServiceName"))
        if "PrivateDnsEnabled" in props:
            reader.claim(subject, "PrivateDnsEnabled", bool(props["PrivateDnsEnabled"]), bool(live.get("PrivateDnsEnabled")))
        _policy_claim(reader, subject, "PolicyDocument", logical_id, props.get("PolicyDocument"),
                      live.get("PolicyDocument") or "{}")


def _pairs(items: Any, keys: tuple[str, ...]) -> list[str]:
    """A list of dicts as comparable text of the named keys (template keys are capitalised, live ones not)."""
    return sorted("|".join(str(item.get(k, item.get(k[0].lower() + k[1:], ""))) for k in keys) for item in items or [])


def check_guardrails(reader: Reader) -> None:
    versions = {str((p.get("GuardrailIdentifier") or {}).get("Fn::GetAtt", [""])[0]): physical
                for _, p, physical in reader.resources("AWS::Bedrock::GuardrailVersion") if physical}
    for logical_id, props, physical in reader.resources("AWS::Bedrock::Guardrail"):
        subject = f"guardrail {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue
        version = guardrail_version(versions.get(logical_id, "")) if logical_id in versions else None
        if logical_id in versions and version is None:
            reader.claims.append(Claim(subject, "version", UNREADABLE,
                                       note=f"no version number in the version's physical id {versions[logical_id]!r}"))
            continue

        def read(props: dict = props, physical: str = physical, subject: str = subject,
                 version: str | None = version) -> None:
            live = reader.call("bedrock", "GetGuardrail", guardrailIdentifier=physical,
                               **({"guardrailVersion": version} if version else {}))
            reader.claim(subject, "status", "READY", live.get("status"))
            if version:
                reader.claim(subject, "version", version, live.get("version"))
            content = (props.get("ContentPolicyConfig") or {}).get("FiltersConfig")
            if content is not None:
                reader.claim(subject, "contentPolicy.filters",
                             _pairs(content, ("Type", "InputStrength", "OutputStrength")),
                             _pairs((live.get("contentPolicy") or {}).get("filters"),
                                    ("Type", "InputStrength", "OutputStrength")))
            pii = (props.get("SensitiveInformationPolicyConfig") or {}).get("PiiEntitiesConfig")
            if pii is not None:
                reader.claim(subject, "sensitiveInformationPolicy.piiEntities", _pairs(pii, ("Type", "Action")),
                             _pairs((live.get("sensitiveInformationPolicy") or {}).get("piiEntities"),
                                    ("Type", "Action")))
            if "BlockedInputMessaging" in props:
                reader.claim(subject, "blockedInputMessaging", props["BlockedInputMessaging"],
                             live.get("blockedInputMessaging"))

        reader.guarded(subject, "GetGuardrail", read)


def check_enforced_guardrails(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("AWS::Bedrock::EnforcedGuardrailConfiguration"):
        subject = f"enforced guardrail {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(props: dict = props, subject: str = subject) -> None:
            configs: list[dict[str, Any]] = []
            token: str | None = None
            while True:
                page = reader.call("bedrock", "ListEnforcedGuardrailsConfiguration",
                                   **({"nextToken": token} if token else {}))
                configs += page.get("guardrailsConfig", [])
                token = page.get("nextToken")
                if not token:
                    break
            wanted = resolve(props.get("GuardrailIdentifier"), reader.deployed)
            live = next((c for c in configs if matches(wanted, c.get("guardrailId", ""))
                         or matches(wanted, c.get("guardrailArn", ""))), None)
            if live is None:
                reader.claims.append(Claim(subject, "guardrailsConfig", CONTRADICTED, f"guardrail {wanted}",
                                           [c.get("guardrailId") for c in configs] or "none enforced"))
                return
            reader.claim(subject, "guardrailVersion", resolve(props.get("GuardrailVersion"), reader.deployed),
                         live.get("guardrailVersion"))
            guarding = props.get("SelectiveContentGuarding") or {}
            for key in ("System", "Messages"):
                if key in guarding:
                    reader.claim(subject, f"selectiveContentGuarding.{key.lower()}", guarding[key],
                                 (live.get("selectiveContentGuarding") or {}).get(key.lower()))
            models = props.get("ModelEnforcement") or {}
            for key in ("IncludedModels", "ExcludedModels"):
                if key in models:
                    name = key[0].lower() + key[1:]
                    reader.claim(subject, f"modelEnforcement.{name}", sorted(models[key]),
                                 sorted((live.get("modelEnforcement") or {}).get(name) or []))

        reader.guarded(subject, "ListEnforcedGuardrailsConfiguration", read)


# -- alerts -----------------------------------------------------------------------------------------------------

def check_alerts(reader: Reader) -> None:
    for logical_id, props, physical in reader.resources("AWS::Events::Rule"):
        subject = f"rule {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue
        bus, _, name = physical.rpartition("|")

        def read(props: dict = props, name: str = name, bus: str = bus, subject: str = subject) -> None:
            where = {"EventBusName": bus} if bus else {}
            rule = reader.call("events", "DescribeRule", Name=name, **where)
            reader.claim(subject, "State", props.get("State", "ENABLED"), rule.get("State"))
            targets = reader.call("events", "ListTargetsByRule", Rule=name, **where).get("Targets", [])
            expected = resolve([{"Id": t.get("Id"), "Arn": t.get("Arn")} for t in props.get("Targets", [])],
                               reader.deployed)
            reader.claim(subject, "Targets", expected, [{"Id": t.get("Id"), "Arn": t.get("Arn")} for t in targets])

        reader.guarded(subject, "Targets", read)
    foreign = sorted({str(t.get("Arn")) for _, p, _ in reader.resources("AWS::Events::Rule")
                      for t in p.get("Targets", []) if isinstance(t.get("Arn"), str) and ":event-bus/" in t["Arn"]
                      and t["Arn"].split(":")[4] != reader.deployed.account})
    for bus in foreign:
        reader.claims.append(Claim(f"event bus {bus}", "receives this account's alerts", NOT_VERIFIABLE,
                                   note="its bus policy is in the security account: verify that account too"))
    for logical_id, props, physical in reader.resources("AWS::SNS::Subscription"):
        subject = f"subscription {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue
        if not physical.startswith("arn:"):
            reader.claims.append(Claim(subject, "PendingConfirmation", CONTRADICTED, False, True,
                                       f"{props.get('Endpoint')} has not confirmed the subscription"))
            continue

        def read_subscription(props: dict = props, physical: str = physical, subject: str = subject) -> None:
            attributes = reader.call("sns", "GetSubscriptionAttributes", SubscriptionArn=physical).get("Attributes", {})
            reader.claim(subject, "PendingConfirmation", False, attributes.get("PendingConfirmation", "false"))
            reader.claim(subject, "Endpoint", props.get("Endpoint"), attributes.get("Endpoint"))

        reader.guarded(subject, "GetSubscriptionAttributes", read_subscription)


# -- the organization ---------------------------------------------------------------------------------------------

def check_organization_policies(reader: Reader) -> None:
    """Each SCP, RCP and Bedrock policy of the organization stack: attached to each target, with its content."""
    for logical_id, props, physical in reader.resources("AWS::Organizations::Policy"):
        kind = str(props.get("Type"))
        subject = f"{kind} {props.get('Name')} ({logical_id})"
        if physical is None:
            _missing(reader, subject)
            continue
        for target in resolve(props.get("TargetIds") or [], reader.deployed):
            def read_target(target: str = target, kind: str = kind, physical: str = physical,
                            subject: str = subject, logical_id: str = logical_id) -> None:
                attached: list[str] = []
                token: str | None = None
                while True:
                    page = reader.call("organizations", "ListPoliciesForTarget", TargetId=target, Filter=kind,
                                       **({"NextToken": token} if token else {}))
                    attached += [p["Id"] for p in page.get("Policies", [])]
                    token = page.get("NextToken")
                    if not token:
                        break
                reader.claim(subject, f"attached to {target}", "attached",
                             "attached" if physical in attached else "not attached")
                if physical not in attached:
                    reader.detached.add(logical_id)

            reader.guarded(subject, f"attached to {target}", read_target)

        def read_content(logical_id: str = logical_id, props: dict = props, physical: str = physical,
                         subject: str = subject, kind: str = kind) -> None:
            content = reader.call("organizations", "DescribePolicy", PolicyId=physical)["Policy"]["Content"]
            expected = resolve(props.get("Content"), reader.deployed)
            if isinstance(expected, str):
                expected = json.loads(expected, strict=False)  # an unresolved segment is a control character
            live = json.loads(content)
            if "Statement" in (expected or {}):
                _policy_claim(reader, subject, "Content", logical_id, expected, live)
            else:
                reader.claim(subject, "Content", expected, live)

        reader.guarded(subject, "Content", read_content)


#: The checks of an environment stack, in report order.
def check_mantle_projects(reader: Reader) -> None:
    """Each Mantle project the template creates, read through Cloud Control (Mantle has no boto3 client: its control
    plane is reachable only through Cloud Control, aws-facts A2c): its name and tags as synthesized."""
    for logical_id, props, physical in reader.resources("AWS::BedrockMantle::Project"):
        subject = f"mantle project {logical_id}"
        if physical is None:
            _missing(reader, subject)
            continue

        def read(props: dict = props, physical: str = physical, subject: str = subject) -> None:
            found = reader.call("cloudcontrol", "GetResource", TypeName="AWS::BedrockMantle::Project",
                                Identifier=physical)["ResourceDescription"]
            live = json.loads(found.get("Properties") or "{}")
            for name in ("Name", "Tags"):
                if name in props:
                    expected = resolve(props[name], reader.deployed)
                    if name == "Tags":  # an order-free set of key=value pairs
                        expected, live_value = _pairs(expected, ("Key", "Value")), _pairs(live.get(name), ("Key", "Value"))
                    else:
                        live_value = live.get(name)
                    reader.claim(subject, name, expected, live_value)

        reader.guarded(subject, "GetResource", read)


STACK_CHECKS: tuple[Callable[[Reader], None], ...] = (
    check_trails, check_invocation_logging, check_keys, check_buckets, check_endpoints, check_guardrails,
    check_enforced_guardrails, check_alerts, check_mantle_projects)
