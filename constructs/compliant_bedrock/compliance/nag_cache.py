"""Run cdk-nag only on the stacks that changed: a stack's clean results are kept by the digest of what it judged.

cdk-nag's packs run as aspects in the jsii process while the app synthesizes: about 0.5 s of the reference app's
re-synth and 4.8 s of each shard's at 50 environments (``docs/performance.md``), for the same lines every time the
stack is the same. A :class:`NagPlan` synthesizes the app first with no pack attached, keys each planned stack on

- its template, byte for byte (cdk-nag's rules read the resolved resource properties, which are the template; the
  suppressions cdk-nag honours are ``cdk_nag`` entries of the resources' and the stack's ``Metadata``, also in it),
- its construct metadata from the manifest (every construct path and logical id: the reports name resources by
  path), its name and environment,
- the packs asked for, the versions of cdk-nag, aws-cdk-lib and constructs, and this package's code
  (:func:`~compliant_bedrock.fingerprint.code_fingerprint`: the packs' options are set in ``gate.attach_packs``),

copies back the reports of every stack whose key it holds, attaches the packs to the others only and synthesizes
again (``force``): cdk-nag runs on exactly the stacks it has not judged in this form, and writes their reports as
it always does. With every stack kept, the app is synthesized once, as a plain synth.

Only a clean result is kept: reports with no ``Non-Compliant`` and no ``UNKNOWN`` line. cdk-nag also writes each
finding into the construct tree as an annotation (the manifest's metadata, which the evidence hashes), and a copied
report cannot add it; a stack with findings runs cdk-nag every time. The cache lives in ``<cdk.out>/.cache/nag/``
beside the decision and evidence caches; ``COMPLIANT_BEDROCK_NAG_CACHE`` names another directory, or ``off``.
Tests compare the reports, templates and manifest of a cached synth with a fresh one's, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import orjson

from ..fingerprint import code_fingerprint, package_version
from .gate import REPORT_SUFFIX, UNKNOWN, attach_packs
from .pack import PACK_NAME

CACHE_ENV = "COMPLIANT_BEDROCK_NAG_CACHE"
CACHE_SUBDIR = Path(".cache") / "nag"
_ENTRY = "entry.json"
#: Metadata that cannot change a rule's result and differs between runs (jsii's temporary directory in traces).
_IGNORED_METADATA = frozenset({"aws:cdk:creationStack"})
#: Compliance values that make a result unkeepable: cdk-nag annotated the tree for them.
_FINDINGS = frozenset({"Non-Compliant", UNKNOWN})


def location(outdir: Path) -> Path | None:
    """The cache directory for a synth into ``outdir`` (None: switched off)."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else outdir / CACHE_SUBDIR


