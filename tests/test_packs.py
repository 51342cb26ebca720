"""The packs are active and selectable: a deliberately bad construct is flagged by each."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from compliant_bedrock.compliance import attach_packs, judge
from infra.app_factory import cdk_json_context


def test_every_pack_flags_a_bad_log_group_and_extra_packs_are_selectable(tmp_path: Path) -> None:
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "Canary", env=cdk.Environment(account="111122223333", region="us-east-1"))
    group = logs.LogGroup(stack, "Unencrypted", retention=logs.RetentionDays.ONE_WEEK,
                          removal_policy=cdk.RemovalPolicy.DESTROY)
    assert group  # no KMS key, one week: every pack must object
    attach_packs(stack, ["HIPAA", "PCI"])
    outdir = Path(app.synth().directory)
    fired = {f.rule_id for f in judge(outdir, {})}
    for rule in ("NIST.800.53.R5-CloudWatchLogGroupEncrypted", "HIPAA.Security-CloudWatchLogGroupEncrypted",
                 "PCI.DSS.321-CloudWatchLogGroupEncrypted", "Bedrock-LogGroupEncryptedRetained"):
        assert rule in fired, sorted(fired)
    for pack in ("NIST.800.53.R5", "AwsSolutions", "HIPAA.Security", "PCI.DSS.321", "Bedrock"):
        assert "lines" in json.loads((outdir / f"{pack}--Canary-NagReport.json").read_text())
