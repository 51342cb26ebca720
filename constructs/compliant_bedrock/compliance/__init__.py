"""NIST SP 800-53 r5 at synth: cdk-nag packs, the Bedrock rule pack, reasoned suppressions, the gate."""

from .gate import Finding, attach_packs, judge
from .pack import RULES, Compliance, RuleContext, evaluate
from .suppressions import SuppressionError, suppress, suppress_stack_rule

__all__ = [
    "RULES", "Compliance", "Finding", "RuleContext", "SuppressionError", "attach_packs", "evaluate", "judge",
    "suppress", "suppress_stack_rule",
]