def stack_key(outdir: Path, name: str, artifact: Mapping[str, Any], packs: Sequence[str]) -> str:
    """The key of one stack's cdk-nag results: see the module docstring for what it covers."""
    digest = hashlib.sha256()
    for part in (code_fingerprint(), *(package_version(p) for p in ("cdk-nag", "aws-cdk-lib", "constructs")),
                 name, str(artifact.get("environment")), ",".join(packs)):
        digest.update(part.encode() + b"\0")
    properties = artifact.get("properties") or {}
    digest.update((outdir / properties["templateFile"]).read_bytes() + b"\0")
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if extra:
        metadata.update(orjson.loads((outdir / extra).read_bytes()))
    kept = {path: [e for e in entries if e.get("type") not in _IGNORED_METADATA]
            for path, entries in metadata.items()}
    digest.update(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def reports_of(outdir: Path, name: str) -> list[Path]:
    """cdk-nag's reports of stack ``name`` in ``outdir`` (the Bedrock pack's are written after synth, not here)."""
    return sorted(p for p in outdir.glob(f"*--{name}{REPORT_SUFFIX}") if not p.name.startswith(f"{PACK_NAME}--"))


def clean(reports: Iterable[Path]) -> bool:
    """No line of these reports is a finding cdk-nag would also have annotated the construct tree with."""
    for report in reports:
        for line in json.loads(report.read_text(encoding="utf-8")).get("lines", []):
            if line.get("compliance") in _FINDINGS:
                return False
    return True


def load(cache_dir: Path | None, name: str, key: str, outdir: Path) -> bool:
    """Copy stack ``name``'s kept reports for ``key`` into ``outdir``; False on a miss."""
    if cache_dir is None:
        return False
    entry = cache_dir / name / key
    if not (entry / _ENTRY).is_file():
        return False
    files = orjson.loads((entry / _ENTRY).read_bytes())
    if not files or not all((entry / f).is_file() for f in files):
        return False
    for file in files:
        shutil.copyfile(entry / file, outdir / file)
    return True


def store(cache_dir: Path | None, name: str, key: str, outdir: Path) -> bool:
    """Keep stack ``name``'s reports just written in ``outdir`` under ``key`` when clean; its earlier entries go."""
    reports = reports_of(outdir, name)
    if cache_dir is None or not reports or not clean(reports):
        return False
    stack_dir = cache_dir / name
    for old in stack_dir.glob("*") if stack_dir.is_dir() else ():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    scratch = stack_dir / f"{key}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for report in reports:
        shutil.copyfile(report, scratch / report.name)
    (scratch / _ENTRY).write_bytes(orjson.dumps([r.name for r in reports]))
    target = stack_dir / key
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)  # whole or absent: a reader never sees half an entry
    return True


@dataclass
class NagPlan:
    """Which stacks get which cdk-nag packs; :meth:`synth` runs cdk-nag only where no kept result matches.

    ``add`` in place of :func:`~compliant_bedrock.compliance.gate.attach_packs`, then ``plan.synth(app)`` in place of
    ``app.synth()``. ``kept`` and ``judged`` name the stacks whose reports were copied back and those cdk-nag ran on.
    """

    stacks: dict[str, tuple[cdk.Stack, tuple[str, ...], str]] = field(default_factory=dict)  # artifact id -> ...
    kept: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)

    def add(self, stack: cdk.Stack, extra_packs: Iterable[str] = ()) -> None:
        self.stacks[stack.artifact_id] = (stack, tuple(extra_packs), stack.stack_name)

    def synth(self, app: cdk.App) -> cdk.cx_api.CloudAssembly:
        """Synthesize ``app``; cdk-nag runs on the planned stacks whose results are not kept.

        A stack with no entry at all (a first synth, a new stack, the cache off) gets its packs before the first
        synth; the others are keyed on that synth's output, and those whose key misses get their packs and a
        second synth. A stack's key is the same either way: cdk-nag changes neither a template nor, for a clean
        result (the only kind kept), the stack's metadata."""
        cache_dir = location(Path(app.outdir))
        self.kept, self.judged = [], []
        pending = []
        for name, (stack, extra, stack_name) in self.stacks.items():
            if cache_dir is not None and (cache_dir / stack_name).is_dir():
                pending.append(name)
            else:
                attach_packs(stack, extra)
                self.judged.append(name)
        assembly = app.synth()
        if cache_dir is None:
            return assembly
        outdir = Path(assembly.directory)
        artifacts = json.loads((outdir / "manifest.json").read_text(encoding="utf-8")).get("artifacts", {})
        keys = {name: stack_key(outdir, self.stacks[name][2], artifacts[name],
                                ("NIST.800.53.R5", "AwsSolutions", *self.stacks[name][1]))
                for name in [*pending, *self.judged] if name in artifacts}
        missed = []
        for name in pending:
            if name in keys and load(cache_dir, self.stacks[name][2], keys[name], outdir):
                self.kept.append(name)
            elif name in keys:
                missed.append(name)
        if missed:
            for name in missed:
                stack, extra, _ = self.stacks[name]
                attach_packs(stack, extra)
            self.judged += missed
            assembly = app.synth(force=True, error_on_duplicate_synth=False)
        for name in self.judged:
            if name in keys:
                store(cache_dir, self.stacks[name][2], keys[name], outdir)
        return assembly
