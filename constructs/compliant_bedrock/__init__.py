"""compliant-bedrock: AWS CDK constructs for Amazon Bedrock under NIST SP 800-53 rev 5.

The public API, importable from here::

    import compliant_bedrock as cb
    cb.synth(app)                      # in place of app.synth(): packs, gate, perimeter proof, evidence

Constructs: :class:`BedrockPrivateLink`, :class:`BedrockModelAccess`, :class:`BedrockGuardrail`,
:class:`IsolatedVpc`, :class:`AuditBucket`, :class:`AuditTrail`, :class:`ModelInvocationLogging`,
:class:`TamperDetection`, :class:`BedrockOrganizationGuardrails`, :class:`InboundResolver`,
:class:`CodexPermissionSet`, :class:`ScheduledVerification`, :class:`VerifierReadRole`; helpers :func:`retained_key`,
:func:`allow_cloudwatch_logs`, :func:`encrypted_log_group`, :func:`grant_records_read`; compliance
:func:`suppress`, :func:`suppress_stack_rule`, :class:`RuleContext`, :class:`ComplianceGate`.

Names are loaded on first use: ``import compliant_bedrock`` alone starts no jsii process.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

#: Node majors whose end-of-life banner jsii prints (as Python ``b'!!...'`` lines) on every synth: jsii
#: reads this variable as a comma-separated list of majors, set here before any jsii process starts. The
#: package's own Node is pinned (package.json); a value the user set wins.
SILENCED_NODE_MAJORS = ",".join(str(major) for major in range(10, 24))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", SILENCED_NODE_MAJORS)
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

#: Set to 1 to see the traceback of input the library refuses (debugging the library itself).
TRACEBACKS_ENV = "COMPLIANT_BEDROCK_TRACEBACKS"
_previous_excepthook = sys.excepthook


#: What CDK's policy validation (cdk-nag 3.x's plugin) throws with when a plugin reports a violation.
_POLICY_VALIDATION_REPORT = "A copy of this report can be found in"


def _exit_codes_mean_one_thing(kind: type[BaseException], value: BaseException, traceback: Any) -> None:
    """An app that fails before the gate judged it never exits 1, the code of a compliance finding, so a pipeline
    tells a typo from a violation. Props a construct refuses (``CompliantBedrockError``, raised before any
    template is written) end with one line naming the field and exit code 2 (bad input), as the reference app
    does; any other exception (a bug in the app, an attribute that does not exist) keeps Python's traceback and
    exits 3 (could not judge). ``COMPLIANT_BEDROCK_TRACEBACKS=1`` shows the traceback of refused props too (the
    code stays 2). KeyboardInterrupt and the like, and a validation plugin's failed report (a finding), keep
    Python's own handling."""
    from .errors import CompliantBedrockError

    if not issubclass(kind, Exception) or _POLICY_VALIDATION_REPORT in str(value):
        _previous_excepthook(kind, value, traceback)  # a validation plugin's verdict (cdk-nag 3.x) is a finding: 1
        return
    refused = isinstance(value, CompliantBedrockError)
    if refused and os.environ.get(TRACEBACKS_ENV) != "1":
        print(f"compliant-bedrock: invalid input: {value}", file=sys.stderr)
    else:
        _previous_excepthook(kind, value, traceback)
    if not refused:
        print("compliant-bedrock: the app failed before the compliance gate could judge it (exit 3: could not "
              "judge; 1 means a compliance finding only)", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    atexit._run_exitfuncs()  # jsii stops its Node process there
    os._exit(2 if refused else 3)


sys.excepthook = _exit_codes_mean_one_thing

_EXPORTS: dict[str, str] = {
    "AuditBucket": "audit_bucket",
    "AuditTrail": "audit_trail",
    "AuditAdmins": "kms",
    "BedrockGuardrail": "guardrail",
    "BedrockModelAccess": "model_access",
    "BedrockOrganizationGuardrails": "organization",
    "BedrockPrivateLink": "private_link",
    "BedrockService": "private_link",
    "CodexPermissionSet": "developer_access",
    "CompliantBedrockError": "errors",
    "ComplianceGate": "compliance_gate",
    "ConstructPropsError": "errors",
    "GateResult": "compliance_gate",
    "GuardrailPolicy": "guardrail",
    "InboundResolver": "resolver",
    "IsolatedVpc": "network",
    "MantleProject": "model_access",
    "ModelInvocationLogging": "invocation_logging",
    "RiskAcceptance": "compliance",
    "RuleContext": "compliance",
    "ScheduledVerification": "verify_schedule",
    "TamperDetection": "detection",
    "VerifierReadRole": "verify_schedule",
    "accept_risk": "compliance",
    "allow_cloudwatch_logs": "kms",
    "declare_trail_coverage": "audit_trail",
    "encrypted_log_group": "log_groups",
    "federal_baseline": "guardrail_presets",
    "grant_records_read": "grants",
    "pin_availability_zones": "network",
    "retained_key": "kms",
    "suppress": "compliance",
    "suppress_stack_rule": "compliance",
    "synth": "compliance_gate",
}

__all__ = [
    "AuditAdmins",
    "AuditBucket",
    "AuditTrail",
    "BedrockGuardrail",
    "BedrockModelAccess",
    "BedrockOrganizationGuardrails",
    "BedrockPrivateLink",
    "BedrockService",
    "CodexPermissionSet",
    "ComplianceGate",
    "CompliantBedrockError",
    "ConstructPropsError",
    "GateResult",
    "GuardrailPolicy",
    "InboundResolver",
    "IsolatedVpc",
    "MantleProject",
    "ModelInvocationLogging",
    "RiskAcceptance",
    "RuleContext",
    "ScheduledVerification",
    "TamperDetection",
    "VerifierReadRole",
    "accept_risk",
    "allow_cloudwatch_logs",
    "declare_trail_coverage",
    "encrypted_log_group",
    "federal_baseline",
    "grant_records_read",
    "pin_availability_zones",
    "retained_key",
    "suppress",
    "suppress_stack_rule",
    "synth",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'compliant_bedrock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and IDEs see (py.typed)
    from .audit_bucket import AuditBucket
    from .audit_trail import AuditTrail, declare_trail_coverage
    from .compliance import RiskAcceptance, RuleContext, accept_risk, suppress, suppress_stack_rule
    from .compliance_gate import ComplianceGate, GateResult, synth
    from .detection import TamperDetection
    from .developer_access import CodexPermissionSet
    from .errors import CompliantBedrockError, ConstructPropsError
    from .grants import grant_records_read
    from .guardrail import BedrockGuardrail, GuardrailPolicy
    from .guardrail_presets import federal_baseline
    from .invocation_logging import ModelInvocationLogging
    from .kms import AuditAdmins, allow_cloudwatch_logs, retained_key
    from .log_groups import encrypted_log_group
    from .model_access import BedrockModelAccess, MantleProject
    from .network import IsolatedVpc, pin_availability_zones
    from .organization import BedrockOrganizationGuardrails
    from .private_link import BedrockPrivateLink, BedrockService
    from .resolver import InboundResolver
    from .verify_schedule import ScheduledVerification, VerifierReadRole
