"""An unchanged assembly is proven once (compliance.perimeter.proof_cache).

A kept proof must be the fresh proof, must never stand for an assembly, acceptance, simulator or code that
changed, and must not excuse a missing simulator.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from compliant_bedrock.compliance import perimeter
from compliant_bedrock.compliance.perimeter import decision_cache, proof_cache, simulator
from compliant_bedrock.compliance.perimeter import proof as proof_module

ROOT = Path(__file__).resolve().parents[1]
ACCEPTANCES = ROOT / "config" / "perimeter" / "accepted-open-paths.yaml"


@pytest.fixture
def assembly(reference_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reference assembly with its decisions (so nothing is simulated), the proof cache on."""
    copy = tmp_path / "out"
    shutil.copytree(reference_out, copy, ignore=shutil.ignore_patterns("*.png", "*.svg", ".cache", "compliance"))
    shutil.copytree(reference_out / decision_cache.CACHE_SUBDIR, tmp_path / "cache")
    monkeypatch.delenv(proof_cache.CACHE_ENV, raising=False)
    return copy


def _prove(outdir: Path, acceptances: list | None = None) -> perimeter.Proof:
    chosen = perimeter.load_acceptances(ACCEPTANCES) if acceptances is None else acceptances
    return perimeter.prove(outdir, chosen, node_modules=ROOT / "node_modules", cache_dir=outdir.parent / "cache")


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    reads: list[Path] = []
    real = proof_module.read

    def read(outdir: Path):  # type: ignore[no-untyped-def]
        reads.append(outdir)
        return real(outdir)

    monkeypatch.setattr(proof_module, "read", read)
    return reads


def test_a_kept_proof_is_the_fresh_proof_and_says_nothing_was_simulated(
        assembly: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = _prove(assembly)
    assert len(list((assembly.parent / "cache").glob("proof-*.json"))) == 1
    reads = _reads(monkeypatch)
    kept = _prove(assembly)
    assert reads == []  # no policy read, no request generated
    assert [asdict(o) for o in kept.outcomes] == [asdict(o) for o in fresh.outcomes]
    assert (kept.simulator, kept.scopes, kept.distinct, kept.stale_acceptances) == (
        fresh.simulator, fresh.scopes, fresh.distinct, fresh.stale_acceptances)
    assert kept.simulations == {"requests": fresh.simulations["requests"], "distinct": fresh.simulations["distinct"],
                                "cached": fresh.simulations["distinct"], "simulated": 0}
    assert json.loads((assembly.parent / "cache" / decision_cache.LAST_RUN).read_text()) == kept.simulations
    monkeypatch.setenv(proof_cache.CACHE_ENV, "off")
    _prove(assembly)
    assert reads == [assembly]


@pytest.mark.parametrize("change", ["stack template", "organization template", "stackset template",
                                    "stackset paths", "acceptances", "code"])
def test_any_changed_input_proves_again(assembly: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    _prove(assembly)
    reads = _reads(monkeypatch)
    acceptances = None
    if change == "stack template":
        template = assembly / "CompliantBedrock-commercial.template.json"
        template.write_text(template.read_text() + "\n")  # the same policies: every decision is still cached
    elif change == "organization template":
        template = assembly / "CompliantBedrock-organization-commercial.template.json"
        template.write_text(template.read_text() + "\n")
    elif change == "stackset template":
        template = assembly / "stacksets" / "CompliantBedrock-baseline-commercial" / \
            "CompliantBedrock-baseline-commercial.template.json"
        template.write_text(template.read_text() + "\n")
    elif change == "stackset paths":
        metadata = assembly / "stacksets" / "CompliantBedrock-baseline-commercial" / \
            "CompliantBedrock-baseline-commercial.metadata.json"
        metadata.write_text(metadata.read_text().replace("/CompliantBedrock-baseline-commercial/", "/Renamed/"))
    elif change == "acceptances":  # the shipped file accepts nothing: accept one path (it is stale, so reported)
        acceptances = [perimeter.Acceptance(
            "workload.invoke.unlisted-model", "a path the proof closes; accepted only to change this test's input",
            ("commercial",), "Test Author (ISSO)", "2099-01-01")]
    else:
        monkeypatch.setattr(proof_cache, "code_fingerprint", lambda: "another release of the request matrix")
    _prove(assembly, acceptances)
    assert reads == [assembly], change


def test_jsii_creation_traces_do_not_change_the_key(assembly: Path) -> None:
    key = proof_cache.key(assembly, [], None, "simulator")
    metadata = assembly / "CompliantBedrock-commercial.metadata.json"
    body = json.loads(metadata.read_text())
    first = next(iter(body))
    body[first] = [*body[first], {"type": "aws:cdk:creationStack", "data": ["/tmp/jsii-kernel-xyz/lib.js"]}]
    metadata.write_text(json.dumps(body))
    assert proof_cache.key(assembly, [], None, "simulator") == key
    assert proof_cache.key(assembly, [], {"break-glass": "ops/emergency"}, "simulator") != key
    assert proof_cache.key(assembly, [], None, "another simulator release") != key


def test_a_kept_proof_still_needs_the_simulator(assembly: Path, tmp_path: Path) -> None:
    _prove(assembly)
    with pytest.raises(simulator.SimulatorError):
        perimeter.prove(assembly, perimeter.load_acceptances(ACCEPTANCES), node_modules=tmp_path / "no-node-modules",
                        cache_dir=assembly.parent / "cache")
