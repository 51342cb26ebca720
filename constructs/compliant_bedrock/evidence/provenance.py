"""Where an evidence set comes from: ``provenance.json``, written once per synth beside the evidence.

It names the git commit of the synthesized configuration and whether the checkout had uncommitted
changes to tracked files, the version of every tool that produced or judged the evidence, the sha256 of
every input the package knows of (the cloud assembly's manifest, templates and pack reports; the
configuration files an app names, ``cdk.json`` and ``cdk.context.json``), and the evidence date. The
OSCAL component definition (back-matter), the Security Decision Records and ``summary.md`` cite it with
its sha256.

The date is ``SOURCE_DATE_EPOCH`` (reproducible-builds convention) when it is a positive Unix time, else
the time of the commit; never the clock, so two synths of one commit write the same bytes, and never
1970: an epoch of 0 (what a Makefile's ``git log || echo 0`` gives outside a git checkout) is not a date,
and with neither a usable epoch nor a commit :class:`ProvenanceError` refuses to date the evidence.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from ..compliance.gate import REPORT_SUFFIX
from ..errors import CompliantBedrockError
from .assembly import StackEvidence

PROVENANCE_FILE = "provenance.json"
BASIS = ("Pre-deployment evidence: this file records how the evidence of one `cdk synth` was produced (the "
         "synthesized templates, the rule packs' results and the perimeter simulation, before deployment); it is not "
         "a test of deployed resources.")
#: Configuration files of a CDK app, hashed when they are in the source directory.
APP_FILES = ("cdk.json", "cdk.context.json")
_GIT_TIMEOUT = 20.0


class ProvenanceError(CompliantBedrockError):
    """The evidence cannot be dated (no positive SOURCE_DATE_EPOCH and no git commit)."""


@dataclass(frozen=True)
class Revision:
    """The git state of the directory the app was synthesized from; ``why`` says why a field is unknown."""

    commit: str | None = None
    dirty: bool | None = None
    committed: int | None = None
    why: str | None = None


def _git(directory: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        # --no-optional-locks: status must not take the index lock (parallel synths, the tests' workers).
        done = subprocess.run([git, "--no-optional-locks", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def source_revision(directory: Path | None = None) -> Revision:
    """HEAD, the dirty flag (tracked files changed, staged or not; untracked files are not counted) and the
    commit time of the git checkout holding ``directory`` (default: the working directory)."""
    directory = directory or Path.cwd()
    if shutil.which("git") is None:
        return Revision(why="git was not found on PATH")
    head = _git(directory, "rev-parse", "--verify", "HEAD")
    if head is None or not re.fullmatch(r"[0-9a-f]{40,64}", head.strip()):
        return Revision(why=f"{directory.name or directory} is not in a git checkout with a commit")
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    committed = _git(directory, "log", "-1", "--format=%ct", head.strip())
    return Revision(commit=head.strip(), dirty=None if status is None else bool(status.strip()),
                    committed=int(committed) if committed and committed.strip().isdigit() else None,
                    why=None if status is not None else "git status failed")


def evidence_time(revision: Revision | None = None, directory: Path | None = None) -> tuple[int, str]:
    """(Unix time, where it came from) of the evidence: a positive ``SOURCE_DATE_EPOCH``, else the commit time.

    Raises :class:`ProvenanceError` when there is neither: evidence dated 1970-01-01, or by the clock (two
    synths of one commit would differ), would mislead an assessor.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(raw) if re.fullmatch(r"[0-9]+", raw) else 0
    if seconds > 0:
        return seconds, "SOURCE_DATE_EPOCH"
    revision = revision or source_revision(directory)
    if revision.committed:
        ignored = f" (SOURCE_DATE_EPOCH={raw!r} is not a positive Unix time and was not used)" if raw else ""
        return revision.committed, f"time of commit {revision.commit}{ignored}"
    given = f"SOURCE_DATE_EPOCH={raw!r} is not a positive Unix time" if raw else "SOURCE_DATE_EPOCH is not set"
    raise ProvenanceError(
        f"evidence date: {given} and {revision.why or 'the commit time is unknown'}; evidence is never dated "
        "1970-01-01 or by the clock. Set SOURCE_DATE_EPOCH to a positive Unix time (e.g. `git log -1 --format=%ct` "
        "of the configuration's commit) or synthesize from a git checkout with a commit")


