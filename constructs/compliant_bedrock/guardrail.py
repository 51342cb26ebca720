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

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Token
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .errors import ConstructPropsError
from .kms import retained_key
from .models import GEO_DESTINATIONS

ContentFilterType = Literal["HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK"]
FilterStrength = Literal["NONE", "LOW", "MEDIUM", "HIGH"]
FilterAction = Literal["BLOCK", "NONE"]
Modality = Literal["TEXT", "IMAGE"]
PiiAction = Literal["BLOCK", "ANONYMIZE", "NONE"]
GroundingType = Literal["GROUNDING", "RELEVANCE"]
Tier = Literal["CLASSIC", "STANDARD"]
PiiEntityType = Literal[
    "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD",
    "PHONE", "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER", "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
]

#: The 31 PII entity types of the CloudFormation schema (same as the API's ``GuardrailPiiEntity``).
PII_ENTITY_TYPES: tuple[str, ...] = get_args(PiiEntityType)
CONTENT_FILTER_TYPES: tuple[str, ...] = get_args(ContentFilterType)

#: Content filters that may evaluate images. PROMPT_ATTACK stays text-only here: image prompt-attack
#: detection exists only in a few commercial regions, and a template must deploy in every partition.
IMAGE_FILTER_TYPES: frozenset[str] = frozenset({"HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"})

#: Limits of the CloudFormation schema and the CreateGuardrail API.
NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-_]{1,50}$")
TOPIC_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-_ !?.]{1,100}$")
PROFILE_ID_PATTERN = re.compile(r"^[a-z0-9-]+\.guardrail\.v[0-9:]+$")
MESSAGE_MAX = 500
DESCRIPTION_MAX = 200
MAX_CONTENT_FILTERS = 6
MAX_DENIED_TOPICS = 30
MAX_TOPIC_DEFINITION = 200
MAX_TOPIC_EXAMPLES = 5
MAX_TOPIC_EXAMPLE = 100
MAX_REGEXES = 10
MAX_REGEX_NAME = 100
MAX_REGEX_PATTERN = 500
MAX_REGEX_DESCRIPTION = 1000
MAX_WORDS = 10_000
MAX_WORD = 100
MAX_GROUNDING_THRESHOLD = 0.99
#: ``ModelEnforcement.ExcludedModels`` item pattern of ``AWS::Bedrock::EnforcedGuardrailConfiguration``.
ENFORCEMENT_MODEL_PATTERN = re.compile(
    r"^([a-z0-9-]{1,63}[.][a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}(/[a-z0-9]{12})?$"
)

#: Cross-region guardrail profiles by region: ``<geo>.guardrail.v1:0``. Order matters (us-gov before us).
#: ISO partitions (``us-iso-*``, ``us-isob-*``...) and other geographies have no profile: STANDARD
#: tier raises there unless ``guardrail_profile_id`` names one.
_PROFILE_BY_REGION: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^us-gov-[a-z]+-\d+$"), "us-gov"),
    (re.compile(r"^us-(east|west)-\d+$"), "us"),
    (re.compile(r"^eu-[a-z]+-\d+$"), "eu"),
    (re.compile(r"^ap-[a-z]+-\d+$"), "apac"),
)
GUARDRAIL_PROFILE_VERSION = "guardrail.v1:0"

#: Say *that* a policy blocked the call, never *which* filter matched (SI-11: error messages reveal
#: nothing an attacker can use to tune a prompt around the guardrail).
DEFAULT_BLOCKED_INPUT_MESSAGE = (
    "This request was blocked by the organization's AI use policy. Remove sensitive, classified or "
    "prohibited content and try again."
)
DEFAULT_BLOCKED_OUTPUT_MESSAGE = (
    "The response was withheld by the organization's AI use policy because it may contain sensitive, "
    "classified or prohibited content."
)


