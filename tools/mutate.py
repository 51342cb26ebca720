#!/usr/bin/env python3
"""Protection-mutation suite: remove one protection at a time from the source and prove a test fails.

``tests/mutants.yaml`` lists source edits, each of which removes or weakens one protection, with the
test modules expected to kill it. For each mutant this applies the edit in a scratch copy of the
working tree, runs the named tests there, and reverts. A mutant that survives (its tests pass) or
no longer applies (its text is gone from the source: the protection moved, so the list must follow)
fails the run. Two scratch copies run side by side, one per core.

Usage: python tools/mutate.py [--only ID ...] [--jobs N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tests" / "mutants.yaml"


@dataclass(frozen=True)
class Mutant:
    id: str
    protection: str
    file: str
    find: str
    replace: str
    kill: tuple[str, ...]


def load(path: Path = MUTANTS) -> list[Mutant]:
    """The mutant list, validated: unique ids, every field present, tests that exist."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutants, seen = [], set()
    for entry in entries:
        missing = {"id", "protection", "file", "find", "replace", "kill"} - set(entry)
        if missing:
            raise SystemExit(f"{path}: mutant {entry.get('id', '?')}: missing {sorted(missing)}")
        if entry["id"] in seen:
            raise SystemExit(f"{path}: duplicate mutant id {entry['id']}")
        seen.add(entry["id"])
        kill = tuple(entry["kill"]) if isinstance(entry["kill"], list) else (entry["kill"],)
        for test in kill:
            if not (ROOT / test.split("::")[0]).is_file():
                raise SystemExit(f"{path}: mutant {entry['id']}: test {test!r} does not exist")
        mutants.append(Mutant(entry["id"], entry["protection"], entry["file"], entry["find"], entry["replace"], kill))
    return mutants


def applies(mutant: Mutant, root: Path = ROOT) -> str | None:
    """None when the edit applies exactly once, else why not."""
    path = root / mutant.file
    if not path.is_file():
        return f"{mutant.file} does not exist"
    count = path.read_text(encoding="utf-8").count(mutant.find)
    if count != 1:
        return f"its text occurs {count} times in {mutant.file} (must be exactly once)"
    if mutant.find == mutant.replace:
        return "find and replace are the same"
    return None


def _scratch() -> Path:
    """A copy of the working tree (tracked and untracked, not ignored), sharing .venv and node_modules."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    target = Path(tempfile.mkdtemp(prefix="mutate-"))
    for name in filter(None, listing):
        source = ROOT / name
        if name in (".venv", "node_modules") or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    for shared in (".venv", "node_modules"):
        if (ROOT / shared).exists():
            (target / shared).symlink_to((ROOT / shared).resolve())
    return target


def _run(mutant: Mutant, scratch: Path) -> tuple[str, float, str]:
    path = scratch / mutant.file
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(mutant.find, mutant.replace, 1), encoding="utf-8")
    started = time.monotonic()
    try:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", *mutant.kill],
                                cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
        outcome = "killed" if result.returncode == 1 else "survived" if result.returncode == 0 else "error"
        tail = "\n".join(result.stdout.strip().splitlines()[-3:])
    finally:
        path.write_text(original, encoding="utf-8")
    return outcome, time.monotonic() - started, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutant ids to run")
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    args = parser.parse_args(argv)
    mutants = load()
    if args.only:
        unknown = set(args.only) - {m.id for m in mutants}
        if unknown:
            raise SystemExit(f"unknown mutant ids: {sorted(unknown)}")
        mutants = [m for m in mutants if m.id in args.only]
    stale = [(m, why) for m in mutants if (why := applies(m))]
    for mutant, why in stale:
        print(f"STALE    {mutant.id}: {why}: update tests/mutants.yaml ({mutant.protection})")
    runnable = [m for m in mutants if not applies(m)]
    started = time.monotonic()
    scratches = [_scratch() for _ in range(max(1, min(args.jobs, len(runnable) or 1)))]
    results: dict[str, tuple[str, float, str]] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(len(scratches)) as pool:
            shares = [runnable[i::len(scratches)] for i in range(len(scratches))]

            def work(share: list[Mutant], scratch: Path) -> None:
                for mutant in share:
                    results[mutant.id] = _run(mutant, scratch)
                    outcome, seconds, tail = results[mutant.id]
                    print(f"{outcome.upper():8} {mutant.id} ({seconds:.1f} s): {mutant.protection}", flush=True)
                    if outcome != "killed":
                        print("         " + tail.replace("\n", "\n         "), flush=True)

            list(pool.map(work, shares, scratches))
    finally:
        for scratch in scratches:
            shutil.rmtree(scratch, ignore_errors=True)
    killed = sum(1 for outcome, _, _ in results.values() if outcome == "killed")
    total = len(mutants)
    print(f"mutate: {killed} of {total} mutants killed, {len(stale)} stale, "
          f"{len(results) - killed} survived or errored, in {time.monotonic() - started:.0f} s")
    return 0 if killed == total else 1


if __name__ == "__main__":
    sys.exit(main())
