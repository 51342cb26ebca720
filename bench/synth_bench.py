"""Synth benchmark: wall time (median of N runs) and peak RSS, measured by /usr/bin/time.

Scenarios, all in one run so the ratios compare like with like:
  empty        an empty CDK app: the floor (jsii + aws-cdk-lib load, one empty stack)
  plain        the reference app's stacks with no checks at all (no cdk-nag, no Bedrock pack, no gate, no
               evidence, no perimeter proof): reference / plain is the whole gate's overhead
  reference    the reference app (every shipped environment and the organization stack) with every check: cdk-nag NIST 800-53 r5
               + AWS Solutions, the Bedrock pack, the gate, the evidence and the perimeter proof
  perimeter    the perimeter proof alone on the reference assembly (one IAM-simulator process), timed in
               process: what it adds to a synth, with no decision cache (cold) and with it (warm)
  envs-N       the reference app generated for N environments (1, 10, 50), every check on
  plain-N      the same N environments' stacks with no checks at all, sharded as the gated synth is (the same
               worker count, each worker every n-th environment, the parent merging): like with like

Every gated scenario starts with empty caches (<CDK_OUTDIR>/.cache: cdk-nag's results, the Bedrock pack's, the
proof and its decisions, the evidence): its first run is a first synth (every stack judged, every distinct
simulation evaluated, ``cold_s``), the later runs re-synthesize an unchanged app (every result read back);
``simulations`` is what each run asked of the simulator (requests, distinct, cached, simulated), read from the
perimeter cache's last-run.json.

Usage: python bench/synth_bench.py [--runs 5] [--envs 1,10,50] [--out bench/last-run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
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
    shutil.rmtree(Path(env["CDK_OUTDIR"]) / ".cache", ignore_errors=True)  # each scenario's first run is a first synth
    cache = Path(env["CDK_OUTDIR"]) / ".cache" / "perimeter"
    samples, simulations = [], []
    for _ in range(runs):
        (cache / "last-run.json").unlink(missing_ok=True)
        samples.append(measure(command, env))
        last = cache / "last-run.json"
        simulations.append(json.loads(last.read_text()) if last.is_file() else None)
    times = [t for t, _, _ in samples]
    # a gated scenario's median is of its re-synths (the first run fills the cache, reported as cold_s)
    resynths = times[1:] if simulations[0] and len(times) > 1 else times
    result = {"name": name, "runs": runs, "median_s": round(statistics.median(resynths), 3),
              "min_s": round(min(times), 3), "max_s": round(max(times), 3), "cold_s": round(times[0], 3),
              "peak_rss_mib": max(r for _, r, _ in samples), "peak_tree_rss_mib": max(t for _, _, t in samples)}
    if any(simulations):
        result["simulations"] = simulations
    proof = ""
    if simulations[0]:
        first, later = simulations[0], simulations[1:]
        proof = (f"; proof {first['requests']} requests, {first['distinct']} distinct; first run simulated "
                 f"{first['simulated']}" + (f", later runs {max(s['simulated'] for s in later)}" if later else ""))
    print(f"  {name:<10} median {result['median_s']:6.2f} s (first {times[0]:.2f} s)   peak RSS "
          f"{result['peak_rss_mib']:5d} MiB (whole process tree {result['peak_tree_rss_mib']:5d} MiB){proof}",
          flush=True)
    return result


def perimeter_cost(python: str, env: dict[str, str], runs: int) -> dict[str, object]:
    """The proof over the assembly the reference scenario left in CDK_OUTDIR, timed inside one process."""
    done = subprocess.run([python, "bench/perimeter_cost.py", env["CDK_OUTDIR"], str(runs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"perimeter benchmark failed: {done.stderr}")
    measured = json.loads(done.stdout.splitlines()[-1])
    cold, warm, decisions = measured["cold_s"], measured["warm_s"], measured["decisions_s"]
    result = {"name": "perimeter", "runs": runs, "median_s": round(statistics.median(cold), 3),
              "min_s": min(cold), "max_s": max(cold), "warm_median_s": round(statistics.median(warm), 3),
              "decisions_median_s": round(statistics.median(decisions), 3),
              "requests": measured["requests"], "distinct": measured["distinct"], "warm_cached": measured["cached"]}
    print(f"  {'perimeter':<10} median {result['median_s']:6.2f} s with no cache ({result['requests']} requests, "
          f"{result['distinct']} distinct simulations, one simulator process); {result['decisions_median_s']:.2f} s "
          f"with every decision cached ({result['warm_cached']} read back); {result['warm_median_s']:.2f} s with the "
          "proof kept", flush=True)
    return result


#: The block of docs/performance.md that make bench rewrites from bench/last-run.json (never edited by hand).
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:last-run begin (written by make bench from bench/last-run.json) -->", "<!-- bench:last-run end -->"


def render(report: dict) -> str:
    """The figures of one ``make bench`` run as the Markdown table docs/performance.md shows."""
    by_name = {r["name"]: r for r in report["results"]}
    cache = report["perimeter_cache"]
    runs = by_name["empty"]["runs"]
    before = report["machine"].get("load_average_at_start")
    end = report["machine"].get("load_average_at_end")
    if before and before[0] > 0.5:  # something else was running when the benchmark started
        note = (f"; load average {before[0]:.1f} when the run started: other work on the machine may have slowed "
                "some scenarios, so the times, and the ratios between scenarios, are indicative only")
    elif end and not before:  # an older run: its load at the end counts the benchmark's own shard processes too
        note = f"; load average at the end {end[0]:.1f}, the benchmark's own shard processes included"
    else:
        note = ""
    lines = [f"{runs} run(s) per scenario on {report['machine']['cpus']} cores, Node {report['machine']['node']}"
             + note + ".", "",
             "| scenario | median (gated: of the re-synths) | first run (empty caches) | peak RSS, largest "
             "process / whole tree |",
             "|---|---|---|---|"]
    for r in report["results"]:
        if r["name"] == "perimeter":
            continue
        cold = f"{r['cold_s']:.2f} s" if r.get("simulations") else ""
        lines.append(f"| {r['name']} | {r['median_s']:.2f} s | {cold} | {r['peak_rss_mib']} / "
                     f"{r['peak_tree_rss_mib']} MiB |")
    p = by_name["perimeter"]
    overheads = ", ".join(f"{k} {v}x" for k, v in report["gate_overhead_envs_to_plain"].items())
    lines += ["",
              f"- Gate overhead, reference app / plain: **{report['gate_overhead_reference_to_plain']}x** re-synthesizing "
              f"an unchanged app, **{report['gate_overhead_first_synth_to_plain']}x** for a first synth (target "
              "1.25x).",
              f"- N environments gated / plain (both sharded the same way): {overheads} (target 1.25x at 50).",
              f"- Perimeter proof alone: {p['requests']} requests, {p['distinct']} distinct simulations; "
              f"{p['median_s']:.2f} s with no cache, {p.get('decisions_median_s', p['warm_median_s']):.2f} s with every "
              f"decision cached ({p['warm_cached']} read back) but the proof not kept (an assembly changed elsewhere), "
              f"{p['warm_median_s']:.2f} s with the whole proof kept (an unchanged assembly).",
              f"- Re-synths of an unchanged app simulated {cache['second_synth_simulated']} requests (cache hit rate "
              f"{cache['second_synth_hit_rate']:.1%}).",
              ]
    return "\n".join(lines) + "\n"


def write_docs(report: dict, docs: Path = DOCS) -> None:
    text = docs.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"{docs}: no '{BEGIN}' marker: put the marker pair where the figures go")
    docs.write_text(f"{head}{BEGIN}\n{render(report)}{END}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--envs", default="1,10,50")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "last-run.json")
    args = parser.parse_args()
    python = sys.executable
    load_before = [round(x, 2) for x in os.getloadavg()]
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
            results.append(scenario(f"plain-{count}", [python, "bench/plain_app.py"], env, args.runs))
    floor = results[0]["median_s"]
    ratios = {r["name"]: round(r["median_s"] / floor, 2) for r in results[1:] if r["name"] != "perimeter"}
    by_name = {r["name"]: r for r in results}
    gate_overhead = round(by_name["reference"]["median_s"] / by_name["plain"]["median_s"], 2)
    first_synth = round(by_name["reference"]["cold_s"] / by_name["plain"]["median_s"], 2)
    envs_overhead = {r["name"]: round(r["median_s"] / by_name[r["name"].replace("envs-", "plain-")]["median_s"], 2)
                     for r in results if r["name"].startswith("envs-")}
    later = [s for r in results for s in (r.get("simulations") or [])[1:] if s]
    cache = {"second_synth_simulated": sum(s["simulated"] for s in later),
             "second_synth_hit_rate": round(sum(s["cached"] for s in later) / max(1, sum(s["distinct"] for s in later)),
                                            3),
             "reference_requests": by_name["perimeter"]["requests"],
             "reference_distinct": by_name["perimeter"]["distinct"]}
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "node": os.environ.get("JSII_NODE", "node"),
                          "load_average_at_start": load_before,
                          "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
              "results": results, "ratios_to_empty": ratios, "gate_overhead_reference_to_plain": gate_overhead,
              "gate_overhead_first_synth_to_plain": first_synth, "gate_overhead_envs_to_plain": envs_overhead,
              "perimeter_cache": cache}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.out == ROOT / "bench" / "last-run.json":
        write_docs(report)
    print("ratios to the empty-app floor: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    print(f"whole gate's overhead (reference / plain): {gate_overhead}x re-synthesizing an unchanged app, {first_synth}x "
          f"for a first synth; perimeter proof {by_name['perimeter']['median_s']:.2f} s cold, "
          f"{by_name['perimeter']['warm_median_s']:.2f} s warm")
    print("N environments gated / plain: " + ", ".join(f"{k} {v}x" for k, v in envs_overhead.items()))
    print(f"perimeter decision cache: {cache['reference_distinct']} distinct simulations for "
          f"{cache['reference_requests']} requests (reference app); re-synths simulated "
          f"{cache['second_synth_simulated']} (hit rate {cache['second_synth_hit_rate']:.1%})")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
