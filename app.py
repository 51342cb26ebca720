#!/usr/bin/env python3
"""CDK entry point: validate config, build one stack per environment, synthesize, gate on compliance.

Exit codes: 0 compliant (or report-only), 1 unsuppressed compliance errors, 2 invalid configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# CDK's built-in validation loads a CloudFormation validator on every synth (5-11 s, 300-400 MiB);
# cfn-lint checks the same templates once, after synth (README, "Performance").
os.environ.setdefault("CDK_VALIDATION", "false")

REPORT_ONLY_KEY = "compliance:report-only"


def main() -> int:
    from compliant_bedrock.compliance import judge

    from infra.app_factory import build_app, rule_contexts
    from infra.config import ConfigError

    try:
        # Under the CLI, CDK_OUTDIR is set; run directly, write where the CLI would.
        app = build_app(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")
    except ConfigError as err:
        print(f"compliant-bedrock: {err}", file=sys.stderr)
        return 2
    assembly = app.synth()
    errors = judge(Path(assembly.directory), rule_contexts(app))
    report_only = str(app.node.try_get_context(REPORT_ONLY_KEY)).lower() == "true"
    for finding in errors:
        print(f"compliance: {finding.stack}: {finding.line()}", file=sys.stderr)
    if errors:
        verdict = "reported only" if report_only else "synth fails"
        print(f"compliance: {len(errors)} unsuppressed error(s); {verdict}. "
              f"Reports: {assembly.directory}/*-NagReport.json, compliance/findings.json", file=sys.stderr)
        return 0 if report_only else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
