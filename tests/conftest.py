"""Shared test helpers. Synthesize once per module (module-scoped fixtures), never per test."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
os.environ.setdefault("CDK_VALIDATION", "false")  # cfn-lint checks templates instead (see README)

import aws_cdk as cdk

from infra.app_factory import cdk_json_context

#: One region per partition the library must synthesize for.
PARTITION_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-iso": "us-iso-east-1"}


def new_stack(region: str = "us-east-1", account: str | None = "111122223333", stack_id: str = "Test") -> cdk.Stack:
    """A stack in its own App carrying cdk.json's feature flags, as ``cdk synth`` would see it."""
    app = cdk.App(context=cdk_json_context())
    return cdk.Stack(app, stack_id, env=cdk.Environment(account=account, region=region))
