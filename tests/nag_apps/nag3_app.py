"""A small cdk-nag 3.x app: its AWS Solutions pack and the Bedrock plugin through CDK's Validations.

Stacks ``Good`` (a role that invokes nothing) and ``Bad`` (a role allowed bedrock:InvokeModel on ``*``), and
``Talked`` (Mantle inference "accepted" with a four-word cdk-nag suppression: the registry refuses it).
Run with cdk-nag 3 first on PYTHONPATH and CDK_OUTDIR set; prints the cdk-nag version it ran with.
"""

import sys

import aws_cdk as cdk
import cdk_nag
from aws_cdk import aws_iam as iam

from compliant_bedrock.compliance import BedrockValidationPlugin

app = cdk.App()
for name, broad in (("Good", False), ("Bad", True)):
    stack = cdk.Stack(app, name)
    role = iam.Role(stack, "Workload", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    if broad:
        role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=["*"]))
talked = cdk.Stack(app, "Talked")
policy = iam.ManagedPolicy(talked, "Workload", statements=[iam.PolicyStatement(
    actions=["bedrock-mantle:CreateInference"],
    resources=[talked.format_arn(service="bedrock-mantle", resource="project", resource_name="p")])])
policy.node.default_child.add_metadata("cdk_nag", {"rules_to_suppress": [
    {"id": "Bedrock-UnguardedInferencePath", "reason": "we need gpt-5.5"}]})
cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app), BedrockValidationPlugin())
print("cdk-nag", "3" if hasattr(cdk_nag.NagPack, "validate_scope") else "2", file=sys.stderr)
app.synth()
