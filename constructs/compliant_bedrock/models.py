"""The model catalog: how each Bedrock model is reached on each path, and what AWS enforces there, as data.

Constructs never hard-code a model. They take ids and an *inference path*, and this module tells them:

* which ARNs an IAM statement must name for a ``bedrock-runtime`` id: an in-region foundation model, or
  a cross-region inference profile plus the foundation model in every destination region (and the
  region-less ARN for ``global.`` profiles);
* which ids exist on which endpoint (``openai.gpt-oss-120b-1:0`` on runtime is ``openai.gpt-oss-120b``
  on Mantle; GPT-5.4/5.5 are on Mantle only; GPT-5.6/6 are on runtime through ``us.``/``global.``
  profiles only), which APIs each endpoint serves for a model, and in which regions;
* what AWS enforces on each path (``PATHS``): guardrails only on runtime Converse/Invoke, invocation
  logging only on runtime, inference a CloudTrail *management* event on runtime and a *data* event on
  Mantle;
* where each id may process prompts (``model_destinations``): its own region in-region and on Mantle, a
  profile's destination regions (UNCERTAIN where the catalog cannot vouch for them, never invented), any
  commercial region for ``global.``; and which regions a declared data residency admits (``Residency``).

Every fact carries its source URL; facts the project's fact sheet marks UNCERTAIN carry
``uncertain=True`` (or sit in ``uncertain_notes``), and they live here only. Ids outside the catalog
are accepted when they match the id pattern; they are routed by their shape and reported as
*unverified* (the synth prints them on the terminal and lists them in ``summary.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from .errors import CompliantBedrockError

#: ``<provider>.<name>[:<version>]`` with an optional geography prefix for inference profiles.
MODEL_ID_PATTERN = re.compile(
    r"^(?:(?P<geo>us|us-gov|eu|apac|jp|au|ca|in|global)\.)?"
    r"(?P<base>[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9._-]*(?::[0-9]+)?)$"
)
MODEL_ID_MAX_LENGTH = 128

#: Mantle project names (``AWS::BedrockMantle::Project`` ``Name``): keep them to a safe charset.
MANTLE_PROJECT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

#: Destination regions of system-defined cross-region inference profiles, by geography.
#: A profile may route a request to any of them, so IAM must allow the foundation model in each.
GEO_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2",
    ),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "ca": ("ca-central-1", "ca-west-1"),
    "in": ("ap-south-1", "ap-south-2"),
}

#: Regions outside the commercial partition (GovCloud, ISO, China): no global inference profile reaches them.
_NON_COMMERCIAL_REGION_PREFIXES = ("us-gov-", "us-iso", "eu-isoe-", "cn-")

# ------------------------------------------------------------------------------------------- sources

SRC_OPENAI_PARAMS = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html"
SRC_RESPONSES = "https://docs.aws.amazon.com/bedrock/latest/userguide/inference-responses-api.html"
SRC_ENDPOINTS = "https://docs.aws.amazon.com/bedrock/latest/userguide/endpoints.html"
SRC_MANTLE_REGIONS = "https://docs.aws.amazon.com/bedrock/latest/userguide/endpoints-region-availability.html"
SRC_GPT54_55_GA = "https://aws.amazon.com/blogs/aws/get-started-with-openai-gpt-5-5-gpt-5-4-models-and-codex-on-amazon-bedrock"
SRC_GPT54_55_SAMPLE = ("https://aws-solutions-library-samples.github.io/"
                       "accelerated-intelligent-document-processing-on-aws/openai-models/")
SRC_GPT56_SOL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-openai-gpt-56-sol.html"
SRC_GPT56_TERRA = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-openai-gpt-56-terra.html"
SRC_GPT56_LUNA = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-openai-gpt-56-luna.html"
SRC_GPT6_ASTRA = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-openai-gpt-6-astra.html"
SRC_GPT6_SOL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-openai-gpt-6-sol.html"
SRC_OPENAI_GUIDE = "https://developers.openai.com/api/docs/guides/amazon-bedrock"
SRC_GOVCLOUD_BLOG = ("https://aws.amazon.com/blogs/machine-learning/run-nvidia-nemotron-and-openai-gpt-oss-models-on-"
                     "amazon-bedrock-in-aws-govcloud-us/")
SRC_GUARDRAIL_KEY = "https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html"
SRC_INVOCATION_LOGGING = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html"
SRC_CLOUDTRAIL_MANTLE = "https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html"
SRC_CLOUDTRAIL_RUNTIME = "https://docs.aws.amazon.com/bedrock/latest/userguide/logging-using-cloudtrail.html"
SRC_MANTLE_SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_bedrock-mantle.html"
SRC_CODEX = "https://developers.openai.com/codex/amazon-bedrock"
SRC_MANAGED_AGENTS = ("https://docs.aws.amazon.com/bedrock/latest/userguide/"
                      "bedrock-managed-agents-openai-security.html")


class Api(str, Enum):
    """Inference APIs, as the model cards name them."""

    CONVERSE = "Converse"
    INVOKE = "InvokeModel"
    RESPONSES = "Responses"
    CHAT_COMPLETIONS = "Chat Completions"


class InferencePath(str, Enum):
    """How an environment reaches a model. Config spells these values."""

    #: bedrock-runtime Converse/ConverseStream (and InvokeModel where the model has it), with the guardrail.
    RUNTIME_CONVERSE = "runtime-converse"
    #: bedrock-runtime's OpenAI-compatible APIs (``/openai/v1`` Responses, Chat Completions): no guardrail.
    RUNTIME_OPENAI = "runtime-openai"
    #: bedrock-mantle (``bedrock-mantle.<region>.api.aws``): no guardrail, no invocation logging.
    MANTLE = "mantle"


@dataclass(frozen=True)
class PathEnforcement:
    """What AWS enforces, and records, on one inference path."""

    path: InferencePath
    endpoint: str
    apis: tuple[Api, ...]
    guardrail: bool
    invocation_logging: bool
    cloudtrail: str
    iam_actions: tuple[str, ...]
    model_scoping: str
    sources: tuple[str, ...]
    uncertain_notes: tuple[str, ...] = ()


PATHS: Mapping[InferencePath, PathEnforcement] = MappingProxyType({
    InferencePath.RUNTIME_CONVERSE: PathEnforcement(
        InferencePath.RUNTIME_CONVERSE, "bedrock-runtime", (Api.CONVERSE, Api.INVOKE),
        guardrail=True, invocation_logging=True,
        cloudtrail="management event (InvokeModel/Converse), eventSource bedrock.amazonaws.com",
        iam_actions=("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
        model_scoping="IAM resource: foundation-model and inference-profile ARNs; bedrock:GuardrailIdentifier",
        sources=(SRC_GUARDRAIL_KEY, SRC_INVOCATION_LOGGING, SRC_CLOUDTRAIL_RUNTIME),
        uncertain_notes=(
            "The GPT-5.6 Sol card says callers also need bedrock:InvokeModel on project/default; the Responses page "
            "ties that to Responses/Chat Completions only. If Converse needed it too, the package's Deny of "
            f"project/* would fail Converse closed ({SRC_GPT56_SOL}).",),
    ),
    InferencePath.RUNTIME_OPENAI: PathEnforcement(
        InferencePath.RUNTIME_OPENAI, "bedrock-runtime", (Api.RESPONSES, Api.CHAT_COMPLETIONS),
        guardrail=False, invocation_logging=True,
        cloudtrail="not documented (event name and category of /openai/v1 calls on runtime)",
        iam_actions=("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
        model_scoping="IAM resource: the model ARN and project/default with bedrock:ModelArn",
        sources=(SRC_RESPONSES, SRC_INVOCATION_LOGGING),
        uncertain_notes=("How runtime Responses/Chat Completions calls appear in CloudTrail is not documented.",),
    ),
    InferencePath.MANTLE: PathEnforcement(
        InferencePath.MANTLE, "bedrock-mantle", (Api.RESPONSES, Api.CHAT_COMPLETIONS),
        guardrail=False, invocation_logging=False,
        cloudtrail="data event (CreateInference) on AWS::BedrockMantle::Project, eventSource "
                   "bedrock-mantle.amazonaws.com; no prompt or completion content",
        iam_actions=("bedrock-mantle:CreateInference",),
        model_scoping="IAM resource: the project ARN; condition bedrock-mantle:Model (no model resource type)",
        sources=(SRC_CLOUDTRAIL_MANTLE, SRC_INVOCATION_LOGGING, SRC_MANTLE_SAR),
        uncertain_notes=("No AWS text says guardrails apply on bedrock-mantle; the project assumes they do not.",
                         "aws:SourceVpce on bedrock-mantle requests is not confirmed in AWS text."),
    ),
})

#: Paths no Bedrock guardrail covers: an environment must accept the risk in words to use them.
UNGUARDED_PATHS: frozenset[InferencePath] = frozenset(p for p, e in PATHS.items() if not e.guardrail)

#: Commercial and GovCloud regions with a bedrock-mantle endpoint (Responses API page; us-west-1 has none).
MANTLE_REGIONS: frozenset[str] = frozenset({
    "us-east-1", "us-east-2", "us-west-2", "ap-southeast-3", "ap-south-1", "ap-southeast-2", "ap-northeast-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-south-1", "eu-north-1", "sa-east-1", "us-gov-west-1",
})
MANTLE_REGIONS_SOURCE = SRC_RESPONSES

#: Where GPT-5.x and GPT-6 stand in GovCloud: data, not a refusal (ids outside the catalog stay unverified).
GOVCLOUD_NOTE = (
    "GovCloud documents gpt-oss-20b/120b in us-gov-west-1 in-region and through a us-gov. profile "
    f"({SRC_GOVCLOUD_BLOG}); the GPT-5.6 and GPT-6 model cards list no GovCloud region, while the Responses "
    f"API page mentions us-gov. profiles for 'the OpenAI GPT models' ({SRC_RESPONSES}): UNCERTAIN, confirm "
    "with aws bedrock list-inference-profiles --region us-gov-west-1. Codex does not support Mantle in "
    f"GovCloud ({SRC_CODEX})."
)


@dataclass(frozen=True)
class Profile:
    """A system-defined cross-region inference profile on bedrock-runtime."""

    profile_id: str
    source: str
    #: Regions the profile can be called from; None: any region of its geography.
    source_regions: tuple[str, ...] | None = None
    #: Regions it may route to; None: the geography's (``GEO_DESTINATIONS``), or the source regions.
    destinations: tuple[str, ...] | None = None
    #: Destinations that depend on the calling region (GPT-6 Sol's ``us.`` profile).
    destinations_by_source: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    uncertain: bool = False
    #: Whether the *destination regions* are UNCERTAIN; None: as ``uncertain`` (the id and its routing stand or fall
    #: together unless a source states the routing alone).
    destinations_uncertain: bool | None = None
    #: Why the destinations are uncertain, or where they come from, in one clause (the evidence quotes it).
    destinations_note: str = ""

    @property
    def geo(self) -> str:
        return self.profile_id.split(".", 1)[0]

    @property
    def routing_uncertain(self) -> bool:
        """The catalog cannot vouch for where this profile runs inference (UNCERTAIN destinations)."""
        return self.uncertain if self.destinations_uncertain is None else self.destinations_uncertain


@dataclass(frozen=True)
class CatalogModel:
    """One model as AWS documents it: ids, APIs and regions per endpoint, with sources."""

    name: str
    #: The foundation-model id on bedrock-runtime (the base of its profiles); None: not on runtime.
    runtime_id: str | None
    runtime_in_region: bool
    runtime_apis: tuple[Api, ...]
    profiles: tuple[Profile, ...]
    mantle_id: str | None
    mantle_apis: tuple[Api, ...]
    #: ``/v1`` or ``/openai/v1``: the wrong prefix is rejected with "isn't supported on this route".
    mantle_base_path: str
    #: Regions with Mantle in-region inference for it; None: not documented per model (any Mantle region).
    mantle_regions: tuple[str, ...] | None
    sources: tuple[str, ...]
    uncertain_notes: tuple[str, ...] = ()
    #: Regions of in-region runtime inference; None: not restricted by the catalog.
    runtime_regions: tuple[str, ...] | None = None

    def runtime_ids(self) -> tuple[str, ...]:
        ids = (self.runtime_id,) if self.runtime_id and self.runtime_in_region else ()
        return ids + tuple(p.profile_id for p in self.profiles)


_GPT56_US_SOURCES = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1")
_GPT6_SOL_US = {
    "us-east-1": ("us-east-1", "us-east-2", "us-west-2"),
    "us-east-2": ("us-east-1", "us-east-2", "us-west-2"),
    "us-west-2": ("us-east-1", "us-east-2", "us-west-2"),
    "us-west-1": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "ca-central-1": ("ca-central-1", "us-east-1", "us-east-2", "us-west-2"),
}
_RUNTIME_GPT = (Api.CONVERSE, Api.RESPONSES, Api.CHAT_COMPLETIONS)
_OPENAI_APIS = (Api.RESPONSES, Api.CHAT_COMPLETIONS)
_US_CA_NOTE = "us. profiles called from ca-* regions route through Canada (ca-central-1) as well as the US."
_US_SOURCES_AS_DESTINATIONS = ("the model card lists the us. profile's source regions, not its destinations per "
                               "source region; the catalog takes every source region as a destination")


def _frontier(name: str, source: str, *, mantle_regions: tuple[str, ...] | None, us: Profile | None = None,
              notes: tuple[str, ...] = ()) -> CatalogModel:
    """GPT-5.6 / GPT-6: runtime through us./global. profiles only (Converse, Responses, Chat Completions)."""
    runtime_id = f"openai.{name}"
    us = us or Profile(f"us.{runtime_id}", source, source_regions=_GPT56_US_SOURCES,
                       destinations=_GPT56_US_SOURCES, uncertain=True, destinations_note=_US_SOURCES_AS_DESTINATIONS)
    return CatalogModel(
        name, runtime_id, runtime_in_region=False, runtime_apis=_RUNTIME_GPT,
        profiles=(us, Profile(f"global.{runtime_id}", source)),
        mantle_id=runtime_id, mantle_apis=_OPENAI_APIS, mantle_base_path="/openai/v1", mantle_regions=mantle_regions,
        sources=(source, SRC_OPENAI_GUIDE),
        uncertain_notes=(*notes, _US_CA_NOTE, "Destinations of the us. profile per source region are not read; IAM "
                         "allows the foundation model in every listed source region."),
    )


MODELS: tuple[CatalogModel, ...] = (
    *(CatalogModel(
        f"gpt-oss-{size}", f"openai.gpt-oss-{size}-1:0", runtime_in_region=True,
        runtime_apis=(Api.CONVERSE, Api.INVOKE, Api.CHAT_COMPLETIONS),
        # The id is spelled by 3rd parties (uncertain); its routing is the AWS blog's: within GovCloud.
        profiles=(Profile(f"us-gov.openai.gpt-oss-{size}-1:0", SRC_GOVCLOUD_BLOG, uncertain=True,
                          destinations=GEO_DESTINATIONS["us-gov"], destinations_uncertain=False,
                          destinations_note="the AWS GovCloud blog: the GovCloud cross-Region inference id routes "
                                            "across us-gov-west-1 and us-gov-east-1, within the GovCloud boundary"),),
        mantle_id=f"openai.gpt-oss-{size}", mantle_apis=_OPENAI_APIS, mantle_base_path="/v1", mantle_regions=None,
        sources=(SRC_OPENAI_PARAMS, SRC_RESPONSES, SRC_GOVCLOUD_BLOG),
        uncertain_notes=("The us-gov. profile id is spelled from 3rd-party catalogs; the AWS blog names a "
                         "dedicated GovCloud cross-Region inference id without spelling it.",),
    ) for size in ("120b", "20b")),
    CatalogModel(
        "gpt-5.5", None, runtime_in_region=False, runtime_apis=(), profiles=(),
        mantle_id="openai.gpt-5.5", mantle_apis=(Api.RESPONSES,), mantle_base_path="/openai/v1",
        mantle_regions=("us-east-2",), sources=(SRC_GPT54_55_GA, SRC_GPT54_55_SAMPLE),
        uncertain_notes=("Not served on bedrock-runtime per every source read; the AWS model card was not read.",),
    ),
    CatalogModel(
        "gpt-5.4", None, runtime_in_region=False, runtime_apis=(), profiles=(),
        mantle_id="openai.gpt-5.4", mantle_apis=(Api.RESPONSES,), mantle_base_path="/openai/v1",
        mantle_regions=("us-east-2", "us-west-2", "us-gov-west-1"), sources=(SRC_GPT54_55_GA, SRC_GPT54_55_SAMPLE),
        uncertain_notes=("Not served on bedrock-runtime per every source read; the AWS model card was not read.",
                         "us-gov-west-1 comes from an AWS sample, not the User Guide."),
    ),
    _frontier("gpt-5.6-sol", SRC_GPT56_SOL, mantle_regions=("us-east-1", "us-east-2")),
    _frontier("gpt-5.6-terra", SRC_GPT56_TERRA, mantle_regions=None),
    _frontier("gpt-5.6-luna", SRC_GPT56_LUNA, mantle_regions=None,
              notes=("The Luna model card was not read; a 3rd party reports in. and us-gov. profiles.",)),
    _frontier("gpt-6-astra", SRC_GPT6_ASTRA, mantle_regions=("us-west-2",)),
    _frontier("gpt-6-sol", SRC_GPT6_SOL, mantle_regions=("us-east-1",), us=Profile(
        "us.openai.gpt-6-sol", SRC_GPT6_SOL, source_regions=(*_GPT6_SOL_US, "ca-west-1"),
        destinations=("ca-central-1", "ca-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"),
        destinations_by_source=_GPT6_SOL_US)),
    _frontier("gpt-6-luna", SRC_OPENAI_GUIDE, mantle_regions=("us-east-1",)),
)


@dataclass(frozen=True)
class CatalogEntry:
    """A bedrock-runtime id whose routing has been checked against AWS documentation."""

    model_id: str
    model: CatalogModel
    profile: Profile | None = None

    @property
    def provider(self) -> str:
        return self.model_id.rsplit(".", 2)[-2] if self.profile else self.model_id.split(".", 1)[0]


#: bedrock-runtime ids (in-region and profiles) -> entry. Add models to ``MODELS``; ids not here still work.
CATALOG: dict[str, CatalogEntry] = {
    rid: CatalogEntry(rid, m, next((p for p in m.profiles if p.profile_id == rid), None))
    for m in MODELS for rid in m.runtime_ids()
}
#: bedrock-mantle ids -> model.
MANTLE_CATALOG: dict[str, CatalogModel] = {m.mantle_id: m for m in MODELS if m.mantle_id}


class ModelRouteKind(str, Enum):
    FOUNDATION_MODEL = "foundation-model"
    INFERENCE_PROFILE = "inference-profile"
    GLOBAL_INFERENCE_PROFILE = "global-inference-profile"


@dataclass(frozen=True)
class ModelRoute:
    """How one bedrock-runtime id is invoked, and therefore which ARNs IAM must name."""

    model_id: str
    kind: ModelRouteKind
    #: The foundation model behind a profile (the id itself for in-region models).
    foundation_model_id: str
    geo: str | None
    #: Regions whose foundation-model ARN must be allowed (empty for in-region: the stack's region).
    destination_regions: tuple[str, ...] = field(default=())
    verified: bool = True


class ModelIdError(CompliantBedrockError):
    """A model id that cannot be a Bedrock model id, or a path that does not serve it."""


def validate_model_id(model_id: str) -> re.Match[str]:
    """Return the pattern match, or raise ModelIdError saying what a valid id looks like."""
    if not isinstance(model_id, str) or len(model_id) > MODEL_ID_MAX_LENGTH:
        raise ModelIdError(
            f"model id {model_id!r} must be a string of at most {MODEL_ID_MAX_LENGTH} characters"
        )
    match = MODEL_ID_PATTERN.match(model_id)
    if match is None:
        raise ModelIdError(
            f"model id {model_id!r} does not match <provider>.<model>[:<version>] with an optional "
            f"inference-profile prefix ({', '.join(sorted([*GEO_DESTINATIONS, 'global']))}), "
            "e.g. 'openai.gpt-oss-120b-1:0' or 'us.openai.gpt-oss-120b-1:0'"
        )
    return match


def _partition_geo(region: str) -> str:
    return "us-gov" if region.startswith("us-gov-") else "us" if region.startswith(("us-", "ca-")) else ""


def _where_served(model: CatalogModel) -> str:
    """One sentence: which endpoints, ids and regions serve ``model`` (for error messages)."""
    parts = []
    if model.runtime_id:
        ids = ", ".join(model.runtime_ids())
        parts.append(f"bedrock-runtime as {ids} ({', '.join(a.value for a in model.runtime_apis)})")
    if model.mantle_id:
        regions = ", ".join(model.mantle_regions) if model.mantle_regions else "Mantle regions"
        parts.append(f"bedrock-mantle as {model.mantle_id} in {regions} "
                     f"({', '.join(a.value for a in model.mantle_apis)}, base path {model.mantle_base_path})")
    return f"{model.name} is served on " + " and on ".join(parts) + f" (sources: {', '.join(model.sources)})"


def _model_of(model_id: str) -> CatalogModel | None:
    """The catalog model any of whose ids (runtime, profile or Mantle) is ``model_id``."""
    entry = CATALOG.get(model_id)
    if entry:
        return entry.model
    if model_id in MANTLE_CATALOG:
        return MANTLE_CATALOG[model_id]
    base = model_id.split(".", 1)[1] if model_id.split(".", 1)[0] in (*GEO_DESTINATIONS, "global") else model_id
    return next((m for m in MODELS if base in (m.runtime_id, m.mantle_id)), None)


def _runtime_fix(model: CatalogModel, region: str) -> str:
    """The config line that reaches ``model`` from ``region``, or where to go instead."""
    geo = _partition_geo(region)
    if model.runtime_id and model.runtime_in_region and (model.runtime_regions is None or region in model.runtime_regions):
        return f"write '- {model.runtime_id}' (runtime Converse, with the guardrail)"
    for profile in model.profiles:
        sources = profile.source_regions or GEO_DESTINATIONS.get(profile.geo, ())
        if profile.geo == geo and region in sources:
            return f"write '- {profile.profile_id}' (runtime Converse, with the guardrail)"
    if model.mantle_id and (model.mantle_regions is None or region in model.mantle_regions) \
            and region in MANTLE_REGIONS:
        return f"write '- {{id: {model.mantle_id}, path: mantle}}' (unguarded: needs accept_unguarded.mantle)"
    if model.mantle_id and model.mantle_regions:
        return (f"use an environment in {', '.join(model.mantle_regions)} with "
                f"'- {{id: {model.mantle_id}, path: mantle}}'")
    return "choose a model served in this region"


def resolve_model(model_id: str, region: str) -> ModelRoute:
    """Route a bedrock-runtime id invoked from ``region``.

    Raises ModelIdError for a malformed id, a catalog model that bedrock-runtime does not serve under this
    id (GPT-5.4/5.5 are Mantle-only; GPT-5.6/6 have no in-region runtime id), or a profile that cannot be
    called from ``region`` (a ``us.`` profile from eu-west-1, a ``global.`` one from GovCloud); each
    message names where the model is served and the config line to write instead.
    """
    match = validate_model_id(model_id)
    geo, base = match.group("geo"), match.group("base")
    entry = CATALOG.get(model_id)
    model = _model_of(model_id)
    if entry is None and model is not None and (model.runtime_id is None or base != model.runtime_id
                                                or (geo is None and not model.runtime_in_region)):
        raise ModelIdError(f"model {model_id!r} is not a bedrock-runtime id: {_where_served(model)}; "
                           f"{_runtime_fix(model, region)}")
    verified = entry is not None
    if geo is None:
        return ModelRoute(model_id, ModelRouteKind.FOUNDATION_MODEL, model_id, None, (), verified)
    if geo == "global":
        if region.startswith(_NON_COMMERCIAL_REGION_PREFIXES):
            alternative = (f"write '- us-gov.{base}' if AWS offers it (GovCloud profiles are UNCERTAIN for GPT-5.x/6) "
                           f"or the in-region id" if region.startswith("us-gov-") else "use the in-region model id")
            raise ModelIdError(f"global inference profile {model_id!r} routes among commercial regions only and "
                               f"cannot be invoked from {region!r}; {alternative}")
        return ModelRoute(model_id, ModelRouteKind.GLOBAL_INFERENCE_PROFILE, base, geo, (region,), verified)
    profile = entry.profile if entry else None
    sources = (profile.source_regions if profile else None) or GEO_DESTINATIONS[geo]
    if region not in sources:
        raise ModelIdError(
            f"inference profile {model_id!r} can be called from {', '.join(sources)} only, "
            f"not from {region!r}; use a profile of this region's geography or the in-region model id"
        )
    destinations: tuple[str, ...] = GEO_DESTINATIONS[geo]
    if profile is not None:
        destinations = profile.destinations_by_source.get(region) or profile.destinations or sources
    return ModelRoute(model_id, ModelRouteKind.INFERENCE_PROFILE, base, geo, tuple(destinations), verified)


@dataclass(frozen=True)
class MantleModel:
    """A model id on bedrock-mantle (Mantle has no profiles: in-region only)."""

    model_id: str
    verified: bool
    base_path: str | None


def resolve_mantle_model(model_id: str, region: str) -> MantleModel:
    """Check a bedrock-mantle id in ``region``; raise ModelIdError naming where it is served otherwise."""
    match = validate_model_id(model_id)
    if region not in MANTLE_REGIONS:
        raise ModelIdError(f"region {region!r} has no bedrock-mantle endpoint (regions with one: "
                           f"{', '.join(sorted(MANTLE_REGIONS))}; {MANTLE_REGIONS_SOURCE}); reach {model_id!r} on "
                           "bedrock-runtime here, or use an environment in a Mantle region")
    if match.group("geo"):
        raise ModelIdError(f"model {model_id!r} on path mantle: bedrock-mantle has no cross-region profiles; "
                           f"write '- {{id: {match.group('base')}, path: mantle}}' or use path runtime-converse")
    model = MANTLE_CATALOG.get(model_id)
    if model is None:
        known = _model_of(model_id)
        if known is not None:
            raise ModelIdError(f"model {model_id!r} is not a bedrock-mantle id: {_where_served(known)}"
                               + (f"; write '- {{id: {known.mantle_id}, path: mantle}}'" if known.mantle_id else ""))
        return MantleModel(model_id, False, None)
    if model.mantle_regions is not None and region not in model.mantle_regions:
        raise ModelIdError(f"model {model_id!r} is not served on bedrock-mantle in {region!r}: {_where_served(model)}; "
                           f"{_runtime_fix(model, region)}")
    return MantleModel(model_id, True, model.mantle_base_path)


def check_path(model_id: str, path: InferencePath, region: str) -> bool:
    """Validate ``model_id`` on ``path`` from ``region``; True when the catalog knows the id (verified).

    Raises ModelIdError naming the model, where it is served and the config line to write instead.
    """
    if path is InferencePath.MANTLE:
        return resolve_mantle_model(model_id, region).verified
    route = resolve_model(model_id, region)
    entry = CATALOG.get(model_id)
    if entry is not None:
        wanted = (Api.CONVERSE,) if path is InferencePath.RUNTIME_CONVERSE else _OPENAI_APIS
        if not set(wanted) & set(entry.model.runtime_apis):
            raise ModelIdError(f"model {model_id!r} has no {' or '.join(a.value for a in wanted)} API on "
                               f"bedrock-runtime: {_where_served(entry.model)}")
    return route.verified


#: What Converse and ConverseStream authorize as; there is no ``bedrock:Converse`` action.
INVOKE_ACTIONS: tuple[str, ...] = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


# ------------------------------------------------------------------------------ where inference runs

#: What a ``global.`` profile's destinations are: AWS lists none, any commercial region may run the inference.
ANY_COMMERCIAL_REGION = "any commercial AWS region"


@dataclass(frozen=True)
class Destinations:
    """Where one model id, reached on one path and called in one region, may process prompts and completions."""

    model_id: str
    #: ``bedrock-runtime`` or ``bedrock-mantle``.
    endpoint: str
    #: ``in-region``, ``cross-region profile`` or ``global profile``.
    kind: str
    #: The region it is called in; None: not known at synth (an env-agnostic stack).
    source_region: str | None
    #: Every region its inference may run in; None: any commercial region (a ``global.`` profile). Empty for an
    #: in-region id whose region synth does not know (it runs in its stack's region).
    regions: tuple[str, ...] | None
    #: The catalog cannot vouch for ``regions`` (UNCERTAIN): its best reading, never a bound.
    uncertain: bool
    #: Where the catalog has it (URLs); empty for an id outside the catalog.
    sources: tuple[str, ...]
    #: One clause: how the catalog knows, or why it cannot.
    basis: str
    #: The id is in the catalog.
    verified: bool

    @property
    def elsewhere(self) -> tuple[str, ...] | None:
        """The destinations other than the source region; None: any commercial region."""
        return None if self.regions is None else tuple(r for r in self.regions if r != self.source_region)

    def describe(self) -> str:
        if self.regions is None:
            return ANY_COMMERCIAL_REGION
        return ", ".join(self.regions) or "its stack's region"


def _every_destination(profile: Profile) -> tuple[str, ...]:
    found = set(profile.destinations or ()) | {r for d in profile.destinations_by_source.values() for r in d}
    return tuple(sorted(found or GEO_DESTINATIONS.get(profile.geo, ())))


def model_destinations(model_id: str, path: InferencePath | str, region: str | None) -> Destinations:
    """Where ``model_id`` on ``path``, called in ``region``, may run its inference, as the catalog says.

    An in-region id (runtime, or any Mantle id: Mantle has no cross-region profiles) runs in ``region``; a
    ``global.`` profile may run in any commercial region; a geographic profile runs in the destinations the
    catalog lists for it from ``region`` (UNCERTAIN where the catalog marks its routing so). A profile outside
    the catalog is assumed to route within its geography (``GEO_DESTINATIONS``), which nothing vouches for, so
    its destinations are UNCERTAIN. Never invents a destination the catalog does not hold; raises ModelIdError
    for a malformed id only.
    """
    path = InferencePath(path)
    match = validate_model_id(model_id)
    geo = match.group("geo")
    here = (region,) if region else ()
    if path is InferencePath.MANTLE:
        mantle = MANTLE_CATALOG.get(model_id)
        return Destinations(model_id, "bedrock-mantle", "in-region", region, here, False,
                            mantle.sources[:1] if mantle else (MANTLE_REGIONS_SOURCE,),
                            "bedrock-mantle serves in-region only, with no cross-region profiles", mantle is not None)
    entry = CATALOG.get(model_id)
    model = entry.model if entry else _model_of(model_id)
    if geo is None:
        return Destinations(model_id, "bedrock-runtime", "in-region", region, here, False,
                            model.sources[:1] if model else (), "an in-region id runs where it is called",
                            entry is not None)
    profile = entry.profile if entry else None
    if geo == "global":
        return Destinations(model_id, "bedrock-runtime", "global profile", region, None, False,
                            (profile.source,) if profile else (),
                            "a global. profile may route to any commercial region; AWS lists no destination set",
                            entry is not None)
    if profile is None:
        return Destinations(model_id, "bedrock-runtime", "cross-region profile", region,
                            tuple(sorted(GEO_DESTINATIONS.get(geo, ()))), True, (),
                            f"not in the catalog: the {geo}. geography's regions are assumed, no source vouches "
                            "for them", False)
    regions = _every_destination(profile)  # also where it cannot be called from ``region``
    if region is not None and region in (profile.source_regions or GEO_DESTINATIONS.get(geo, ())):
        regions = tuple(sorted(resolve_model(model_id, region).destination_regions))
    basis = profile.destinations_note or (
        f"the catalog's destinations of {model_id}" + (f" when called in {region}"
                                                       if region and profile.destinations_by_source else ""))
    return Destinations(model_id, "bedrock-runtime", "cross-region profile", region, regions,
                        profile.routing_uncertain, (profile.source,), basis, True)


#: Named data residencies: name -> (what it means, the region-name prefixes it admits).
RESIDENCIES: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({
    "us": ("the United States, every us-* region: commercial, GovCloud, ISO", ("us-",)),
    "us-gov": ("AWS GovCloud (US), every us-gov-* region", ("us-gov-",)),
})


@dataclass(frozen=True)
class Residency:
    """The regions an environment declares its prompts and completions may be processed in."""

    #: A ``RESIDENCIES`` name; None: the explicit ``regions``.
    name: str | None
    regions: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: str | Sequence[str]) -> Residency:
        """A named residency (``us``, ``us-gov``) or an explicit list of regions; ValueError for an unknown name."""
        if isinstance(value, str):
            if value not in RESIDENCIES:
                raise ValueError(f"{value!r} is not a named residency; use "
                                 + ", ".join(f"{k} ({v[0]})" for k, v in RESIDENCIES.items())
                                 + " or a list of regions, e.g. [us-east-1, us-west-2]")
            return cls(value)
        return cls(None, tuple(value))

    def allows(self, region: str) -> bool:
        if self.name is not None:
            return region.startswith(RESIDENCIES[self.name][1])
        return region in self.regions

    def outside(self, destinations: Destinations) -> tuple[str, ...]:
        """The destinations this residency does not admit (``ANY_COMMERCIAL_REGION`` for a global profile)."""
        if destinations.regions is None:
            return (ANY_COMMERCIAL_REGION,)
        return tuple(r for r in destinations.regions if not self.allows(r))

    def __str__(self) -> str:
        return f"{self.name} ({RESIDENCIES[self.name][0]})" if self.name else f"[{', '.join(self.regions)}]"


# ------------------------------------------------------------------------------ embedding models

SRC_GUARDRAIL_ENFORCEMENT = "https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-enforcements.html"
SRC_TITAN_EMBEDDINGS = "https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html"
SRC_TITAN_MULTIMODAL_EMBEDDINGS = "https://docs.aws.amazon.com/bedrock/latest/userguide/titan-multiemb-models.html"
SRC_COHERE_EMBED = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html"
SRC_MODELS_REGIONS = "https://docs.aws.amazon.com/bedrock/latest/userguide/models-regions.html"

#: Why enforced guardrails exclude embedding models, as AWS documents it for ``EnforcedGuardrailConfiguration`` and
#: the Organizations ``BEDROCK_POLICY`` (``SRC_GUARDRAIL_ENFORCEMENT``; the project's fact sheet, row A3a, in its
#: words): "You must exclude embedding models, or their calls fail." An embedding call has no text answer for a
#: guardrail to check, so enforcing one on it makes every embedding call (RAG, knowledge-base ingestion) fail.
EMBEDDING_ENFORCEMENT_FACT = ("Embedding models must be excluded from an enforced guardrail configuration, or "
                              f"their calls fail ({SRC_GUARDRAIL_ENFORCEMENT}).")


@dataclass(frozen=True)
class EmbeddingModel:
    """A Bedrock embedding model id, where AWS documents it, with the source."""

    model_id: str
    partitions: tuple[str, ...]
    source: str
    uncertain_notes: tuple[str, ...] = ()


#: Embedding models an enforced guardrail excludes by default (``embedding_model_ids``). Only ids AWS documents.
EMBEDDING_MODELS: tuple[EmbeddingModel, ...] = (
    EmbeddingModel(
        "amazon.titan-embed-text-v2:0", ("aws", "aws-us-gov"), SRC_TITAN_EMBEDDINGS,
        uncertain_notes=(
            "aws-us-gov UNCERTAIN: no stored AWS page read for this catalog lists a GovCloud embedding model "
            f"({SRC_MODELS_REGIONS} has GovCloud columns, the Titan Text Embeddings V2 row was not read); a third "
            "party lists Titan Text Embeddings V2 in us-gov-west-1. Confirm with aws bedrock list-foundation-models "
            "--by-output-modality EMBEDDING --region us-gov-west-1, and add what it lists.",),
    ),
    EmbeddingModel("amazon.titan-embed-text-v1", ("aws",), SRC_TITAN_EMBEDDINGS),
    EmbeddingModel("amazon.titan-embed-image-v1", ("aws",), SRC_TITAN_MULTIMODAL_EMBEDDINGS),
    EmbeddingModel("cohere.embed-english-v3", ("aws",), SRC_COHERE_EMBED),
    EmbeddingModel("cohere.embed-multilingual-v3", ("aws",), SRC_COHERE_EMBED),
)


def embedding_model_ids(partition: str | None) -> tuple[str, ...]:
    """The documented embedding model ids of ``partition`` (``aws``, ``aws-us-gov`` ...): none where AWS documents
    none (the ISO and China partitions here). ``None``, a partition only deployment knows: the ids documented in
    every partition that has any, so no exclusion names a model its partition lacks."""
    if partition is not None:
        return tuple(m.model_id for m in EMBEDDING_MODELS if partition in m.partitions)
    everywhere = {p for m in EMBEDDING_MODELS for p in m.partitions}
    return tuple(m.model_id for m in EMBEDDING_MODELS if everywhere <= set(m.partitions))
