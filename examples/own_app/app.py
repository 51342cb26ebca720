#!/usr/bin/env python3
"""A Bedrock workload in your own CDK app, gated on NIST SP 800-53 r5 at synth (compliant-bedrock)."""

from pathlib import Path

import compliant_bedrock as cb  # before aws_cdk starts jsii: silences its Node end-of-life banner

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

app = cdk.App()
stack = cdk.Stack(app, "BedrockWorkload", env=cdk.Environment(account="111122223333", region="us-east-1"))
zones = cb.pin_availability_zones(stack, ["us-east-1a", "us-east-1b"])  # named, never looked up: no credentials

# A new VPC with isolated subnets only and encrypted flow logs.
log_key = cb.retained_key(stack, "LogKey", description="VPC flow logs")
cb.allow_cloudwatch_logs(log_key, stack)
network = cb.IsolatedVpc(stack, "Network", cidr="10.20.0.0/16", availability_zones=zones, log_key=log_key,
                         flow_log_retention_days=365)

# Models only over PrivateLink, only with the guardrail, only the models named here.
guardrail = cb.BedrockGuardrail(stack, "Guardrail", name="workload-federal-baseline")
link = cb.BedrockPrivateLink(stack, "PrivateLink", vpc=network, model_ids=["openai.gpt-oss-120b-1:0"],
                             guardrail_arns=guardrail.resource_arns)
access = cb.BedrockModelAccess(stack, "ModelAccess", guardrail=guardrail, private_link=link)

# Immutable audit: model invocation logging, the account's trail (also recording who reads or deletes the
# prompts and completions logging stores), alerts on tampering.
invocation_logging = cb.ModelInvocationLogging(stack, "InvocationLogging")
cb.AuditTrail(stack, "AuditTrail", object_event_buckets=[invocation_logging.bucket.bucket])
cb.TamperDetection(stack, "TamperDetection", alert_emails=["security@example.gov"])

# Your workload's role: invoke the named models, through the endpoint, with the guardrail.
role = iam.Role(stack, "WorkloadRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
access.grant_invoke(role)

# In place of app.synth(): packs, gate, perimeter proof, evidence in cdk.out/compliance/; exits 1 on a finding.
cb.synth(app, perimeter_acceptances=Path(__file__).with_name("perimeter-acceptances.yaml"))
