"""IAM that lets callers invoke named models only, only through the endpoint, only with the guardrail."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .arns import mantle_project_arn, model_arns
from .models import INVOKE_ACTIONS, MANTLE_PROJECT_PATTERN, ModelRoute, resolve_model
from .policy_size import MANAGED_POLICY_MAX_CHARS, policy_length

#: Inference on a Mantle project: start, poll and cancel. ``CallWithBearerToken`` (API keys) is
#: deliberately absent: it only takes ``Resource: *`` and bypasses SigV4 identities.
MANTLE_INVOKE_ACTIONS: tuple[str, ...] = (
    "bedrock-mantle:CreateInference",
    "bedrock-mantle:GetInference",
    "bedrock-mantle:CancelInference",
)


class BedrockModelAccess(Construct):
    """A managed policy that allows invoke on named model ARNs and denies everything around them.

    Statements (each with a Sid, so auditors and tests can find them and CDK never merges them):

    * ``AllowInvokeOfNamedModels``: ``bedrock:InvokeModel`` and ``InvokeModelWithResponseStream``
      (Converse and ConverseStream authorize as these) on the models' ARNs, only with the
      guardrail's versioned ARN as ``bedrock:GuardrailIdentifier`` and only via the runtime
      endpoint (``aws:SourceVpce``). AC-3, AC-6, AC-4.
    * ``AllowApplyOfTheGuardrail``: ``bedrock:ApplyGuardrail`` on the guardrail. SI-10.
    * ``DenyInvokeWithoutTheGuardrail``: explicit Deny with ``StringNotEquals``, which also
      denies calls that carry no guardrail at all (AWS's documented pattern). SI-10, AC-3.
    * ``DenyInvokeOutsideTheEndpoint``: explicit Deny with ``StringNotEquals aws:SourceVpce``, so
      no other grant can open a path over the internet. SC-7, AC-4.
    * ``DenyInvokeOfUnlistedModels``: explicit Deny on every model ARN not named (``NotResource``),
      so a broader policy elsewhere cannot widen this principal's model set. AC-6.
    * ``AllowInferenceOnNamedMantleProjects``: ``bedrock-mantle`` inference on named projects only.

    Roles that Bedrock itself uses on your behalf (Knowledge Bases, agents, RetrieveAndGenerate)
    must be built with ``require_vpc_endpoint=False`` and ``require_guardrail=False``: Bedrock's own
    calls carry no ``aws:SourceVpce``, and those APIs reject the guardrail condition.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_ids: Sequence[str],
        guardrail_arn: str,
        guardrail_profile_arns: Sequence[str] = (),
        guardrail_versioned_arn: str,
        runtime_endpoint: ec2.IVpcEndpoint | None = None,
        require_vpc_endpoint: bool = True,
        require_guardrail: bool = True,
        mantle_projects: Sequence[str] = (),
        mantle_endpoint: ec2.IVpcEndpoint | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param model_ids: model ids or inference-profile ids (see ``compliant_bedrock.models``).
        :param guardrail_arn: the guardrail's ARN (``ApplyGuardrail`` resource).
        :param guardrail_profile_arns: for a STANDARD-tier guardrail, its guardrail-profile ARNs in each
            destination region (``BedrockGuardrail.profile_arns``): ApplyGuardrail is checked there too.
        :param guardrail_versioned_arn: ``<guardrail ARN>:<version>``, the required
            ``bedrock:GuardrailIdentifier``; a bare ARN would mean the mutable DRAFT.
        :param runtime_endpoint: the ``bedrock-runtime`` interface endpoint callers must come through.
        :param require_vpc_endpoint: add the ``aws:SourceVpce`` condition and deny. Default true; needs
            ``runtime_endpoint``.
        :param require_guardrail: add the guardrail condition and deny. Default true.
        :param mantle_projects: Mantle project names whose inference is allowed.
        :param mantle_endpoint: the ``bedrock-mantle`` endpoint Mantle calls must come through.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if not model_ids:
            raise ValueError(f"BedrockModelAccess {construct_id!r}: model_ids is empty; name the models to allow")
        if require_vpc_endpoint and runtime_endpoint is None:
            raise ValueError(f"BedrockModelAccess {construct_id!r}: require_vpc_endpoint needs runtime_endpoint; "
                             "pass BedrockPrivateLink.runtime_endpoint, or set require_vpc_endpoint=False for a "
                             "role Bedrock assumes on your behalf")
        if mantle_projects and require_vpc_endpoint and mantle_endpoint is None:
            raise ValueError(f"BedrockModelAccess {construct_id!r}: mantle_projects need mantle_endpoint when "
                             "require_vpc_endpoint is true; create the bedrock-mantle endpoint")
        if require_guardrail and not _names_a_version(guardrail_arn, guardrail_versioned_arn):
            raise ValueError(f"BedrockModelAccess {construct_id!r}: guardrail_versioned_arn "
                             f"{guardrail_versioned_arn!r} names no published version (the bare ARN or :DRAFT is the "
                             "mutable working draft); pass BedrockGuardrail.versioned_arn")
        for project in mantle_projects:
            if not MANTLE_PROJECT_PATTERN.fullmatch(project):
                raise ValueError(f"BedrockModelAccess {construct_id!r}: mantle project {project!r} is not a "
                                 "project name (1-64 letters, digits, '_' and '-')")

        self.model_routes: list[ModelRoute] = [resolve_model(m, stack.region) for m in model_ids]
        self.unverified_model_ids = [r.model_id for r in self.model_routes if not r.verified]
        self.model_arns = list(dict.fromkeys(a for r in self.model_routes for a in model_arns(stack, r)))
        self.guardrail_arn = guardrail_arn
        self.guardrail_versioned_arn = guardrail_versioned_arn

        allow_conditions: dict[str, dict[str, str]] = {}
        if require_guardrail:
            allow_conditions.setdefault("StringEquals", {})["bedrock:GuardrailIdentifier"] = guardrail_versioned_arn
        endpoint_condition: dict[str, dict[str, str]] = {}
        if require_vpc_endpoint:
            assert runtime_endpoint is not None
            allow_conditions.setdefault("StringEquals", {})["aws:SourceVpce"] = runtime_endpoint.vpc_endpoint_id
            endpoint_condition = {"StringEquals": {"aws:SourceVpce": runtime_endpoint.vpc_endpoint_id}}

        statements = [
            iam.PolicyStatement(
                sid="AllowInvokeOfNamedModels",
                actions=list(INVOKE_ACTIONS),
                resources=self.model_arns,
                conditions=allow_conditions or None,
            ),
            iam.PolicyStatement(
                sid="AllowApplyOfTheGuardrail",
                actions=["bedrock:ApplyGuardrail"],
                resources=[guardrail_arn, *guardrail_profile_arns],
                conditions=endpoint_condition or None,
            ),
        ]
        if require_guardrail:
            statements.append(
                iam.PolicyStatement(
                    sid="DenyInvokeWithoutTheGuardrail",
                    effect=iam.Effect.DENY,
                    actions=list(INVOKE_ACTIONS),
                    resources=self.model_arns,
                    conditions={"StringNotEquals": {"bedrock:GuardrailIdentifier": guardrail_versioned_arn}},
                )
            )
        if require_vpc_endpoint:
            assert runtime_endpoint is not None
            statements.append(
                iam.PolicyStatement(
                    sid="DenyInvokeOutsideTheEndpoint",
                    effect=iam.Effect.DENY,
                    actions=[*INVOKE_ACTIONS, "bedrock:ApplyGuardrail"],
                    resources=[*self.model_arns, guardrail_arn, *guardrail_profile_arns],
                    conditions={"StringNotEquals": {"aws:SourceVpce": runtime_endpoint.vpc_endpoint_id}},
                )
            )
        statements.append(
            iam.PolicyStatement(
                sid="DenyInvokeOfUnlistedModels",
                effect=iam.Effect.DENY,
                actions=list(INVOKE_ACTIONS),
                not_resources=self.model_arns,
            )
        )
        if mantle_projects:
            mantle_conditions = (
                {"StringEquals": {"aws:SourceVpce": mantle_endpoint.vpc_endpoint_id}}
                if require_vpc_endpoint and mantle_endpoint is not None
                else None
            )
            statements.append(
                iam.PolicyStatement(
                    sid="AllowInferenceOnNamedMantleProjects",
                    actions=list(MANTLE_INVOKE_ACTIONS),
                    resources=[mantle_project_arn(stack, p) for p in mantle_projects],
                    conditions=mantle_conditions,
                )
            )
        self.policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description=description
            or "Invoke named Bedrock models only, through the private endpoint, with the guardrail.",
            statements=statements,
        )
        length = policy_length(stack.resolve(self.policy.document))
        if length > MANAGED_POLICY_MAX_CHARS:
            raise ValueError(
                f"BedrockModelAccess {construct_id!r}: model_ids {list(model_ids)!r} make the invoke policy "
                f"~{length} characters, over IAM's {MANAGED_POLICY_MAX_CHARS} for a managed policy (deploy would "
                f"fail): each model's ARNs ({len(self.model_arns)} in all; a cross-region profile adds one per "
                "destination region) appear in up to four statements. Name fewer models, or split them across two "
                "BedrockModelAccess constructs (two environments in config)")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Attach the policy to a role, user or group (managed, never inline: IAMNoInlinePolicy).

        Returns the managed policy. Raises for principals a managed policy cannot attach to
        (e.g. a service principal): give those a role instead.
        """
        principal = grantee.grant_principal
        attach = getattr(principal, "add_managed_policy", None)  # IRole, IUser and IGroup have it
        if attach is None:
            raise TypeError(
                f"BedrockModelAccess {self.node.id!r}: grant_invoke needs a role, user or group, got "
                f"{type(principal).__name__}"
            )
        attach(self.policy)
        return self.policy


def _names_a_version(guardrail_arn: str, versioned_arn: str) -> bool:
    """``<ARN>:<version>``, not the bare ARN and not ``:DRAFT`` (tokens are taken as what they say)."""
    if versioned_arn == guardrail_arn or versioned_arn.upper().endswith(":DRAFT"):
        return False
    if Token.is_unresolved(versioned_arn):
        return True  # e.g. BedrockGuardrail.versioned_arn: <ARN token>:<version token>
    tail = versioned_arn.rpartition(":")[2]
    return bool(tail) and "/" not in tail
