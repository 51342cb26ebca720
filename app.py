#!/usr/bin/env python3
"""CDK entry point: validate config, build one stack per environment, synthesize, gate on compliance.

Exit codes: 0 compliant (or report-only), 1 unsuppressed compliance errors, 2 invalid configuration.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# CDK's built-in validation loads a CloudFormation validator on every synth (5-11 s, 300-400 MiB);
# cfn-lint checks the same templates once, after synth (README, "Performance").
os.environ.setdefault("CDK_VALIDATION", "false")

if __name__ == "__main__":
    from infra.cli import run

    sys.exit(run())
