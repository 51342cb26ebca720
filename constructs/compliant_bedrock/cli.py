"""The ``compliant-bedrock`` console script: the reference app's commands, run from the app's checkout.

``compliant-bedrock verify``, ``validate``, ``evidence merge`` and ``report`` read the app's ``config/`` (its
environments and organizations) and its ``infra/`` (the stacks that config builds), which are the app, not this
library: the script finds them in the current directory or one of its parents (the directory holding
``infra/cli.py`` and ``config/``, as a checkout of this repository or a fork has them) and runs them there, the same
code ``make verify`` and ``python -m infra.cli`` run. Outside such a checkout it exits 2 and says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = "compliant-bedrock {verify,validate,evidence merge,report} ... (compliant-bedrock --help in the app's checkout)"


def app_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: the current one) holding ``infra/cli.py`` and
    ``config/``: the app's checkout."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "infra" / "cli.py").is_file() and (directory / "config").is_dir():
            return directory
    return None


def main(argv: list[str] | None = None) -> int:
    root = app_root()
    if root is None:
        print(f"compliant-bedrock: no app checkout here ({Path.cwd()}): these commands read the app's config/ and "
              "infra/ (the reference app, or your fork of it); run them from its directory. An app of your own "
              f"gates with compliant_bedrock.synth or ComplianceGate instead (docs/own-app.md). Usage: {USAGE}",
              file=sys.stderr)
        return 2
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from infra.cli import main as app_main

    return app_main(argv)
