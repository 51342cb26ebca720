"""Generated environments for the benchmark and the sharded-synth tests, modelled on config/commercial.yaml.

Each gets an account of its own (environments without one could share an account, which the config
refuses for two trails) and, since no organization stack covers them, the same perimeter acceptances
as an environment outside any organization: the SCP-only paths (ordinary users, account administrators)
are accepted with a reason, exactly as the shipped GovCloud environment's are.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCES = Path("perimeter") / "accepted-open-paths.yaml"
REASON = ("Generated environment outside any organization: no SCP binds its account, so this path is governed "
          "only by identity policies; an organization stack covering it closes the path.")


def write_environments(directory: Path, count: int, regions: tuple[str, ...] = ("us-east-1",),
                       base_file: Path = ROOT / "config" / "commercial.yaml") -> list[str]:
    """``count`` valid, distinct environments named ``env-000``... modelled on ``base_file``; returns their names."""
    base = yaml.safe_load(base_file.read_text(encoding="utf-8"))
    names = []
    for i in range(count):
        region = regions[i % len(regions)]
        env = {**base, "name": f"env-{i:03d}", "account": f"{100000000000 + i}", "region": region,
               "vpc": {"cidr": f"10.{i}.0.0/16", "availability_zones": [f"{region}{z}" for z in "ab"]}}
        (directory / f"env-{i:03d}.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
        names.append(env["name"])
    shipped = yaml.safe_load((ROOT / "config" / ACCEPTANCES).read_text(encoding="utf-8"))["accepted"]
    unbound = sorted({r for a in shipped if "govcloud" in (a.get("environments") or [])
                      for r in (a.get("requests") or [a.get("request")])})
    approval = next(a for a in shipped if "govcloud" in (a.get("environments") or []))
    (directory / ACCEPTANCES).parent.mkdir(parents=True, exist_ok=True)
    (directory / ACCEPTANCES).write_text(yaml.safe_dump({"accepted": [
        {"requests": unbound, "environments": names, "reason": REASON, "approved_by": approval["approved_by"],
         "expires": approval["expires"]}]}), encoding="utf-8")
    return names
