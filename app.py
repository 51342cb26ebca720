#!/usr/bin/env python3
"""CDK entry point: validate config, build one stack per environment, synthesize, gate on compliance.

Exit codes: 0 compliant (or report-only), 1 unsuppressed compliance errors, 2 invalid configuration or
construct properties, 3 a shard worker's synth failed.
"""

from __future__ import annotations

import sys

from infra import runtime

runtime.prepare()  # before anything starts jsii's Node process

if __name__ == "__main__":
    from infra.cli import run

    sys.exit(run())
