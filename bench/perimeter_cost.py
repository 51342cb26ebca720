"""The perimeter proof's own cost on a synthesized assembly: ``python bench/perimeter_cost.py <cdk.out> [runs]``.

Times what synth adds for the proof (read the policies, generate the requests, one Node process of the
IAM simulator, judge), not the imports a synth has already paid. Prints JSON: each run's seconds and
the number of requests.
"""

import json
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "constructs")]

from compliant_bedrock.compliance import perimeter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
outdir, runs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5
acceptances = perimeter.load_acceptances(ROOT / "config" / "perimeter" / "accepted-open-paths.yaml")
times = []
for _ in range(runs):
    started = time.perf_counter()
    proof = perimeter.prove(outdir, acceptances, node_modules=ROOT / "node_modules")
    times.append(time.perf_counter() - started)
print(json.dumps({"times_s": [round(t, 3) for t in times], "requests": len(proof.outcomes)}))
