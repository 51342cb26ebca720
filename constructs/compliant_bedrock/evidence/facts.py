"""The settings' sentences about each component, confirmed against the templates before any document states them.

An app states how its configuration sets each component (``facts``: environment -> component id -> sentences);
the OSCAL statements quote them. A sentence stating a value (a CIDR, a model id, a number of days, a lock mode)
that its environment's templates do not contain is marked as configuration only, so no document states a setting
the deployed template lacks. Done once, where the model is built, so every path to the evidence (the gate at
synth, ``python -m infra.report``) states the same sentences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

from .assembly import StackEvidence

#: Values a settings sentence states that a template must then contain: CIDRs, model ids, day counts, modes.
_STATED = re.compile(r"\b(?:\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}|[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9._:-]*[a-z0-9]|\d+(?= days)|COMPLIANCE|GOVERNANCE)\b")
UNCONFIRMED = "Not confirmed by the template (configuration only): "


def templates_by_environment(stacks: Iterable[StackEvidence]) -> dict[str, str]:
    """Environment -> the JSON text of its stacks' templates (a replica stack counts for its source)."""
    texts: dict[str, str] = {}
    for stack in stacks:
        texts[stack.environment] = texts.get(stack.environment, "") + json.dumps(stack.template.body)
    return texts


def confirm_facts(facts: Mapping[str, Mapping[str, Sequence[str]]],
                  templates: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """The settings sentences, each checked against its environment's templates (``templates``: environment -> their
    text); an environment without templates keeps its sentences as they are (nothing can confirm them)."""
    checked: dict[str, dict[str, list[str]]] = {}
    for env, components in facts.items():
        text = templates.get(env)
        checked[env] = {}
        for component, sentences in components.items():
            out = []
            for sentence in sentences:
                missing = [v for v in _STATED.findall(sentence) if text is not None and v not in text]
                out.append(sentence if text is None or not missing else UNCONFIRMED + sentence)
            checked[env][component] = out
    return checked
