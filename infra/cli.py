"""Synthesize and gate: the body of ``app.py``, reusable by tests that need a modified app.

Exit codes: 0 compliant (or report-only), 1 unsuppressed compliance errors, 2 invalid configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPORT_ONLY_KEY = "compliance:report-only"


def run(build: Callable[..., Any] | None = None) -> int:
    """Build the app (``infra.app_factory.build_app`` by default), synthesize, judge, report."""
    from compliant_bedrock.compliance import judge

    from .app_factory import build_app, rule_contexts
    from .config import ConfigError

    try:
        # Under the CLI, CDK_OUTDIR is set; run directly, write where the CLI would.
        app = (build or build_app)(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")
    except ConfigError as err:
        print(f"compliant-bedrock: {err}", file=sys.stderr)
        return 2
    assembly = app.synth()
    outdir = Path(assembly.directory)
    errors = judge(outdir, rule_contexts(app))
    # Evidence for auditors from the same synth, pass or fail (infra/report.py; `make report` redoes it).
    from .report import generate
    from .stack import ReferenceStack

    generate(outdir, settings={s.settings.name: s.settings for s in app.node.children if isinstance(s, ReferenceStack)})
    report_only = str(app.node.try_get_context(REPORT_ONLY_KEY)).lower() == "true"
    for finding in errors:
        print(f"compliance: {finding.stack}: {finding.line()}", file=sys.stderr)
    if errors:
        verdict = "reported only (compliance:report-only)" if report_only else "synth fails"
        print(f"compliance: {len(errors)} unsuppressed error(s); {verdict}. "
              f"Reports: {assembly.directory}/*-NagReport.json and compliance/findings.json", file=sys.stderr)
        return 0 if report_only else 1
    return 0
