"""The perimeter proof on live policies: the same simulation, over a copy of the assembly holding the account's.

The proof reads templates from an assembly directory. When every live policy is the template's (each compared
statement by statement), the synth's proof is the account's and nothing is simulated again. When one differs,
or an organization policy is no longer attached, a scratch copy of the assembly gets the live documents at
their logical ids (a detached policy removed: it may no longer bind this account) and the proof runs on it; a
request of this environment that comes out open is a contradiction, with the statements that decided it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

from .verify_checks import CONFIRMED, CONTRADICTED, NOT_VERIFIABLE, Claim

SUBJECT = "perimeter proof"


def _copy_assembly(outdir: Path, scratch: Path) -> dict[str, Path]:
    """manifest.json and each stack's template and metadata file; stack name -> its template in the copy."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    shutil.copy2(outdir / "manifest.json", scratch / "manifest.json")
    templates: dict[str, Path] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact.get("properties") or {}
        for name in (props.get("templateFile"), artifact.get("additionalMetadataFile")):
            if name and (outdir / name).is_file():
                shutil.copy2(outdir / name, scratch / name)
        templates[props.get("stackName") or artifact_id] = scratch / props["templateFile"]
    return templates


def _substitute(template: dict[str, Any], live: Mapping[str, Mapping[str, Any]], removed: Set[str]) -> None:
    resources = template.get("Resources") or {}
    for logical_id in removed:
        resources.pop(logical_id, None)
    for logical_id, properties in live.items():
        if logical_id not in resources:
            continue
        target = resources[logical_id].setdefault("Properties", {})
        for key, value in properties.items():
            # an organization policy's content is a JSON string in the template
            target[key] = json.dumps(value) if key == "Content" and isinstance(value, dict) else value


def prove_live(outdir: Path, environment: str, live: Mapping[str, Mapping[str, Mapping[str, Any]]],
               removed: Mapping[str, Set[str]], *, acceptances: Path | None,
               node_modules: Path | None) -> list[Claim]:
    """``live``: stack -> logical id -> the live documents that differ; ``removed``: stack -> detached policies."""
    documents = {stack: {k: v for k, v in by_id.items() if {"KeyPolicy", "PolicyDocument", "Content"} & set(v)}
                 for stack, by_id in live.items()}
    if not any(documents.values()) and not any(removed.values()):
        return [Claim(SUBJECT, "on live policies", CONFIRMED,
                      note="every live policy is the proved template's and every organization policy attached: "
                           "the synth's proof stands for the account")]
    if not (outdir / "manifest.json").is_file():
        return [Claim(SUBJECT, "on live policies", NOT_VERIFIABLE,
                      note=f"{outdir}/manifest.json not found: the proof needs the synthesized assembly")]
    from compliant_bedrock.compliance.perimeter.decision_cache import location
    from compliant_bedrock.compliance.perimeter.proof import load_acceptances, prove
    from compliant_bedrock.errors import CompliantBedrockError

    scratch = Path(tempfile.mkdtemp(prefix="cb-verify-proof-"))
    try:
        templates = _copy_assembly(outdir, scratch)
        for stack, path in templates.items():
            if documents.get(stack) or removed.get(stack):
                body = json.loads(path.read_text(encoding="utf-8"))
                _substitute(body, documents.get(stack) or {}, removed.get(stack) or set())
                path.write_text(json.dumps(body), encoding="utf-8")
        accepted = load_acceptances(acceptances) if acceptances and acceptances.is_file() else []
        try:
            # the synth's decision cache: only the simulations the live documents change are simulated again
            proof = prove(scratch, tuple(accepted), node_modules=node_modules, cache_dir=location(outdir) or False)
        except (CompliantBedrockError, RuntimeError, OSError) as err:
            return [Claim(SUBJECT, "on live policies", NOT_VERIFIABLE, note=f"the proof could not run: {err}")]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mine = [o for o in proof.outcomes if o.environment == environment]
    claims = [Claim(f"perimeter {o.id}", f"{o.principal} {o.action} via {o.via}", CONTRADICTED, o.expect, o.decision,
                    "decided by: " + ("; ".join(o.deciding) or "no statement (implicit)"))
              for o in mine if o.verdict == "open"]
    return claims or [Claim(SUBJECT, "on live policies", CONFIRMED,
                            note=f"no open path among {len(mine)} requests with the live policies substituted")]
