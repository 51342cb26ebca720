#!/usr/bin/env python3
"""Refresh ``evidence/data/fedramp-20x-ksi.json`` from FedRAMP's Consolidated Rules JSON.

Copies, unchanged, every Key Security Indicator (name, statement or per-class statements, controls) and
the name and statement of each FedRAMP rule the data file lists under ``requirements``, plus the rules'
version and date. What this package says about them (``shows`` / ``not_shown`` of a KSI; ``status``,
``implementation``, ``not_shown`` of a rule) is reviewed text: it is kept, never generated. A KSI the
rules drop disappears with its text; a new one arrives without text (the Security Decision Record then
says it is not assessed by automation until someone reviews what the templates show of it).

Usage: python tools/vendor_fedramp_rules.py path/to/fedramp-consolidated-rules.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "constructs" / "compliant_bedrock" / "evidence" / "data" / "fedramp-20x-ksi.json"
#: Copied from the rules; everything else of an entry is this package's reviewed text.
KSI_FIELDS = ("name", "statement", "varies_by_class", "controls")
RULE_FIELDS = ("name", "statement", "varies_by_class", "following_information")


def _rules(consolidated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule_id: rule for family in consolidated["FRR"].values() for subsets in family["data"].values()
            for rules in subsets.values() for rule_id, rule in rules.items()}


def refresh(current: dict[str, Any], consolidated: dict[str, Any]) -> dict[str, Any]:
    indicators: dict[str, Any] = {}
    for family in consolidated["KSI"].values():
        for ksi_id, ksi in family["indicators"].items():
            reviewed = {k: v for k, v in current["indicators"].get(ksi_id, {}).items() if k not in KSI_FIELDS}
            indicators[ksi_id] = {**{k: ksi[k] for k in KSI_FIELDS if k in ksi}, **reviewed}
    rules = _rules(consolidated)
    requirements: dict[str, Any] = {}
    for rule_id, entry in current.get("requirements", {}).items():
        if rule_id not in rules:
            raise SystemExit(f"{rule_id}: not a rule of FedRAMP Consolidated Rules {consolidated['info']['version']}")
        reviewed = {k: v for k, v in entry.items() if k not in RULE_FIELDS}
        requirements[rule_id] = {**{k: rules[rule_id][k] for k in RULE_FIELDS if k in rules[rule_id]}, **reviewed}
    source = {**current["source"], "version": consolidated["info"]["version"],
              "last_updated": consolidated["info"]["last_updated"]}
    return {**current, "source": source, "indicators": dict(sorted(indicators.items())), "requirements": requirements}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rules", type=Path, help="fedramp-consolidated-rules.json (github.com/FedRAMP/rules)")
    args = parser.parse_args(argv)
    current = json.loads(DATA.read_text(encoding="utf-8"))
    refreshed = refresh(current, json.loads(args.rules.read_text(encoding="utf-8")))
    DATA.write_text(json.dumps(refreshed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{DATA.relative_to(ROOT)}: {len(refreshed['indicators'])} KSIs "
          f"({sum(1 for k in refreshed['indicators'].values() if 'shows' in k)} with reviewed text), "
          f"{len(refreshed['requirements'])} rules, FedRAMP Consolidated Rules {refreshed['source']['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
