"""The perimeter proof: generate the matrix's requests per environment, simulate, judge, write evidence."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from ...errors import CompliantBedrockError
from ..registry import _HOLLOW, MIN_REASON_WORDS, today
from . import attacks, decision_cache, simulator
from .discovery import Assembly, Environment, Policy, read
from .placeholders import ORG_ID, OTHER_ACCOUNT, OTHER_ACCOUNT_ALTERNATE

EXPECTATIONS = ("allow", "deny", "deny-or-guarded")
#: Where a request applies: an environment's stack, or the stack instance a StackSet's template (the per-account
#: baseline) gets in each target account and region. Generated attacks apply to both.
SCOPES = ("environment", "baseline")
#: A request id: ``<id>[<item>]`` and, for a StackSet's stack instance, ``@<account>/<region>``.
_REQUEST_ID = re.compile(r"^(?P<base>[^\[@]+)(?P<item>\[.*\])?(?P<instance>@\d{12}/[a-z0-9-]+)?$")
VIAS = {"runtime-endpoint": "bedrock-runtime", "control-endpoint": "bedrock", "mantle-endpoint": "bedrock-mantle",
        "public": None, "other-endpoint": None}
#: An endpoint someone else in the organization created (default full-access policy): what N5 routes through.
OTHER_ENDPOINT = "vpce-0e0e0e0e0e0e0e0e0"
_FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
#: Assumptions every decision rests on, written into the evidence.
GENERAL_ASSUMPTIONS = (
    "intrinsics are replaced by stable placeholder values (docs/gate.md: 'How the perimeter proof resolves values')",
    "an organization stack's SCPs and RCPs apply to the environments its metadata names as covered, in its own "
    "partition (attached to an OU above their accounts; never the management account, which SCPs do not bind), "
    "next to FullAWSAccess; without that metadata, to every environment of its partition",
    "principal kinds other than the workload hold the identity policies written in the matrix, nothing else",
)


class PerimeterError(CompliantBedrockError):
    """The matrix or an acceptance is malformed (names the file, the request and the fix)."""


@dataclass(frozen=True)
class Acceptance:
    """An open path accepted for a reason, by whom, until when: one exact request id (never a prefix)."""

    request: str
    reason: str
    environments: tuple[str, ...] = ()
    approved_by: str = ""
    expires: str = ""

    def __post_init__(self) -> None:
        if len(self.reason.split()) < MIN_REASON_WORDS or _HOLLOW.search(self.reason):
            raise PerimeterError(
                f"perimeter acceptance of {self.request}: reason {self.reason!r} is not one an auditor can accept; "
                f"say in at least {MIN_REASON_WORDS} words why the path is acceptable, and what closes it")
        if len(self.approved_by.split()) < 2 or _HOLLOW.search(self.approved_by):
            raise PerimeterError(f"perimeter acceptance of {self.request}: approved_by {self.approved_by!r}: name who "
                                 "accepted the risk (role and decision record, e.g. 'AO, risk acceptance RA-2026-031')")
        try:
            until = date.fromisoformat(self.expires)
        except ValueError:
            raise PerimeterError(f"perimeter acceptance of {self.request}: expires {self.expires!r} is not a date "
                                 "(YYYY-MM-DD); every acceptance ends and is reviewed again") from None
        if until < today():
            raise PerimeterError(f"perimeter acceptance of {self.request}: expired on {self.expires}; close the path "
                                 "or renew the acceptance with a new approval")

    def covers(self, env: str, request_id: str) -> bool:
        if self.environments and env not in self.environments:
            return False
        return self.request == request_id


@dataclass
class Outcome:
    """One request of one environment and how it was decided."""

    environment: str
    id: str
    principal: str
    principal_arn: str
    action: str
    resource: str
    via: str
    context: dict[str, Any]
    expect: str
    controls: list[str]
    rationale: str
    decision: str = "not-applicable"  # allowed | denied | guarded | not-applicable
    simulator_result: str | None = None
    deciding: list[str] = field(default_factory=list)
    guarded_by: str | None = None
    assumptions: list[str] = field(default_factory=list)
    verdict: str = "n/a"  # as-expected | open | accepted | n/a
    accepted_reason: str | None = None
    #: Who approved the acceptance and until when (a POA&M item names both).
    accepted_by: str | None = None
    accepted_until: str | None = None
    note: str | None = None

    def line(self) -> str:
        why = "; ".join(self.deciding) or "no statement (implicit)"
        if self.expect == "allow":
            fix = ("the request a workload needs was refused: widen the deciding policy just enough for this "
                   "request, or fix the matrix if the request is no longer needed")
        else:
            fix = ("close the path (identity deny in the invoke policy, endpoint policy, key or bucket policy deny, "
                   "an SCP/RCP, or account guardrail enforcement), or accept it with a reason of at least "
                   f"{MIN_REASON_WORDS} words in the perimeter acceptances under the id {self.id.split('[', 1)[0]}")
        return (f"Perimeter {self.id} [{', '.join(self.controls)}] {self.principal} ({self.principal_arn}) "
                f"{self.action} on {self.resource} via {self.via}: {self.decision}, expected {self.expect}. "
                f"Decided by: {why}. Fix: {fix}")


@dataclass
class Proof:
    simulator: dict[str, Any]
    outcomes: list[Outcome]
    stale_acceptances: list[Acceptance]
    #: environment -> what its requests were evaluated as (a StackSet's template: where it is deployed).
    scopes: dict[str, list[str]] = field(default_factory=dict)
    #: How many simulations this run asked: requests, distinct (canonical), cached, simulated (this run only).
    simulations: dict[str, int] = field(default_factory=dict)
    #: environment -> (simulated requests, distinct simulations among them): the same in every run.
    distinct: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == "open"]

    @property
    def passed(self) -> bool:
        return not self.blocking and not self.stale_acceptances

    def lines(self) -> list[str]:
        lines = [f"{o.environment}: {o.line()}" for o in self.blocking]
        lines += [f"perimeter acceptance {a.request}: covers no open request (the path is closed now): delete it "
                  "from the perimeter acceptances" for a in self.stale_acceptances]
        return lines


#: Principal policies taken from the template: the workload's invoke policies, a developer's Codex policy.
_TEMPLATE_POLICIES = ("template:invoke", "template:developer")


@cache
def matrix() -> dict[str, Any]:
    """The request matrix shipped with the package (``requests.yaml``), checked."""
    data = yaml.safe_load(resources.files(__package__).joinpath("requests.yaml").read_text("utf-8"))
    seen: set[str] = set()
    for request in data["requests"]:
        where = f"requests.yaml: request {request.get('id')!r}"
        for key in ("id", "principal", "action", "resource", "via", "expect", "controls", "rationale"):
            if key not in request:
                raise PerimeterError(f"{where}: missing {key!r}")
        if request["id"] in seen:
            raise PerimeterError(f"{where}: duplicate id")
        seen.add(request["id"])
        if request["expect"] not in EXPECTATIONS or request["via"] not in VIAS:
            raise PerimeterError(f"{where}: expect must be one of {EXPECTATIONS}, via one of {sorted(VIAS)}")
        if request["principal"] not in data["principals"]:
            raise PerimeterError(f"{where}: unknown principal {request['principal']!r}")
        if not set(request.get("scope") or ["environment"]) <= set(SCOPES):
            raise PerimeterError(f"{where}: scope must be a list of {', '.join(SCOPES)}")
    for name, principal in data["principals"].items():
        unknown = [p for p in principal["policies"] if p not in _TEMPLATE_POLICIES and p not in data["policies"]]
        if unknown:
            raise PerimeterError(f"requests.yaml: principal {name!r}: unknown policies {unknown}")
    return data


def load_acceptances(path: Path) -> list[Acceptance]:
    """Acceptances from a YAML file: ``accepted: [{request | requests: [...], reason, approved_by, expires,
    environments?}]``, each request an exact id as the evidence prints it; none if the file is absent."""
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {r["id"] for r in matrix()["requests"]}
    out = []
    for entry in data.get("accepted") or []:
        requests = [str(r) for r in (entry.get("requests") or [entry.get("request", "")])]
        for request in requests:
            match = _REQUEST_ID.fullmatch(request)
            base = match.group("base") if match else request
            if base not in known and not base.startswith("attack."):
                raise PerimeterError(f"{path}: acceptance of unknown perimeter request {request!r}; "
                                     f"ids are in compliant_bedrock/compliance/perimeter/requests.yaml or generated "
                                     "(attack.*), as perimeter-<env>.md lists them")
            if (match is None or match.group("item") is None) and any(
                    r.get("for_each") for r in matrix()["requests"] if r["id"] == base):
                raise PerimeterError(f"{path}: acceptance of {request!r} names a request family; accept each "
                                     f"request by its exact id ({request}[<item>]), as perimeter-<env>.md lists it")
            try:
                out.append(Acceptance(request, str(entry.get("reason", "")), tuple(entry.get("environments") or ()),
                                      str(entry.get("approved_by", "")), str(entry.get("expires", ""))))
            except PerimeterError as err:
                raise PerimeterError(f"{path}: {err}") from err
    return out


# ---- request generation ----------------------------------------------------------------------------
def _model_id(arn: str) -> str | None:
    tail = arn.split(":", 5)[-1]
    for prefix in ("foundation-model/", "inference-profile/"):
        if tail.startswith(prefix):
            model = tail[len(prefix):]
            return model.split(".", 1)[1] if prefix == "inference-profile/" and "." in model else model
    return None


def allowed_invoke_resources(env: Environment) -> tuple[list[str], list[str]]:
    """(model/profile/project ARNs the invoke policies allow for InvokeModel, Mantle project ARNs)."""
    models: list[str] = []
    projects: list[str] = []
    for policy in env.workload:
        for statement in policy.document.get("Statement") or []:
            if statement.get("Effect") != "Allow":
                continue
            actions = {str(a).lower() for a in _listify(statement.get("Action"))}
            target = models if "bedrock:invokemodel" in actions else (
                projects if "bedrock-mantle:createinference" in actions else None)
            if target is None:
                continue
            for arn in _listify(statement.get("Resource")):
                if isinstance(arn, str) and "*" not in arn and arn not in target:
                    target.append(arn)
    return models, projects


def profile_context(env: Environment) -> dict[str, dict[str, str]]:
    """Model ARN -> the request context an invoke of it carries: a foundation model the invoke policy allows
    only through a cross-region profile (``bedrock:InferenceProfileArn`` pinned) is reached with that
    profile's ARN in the request, never on its own."""
    found: dict[str, dict[str, str]] = {}
    for policy in env.workload:
        for statement in policy.document.get("Statement") or []:
            if statement.get("Effect") != "Allow":
                continue
            for operator, block in (statement.get("Condition") or {}).items():
                if operator.lower() not in ("stringequals", "arnequals", "stringlike", "arnlike"):
                    continue
                profiles = [v for k, v in (block or {}).items() if k.lower() == "bedrock:inferenceprofilearn"]
                values = [str(v) for v in (_listify(profiles[0]) if profiles else []) if "*" not in str(v)]
                for arn in _listify(statement.get("Resource")) if values else []:
                    found.setdefault(str(arn), {"bedrock:InferenceProfileArn": values[0]})
    return found