def _choice(where: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConstructPropsError(f"{where}: {value!r} is not allowed; allowed: {', '.join(allowed)}")


def _length(where: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        shown = value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
        size = f" ({len(value)} characters)" if isinstance(value, str) else ""
        raise ConstructPropsError(f"{where}: {shown!r}{size} must be a string of {low} to {high} characters")


def _flag(where: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConstructPropsError(f"{where}: {value!r} is not allowed; allowed: True, False")


def _check_directions(where: str, obj: Any) -> None:
    """Per-direction overrides of a PII entity or regex: an action where given, and boolean flags."""
    for direction in ("input", "output"):
        value = getattr(obj, f"{direction}_action")
        if value is not None:
            _choice(f"{where}.{direction}_action", value, get_args(PiiAction))
        _flag(f"{where}.{direction}_enabled", getattr(obj, f"{direction}_enabled"))


def _as_tuple(obj: Any, name: str) -> None:
    value = getattr(obj, name)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConstructPropsError(f"{type(obj).__name__}.{name}: {value!r} must be a sequence (tuple or list)")
    object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True)
class ContentFilter:
    """One content filter category with its strength, action and modalities per direction.

    HATE, INSULTS, SEXUAL, VIOLENCE and MISCONDUCT filter harmful content in prompts and answers
    (SI-10 input, SI-15 output). PROMPT_ATTACK detects jailbreaks and prompt injection in *inputs*
    only: AWS requires its ``output_strength`` to be NONE (use :meth:`prompt_attack`).
    Modalities default to TEXT; IMAGE is allowed on the categories in ``IMAGE_FILTER_TYPES`` and
    is regional, so it is opt-in.
    """

    type: ContentFilterType
    input_strength: FilterStrength = "HIGH"
    output_strength: FilterStrength = "HIGH"
    input_action: FilterAction = "BLOCK"
    output_action: FilterAction = "BLOCK"
    input_enabled: bool = True
    output_enabled: bool = True
    input_modalities: tuple[Modality, ...] = ("TEXT",)
    output_modalities: tuple[Modality, ...] = ("TEXT",)

    @classmethod
    def prompt_attack(cls, strength: FilterStrength = "HIGH", *, action: FilterAction = "BLOCK") -> ContentFilter:
        """The PROMPT_ATTACK filter: input only (output strength NONE), text only."""
        return cls("PROMPT_ATTACK", input_strength=strength, output_strength="NONE", input_action=action)

    def __post_init__(self) -> None:
        _choice("ContentFilter.type", self.type, CONTENT_FILTER_TYPES)
        where = f"ContentFilter({self.type})"
        for direction in ("input", "output"):
            _choice(f"{where}.{direction}_strength", getattr(self, f"{direction}_strength"), get_args(FilterStrength))
            _choice(f"{where}.{direction}_action", getattr(self, f"{direction}_action"), get_args(FilterAction))
            _flag(f"{where}.{direction}_enabled", getattr(self, f"{direction}_enabled"))
            _as_tuple(self, f"{direction}_modalities")
            modalities = getattr(self, f"{direction}_modalities")
            if not 1 <= len(modalities) <= 2 or len(set(modalities)) != len(modalities):
                raise ConstructPropsError(f"{where}.{direction}_modalities: {list(modalities)!r} must hold 1 or 2 distinct "
                                 "values of TEXT, IMAGE")
            allowed = ("TEXT", "IMAGE") if self.type in IMAGE_FILTER_TYPES else ("TEXT",)
            for modality in modalities:
                _choice(f"{where}.{direction}_modalities", modality, allowed)
        if self.type == "PROMPT_ATTACK" and self.output_strength != "NONE":
            raise ConstructPropsError(f"{where}.output_strength: {self.output_strength!r} is not allowed; allowed: NONE "
                             "(prompt attacks are detected on inputs only; use ContentFilter.prompt_attack())")

    def to_cfn(self) -> bedrock.CfnGuardrail.ContentFilterConfigProperty:
        if self.type == "PROMPT_ATTACK":  # the output side does not exist for prompt attacks
            return bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=self.type, input_strength=self.input_strength, output_strength="NONE",
                input_action=self.input_action, input_enabled=self.input_enabled,
                input_modalities=list(self.input_modalities),
            )
        return bedrock.CfnGuardrail.ContentFilterConfigProperty(
            type=self.type, input_strength=self.input_strength, output_strength=self.output_strength,
            input_action=self.input_action, output_action=self.output_action,
            input_enabled=self.input_enabled, output_enabled=self.output_enabled,
            input_modalities=list(self.input_modalities), output_modalities=list(self.output_modalities),
        )


@dataclass(frozen=True)
class PiiEntity:
    """A PII type to BLOCK (refuse the call), ANONYMIZE (mask it as ``{TYPE}``) or NONE (detect only).

    ``input_action``/``output_action`` default to ``action``. Blocking keeps the data out of the model
    and out of invocation logs (SC-28, SI-15); anonymizing lets the call proceed with the value masked.
    """

    type: PiiEntityType
    action: PiiAction = "BLOCK"
    input_action: PiiAction | None = None
    output_action: PiiAction | None = None
    input_enabled: bool = True
    output_enabled: bool = True

    def __post_init__(self) -> None:
        _choice("PiiEntity.type", self.type, PII_ENTITY_TYPES)
        where = f"PiiEntity({self.type})"
        _choice(f"{where}.action", self.action, get_args(PiiAction))
        _check_directions(where, self)

    def to_cfn(self) -> bedrock.CfnGuardrail.PiiEntityConfigProperty:
        return bedrock.CfnGuardrail.PiiEntityConfigProperty(
            type=self.type, action=self.action,
            input_action=self.input_action or self.action, output_action=self.output_action or self.action,
            input_enabled=self.input_enabled, output_enabled=self.output_enabled,
        )


@dataclass(frozen=True)
class RegexFilter:
    """A custom sensitive-information pattern (BLOCK, ANONYMIZE or NONE per direction).

    Keep patterns simple (character classes, alternation, ``\\b``, bounded repeats): Bedrock's regex
    engine is not Python's, and lookbehind or backreferences are not portable. The pattern is
    compiled with Python ``re`` here only to catch syntax errors early.
    """

    name: str
    pattern: str
    description: str | None = None
    action: PiiAction = "BLOCK"
    input_action: PiiAction | None = None
    output_action: PiiAction | None = None
    input_enabled: bool = True
    output_enabled: bool = True

    def __post_init__(self) -> None:
        _length("RegexFilter.name", self.name, 1, MAX_REGEX_NAME)
        where = f"RegexFilter({self.name})"
        _length(f"{where}.pattern", self.pattern, 1, MAX_REGEX_PATTERN)
        try:
            re.compile(self.pattern)
        except re.error as err:
            raise ConstructPropsError(f"{where}.pattern: {self.pattern!r} is not a valid regular expression ({err})") from None
        if "(?<" in self.pattern.replace("(?<P", ""):
            raise ConstructPropsError(f"{where}.pattern: {self.pattern!r} uses lookbehind; allowed: patterns without "
                             "lookbehind (not portable to Bedrock's regex engine)")
        if self.description is not None:
            _length(f"{where}.description", self.description, 1, MAX_REGEX_DESCRIPTION)
        _choice(f"{where}.action", self.action, get_args(PiiAction))
        _check_directions(where, self)

    def to_cfn(self) -> bedrock.CfnGuardrail.RegexConfigProperty:
        return bedrock.CfnGuardrail.RegexConfigProperty(
            name=self.name, pattern=self.pattern, description=self.description, action=self.action,
            input_action=self.input_action or self.action, output_action=self.output_action or self.action,
            input_enabled=self.input_enabled, output_enabled=self.output_enabled,
        )


@dataclass(frozen=True)
class DeniedTopic:
    """A topic the application must not discuss (AC-4: information flow by content).

    ``definition`` (at most 200 characters) says what the topic is; ``examples`` (at most 5, each at
    most 100 characters) are sample prompts. Write the definition as a description, not an
    instruction ("Investment advice is ..."), as AWS recommends.
    """

    name: str
    definition: str
    examples: tuple[str, ...] = ()
    input_action: FilterAction = "BLOCK"
    output_action: FilterAction = "BLOCK"
    input_enabled: bool = True
    output_enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TOPIC_NAME_PATTERN.fullmatch(self.name):
            raise ConstructPropsError(f"DeniedTopic.name: {self.name!r} is not allowed; allowed: 1-100 letters, digits, "
                             "spaces and -_!?.")
        where = f"DeniedTopic({self.name})"
        _length(f"{where}.definition", self.definition, 1, MAX_TOPIC_DEFINITION)
        _as_tuple(self, "examples")
        if len(self.examples) > MAX_TOPIC_EXAMPLES:
            raise ConstructPropsError(f"{where}.examples: {len(self.examples)} examples is too many; allowed: at most "
                             f"{MAX_TOPIC_EXAMPLES}")
        for example in self.examples:
            _length(f"{where}.examples", example, 1, MAX_TOPIC_EXAMPLE)
        for direction in ("input", "output"):
            _choice(f"{where}.{direction}_action", getattr(self, f"{direction}_action"), get_args(FilterAction))
            _flag(f"{where}.{direction}_enabled", getattr(self, f"{direction}_enabled"))

    def to_cfn(self) -> bedrock.CfnGuardrail.TopicConfigProperty:
        return bedrock.CfnGuardrail.TopicConfigProperty(
            name=self.name, definition=self.definition, type="DENY", examples=list(self.examples) or None,
            input_action=self.input_action, output_action=self.output_action,
            input_enabled=self.input_enabled, output_enabled=self.output_enabled,
        )


@dataclass(frozen=True)
class WordPolicy:
    """Exact-match word or phrase filters and AWS's managed PROFANITY list.

    Cheap and deterministic: use it for code names, project names or terms policy forbids outright.
    ``input_*``/``output_*`` apply to every word and to the managed list.
    """

    words: tuple[str, ...] = ()
    profanity: bool = False
    input_action: FilterAction = "BLOCK"
    output_action: FilterAction = "BLOCK"
    input_enabled: bool = True
    output_enabled: bool = True

    def __post_init__(self) -> None:
        _as_tuple(self, "words")
        if len(self.words) > MAX_WORDS:
            raise ConstructPropsError(f"WordPolicy.words: {len(self.words)} words is too many; allowed: at most {MAX_WORDS}")
        for word in self.words:
            _length("WordPolicy.words", word, 1, MAX_WORD)
        if len(set(self.words)) != len(self.words):
            dupes = sorted({w for w in self.words if self.words.count(w) > 1})
            raise ConstructPropsError(f"WordPolicy.words: duplicate words {dupes!r}; allowed: each word once")
        _flag("WordPolicy.profanity", self.profanity)
        for direction in ("input", "output"):
            _choice(f"WordPolicy.{direction}_action", getattr(self, f"{direction}_action"), get_args(FilterAction))
            _flag(f"WordPolicy.{direction}_enabled", getattr(self, f"{direction}_enabled"))
        if not self.words and not self.profanity:
            raise ConstructPropsError("WordPolicy: no words and profanity=False; allowed: at least one word or "
                             "profanity=True (or leave GuardrailPolicy.word_policy as None)")

    def _directions(self) -> dict[str, Any]:
        return {"input_action": self.input_action, "output_action": self.output_action,
                "input_enabled": self.input_enabled, "output_enabled": self.output_enabled}

    def to_cfn(self) -> bedrock.CfnGuardrail.WordPolicyConfigProperty:
        return bedrock.CfnGuardrail.WordPolicyConfigProperty(
            words_config=[bedrock.CfnGuardrail.WordConfigProperty(text=w, **self._directions())
                          for w in self.words] or None,
            managed_word_lists_config=[bedrock.CfnGuardrail.ManagedWordsConfigProperty(
                type="PROFANITY", **self._directions())] if self.profanity else None,
        )


@dataclass(frozen=True)
class GroundingFilter:
    """A contextual grounding check: GROUNDING (answer supported by the source) or RELEVANCE (answer
    relevant to the query). Answers scoring below ``threshold`` (0 to 0.99) are blocked.

    It only evaluates calls that tag a grounding source and a query (RAG); see the preset for why it
    is off by default.
    """

    type: GroundingType
    threshold: float
    action: FilterAction = "BLOCK"
    enabled: bool = True

    def __post_init__(self) -> None:
        _choice("GroundingFilter.type", self.type, get_args(GroundingType))
        where = f"GroundingFilter({self.type})"
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) or not (
            0 <= self.threshold <= MAX_GROUNDING_THRESHOLD
        ):
            raise ConstructPropsError(f"{where}.threshold: {self.threshold!r} is out of range; allowed: 0 to "
                             f"{MAX_GROUNDING_THRESHOLD} (1 would block every answer)")
        _choice(f"{where}.action", self.action, get_args(FilterAction))
        _flag(f"{where}.enabled", self.enabled)

    def to_cfn(self) -> bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty:
        return bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
            type=self.type, threshold=self.threshold, action=self.action, enabled=self.enabled,
        )


