#!/usr/bin/env python3
"""OpenAI's GPT-5.5 on bedrock-mantle next to a guarded runtime workload, in one account (compliant-bedrock).

GPT-5.5 is served on bedrock-mantle in us-east-2 only, where no Bedrock guardrail and no invocation logging
apply: its stack accepts that path in writing (RiskAcceptance). The runtime workload runs in us-east-1 and owns
the account's one multi-region trail, which records Mantle inference as data events. The gate checks across the
two stacks that the account has one trail and each region one enforced guardrail and one invocation logging.
"""

from pathlib import Path

import compliant_bedrock as cb  # before aws_cdk starts jsii: silences its Node end-of-life banner

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

ACCOUNT = "111122223333"
TRAIL_NAME = "account-audit"  # the account's one trail, named so the Mantle stack can name it
app = cdk.App()


def workload_stack(name: str, region: str, cidr: str) -> tuple[cdk.Stack, cb.IsolatedVpc, cb.BedrockGuardrail]:
    """A stack in one region of the account: its VPC and its guardrail, enforced for the account in that region."""
    stack = cdk.Stack(app, name, env=cdk.Environment(account=ACCOUNT, region=region))
    zones = cb.pin_availability_zones(stack, [f"{region}a", f"{region}b"])  # named, never looked up
    log_key = cb.retained_key(stack, "LogKey", description="VPC flow logs")
    cb.allow_cloudwatch_logs(log_key, stack)
    network = cb.IsolatedVpc(stack, "Network", cidr=cidr, availability_zones=zones, log_key=log_key,
                             flow_log_retention_days=365)
    guardrail = cb.BedrockGuardrail(stack, "Guardrail", name=f"{name.lower()}-federal-baseline")
    return stack, network, guardrail


# us-east-1: guarded runtime inference (Converse through PrivateLink, with the guardrail) and the account's trail.
runtime, runtime_vpc, runtime_guardrail = workload_stack("RuntimeWorkload", "us-east-1", "10.20.0.0/16")
link = cb.BedrockPrivateLink(runtime, "PrivateLink", vpc=runtime_vpc, model_ids=["openai.gpt-oss-120b-1:0"],
                             guardrail_arns=runtime_guardrail.resource_arns)
runtime_access = cb.BedrockModelAccess(runtime, "ModelAccess", guardrail=runtime_guardrail, private_link=link)
runtime_logging = cb.ModelInvocationLogging(runtime, "InvocationLogging")
cb.AuditTrail(runtime, "AuditTrail", trail_name=TRAIL_NAME, mantle_data_events=True,
              object_event_buckets=[runtime_logging.bucket.bucket])
cb.TamperDetection(runtime, "TamperDetection", alert_emails=["security@example.gov"])
chat_role = iam.Role(runtime, "ChatRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
runtime_access.grant_invoke(chat_role)

# us-east-2: GPT-5.5 on Mantle, in a project of its own, the unguarded path accepted in writing.
mantle, mantle_vpc, mantle_guardrail = workload_stack("FrontierMantle", "us-east-2", "10.21.0.0/16")
project = cb.MantleProject(mantle, "MantleProject", name="frontier-research")
mantle_link = cb.BedrockPrivateLink(mantle, "PrivateLink", vpc=mantle_vpc, guardrail_arns=mantle_guardrail.resource_arns,
                                    services=[cb.BedrockService.RUNTIME, cb.BedrockService.MANTLE],
                                    mantle_model_ids=["openai.gpt-5.5"], mantle_project_arn=project.project_arn)
mantle_access = cb.BedrockModelAccess(
    mantle, "ModelAccess", guardrail=mantle_guardrail, private_link=mantle_link,
    mantle_model_ids=["openai.gpt-5.5"], mantle_project_arn=project.project_arn,
    accept_unguarded={"mantle": cb.RiskAcceptance(
        reason="GPT-5.5 is served only on bedrock-mantle, where no Bedrock guardrail and no invocation logging "
               "apply; the mission needs it for unclassified research drafting only.",
        compensating="The application calls ApplyGuardrail with the federal-baseline guardrail on every prompt and "
                     "answer, CloudTrail records every CreateInference as a data event, and only this role reaches "
                     "the one Mantle project through the endpoint.",
        approved_by="AO of the frontier research system, risk acceptance RA-2026-031",
        expires="2027-06-30")})
# Bedrock runtime calls in us-east-2 (one setting per region). Known limit: the trail in RuntimeWorkload cannot name
# this bucket's generated name, so reads of these logs are not S3 data events of the trail (docs/own-app.md).
cb.ModelInvocationLogging(mantle, "InvocationLogging")
cb.declare_trail_coverage(mantle, trail=TRAIL_NAME, reason="the account's multi-region trail in RuntimeWorkload "
                          "records this region's Bedrock and Mantle data events")
cb.TamperDetection(mantle, "TamperDetection", alert_emails=["security@example.gov"],
                   approved_mantle_project_arns=[project.project_arn])
research_role = iam.Role(mantle, "ResearchRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
mantle_access.grant_invoke(research_role)

# In place of app.synth(): packs, gate (across both stacks), perimeter proof, evidence in cdk.out/compliance/.
cb.synth(app, perimeter_acceptances=Path(__file__).with_name("perimeter-acceptances.yaml"))
