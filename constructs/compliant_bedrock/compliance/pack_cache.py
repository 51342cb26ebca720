"""Evaluate the Bedrock pack only where its inputs changed: a stack's report is kept by the digest of its inputs.

The pack's report on one stack (``Bedrock--<stack>-NagReport.json``) depends on the stack's template, name and
region, on the settings its environment gives the rules (``RuleContext``: retention days), on what the gate reads
from the whole assembly for the cross-stack rules (``assembly_facts.read_facts``: every stack template and the
manifest's stacks, their accounts and regions) and on the rules themselves. The key is a sha256 over all of them:
the template's bytes, the digest of every template and stack entry of the manifest, the settings and this
package's code (:func:`~compliant_bedrock.fingerprint.code_fingerprint`). A re-synth of an unchanged app copies
every report back (about 1 s of the parent's judgement at 50 environments); any change to any template misses
every stack's entry, since any template can change the assembly's facts.

A stack keeps up to :data:`KEEP` entries: a shard evaluates its stacks against its share of the assembly and the
parent against the whole, and both are kept. ``<cdk.out>/.cache/pack/``; ``COMPLIANT_BEDROCK_PACK_CACHE`` names
another directory, or ``off``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import orjson

from ..fingerprint import code_fingerprint
from .pack import RuleContext

CACHE_ENV = "COMPLIANT_BEDROCK_PACK_CACHE"
CACHE_SUBDIR = Path(".cache") / "pack"
#: Entries kept per stack (its shard's and the whole assembly's).
KEEP = 2


def location(outdir: Path) -> Path | None:
    """The cache directory for a synth into ``outdir`` (None: switched off)."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else outdir / CACHE_SUBDIR


def assembly_digest(stacks: Sequence[tuple[str, Mapping[str, Any]]], templates: Mapping[str, bytes]) -> str:
    """sha256 of what the assembly's facts are read from: each stack's manifest entry and template."""
    digest = hashlib.sha256()
    for name, artifact in stacks:
        digest.update(orjson.dumps([name, artifact.get("environment"), artifact.get("properties")],
                                   option=orjson.OPT_SORT_KEYS) + b"\0" + hashlib.sha256(templates[name]).digest())
    return digest.hexdigest()


def stack_key(name: str, environment: Any, template: bytes, context: RuleContext, assembly: str) -> str:
    """The key of one stack's report (see the module docstring)."""
    # ``stack`` and ``assembly`` are replaced by the gate before evaluating (the name and ``assembly`` cover them)
    settings = {k: v for k, v in asdict(replace(context, stack=None, assembly=None)).items()}
    data = orjson.dumps([name, environment, settings], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(b"\0".join([code_fingerprint().encode(), assembly.encode(), data, template])).hexdigest()


def load(cache_dir: Path | None, name: str, key: str, report: Path) -> bool:
    """Copy stack ``name``'s report kept under ``key`` to ``report``; False on a miss."""
    if cache_dir is None:
        return False
    kept = cache_dir / name / f"{key}.json"
    if not kept.is_file():
        return False
    shutil.copyfile(kept, report)
    return True


def store(cache_dir: Path | None, name: str, key: str, report: Path) -> None:
    """Keep the report just written under ``key``; the stack's oldest entries beyond :data:`KEEP` go."""
    if cache_dir is None:
        return
    stack_dir = cache_dir / name
    stack_dir.mkdir(parents=True, exist_ok=True)
    scratch = stack_dir / f"{key}.partial"
    shutil.copyfile(report, scratch)
    os.replace(scratch, stack_dir / f"{key}.json")  # whole or absent
    entries = sorted(stack_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
