"""Coverage of the FedRAMP Rev5 baselines (Low, Moderate, High) by each environment's evidence.

The baselines are vendored data (``data/fedramp-rev5-baselines.json``: the control ids each FedRAMP
Rev5 profile selects, with the repository, commit, path and version they were taken from). A baseline
control the rules never cite is *not assessed by automation*: the template shows nothing of it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from .matrix import STATUS_TEXT, control_sort_key
from .responsibility import BASIS, control_info

BASELINES = ("low", "moderate", "high")


@cache
def baseline_data() -> dict[str, Any]:
    text = resources.files("compliant_bedrock.evidence").joinpath("data/fedramp-rev5-baselines.json").read_text("utf-8")
    return json.loads(text)


def catalog_to_control(oscal_id: str) -> str:
    """``au-9.2`` -> ``AU-9(2)``: the matrix's form of an OSCAL catalog id."""
    family, _, rest = oscal_id.partition("-")
    number, _, enhancement = rest.partition(".")
    return f"{family.upper()}-{number}" + (f"({enhancement})" if enhancement else "")


@cache
def baseline_controls() -> dict[str, tuple[str, ...]]:
    """Baseline -> its controls in the matrix's form, sorted."""
    return {b: tuple(sorted((catalog_to_control(c) for c in baseline_data()["baselines"][b]["controls"]),
                            key=control_sort_key)) for b in BASELINES}


def status_in(statuses: Mapping[str, str], control: str) -> str:
    return statuses.get(control, "not-assessed-by-automation")


def build_coverage(environments: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """``environments``: name -> {control: status} (from each matrix). JSON-ready coverage document."""
    data = baseline_data()
    per_env: dict[str, Any] = {}
    for env, statuses in sorted(environments.items()):
        per_env[env] = {}
        for b in BASELINES:
            controls = baseline_controls()[b]
            counts = Counter(status_in(statuses, c) for c in controls)
            responsibility = Counter(control_info(c).responsibility for c in controls)
            per_env[env][b] = {
                "controls": len(controls),
                "statuses": {s: counts.get(s, 0) for s in STATUS_TEXT},
                "responsibility": {r: responsibility.get(r, 0) for r in ("customer", "shared", "inherited")},
            }
    high = baseline_controls()["high"]
    rows = []
    for control in high:
        rows.append({
            "control": control,
            "baselines": [b for b in BASELINES if control in set(baseline_controls()[b])],
            "responsibility": control_info(control).responsibility,
            "statuses": {env: status_in(statuses, control) for env, statuses in sorted(environments.items())},
        })
    return {
        "evidence_basis": BASIS,
        "source": data["source"],
        "baselines": {b: {k: v for k, v in data["baselines"][b].items() if k != "controls"} for b in BASELINES},
        "statuses": STATUS_TEXT,
        "coverage": per_env,
        "controls": rows,
    }


def render_coverage(coverage: Mapping[str, Any]) -> str:
    src = coverage["source"]
    versions = ", ".join(f"{b} {v['version']}" for b, v in coverage["baselines"].items())
    lines = ["# FedRAMP Rev5 baseline coverage", "", f"> {BASIS}", "",
             f"Baselines: FedRAMP Rev5 profiles from {src['repository']} at commit `{src['commit']}` "
             f"({versions}). {src['license']}",
             "", "A baseline control no rule cites is counted as not assessed by automation.", ""]
    statuses = list(STATUS_TEXT)
    lines += ["| Environment | Baseline | Controls | " + " | ".join(statuses) + " | customer | shared | inherited |",
              "| --- | --- | ---: | " + " | ".join("---:" for _ in statuses) + " | ---: | ---: | ---: |"]
    for env, per in coverage["coverage"].items():
        for b, c in per.items():
            lines.append(f"| {env} | {b} | {c['controls']} | " + " | ".join(str(c["statuses"][s]) for s in statuses)
                         + " | " + " | ".join(str(c["responsibility"][r]) for r in ("customer", "shared", "inherited"))
                         + " |")
    envs = list(coverage["coverage"])
    lines += ["", "## Controls of the High baseline (Low and Moderate are subsets)", "",
              "| Control | Baselines | Responsibility | " + " | ".join(envs) + " |",
              "| --- | --- | --- | " + " | ".join("---" for _ in envs) + " |"]
    for row in coverage["controls"]:
        lines.append(f"| {row['control']} | {', '.join(b[0].upper() for b in row['baselines'])} | "
                     f"{row['responsibility']} | " + " | ".join(row["statuses"][e] for e in envs) + " |")
    return "\n".join(lines) + "\n"
