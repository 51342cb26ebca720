"""Process environment for every synth (app.py, shard workers, tests), set before jsii starts Node."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: This checkout's construct library. The editable install points at whichever checkout ran
#: ``pip install -e .``; the app, its shard workers and the tests must use the code beside them.
LIBRARY_DIR = str(Path(__file__).resolve().parent.parent / "constructs")

#: V8 sizes its young generation from the heap limit jsii passes (4 GiB): ~120 MiB more per jsii
#: process than 8 MiB semi-spaces, for no measurable speed (README "Performance").
SEMI_SPACE_FLAG = "--max-semi-space-size"
SEMI_SPACE_MIB = 8


def prepare() -> None:
    """Defaults only: a value the caller set (environment, Makefile) wins."""
    if sys.path[:1] != [LIBRARY_DIR]:
        sys.path.insert(0, LIBRARY_DIR)
    python_path = os.environ.get("PYTHONPATH", "")
    if LIBRARY_DIR not in python_path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (LIBRARY_DIR, python_path) if p)
    import compliant_bedrock  # noqa: F401  (silences jsii's Node end-of-life banner; starts no jsii process)

    os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    # CDK's built-in validation loads a CloudFormation validator on every synth (5-11 s, 300-400 MiB);
    # cfn-lint checks the same templates once, after synth (README, "Performance").
    os.environ.setdefault("CDK_VALIDATION", "false")
    node_options = os.environ.get("NODE_OPTIONS", "")
    if SEMI_SPACE_FLAG not in node_options:
        os.environ["NODE_OPTIONS"] = f"{node_options} {SEMI_SPACE_FLAG}={SEMI_SPACE_MIB}".strip()
