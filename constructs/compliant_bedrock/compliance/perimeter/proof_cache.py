"""Prove an unchanged assembly once: the whole proof is kept by the digest of everything it reads.

The decision cache (:mod:`.decision_cache`) already keeps every simulator answer, but a re-synth still read every
policy, generated every request and put each in canonical form to look its answer up: about 1.6 s at 50
environments (11,234 requests) for the answers of the last synth. The proof is a function of

- the stack artifacts of the manifest (name, environment, properties) and their construct metadata (the logical
  ids' paths the evidence names; jsii's creation traces, which name a temporary directory, are left out),
- every stack template, and every template, manifest and metadata file of the StackSet assemblies kept in
  subdirectories (the proof evaluates their templates and names their resources by those paths),
- the acceptances, the role names given, the simulator's fingerprint (its packages, the runner, the cache format)
  and this package's code (the request matrix ``requests.yaml`` and the discovery are in it).

:func:`key` hashes all of it; a proof kept under the same key is read back whole (its outcomes, stale acceptances,
scopes and per-environment counts) instead of proven again. It lives beside the decisions
(``<cdk.out>/.cache/perimeter/proof-<key>.json``, one entry: the last synth's); ``COMPLIANT_BEDROCK_PERIMETER_CACHE``
moves or switches off both, ``COMPLIANT_BEDROCK_PROOF_CACHE=off`` this one only (the decisions stay cached). The simulator must still be installed: the evidence names it, and a kept proof stands
for its answers only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from ...fingerprint import code_fingerprint
from . import decision_cache

PREFIX = "proof-"
#: ``off``: prove every time (each decision may still come from the decision cache).
CACHE_ENV = "COMPLIANT_BEDROCK_PROOF_CACHE"
#: Metadata that cannot change the proof and differs between runs (jsii's temporary directory in traces).
_IGNORED_METADATA = frozenset({"aws:cdk:creationStack"})


def key(outdir: Path, acceptances: Iterable[Any], role_names: Mapping[str, str] | None, simulator: str) -> str:
    """sha256 of every input of the proof of the assembly at ``outdir`` (see the module docstring)."""
    digest = hashlib.sha256()

    def add(*parts: bytes) -> None:
        for part in parts:
            digest.update(hashlib.sha256(part).digest())

    add(code_fingerprint().encode(), simulator.encode(),
        orjson.dumps([asdict(a) for a in acceptances]), orjson.dumps(dict(role_names or {}), option=orjson.OPT_SORT_KEYS))
    manifest = orjson.loads((outdir / "manifest.json").read_bytes())
    for name, artifact in sorted((manifest.get("artifacts") or {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties") or {}
        metadata = dict(artifact.get("metadata") or {})
        extra = artifact.get("additionalMetadataFile")
        if extra and (outdir / extra).is_file():
            metadata.update(orjson.loads((outdir / extra).read_bytes()))
        add(_sorted([name, artifact.get("environment"), artifact.get("displayName"), properties,
                     _without_traces(metadata)]),
            (outdir / properties["templateFile"]).read_bytes())
    for nested in sorted(p for p in outdir.glob("*/**/*.json") if _kept_assembly_file(outdir, p)):
        body = nested.read_bytes()
        if nested.name.endswith(".metadata.json"):
            body = _sorted(_without_traces(orjson.loads(body)))
        elif nested.name == "manifest.json":
            manifest = orjson.loads(body)
            body = _sorted({**manifest, "artifacts": {
                name: {**artifact, "metadata": _without_traces(artifact.get("metadata") or {})}
                for name, artifact in (manifest.get("artifacts") or {}).items()}})
        add(nested.relative_to(outdir).as_posix().encode(), body)
    return digest.hexdigest()


def _without_traces(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Construct metadata (path -> entries) without jsii's creation traces: they name a temporary directory that
    differs in every run, and no proof reads them."""
    return {path: [e for e in entries or [] if not (isinstance(e, dict) and e.get("type") in _IGNORED_METADATA)]
            for path, entries in metadata.items()}


def _sorted(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _kept_assembly_file(outdir: Path, path: Path) -> bool:
    """A template, manifest or metadata file of an assembly kept inside ``outdir`` (a StackSet's: its paths and
    its template are read), not a cache, evidence, asset or report."""
    top = path.relative_to(outdir).parts[0]
    return (not top.startswith((".", "asset.")) and top != "compliance"
            and (path.name == "manifest.json" or path.name.endswith((".template.json", ".metadata.json"))))


def enabled() -> bool:
    """False when ``COMPLIANT_BEDROCK_PROOF_CACHE=off``."""
    return os.environ.get(CACHE_ENV, "").strip().lower() != "off"


def load(directory: Path | None, proof_key: str) -> dict[str, Any] | None:
    """The proof kept under ``proof_key`` as stored (:func:`store`), or None."""
    if directory is None:
        return None
    path = directory / f"{PREFIX}{proof_key[:32]}.json"
    if not path.is_file():
        return None
    try:
        stored = orjson.loads(path.read_bytes())
    except (ValueError, OSError):
        return None  # a torn or foreign file is only a miss
    return stored["proof"] if stored.get("key") == proof_key else None


def store(directory: Path | None, proof_key: str, proof: Mapping[str, Any]) -> None:
    """Keep ``proof`` under ``proof_key``; the earlier synth's entry goes."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{proof_key[:32]}.json"
    for old in directory.glob(f"{PREFIX}*.json"):
        if old.name != name:
            old.unlink(missing_ok=True)
    decision_cache._write(directory / name, {"key": proof_key, "proof": proof})
