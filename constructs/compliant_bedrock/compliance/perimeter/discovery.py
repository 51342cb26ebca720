"""Every policy the cloud assembly deploys, found by resource type, with intrinsics resolved.

Nothing here knows which construct wrote a policy: identity policies (managed, inline, a role's
inline ``Policies``), VPC endpoint policies, KMS key policies, S3 bucket policies, Organizations SCPs
and RCPs (from any stack of the assembly) and guardrail enforcement (an account's
``AWS::Bedrock::EnforcedGuardrailConfiguration``, an Organizations ``BEDROCK_POLICY``) are collected
by type, so a policy another part of the library adds is evaluated without changing the proof.

A StackSet's ``TemplateBody`` (``AWS::CloudFormation::StackSet``, e.g. the per-account baseline) is read as
the stack instance each of its target accounts and regions gets (``StackSet-<name>-<uuid>``): one
:class:`Environment` per account and region, named like its evidence (``baseline``), bound by the
organization policies of the stack that deploys it when the StackSet is service-managed, and by the account
enforcement (``AWS::Bedrock::EnforcedGuardrailConfiguration``) that a StackSet of that stack it is ordered with
(``DependsOn``) deploys to the same account and region (the member baseline's, for the instances of its replica
StackSet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...evidence.assembly import StackSetTemplate, _metadata_paths, environment_of, stack_sets
from .placeholders import DEFAULT_ACCOUNT, Resolver, digest

AUDIT_TAG = "compliant-bedrock:audit"
#: Metadata of the Codex policy (``model_access.CODEX_POLICY_METADATA``) and of the developer role it is for.
CODEX_POLICY_METADATA = "compliant-bedrock:codex-policy"
DEVELOPER_ROLE_METADATA = "compliant-bedrock:developer-role"
#: Actions whose Allow marks a managed policy as the package's invoke policy (what a workload holds).
INVOKE_ACTIONS = ("bedrock:invokemodel", "bedrock:invokemodelwithresponsestream", "bedrock-mantle:createinference")


@dataclass(frozen=True)
class Policy:
    """One policy document of the assembly, named as an auditor finds it (the construct path)."""

    name: str
    kind: str  # identity | endpoint | key | bucket | scp | rcp
    document: dict[str, Any]


@dataclass
class Enforcement:
    """A guardrail AWS applies whatever the request says (account or organization level)."""

    source: str
    region: str
    included: tuple[str, ...] = ("ALL",)
    excluded: tuple[str, ...] = ()

    def covers(self, region: str, model_id: str | None) -> bool:
        if region != self.region or model_id is None:
            return False
        if model_id in self.excluded:
            return False
        return "ALL" in self.included or model_id in self.included


@dataclass
class Environment:
    """One environment stack: its placeholders and every policy that decides requests against it."""

    name: str
    stack: str
    region: str
    resolver: Resolver
    identity: list[Policy] = field(default_factory=list)
    workload: list[Policy] = field(default_factory=list)
    #: The Codex policy (``BedrockModelAccess.codex_policy``): what a developer's Identity Center role holds.
    developer: list[Policy] = field(default_factory=list)
    #: The developer's role (path and name), as the stack records it on the Codex policy; None: not yet assigned.
    developer_role: str | None = None
    #: (path, name) of the Codex policies: an Identity Center permission set that references one is the developer's.
    developer_policy_names: set[tuple[str, str]] = field(default_factory=set)
    endpoints: dict[str, tuple[str, Policy | None]] = field(default_factory=dict)
    keys: dict[str, tuple[Policy | None, dict[str, str]]] = field(default_factory=dict)
    buckets: dict[str, tuple[Policy | None, dict[str, str]]] = field(default_factory=dict)
    audit_keys: list[tuple[str, str]] = field(default_factory=list)   # (label, arn)
    audit_buckets: list[tuple[str, str]] = field(default_factory=list)
    trails: list[tuple[str, str]] = field(default_factory=list)
    #: The package's deputies: functions, detection rules and topics, Mantle projects (label, arn).
    functions: list[tuple[str, str]] = field(default_factory=list)
    rules: list[tuple[str, str]] = field(default_factory=list)
    topics: list[tuple[str, str]] = field(default_factory=list)
    mantle_projects: list[tuple[str, str]] = field(default_factory=list)
    guardrail_arn: str | None = None
    guardrail_versioned_arn: str | None = None
    enforcement: list[Enforcement] = field(default_factory=list)
    #: Audit log groups (tagged compliant-bedrock:audit=true): (label, ARN of the log group).
    audit_log_groups: list[tuple[str, str]] = field(default_factory=list)
    #: A StackSet's stack instance: the StackSet, and ``@<account>/<region>`` (its request ids end with it).
    stack_set: StackSetTemplate | None = None
    instance: str = ""

    @property
    def account(self) -> str:
        return self.resolver.account

    @property
    def partition(self) -> str:
        return self.resolver.partition


@dataclass
class Organization:
    scps: list[Policy] = field(default_factory=list)
    rcps: list[Policy] = field(default_factory=list)
    enforcement: list[Enforcement] = field(default_factory=list)
    #: From the organization stack's ``compliant-bedrock:organization`` metadata, when it carries one.
    organization_id: str | None = None
    #: The stack that holds these policies (a StackSet of that stack deploys below their targets).
    stack: str | None = None
    partition: str | None = None
    #: Environments whose accounts are below the policies' targets; None: unknown, every environment.
    covers: frozenset[str] | None = None
    #: environment -> endpoint service -> the endpoint id the SCPs admit (recorded after deployment).
    endpoint_ids: dict[str, dict[str, str]] = field(default_factory=dict)

    def applies_to(self, env: Environment) -> bool:
        """An organization's policies bind the accounts below its targets, in its own partition only
        (GovCloud and ISO accounts belong to organizations of their own)."""
        if self.partition is not None and self.partition != env.partition:
            return False
        if env.stack_set is not None:  # a service-managed StackSet deploys below the targets of its stack's policies
            return env.stack_set.permission_model == "SERVICE_MANAGED" and bool(env.stack_set.policies)
        return self.covers is None or env.name in self.covers


@dataclass
class Assembly:
    environments: list[Environment]
    #: One per stack that holds organization policies (one organization per partition, or a custom app's).
    organizations: list[Organization] = field(default_factory=list)

    def organizations_of(self, env: Environment) -> list[Organization]:
        """The organizations whose policies bind ``env``'s account (at most one per partition in a valid config)."""
        return [org for org in self.organizations if org.applies_to(env)]


