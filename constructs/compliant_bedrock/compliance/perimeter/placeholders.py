"""CloudFormation intrinsics resolved to stable placeholder values, so policies can be simulated.

A synthesized policy names resources by ``Ref``/``Fn::GetAtt`` whose values exist only after deploy.
The simulator needs strings, and the same string wherever the same value appears (the endpoint id in
the identity policy's ``aws:SourceVpce`` and the request's ``aws:SourceVpce``), so every value is a
pure function of the template and its environment, never random and never the clock:

* ``AWS::AccountId``: the stack's account when the environment names one, else ``111122223333``;
  another account (for cross-account requests) is ``444455556666``. ``AWS::Partition`` from the
  region (``us-gov-*`` -> ``aws-us-gov``, ...), ``AWS::Region`` the stack's region, ``AWS::URLSuffix``
  the partition's suffix, ``AWS::StackName`` the stack name.
* ``Ref`` of a resource: the name property when the template sets one (``BucketName``, ``RoleName``,
  ``TrailName``, ...); else a name made of the logical id and ``h`` = the first hex digits of
  sha256(stack name + logical id): a VPC endpoint is ``vpce-<h 17>``, a KMS key a UUID made of ``h``,
  a guardrail id ``<h 12>``, a bucket ``<stack>-<logical id>-<h 12>`` in lower case and any other resource
  ``<stack>-<logical id>-<H 13>`` (CloudFormation's generated names, so the organization's name-pattern
  denies meet them as deployed), a managed policy its ARN.
* ``Fn::GetAtt <id>.Arn`` (and ``GuardrailArn``, ``KeyArn``...): the ARN AWS would build for that
  resource type from the name above, in the stack's partition, region and account; a guardrail
  version's ``Version`` is ``1``.
* ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``, ``Fn::If`` (conditions evaluated),
  ``Fn::FindInMap`` are evaluated; a parameter takes its default (else ``param-<name>``); an import
  is ``import-<h>``. Anything else raises :class:`PlaceholderError`: a policy that cannot be read is
  never simulated as something else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ...errors import CompliantBedrockError

DEFAULT_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
#: The other account when an environment's own account is OTHER_ACCOUNT (it must differ to be "other").
OTHER_ACCOUNT_ALTERNATE = "999988887777"
#: The organization id requests carry (``aws:PrincipalOrgID``); the other account is a member too.
ORG_ID = "o-a1b2c3d4e5"

_PARTITIONS = (("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"), ("cn-", "aws-cn"),
               ("eusc-", "aws-eusc"))
_URL_SUFFIX = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn",
               "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov", "aws-eusc": "amazonaws.eu"}
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName", "AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName", "AWS::Logs::LogGroup": "LogGroupName", "AWS::CloudTrail::Trail": "TrailName",
    "AWS::Lambda::Function": "FunctionName", "AWS::SQS::Queue": "QueueName",
}


class PlaceholderError(CompliantBedrockError):
    """A template value the proof cannot turn into a placeholder (an unknown intrinsic)."""


def partition_of(region: str) -> str:
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class Resolver:
    """Placeholder values for one stack's template (see the module docstring for the scheme)."""

    def __init__(self, template: Mapping[str, Any], stack_name: str, region: str, account: str | None) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.stack_name = stack_name
        self.region = region
        self.account = account or DEFAULT_ACCOUNT
        self.partition = partition_of(region)
        self._conditions: dict[str, bool] = {}
        #: Physical names known from outside the template (an organization's recorded endpoint ids).
        self.known_names: dict[str, str] = {}

    # -- names and ARNs per resource type -------------------------------------------------------
    def _h(self, logical_id: str, length: int = 8) -> str:
        return digest(self.stack_name, logical_id, length=length)

    def name(self, logical_id: str) -> str:
        """The physical name: the template's name property, else one made from the logical id."""
        if logical_id in self.known_names:
            return self.known_names[logical_id]
        resource = self.resources[logical_id]
        prop = _NAME_PROPERTY.get(resource.get("Type", ""))
        given = (resource.get("Properties") or {}).get(prop) if prop else None
        if given is not None:
            return str(self.value(given))
        rtype = resource.get("Type", "")
        if rtype == "AWS::S3::Bucket":  # CloudFormation: <stack>-<logical id>-<suffix>, lower case, 63 at most
            return f"{self.stack_name.lower()[:30]}-{logical_id.lower()[:18]}-{self._h(logical_id, 12)}"
        if rtype == "AWS::KMS::Key":
            h = self._h(logical_id, 32)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if rtype == "AWS::EC2::VPCEndpoint":
            return f"vpce-{self._h(logical_id, 17)}"
        if rtype == "AWS::Bedrock::Guardrail":
            return self._h(logical_id, 12)
        if rtype == "AWS::BedrockMantle::Project":  # Mantle project ids: proj_<alphanumerics>
            return f"proj_{self._h(logical_id, 12)}"
        # CloudFormation's generated name: <stack>-<logical id, truncated>-<13-character suffix>, so the
        # organization's name-pattern denies (CompliantBedrock-*) are exercised as they would be deployed.
        return f"{self.stack_name[:30]}-{logical_id[:19]}-{self._h(logical_id, 13).upper()}"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")

    def resource_arn(self, logical_id: str) -> str:
        rtype = self.resources[logical_id].get("Type", "")
        name = self.name(logical_id)
        by_type = {
            "AWS::S3::Bucket": lambda: self.arn("s3", name, region=False, account=False),
            "AWS::IAM::Role": lambda: self.arn("iam", f"role/{name}", region=False),
            "AWS::IAM::User": lambda: self.arn("iam", f"user/{name}", region=False),
            "AWS::IAM::ManagedPolicy": lambda: self.arn("iam", f"policy/{name}", region=False),
            "AWS::KMS::Key": lambda: self.arn("kms", f"key/{name}"),
            "AWS::Logs::LogGroup": lambda: self.arn("logs", f"log-group:{name}:*"),
            "AWS::CloudTrail::Trail": lambda: self.arn("cloudtrail", f"trail/{name}"),
            "AWS::Lambda::Function": lambda: self.arn("lambda", f"function:{name}"),
            "AWS::SQS::Queue": lambda: self.arn("sqs", name),
            "AWS::Bedrock::Guardrail": lambda: self.arn("bedrock", f"guardrail/{name}"),
            "AWS::BedrockMantle::Project": lambda: self.arn("bedrock-mantle", f"project/{name}"),
            "AWS::EC2::VPCEndpoint": lambda: self.arn("ec2", f"vpc-endpoint/{name}"),
            "AWS::Events::Rule": lambda: self.arn("events", f"rule/{name}"),
            "AWS::SNS::Topic": lambda: self.arn("sns", name),
        }
        if rtype in by_type:
            return by_type[rtype]()
        service = rtype.split("::")[1].lower() if rtype.count("::") == 2 else "unknown"
        return self.arn(service, f"{logical_id.lower()}/{self._h(logical_id)}")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.account, "AWS::Partition": self.partition, "AWS::Region": self.region,
            "AWS::URLSuffix": _URL_SUFFIX.get(self.partition, "amazonaws.com"), "AWS::StackName": self.stack_name,
            "AWS::StackId": self.arn("cloudformation", f"stack/{self.stack_name}/{digest(self.stack_name, length=8)}"),
        }
        if name in pseudo:
            return pseudo[name]
        if name in (self.template.get("Parameters") or {}):
            param = self.template["Parameters"][name]
            return param.get("Default", f"param-{name}")
        if name not in self.resources:
            raise PlaceholderError(f"{self.stack_name}: Ref to {name!r}, which is not a resource or parameter")
        rtype = self.resources[name].get("Type", "")
        if rtype == "AWS::IAM::ManagedPolicy":
            return self.resource_arn(name)
        if rtype == "AWS::Bedrock::Guardrail":
            return self.resource_arn(name)
        if rtype == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.{_URL_SUFFIX.get(self.partition)}/{self.account}/{self.name(name)}"
        return self.name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise PlaceholderError(f"{self.stack_name}: Fn::GetAtt of {logical_id!r}, which is not a resource")
        rtype = self.resources[logical_id].get("Type", "")
        if attribute in ("Arn", "GuardrailArn", "KeyArn", "RoleArn", "PolicyArn"):
            return self.resource_arn(logical_id)
        if attribute in ("GuardrailId", "KeyId", "RoleId", "Id"):
            return self.name(logical_id)
        if rtype == "AWS::Bedrock::GuardrailVersion" and attribute == "Version":
            return "1"
        if attribute in ("GroupId", "DefaultSecurityGroup"):
            return f"sg-{self._h(logical_id + attribute, 17)}"
        return f"{logical_id}.{attribute}-{self._h(logical_id + attribute)}"

    # -- intrinsic functions ---------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        """``node`` with every intrinsic replaced by its placeholder value (``AWS::NoValue`` dropped)."""
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, arg)
        out = {}
        for key, item in node.items():
            resolved = self.value(item)
            if resolved is not _NO_VALUE:
                out[key] = resolved
        return out

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(logical_id, self.value(attribute))
        if key == "Fn::Join":
            sep, items = arg
            return str(self.value(sep)).join(str(v) for v in self.value(items))
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
            return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: str(self._sub_var(m.group(1), variables)), text)
        if key == "Fn::Select":
            index, items = arg
            return self.value(items)[int(self.value(index))]
        if key == "Fn::Split":
            sep, text = arg
            return str(self.value(text)).split(self.value(sep))
        if key == "Fn::If":
            name, yes, no = arg
            return self.value(yes if self.condition(name) else no)
        if key == "Fn::FindInMap":
            mapping, top, second = (self.value(a) for a in arg[:3])
            return self.value(self.template["Mappings"][mapping][top][second])
        if key == "Fn::ImportValue":
            return f"import-{digest(repr(arg))}"
        if key == "Fn::GetAZs":
            return [f"{self.region}a", f"{self.region}b"]
        if key == "Fn::Base64":
            return self.value(arg)
        if key == "Fn::Equals":
            left, right = (self.value(a) for a in arg)
            return left == right
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        raise PlaceholderError(f"{self.stack_name}: intrinsic {key} has no placeholder rule")

    def _truth(self, node: Any) -> bool:
        return bool(self.value(node))

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise PlaceholderError(f"{self.stack_name}: Fn::If on unknown condition {name!r}")
            self._conditions[name] = self._truth(conditions[name])
        return self._conditions[name]

    def _sub_var(self, name: str, variables: Mapping[str, Any]) -> Any:
        if name in variables:
            return variables[name]
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.get_att(logical_id, attribute)
        return self.ref(name)


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()
