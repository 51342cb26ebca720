"""``compliant-bedrock evidence merge DIR... --out DIR``: one evidence set from partial synths.

A CI matrix synthesizes each environment in a job of its own (``make synth ENV=<name>``, see
``.github/workflows/synth-matrix.yml``); each job's ``cdk.out`` holds that environment's stacks (and the
organization stack covering it) and evidence about them only. The cross-stack documents (OSCAL, the
POA&M, the summary, ``findings.json``'s verdict) must judge all of them at once, so the evidence files are
not concatenated: the partial cloud assemblies are merged (templates, nag reports, manifests, trees,
StackSet assemblies) into one, and the gate judges and documents that assembly exactly as a synth of all
the environments does after its own synth. The result is byte-identical to a single synth of them all
(tested). The partial runs' perimeter decisions are merged too, so the proof of the merged assembly
simulates only what none of them did.

Refused, naming the directories and the fix: a directory that is no cloud assembly, and two assemblies
that disagree on a file or a manifest entry (synthesized from different commits or configurations).
"""

from __future__ import annotations

import filecmp
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: What the gate writes or keeps for itself: never merged from a partial run.
_NOT_MERGED = {"manifest.json", "tree.json", "cdk.out", "compliance", ".cache"}


class MergeError(ValueError):
    """The partial synths cannot be merged (names the directories and the fix)."""


def merge_assemblies(parts: Sequence[Path], out: Path) -> None:
    """The union of the partial cloud assemblies in ``parts`` written to ``out`` (replaced)."""
    for part in parts:
        if not (part / "manifest.json").is_file():
            raise MergeError(f"{part}: no manifest.json: not a synthesized cloud assembly (run `make synth ENV=<name>` "
                             "and pass its cdk.out)")
    if out.resolve() in {p.resolve() for p in parts}:
        raise MergeError(f"--out {out} is one of the inputs: write the merged evidence to a new directory")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifest: dict[str, Any] | None = None
    tree: dict[str, Any] | None = None
    origin: dict[str, Path] = {}
    for part in parts:
        _copy_tree(part, out, part, origin)
        other = json.loads((part / "manifest.json").read_text(encoding="utf-8"))
        if manifest is None:
            manifest = {**other, "artifacts": {}}
        for name, artifact in other.get("artifacts", {}).items():
            if artifact.get("type") == "cdk:tree":
                manifest["artifacts"][name] = artifact
                continue
            if name in manifest["artifacts"] and manifest["artifacts"][name] != artifact:
                raise MergeError(f"{origin.get('artifact:' + name)} and {part} disagree on the manifest entry of "
                                 f"{name}: they come from different commits or configurations; synthesize every "
                                 "part from the same commit")
            manifest["artifacts"][name] = artifact
            origin.setdefault("artifact:" + name, part)
        if (part / "tree.json").is_file():
            children = json.loads((part / "tree.json").read_text(encoding="utf-8"))["tree"].get("children", {})
            if tree is None:
                tree = json.loads((part / "tree.json").read_text(encoding="utf-8"))
            tree["tree"].setdefault("children", {}).update(children)
    assert manifest is not None  # parts is not empty (the command requires one)
    manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
    _write_manifest(out, manifest)
    if tree is not None:
        (out / "tree.json").write_text(json.dumps(tree) + "\n", encoding="utf-8")
    _merge_decisions(parts, out)


