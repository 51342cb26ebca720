"""Synth benchmark: wall time (median of N runs) and peak RSS, measured by /usr/bin/time.

Scenarios, all in one run so the ratios compare like with like:
  empty        an empty CDK app: the floor (jsii + aws-cdk-lib load, one empty stack)
  plain        the reference app's stacks with no checks at all (no cdk-nag, no Bedrock pack, no gate, no
               evidence, no perimeter proof): reference / plain is the whole gate's overhead
  reference    the reference app (every shipped environment and the organization stack) with every check: cdk-nag NIST 800-53 r5
               + AWS Solutions, the Bedrock pack, the gate, the evidence and the perimeter proof
  perimeter    the perimeter proof alone on the reference assembly (one IAM-simulator process), timed in
               process: what it adds to a synth
  envs-N       the reference app generated for N environments (1, 10, 50), every check on

Usage: python bench/synth_bench.py [--runs 5] [--envs 1,10,50] [--out bench/last-run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
REGIONS = ("us-east-1", "us-east-2", "us-west-2")

sys.path.insert(0, str(ROOT))
from bench.environments import write_environments  # noqa: E402


def _tree_rss_kib(root: int) -> int:
    """Summed RSS of ``root`` and all its descendants (python, node and shard workers)."""
    rows = []
    for line in subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True).stdout.splitlines():
        if line.strip():
            rows.append(tuple(int(x) for x in line.split()))
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid, _ in rows:
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss for pid, _, rss in rows if pid in tree)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Elapsed seconds (/usr/bin/time), peak RSS of the largest process (/usr/bin/time) and peak summed
    RSS of the whole process tree (sampled every 0.2 s), both in MiB."""
    with tempfile.NamedTemporaryFile("r") as out, tempfile.TemporaryFile("w+") as err:
        run = subprocess.Popen([TIME, "-f", "%e %M", "-o", out.name, *command], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=err, text=True)
        tree_peak = 0
        while run.poll() is None:
            tree_peak = max(tree_peak, _tree_rss_kib(run.pid))
            time.sleep(0.2)
        if run.returncode != 0:
            err.seek(0)
            raise SystemExit(f"benchmark command failed ({run.returncode}): {' '.join(command)}\n{err.read()}")
        elapsed, rss_kib = out.read().split()[-2:]
    return float(elapsed), int(rss_kib) // 1024, tree_peak // 1024


def scenario(name: str, command: list[str], env: dict[str, str], runs: int) -> dict[str, object]:
    samples = [measure(command, env) for _ in range(runs)]
    times = [t for t, _, _ in samples]
    result = {"name": name, "runs": runs, "median_s": round(statistics.median(times), 3),
              "min_s": round(min(times), 3), "max_s": round(max(times), 3),
              "peak_rss_mib": max(r for _, r, _ in samples), "peak_tree_rss_mib": max(t for _, _, t in samples)}
    print(f"  {name:<10} median {result['median_s']:6.2f} s   peak RSS {result['peak_rss_mib']:5d} MiB"
          f" (whole process tree {result['peak_tree_rss_mib']:5d} MiB)", flush=True)
    return result


def perimeter_cost(python: str, env: dict[str, str], runs: int) -> dict[str, object]:
    """The proof over the assembly the reference scenario left in CDK_OUTDIR, timed inside one process."""
    done = subprocess.run([python, "bench/perimeter_cost.py", env["CDK_OUTDIR"], str(runs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"perimeter benchmark failed: {done.stderr}")
    times = json.loads(done.stdout.splitlines()[-1])["times_s"]
    result = {"name": "perimeter", "runs": runs, "median_s": round(statistics.median(times), 3),
              "min_s": min(times), "max_s": max(times),
              "requests": json.loads(done.stdout.splitlines()[-1])["requests"]}
    print(f"  {'perimeter':<10} median {result['median_s']:6.2f} s   ({result['requests']} requests, one simulator "
          "process)", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--envs", default="1,10,50")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "last-run.json")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        base_env = {**os.environ, "CDK_VALIDATION": "false", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                    "CDK_OUTDIR": str(Path(tmp) / "cdk.out")}
        print(f"synth benchmark: {args.runs} runs each, node {os.environ.get('JSII_NODE', 'node')}", flush=True)
        results = [
            scenario("empty", [python, "bench/empty_app.py"], base_env, args.runs),
            scenario("plain", [python, "bench/plain_app.py"], base_env, args.runs),
            scenario("reference", [python, "app.py"], base_env, args.runs),
        ]
        results.append(perimeter_cost(python, base_env, args.runs))
        for count in (int(n) for n in args.envs.split(",")):
            config = Path(tmp) / f"config-{count}"
            config.mkdir()
            write_environments(config, count, REGIONS)
            # No organization binds the generated accounts, so the proof finds their SCP-only paths open, each
            # under its own exact id: the gate runs in full but reports (the same work; acceptances are exact
            # ids now, and a generated copy of GovCloud's would be stale here).
            env = {**base_env, "CDK_CONTEXT_JSON": json.dumps({"compliant-bedrock:config-dir": str(config),
                                                               "compliance:report-only": "true"})}
            results.append(scenario(f"envs-{count}", [python, "app.py"], env, args.runs))
    floor = results[0]["median_s"]
    ratios = {r["name"]: round(r["median_s"] / floor, 2) for r in results[1:] if r["name"] != "perimeter"}
    by_name = {r["name"]: r["median_s"] for r in results}
    gate_overhead = round(by_name["reference"] / by_name["plain"], 2)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "node": os.environ.get("JSII_NODE", "node")},
              "results": results, "ratios_to_empty": ratios, "gate_overhead_reference_to_plain": gate_overhead}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print("ratios to the empty-app floor: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    print(f"whole gate's overhead (reference / plain): {gate_overhead}x; perimeter proof {by_name['perimeter']:.2f} s")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