def _tags(props: dict[str, Any]) -> dict[str, str]:
    tags = props.get("Tags") or []
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)}


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement") or []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants_invoke(document: dict[str, Any]) -> bool:
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if any(str(a).lower() in INVOKE_ACTIONS for a in _as_list(statement.get("Action") or [])):
            return True
    return False


def endpoint_document(document: dict[str, Any]) -> dict[str, Any]:
    """The endpoint policy as the simulator accepts it: ``{"AWS": "*"}`` written as ``"*"``.

    AWS treats both spellings of the anonymous principal alike in an endpoint policy; the simulator
    validates endpoint policies strictly and accepts only ``"*"``."""
    out = dict(document)
    out["Statement"] = [
        {**s, "Principal": "*"} if s.get("Principal") in ({"AWS": "*"}, {"AWS": ["*"]}) else s
        for s in _statements(document)
    ]
    return out


def _org_content(content: Any) -> Any:
    return json.loads(content) if isinstance(content, str) else content


def _bedrock_policy_enforcement(name: str, content: Any) -> list[Enforcement]:
    """Regions and models an Organizations Bedrock policy (``guardrail_inference``) guards."""
    def assigned(node: Any) -> Any:
        return node.get("@@assign") if isinstance(node, dict) else node

    found: list[Enforcement] = []
    regions = ((content or {}).get("bedrock") or {}).get("guardrail_inference") or {}
    for region, configs in regions.items():
        for config in (configs or {}).values():
            if not isinstance(config, dict) or not assigned(config.get("identifier")):
                continue
            models = config.get("model_enforcement") or {}
            included = assigned(models.get("included_models")) or ["ALL"]
            excluded = assigned(models.get("excluded_models")) or []
            found.append(Enforcement(name, region, tuple(included), tuple(excluded)))
    return found


