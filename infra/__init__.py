"""The reference deployment: configuration schema and the stacks built from compliant_bedrock."""
