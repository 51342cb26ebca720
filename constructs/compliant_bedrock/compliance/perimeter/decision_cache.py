"""Simulate each distinct question once, and never again while nothing it depends on changes.

Most of the proof's requests repeat: a StackSet's template asks the same questions in every target
account, and a re-synth of an unchanged app asks exactly the questions of the last one. Each simulation
is put in a canonical form (JSON with sorted keys; every 12-digit account id renamed, in order of first
appearance, to ``000000000001``, ``000000000002``, ...), hashed with the simulator's fingerprint, and
evaluated once; its decision is kept on disk under that digest, so the next synth reads it back instead of
starting Node.

Why the cache cannot answer a different question:

* the digest covers the whole simulation the simulator receives (the request's principal, action,
  resource, resource account and context keys; identity policies, SCPs, RCPs, the resource policy and the
  endpoint policies, with their names and statement order, which the evidence cites), only account ids
  renamed, and renamed consistently everywhere (a bijection: two accounts that were equal stay equal, two
  that differed stay different);
* ids are renamed only where no wildcard touches a digit (``arn:...:1234*`` could match one id and not its
  token) and no ``Numeric``/``Date`` operator appears (they order values): otherwise the simulation is kept
  as it is;
* the fingerprint is the sha256 of every ``@cloud-copilot/*/package.json`` installed (the simulator and
  the IAM data it reads), of this package's runner ``simulate.mjs`` and of this module's format version:
  another simulator, data release or runner starts an empty cache.

The cache lives in ``<cdk.out>/.cache/perimeter/`` (``$COMPLIANT_BEDROCK_PERIMETER_CACHE`` names another
directory; ``off`` switches it off). Deleting the directory clears it; ``make clean`` removes it with cdk.out.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

CACHE_ENV = "COMPLIANT_BEDROCK_PERIMETER_CACHE"
#: Where the cache goes inside the synth's output directory.
CACHE_SUBDIR = Path(".cache") / "perimeter"
#: Bump when the canonical form or the stored result changes shape: old entries then miss.
FORMAT = "1"
#: Decisions kept (oldest dropped first): ~1 KiB each, so the file stays under ~100 MiB.
MAX_ENTRIES = 100_000
#: What the last proof counted (requests, distinct, cached, simulated), for make bench and the curious.
LAST_RUN = "last-run.json"
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
#: A wildcard next to a digit, or an operator that orders values: renaming ids could change a match.
_UNSAFE_TO_RENAME = re.compile(r"[0-9][*?]|[*?][0-9]|Numeric|Date")


@dataclass(frozen=True)
class Canonical:
    """One simulation in canonical form: its digest, what the simulator is sent, the renaming to undo."""

    digest: str
    original: Mapping[str, Any]
    tokens: dict[str, str]  # canonical token -> the original account id

    @property
    def simulation(self) -> dict[str, Any]:
        """What the simulator is sent: the original with every account id renamed to its token (built only
        for a simulation the cache does not hold)."""
        text = orjson.dumps(self.original, option=orjson.OPT_SORT_KEYS).decode()
        if self.tokens:
            ids = {original: token for token, original in self.tokens.items()}
            text = _ACCOUNT.sub(lambda m: ids[m.group(0)], text)
        return orjson.loads(text)


#: Keys whose values are whole policy documents: digested once per document, however many requests cite it.
_DOCUMENT_KEYS = ("policy", "resourcePolicy")


@dataclass(frozen=True)
class _Document:
    verbatim: str  # sha256 of the document as it is
    renamed: str  # sha256 of the document with its own ids renamed in order of first appearance
    ids: tuple[str, ...]  # its account ids in that order
    safe: bool  # ids may be renamed (see _UNSAFE_TO_RENAME)


def _document(document: Any) -> _Document:
    text = orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()
    ids = tuple(dict.fromkeys(_ACCOUNT.findall(text)))
    local = {original: f"{n + 1:012d}" for n, original in enumerate(ids)}
    renamed = _ACCOUNT.sub(lambda m: local[m.group(0)], text) if ids else text
    return _Document(hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(renamed.encode()).hexdigest(), ids,
                     not _UNSAFE_TO_RENAME.search(text))


def _strip(value: Any, documents: list[Any]) -> Any:
    """``value`` with every policy document replaced by None (in sorted-key order, appended to ``documents``):
    the document keys are fixed, so the skeleton and the documents in order give back the simulation."""
    if isinstance(value, dict):
        return {k: (documents.append(value[k]) or None) if k in _DOCUMENT_KEYS else _strip(value[k], documents)
                for k in sorted(value)}
    if isinstance(value, list):
        return [_strip(item, documents) for item in value]
    return value


def canonicalize(simulation: Mapping[str, Any], fingerprint: str,
                 memo: dict[int, tuple[Any, _Document]] | None = None) -> Canonical:
    """The canonical form of ``simulation`` (see the module docstring): equal digests ask the same question.

    Each policy document is digested once (``memo``, by object, for one batch: the organization's SCPs are
    the same objects in every request); the digest covers the request's skeleton with the global renaming,
    and for each document its own renamed digest and where its ids go in the global renaming. Equal digests
    therefore mean equal simulations after renaming, which is what the simulator is sent."""
    memo = {} if memo is None else memo
    documents: list[Any] = []
    skeleton = orjson.dumps(_strip(simulation, documents), option=orjson.OPT_SORT_KEYS).decode()
    parts = []
    for document in documents:
        if id(document) not in memo:
            memo[id(document)] = (document, _document(document))  # the object is kept: its id stays its own
        parts.append(memo[id(document)][1])
    if _UNSAFE_TO_RENAME.search(skeleton) or not all(p.safe for p in parts):
        digest = hashlib.sha256("\n".join([fingerprint, "verbatim", skeleton, *(p.verbatim for p in parts)])
                                .encode()).hexdigest()
        return Canonical(digest, simulation, {})
    ids: dict[str, str] = {}
    for original in [*_ACCOUNT.findall(skeleton), *(i for p in parts for i in p.ids)]:
        ids.setdefault(original, f"{len(ids) + 1:012d}")
    rename = (lambda m: ids[m.group(0)]) if ids else None
    lines = [fingerprint, "renamed", _ACCOUNT.sub(rename, skeleton) if rename else skeleton]
    lines += [f"{p.renamed} {' '.join(ids[i] for i in p.ids)}" for p in parts]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return Canonical(digest, simulation, {token: original for original, token in ids.items()})


def restore(result: Mapping[str, Any], tokens: Mapping[str, str]) -> dict[str, Any]:
    """A canonical result with the original account ids put back (every 12-digit id in it came from the
    canonical simulation, whose ids are all tokens)."""
    text = orjson.dumps(result).decode()
    if tokens:
        text = _ACCOUNT.sub(lambda m: tokens.get(m.group(0), m.group(0)), text)
    return orjson.loads(text)


def fingerprint(node_modules: Path) -> str:
    """The simulator's identity: every ``@cloud-copilot/*/package.json``, the runner, the format version."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for package in sorted((node_modules / "@cloud-copilot").glob("*/package.json")):
        digest.update(f"{package.parent.name}\n".encode())
        digest.update(package.read_bytes())
    digest.update(resources.files(__package__).joinpath("simulate.mjs").read_bytes())
    return digest.hexdigest()


