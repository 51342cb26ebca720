#!/usr/bin/env python3
"""Copy the evidence counts of a synth into ``docs/auditors.md``, so the page never states a typed figure.

``cdk.out/compliance/index.md`` carries a counts block rendered from the evidence model
(``compliant_bedrock.evidence.index.render_counts``); ``docs/auditors.md`` carries the same block between the same
markers. After ``make synth`` of the reference app:

    .venv/bin/python tools/auditor_counts.py            # rewrite the block in docs/auditors.md
    .venv/bin/python tools/auditor_counts.py --check    # exit 1 if the page's figures differ from the synth's

``tests/test_baseline_evidence.py`` makes the same comparison against the reference synth it builds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "auditors.md"
sys.path[:0] = [str(ROOT / "constructs")]

from compliant_bedrock.evidence.index import COUNTS_END, COUNTS_START, INDEX_FILE  # noqa: E402


def counts_block(text: str, where: str) -> str:
    """The counts block of ``text`` (markers included); SystemExit naming ``where`` when it has none or several."""
    if text.count(COUNTS_START) != 1 or text.count(COUNTS_END) != 1:
        raise SystemExit(f"{where}: expected one counts block between {COUNTS_START!r} and {COUNTS_END!r}")
    start = text.index(COUNTS_START)
    return text[start:text.index(COUNTS_END, start) + len(COUNTS_END)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=ROOT / "cdk.out", help="the synthesized assembly")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when the page differs")
    args = parser.parse_args(argv)
    index = args.outdir / "compliance" / INDEX_FILE
    if not index.is_file():
        print(f"auditor_counts: {index} is missing; run make synth first", file=sys.stderr)
        return 2
    fresh = counts_block(index.read_text(encoding="utf-8"), str(index))
    page = PAGE.read_text(encoding="utf-8")
    stated = counts_block(page, str(PAGE))
    if stated == fresh:
        print(f"auditor_counts: {PAGE.relative_to(ROOT)} states this synth's counts")
        return 0
    if args.check:
        print(f"auditor_counts: {PAGE.relative_to(ROOT)} differs from {index}; run tools/auditor_counts.py",
              file=sys.stderr)
        return 1
    PAGE.write_text(page.replace(stated, fresh), encoding="utf-8")
    print(f"auditor_counts: {PAGE.relative_to(ROOT)} updated from {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
