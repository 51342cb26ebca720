"""Shared test helpers. Synthesize once per module (module-scoped fixtures), never per test."""

from __future__ import annotations

from infra import runtime

runtime.prepare()  # the environment app.py runs in, before jsii starts Node

import aws_cdk as cdk  # noqa: E402

from infra.app_factory import cdk_json_context  # noqa: E402

#: One region per partition the library must synthesize for.
PARTITION_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-iso": "us-iso-east-1"}


def new_stack(region: str = "us-east-1", account: str | None = "111122223333", stack_id: str = "Test") -> cdk.Stack:
    """A stack in its own App carrying cdk.json's feature flags, as ``cdk synth`` would see it."""
    app = cdk.App(context=cdk_json_context())
    return cdk.Stack(app, stack_id, env=cdk.Environment(account=account, region=region))
