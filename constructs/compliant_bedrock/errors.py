"""The library's own error types: what it refuses, as opposed to what is broken.

A ``CompliantBedrockError`` says the caller's input cannot be deployed compliantly (a construct prop, a
suppression, a model id) and its message names the prop, the bad value and the fix. Apps print it and
exit without a traceback (``infra.cli`` does); any other exception is a defect and keeps its traceback.
It subclasses ``ValueError`` so callers that caught ``ValueError`` keep working.
"""

from __future__ import annotations


class CompliantBedrockError(ValueError):
    """Input the library refuses; the message names the field, the value and the fix."""


class ConstructPropsError(CompliantBedrockError):
    """A construct refused its props at construction (before any template is written)."""
