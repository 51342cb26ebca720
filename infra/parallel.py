"""Synthesize many environments on every core: shards in worker processes, one merged assembly.

One jsii process builds stacks one after another (~0.7 s each, see README "Performance"). With
many environments, ``run`` starts a worker per extra core, each building every n-th environment
into its own output directory, builds its own share meanwhile, then merges the workers' files and
manifest entries into the one cloud assembly the CDK CLI reads. Configuration is validated in full
by every process, so a shard never sees a half-checked config. Each shard (the parent's own share
included) also runs the Bedrock pack and writes its stacks' evidence files, which depend on nothing
but the stack; the parent then judges the whole assembly and writes the cross-stack documents.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from compliant_bedrock.compliance.pack import PACK_NAME

SHARD_ENV = "COMPLIANT_BEDROCK_SHARD"
#: A shard's record of the per-stack evidence it wrote (``infra.report.write_stack_evidence``).
SHARE_EVIDENCE = "shard-evidence.json"
#: A shard's marker: its assembly (templates, cdk-nag reports, manifest, tree) is complete; its evidence follows.
READY = "assembly-ready"
#: How often the parent looks for a worker's marker (seconds).
POLL_SECONDS = 0.02


class ShardFailed(Exception):
    """A worker exited with an error: the parts (its output directories) whose synth failed."""

    def __init__(self, parts: list[str]) -> None:
        super().__init__(f"synth of {', '.join(parts)} failed")
        self.parts = parts
PARALLEL_KEY = "compliant-bedrock:parallel"
#: Below this many environments a worker's own start-up (~1 s) costs more than it saves.
MIN_ENVIRONMENTS = 6


def shard() -> tuple[int, int] | None:
    """``(index, count)`` when this process builds a share of the environments, else None."""
    value = os.environ.get(SHARD_ENV)
    if not value:
        return None
    index, count = (int(x) for x in value.split("/"))
    return index, count


def worker_count(environments: int, context: dict) -> int:
    if str(context.get(PARALLEL_KEY, "true")).lower() == "false" or environments < MIN_ENVIRONMENTS:
        return 1
    return max(1, min(os.cpu_count() or 1, environments // 3))


def start_workers(count: int, context: dict, scratch: Path, script: Path | None = None,
                  caches_of: Path | None = None) -> list[tuple[subprocess.Popen, Path]]:
    """Workers 1..count-1 (this process is worker 0), each synthesizing into its own directory; ``script``: the
    program each worker runs (default ``app.py``; the benchmark's plain app shards the same way).

    ``caches_of``: the parent's output directory. A worker's own directory is scratch, removed after the merge, so
    it keeps its cdk-nag results, its Bedrock pack reports and its stacks' evidence in the parent's caches
    (``<caches_of>/.cache/nag``, ``.../pack`` and ``.../evidence``, unless the environment names others): the next synth's workers find them there, whichever
    shard a stack falls in. Shards build disjoint stacks, so no two processes write one entry."""
    workers = []
    caches = {}
    if caches_of is not None:
        from compliant_bedrock.compliance import nag_cache, pack_cache
        from compliant_bedrock.evidence import stack_cache

        for module in (nag_cache, pack_cache, stack_cache):
            if not os.environ.get(module.CACHE_ENV, "").strip():
                caches[module.CACHE_ENV] = str((caches_of / module.CACHE_SUBDIR).resolve())
    for index in range(1, count):
        outdir = scratch / f"shard-{index}"
        env = {**os.environ, **caches, SHARD_ENV: f"{index}/{count}", "CDK_OUTDIR": str(outdir),
               "CDK_CONTEXT_JSON": json.dumps(context)}
        env.pop("CONTEXT_OVERFLOW_LOCATION_ENV", None)
        app = script or Path(__file__).resolve().parent.parent / "app.py"
        workers.append((subprocess.Popen([sys.executable, str(app)], env=env), outdir))
    return workers


def write_share_evidence(outdir: Path, envs: list, *, record: bool) -> dict[str, dict[str, Any]]:
    """After a shard's synth: the Bedrock pack's reports and each of its stacks' evidence files;
    ``record``: also leave what was written for the parent's ``merge`` (a worker's share)."""
    from compliant_bedrock.compliance.gate import run_bedrock_pack

    from .app_factory import settings_contexts
    from .report import write_stack_evidence

    run_bedrock_pack(outdir, settings_contexts(envs))
    written = write_stack_evidence(outdir)
    if record:
        (outdir / SHARE_EVIDENCE).write_text(json.dumps(written, sort_keys=True) + "\n", encoding="utf-8")
    return written


def _move(item: Path, target: Path) -> None:
    """Move a part's file (or directory, merged file by file) to ``target``: a rename where both are on one file
    system, else a copy."""
    if item.is_dir():
        target.mkdir(exist_ok=True)
        for child in item.iterdir():
            _move(child, target / child.name)
        return
    try:
        os.replace(item, target)
    except OSError:  # another file system (EXDEV): copy, as before
        shutil.copy2(item, target)


def mark_ready(outdir: Path) -> None:
    """A worker's assembly is complete (written whole: the parent never reads half a marker)."""
    scratch = outdir / f".{READY}.partial"
    scratch.write_text("ready\n", encoding="utf-8")
    os.replace(scratch, outdir / READY)