def timestamp(seconds: int) -> str:
    """RFC 3339 UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _distribution(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def node_version() -> str | None:
    """The Node.js the CDK (jsii) and the IAM simulator run on: ``JSII_NODE``, node_modules' Node, else PATH's."""
    from ..compliance.perimeter import simulator

    node = simulator.find_node(simulator.find_node_modules())
    if node is None:
        return None
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip().removeprefix("v") or None) if done.returncode == 0 else None


def simulator_versions(dest: Path) -> list[str]:
    """The IAM simulator versions the perimeter proof of this synth reported (its ``perimeter-*.json``)."""
    found = set()
    for proof in dest.glob("perimeter-*.json"):
        try:
            version = (orjson.loads(proof.read_bytes()).get("simulator") or {}).get("version")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if version:
            found.add(str(version))
    return sorted(found)


def tool_versions(outdir: Path, dest: Path, package_version: str) -> dict[str, dict[str, Any]]:
    """Every tool that produced or judged the evidence: its version (None: not installed / not run) and role."""
    from ..compliance.perimeter import simulator

    simulated = simulator_versions(dest)
    manifest = outdir / "manifest.json"
    schema = orjson.loads(manifest.read_bytes()).get("version") if manifest.is_file() else None
    tools: dict[str, dict[str, Any]] = {
        "compliant-bedrock": {"version": package_version,
                              "role": "ran the Bedrock rule pack and the perimeter proof; wrote this evidence"},
        "aws-cdk-lib": {"version": _distribution("aws-cdk-lib"), "role": "synthesized the CloudFormation templates"},
        "cloud-assembly-schema": {"version": schema, "role": "version of the cloud assembly (manifest.json) read"},
        "cdk-nag": {"version": _distribution("cdk-nag"),
                    "role": "ran the NIST SP 800-53 r5 and AWS Solutions rule packs on the templates"},
        simulator.PACKAGE: {"version": ", ".join(simulated) if simulated else None, "pinned": simulator.VERSION,
                            "role": "evaluated the perimeter proof's requests against the synthesized policies"
                                    + ("" if simulated else " (the proof did not run for this synth)")},
        "cfn-lint": {"version": _distribution("cfn-lint"),
                     "role": "lints the templates in the reference app's `make synth`, after this evidence is written"},
        "cfn-guard": {"version": _cfn_guard_version(dest),
                      "role": "supporting engine: AWS Control Tower's proactive rules over the templates in the reference "
                              "app's `make synth` (cfn-guard.json); never decides a status"
                              + ("" if _cfn_guard_version(dest) else " (it has not run for this synth)")},
        "compliance-trestle": {"version": _distribution("compliance-trestle"),
                               "role": "validates the OSCAL documents: component definition, SSPs, assessment "
                                       "results, POA&M (the package's tests; not at synth)"},
        "jsonschema": {"version": _distribution("jsonschema"),
                       "role": "validates the Security Decision Records against FedRAMP's schema (the package's tests; "
                               "not at synth)"},
        "python": {"version": f"{platform.python_implementation()} {platform.python_version()}",
                   "role": "ran the app, the gate and the evidence writer"},
        "node": {"version": node_version(), "role": "ran the CDK (jsii) and the IAM simulator"},
    }
    return dict(sorted(tools.items()))


def _cfn_guard_version(dest: Path) -> str | None:
    """cfn-guard's engine version and its rules package, as ``cfn-guard.json`` records them (None: not run)."""
    results = dest / "cfn-guard.json"
    if not results.is_file():
        return None
    engine = orjson.loads(results.read_bytes()).get("engine") or {}
    rules = engine.get("package") or engine.get("rules_package")
    return ", ".join(str(v) for v in (engine.get("version"), rules) if v) or None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_digests(outdir: Path, stacks: Iterable[StackEvidence], config_files: Iterable[Path] = (),
                  source_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """sha256 of every known input: ``assembly`` (paths relative to the cloud assembly: its manifest, each
    stack's template and pack reports, StackSet templates' kept assemblies included) and ``configuration``
    (paths relative to ``source_dir`` where they are below it, else their names)."""
    assembly: set[Path] = {outdir / "manifest.json"}
    for s in stacks:
        assembly.add(outdir / s.template_file)
        assembly.update((outdir / s.reports_dir).glob(f"*--{s.name}{REPORT_SUFFIX}"))
    source_dir = (source_dir or Path.cwd()).resolve()
    files = sorted({p.resolve() for p in (*(Path(p) for p in config_files), *(source_dir / n for n in APP_FILES))
                    if p.is_file()})
    # Files outside the checkout are named from their common directory (config/commercial.yaml and
    # config/organization/commercial.yaml must not collide under one name, where one would lose its digest).
    outside = [f for f in files if not f.is_relative_to(source_dir)]
    common = Path(os.path.commonpath(outside)) if len(outside) > 1 else None
    configuration: dict[str, str] = {}
    for path in files:
        if path.is_relative_to(source_dir):
            name = path.relative_to(source_dir).as_posix()
        else:
            name = path.relative_to(common).as_posix() if common is not None else path.name
        configuration[name] = sha256_file(path)
    return {
        "assembly": {p.relative_to(outdir).as_posix(): sha256_file(p) for p in sorted(assembly) if p.is_file()},
        "configuration": dict(sorted(configuration.items())),
    }


def build_provenance(outdir: Path, stacks: Sequence[StackEvidence], dest: Path, *, package_version: str,
                     inputs_sha256: str, source_dir: Path | None = None,
                     config_files: Iterable[Path] = ()) -> dict[str, Any]:
    """``provenance.json`` (JSON-ready). Raises :class:`ProvenanceError` when the evidence cannot be dated."""
    revision = source_revision(source_dir)
    seconds, source = evidence_time(revision)
    return {
        "evidence_basis": BASIS,
        "timestamp": timestamp(seconds),
        "timestamp_source": source,
        "source": {
            "commit": revision.commit,
            "dirty": revision.dirty,
            **({"committed_at": timestamp(revision.committed)} if revision.committed else {}),
            **({"unknown_because": revision.why} if revision.why else {}),
            "dirty_means": "tracked files differed from the commit (staged or not) when the evidence was written; "
                           "untracked files are not counted, the configuration files' sha256 are below",
        },
        "tools": tool_versions(outdir, dest, package_version),
        "inputs": {"sha256": inputs_sha256, **input_digests(outdir, stacks, config_files, source_dir)},
    }


def reference(provenance: Mapping[str, Any], written: bytes, location: str) -> dict[str, Any]:
    """What the other documents cite of ``provenance.json`` (``written``: its bytes as the evidence writes them):
    its location, sha256, commit, date. Hashed from the bytes rather than the file, so the model that cites it is
    built before anything is written."""
    return {"file": PROVENANCE_FILE, "location": location, "sha256": hashlib.sha256(written).hexdigest(),
            "commit": provenance["source"]["commit"], "dirty": provenance["source"]["dirty"],
            "timestamp": provenance["timestamp"]}


def version_label(package_version: str, provenance: Mapping[str, Any]) -> str:
    """``<package version>+g<commit 12>[.dirty]`` (PEP 440 local version), or the package version alone."""
    commit, dirty = provenance["source"]["commit"], provenance["source"]["dirty"]
    if not commit:
        return package_version
    return f"{package_version}+g{commit[:12]}" + (".dirty" if dirty else "")


def record_metadata(package_version: str, provenance: Mapping[str, Any], cited: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata FedRAMP asks of a Security Decision Record (SDR-CSO-MTD: version, date and time of the last
    update, source of the update), from ``provenance.json`` and its ``reference``."""
    source = provenance["source"]
    if source["commit"]:
        origin = f"commit {source['commit']}" + (" with uncommitted changes" if source["dirty"] else "")
    else:
        origin = f"an unknown commit ({source.get('unknown_because', 'no git checkout')})"
    return {
        "version": version_label(package_version, provenance),
        "lastUpdated": provenance["timestamp"],
        "lastUpdatedSource": provenance["timestamp_source"],
        "sourceOfUpdate": f"compliant-bedrock {package_version} at `cdk synth` of {origin}; {PROVENANCE_FILE} names "
                          "the tool versions and the sha256 of every input",
        "provenance": dict(cited),
    }
