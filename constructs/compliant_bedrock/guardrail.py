"""An Amazon Bedrock Guardrail with a published version, a customer-managed key and optional enforcement.

The guardrail is the input/output filter of every model call (SI-10 information input validation,
SI-15 information output filtering, AC-4 information flow enforcement). This module gives it typed,
validated props (frozen dataclasses) on top of the L1s ``CfnGuardrail``, ``CfnGuardrailVersion`` and
``CfnEnforcedGuardrailConfiguration``:

* every limit of the CloudFormation schema / CreateGuardrail API is checked at construction, with a
  ``ValueError`` naming the prop, the bad value and what is allowed, so a bad guardrail fails at
  ``cdk synth`` instead of half-way through a deployment;
* the guardrail is encrypted with a customer-managed KMS key (SC-28, SC-12);
* a version is published whose logical id is a hash of the configuration. ``GuardrailVersion`` is
  create-only: a changed guardrail must get a *new* version resource, or callers pinned to the old
  version (``bedrock:GuardrailIdentifier``) would keep getting the old filters;
* ``grant_apply`` uses a managed policy, never an inline one (cdk-nag ``IAMNoInlinePolicy``).

A ready-made federal baseline policy is in :mod:`compliant_bedrock.guardrail_presets`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import get_args

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Token
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .errors import ConstructPropsError
from .guardrail_policy import (  # noqa: F401  (the value types stay importable from this module)
    _PROFILE_BY_REGION,
    CONTENT_FILTER_TYPES,
    DEFAULT_BLOCKED_INPUT_MESSAGE,
    DEFAULT_BLOCKED_OUTPUT_MESSAGE,
    DESCRIPTION_MAX,
    ENFORCEMENT_MODEL_PATTERN,
    GUARDRAIL_PROFILE_VERSION,
    IMAGE_FILTER_TYPES,
    MAX_CONTENT_FILTERS,
    MAX_DENIED_TOPICS,
    MAX_GROUNDING_THRESHOLD,
    MAX_REGEX_DESCRIPTION,
    MAX_REGEX_NAME,
    MAX_REGEX_PATTERN,
    MAX_REGEXES,
    MAX_TOPIC_DEFINITION,
    MAX_TOPIC_EXAMPLE,
    MAX_TOPIC_EXAMPLES,
    MAX_WORD,
    MAX_WORDS,
    MESSAGE_MAX,
    NAME_PATTERN,
    PII_ENTITY_TYPES,
    PROFILE_ID_PATTERN,
    TOPIC_NAME_PATTERN,
    ContentFilter,
    ContentFilterType,
    DeniedTopic,
    FilterAction,
    FilterStrength,
    GroundingFilter,
    GroundingType,
    GuardrailPolicy,
    Modality,
    PiiAction,
    PiiEntity,
    PiiEntityType,
    RegexFilter,
    Tier,
    WordPolicy,
    _as_tuple,
    _check_directions,
    _choice,
    _flag,
    _length,
    _unique,
    enforcement_exclusions,
)
from .guardrail_presets import federal_baseline
from .kms import retained_key
from .models import GEO_DESTINATIONS

#: Metadata on the enforced configuration when embedding models are enforced on, not excluded: the reason.
EMBEDDING_ENFORCEMENT_METADATA = "compliant-bedrock:embedding-models-enforced"


def guardrail_profile_for_region(region: str) -> str:
    """The system cross-region guardrail profile of ``region``'s geography, e.g. ``us.guardrail.v1:0``.

    Raises ValueError for a region without a known profile (ISO partitions, China, other geographies,
    or an unresolved region token).
    """
    if not Token.is_unresolved(region):
        for pattern, geo in _PROFILE_BY_REGION:
            if pattern.fullmatch(region):
                return f"{geo}.{GUARDRAIL_PROFILE_VERSION}"
    shown = "an unresolved region (env-agnostic stack)" if Token.is_unresolved(region) else repr(region)
    raise ConstructPropsError(
        f"tier: 'STANDARD' needs a cross-region guardrail profile, and none is known for {shown}; known: "
        "us-* -> us, us-gov-* -> us-gov, eu-* -> eu, ap-* -> apac. Use tier 'CLASSIC', give the stack a "
        "region, or pass guardrail_profile_id"
    )


class BedrockGuardrail(Construct):
    """A Bedrock guardrail, its KMS key, a published version and (optionally) account-level enforcement.

    Attributes: ``guardrail_arn``, ``guardrail_id``, ``version`` (the published version number),
    ``versioned_arn`` (``<guardrail ARN>:<version>``, the value of the IAM condition key
    ``bedrock:GuardrailIdentifier``: a bare ARN would mean the mutable DRAFT), ``key``,
    ``config_hash``, and the L1s ``guardrail``, ``version_resource``, ``enforced_configuration``.

    Tags added to the stack (``Tags.of(stack)``) propagate to the guardrail and the key.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        policy: GuardrailPolicy | None = None,
        description: str | None = None,
        blocked_input_message: str = DEFAULT_BLOCKED_INPUT_MESSAGE,
        blocked_output_message: str = DEFAULT_BLOCKED_OUTPUT_MESSAGE,
        tier: Tier = "CLASSIC",
        guardrail_profile_id: str | None = None,
        kms_key: kms.IKey | None = None,
        enforce_account_level: bool = True,
        enforcement_included_models: Sequence[str] = ("ALL",),
        enforcement_excluded_models: Sequence[str] = (),
        enforce_embedding_models_reason: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: the guardrail's name, unique in the account and region (1-50 of ``[0-9a-zA-Z-_]``).
        :param policy: what to filter; default :func:`compliant_bedrock.guardrail_presets.federal_baseline`.
        :param description: 1-200 characters.
        :param blocked_input_message: what a caller sees when a prompt is blocked (1-500 characters). The
            default says a policy applied, not which filter matched (SI-11).
        :param blocked_output_message: likewise for a withheld answer (1-500 characters).
        :param tier: CLASSIC (default) evaluates in the guardrail's region only. STANDARD (more languages,
            code-aware filters) needs a cross-region guardrail profile, which may process content in
            other regions of the geography: check that your authorization boundary includes them (AC-4,
            SC-7) before choosing it.
        :param guardrail_profile_id: override the profile STANDARD uses (``<geo>.guardrail.v<n>:<m>``);
            by default it comes from the region (us, us-gov, eu, apac).
        :param kms_key: encrypt with this key; by default a new retained CMK with rotation (SC-28, SC-12).
            Must be a key, not an alias (CloudFormation takes a key ARN). A statement letting principals
            of this account use it through Bedrock in this region is added to the key policy (no-op for an
            imported key: add it yourself, see ``key_policy_statements``).
        :param enforce_account_level: (default on) also create ``AWS::Bedrock::EnforcedGuardrailConfiguration``
            so Bedrock applies this guardrail's published version to every inference call in the account and
            the stack's region, whatever IAM says: this holds for **every principal of the account**, not only
            the roles that carry ``BedrockModelInvocation``'s policy (AC-3, SI-10). It guards the whole request
            (``SelectiveContentGuarding`` COMPREHENSIVE for messages and system prompts), so ``guardContent``
            blocks and input tags cannot shrink what is checked. Enforcement is per region: other regions
            need their own (the organization's region-deny SCP or a per-region baseline). One per account and
            region: create it in one stack only. Every caller then needs ``bedrock:ApplyGuardrail`` on the
            guardrail (AWS: callers without it get AccessDenied), which the guardrail's resource-based policy
            admits for this account's IAM-authorized principals (``resource_policy``).
        :param enforcement_included_models: model ids the enforcement covers; ``("ALL",)`` (default) for every
            model. Requires ``enforce_account_level``.
        :param enforcement_excluded_models: model ids the account-level enforcement skips, **in addition to** the
            partition's embedding models (``models.embedding_model_ids``), which it always skips: AWS documents that
            embedding calls fail under an enforced guardrail. Requires ``enforce_account_level``.
        :param enforce_embedding_models_reason: enforce on the embedding models too (every embedding call then
            fails, e.g. to block embeddings altogether): why, in at least 8 words. Unset (default): excluded.
        :param removal_policy: of the guardrail. RETAIN by default: invocation logs and trails name the
            guardrail, and the configuration they refer to stays readable after ``cdk destroy`` (AU-9,
            AU-11). A retained guardrail keeps its name: use DESTROY for throw-away environments.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        where = f"BedrockGuardrail {construct_id!r}"
        if policy is None:

            policy = federal_baseline()
        if not isinstance(policy, GuardrailPolicy):
            raise ConstructPropsError(f"{where}: policy: {policy!r} is not a GuardrailPolicy")
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise ConstructPropsError(f"{where}: name: {name!r} is not allowed; allowed: 1-50 characters of "
                             "letters, digits, '-' and '_' (^[0-9a-zA-Z-_]{1,50}$)")
        _length(f"{where}: blocked_input_message", blocked_input_message, 1, MESSAGE_MAX)
        _length(f"{where}: blocked_output_message", blocked_output_message, 1, MESSAGE_MAX)
        if description is not None:
            _length(f"{where}: description", description, 1, DESCRIPTION_MAX)
        _choice(f"{where}: tier", tier, get_args(Tier))
        if policy.is_empty:
            raise ConstructPropsError(f"{where}: policy: the policy has no filters at all; allowed: at least one content "
                             "filter, PII entity, regex, denied topic, word policy or grounding filter "
                             "(start from guardrail_presets.federal_baseline())")
        if guardrail_profile_id is not None:
            if tier != "STANDARD":
                raise ConstructPropsError(f"{where}: guardrail_profile_id: {guardrail_profile_id!r} is only used with "
                                 f"tier 'STANDARD', not {tier!r}")
            if not PROFILE_ID_PATTERN.fullmatch(guardrail_profile_id):
                raise ConstructPropsError(f"{where}: guardrail_profile_id: {guardrail_profile_id!r} is not allowed; "
                                 "allowed: <geo>.guardrail.v<n>:<m>, e.g. 'us.guardrail.v1:0'")
        profile_id = None
        if tier == "STANDARD":
            try:
                profile_id = guardrail_profile_id or guardrail_profile_for_region(stack.region)
            except ValueError as err:
                raise ConstructPropsError(f"{where}: {err}") from None
        self.profile_arns: list[str] = []
        if profile_id:
            geography = profile_id.split(".", 1)[0]
            destinations = GEO_DESTINATIONS.get(geography)
            if destinations is None:
                raise ConstructPropsError(f"{where}: guardrail_profile_id: {profile_id!r}: no destination regions are known for "
                                 f"geography {geography!r} (known: {', '.join(sorted(GEO_DESTINATIONS))}), so "
                                 "ApplyGuardrail could not be granted where the profile routes calls")
            regions = [stack.region] if stack.region not in destinations else []
            self.profile_arns = [
                stack.format_arn(service="bedrock", region=region, resource="guardrail-profile",
                                 resource_name=profile_id, arn_format=ArnFormat.SLASH_RESOURCE_NAME)
                for region in [*regions, *destinations]
            ]
        if enforcement_excluded_models and not enforce_account_level:
            raise ConstructPropsError(f"{where}: enforcement_excluded_models needs enforce_account_level=True")
        if enforce_embedding_models_reason is not None and not enforce_account_level:
            raise ConstructPropsError(f"{where}: enforce_embedding_models_reason needs enforce_account_level=True")
        included = list(enforcement_included_models)
        if included != ["ALL"] and not enforce_account_level:
            raise ConstructPropsError(f"{where}: enforcement_included_models needs enforce_account_level=True")
        if not included or ("ALL" in included and len(included) > 1):
            raise ConstructPropsError(f"{where}: enforcement_included_models: {included!r} is not allowed; allowed: ('ALL',) "
                             "or one or more model ids (never ALL together with model ids)")
        for model in included:
            if model != "ALL" and not ENFORCEMENT_MODEL_PATTERN.fullmatch(model):
                raise ConstructPropsError(f"{where}: enforcement_included_models: {model!r} is not allowed; allowed: "
                                 "'ALL' or model ids such as 'openai.gpt-oss-120b-1:0'")
        # The partition's embedding models first (their calls fail under enforcement), then the caller's.
        excluded = enforcement_exclusions(
            where, stack.partition if not Token.is_unresolved(stack.partition) else None,
            list(enforcement_excluded_models), enforce_embedding_models_reason=enforce_embedding_models_reason,
        ) if enforce_account_level else []
        #: The model ids the account-level enforcement skips (empty without enforcement).
        self.enforcement_excluded_models: list[str] = excluded
        if kms_key is not None and (hasattr(kms_key, "alias_name") or (
            not Token.is_unresolved(kms_key.key_arn) and ":alias/" in kms_key.key_arn
        )):
            shown = getattr(kms_key, "alias_name", None) or kms_key.key_arn
            raise ConstructPropsError(f"{where}: kms_key: {shown!r} is an alias; allowed: a key (KmsKeyArn must be a key "
                             "ARN, never an alias)")

        self.policy = policy
        self.tier = tier
        self.key: kms.IKey = kms_key or retained_key(
            self, "Key", description=f"Bedrock guardrail {name}: configuration encryption (SC-28)"
        )
        for statement in self.key_policy_statements(stack):
            self.key.add_to_resource_policy(statement)

        content = policy.content_filters
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Resource",
            name=name,
            description=description,
            blocked_input_messaging=blocked_input_message,
            blocked_outputs_messaging=blocked_output_message,
            kms_key_arn=self.key.key_arn,
            content_policy_config=bedrock.CfnGuardrail.ContentPolicyConfigProperty(
                filters_config=[f.to_cfn() for f in content],
                content_filters_tier_config=bedrock.CfnGuardrail.ContentFiltersTierConfigProperty(tier_name=tier),
            ) if content else None,
            sensitive_information_policy_config=bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
                pii_entities_config=[p.to_cfn() for p in policy.pii_entities] or None,
                regexes_config=[r.to_cfn() for r in policy.regexes] or None,
            ) if policy.pii_entities or policy.regexes else None,
            topic_policy_config=bedrock.CfnGuardrail.TopicPolicyConfigProperty(
                topics_config=[t.to_cfn() for t in policy.denied_topics],
                topics_tier_config=bedrock.CfnGuardrail.TopicsTierConfigProperty(tier_name=tier),
            ) if policy.denied_topics else None,
            word_policy_config=policy.word_policy.to_cfn() if policy.word_policy else None,
            contextual_grounding_policy_config=bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(
                filters_config=[g.to_cfn() for g in policy.grounding_filters],
            ) if policy.grounding_filters else None,
            cross_region_config=bedrock.CfnGuardrail.GuardrailCrossRegionConfigProperty(
                guardrail_profile_arn=stack.format_arn(
                    service="bedrock", resource="guardrail-profile", resource_name=profile_id,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
            ) if profile_id else None,
        )
        self.guardrail.apply_removal_policy(removal_policy)

        #: sha256 of everything that shapes the guardrail (props only, never tokens).
        self.config_hash = hashlib.sha256(json.dumps({
            "name": name,
            "description": description,
            "blocked_input_message": blocked_input_message,
            "blocked_output_message": blocked_output_message,
            "tier": tier,
            "guardrail_profile_id": profile_id,
            # The key's ARN when known (two imported keys can share a construct id), else its construct path.
            "kms_key": "created" if kms_key is None else (
                kms_key.key_arn if not Token.is_unresolved(kms_key.key_arn) else kms_key.node.path),
            "policy": json.loads(policy.canonical_json()),
        }, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        short = self.config_hash[:12]
        # GuardrailVersion is create-only: a new id per configuration makes CloudFormation publish a new
        # version after updating the guardrail, then delete the old one once IAM points at the new one.
        self.version_resource = bedrock.CfnGuardrailVersion(
            self,
            f"Version{short}",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"compliant-bedrock configuration {short}",
        )
        # Versions named in logs and trails outlive a configuration change and the stack (AU-9, AU-11);
        # retained versions count against Bedrock's versions-per-guardrail quota: prune old ones by hand.
        self.version_resource.apply_removal_policy(removal_policy)

        self.enforced_configuration: bedrock.CfnEnforcedGuardrailConfiguration | None = None
        self.resource_policy: bedrock.CfnResourcePolicy | None = None
        if enforce_account_level:
            # Callers of an enforced guardrail need ApplyGuardrail on it, and AWS recommends a resource-based
            # policy for account-level enforcement. This one names only this account (its supported "share
            # within your own account" pattern): within one account a resource policy naming the account
            # delegates to IAM, so it admits no principal whose own policies do not allow ApplyGuardrail.
            self.resource_policy = bedrock.CfnResourcePolicy(
                self,
                "ResourcePolicy",
                resource_arn=self.guardrail.attr_guardrail_arn,
                policy_document={
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "ApplyByThisAccountsAuthorizedPrincipals",
                        "Effect": "Allow",
                        "Principal": {"AWS": iam.AccountRootPrincipal().arn},
                        "Action": ["bedrock:ApplyGuardrail"],
                        "Resource": self.guardrail.attr_guardrail_arn,
                    }],
                },
            )
            self.enforced_configuration = bedrock.CfnEnforcedGuardrailConfiguration(
                self,
                "AccountEnforcement",
                guardrail_identifier=self.guardrail.attr_guardrail_id,
                # A published version number (GetAtt Version.Version, never DRAFT): the schema requires one.
                guardrail_version=self.version_resource.attr_version,
                # COMPREHENSIVE: guard every message and the system prompt even when the request marks only
                # part of it (guardContent blocks, input tags) for evaluation (SI-10; IAM cannot express this).
                selective_content_guarding=bedrock.CfnEnforcedGuardrailConfiguration.SelectiveContentGuardingProperty(
                    messages="COMPREHENSIVE", system="COMPREHENSIVE",
                ),
                # Without ModelEnforcement the configuration covers every model; the schema requires both lists.
                model_enforcement=bedrock.CfnEnforcedGuardrailConfiguration.ModelEnforcementProperty(
                    included_models=included, excluded_models=excluded,
                ) if excluded or included != ["ALL"] else None,
            )
            if enforce_embedding_models_reason is not None:  # the evidence says why embeddings are enforced on
                self.enforced_configuration.add_metadata(EMBEDDING_ENFORCEMENT_METADATA, enforce_embedding_models_reason)
            self.enforced_configuration.node.add_dependency(self.resource_policy)
        self._apply_policy: iam.ManagedPolicy | None = None

    @staticmethod
    def key_policy_statements(stack: Stack) -> list[iam.PolicyStatement]:
        """Key-policy statements that let Bedrock use the key on behalf of this account only.

        Bedrock calls KMS with the caller's identity: whoever creates or updates the guardrail needs
        Decrypt, GenerateDataKey, DescribeKey and CreateGrant, and whoever applies it needs Decrypt.
        These allow any principal *of this account* (``kms:CallerAccount``) but only through Bedrock in
        this region (``kms:ViaService``), the pattern of AWS-managed keys: using the guardrail is then
        governed by Bedrock IAM (``grant_apply``, ``bedrock:GuardrailIdentifier``), and the key cannot be
        used directly or from another account. Grants are limited to AWS resources.
        """
        via = {
            "kms:CallerAccount": stack.account,
            "kms:ViaService": f"bedrock.{stack.region}.{stack.url_suffix}",
        }
        return [
            iam.PolicyStatement(
                sid="AllowBedrockGuardrailUseByThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": dict(via)},
            ),
            iam.PolicyStatement(
                sid="AllowBedrockGuardrailGrantsByThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"StringEquals": dict(via), "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]

    @property
    def guardrail_arn(self) -> str:
        return self.guardrail.attr_guardrail_arn

    @property
    def resource_arns(self) -> list[str]:
        """What ``bedrock:ApplyGuardrail`` must be allowed on: the guardrail and, for the STANDARD tier, its
        cross-region guardrail profile in every region the profile may route a call to (AWS: "an IAM
        policy that specifies the destination Regions defined in your guardrail profile")."""
        return [self.guardrail_arn, *self.profile_arns]

    @property
    def guardrail_id(self) -> str:
        return self.guardrail.attr_guardrail_id

    @property
    def version(self) -> str:
        """The published version number (``GetAtt Version.Version``), never DRAFT."""
        return self.version_resource.attr_version

    @property
    def versioned_arn(self) -> str:
        """``<guardrail ARN>:<version>``: the value of ``bedrock:GuardrailIdentifier`` in IAM conditions."""
        return f"{self.guardrail_arn}:{self.version}"

    def grant_apply(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Allow ``bedrock:ApplyGuardrail`` on this guardrail (its versions are not resources) and, for the
        STANDARD tier, on its guardrail profile in each destination region (``resource_arns``).

        Grant it explicitly, only where needed: ApplyGuardrail returns the full assessment (which filter
        matched), so a standalone grant is an evasion oracle for tuning prompts (SI-11). Under account-level
        enforcement, though, AWS requires every invoker to be allowed ApplyGuardrail on the enforced
        guardrail (callers without it get AccessDenied), so invoke grants must carry it there. Converse's
        ``guardrailConfig.trace`` reveals the same assessment and no IAM condition restricts it.

        The statement lives in one managed policy of this construct, created on the first call and
        attached to each grantee: the project never uses inline policies (cdk-nag IAMNoInlinePolicy).
        The grantee's principal must be a role, user or group (anything with ``add_managed_policy``);
        a service principal raises TypeError: give it a role. No KMS permission is needed: the key
        policy admits callers of this account through Bedrock. Returns the managed policy.
        """
        principal = grantee.grant_principal
        attach = getattr(principal, "add_managed_policy", None)  # IRole, IUser and IGroup have it
        if attach is None:
            raise TypeError(f"BedrockGuardrail {self.node.id!r}: grant_apply needs a role, user or group, got "
                            f"{type(principal).__name__}")
        if self._apply_policy is None:
            self._apply_policy = iam.ManagedPolicy(
                self,
                "ApplyPolicy",
                description="Apply the Bedrock guardrail (ApplyGuardrail) and nothing else.",
                statements=[iam.PolicyStatement(
                    sid="ApplyTheGuardrail", actions=["bedrock:ApplyGuardrail"], resources=self.resource_arns,
                )],
            )
        attach(self._apply_policy)
        return self._apply_policy


__all__ = [
    "CONTENT_FILTER_TYPES",
    "DEFAULT_BLOCKED_INPUT_MESSAGE",
    "DEFAULT_BLOCKED_OUTPUT_MESSAGE",
    "IMAGE_FILTER_TYPES",
    "PII_ENTITY_TYPES",
    "BedrockGuardrail",
    "ContentFilter",
    "DeniedTopic",
    "GroundingFilter",
    "GuardrailPolicy",
    "PiiEntity",
    "RegexFilter",
    "WordPolicy",
    "guardrail_profile_for_region",
]
