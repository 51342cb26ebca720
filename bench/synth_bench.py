"""Synth benchmark: wall time (median of N runs) and peak RSS, measured by /usr/bin/time.

Scenarios, all in one run so the ratios compare like with like:
  empty        an empty CDK app: the floor (jsii + aws-cdk-lib load, one empty stack)
  reference    the reference app (both shipped environments) with every check: cdk-nag NIST 800-53 r5
               + AWS Solutions, the Bedrock pack and the gate
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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def write_environments(directory: Path, count: int) -> None:
    """``count`` valid, distinct environments modelled on config/commercial.yaml."""
    base = yaml.safe_load((ROOT / "config" / "commercial.yaml").read_text())
    for i in range(count):
        env = {**base, "name": f"env-{i:03d}", "region": REGIONS[i % len(REGIONS)],
               "vpc": {"cidr": f"10.{i}.0.0/16", "az_count": 2}}
        (directory / f"env-{i:03d}.yaml").write_text(yaml.safe_dump(env))


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Elapsed seconds and peak RSS in MiB of one run (of the largest process in the tree)."""
    with tempfile.NamedTemporaryFile("r") as out:
        result = subprocess.run([TIME, "-f", "%e %M", "-o", out.name, *command], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
        elapsed, rss_kib = out.read().split()[-2:]
    return float(elapsed), int(rss_kib) // 1024


def scenario(name: str, command: list[str], env: dict[str, str], runs: int) -> dict[str, object]:
    samples = [measure(command, env) for _ in range(runs)]
    times = [t for t, _ in samples]
    result = {"name": name, "runs": runs, "median_s": round(statistics.median(times), 3),
              "min_s": round(min(times), 3), "max_s": round(max(times), 3),
              "peak_rss_mib": max(r for _, r in samples)}
    print(f"  {name:<10} median {result['median_s']:6.2f} s   peak RSS {result['peak_rss_mib']:5d} MiB", flush=True)
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
            scenario("reference", [python, "app.py"], base_env, args.runs),
        ]
        for count in (int(n) for n in args.envs.split(",")):
            config = Path(tmp) / f"config-{count}"
            config.mkdir()
            write_environments(config, count)
            env = {**base_env, "CDK_CONTEXT_JSON": json.dumps({"compliant-bedrock:config-dir": str(config)})}
            results.append(scenario(f"envs-{count}", [python, "app.py"], env, args.runs))
    floor = results[0]["median_s"]
    ratios = {r["name"]: round(r["median_s"] / floor, 2) for r in results[1:]}
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "node": os.environ.get("JSII_NODE", "node")},
              "results": results, "ratios_to_empty": ratios}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print("ratios to the empty-app floor: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
