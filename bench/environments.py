"""Generated environments for the benchmark and the sharded-synth tests, modelled on config/commercial.yaml.

Each gets an account of its own (environments without one could share an account, which the config
refuses for two trails). No organization stack covers them, so their SCP-only paths are open; the
benchmark runs the gate in report-only mode rather than accepting them (acceptances are exact request
ids with an approver and an expiry, which generated environments have no one to give).
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def write_environments(directory: Path, count: int, regions: tuple[str, ...] = ("us-east-1",),
                       base_file: Path = ROOT / "config" / "commercial.yaml") -> list[str]:
    """``count`` valid, distinct environments named ``env-000``... modelled on ``base_file``; returns their names."""
    base = yaml.safe_load(base_file.read_text(encoding="utf-8"))
    names = []
    for i in range(count):
        region = regions[i % len(regions)]
        env = {**base, "name": f"env-{i:03d}", "account": f"{100000000000 + i}", "region": region,
               "vpc": {"cidr": f"10.{i}.0.0/16", "availability_zones": [f"{region}{z}" for z in "ab"]}}
        replica = (base.get("audit") or {}).get("replica_region")
        if replica == region:  # the base's replica region is this environment's own: replicate to the base's region
            env["audit"] = {**base["audit"], "replica_region": base["region"]}
        (directory / f"env-{i:03d}.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
        names.append(env["name"])
    return names