#: Template metadata of an organization stack: its id, partition and the environments its policies cover.
ORGANIZATION_METADATA = "compliant-bedrock:organization"


def read(outdir: Path) -> Assembly:
    """The environments and organization policies of the cloud assembly in ``outdir``."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    environments: list[Environment] = []
    organizations: list[Organization] = []
    stacks = []
    #: environment -> endpoint service -> the id its organization's SCP admits (from every organization stack)
    endpoint_ids: dict[str, dict[str, str]] = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact.get("properties") or {}
        template = json.loads((outdir / props["templateFile"]).read_text(encoding="utf-8"))
        stacks.append((artifact_id, artifact, props, template))
        scope = (template.get("Metadata") or {}).get(ORGANIZATION_METADATA)
        if isinstance(scope, dict) and isinstance(scope.get("endpoint_ids"), dict):
            endpoint_ids.update(scope["endpoint_ids"])
    #: Identity Center permission sets of every stack: (label, referenced (path, name) pairs, inline policy).
    permission_sets: list[tuple[str, set[tuple[str, str]], dict[str, Any]]] = []
    for artifact_id, artifact, props, template in stacks:
        stack = props.get("stackName") or artifact_id
        _, _, env_part = (artifact.get("environment") or "aws://unknown-account/unknown-region").partition("://")
        account, _, region = env_part.partition("/")
        region = region if not region.startswith("unknown") else "us-east-1"
        account = account if account.isdigit() else DEFAULT_ACCOUNT
        resolver = Resolver(template, stack, region, account)
        env_name = environment_of(outdir, artifact_id, artifact)
        recorded = endpoint_ids.get(env_name) or {}
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == "AWS::EC2::VPCEndpoint" and recorded:
                service = _service(resolver, resource)
                if service in recorded:  # the id the organization's SCP admits for this endpoint
                    resolver.known_names[logical_id] = recorded[service]
        paths = {lid: path for lid, r in (template.get("Resources") or {}).items()
                 if isinstance(path := (r.get("Metadata") or {}).get("aws:cdk:path"), str)}
        paths.update(_metadata_paths(outdir, artifact))
        organization = Organization(endpoint_ids=endpoint_ids)
        scope = (template.get("Metadata") or {}).get(ORGANIZATION_METADATA)
        if isinstance(scope, dict):
            organization.organization_id = scope.get("organization_id")
            organization.partition = scope.get("partition")
            covers = scope.get("covers_environments")
            organization.covers = frozenset(covers) if isinstance(covers, list) else None
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == "AWS::SSO::PermissionSet":
                raw = resource.get("Properties") or {}
                refs = {(str(r.get("Path") or "/"), str(r.get("Name"))) for r in raw.get("CustomerManagedPolicyReferences")
                        or [] if isinstance(r, dict)}
                inline = _org_content(resolver.value(raw.get("InlinePolicy") or {}))
                permission_sets.append((_label(paths, stack, logical_id), refs, inline if isinstance(inline, dict) else {}))
        env = _read_stack(stack, env_name, template, resolver, paths, organization)
        if env is not None:
            environments.append(env)
        if isinstance(scope, dict) or organization.scps or organization.rcps or organization.enforcement:
            organization.stack = stack
            organizations.append(organization)
    # A permission set (in the stack of the account that administers Identity Center) that references an environment's
    # Codex policy by name is what its developers' role holds besides that policy: its inline policy joins theirs.
    for env in environments:
        for label, refs, inline in permission_sets:
            if env.developer_policy_names & refs and _statements(inline):
                env.developer.append(Policy(label, "identity", inline))
    instances = [instance_environment(stack_set, account, region)
                 for stack_set in stack_sets(outdir) for account, region in stack_set.instances]
    # An account's enforced guardrail binds its account and region whichever stack created it: an instance is also
    # guarded by the enforcement a StackSet it is ordered with (DependsOn, same stack) deploys there (the baseline's,
    # for the instances of its replica StackSet).
    own = {id(env): list(env.enforcement) for env in instances}
    for env in instances:
        for other in instances:
            if other is not env and _deployed_together(env, other):
                env.enforcement += own[id(other)]
    return Assembly(environments + instances, organizations)


def _deployed_together(env: Environment, other: Environment) -> bool:
    """Two StackSets' instances in one account and region, the StackSets of one stack and ordered by DependsOn."""
    one, two = env.stack_set, other.stack_set
    return (one is not None and two is not None and one.holder == two.holder
            and (two.stack_set_name in one.linked or one.stack_set_name in two.linked)
            and (env.account, env.region) == (other.account, other.region))


