"""The floor: load jsii and aws-cdk-lib, synthesize one empty stack. Nothing of ours."""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
