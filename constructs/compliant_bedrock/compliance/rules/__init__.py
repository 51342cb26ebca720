"""Importing this package registers every rule of the Bedrock pack."""

from . import audit, endpoints, guardrails, iam, organization  # noqa: F401
