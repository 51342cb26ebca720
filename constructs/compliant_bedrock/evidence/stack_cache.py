"""Render less: a stack's evidence files are kept by the digest of everything they are drawn from.

A stack's five files (its control matrix JSON and Markdown, its responsibility page, its architecture SVG and PNG)
depend on that stack alone: its template and pack reports (``assembly.stack_digest``), its construct paths, its
account, region, description and StackSet deployment, its environment's perimeter proof, the deployed-twin claims
about it, the name its files carry, and the code that renders them. A re-synth of an unchanged stack therefore
renders the same bytes: ``make synth`` of an unchanged app copies them back instead of drawing them again (about
1.2 s of the reference app's 2.2 s of evidence), as the perimeter proof reads its decisions back
(``compliance.perimeter.decision_cache``).

The key is a sha256 over all of those inputs, the package's own sources (any change of the renderers, rules or
data misses) and the versions of the encoders that write the bytes (orjson, Pillow). A miss renders as before and
keeps the result; a stack's earlier entries are dropped, so the cache holds one entry per stack. It lives in
``<cdk.out>/.cache/evidence/`` beside the decision cache; ``COMPLIANT_BEDROCK_EVIDENCE_CACHE`` names another
directory, or ``off``. Nothing here changes what is written: tests compare cached and fresh evidence byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ..fingerprint import code_fingerprint
from .assembly import StackEvidence

CACHE_ENV = "COMPLIANT_BEDROCK_EVIDENCE_CACHE"
CACHE_SUBDIR = Path(".cache") / "evidence"
_ENTRY = "entry.json"


def location(outdir: Path) -> Path | None:
    """The cache directory for evidence of the assembly at ``outdir`` (None: switched off)."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else outdir / CACHE_SUBDIR


def stack_key(stack: StackEvidence, name: str, digest: str, perimeter: bytes | None,
              verified: Sequence[Mapping[str, Any]]) -> str:
    """The key of one stack's files: every input they are drawn from (see the module docstring)."""
    facts = {"name": name, "stack": stack.name, "environment": stack.environment, "region": stack.region,
             "account": stack.account, "description": stack.description, "template_file": stack.template_file,
             "reports_dir": stack.reports_dir, "deployment": stack.deployment, "paths": stack.paths,
             "inputs": digest, "verified": list(verified)}
    data = orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(code_fingerprint().encode() + b"\0" + data + b"\0" + (perimeter or b"-")).hexdigest()


def stack_key_of_files(key: str, files: Sequence[str]) -> str:
    """``key`` for a subset of a stack's files (a shard's matrix drawn again after the proof)."""
    return hashlib.sha256((key + "\0" + "\0".join(files)).encode()).hexdigest()


def load(cache_dir: Path | None, name: str, key: str, dest: Path, files: Sequence[str]) -> dict[str, Any] | None:
    """Copy a stack's cached files into ``dest`` and return its matrix digest entry; None on a miss."""
    if cache_dir is None:
        return None
    entry_dir = cache_dir / name / key
    entry_file = entry_dir / _ENTRY
    if not entry_file.is_file() or not all((entry_dir / f).is_file() for f in files):
        return None
    for file in files:
        shutil.copyfile(entry_dir / file, dest / file)
    return orjson.loads(entry_file.read_bytes())


def store(cache_dir: Path | None, name: str, key: str, dest: Path, files: Sequence[str], entry: Mapping[str, Any]) -> None:
    """Keep a stack's freshly written files (from ``dest``) under ``key``, dropping its earlier entries."""
    if cache_dir is None or not all((dest / f).is_file() for f in files):
        return
    stack_dir = cache_dir / name
    for old in stack_dir.glob("*") if stack_dir.is_dir() else ():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    scratch = stack_dir / f"{key}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for file in files:
        shutil.copyfile(dest / file, scratch / file)
    (scratch / _ENTRY).write_bytes(orjson.dumps(entry))  # key order kept: documents iterate it
    target = stack_dir / key
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)  # whole or absent: a reader never sees half an entry


# -- the documents across stacks ---------------------------------------------------------------------------------

def documents_key(model: Any, files: Mapping[str, str], beside: Mapping[str, str], renderers: Sequence[str]) -> str:
    """The key of the cross-stack documents (OSCAL, POA&M, SDRs, summary, index): the whole evidence model (its
    provenance record holds the sha256 of every template, report and configuration input, the commit and the tools),
    the hashes of the files written before them and beside them, the renderers and the code."""
    stacks = [{"name": s.name, "file_name": s.file_name, "environment": s.environment, "matrix": s.matrix,
               "region": s.evidence.region, "account": s.evidence.account, "description": s.evidence.description,
               "deployment": s.evidence.deployment, "paths": s.evidence.paths, "template_file": s.evidence.template_file}
              for s in model.stacks]
    document = {
        "stacks": stacks, "perimeter": {env: proof.document for env, proof in model.perimeter.items()},
        "facts": model.facts, "unverified": model.unverified, "deviations": model.deviations,
        "poam_plans": model.poam_plans, "provenance": model.provenance_text, "options": model.options.__dict__,
        "verdict": None if model.verdict is None else model.verdict.__dict__,
        "supporting": [o.__dict__ for o in model.supporting],
        "verified": [{**v.__dict__, "claims": list(v.claims)} for v in model.verified],
        "files": dict(files), "beside": dict(beside), "renderers": list(renderers), "version": model.version}
    data = orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(code_fingerprint().encode() + b"\0" + data).hexdigest()


def load_documents(cache_dir: Path | None, key: str, dest: Path) -> dict[str, str] | None:
    """Copy the cached documents of ``key`` into ``dest``; their name -> sha256, or None on a miss."""
    if cache_dir is None or not key:
        return None
    entry_dir = cache_dir / "documents" / key
    if not (entry_dir / _ENTRY).is_file():
        return None
    hashes: dict[str, str] = orjson.loads((entry_dir / _ENTRY).read_bytes())
    if not all((entry_dir / name).is_file() for name in hashes):
        return None
    for name in hashes:
        shutil.copyfile(entry_dir / name, dest / name)
    return hashes


def store_documents(cache_dir: Path | None, key: str, dest: Path, hashes: Mapping[str, str]) -> None:
    """Keep the documents just written (name -> sha256) under ``key``; the one earlier entry is dropped."""
    if cache_dir is None or not key:
        return
    root = cache_dir / "documents"
    for old in root.glob("*") if root.is_dir() else ():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    scratch = root / f"{key}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for name in hashes:
        shutil.copyfile(dest / name, scratch / name)
    (scratch / _ENTRY).write_bytes(orjson.dumps(dict(hashes)))
    target = root / key
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
