"""The perimeter proof's own cost on a synthesized assembly: ``python bench/perimeter_cost.py <cdk.out> [runs]``.

Times what synth adds for the proof (read the policies, generate the requests, the IAM simulator's Node
process, judge), not the imports a synth has already paid: ``runs`` times with no decision cache (a first
synth: every distinct simulation evaluated) and ``runs`` times with a warm one (an unchanged re-synth).
Prints JSON: each run's seconds, the requests, the distinct simulations and how many the warm runs read back.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "constructs")]

from compliant_bedrock.compliance import perimeter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
outdir, runs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5
acceptances = perimeter.load_acceptances(ROOT / "config" / "perimeter" / "accepted-open-paths.yaml")
timings: dict[str, list[float]] = {"cold": [], "warm": []}
with tempfile.TemporaryDirectory() as cache:
    for kind in ("cold", "warm"):
        if kind == "warm":  # fill the cache once, untimed: what the first synth leaves behind
            perimeter.prove(outdir, acceptances, node_modules=ROOT / "node_modules", cache_dir=Path(cache))
        for _ in range(runs):
            started = time.perf_counter()
            proof = perimeter.prove(outdir, acceptances, node_modules=ROOT / "node_modules",
                                    cache_dir=Path(cache) if kind == "warm" else False)
            timings[kind].append(time.perf_counter() - started)
print(json.dumps({"cold_s": [round(t, 3) for t in timings["cold"]], "warm_s": [round(t, 3) for t in timings["warm"]],
                  "requests": proof.simulations["requests"], "distinct": proof.simulations["distinct"],
                  "cached": proof.simulations["cached"]}))
