"""NIST SP 800-53 r5 at synth: cdk-nag packs, the Bedrock rule pack, reasoned suppressions, the gate.

The gate and the suppressions use cdk-nag 2.x's API and load on first use: an app that runs cdk-nag 3.x
(same package name, another API) imports :class:`BedrockValidationPlugin` from here without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .pack import RULES, Compliance, RuleContext, evaluate

_LAZY: dict[str, str] = {
    "BedrockValidationPlugin": "nag", "run_bedrock_pack": "nag",
    "Finding": "gate", "attach_packs": "gate", "judge": "gate",
    "SuppressionError": "suppressions", "suppress": "suppressions", "suppress_stack_rule": "suppressions",
    "RiskAcceptance": "suppressions", "accept_risk": "suppressions",
}

__all__ = [
    "RULES", "BedrockValidationPlugin", "Compliance", "Finding", "RiskAcceptance", "RuleContext", "SuppressionError",
    "accept_risk", "attach_packs", "evaluate", "judge", "run_bedrock_pack", "suppress", "suppress_stack_rule",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .gate import Finding, attach_packs, judge
    from .nag import BedrockValidationPlugin, run_bedrock_pack
    from .suppressions import RiskAcceptance, SuppressionError, accept_risk, suppress, suppress_stack_rule
