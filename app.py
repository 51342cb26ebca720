#!/usr/bin/env python3
"""CDK entry point: validate config, build one stack per environment, synthesize, gate on compliance."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# CDK's built-in validation loads a CloudFormation validator on every synth (5-11 s, 300-400 MiB);
# cfn-lint checks the same templates once, after synth (README, "Performance").
os.environ.setdefault("CDK_VALIDATION", "false")


def main() -> int:
    from infra.app_factory import build_app
    from infra.config import ConfigError

    try:
        # Under the CLI, CDK_OUTDIR is set; run directly, write where the CLI would.
        app = build_app(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")
    except ConfigError as err:
        print(f"compliant-bedrock: {err}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