def mantle_grants(env: Environment) -> list[tuple[str, str]]:
    """(project ARN, model id) pairs the workload's Mantle grants allow (``bedrock-mantle:Model`` pinned)."""
    found: list[tuple[str, str]] = []
    for policy in env.workload:
        for statement in policy.document.get("Statement") or []:
            actions = {str(a).lower() for a in _listify(statement.get("Action"))}
            if statement.get("Effect") != "Allow" or "bedrock-mantle:createinference" not in actions:
                continue
            models = [str(v) for block in (statement.get("Condition") or {}).values() if isinstance(block, dict)
                      for key, value in block.items() if key.lower() == "bedrock-mantle:model"
                      for v in _listify(value)]
            for project in _listify(statement.get("Resource")):
                found += [(str(project), m) for m in models if (str(project), m) not in found and "*" not in m]
    return found


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _short(label: str) -> str:
    """A construct path without its stack and repeated tail: ``AuditTrail/Bucket/Bucket`` -> ``AuditTrail/Bucket``."""
    parts = label.split("/")[1:] or label.split("/")
    while len(parts) > 1 and parts[-1] == parts[-2]:
        parts.pop()
    return "/".join(parts)


def _model_suffix(arn: str, home_region: str) -> str:
    """The model's name, ``@<region>`` when the ARN is in another region than the environment's: a
    cross-region profile's destination models share their name, and each is a request of its own."""
    parts = arn.split(":", 5)
    name = parts[-1].split("/", 1)[-1]
    return name if len(parts) < 6 or parts[3] in ("", home_region) else f"{name}@{parts[3]}"


