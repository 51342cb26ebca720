"""The guardrail's policy as typed values: what a Bedrock guardrail filters, checked against AWS's limits.

Frozen dataclasses for content, PII, regex, topic, word and grounding filters and the whole
``GuardrailPolicy``, each validated at construction with an error naming the prop, the bad value and
what is allowed. They hold no construct: presets (:mod:`compliant_bedrock.guardrail_presets`) build
them, and :class:`compliant_bedrock.guardrail.BedrockGuardrail` turns one into CloudFormation.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from aws_cdk import aws_bedrock as bedrock

from .errors import ConstructPropsError

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


def enforcement_exclusions(where: str, partition: str | None, extra: Sequence[str], *,
                           enforce_embedding_models_reason: str | None = None,
                           prop: str = "enforcement_excluded_models") -> list[str]:
    """The models an enforced guardrail (account or organization) skips: the partition's embedding models first
    (``models.embedding_model_ids``: AWS documents that their calls fail under enforcement), then ``extra``.

    Adding models is ``extra``. Taking the embedding models out of the exclusion (enforcing on them, so every
    embedding call fails, e.g. to block embeddings altogether) needs ``enforce_embedding_models_reason``: why, in
    at least 8 words; with it only ``extra`` is excluded. Model ids are checked against the CloudFormation pattern.
    """
    from .compliance.suppressions import _HOLLOW, MIN_REASON_WORDS
    from .models import embedding_model_ids

    reason = enforce_embedding_models_reason
    if reason is not None and (not isinstance(reason, str) or len(reason.split()) < MIN_REASON_WORDS
                               or _HOLLOW.search(reason)):
        raise ConstructPropsError(
            f"{where}: enforce_embedding_models_reason: {reason!r}; enforcing the guardrail on embedding models makes "
            f"every embedding call fail (AWS), so say why that is intended in at least {MIN_REASON_WORDS} words, or "
            "leave it unset (embedding models excluded)")
    for model in extra:
        if not isinstance(model, str) or not ENFORCEMENT_MODEL_PATTERN.fullmatch(model):
            raise ConstructPropsError(f"{where}: {prop}: {model!r} is not allowed; allowed: model ids such as "
                                      "'amazon.titan-embed-text-v2:0'")
    embedding = embedding_model_ids(partition) if reason is None else ()
    return list(dict.fromkeys([*embedding, *extra]))


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

    #: Harmful-content and prompt-attack filters, one per type, with their strength on input and output.
    content_filters: tuple[ContentFilter, ...] = ()
    #: PII types to block or anonymize, on prompts and on answers.
    pii_entities: tuple[PiiEntity, ...] = ()
    #: Regular expressions to block or mask (classification banners, key formats ...).
    regexes: tuple[RegexFilter, ...] = ()
    #: Topics the guardrail refuses, each defined in words with examples.
    denied_topics: tuple[DeniedTopic, ...] = ()
    #: Blocked words and the managed profanity list; None: no word filter.
    word_policy: WordPolicy | None = None
    #: Contextual grounding and relevance thresholds for answers drawn from sources (RAG).
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