def wait_ready(workers: list[tuple[subprocess.Popen, Path]]) -> list[str]:
    """Wait until every worker has marked its assembly complete; the parts of those that exited before (failed)."""
    failed = []
    for worker, out in workers:
        while not (out / READY).is_file():
            if worker.poll() is not None and not (out / READY).is_file():
                failed.append(str(out))
                break
            time.sleep(POLL_SECONDS)
    return failed


def merge(into: Path, parts: list[Path]) -> dict[str, dict[str, Any]]:
    """Both halves of a merge, for parts that are complete: :func:`merge_assembly`, then :func:`merge_evidence`."""
    merge_assembly(into, parts)
    return merge_evidence(into, parts)


def merge_assembly(into: Path, parts: list[Path]) -> None:
    """Copy each part's stack files into ``into`` and add its stacks to the manifest and tree, while the part's
    worker may still be writing its evidence: neither its ``compliance/`` nor its Bedrock pack reports (judged on
    its share of the assembly; the parent judges every stack against the whole) are taken."""
    manifest_path = into / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tree_path = into / "tree.json"
    tree = json.loads(tree_path.read_text(encoding="utf-8")) if tree_path.exists() else None
    skipped = ("manifest.json", "tree.json", "cdk.out", SHARE_EVIDENCE, READY, "compliance")
    for part in parts:
        for item in part.iterdir():
            if item.name in skipped or item.name.startswith((f"{PACK_NAME}--", ".")):
                continue
            target = into / item.name
            if item.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.copy2(item, target)
        other = json.loads((part / "manifest.json").read_text(encoding="utf-8"))
        for name, artifact in other.get("artifacts", {}).items():
            if artifact.get("type") != "cdk:tree":
                manifest["artifacts"][name] = artifact
        if tree is not None and (part / "tree.json").exists():
            children = json.loads((part / "tree.json").read_text(encoding="utf-8"))["tree"].get("children", {})
            tree["tree"].setdefault("children", {}).update(children)
    manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if tree is not None:
        tree_path.write_text(json.dumps(tree) + "\n", encoding="utf-8")


def merge_evidence(into: Path, parts: list[Path]) -> dict[str, dict[str, Any]]:
    """Move each finished part's stack evidence (``compliance/``) into ``into``; the records of what they wrote
    (``write_share_evidence``), by stack name. A rename where both are on one file system (a shard's evidence is
    ~250 MB at 50 environments; the part is removed afterwards), else a copy."""
    evidence: dict[str, dict[str, Any]] = {}
    for part in parts:
        if (part / "compliance").is_dir():
            _move(part / "compliance", into / "compliance")
        if (part / SHARE_EVIDENCE).is_file():
            evidence.update(json.loads((part / SHARE_EVIDENCE).read_text(encoding="utf-8")))
    return evidence
