"""compliant-bedrock: AWS CDK constructs for Amazon Bedrock under NIST SP 800-53 rev 5."""