def _items(spec: Mapping[str, Any], env: Environment, models: list[str]) -> list[tuple[str | None, dict[str, str]]]:
    kind = spec.get("for_each")
    if kind is None:
        return [(None, {})]
    if kind in ("allowed_model", "allowed_foundation_model"):
        # allowed_foundation_model: actions whose IAM resource types include no inference profile (batch jobs)
        return [(_model_suffix(arn, env.region), {"model_arn": arn}) for arn in models
                if kind == "allowed_model" or ":foundation-model/" in arn]
    if kind == "mantle_model":
        return [(model, {"project_arn": project, "model": model}) for project, model in mantle_grants(env)]
    if kind == "audit_key":
        return [(_short(label), {"key_arn": arn}) for label, arn in env.audit_keys]
    if kind == "audit_bucket":
        return [(_short(label), {"bucket_arn": arn, "object_arn": f"{arn}/AWSLogs/{env.account}/forged.json.gz"})
                for label, arn in env.audit_buckets]
    if kind == "trail":
        return [(_short(label), {"trail_arn": arn}) for label, arn in env.trails]
    if kind == "audit_log_group":
        return [(_short(label), {"log_group_arn": arn}) for label, arn in env.audit_log_groups]
    raise PerimeterError(f"requests.yaml: request {spec['id']!r}: unknown for_each {kind!r}")