def _write_manifest(out: Path, manifest: Mapping[str, Any]) -> None:
    """As the CDK writes it (two-space indent, no final newline): provenance.json hashes this file."""
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def order_manifest(out: Path, stacks: Sequence[str]) -> None:
    """The manifest's artifacts in the order one synth of the whole app writes them: each stack's asset manifest
    and then the stack, in the app's construction order (``stacks``), then everything else (the tree, the
    feature-flag report) in the parts' order. The evidence hashes manifest.json: same content is not enough."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rank = {name: i for i, name in enumerate(stacks)}
    artifacts = manifest["artifacts"]

    def key(item: tuple[int, str]) -> tuple[int, int, int]:
        position, name = item
        stack = name.removesuffix(".assets")
        if stack in rank and artifacts[name].get("type") in ("cdk:asset-manifest", "aws:cloudformation:stack"):
            return (0, rank[stack], 0 if name.endswith(".assets") else 1)
        return (1, position, 0)

    ordered = [name for _, name in sorted(enumerate(artifacts), key=key)]
    manifest["artifacts"] = {name: artifacts[name] for name in ordered}
    _write_manifest(out, manifest)


def _copy_tree(source: Path, target: Path, part: Path, origin: dict[str, Path], top: bool = True) -> None:
    target.mkdir(exist_ok=True)
    for item in sorted(source.iterdir()):
        if top and item.name in _NOT_MERGED:
            continue
        destination = target / item.name
        if item.is_dir():
            _copy_tree(item, destination, part, origin, top=False)
        elif destination.exists():
            if not filecmp.cmp(item, destination, shallow=False):
                raise MergeError(f"{origin[str(destination)]} and {part} disagree on {item.relative_to(part)}: they "
                                 "come from different commits or configurations; synthesize every part from the "
                                 "same commit")
        else:
            shutil.copy2(item, destination)
            origin[str(destination)] = part


def _merge_decisions(parts: Sequence[Path], out: Path) -> None:
    """The union of the parts' perimeter decision caches (same simulator fingerprint, same file name)."""
    from compliant_bedrock.compliance.perimeter import decision_cache

    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for stored in sorted((part / decision_cache.CACHE_SUBDIR).glob("decisions-*.json")):
            try:
                document = json.loads(stored.read_text(encoding="utf-8"))
            except ValueError:
                continue  # a torn cache file is only fewer cached decisions
            entry = merged.setdefault(stored.name, {"fingerprint": document.get("fingerprint"), "decisions": {}})
            if entry["fingerprint"] == document.get("fingerprint"):
                entry["decisions"].update(document.get("decisions") or {})
    if merged:
        directory = out / decision_cache.CACHE_SUBDIR
        directory.mkdir(parents=True, exist_ok=True)
        for name, document in merged.items():
            (directory / name).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


def judge_merged(out: Path, config_dir: Path | None = None) -> int:
    """Judge and document the merged assembly as ``infra.cli.run`` does after a synth of the same environments:
    the same gate, settings, facts and inputs. Returns the gate's exit code."""
    import aws_cdk as cdk

    from compliant_bedrock import ComplianceGate
    from compliant_bedrock.compliance.gate import assembly_stacks

    from .app_factory import CONFIG_DIR_KEY, ROOT, cdk_json_context, selected_organizations, settings_contexts
    from .cli import _acceptances_file, _node_modules
    from .config import load_environments
    from .iam_events_stack import STACK_SUFFIX as IAM_EVENTS_SUFFIX
    from .report import config_files, deviations_of, facts_of, poam_plans_of, unverified_models

    context = cdk_json_context()
    if config_dir is not None:
        context[CONFIG_DIR_KEY] = str(config_dir)
    directory = ROOT / str(context.get(CONFIG_DIR_KEY) or "config")
    stacks = set(assembly_stacks(out))
    envs = [env for env in load_environments(directory) if env.stack_name in stacks]
    if not envs:
        raise MergeError(f"no stack of an environment configured in {directory} is in the merged assembly: pass the "
                         "cdk.out of `make synth ENV=<name>` runs of this configuration (--config names another)")
    organizations = selected_organizations(context, directory, envs=envs)
    # the order build_app adds stacks in: each environment's stack, replica, IAM-event stack; then each organization's
    # stack and its verification stack
    order_manifest(out, [name for env in envs for name in (env.stack_name, f"{env.stack_name}-replica",
                                                           f"{env.stack_name}{IAM_EVENTS_SUFFIX}")]
                   + [name for o in organizations
                      for name in (o.stack_name, *([o.verification_stack_name()] if o.verification else []))])
    app = cdk.App(context=context, outdir=str(out))
    settings = {env.name: env for env in envs}
    gate = ComplianceGate(app, rule_contexts=settings_contexts(envs), perimeter="required",
                          perimeter_acceptances=_acceptances_file(app), node_modules=_node_modules(),
                          prove_environments=[env.name for env in envs],
                          facts=facts_of(settings, organizations),
                          unverified=unverified_models(settings), deviations=deviations_of(settings),
                          poam_plans=poam_plans_of(settings), inputs=config_files(directory))
    return gate.judge(out).exit_code
