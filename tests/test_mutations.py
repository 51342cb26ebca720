"""Remove each protection of the reference stack; the matching rule must fire (one synth for all)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from mutations import MUTATIONS

from compliant_bedrock.compliance import attach_packs, judge
from infra.app_factory import ROOT, cdk_json_context
from infra.config import load_environments
from infra.stack import ReferenceStack


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Every mutation as its own stack of one App: one synth for all. Returns blocking rule ids by mutation."""
    outdir = tmp_path_factory.mktemp("mutants")
    envs = {e.name: e for e in load_environments(ROOT / "config")}
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    for name, mutation in MUTATIONS.items():
        stack = ReferenceStack(app, f"Mutant-{name}", settings=envs[mutation.env])
        mutation.apply(stack)
        attach_packs(stack)
    app.synth()
    fired: dict[str, set[str]] = {name: set() for name in MUTATIONS}
    for finding in judge(outdir, {}):
        fired[finding.stack.removeprefix("Mutant-")].add(finding.rule_id)
    return fired


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_removing_a_protection_fires_its_rule(mutants: dict[str, set[str]], name: str) -> None:
    missing = set(MUTATIONS[name].expect) - mutants[name]
    assert not missing, f"{name}: expected {sorted(missing)} among blocking findings {sorted(mutants[name])}"