def _fill(text: str, values: Mapping[str, str], request_id: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise PerimeterError(f"requests.yaml: request {request_id!r}: unknown placeholder {{{match.group(1)}}}")
        return values[match.group(1)]

    return re.sub(r"\{([a-z_]+)\}", one, text)


def _requests(env: Environment, organization_scps: Sequence[Policy], organization_rcps: Sequence[Policy],
              enforcement: Sequence[Any], role_names: Mapping[str, str] | None = None, *,
              organization_id: str = ORG_ID) -> tuple[list[Outcome], list[dict[str, Any]]]:
    data = matrix()
    facts = data["facts"]
    models, projects = allowed_invoke_resources(env)
    via_profile = profile_context(env)
    region, partition, account = env.region, env.partition, env.account
    other_region = facts["other_region_if_home"].get(region) or facts["other_region"].get(partition, region)
    # A region of the partition the environment (or every instance of its StackSet) is not in: no account
    # enforcement and no invocation logging of it there.
    deployed = env.stack_set.regions if env.stack_set is not None else [region]
    outside = next((r for r in facts["partition_regions"].get(partition, []) if r not in deployed), None)
    scope = "baseline" if env.stack_set is not None else "environment"
    responses_project = env.resolver.arn("bedrock", "project/default")
    base = {
        "account": account, "partition": partition, "region": region,
        "unlisted_model_arn": f"arn:{partition}:bedrock:{region}::foundation-model/{facts['unlisted_model']}",
        "other_region_model_arn": (f"arn:{partition}:bedrock:{other_region}::foundation-model/"
                                   f"{_model_id(models[0]) if models else facts['unlisted_model']}"),
        "stack_arn": env.resolver.ref("AWS::StackId"),
        "responses_project_arn": responses_project,
        "mantle_project_arn": env.resolver.arn("bedrock-mantle", "project/default"),
        "mantle_model": facts["mantle_model"],
        "api_key_user_arn": env.resolver.arn("iam", "user/bedrock-api-key-user", region=False),
        "outside_region_model_arn": f"arn:{partition}:bedrock:{outside}::foundation-model/{facts['unlisted_model']}",
    }
    chosen = {"responses_chosen": responses_project in models, "mantle_chosen": bool(projects),
              # a Codex policy and the developer role it is recorded for (docs/codex.md)
              "developer_chosen": bool(env.developer and env.developer_role)}
    outcomes: list[Outcome] = []
    simulations: list[dict[str, Any]] = []
    generated = attacks.specs(env, organization_scps, attacks.mantle_exemptions(organization_scps))
    for spec in [*data["requests"], *generated]:
        if scope not in (spec.get("scope") or (SCOPES if spec.get("generated") else ["environment"])):
            continue
        if spec.get("unless") and chosen.get(spec["unless"]):
            continue
        if spec.get("only_if") and not chosen.get(spec["only_if"]):
            continue
        principal = data["principals"][spec["principal"]]
        other = OTHER_ACCOUNT if account != OTHER_ACCOUNT else OTHER_ACCOUNT_ALTERNATE
        p_account = other if principal.get("account") == "other" else account
        role = spec.get("role") or (role_names or {}).get(spec["principal"], principal["role"]).replace(
            "{environment}", env.name).replace("{developer_role}", env.developer_role or "")
        p_arn = f"arn:{partition}:iam::{p_account}:role/{role}"
        for suffix, values in _items(spec, env, models):
            vals = {**base, **values}
            rid = (f"{spec['id']}[{suffix}]" if suffix else spec["id"]) + env.instance
            resource = _fill(spec["resource"], vals, rid)
            req_region = {"other": other_region, "outside": outside}.get(spec.get("region"), region)
            context: dict[str, Any] = {
                "aws:PrincipalArn": p_arn, "aws:PrincipalAccount": p_account, "aws:PrincipalOrgID": organization_id,
                "aws:PrincipalType": "AssumedRole", "aws:SecureTransport": "true", "aws:RequestedRegion": req_region,
                "aws:ViaAWSService": "false",
            }
            guardrail = spec.get("guardrail", "none")
            if guardrail != "none":
                context["bedrock:GuardrailIdentifier"] = {
                    "published": env.guardrail_versioned_arn or "",
                    "draft": env.guardrail_arn or "",
                    "other": env.resolver.arn("bedrock", "guardrail/othergrdrl0001:1"),
                }[guardrail]
            context.update({k: _fill(str(v), vals, rid) for k, v in (spec.get("context") or {}).items()})
            if ":foundation-model/" in resource:  # reached through the profile that allows it, if any
                context.update(via_profile.get(resource, {}))
            outcome = Outcome(env.name, rid, spec["principal"], p_arn, spec["action"], resource, spec["via"], context,
                              spec["expect"], list(spec["controls"]), spec["rationale"],
                              assumptions=[spec["assumption"]] if spec.get("assumption") else [])
            outcomes.append(outcome)
            if env.stack_set is not None:
                outcome.assumptions.append(f"stack instance {env.stack} of StackSet {env.stack_set.stack_set_name} "
                                           f"in account {account}, region {region}")
            if req_region is None:
                outcome.note = f"every region of partition {partition} has a stack instance"
                continue
            endpoint_policies: list[dict[str, Any]] = []
            service = VIAS[spec["via"]]
            if spec["via"] == "other-endpoint":  # another endpoint of the organization: its full-access policy
                context["aws:SourceVpce"] = OTHER_ENDPOINT
            if service is not None:
                if service not in env.endpoints:
                    outcome.note = f"no {service} endpoint in this environment"
                    continue
                vpce, policy = env.endpoints[service]
                # Only the keys the service sends through an endpoint: aws:SourceVpce. Bedrock and Mantle do not
                # send aws:VpceAccount / aws:VpceOrgID (IAM User Guide; compliance/condition_keys.py).
                context["aws:SourceVpce"] = vpce
                if policy is not None:
                    endpoint_policies.append({"name": policy.name, "policy": policy.document})
            resource_policy, resource_tags = _resource_side(env, resource)
            for key, value in resource_tags.items():
                context[f"aws:ResourceTag/{key}"] = value
            identity = [policy for name in principal["policies"] for policy in (
                env.workload if name == "template:invoke" else env.developer if name == "template:developer" else
                [Policy(f"matrix:{name}", "identity", data["policies"][name])])]
            resource_account = p_account if ":foundation-model/" in resource or resource == "*" else account
            simulation: dict[str, Any] = {
                "request": {"principal": p_arn, "action": spec["action"],
                            "resource": {"resource": resource, "accountId": resource_account},
                            "contextVariables": context},
                "identityPolicies": [{"name": p.name, "policy": p.document} for p in identity],
                "serviceControlPolicies": ([{"orgIdentifier": "organization",
                                             "policies": [{"name": "FullAWSAccess", "policy": _FULL_ACCESS}]
                                             + [{"name": p.name, "policy": p.document} for p in organization_scps]}]
                                           if organization_scps else []),
                "resourceControlPolicies": ([{"orgIdentifier": "organization",
                                              "policies": [{"name": p.name, "policy": p.document}
                                                           for p in organization_rcps]}]
                                            if organization_rcps else []),
                "vpcEndpointPolicies": endpoint_policies,
            }
            if resource_policy is not None:
                simulation["resourcePolicy"] = resource_policy.document
                outcome.assumptions.append(f"resource policy: {resource_policy.name}")
            simulations.append({"id": f"{env.name}|{rid}", "simulation": simulation,
                                "_guard": _guard(spec, env, enforcement, resource, req_region, facts,
                                                  same_account=p_account == account)})
    return outcomes, simulations


def _resource_side(env: Environment, resource: str) -> tuple[Policy | None, dict[str, str]]:
    if resource in env.keys:
        return env.keys[resource]
    bucket = resource.split("/", 1)[0]
    if bucket in env.buckets:
        return env.buckets[bucket]
    return None, {}


def _guard(spec: Mapping[str, Any], env: Environment, enforcement: Sequence[Any], resource: str, region: str,
           facts: Mapping[str, Any], *, same_account: bool = True) -> str | None:
    """The enforcement that guards this request if IAM allows it (None: nothing does).

    The environment's account enforcement guards the calls of its own account only: another account's
    principal calling through this environment's endpoint is not guarded by it."""
    if spec["action"] not in facts["guardable_actions"]:
        return None
    model = _model_id(resource)
    for item in [*(env.enforcement if same_account else []), *enforcement]:
        if item.covers(region, model):
            return item.source
    return None


# ---- evaluation --------------------------------------------------------------------------------------
def _describe(entry: Mapping[str, Any], resource_policy: str | None = None) -> str:
    kind = {"identity": "identity policy", "resource": "resource policy", "scp": "SCP", "rcp": "RCP",
            "vpce": "endpoint policy", "pb": "permission boundary"}.get(entry.get("policyType"), entry.get("policyType"))
    name = entry.get("policyIdentifier") or (resource_policy if entry.get("policyType") == "resource" else None)
    if entry.get("denialType") == "Implicit":
        where = f"{kind} {name}" if name else {"identity policy": "identity policies", "SCP": "SCPs",
                                              "endpoint policy": "endpoint policy"}.get(kind, kind)
        return f"{where}: no statement allows it (implicit deny)"
    statement = entry.get("statementId") or f"statement {entry.get('statementIndex')}"
    return f"{kind} {name or entry.get('orgIdentifier') or ''}#{statement}".replace("  ", " ")


def prove(outdir: Path, acceptances: Iterable[Acceptance] = (), *, node_modules: Path | None = None,
          assembly: Assembly | None = None, role_names: Mapping[str, str] | None = None,
          cache_dir: Path | bool | None = True) -> Proof:
    """Simulate the matrix against every environment of the assembly in ``outdir`` (one Node process).

    ``role_names``: principal kind -> IAM role name (with path) where a deployment names it otherwise than
    the matrix, e.g. ``{"break-glass": "ops/emergency"}`` when the audit-plane denies exempt that role.
    ``cache_dir``: where decisions are cached (:mod:`.decision_cache`); True: its default location for
    ``outdir``; False or None: no cache (every distinct simulation is evaluated). The whole proof of an assembly
    read from ``outdir`` is kept there too (:mod:`.proof_cache`): an unchanged assembly is proven once.
    """
    acceptances = list(acceptances)
    directory = decision_cache.location(outdir) if cache_dir is True else (cache_dir or None)
    proof_key = None
    from . import proof_cache

    if assembly is None and directory is not None and proof_cache.enabled():
        located, _ = simulator.locate(node_modules)  # a kept proof stands for this simulator's answers only
        simulator.installed(located)
        proof_key = proof_cache.key(outdir, acceptances, role_names, decision_cache.fingerprint(located))
        kept = proof_cache.load(directory, proof_key)
        if kept is not None:
            return _proof_from(kept, directory)
    assembly = assembly or read(outdir)
    outcomes: list[Outcome] = []
    simulations: list[dict[str, Any]] = []
    scopes: dict[str, list[str]] = {}
    for env in assembly.environments:
        bound = assembly.organizations_of(env)
        if env.stack_set is not None and env.name not in scopes:
            scopes[env.name] = [
                f"The template of StackSet {env.stack_set.stack_set_name}, evaluated as its stack instance in each "
                f"target account and region ({', '.join(a + '/' + r for a, r in env.stack_set.instances)}); each "
                "request id ends with @<account>/<region>.", env.stack_set.deployment(),
                ("Organization policies applied: those of " + env.stack_set.holder + "." if bound
                 else "No organization policy of this assembly was applied (the StackSet is not service-managed "
                      "from a stack with organization policies).")]
        env_outcomes, env_simulations = _requests(
            env, [p for o in bound for p in o.scps], [p for o in bound for p in o.rcps],
            [e for o in bound for e in o.enforcement], role_names,
            organization_id=next((o.organization_id for o in bound if o.organization_id), None) or ORG_ID)
        outcomes += env_outcomes
        simulations += env_simulations
    counts = Counter(f"{o.environment}|{o.id}" for o in outcomes)
    duplicates = sorted(key for key, n in counts.items() if n > 1)
    if duplicates:  # results are keyed by id: a duplicate would be decided by another request's simulation
        raise PerimeterError(f"perimeter requests: duplicate request ids {', '.join(duplicates[:5])}; each request "
                             "needs an id of its own (requests.yaml for_each suffixes)")
    guards = {s["id"]: s.pop("_guard") for s in simulations}
    evaluation = decision_cache.evaluate(simulations, node_modules=node_modules, directory=directory) \
        if simulations else None
    info, results = (evaluation.simulator, evaluation.results) if evaluation else ({}, {})
    per_env: dict[str, list[str]] = {}
    for sim_id, digest in (evaluation.digests if evaluation else {}).items():
        per_env.setdefault(sim_id.split("|", 1)[0], []).append(digest)
    distinct = {env_name: (len(digests), len(set(digests))) for env_name, digests in per_env.items()}
    used: set[int] = set()
    for outcome in outcomes:
        key = f"{outcome.environment}|{outcome.id}"
        if key not in results:
            continue  # not applicable (note says why)
        result = results[key]
        outcome.simulator_result = result["result"]
        policy_name = next((a.split(": ", 1)[1] for a in outcome.assumptions if a.startswith("resource policy: ")), None)
        outcome.deciding = [_describe(e, policy_name) for e in (result.get("grants") or result.get("denials") or [])]
        if result.get("ignoredContextKeys"):
            outcome.assumptions.append("context keys the simulator does not apply to this action: "
                                       + ", ".join(sorted(result["ignoredContextKeys"])))
        allowed = result["result"] == "Allowed"
        if allowed and guards[key]:
            outcome.decision, outcome.guarded_by = "guarded", guards[key]
            outcome.assumptions.append("guarded: " + " ".join(matrix()["facts"]["guardable_assumption"].split())
                                       + " (" + ", ".join(matrix()["facts"]["guardable_sources"]) + ")")
        else:
            outcome.decision = "allowed" if allowed else "denied"
        ok = {"allow": outcome.decision in ("allowed", "guarded"), "deny": outcome.decision == "denied",
              "deny-or-guarded": outcome.decision in ("denied", "guarded")}[outcome.expect]
        if ok:
            outcome.verdict = "as-expected"
            continue
        for index, acceptance in enumerate(acceptances):
            if acceptance.covers(outcome.environment, outcome.id):
                outcome.verdict, outcome.accepted_reason = "accepted", acceptance.reason
                outcome.accepted_by, outcome.accepted_until = acceptance.approved_by, acceptance.expires
                used.add(index)
                break
        else:
            outcome.verdict = "open"
    # An acceptance scoped to environments this run does not build (``-c env=NAME``) is not judged here.
    built = {env.name for env in assembly.environments}
    stale = [a for i, a in enumerate(acceptances)
             if i not in used and (not a.environments or built & set(a.environments))]
    proof = Proof(info, outcomes, stale, scopes, evaluation.counts if evaluation else {}, distinct)
    if proof_key is not None:
        proof_cache.store(directory, proof_key, {
            "simulator": info, "outcomes": [_fields(o) for o in outcomes], "scopes": scopes,
            "stale": [asdict(a) for a in stale], "simulations": proof.simulations,
            "distinct": {env: list(pair) for env, pair in distinct.items()}})
    return proof


def _proof_from(kept: Mapping[str, Any], directory: Path) -> Proof:
    """A kept proof (:mod:`.proof_cache`) as this run's; its counts say every decision was read back."""
    counts = dict(kept["simulations"])
    if counts:
        counts = {"requests": counts["requests"], "distinct": counts["distinct"], "cached": counts["distinct"],
                  "simulated": 0}
        directory.mkdir(parents=True, exist_ok=True)
        decision_cache._write(directory / decision_cache.LAST_RUN, counts)
    return Proof(dict(kept["simulator"]), [Outcome(**o) for o in kept["outcomes"]],
                 [Acceptance(**{**a, "environments": tuple(a["environments"])}) for a in kept["stale"]],
                 {env: list(lines) for env, lines in kept["scopes"].items()}, counts,
                 {env: (pair[0], pair[1]) for env, pair in kept["distinct"].items()})


# ---- evidence ----------------------------------------------------------------------------------------
#: What the perimeter files are (every evidence file says it is pre-deployment evidence).
PERIMETER_BASIS = ("Pre-deployment evidence: each decision was simulated by an IAM policy simulator against the "
                   "policies of the synthesized templates, before deployment; it is not a test of deployed resources "
                   "or of AWS's own policy evaluation.")


def write_evidence(outdir: Path, proof: Proof) -> list[Path]:
    """``compliance/perimeter-<env>.json`` and ``.md`` per environment; the verdict into ``findings.json``."""
    directory = outdir / "compliance"
    directory.mkdir(exist_ok=True)
    from ...evidence.encoding import (
        dump_json,  # orjson: the stdlib's indenting encoder is pure Python (1.8 s at 50 envs)
    )

    written = []
    by_env: dict[str, list[Outcome]] = {}
    for o in proof.outcomes:
        by_env.setdefault(o.environment, []).append(o)
    for env in sorted(by_env):
        rows = by_env[env]
        document = {
            "evidence_basis": PERIMETER_BASIS,
            "environment": env,
            "simulator": proof.simulator,
            "assumptions": list(GENERAL_ASSUMPTIONS),
            **({"scope": proof.scopes[env]} if env in proof.scopes else {}),
            "passed": not [o for o in rows if o.verdict == "open"],
            "counts": _counts(rows),
            **({"simulations": {"requests": proof.distinct[env][0], "distinct": proof.distinct[env][1]}}
               if env in proof.distinct else {}),
            "requests": [_fields(o) for o in rows],
        }
        json_path = directory / f"perimeter-{env}.json"
        json_path.write_text(dump_json(document), encoding="utf-8")
        md_path = directory / f"perimeter-{env}.md"
        md_path.write_text(render_markdown(env, proof.simulator, rows, proof.scopes.get(env, ())), encoding="utf-8")
        written += [json_path, md_path]
    findings = directory / "findings.json"
    if findings.is_file():
        document = orjson.loads(findings.read_bytes())
        document["perimeter"] = {
            "passed": proof.passed,
            "blocking": [_fields(o) for o in proof.blocking],
            "accepted": [{"environment": o.environment, "id": o.id, "reason": o.accepted_reason,
                          "approved_by": o.accepted_by, "expires": o.accepted_until}
                         for o in proof.outcomes if o.verdict == "accepted"],
            "stale_acceptances": [asdict(a) for a in proof.stale_acceptances],
        }
        document["passed"] = bool(document.get("passed")) and proof.passed
        findings.write_text(dump_json(document), encoding="utf-8")
    from ..sarif import add_perimeter

    add_perimeter(outdir, proof)  # findings.sarif too: open and accepted paths, stale acceptances
    return written


def _fields(outcome: Outcome) -> dict[str, Any]:
    """``dataclasses.asdict`` without its deep copy (2 s for 11,000 requests): the document is serialized at once and
    never changed, so the outcome's own lists and mappings can be handed over as they are."""
    return {name: getattr(outcome, name) for name in _OUTCOME_FIELDS}


_OUTCOME_FIELDS = tuple(f.name for f in fields(Outcome))


def _counts(rows: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in rows:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    return dict(sorted(counts.items()))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(env: str, info: Mapping[str, Any], rows: Sequence[Outcome], scope: Sequence[str] = ()) -> str:
    version = f"{info.get('name', simulator.PACKAGE)} {info.get('version', '')}".strip()
    lines = [
        f"# Perimeter proof: {env}",
        "",
        f"> {PERIMETER_BASIS}",
        "",
        f"Every request below was evaluated by {version} (AGPL-3.0, run as a separate process) against the "
        "policies this synth deploys: identity, VPC endpoint, KMS key, S3 bucket policies and any organization "
        "SCPs/RCPs of the assembly. *guarded* means IAM allows the call and AWS applies the guardrail anyway "
        "(account or organization enforcement); it is never counted as denied.",
        "",
        "Simulated under these assumptions: " + "; ".join(GENERAL_ASSUMPTIONS) + ".",
        "",
        *([" ".join(scope), ""] if scope else []),
        f"Counts: {', '.join(f'{k} {v}' for k, v in _counts(rows).items())}.",
        "",
        "| Request | Principal | Action | Via | Expected | Decision | Decided by | Controls | Verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in rows:
        decided = "; ".join(o.deciding) or (o.note or "")
        if o.guarded_by:
            decided += f"; guardrail enforced by {o.guarded_by}"
        verdict = o.verdict + (f": {o.accepted_reason}" if o.accepted_reason else "")
        lines.append("| " + " | ".join(_cell(c) for c in (
            f"`{o.id}`", o.principal, f"`{o.action}`", o.via, o.expect, f"**{o.decision}**", decided,
            ", ".join(o.controls), verdict)) + " |")
    lines += ["", "Resources and context of each request, and per-request assumptions: "
              f"`perimeter-{env}.json`.", ""]
    return "\n".join(lines)
