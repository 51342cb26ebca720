"""Strict by default on model ids: what the model catalog cannot vouch for is refused unless accepted in words.

An id outside the catalog (``openai.gpt-4o-mini``, a made-up ``us-gov.`` profile) gets IAM ARNs, APIs and
destination regions derived from its shape, not from AWS documentation; an id the catalog marks UNCERTAIN (a
profile id spelled by third parties, a Mantle model no source places in GovCloud) may not exist where it is
deployed. Either way the permissions and the evidence would claim what no source showed, so configuration
(``accept_unverified_models``) and the constructs (``allow_unverified_models``) take such an id only with a
reason of at least ``MIN_REASON_WORDS`` words, and the acceptance lands in the POA&M.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConstructPropsError
from .models import (
    _NON_COMMERCIAL_REGION_PREFIXES,
    CATALOG,
    MANTLE_CATALOG,
    InferencePath,
    ModelIdError,
    check_path,
)

#: Words an acceptance of an unverified model id needs (the suppression registry's floor).
MIN_REASON_WORDS = 8
_HOLLOW = re.compile(r"\b(todo|tbd|fixme|temporary|temp fix|ignore|not needed|n/a)\b", re.IGNORECASE)


class ModelNotServedError(ConstructPropsError, ModelIdError):
    """A construct's model prop names a model the catalog knows is not served that way in the stack's region."""


def near_model_ids(model_id: str, limit: int = 3) -> list[str]:
    """Catalog ids spelled like ``model_id`` (runtime, profile and Mantle ids), closest first."""
    known = sorted({*CATALOG, *MANTLE_CATALOG})
    return difflib.get_close_matches(model_id, known, n=limit, cutoff=0.75)


def unverified_reason(model_id: str, path: InferencePath | str, region: str | None) -> str | None:
    """Why the catalog cannot vouch for ``model_id`` on ``path`` called in ``region``; None when it can.

    Raises ``ModelIdError`` (as :func:`compliant_bedrock.models.check_path`) when the catalog knows the model
    and it is not served that way there: that is never acceptable, whatever the reason. ``region`` None (a
    stack whose region is an unresolved token): only what holds in every region is checked (catalog membership,
    an UNCERTAIN profile id); where the model is served cannot be.
    """
    path = InferencePath(path)
    if region is None:
        known = model_id in (MANTLE_CATALOG if path is InferencePath.MANTLE else CATALOG)
    else:
        known = check_path(model_id, path, region)
    if not known:
        near = near_model_ids(model_id)
        hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        return f"is not in the model catalog (compliant_bedrock.models){hint}"
    if path is InferencePath.MANTLE:
        model = MANTLE_CATALOG[model_id]
        if model.mantle_regions is None and region is not None and region.startswith(_NON_COMMERCIAL_REGION_PREFIXES):
            return (f"is UNCERTAIN on bedrock-mantle in {region}: no source the catalog read places it in that "
                    "partition (the catalog lists no Mantle region for it)")
        return None
    profile = CATALOG[model_id].profile
    if profile is not None and profile.uncertain:
        what = (profile.destinations_note or "its routing is not documented") if profile.routing_uncertain else \
            "the id is not spelled by an AWS page read the catalog holds, though its routing is"
        return f"is an UNCERTAIN inference profile id in the catalog (source {profile.source}; {what})"
    return None


def acceptance_problem(reason: object) -> str | None:
    """What is wrong with a reason for taking an unverified id, or None when an auditor can read it."""
    if not isinstance(reason, str) or len(reason.split()) < MIN_REASON_WORDS or _HOLLOW.search(reason):
        return (f"{reason!r} is not a reason an auditor can accept; say in at least {MIN_REASON_WORDS} words how "
                "the id was confirmed to exist where it is deployed (e.g. the aws bedrock list-inference-profiles "
                "output and its date) and who checked")
    return None


def check_construct_models(owner: str, models: Iterable[tuple[str, str, InferencePath]], region: str | None,
                           allowed: Mapping[str, str] | None, inherited: Mapping[str, str] | None = None
                           ) -> dict[str, str]:
    """Refuse, at construction, model ids the catalog cannot vouch for in ``region`` unless ``allowed`` names them.

    ``models``: (prop name, model id, path). ``allowed``: ``allow_unverified_models``, id -> reason; ``inherited``:
    acceptances another construct already holds for these ids (the endpoint's, for the access policy built on it).
    ``region`` None: an unresolved token (see :func:`unverified_reason`). Returns the accepted ids with their
    reasons (the construct keeps them for the evidence). Raises ConstructPropsError naming the prop, the id, why,
    and the fix; a ModelIdError (not served there) is re-raised naming the prop.
    """
    allowed = dict(allowed or {})
    for model_id, reason in allowed.items():
        problem = acceptance_problem(reason)
        if problem:
            raise ConstructPropsError(f"{owner}: allow_unverified_models[{model_id!r}]: {problem}")
    accepted: dict[str, str] = {}
    used: set[str] = set()
    for prop, model_id, path in models:
        used.add(model_id)
        try:
            why = unverified_reason(model_id, path, region)
        except ModelIdError as err:
            raise ModelNotServedError(f"{owner}: {prop}: {err}") from None
        if why is None:
            continue
        reason = allowed.get(model_id) or (inherited or {}).get(model_id)
        if reason is None:
            raise ConstructPropsError(
                f"{owner}: {prop}: model id {model_id!r} {why}; use a catalog id, or accept it with "
                f"allow_unverified_models={{{model_id!r}: '<at least {MIN_REASON_WORDS} words: how it was "
                "confirmed in this region, and by whom>'}")
        accepted[model_id] = reason
    stale = sorted(set(allowed) - used)
    if stale:
        raise ConstructPropsError(f"{owner}: allow_unverified_models names {stale}, which no model prop of this "
                                  "construct uses; remove them (an exception for nothing reads as a pre-approval)")
    return accepted


def construct_acceptances(app: Any, outdir: Path) -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]]]:
    """What an own app's constructs accepted through ``allow_unverified_models``, for the evidence: environment ->
    the accepted ids (``summary.md``'s unverified models) and environment -> one POA&M deviation per id.

    The gate uses it when the app passes no ``unverified``/``deviations`` of its own (the reference app passes its
    configuration's, whose acceptances name an approver). ``outdir``: the synthesized assembly (the environment a
    stack belongs to is read from its template, as the rest of the evidence reads it).
    """
    import json

    from aws_cdk import Stack, Token

    from .evidence.assembly import environment_of

    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8")).get("artifacts", {})
    environments = {}
    for name, artifact in manifest.items():
        if artifact.get("type") == "aws:cloudformation:stack":
            stack_name = (artifact.get("properties") or {}).get("stackName") or artifact.get("displayName") or name
            environments[stack_name] = environment_of(outdir, name, artifact)
    unverified: dict[str, list[str]] = {}
    deviations: dict[str, list[dict[str, Any]]] = {}
    for construct in app.node.find_all():
        accepted = getattr(construct, "accepted_unverified_models", None)
        if not isinstance(accepted, dict) or not accepted:
            continue
        stack = Stack.of(construct)
        env = environments.get(stack.stack_name)
        if env is None:
            continue
        region = "a region-agnostic stack" if Token.is_unresolved(stack.region) else stack.region
        for model_id, reason in accepted.items():
            if model_id in unverified.setdefault(env, []):
                continue  # the endpoint and the access policy may both hold it
            unverified[env].append(model_id)
            deviations.setdefault(env, []).append({
                "subject": f"unverified/{model_id}", "controls": ["AC-3", "SA-9(5)"],
                "source": "construct allow_unverified_models", "resource": model_id,
                "weakness": f"Model id {model_id} (called in {region}) is one the model catalog cannot vouch for "
                            "(not in it, or UNCERTAIN there): the ARNs IAM allows for it, its APIs and its destination "
                            "regions follow from its shape or an unconfirmed source, not from AWS documentation",
                "reason": f"{reason} (allow_unverified_models of {construct.node.path}; the construct names no "
                          "approver)",
            })
    return unverified, deviations