def location(outdir: Path) -> Path | None:
    """The cache directory for a synth into ``outdir`` (None: switched off)."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else outdir / CACHE_SUBDIR


class DecisionCache:
    """Decisions by canonical digest for one simulator fingerprint, in one JSON file."""

    def __init__(self, directory: Path | None, fingerprint: str) -> None:
        self.directory = directory
        self.path = directory / f"decisions-{fingerprint[:24]}.json" if directory else None
        self.fingerprint = fingerprint
        self.decisions: dict[str, dict[str, Any]] = {}
        self.changed = False
        if self.path is not None and self.path.is_file():
            try:
                stored = orjson.loads(self.path.read_bytes())
            except (ValueError, OSError):
                stored = {}  # a torn or foreign file is only an empty cache
            if stored.get("fingerprint") == fingerprint:
                self.decisions = dict(stored.get("decisions") or {})

    def get(self, digest: str) -> dict[str, Any] | None:
        found = self.decisions.pop(digest, None)
        if found is not None:
            self.decisions[digest] = found  # most recently used last: the oldest go first
        return found

    def put(self, digest: str, result: Mapping[str, Any]) -> None:
        self.decisions[digest] = dict(result)
        self.changed = True

    def save(self, counts: Mapping[str, int]) -> None:
        """Write the decisions (atomically: a concurrent synth reads the old file or the new, never half)."""
        if self.path is None or self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.changed:
            while len(self.decisions) > MAX_ENTRIES:
                self.decisions.pop(next(iter(self.decisions)))
            _write(self.path, {"fingerprint": self.fingerprint, "decisions": self.decisions})
        _write(self.directory / LAST_RUN, dict(counts))


def _write(path: Path, document: Mapping[str, Any]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(orjson.dumps(document))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Evaluation:
    """The simulator's decisions for a batch of simulations, and how many were asked of it."""

    simulator: dict[str, str]
    results: dict[str, dict[str, Any]]  # by simulation id, account ids as the request had them
    digests: dict[str, str]  # simulation id -> canonical digest
    counts: dict[str, int]  # requests, distinct, cached, simulated


def evaluate(simulations: list[dict[str, Any]], *, node_modules: Path | None = None,
             directory: Path | None = None) -> Evaluation:
    """Decide every simulation, each distinct one once, from the cache in ``directory`` where it can.

    The simulator must be installed even when every decision is cached: the evidence names its version,
    and a cached decision is that version's answer to the same question, nothing else."""
    from . import simulator

    node_modules, node = simulator.locate(node_modules)
    info = simulator.installed(node_modules)
    cache = DecisionCache(directory, fingerprint(node_modules))
    memo: dict[int, tuple[Any, _Document]] = {}
    canonical = {s["id"]: canonicalize(s["simulation"], cache.fingerprint, memo) for s in simulations}
    distinct = {c.digest: c for c in canonical.values()}
    cached = {d: found for d in distinct if (found := cache.get(d)) is not None}
    missing = [{"id": d, "simulation": c.simulation} for d, c in distinct.items() if d not in cached]
    if missing:
        _, fresh = simulator.run(missing, node_modules=node_modules, node=node)
        for digest, result in fresh.items():
            decision = {k: v for k, v in result.items() if k != "id"}
            cache.put(digest, decision)
            cached[digest] = decision
    results = {i: {**restore(cached[c.digest], c.tokens), "id": i} for i, c in canonical.items()}
    counts = {"requests": len(simulations), "distinct": len(distinct), "cached": len(distinct) - len(missing),
              "simulated": len(missing)}
    cache.save(counts)
    return Evaluation(info, results, {i: c.digest for i, c in canonical.items()}, counts)
