"""docs/performance.md shows the figures of bench/last-run.json, as make bench wrote them: never edited by hand."""

from __future__ import annotations

import json

from bench.synth_bench import BEGIN, DOCS, END, ROOT, render


def test_the_documented_figures_are_the_last_bench_run() -> None:
    report = json.loads((ROOT / "bench" / "last-run.json").read_text(encoding="utf-8"))
    text = DOCS.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "the marker pair make bench writes between"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert shown == "\n" + render(report), "run `make bench` (it rewrites the block), never edit the figures by hand"
    # the run measured what #25 asks: the cache's effect, and 50 environments against plain ones
    assert report["perimeter_cache"]["second_synth_simulated"] == 0
    assert {"reference", "plain", "perimeter"} <= {r["name"] for r in report["results"]}
