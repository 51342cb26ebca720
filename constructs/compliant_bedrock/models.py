"""The model catalog: how each Bedrock model id is reached, as data.

Constructs never hard-code a model. They take ids, and this module tells them which ARNs an
IAM statement must name for each id: an in-region foundation model, or a cross-region inference
profile plus the foundation model in every destination region (and the region-less ARN for
``global.`` profiles). Ids outside the catalog are accepted when they match the Bedrock id
pattern; they are routed by their shape and reported as *unverified* so a reviewer sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

#: ``<provider>.<name>[:<version>]`` with an optional geography prefix for inference profiles.
MODEL_ID_PATTERN = re.compile(
    r"^(?:(?P<geo>us|us-gov|eu|apac|jp|au|ca|global)\.)?"
    r"(?P<base>[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9._-]*(?::[0-9]+)?)$"
)
MODEL_ID_MAX_LENGTH = 128

#: Mantle project names become part of a resource ARN; keep them to a safe charset.
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
}


#: Regions outside the commercial partition (GovCloud, ISO, China): no global inference profile reaches them.
_NON_COMMERCIAL_REGION_PREFIXES = ("us-gov-", "us-iso", "eu-isoe-", "cn-")


class ModelRouteKind(str, Enum):
    FOUNDATION_MODEL = "foundation-model"
    INFERENCE_PROFILE = "inference-profile"
    GLOBAL_INFERENCE_PROFILE = "global-inference-profile"


@dataclass(frozen=True)
class CatalogEntry:
    """A model id whose routing has been checked against AWS documentation."""

    model_id: str
    provider: str
    description: str
    #: Overrides GEO_DESTINATIONS for a profile whose destinations differ from its geography's.
    destination_regions: tuple[str, ...] | None = None


#: OpenAI first. Add entries here when AWS documents a model; ids not here still work (unverified).
CATALOG: dict[str, CatalogEntry] = {
    e.model_id: e
    for e in (
        CatalogEntry("openai.gpt-oss-120b-1:0", "openai", "gpt-oss-120b, in-region on bedrock-runtime"),
        CatalogEntry("openai.gpt-oss-20b-1:0", "openai", "gpt-oss-20b, in-region on bedrock-runtime"),
    )
}


@dataclass(frozen=True)
class ModelRoute:
    """How one model id is invoked, and therefore which ARNs IAM must name."""

    model_id: str
    kind: ModelRouteKind
    #: The foundation model behind a profile (the id itself for in-region models).
    foundation_model_id: str
    geo: str | None
    #: Regions whose foundation-model ARN must be allowed (empty for in-region: the stack's region).
    destination_regions: tuple[str, ...] = field(default=())
    verified: bool = True


class ModelIdError(ValueError):
    """A model id that cannot be a Bedrock model id."""


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


def resolve_model(model_id: str, region: str) -> ModelRoute:
    """Route a model id invoked from ``region``.

    Raises ModelIdError for a malformed id or a profile whose geography does not contain
    ``region`` (a ``us.`` profile cannot be invoked from eu-west-1, nor a ``us-gov.`` one
    from a commercial region).
    """
    match = validate_model_id(model_id)
    geo, base = match.group("geo"), match.group("base")
    entry = CATALOG.get(model_id)
    verified = entry is not None
    if geo is None:
        return ModelRoute(model_id, ModelRouteKind.FOUNDATION_MODEL, model_id, None, (), verified)
    if geo == "global":
        if region.startswith(_NON_COMMERCIAL_REGION_PREFIXES):
            raise ModelIdError(f"global inference profile {model_id!r} routes among commercial regions only and "
                               f"cannot be invoked from {region!r}; use a profile of this region's geography "
                               "or the in-region model id")
        return ModelRoute(model_id, ModelRouteKind.GLOBAL_INFERENCE_PROFILE, base, geo, (region,), verified)
    destinations = (entry.destination_regions if entry and entry.destination_regions else None) or (
        GEO_DESTINATIONS[geo]
    )
    if region not in destinations:
        raise ModelIdError(
            f"inference profile {model_id!r} routes within {geo!r} ({', '.join(destinations)}) "
            f"and cannot be invoked from {region!r}; use a profile of this region's geography "
            "or the in-region model id"
        )
    return ModelRoute(model_id, ModelRouteKind.INFERENCE_PROFILE, base, geo, tuple(destinations), verified)


#: What Converse and ConverseStream authorize as; there is no ``bedrock:Converse`` action.
INVOKE_ACTIONS: tuple[str, ...] = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