def instance_stack_name(stack_set: StackSetTemplate, account: str, region: str) -> str:
    """The stack a StackSet creates in ``account`` and ``region``: ``StackSet-<name>-<uuid>`` (a stable uuid)."""
    h = digest(stack_set.stack_set_name, account, region, length=32)
    return f"StackSet-{stack_set.stack_set_name}-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def instance_environment(stack_set: StackSetTemplate, account: str, region: str) -> Environment:
    """The StackSet's template resolved as its stack instance in ``account`` and ``region``."""
    template = stack_set.template
    stack = instance_stack_name(stack_set, account, region)
    # Organization policies in a StackSet's template would bind nobody: they are not collected from it.
    env = _read_stack(stack, stack_set.environment, template, Resolver(template, stack, region, account),
                      stack_set.paths, Organization(), always=True)
    assert env is not None
    env.stack_set, env.instance = stack_set, f"@{account}/{region}"
    return env


def _service(resolver: Resolver, resource: dict[str, Any]) -> str:
    """The endpoint's service as configs name it (``com.amazonaws.us-east-1.bedrock-runtime-fips`` -> ``bedrock-runtime``)."""
    raw = (resource.get("Properties") or {}).get("ServiceName", "")
    return str(resolver.value(raw)).rsplit(".", 1)[-1].removesuffix("-fips")


def _label(paths: dict[str, str], stack: str, logical_id: str) -> str:
    path = paths.get(logical_id)
    if path:
        return path.removesuffix("/Resource")
    return f"{stack}/{logical_id}"


