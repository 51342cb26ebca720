"""What a template can show of each control, who is responsible for it, and an SSP narrative from the template.

The scope and the responsibility of a control are reviewed data (``data/controls.tsv``): whether a
template rule can show the whole control (``template``), its technical part only (``partial``, the rest
named) or nothing of it (``outside``: organizational, procedural, physical); and whether it is
inherited from AWS (the service named), shared or the customer's.

The narrative of a customer or shared control is generated from what the template configures: every
value in it is read from the template and written between backticks, so a test can check that each one
is in the template (no sentence claims a value the template does not contain).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..compliance.template import as_list, possible_strings, referenced_ids
from .assembly import StackEvidence

SCOPES = ("template", "partial", "outside")
RESPONSIBILITIES = ("customer", "shared", "inherited")
#: Template facts a narrative can draw on (the ``topics`` column).
TOPICS = ("network", "endpoints", "encryption-keys", "audit-storage", "log-retention", "trail",
          "invocation-logging", "model-access", "guardrail", "gate")
BASIS = ("Pre-deployment evidence: generated from the synthesized CloudFormation templates and the rule results "
         "of `cdk synth`, before deployment. It shows what the templates configure; it is not a test of "
         "deployed resources.")

_ID = re.compile(r"^([A-Z]{2})-(\d+)(\(\d+\))?$")


@dataclass(frozen=True)
class ControlInfo:
    match: str
    scope: str
    not_checked: str
    responsibility: str
    aws_service: str
    topics: tuple[str, ...]


@cache
def control_table() -> dict[str, ControlInfo]:
    """The rows of ``data/controls.tsv`` by their ``match``."""
    return parse_control_table(resources.files("compliant_bedrock.evidence").joinpath("data/controls.tsv")
                               .read_text("utf-8"))


def parse_control_table(text: str) -> dict[str, ControlInfo]:
    """Control-table rows from their TSV text by ``match``; ValueError naming the row when one is wrong."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    table: dict[str, ControlInfo] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        topics = tuple(t for t in (row.get("topics") or "").split(",") if t)
        info = ControlInfo(row["match"], row["scope"], row.get("not_checked") or "", row["responsibility"],
                           row.get("aws_service") or "", topics)
        where = f"evidence/data/controls.tsv row {info.match!r}"
        if info.scope not in SCOPES:
            raise ValueError(f"{where}: scope {info.scope!r} is not one of {', '.join(SCOPES)}")
        if info.responsibility not in RESPONSIBILITIES:
            raise ValueError(f"{where}: responsibility {info.responsibility!r} is not one of "
                             f"{', '.join(RESPONSIBILITIES)}")
        if info.scope == "template" and not _ID.match(info.match):
            raise ValueError(f"{where}: scope template only on one control id, never on a family or a wildcard: "
                             "name each control a template can show whole (control-objectives.tsv says by what)")
        if info.scope != "template" and not info.not_checked:
            raise ValueError(f"{where}: scope {info.scope} needs not_checked (what automation cannot show)")
        if info.responsibility != "customer" and not info.aws_service:
            raise ValueError(f"{where}: {info.responsibility} needs aws_service (the AWS service that provides it)")
        if unknown := set(topics) - set(TOPICS):
            raise ValueError(f"{where}: unknown topics {sorted(unknown)}; known: {', '.join(TOPICS)}")
        if info.match in table:
            raise ValueError(f"{where}: duplicate row")
        table[info.match] = info
    return table


@cache
def control_info(control: str) -> ControlInfo:
    """The most specific row for ``control`` (``AU-9(2)``): id, then ``AU-9*``, then ``*-1``, then ``AU``."""
    table = control_table()
    match = _ID.match(control)
    if match is None:
        raise ValueError(f"{control!r} is not a normalized control id (AU-9 or AU-9(2))")
    family, number = match.group(1), int(match.group(2))
    for key in (control, f"{family}-{number}*", "*-1" if number == 1 else None, family):
        if key and key in table:
            return table[key]
    raise ValueError(f"evidence/data/controls.tsv has no row for family {family} (needed by {control}); add one")


