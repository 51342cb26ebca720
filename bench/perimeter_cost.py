"""The perimeter proof's own cost on a synthesized assembly: ``python bench/perimeter_cost.py <cdk.out> [runs]``.

Times what synth adds for the proof (read the policies, generate the requests, the IAM simulator's Node
process, judge), not the imports a synth has already paid, ``runs`` times each: with no cache (a first synth:
every distinct simulation evaluated), with every decision cached but the proof itself not kept
(``COMPLIANT_BEDROCK_PROOF_CACHE=off``: an assembly that changed somewhere, every request generated and looked up)
and with the whole proof kept (an unchanged re-synth). Prints JSON: each run's seconds, the requests, the distinct
simulations and how many the cached runs read back.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "constructs")]

from compliant_bedrock.compliance import perimeter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
outdir, runs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5
acceptances = perimeter.load_acceptances(ROOT / "config" / "perimeter" / "accepted-open-paths.yaml")
timings: dict[str, list[float]] = {"cold": [], "decisions": [], "warm": []}
with tempfile.TemporaryDirectory() as cache:
    perimeter.prove(outdir, acceptances, node_modules=ROOT / "node_modules", cache_dir=Path(cache))  # fill, untimed
    for kind in ("cold", "decisions", "warm"):
        os.environ["COMPLIANT_BEDROCK_PROOF_CACHE"] = "off" if kind == "decisions" else ""
        for _ in range(runs):
            started = time.perf_counter()
            proof = perimeter.prove(outdir, acceptances, node_modules=ROOT / "node_modules",
                                    cache_dir=False if kind == "cold" else Path(cache))
            timings[kind].append(time.perf_counter() - started)
print(json.dumps({"cold_s": [round(t, 3) for t in timings["cold"]], "warm_s": [round(t, 3) for t in timings["warm"]],
                  "decisions_s": [round(t, 3) for t in timings["decisions"]],
                  "requests": proof.simulations["requests"], "distinct": proof.simulations["distinct"],
                  "cached": proof.simulations["cached"]}))