def _read_stack(stack: str, env_name: str, template: dict[str, Any], resolver: Resolver, paths: dict[str, str],
                organization: Organization, *, always: bool = False) -> Environment | None:
    resources: dict[str, Any] = template.get("Resources") or {}
    env = Environment(env_name, stack, resolver.region, resolver)
    is_environment = False
    trail_keys: set[str] = set()
    for logical_id, resource in sorted(resources.items()):
        rtype = resource.get("Type", "")
        raw = resource.get("Properties") or {}
        label = _label(paths, stack, logical_id)
        if rtype in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            document = resolver.value(raw.get("PolicyDocument") or {})
            policy = Policy(label, "identity", document)
            env.identity.append(policy)
            metadata = resource.get("Metadata") or {}
            if rtype == "AWS::IAM::ManagedPolicy" and metadata.get(CODEX_POLICY_METADATA):
                env.developer.append(policy)  # a developer's policy, not the workload's
                if isinstance(raw.get("ManagedPolicyName"), str):
                    env.developer_policy_names.add((str(raw.get("Path") or "/"), raw["ManagedPolicyName"]))
                role = metadata.get(DEVELOPER_ROLE_METADATA)
                env.developer_role = str(role) if role else env.developer_role
                is_environment = True
            elif rtype == "AWS::IAM::ManagedPolicy" and grants_invoke(document):
                env.workload.append(policy)
                is_environment = True
        elif rtype == "AWS::IAM::Role":
            for inline in raw.get("Policies") or []:
                name = resolver.value(inline.get("PolicyName", "inline"))
                env.identity.append(Policy(f"{label}/{name}", "identity", resolver.value(inline.get("PolicyDocument"))))
        elif rtype == "AWS::EC2::VPCEndpoint":
            service = _service(resolver, resource)
            document = raw.get("PolicyDocument")
            policy = Policy(label, "endpoint", endpoint_document(resolver.value(document))) if document else None
            env.endpoints.setdefault(service, (resolver.name(logical_id), policy))
            is_environment = is_environment or service.startswith("bedrock")
        elif rtype == "AWS::KMS::Key":
            document = raw.get("KeyPolicy")
            arn = resolver.resource_arn(logical_id)
            tags = _tags(raw)
            env.keys[arn] = (Policy(label, "key", resolver.value(document)) if document else None, tags)
            if tags.get(AUDIT_TAG) == "true":
                env.audit_keys.append((label, arn))
        elif rtype == "AWS::S3::Bucket":
            tags = _tags(raw)
            arn = resolver.resource_arn(logical_id)
            env.buckets.setdefault(arn, (None, tags))
            locked = str(resolver.value(raw.get("ObjectLockEnabled", False))).lower() == "true"
            if locked or tags.get(AUDIT_TAG) == "true":
                env.audit_buckets.append((label, arn))
                for rule in ((raw.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []):
                    key = (rule.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID")
                    if key is not None:
                        trail_keys.add(str(resolver.value(key)))
        elif rtype == "AWS::CloudTrail::Trail":
            env.trails.append((label, resolver.resource_arn(logical_id)))
            if raw.get("KMSKeyId") is not None:
                trail_keys.add(str(resolver.value(raw["KMSKeyId"])))
        elif rtype == "AWS::Lambda::Function":
            env.functions.append((label, resolver.resource_arn(logical_id)))
        elif rtype == "AWS::Logs::LogGroup" and _tags(raw).get(AUDIT_TAG) == "true":
            env.audit_log_groups.append((label, resolver.resource_arn(logical_id).removesuffix(":*")))
        elif rtype == "AWS::Events::Rule":
            env.rules.append((label, resolver.resource_arn(logical_id)))
        elif rtype == "AWS::SNS::Topic":
            env.topics.append((label, resolver.resource_arn(logical_id)))
        elif rtype == "AWS::BedrockMantle::Project":
            env.mantle_projects.append((label, resolver.resource_arn(logical_id)))
        elif rtype == "AWS::Bedrock::Guardrail":
            env.guardrail_arn = resolver.resource_arn(logical_id)
        elif rtype == "AWS::Bedrock::GuardrailVersion" and env.guardrail_arn is None:
            env.guardrail_arn = str(resolver.value(raw.get("GuardrailIdentifier")))
        elif rtype == "AWS::Bedrock::EnforcedGuardrailConfiguration":
            enforcement = resolver.value(raw.get("ModelEnforcement") or {})
            env.enforcement.append(Enforcement(label, resolver.region, tuple(enforcement.get("IncludedModels") or ["ALL"]),
                                               tuple(enforcement.get("ExcludedModels") or [])))
        elif rtype == "AWS::Organizations::Policy":
            kind = str(raw.get("Type", ""))
            content = _org_content(resolver.value(raw.get("Content")))
            if kind == "SERVICE_CONTROL_POLICY":
                organization.scps.append(Policy(label, "scp", content))
            elif kind == "RESOURCE_CONTROL_POLICY":
                organization.rcps.append(Policy(label, "rcp", content))
            elif kind == "BEDROCK_POLICY":
                organization.enforcement.extend(_bedrock_policy_enforcement(label, content))
    for logical_id, resource in sorted(resources.items()):
        if resource.get("Type") == "AWS::S3::BucketPolicy":
            raw = resource.get("Properties") or {}
            bucket = str(resolver.value(raw.get("Bucket")))
            arn = f"arn:{resolver.partition}:s3:::{bucket}"
            tags = env.buckets.get(arn, (None, {}))[1]
            env.buckets[arn] = (Policy(_label(paths, stack, logical_id), "bucket", resolver.value(raw["PolicyDocument"])), tags)
        if resource.get("Type") == "AWS::Bedrock::GuardrailVersion" and env.guardrail_arn:
            env.guardrail_versioned_arn = f"{env.guardrail_arn}:{resolver.get_att(logical_id, 'Version')}"
    for label, arn in _key_labels(env, paths, resources, resolver):
        if (arn in trail_keys or arn.rsplit("/", 1)[-1] in trail_keys) and (label, arn) not in env.audit_keys:
            env.audit_keys.append((label, arn))
    env.audit_keys.sort()
    env.audit_buckets.sort()
    env.audit_log_groups.sort()
    return env if is_environment or always else None


def _key_labels(env: Environment, paths: dict[str, str], resources: dict[str, Any], resolver: Resolver):
    for logical_id, resource in sorted(resources.items()):
        if resource.get("Type") == "AWS::KMS::Key":
            yield _label(paths, env.stack, logical_id), resolver.resource_arn(logical_id)
