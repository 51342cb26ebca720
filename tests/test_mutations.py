"""Remove each protection of the reference stack; the matching rule must fire (one synth for all)."""

from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
import pytest
import yaml
from mutations import MUTATIONS

from compliant_bedrock.compliance import attach_packs, judge
from compliant_bedrock.compliance.gate import read_findings
from infra.app_factory import ROOT, cdk_json_context
from infra.config import load_environments, parse_environment
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
        # the rules a mutation must fire are the Bedrock pack's (run by judge) and, for four of them, NIST's: a pack
        # no expectation names would only cost synth time (the variants below get every pack)
        if any(not rule.startswith("Bedrock-") for rule in mutation.expect):
            cdk.Aspects.of(stack).add(cdk_nag.NIST80053R5Checks(verbose=True, reports=True,
                                                                report_formats=[cdk_nag.NagReportFormat.JSON]))
    for name, variant in VARIANTS.items():
        attach_packs(ReferenceStack(app, f"Mutant-{name}", settings=variant()))
    app.synth()
    fired: dict[str, set[str]] = {name: set() for name in [*MUTATIONS, *VARIANTS]}
    for finding in judge(outdir, {}):
        fired[finding.stack.removeprefix("Mutant-")].add(finding.rule_id)
    for name in VARIANTS:  # what each variant risk-accepts (read from its reports)
        fired[f"suppressed:{name}"] = {f.rule_id for f in read_findings(outdir, [f"Mutant-{name}"])
                                       if f.compliance == "Suppressed" and f.rule_id.startswith("Bedrock-")}
    return fired


def _commercial_with(**changes: object):
    raw = yaml.safe_load((ROOT / "tests" / "fixtures" / "environment.yaml").read_text())
    raw.update(changes)
    if "models" in changes:  # an acceptance of a model no longer listed is refused (a standing pre-approval)
        raw.pop("accept_unverified_models", None)
    return parse_environment(raw, "variant.yaml")


_ACCEPT = {"reason": "Responses with stored state is needed by the agent framework the mission team uses today.",
           "compensating": "The application calls ApplyGuardrail on every prompt and answer and logs both itself.",
           "approved_by": "AO, RA-2026-021", "expires": "2099-12-31"}
#: Valid configurations that are not shipped: each must pass the gate (no blocking finding at all).
VARIANTS = {
    # an account of its own: the mutants share one account and region, where one trail, enforcement and logging
    # configuration would be the gate's finding (Bedrock-One*PerAccount/PerRegion) however valid the variant is
    "variant-runtime-openai-accepted": lambda: _commercial_with(
        account="555566667777",
        models=["openai.gpt-oss-120b-1:0", {"id": "us.openai.gpt-6-sol", "path": "runtime-openai"}],
        accept_unguarded={"runtime-openai": _ACCEPT}),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_accepted_variants_pass_the_gate(mutants: dict[str, set[str]], name: str) -> None:
    assert mutants[name] == set()
    assert "Bedrock-UnguardedInferencePath" in mutants[f"suppressed:{name}"]  # accepted, not overlooked


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_removing_a_protection_fires_its_rule(mutants: dict[str, set[str]], name: str) -> None:
    missing = set(MUTATIONS[name].expect) - mutants[name]
    assert not missing, f"{name}: expected {sorted(missing)} among blocking findings {sorted(mutants[name])}"