# ---------------------------------------------------------------------------------------------
# Template facts


def _v(value: Any) -> str:
    return f"`{value}`"


def _strings(value: Any) -> list[str]:
    return sorted(s for s in possible_strings(value) if "<" not in s)


def template_facts(stack: StackEvidence) -> dict[str, list[str]]:
    """Topic -> sentences of what the template configures. Every value is between backticks and is a
    literal of the template (a property value, or the literal part of a joined string)."""
    facts: dict[str, list[str]] = {t: [] for t in TOPICS}
    for r in stack.resources:
        p, label = r.properties, stack.label(r.logical_id)
        if r.type == "AWS::EC2::VPC" and isinstance(p.get("CidrBlock"), str):
            facts["network"].append(f"VPC {_v(label)} has CIDR {_v(p['CidrBlock'])}.")
        elif r.type == "AWS::EC2::SecurityGroup":
            for rule in as_list(p.get("SecurityGroupIngress")):
                if isinstance(rule, dict) and isinstance(rule.get("CidrIp"), str):
                    facts["network"].append(
                        f"Security group {_v(label)} admits {_v(rule.get('IpProtocol'))} ports "
                        f"{_v(rule.get('FromPort'))}-{_v(rule.get('ToPort'))} from {_v(rule['CidrIp'])} only.")
        elif r.type == "AWS::EC2::VPCEndpoint":
            names = _strings(p.get("ServiceName"))
            service = names[0].rsplit(".", 1)[-1] if len(names) == 1 else None
            if service:
                dns = " with private DNS" if p.get("PrivateDnsEnabled") is True else ""
                facts["endpoints"].append(f"Interface endpoint {_v(label)} for {_v(service)}{dns}"
                                          + (", with an endpoint policy." if p.get("PolicyDocument") else "."))
        elif r.type == "AWS::KMS::Key":
            rotation = "with annual rotation" if p.get("EnableKeyRotation") is True else "without rotation"
            facts["encryption-keys"].append(f"KMS key {_v(label)} {rotation}"
                                            + (f" ({_v(p['Description'])})." if isinstance(p.get("Description"), str)
                                               else "."))
        elif r.type == "AWS::S3::Bucket":
            lock = ((p.get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
            if p.get("ObjectLockEnabled") is True and lock.get("Mode"):
                period = (f"{_v(lock['Days'])} days" if lock.get("Days") else
                          f"{_v(lock['Years'])} years" if lock.get("Years") else "no default period")
                facts["audit-storage"].append(f"Bucket {_v(label)}: Object Lock {_v(lock['Mode'])} for {period}"
                                              + (", versioned" if (p.get("VersioningConfiguration") or {})
                                                 .get("Status") == "Enabled" else "") + ".")
            sse = [rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                   for rule in as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
                   if isinstance(rule, dict)]
            if "aws:kms" in sse and lock.get("Mode"):
                facts["encryption-keys"].append(f"Bucket {_v(label)} encrypts by default with {_v('aws:kms')}.")
        elif r.type == "AWS::Logs::LogGroup":
            days = p.get("RetentionInDays")
            facts["log-retention"].append(
                f"Log group {_v(label)}: retention " + (f"{_v(days)} days" if days else "never expires")
                + (", KMS-encrypted." if p.get("KmsKeyId") else ", not KMS-encrypted."))
        elif r.type == "AWS::CloudTrail::Trail":
            flags = [f"{_v(key)} {_v('true')}" for key in ("IsMultiRegionTrail", "IsLogging",
                                                          "EnableLogFileValidation", "IncludeGlobalServiceEvents")
                     if p.get(key) is True]
            events = "with data event selectors" if p.get("AdvancedEventSelectors") or p.get("EventSelectors") \
                else "management events only"
            # Whose objects' reads and deletes it records (the invocation-log bucket: prompts and completions).
            objects = sorted({stack.label(lid) for s in as_list(p.get("AdvancedEventSelectors")) if isinstance(s, dict)
                              and {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}
                              in as_list(s.get("FieldSelectors")) for lid in referenced_ids(s)})
            events += "".join(f", S3 object events of bucket {_v(o)}" for o in objects)
            facts["trail"].append(f"Trail {_v(label)}: {', '.join(flags) or 'no flags set'}; {events}"
                                  + ("; KMS-encrypted." if p.get("KMSKeyId") else "."))
        elif r.type.startswith("Custom::") and isinstance(p.get("LoggingConfig"), dict):
            config = p["LoggingConfig"]
            outputs = [name for name, key in (("CloudWatch Logs", "cloudWatchConfig"), ("S3", "s3Config"))
                       if config.get(key)]
            kinds = [key for key in ("textDataDeliveryEnabled", "imageDataDeliveryEnabled",
                                     "embeddingDataDeliveryEnabled") if config.get(key) is True]
            facts["invocation-logging"].append(
                f"Model invocation logging {_v(label)} delivers to {' and '.join(outputs) or 'no destination'}"
                + (f" ({', '.join(_v(k) for k in kinds)})." if kinds else "."))
        elif r.type == "AWS::Bedrock::Guardrail":
            filters = [name for name, key in (("content", "ContentPolicyConfig"), ("PII", "SensitiveInformationPolicyConfig"),
                                              ("word", "WordPolicyConfig"), ("topic", "TopicPolicyConfig"),
                                              ("contextual grounding", "ContextualGroundingPolicyConfig"))
                       if p.get(key)]
            name = f" {_v(p['Name'])}" if isinstance(p.get("Name"), str) else ""
            facts["guardrail"].append(f"Guardrail{name} with {', '.join(filters) or 'no'} filters"
                                      + (", encrypted with a customer-managed KMS key." if p.get("KmsKeyArn") else "."))
        elif r.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            models = sorted({s.split("/", 1)[1] for st in _statements(p) if st.get("Effect") == "Allow"
                             for res in as_list(st.get("Resource")) for s in possible_strings(res)
                             if (":foundation-model/" in s or ":inference-profile/" in s)
                             and "<" not in s.split("/", 1)[1]})
            if models:
                facts["model-access"].append(f"Policy {_v(label)} allows invoking {', '.join(_v(m) for m in models)} "
                                             "only.")
            # Mantle has no model ARN: its grants name the models in the bedrock-mantle:Model condition.
            mantle = sorted({v for st in _statements(p) if st.get("Effect") == "Allow"
                             for block in (st.get("Condition") or {}).values() if isinstance(block, dict)
                             for key, value in block.items() if key.lower() == "bedrock-mantle:model"
                             for v in possible_strings(value) if "<" not in v and "*" not in v})
            if mantle:
                facts["model-access"].append(f"Policy {_v(label)} allows bedrock-mantle inference on "
                                             f"{', '.join(_v(m) for m in mantle)} only (bedrock-mantle:Model).")
    return facts


def _statements(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    document = properties.get("PolicyDocument") or {}
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def narrative(control: str, facts: Mapping[str, list[str]], gate_line: str = "") -> str:
    """Starting text of the SSP section for ``control``: who does what, then what the template configures."""
    info = control_info(control)
    if info.responsibility == "inherited":
        return f"Inherited from AWS: {info.aws_service}."
    if info.scope == "outside":
        who = ("Customer (the organization)" if info.responsibility == "customer"
               else f"Shared with AWS ({info.aws_service})")
        return f"{who}: not implemented by this template. {info.not_checked}"
    lead = (f"Shared: {info.aws_service} provides the mechanism; this deployment configures it."
            if info.responsibility == "shared" else "Customer: this deployment configures it.")
    lines = [s for topic in info.topics for s in (facts.get(topic) or [])]
    if "gate" in info.topics and gate_line:
        lines.insert(0, gate_line)
    body = " ".join(lines) if lines else "No resource of this template configures it."
    rest = f" Not shown by the template: {info.not_checked}" if info.scope != "template" else ""
    return f"{lead} {body}{rest}"
