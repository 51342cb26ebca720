"""IAM that lets callers invoke named models only, on named paths, only through the endpoints, with the
guardrail wherever AWS can apply one, and denies everything around that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.aws_bedrockmantle import CfnProject
from constructs import Construct

if TYPE_CHECKING:
    from .guardrail import BedrockGuardrail

from .arns import every_runtime_project_arn, route_arns, runtime_project_arn

# The perimeter proof's developer principal holds the policy this metadata marks (and the role it names).
from .compliance.perimeter.discovery import CODEX_POLICY_METADATA, DEVELOPER_ROLE_METADATA
from .compliance.suppressions import RiskAcceptance, accept_risk, suppress
from .errors import ConstructPropsError
from .model_standing import check_construct_models
from .models import (
    INVOKE_ACTIONS,
    MANTLE_PROJECT_PATTERN,
    InferencePath,
    ModelRoute,
    resolve_model,
)
from .policy_size import MANAGED_POLICY_MAX_CHARS, policy_length
from .private_link import BedrockPrivateLink, BedrockService

#: Mantle inference: start a response or chat completion. Get/Cancel/Delete act on stored or background
#: responses and are granted only with ``mantle_stored_responses``.
MANTLE_CREATE_ACTIONS: tuple[str, ...] = ("bedrock-mantle:CreateInference",)
MANTLE_STORED_ACTIONS: tuple[str, ...] = (
    "bedrock-mantle:GetInference", "bedrock-mantle:CancelInference", "bedrock-mantle:DeleteInference",
)
#: Every Mantle action that runs or reads inference (CountTokens also carries ``bedrock-mantle:Model``).
MANTLE_INFERENCE_ACTIONS: tuple[str, ...] = (
    *MANTLE_CREATE_ACTIONS, *MANTLE_STORED_ACTIONS, "bedrock-mantle:CountTokens",
)
#: Both namespaces' bearer-token (API key) actions: denying both is the only way to stop key use.
API_KEY_ACTIONS: tuple[str, ...] = ("bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken")
#: Project and data-retention changes a workload role must never make (SAR list_bedrock-mantle).
PROJECT_CHANGE_ACTIONS: tuple[str, ...] = (
    "bedrock-mantle:CreateProject", "bedrock-mantle:UpdateProject", "bedrock-mantle:ArchiveProject",
    "bedrock-mantle:PutAccountDataRetention", "bedrock:PutAccountDataRetention",
)
#: Bedrock Managed Agents powered by OpenAI (public preview; bedrock-managed-agents-openai-security.html):
#: the client's session actions and a self-hosted exec server's. AWS offers no CloudFormation resource for
#: agents or sessions, so the package can only deny or allow these actions.
MANAGED_AGENT_ACTIONS: tuple[str, ...] = (
    "bedrock-mantle:CreateAgentSession", "bedrock-mantle:GetAgentSession", "bedrock-mantle:ListAgentSessions",
    "bedrock-mantle:CreateAgentSessionEvent", "bedrock-mantle:ListAgentSessionEvents",
    "bedrock-mantle:ListAgentSessionItems", "bedrock-mantle:DeleteAgentSession",
    "bedrock-mantle:RegisterEnvironment", "bedrock-mantle:ConnectEnvironment",
)
#: Read-only Mantle calls clients such as Codex make (model list).
MANTLE_READ_ACTIONS: tuple[str, ...] = ("bedrock-mantle:GetModel", "bedrock-mantle:ListModels")
#: The rule every unguarded-path grant fails unless the environment accepted that path's risk.
UNGUARDED_RULE = "Bedrock-UnguardedInferencePath"


class BedrockModelAccess(Construct):
    """A managed policy that allows inference on named models and paths and denies everything around them.

    Runtime Converse (guarded) statements:

    * ``AllowInvokeOfNamedModels``: ``bedrock:InvokeModel`` and ``InvokeModelWithResponseStream`` (Converse
      and ConverseStream authorize as these) on the ARN each id names (in-region foundation model or
      inference profile), only with the guardrail's versioned ARN as ``bedrock:GuardrailIdentifier`` and
      only via the runtime endpoint (``aws:SourceVpce``). AC-3, AC-6, AC-4.
    * ``AllowInvokeThroughNamedProfiles``: the destination foundation models of cross-region profiles, with
      the same conditions plus ``bedrock:InferenceProfileArn`` = the named profiles, so a destination model
      cannot be called directly (AWS's recommendation for profiles).
    * ``AllowApplyOfTheGuardrail``, ``DenyInvokeWithoutTheGuardrail`` (``StringNotEquals``, which also
      denies calls without a guardrail), ``DenyInvokeOutsideTheEndpoint``, ``DenyInvokeOfUnlistedModels``
      (``NotResource``).

    Runtime OpenAI-compatible APIs (Responses, Chat Completions under ``/openai/v1``; no guardrail applies):
    with ``openai_api_model_ids``, ``AllowUnguardedOpenAiApi*`` statements allow the models only as part of
    a project call (``bedrock:ProjectArn`` = ``project/default``) and ``bedrock:InvokeModel`` on
    ``project/default`` only for those models (``bedrock:ModelArn``); ``DenyOpenAiApiForOtherModels``
    and ``DenyNonProjectInvokeWithoutTheGuardrail`` close the rest. Without them,
    ``DenyOpenAiCompatibleApis`` denies invoke on every ``project/*``, so the unguarded API cannot be
    reached by accident.

    Mantle (no guardrail, no invocation logging): with ``mantle_model_ids``,
    ``AllowUnguardedMantleInference`` allows ``bedrock-mantle:CreateInference`` on the one project only,
    ``StringEquals bedrock-mantle:Model`` = the named ids, through the Mantle endpoint; Denies of other
    models, other projects and calls outside the endpoint surround it. Without them,
    ``DenyMantleInference`` denies Mantle inference everywhere.

    Always: ``DenyApiKeys`` (``bedrock:`` and ``bedrock-mantle:CallWithBearerToken``) and
    ``DenyProjectAndRetentionChanges``; unless ``managed_agents``, a second managed policy
    (``managed_agents_policy``, attached by ``grant_invoke`` too) with ``DenyManagedAgentSessions`` and
    ``DenyPassRoleToManagedAgents`` (``iam:PassedToService`` = ``bedrock-mantle.amazonaws.com``).

    These bind the principals the policy is attached to, nothing else: an account-wide guarantee needs an
    SCP or RCP. Attach one ``BedrockModelAccess`` per role: its Denies close every path it does not open
    (a guarded-only policy denies Mantle and the OpenAI-compatible APIs), so two on one role open nothing
    the first denies. Separate roles for unguarded paths are also the clearer boundary for auditors. Unguarded paths (runtime OpenAI-compatible, Mantle) fail ``Bedrock-UnguardedInferencePath``
    unless ``accept_unguarded`` names an approved ``RiskAcceptance`` for that path; it becomes the reason.

    Roles that Bedrock itself uses on your behalf (Knowledge Bases, agents, RetrieveAndGenerate)
    must be built with ``require_vpc_endpoint=False`` and ``require_guardrail=False``: Bedrock's own
    calls carry no ``aws:SourceVpce``, and those APIs reject the guardrail condition.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_ids: Sequence[str] = (),
        guardrail: BedrockGuardrail | None = None,
        private_link: BedrockPrivateLink | None = None,
        guardrail_arn: str | None = None,
        guardrail_profile_arns: Sequence[str] = (),
        guardrail_versioned_arn: str | None = None,
        runtime_endpoint: ec2.IVpcEndpoint | None = None,
        require_vpc_endpoint: bool = True,
        require_guardrail: bool = True,
        openai_api_model_ids: Sequence[str] = (),
        mantle_model_ids: Sequence[str] = (),
        mantle_project_arn: str | None = None,
        mantle_endpoint: ec2.IVpcEndpoint | None = None,
        mantle_stored_responses: bool = False,
        managed_agents: bool = False,
        accept_unguarded: Mapping[InferencePath | str, RiskAcceptance] | None = None,
        description: str | None = None,
        allow_unverified_models: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model_ids: runtime ids reached through Converse/Invoke with the guardrail (see ``models``).
            Default with ``private_link`` and no other model list: the models that endpoint lets through, so
            the list is written once.
        :param guardrail: the :class:`compliant_bedrock.guardrail.BedrockGuardrail` of this stack: sets ``guardrail_arn``,
            ``guardrail_profile_arns`` and ``guardrail_versioned_arn`` (pass those three instead for a
            guardrail you import by ARN).
        :param private_link: the :class:`compliant_bedrock.private_link.BedrockPrivateLink` callers come through: sets ``runtime_endpoint`` and
            ``mantle_endpoint`` (pass those instead for imported endpoints).
        :param guardrail_arn: the guardrail's ARN (``ApplyGuardrail`` resource).
        :param guardrail_profile_arns: for a STANDARD-tier guardrail, its guardrail-profile ARNs in each
            destination region (``BedrockGuardrail.profile_arns``): ApplyGuardrail is checked there too.
        :param guardrail_versioned_arn: ``<guardrail ARN>:<version>``, the required
            ``bedrock:GuardrailIdentifier``; a bare ARN would mean the mutable DRAFT.
        :param runtime_endpoint: the ``bedrock-runtime`` interface endpoint callers must come through.
        :param require_vpc_endpoint: add the ``aws:SourceVpce`` conditions and denies. Default true.
        :param require_guardrail: add the guardrail condition and deny. Default true.
        :param openai_api_model_ids: runtime ids reached through Responses/Chat Completions (no guardrail).
        :param mantle_model_ids: bedrock-mantle ids (e.g. ``openai.gpt-5.5``) allowed on ``mantle_project_arn``.
        :param mantle_project_arn: the dedicated ``AWS::BedrockMantle::Project``'s ARN (never default or ``*``).
        :param mantle_endpoint: the ``bedrock-mantle`` endpoint Mantle calls must come through.
        :param mantle_stored_responses: also allow Get/Cancel/DeleteInference (stored or background responses).
        :param managed_agents: do not deny Bedrock Managed Agents session actions (an unguarded Mantle path:
            needs ``accept_unguarded['mantle']``).
        :param accept_unguarded: path -> approved ``RiskAcceptance``; the suppression reason of the
            unguarded-path rule on this policy.
        :param allow_unverified_models: model id -> why it is taken although the model catalog does not know it
            (or marks it UNCERTAIN) for this stack's region (at least 8 words: how it was confirmed there, by whom).
            Without it such an id is refused; an id the catalog knows is not served here is refused always
            (the message names the regions that serve it). Ids accepted by ``private_link`` need not be repeated.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = f"BedrockModelAccess {construct_id!r}"
        if guardrail is not None:
            if guardrail_arn or guardrail_versioned_arn or guardrail_profile_arns:
                raise ConstructPropsError(f"{name}: guardrail and guardrail_arn/guardrail_versioned_arn/"
                                          "guardrail_profile_arns both given; pass one or the other")
            guardrail_arn, guardrail_versioned_arn = guardrail.guardrail_arn, guardrail.versioned_arn
            guardrail_profile_arns = guardrail.profile_arns
        if guardrail_arn is None or guardrail_versioned_arn is None:
            raise ConstructPropsError(f"{name}: no guardrail; pass guardrail=<BedrockGuardrail>, or guardrail_arn and "
                                      "guardrail_versioned_arn of an imported one")
        if private_link is not None:
            if runtime_endpoint is not None or mantle_endpoint is not None:
                raise ConstructPropsError(f"{name}: private_link and runtime_endpoint/mantle_endpoint both given; pass "
                                          "one or the other")
            runtime_endpoint = private_link.runtime_endpoint
            mantle_endpoint = private_link.endpoints.get(BedrockService.MANTLE)
            if not (model_ids or openai_api_model_ids or mantle_model_ids):
                model_ids = [route.model_id for route in private_link.model_routes]
        accepted = {InferencePath(k): v for k, v in (accept_unguarded or {}).items()}
        if not (model_ids or openai_api_model_ids or mantle_model_ids):
            raise ConstructPropsError(f"{name}: model_ids, openai_api_model_ids and mantle_model_ids are all empty; name the "
                             "models to allow")
        if require_vpc_endpoint and (model_ids or openai_api_model_ids) and runtime_endpoint is None:
            raise ConstructPropsError(f"{name}: require_vpc_endpoint needs runtime_endpoint; pass "
                             "BedrockPrivateLink.runtime_endpoint, or set require_vpc_endpoint=False for a role Bedrock "
                             "assumes on your behalf")
        if mantle_model_ids and require_vpc_endpoint and mantle_endpoint is None:
            raise ConstructPropsError(f"{name}: mantle_model_ids need mantle_endpoint when require_vpc_endpoint is true; "
                             "create the bedrock-mantle endpoint (BedrockPrivateLink services)")
        if mantle_model_ids and not mantle_project_arn:
            raise ConstructPropsError(f"{name}: mantle_model_ids need mantle_project_arn, a dedicated AWS::BedrockMantle::Project "
                             "(aws_bedrockmantle.CfnProject(...).attr_arn); the default project is never granted")
        if mantle_project_arn and not Token.is_unresolved(mantle_project_arn) and (
                "*" in mantle_project_arn or mantle_project_arn.endswith("/default")):
            raise ConstructPropsError(f"{name}: mantle_project_arn {mantle_project_arn!r} is the default project or a "
                             "wildcard; pass a dedicated project's ARN")
        if managed_agents and not mantle_model_ids:
            raise ConstructPropsError(f"{name}: managed_agents=True needs mantle_model_ids (sessions run on Mantle inference)")
        if require_guardrail and not _names_a_version(guardrail_arn, guardrail_versioned_arn):
            raise ConstructPropsError(f"{name}: guardrail_versioned_arn {guardrail_versioned_arn!r} names no published "
                             "version (the bare ARN or :DRAFT is the mutable working draft); pass "
                             "BedrockGuardrail.versioned_arn")
        unused = sorted(p.value for p in accepted if not {InferencePath.RUNTIME_OPENAI: openai_api_model_ids,
                                                          InferencePath.MANTLE: mantle_model_ids}.get(p))
        if unused:
            raise ConstructPropsError(f"{name}: accept_unguarded names {unused}, which this policy does not open; remove them "
                             "(an acceptance of nothing reads as a standing pre-approval)")
        overlap = sorted(set(model_ids) & set(openai_api_model_ids))
        if overlap:
            raise ConstructPropsError(f"{name}: {overlap} are in both model_ids and openai_api_model_ids; name each model on "
                             "one runtime path")

        # Strict by default: an id the catalog cannot vouch for here is refused unless accepted in words.
        #: Model ids taken although the catalog cannot vouch for them here -> the reason given.
        self.accepted_unverified_models = check_construct_models(
            name, [*(("model_ids", m, InferencePath.RUNTIME_CONVERSE) for m in model_ids),
                   *(("openai_api_model_ids", m, InferencePath.RUNTIME_OPENAI) for m in openai_api_model_ids),
                   *(("mantle_model_ids", m, InferencePath.MANTLE) for m in mantle_model_ids)],
            None if Token.is_unresolved(stack.region) else stack.region, allow_unverified_models,
            inherited=private_link.accepted_unverified_models if private_link is not None else None)
        self.model_routes: list[ModelRoute] = [resolve_model(m, stack.region) for m in model_ids]
        self.openai_api_routes: list[ModelRoute] = [resolve_model(m, stack.region) for m in openai_api_model_ids]
        self.mantle_model_ids = list(mantle_model_ids)
        #: The accepted ids of ``accepted_unverified_models``, in prop order (what the evidence lists as unverified).
        self.unverified_model_ids = list(self.accepted_unverified_models)
        guarded_named, guarded_dest, guarded_profiles = _arns(stack, self.model_routes)
        openai_named, openai_dest, openai_profiles = _arns(stack, self.openai_api_routes)
        shared = sorted(set(guarded_named + guarded_dest) & set(openai_named + openai_dest))
        if shared and not any(Token.is_unresolved(a) for a in shared):
            raise ConstructPropsError(f"{name}: model_ids and openai_api_model_ids share foundation-model ARNs {shared}; the "
                             "guardrail Deny of the first would block the second. Use one path per model")
        self.model_arns = list(dict.fromkeys(guarded_named + guarded_dest))
        self.openai_api_arns = list(dict.fromkeys(openai_named + openai_dest))
        self.guardrail_arn = guardrail_arn
        self.guardrail_versioned_arn = guardrail_versioned_arn
        self.mantle_project_arn = mantle_project_arn
        default_project = runtime_project_arn(stack)
        runtime_arns = [*self.model_arns, *self.openai_api_arns]
        if openai_api_model_ids:
            runtime_arns.append(default_project)

        vpce = {"aws:SourceVpce": runtime_endpoint.vpc_endpoint_id} if require_vpc_endpoint and runtime_endpoint \
            else {}
        guard = {"bedrock:GuardrailIdentifier": guardrail_versioned_arn} if require_guardrail else {}
        statements: list[iam.PolicyStatement] = []

        def allow(sid: str, actions: Sequence[str], resources: Sequence[str], equals: dict) -> None:
            statements.append(iam.PolicyStatement(sid=sid, actions=list(actions), resources=list(resources),
                                                  conditions={"StringEquals": equals} if equals else None))

        def deny(sid: str, actions: Sequence[str], resources: Sequence[str] = ("*",), conditions: dict | None = None,
                 not_resources: Sequence[str] | None = None) -> None:
            statements.append(iam.PolicyStatement(
                sid=sid, effect=iam.Effect.DENY, actions=list(actions), conditions=conditions,
                **({"not_resources": list(not_resources)} if not_resources is not None else
                   {"resources": list(resources)})))

        if self.model_routes:
            allow("AllowInvokeOfNamedModels", INVOKE_ACTIONS, list(dict.fromkeys(guarded_named)), {**guard, **vpce})
            if guarded_dest:
                allow("AllowInvokeThroughNamedProfiles", INVOKE_ACTIONS, guarded_dest,
                      {**guard, **vpce, "bedrock:InferenceProfileArn": guarded_profiles})
        allow("AllowApplyOfTheGuardrail", ["bedrock:ApplyGuardrail"], [guardrail_arn, *guardrail_profile_arns], vpce)
        if self.model_routes and require_guardrail:
            deny("DenyInvokeWithoutTheGuardrail", INVOKE_ACTIONS, self.model_arns,
                 {"StringNotEquals": {"bedrock:GuardrailIdentifier": guardrail_versioned_arn}})
        if self.openai_api_routes:
            through_default = {"bedrock:ProjectArn": default_project}
            allow("AllowUnguardedOpenAiApiInvoke", INVOKE_ACTIONS, list(dict.fromkeys(openai_named)),
                  {**vpce, **through_default})
            if openai_dest:
                allow("AllowUnguardedOpenAiApiThroughProfiles", INVOKE_ACTIONS, openai_dest,
                      {**vpce, **through_default, "bedrock:InferenceProfileArn": openai_profiles})
            allow("AllowUnguardedOpenAiApiOnTheDefaultProject", INVOKE_ACTIONS, [default_project],
                  {**vpce, "bedrock:ModelArn": list(dict.fromkeys(openai_named))})
            deny("DenyOpenAiApiForOtherModels", INVOKE_ACTIONS, [every_runtime_project_arn(stack)],
                 {"StringNotEquals": {"bedrock:ModelArn": list(dict.fromkeys(openai_named))}})
            if require_guardrail:
                # Converse/Invoke on these models (no project in the request) still need the guardrail.
                deny("DenyNonProjectInvokeWithoutTheGuardrail", INVOKE_ACTIONS, self.openai_api_arns,
                     {"StringNotEquals": {"bedrock:GuardrailIdentifier": guardrail_versioned_arn},
                      "Null": {"bedrock:ProjectArn": "true"}})
        else:
            deny("DenyOpenAiCompatibleApis", INVOKE_ACTIONS, [every_runtime_project_arn(stack)])
        if vpce:  # on every resource: no other grant can open a path around the endpoint
            deny("DenyInvokeOutsideTheEndpoint", [*INVOKE_ACTIONS, "bedrock:ApplyGuardrail"],
                 conditions={"StringNotEquals": vpce})
        if runtime_arns:
            deny("DenyInvokeOfUnlistedModels", INVOKE_ACTIONS, not_resources=runtime_arns)
        else:
            deny("DenyRuntimeInvoke", INVOKE_ACTIONS)
        deny("DenyApiKeys", API_KEY_ACTIONS)

        self._mantle_vpce = ({"aws:SourceVpce": mantle_endpoint.vpc_endpoint_id}
                             if require_vpc_endpoint and mantle_endpoint is not None else {})
        self._mantle_actions = [*MANTLE_CREATE_ACTIONS, *(MANTLE_STORED_ACTIONS if mantle_stored_responses else ())]
        if mantle_model_ids:
            assert mantle_project_arn is not None
            allow("AllowUnguardedMantleInference", self._mantle_actions, [mantle_project_arn],
                  {"bedrock-mantle:Model": self.mantle_model_ids, **self._mantle_vpce})
            statements.extend(self._mantle_denies())
        else:
            deny("DenyMantleInference", MANTLE_INFERENCE_ACTIONS)
        deny("DenyProjectAndRetentionChanges", PROJECT_CHANGE_ACTIONS)
        #: Denies of Bedrock Managed Agents (preview) sessions: a policy of their own, attached with the invoke
        #: policy, because the preview action names are not yet in cfn-lint's action list (W3037 is silenced
        #: on this resource only, so a typo elsewhere still shows).
        self.managed_agents_policy: iam.ManagedPolicy | None = None
        if not managed_agents:
            self.managed_agents_policy = iam.ManagedPolicy(
                self, "ManagedAgentsDenyPolicy",
                description="Deny Bedrock Managed Agents sessions (an unguarded Mantle path) and passing roles to them.",
                statements=[
                    iam.PolicyStatement(sid="DenyManagedAgentSessions", effect=iam.Effect.DENY,
                                        actions=list(MANAGED_AGENT_ACTIONS), resources=["*"]),
                    iam.PolicyStatement(sid="DenyPassRoleToManagedAgents", effect=iam.Effect.DENY,
                                        actions=["iam:PassRole"], resources=["*"], conditions={
                                            "StringEquals": {"iam:PassedToService": "bedrock-mantle.amazonaws.com"}}),
                ],
            )
            self.managed_agents_policy.node.default_child.add_metadata(
                "cfn-lint", {"config": {"ignore_checks": ["W3037"]}})

        self.policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description=description
            or "Invoke named Bedrock models only, on named paths, through the private endpoints, with the guardrail.",
            statements=statements,
        )
        self._accept(self.policy, accepted, {
            InferencePath.RUNTIME_OPENAI: list(openai_api_model_ids),
            InferencePath.MANTLE: [*mantle_model_ids, *(["Managed Agents sessions"] if managed_agents else [])],
        })
        self._accepted = accepted
        self._codex_policy: iam.ManagedPolicy | None = None
        self._codex_models: list[str] = []
        length = policy_length(stack.resolve(self.policy.document))
        if length > MANAGED_POLICY_MAX_CHARS:
            raise ConstructPropsError(
                f"{name}: the models {[*model_ids, *openai_api_model_ids, *mantle_model_ids]!r} make the invoke policy "
                f"~{length} characters, over IAM's {MANAGED_POLICY_MAX_CHARS} for a managed policy (deploy would "
                f"fail): each model's ARNs ({len(runtime_arns)} in all; a cross-region profile adds one per "
                "destination region) appear in up to four statements. Name fewer models, or split them across two "
                "BedrockModelAccess constructs (two environments in config)")

    def _mantle_denies(self, model_ids: Sequence[str] | None = None) -> list[iam.PolicyStatement]:
        """Denies around a Mantle grant: other models, other projects, outside the endpoint."""
        assert self.mantle_project_arn is not None
        statements = [
            iam.PolicyStatement(
                sid="DenyMantleInferenceOfUnlistedModels", effect=iam.Effect.DENY,
                actions=["bedrock-mantle:CreateInference", "bedrock-mantle:CountTokens"], resources=["*"],
                conditions={"StringNotEquals": {"bedrock-mantle:Model": list(model_ids or self.mantle_model_ids)}}),
            iam.PolicyStatement(
                sid="DenyMantleInferenceOnOtherProjects", effect=iam.Effect.DENY,
                actions=list(MANTLE_INFERENCE_ACTIONS), not_resources=[self.mantle_project_arn]),
        ]
        if self._mantle_vpce:
            statements.append(iam.PolicyStatement(
                sid="DenyMantleOutsideTheEndpoint", effect=iam.Effect.DENY, actions=["bedrock-mantle:*"],
                resources=["*"], conditions={"StringNotEquals": self._mantle_vpce}))
        return statements

    @staticmethod
    def _accept(policy: iam.ManagedPolicy, accepted: Mapping[InferencePath, RiskAcceptance],
                used: Mapping[InferencePath, Sequence[str]]) -> None:
        """Turn the acceptances of the paths this policy opens into the unguarded-path rule's suppression.
        A path used without an acceptance is left for the rule to fail."""
        opened = [(path, models) for path, models in used.items() if models]
        if opened and all(path in accepted for path, _ in opened):
            accept_risk(policy, UNGUARDED_RULE, [accepted[path] for path, _ in opened],
                        what=[f"Unguarded path {InferencePath(path).value} for {', '.join(models)}"
                              for path, models in opened])

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Attach the policy to a role, user or group (managed, never inline: IAMNoInlinePolicy).

        Returns the managed policy. Raises for principals a managed policy cannot attach to
        (e.g. a service principal): give those a role instead.
        """
        if self.managed_agents_policy is not None:
            _attach(self, grantee, self.managed_agents_policy, "grant_invoke")
        return _attach(self, grantee, self.policy, "grant_invoke")

    def grant_codex(self, grantee: iam.IGrantable, model_ids: Sequence[str] | None = None) -> iam.ManagedPolicy:
        """Developer workstations running Codex against Bedrock (``model_provider = "amazon-bedrock"``,
        the Mantle Responses API, SigV4 from the AWS credential chain, never API keys): attach
        :meth:`codex_policy` to ``grantee``.

        Workstations reach the endpoint over the VPN or Direct Connect into the VPC (name their networks in
        ``BedrockPrivateLink.allowed_cidrs``, and resolve its name through :class:`~.resolver.InboundResolver`);
        Codex does not support Mantle in GovCloud. For Identity Center users, reference the same policy from
        a permission set instead (:class:`~.developer_access.CodexPermissionSet`).
        """
        return _attach(self, grantee, self.codex_policy(model_ids), "grant_codex")

    def codex_policy(self, model_ids: Sequence[str] | None = None, *, managed_policy_name: str | None = None,
                     path: str | None = None, developer_role: str | None = None) -> iam.ManagedPolicy:
        """The Codex policy (created once per construct), for :meth:`grant_codex` or a permission set.

        A managed policy of its own: ``bedrock-mantle:CreateInference`` on this construct's project for
        ``model_ids`` (default: every Mantle model of this construct) through the Mantle endpoint, the model
        list Codex reads, and the Denies of other models, other projects, calls outside the endpoint, API
        keys and project or retention changes. ``managed_policy_name`` and ``path``: a fixed name, so an
        Identity Center permission set can reference it (``CustomerManagedPolicyReferences``).
        ``developer_role``: the role (path and name) that will hold it, e.g. the permission set's
        ``aws-reserved/sso.amazonaws.com/AWSReservedSSO_<set>_<suffix>``: the perimeter proof evaluates the
        developer's requests as that role (an organization's SCPs exempt roles by exact ARN).
        """
        if not self.mantle_model_ids:
            raise ConstructPropsError(f"BedrockModelAccess {self.node.id!r}: grant_codex needs mantle_model_ids (Codex uses "
                             "bedrock-mantle's Responses API)")
        models = list(model_ids or self.mantle_model_ids)
        unknown = sorted(set(models) - set(self.mantle_model_ids))
        if unknown:
            raise ConstructPropsError(f"BedrockModelAccess {self.node.id!r}: grant_codex model_ids {unknown} are not among "
                             f"mantle_model_ids {self.mantle_model_ids}")
        if self._codex_policy is not None:
            if model_ids is not None and models != self._codex_models:
                raise ConstructPropsError(f"BedrockModelAccess {self.node.id!r}: the Codex policy already allows "
                                          f"{self._codex_models}; one construct has one Codex policy, so ask for the "
                                          f"same models (got {models}) or build a second BedrockModelAccess")
            return self._codex_policy
        assert self.mantle_project_arn is not None
        self._codex_models = models
        self._codex_policy = iam.ManagedPolicy(
            self, "CodexPolicy",
            managed_policy_name=managed_policy_name, path=path,
            description="Codex on Bedrock: Mantle Responses for named models on one project, via the endpoint.",
            statements=[
                iam.PolicyStatement(
                    sid="AllowUnguardedMantleInferenceForCodex", actions=list(self._mantle_actions),
                    resources=[self.mantle_project_arn],
                    conditions={"StringEquals": {"bedrock-mantle:Model": models, **self._mantle_vpce}}),
                iam.PolicyStatement(sid="AllowModelList", actions=list(MANTLE_READ_ACTIONS), resources=["*"],
                                    conditions={"StringEquals": self._mantle_vpce} if self._mantle_vpce else None),
                *self._mantle_denies(models),
                *key_and_project_denies(),
            ],
        )
        suppress(self._codex_policy, "AwsSolutions-IAM5", applies_to=["Resource::*"], reason=(
            "AllowModelList only: bedrock-mantle GetModel and ListModels have no resource type in the Service "
            "Authorization Reference, so IAM accepts only '*' for them, and the statement requires the Mantle "
            "endpoint; inference is allowed on the one project ARN"))
        # The perimeter proof evaluates it as a developer's policy, not as the workload's invoke policy.
        self._codex_policy.node.default_child.add_metadata(CODEX_POLICY_METADATA, True)
        if developer_role:
            self._codex_policy.node.default_child.add_metadata(DEVELOPER_ROLE_METADATA, developer_role)
        self._accept(self._codex_policy, self._accepted, {InferencePath.MANTLE: [f"Codex ({', '.join(models)})"]})
        return self._codex_policy


def key_and_project_denies() -> list[iam.PolicyStatement]:
    """``DenyApiKeys`` (both bearer-token actions) and ``DenyProjectAndRetentionChanges``: the Denies every
    policy of the package that opens a Mantle path carries (the Codex policy, the Codex permission set)."""
    return [
        iam.PolicyStatement(sid="DenyApiKeys", effect=iam.Effect.DENY, actions=list(API_KEY_ACTIONS), resources=["*"]),
        iam.PolicyStatement(sid="DenyProjectAndRetentionChanges", effect=iam.Effect.DENY,
                            actions=list(PROJECT_CHANGE_ACTIONS), resources=["*"]),
    ]


def _arns(stack: Stack, routes: Sequence[ModelRoute]) -> tuple[list[str], list[str], list[str]]:
    """(named ARNs, destination foundation-model ARNs not also named, profile ARNs) of ``routes``."""
    named: list[str] = []
    destinations: list[str] = []
    profiles: list[str] = []
    for route in routes:
        direct, dest = route_arns(stack, route)
        named += direct
        destinations += dest
        if dest:
            profiles += direct
    named = list(dict.fromkeys(named))
    return named, [a for a in dict.fromkeys(destinations) if a not in named], list(dict.fromkeys(profiles))


def _attach(owner: Construct, grantee: iam.IGrantable, policy: iam.ManagedPolicy, what: str) -> iam.ManagedPolicy:
    principal = grantee.grant_principal
    attach = getattr(principal, "add_managed_policy", None)  # IRole, IUser and IGroup have it
    if attach is None:
        raise TypeError(f"BedrockModelAccess {owner.node.id!r}: {what} needs a role, user or group, got "
                        f"{type(principal).__name__}")
    attach(policy)
    return policy


def _names_a_version(guardrail_arn: str, versioned_arn: str) -> bool:
    """``<ARN>:<version>``, not the bare ARN and not ``:DRAFT`` (tokens are taken as what they say)."""
    if versioned_arn == guardrail_arn or versioned_arn.upper().endswith(":DRAFT"):
        return False
    if Token.is_unresolved(versioned_arn):
        return True  # e.g. BedrockGuardrail.versioned_arn: <ARN token>:<version token>
    tail = versioned_arn.rpartition(":")[2]
    return bool(tail) and "/" not in tail


class MantleProject(Construct):
    """A dedicated ``AWS::BedrockMantle::Project`` for one environment's Mantle inference.

    Grants name this project's ARN, never ``project/default`` (every account's catch-all) or ``project/*``.
    Retained on stack deletion and replacement: stored responses are scoped by project, and the trail's data
    events name its ARN. Data retention of the project is set outside CloudFormation (the resource has
    ``Name`` and ``Tags`` only); the invoke policy denies workload roles project and retention changes.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str) -> None:
        super().__init__(scope, construct_id)
        if not Token.is_unresolved(name) and not MANTLE_PROJECT_PATTERN.fullmatch(name):
            raise ConstructPropsError(f"MantleProject {construct_id!r}: name {name!r} is not a project name (1-64 letters, "
                             "digits, '_' and '-', starting with a letter or digit)")
        if name == "default":
            raise ConstructPropsError(f"MantleProject {construct_id!r}: name 'default' would look like the account's default "
                             "project in every report; name the workload")
        self.project = CfnProject(self, "Resource", name=name)
        self.project.apply_removal_policy(RemovalPolicy.RETAIN)
        self.project_arn: str = self.project.attr_arn
        self.project_id: str = self.project.attr_id
