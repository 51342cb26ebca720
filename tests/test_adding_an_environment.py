"""docs/adding-an-environment.md, followed in a copy of config/: the new environment validates and passes the full gate
(packs, perimeter proof, evidence) the first time. Whatever config/ holds (a fork's environments too): the source is
derived from it, as are the new account, CIDR and endpoint ids. One gate run, for the new environment only."""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra.app_factory import CONFIG_DIR_KEY, ROOT, build_app, selected_environments, selected_organizations

RECIPE = ROOT / "docs" / "adding-an-environment.md"
NEW = "recipe-env"


def _source() -> tuple[str, Path]:
    """The environment to copy: the doc's (govcloud) where config/ has it under an organization, else the first one
    an organization covers that needs no Mantle role (its file, its organization's file)."""
    envs = {e.name: e for e in selected_environments({"env": None})}
    covered = {env for o in selected_organizations({"env": None}) for env in o.covers_environments}
    candidates = [n for n in sorted(envs) if n in covered and not envs[n].allows_mantle]
    if not candidates:
        pytest.skip("no environment of config/ is covered by an organization")
    name = "govcloud" if "govcloud" in candidates else candidates[0]
    return name, _organization_file(name)


def _organization_file(env: str) -> Path:
    for path in sorted((ROOT / "config" / "organization").glob("*.yaml")):
        if env in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("covers_environments", []):
            return path
    raise AssertionError(f"no organization file covers {env}")


def _unused_account(config: Path) -> str:
    used = set(re.findall(r"\b\d{12}\b", "".join(p.read_text() for p in config.rglob("*.yaml"))))
    return next(a for a in (f"{n:012d}" for n in range(444455556666, 444455557666)) if a not in used)


def _unused_cidr(config: Path) -> str:
    taken = [ipaddress.ip_network(yaml.safe_load(p.read_text())["vpc"]["cidr"]) for p in config.glob("*.yaml")]
    return next(str(n) for n in (ipaddress.ip_network(f"10.{i}.0.0/16") for i in range(256))
                if not any(n.overlaps(t) for t in taken))


def follow_recipe(config: Path, source: str, organization: str) -> None:
    """The doc's steps 1-3 on ``config`` (a copy of config/)."""
    # 1. copy the source environment, change name, account, vpc.cidr
    env = yaml.safe_load((config / f"{source}.yaml").read_text(encoding="utf-8"))
    env.update(name=NEW, account=_unused_account(config))
    env["vpc"]["cidr"] = _unused_cidr(config)
    if (env.get("verify") or {}).get("role_arn"):  # the weekly verification's read-only role, in the new account
        head, name = env["verify"]["role_arn"].rsplit(":", 1)
        env["verify"]["role_arn"] = f"{head.rsplit(':', 1)[0]}:{env['account']}:{name}"
    (config / f"{NEW}.yaml").write_text(yaml.safe_dump(env, sort_keys=False), encoding="utf-8")
    # 2. its organization: covers_environments, placeholder endpoint ids (one per Bedrock endpoint it creates)
    org_file = config / "organization" / organization
    org = yaml.safe_load(org_file.read_text(encoding="utf-8"))
    org["covers_environments"].append(NEW)
    recorded = set(re.findall(r"vpce-[0-9a-f]+", org_file.read_text()))
    fresh = (f"vpce-0{n:016x}" for n in range(1, 10_000) if f"vpce-0{n:016x}" not in recorded)
    org["endpoints"]["ids"][NEW] = {service: next(fresh) for service in org["endpoints"]["ids"][source]}
    org_file.write_text(yaml.safe_dump(org, sort_keys=False), encoding="utf-8")
    # 3. acceptances that name the source environment name the new one too
    acceptances_file = config / "perimeter" / "accepted-open-paths.yaml"
    acceptances = yaml.safe_load(acceptances_file.read_text(encoding="utf-8")) or {"accepted": []}
    for entry in acceptances.get("accepted") or []:
        if source in (entry.get("environments") or []):
            entry["environments"].append(NEW)
    acceptances_file.write_text(yaml.safe_dump(acceptances, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """config/ copied and the recipe followed; ``make synth ENV=<new>``'s run (in process): (config, cdk.out, exit)."""
    from infra.cli import run

    source, org_file = _source()
    config = tmp_path_factory.mktemp("fork") / "config"
    shutil.copytree(ROOT / "config", config)
    follow_recipe(config, source, org_file.name)
    out = tmp_path_factory.mktemp("cdk.out")
    # a pack's report from an earlier synth with a pack attached then: a current-looking report must not survive
    stale = out / f"HIPAA.Security--CompliantBedrock-{NEW}-NagReport.json"
    stale.write_text(json.dumps({"lines": [{
        "ruleId": "HIPAA.Security-CloudWatchLogGroupEncrypted", "resourceId": f"CompliantBedrock-{NEW}/X",
        "compliance": "Non-Compliant", "exceptionReason": "N/A", "ruleLevel": "Error", "ruleInfo": "old"}]}))
    code = run(build=lambda outdir: build_app({"env": NEW, CONFIG_DIR_KEY: str(config)}, outdir=str(out)))
    return config, out, code


def test_the_recipe_names_what_the_test_changes() -> None:
    text = RECIPE.read_text(encoding="utf-8")
    for step in ("cp config/govcloud.yaml config/govcloud-b.yaml", "`name`", "`account`", "`vpc.cidr`", "`verify.role_arn`",
                 "`covers_environments`", "`endpoints.ids`", "accepted-open-paths.yaml", "make synth ENV=govcloud-b"):
        assert step in text, step


def test_a_new_environment_passes_the_gate_the_first_time(recipe: tuple[Path, Path, int]) -> None:
    config, outdir, code = recipe
    assert code == 0
    findings = json.loads((outdir / "compliance" / "findings.json").read_text())
    assert findings["passed"] is True and findings["perimeter"]["passed"] is True
    proof = json.loads((outdir / "compliance" / f"perimeter-{NEW}.json").read_text())
    assert sum(proof["counts"].values()) > 100  # the proof ran on the new environment, bound by its organization
    assert f"CompliantBedrock-{NEW}" in json.loads((outdir / "manifest.json").read_text())["artifacts"]
    # every environment of the fork still validates together (one trail per account, one logging owner ...)
    assert NEW in {e.name for e in selected_environments({CONFIG_DIR_KEY: str(config), "env": None})}


def test_a_dropped_pack_leaves_no_report_behind(recipe: tuple[Path, Path, int]) -> None:
    """cdk.out is not cleaned between synths: a HIPAA report from when HIPAA was attached must go."""
    _, outdir, code = recipe
    assert code == 0
    assert not (outdir / f"HIPAA.Security--CompliantBedrock-{NEW}-NagReport.json").exists()
    assert "HIPAA" not in (outdir / "compliance" / "findings.json").read_text()
