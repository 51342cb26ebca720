"""Where prompts may be processed: every model a stack grants, the region it is called in, and every region the
model catalog says its inference may run in, with the catalog's sources.

The models come from the template: the Allow statements of its identity policies that grant
``bedrock:InvokeModel`` (inference-profile and foundation-model ARNs) or ``bedrock-mantle:CreateInference``
(the ``bedrock-mantle:Model`` condition). The destinations come from the catalog
(:func:`compliant_bedrock.models.model_destinations`): a cross-region inference profile sends prompts and
completions to its destination regions, a ``global.`` profile to any commercial region; where the catalog marks a
profile's destinations UNCERTAIN the evidence says so and names no region it does not hold. ``iam_regions`` are
the regions whose foundation-model ARN the template itself allows for the model (what IAM lets the profile reach).
The control matrix lists them, the diagram draws the regions outside the stack's own, and the OSCAL component
definition states them for the model-access component.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..compliance.template import POLICY_TYPES, as_list, policy_statements, possible_strings
from ..models import InferencePath, ModelIdError, model_destinations
from .assembly import StackEvidence

#: The matrix section's title (its Markdown heading) and what a reader must know to read it.
TITLE = "Where prompts may be processed (data destinations)"
EXPLAINED = ("Each model this stack grants, the region it is called in, and every region the model catalog "
             "(`compliant_bedrock.models`) says its inference may run in: a cross-region inference profile sends "
             "prompts and completions to its destination regions, a `global.` profile to any commercial region. "
             "UNCERTAIN marks a destination set the catalog cannot confirm; it is the catalog's best reading, not "
             "a bound. \"IAM allows\" lists the regions whose foundation-model ARN the template grants for it.")


def _granted(stack: StackEvidence) -> Iterator[tuple[str, str, str | None, str | None]]:
    """(endpoint, model id or profile id, ARN region or None, kind) for every model an Allow statement grants;
    kind ``profile``, ``foundation`` (with a ``bedrock:InferenceProfileArn`` condition: a profile's destination),
    ``in-region`` or ``mantle``."""
    for resource in stack.resources:
        if resource.type not in POLICY_TYPES:
            continue
        for statement in policy_statements(resource):
            if statement.get("Effect") != "Allow":
                continue
            actions = {str(a).lower() for a in as_list(statement.get("Action"))}
            conditions = [block for block in (statement.get("Condition") or {}).values() if isinstance(block, dict)]
            if "bedrock:invokemodel" in actions:
                through_profile = any(k.lower() == "bedrock:inferenceprofilearn" for b in conditions for k in b)
                for arn in (a for r in as_list(statement.get("Resource")) for a in possible_strings(r)):
                    for marker, kind in ((":inference-profile/", "profile"), (":foundation-model/", "foundation")):
                        if marker not in arn:
                            continue
                        head, model_id = arn.split(marker, 1)
                        if "<" in model_id or "*" in model_id:
                            continue
                        parts = head.split(":")
                        region = parts[3] if len(parts) > 3 and "<" not in parts[3] else None
                        yield ("bedrock-runtime", model_id, region,
                               kind if kind == "profile" or through_profile else "in-region")
            if "bedrock-mantle:createinference" in actions:
                for block in conditions:
                    for key, value in block.items():
                        if key.lower() == "bedrock-mantle:model":
                            for model_id in possible_strings(value):
                                if "<" not in model_id and "*" not in model_id:
                                    yield "bedrock-mantle", model_id, None, "mantle"


def data_destinations(stack: StackEvidence) -> list[dict[str, Any]]:
    """One entry per model the stack grants (sorted by endpoint, then id): JSON-ready."""
    wanted: dict[tuple[str, str], str | None] = {}
    allowed: dict[str, set[str]] = {}  # foundation model id -> regions whose ARN IAM allows
    for endpoint, model_id, region, kind in _granted(stack):
        if kind == "foundation":
            allowed.setdefault(model_id, set()).add(region or "(region-less: global)")
            continue
        if kind == "in-region":
            allowed.setdefault(model_id, set()).add(region or "(the stack's region)")
        wanted.setdefault((endpoint, model_id), region)
    found = []
    for (endpoint, model_id), arn_region in sorted(wanted.items()):
        path = InferencePath.MANTLE if endpoint == "bedrock-mantle" else InferencePath.RUNTIME_CONVERSE
        region = arn_region or stack.region
        try:
            dest = model_destinations(model_id, path, region)
        except ModelIdError:
            continue  # not a model id (the policy names something else)
        base = model_id.split(".", 1)[1] if dest.kind != "in-region" else model_id
        entry: dict[str, Any] = {
            "model": model_id, "endpoint": endpoint, "kind": dest.kind, "source_region": region,
            "destinations": list(dest.regions) if dest.regions is not None else None,
            "outside_source_region": list(dest.elsewhere) if dest.elsewhere is not None else None,
            "uncertain": dest.uncertain, "verified": dest.verified, "basis": dest.basis, "sources": list(dest.sources),
        }
        if endpoint == "bedrock-runtime":
            entry["iam_regions"] = sorted(allowed.get(base, ()))
        found.append(entry)
    return found


def describe(entry: dict[str, Any]) -> str:
    """The destination regions of one entry, in words."""
    regions = entry["destinations"]
    return "any commercial AWS region" if regions is None else ", ".join(regions) or "its stack's region"


def sentence(entry: dict[str, Any]) -> str:
    """One sentence per model, for the OSCAL statements: where its prompts may be processed, and the source."""
    where = f"called in {entry['source_region']}" if entry["source_region"] else "called in its stack's region"
    sources = "; source " + ", ".join(entry["sources"]) if entry["sources"] else "; not in the model catalog"
    flag = "UNCERTAIN: " if entry["uncertain"] else ""
    return (f"{entry['model']} ({entry['endpoint']}, {entry['kind']}, {where}) may process prompts in "
            f"{describe(entry)} ({flag}{entry['basis']}{sources}).")


def render(entries: list[dict[str, Any]]) -> list[str]:
    """The matrix's Markdown section."""
    lines = [f"## {TITLE}", "", EXPLAINED, ""]
    if not entries:
        return [*lines, "This stack grants no model."]
    lines += ["| Model | Endpoint | Called in | Destination regions | Outside the calling region | IAM allows | "
              "Catalog | Source |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in entries:
        outside = e["outside_source_region"]
        lines.append(
            f"| `{e['model']}` | {e['endpoint']} | {e['source_region'] or '(deploy-time)'} | {describe(e)} | "
            + ("any commercial AWS region" if outside is None else ", ".join(outside) or "none") + " | "
            + (", ".join(e.get("iam_regions", [])) or "-") + " | "
            + ("UNCERTAIN: " if e["uncertain"] else "") + e["basis"].replace("|", "\\|") + " | "
            + (", ".join(e["sources"]) or "not in the catalog") + " |")
    return lines