def _unique(where: str, keys: Sequence[str]) -> None:
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ConstructPropsError(f"{where}: duplicate {', '.join(dupes)}; allowed: each at most once")


@dataclass(frozen=True)
class GuardrailPolicy:
    """Everything a guardrail filters. Take :func:`~compliant_bedrock.guardrail_presets.federal_baseline`
    and extend it with ``dataclasses.replace`` rather than starting from scratch.

    Collection limits (CloudFormation and API): at most 6 content filters (one per type), 30 denied
    topics, 10 regexes (a hard API limit, not a quota), one entry per PII type and grounding type.
    """

    content_filters: tuple[ContentFilter, ...] = ()
    pii_entities: tuple[PiiEntity, ...] = ()
    regexes: tuple[RegexFilter, ...] = ()
    denied_topics: tuple[DeniedTopic, ...] = ()
    word_policy: WordPolicy | None = None
    grounding_filters: tuple[GroundingFilter, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (("content_filters", ContentFilter), ("pii_entities", PiiEntity),
                           ("regexes", RegexFilter), ("denied_topics", DeniedTopic),
                           ("grounding_filters", GroundingFilter)):
            _as_tuple(self, name)
            for item in getattr(self, name):
                if not isinstance(item, kind):
                    raise ConstructPropsError(f"GuardrailPolicy.{name}: {item!r} is not a {kind.__name__}")
        if self.word_policy is not None and not isinstance(self.word_policy, WordPolicy):
            raise ConstructPropsError(f"GuardrailPolicy.word_policy: {self.word_policy!r} is not a WordPolicy or None")
        _unique("GuardrailPolicy.content_filters", [f.type for f in self.content_filters])
        _unique("GuardrailPolicy.pii_entities", [p.type for p in self.pii_entities])
        _unique("GuardrailPolicy.regexes (names)", [r.name for r in self.regexes])
        _unique("GuardrailPolicy.denied_topics (names)", [t.name for t in self.denied_topics])
        _unique("GuardrailPolicy.grounding_filters", [g.type for g in self.grounding_filters])
        if len(self.denied_topics) > MAX_DENIED_TOPICS:
            raise ConstructPropsError(f"GuardrailPolicy.denied_topics: {len(self.denied_topics)} topics is too many; "
                             f"allowed: at most {MAX_DENIED_TOPICS}")
        if len(self.regexes) > MAX_REGEXES:
            raise ConstructPropsError(f"GuardrailPolicy.regexes: {len(self.regexes)} regexes is too many; allowed: at most "
                             f"{MAX_REGEXES} (the CloudFormation/CreateGuardrail limit; merge patterns with '|')")

    @property
    def is_empty(self) -> bool:
        return not (self.content_filters or self.pii_entities or self.regexes or self.denied_topics
                    or self.word_policy or self.grounding_filters)

    def canonical_json(self) -> str:
        """A stable serialization: the same policy gives the same string in every process."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))


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
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name: the guardrail's name, unique in the account and region (1-50 of ``[0-9a-zA-Z-_]``).
        :param policy: what to filter; default :func:`federal_baseline` (``compliant_bedrock.guardrail_presets``).
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
        :param enforcement_excluded_models: model ids the account-level enforcement skips (e.g. embedding
            models); requires ``enforce_account_level``.
        :param removal_policy: of the guardrail. RETAIN by default: invocation logs and trails name the
            guardrail, and the configuration they refer to stays readable after ``cdk destroy`` (AU-9,
            AU-11). A retained guardrail keeps its name: use DESTROY for throw-away environments.
        """
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        where = f"BedrockGuardrail {construct_id!r}"
        if policy is None:
            from .guardrail_presets import federal_baseline  # the preset module imports this one

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
        for model in enforcement_excluded_models:
            if not ENFORCEMENT_MODEL_PATTERN.fullmatch(model):
                raise ConstructPropsError(f"{where}: enforcement_excluded_models: {model!r} is not allowed; allowed: "
                                 "model ids such as 'amazon.titan-embed-text-v2:0'")
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
                    included_models=included, excluded_models=list(enforcement_excluded_models),
                ) if enforcement_excluded_models or included != ["ALL"] else None,
            )
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
