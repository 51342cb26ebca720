"""OSCAL 1.2.1 assessment results of a verification (``verified-<env>-oscal.json``): tests of the deployed account.

The synth's ``assessment-results.json`` records what the judges saw in templates; this records what was read in
the account, when and by whom: one observation per claim (method TEST, ``collected`` = the collection time, the
identity as the observation's origin), and one finding per contradicted or unreadable claim, targeting the
objective of the control that claim evidences (``not-satisfied``: reason ``fail`` for a contradiction, ``other``
for a read that failed). Confirmed claims are observations only: a verification confirms the deployed state
of what the template claims, it does not by itself satisfy a control. Kept apart from ``evidence/`` (its own
model, being unified) on purpose: this document is dated by the clock, never by the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .verify_checks import CONFIRMED, CONTRADICTED, UNREADABLE, Claim

OSCAL_VERSION = "1.2.1"
_NAMESPACE = uuid.UUID("6f1a2c1e-5b7d-4c3a-9d8e-0c0f7a1b2d3e")  # this module's, for stable UUIDs
_NS = "https://github.com/compliant-bedrock/compliant-bedrock/ns/oscal"

#: The first word of a claim's subject -> the NIST SP 800-53 r5 controls its deployed state evidences.
CONTROLS: Mapping[str, tuple[str, ...]] = {
    "stack": ("cm-2", "cm-3"), "resource": ("cm-3", "cm-6"), "trail": ("au-2", "au-9", "au-12"),
    "invocation": ("au-2", "au-12"), "key": ("sc-12", "sc-28"), "bucket": ("au-9", "au-11"),
    "endpoint": ("sc-7", "ac-4"), "guardrail": ("si-10",), "enforced": ("si-10", "ac-3"), "rule": ("si-4", "ca-7"),
    "subscription": ("si-4", "ir-6"), "SERVICE_CONTROL_POLICY": ("ac-3", "ac-6"),
    "RESOURCE_CONTROL_POLICY": ("ac-3", "sc-28"), "BEDROCK_POLICY": ("si-10", "ac-3"),
    "organization": ("ac-3",), "event": ("si-4",), "perimeter": ("ac-3", "sc-7"), "endpoints": ("sc-7",),
    "mantle": ("cm-6", "cm-8"),
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": _NS, "value": str(value)}


def controls_of(claim: Claim) -> tuple[str, ...]:
    """The controls a claim evidences (``ca-7``, continuous monitoring, when its kind is not mapped)."""
    kind = claim.subject.split(" ", 1)[0]
    return CONTROLS.get(kind, ("ca-7",))


def assessment_results(result: Any) -> dict[str, Any]:
    """The verification (``infra.verify.Verification``) as an OSCAL assessment-results document."""
    env, at = result.environment, result.collected_at
    party = _uuid(env, "party", result.identity.get("Arn", ""))
    observations, findings = [], []
    for index, claim in enumerate(result.claims):
        observation = _uuid(env, at, "observation", str(index), claim.subject, claim.field)
        observations.append({
            "uuid": observation, "title": f"{claim.subject} {claim.field}"[:200],
            "description": claim.line(), "methods": ["TEST"], "types": ["control-objective"],
            "props": [_prop("claim-status", claim.status)],
            "origins": [{"actors": [{"type": "party", "actor-uuid": party}]}],
            "collected": at})
        if claim.status not in (CONTRADICTED, UNREADABLE):
            continue
        for control in controls_of(claim):
            findings.append({
                "uuid": _uuid(env, at, "finding", str(index), control),
                "title": f"Deployed state differs: {claim.subject} {claim.field}"[:200]
                if claim.status == CONTRADICTED else f"Not read: {claim.subject} {claim.field}"[:200],
                "description": claim.line(),
                "target": {"type": "objective-id", "target-id": f"{control}_obj",
                           "status": {"state": "not-satisfied",
                                      "reason": "fail" if claim.status == CONTRADICTED else "other"}},
                "related-observations": [{"observation-uuid": observation}]})
    counts = result.counts
    body = {
        "uuid": _uuid(env, at, "assessment-results"),
        "metadata": {
            "title": f"Verification of the deployed {env} environment ({result.stack})",
            "last-modified": at, "version": at, "oscal-version": OSCAL_VERSION,
            "parties": [{"uuid": party, "type": "person" if ":user/" in result.identity.get("Arn", "") else
                         "organization", "name": result.identity.get("Arn") or "unknown caller",
                         "props": [_prop("aws-account", result.identity.get("Account", ""))]}],
            "remarks": "Tests of the deployed account, read-only with the caller's credentials (python -m "
                       "infra.verify); collected at the time given, by the party named. Not pre-deployment "
                       "evidence: see assessment-results.json for what the synth's judges saw."},
        "import-ap": {"href": "#" + _uuid("resource", "verify-method")},
        "results": [{
            "uuid": _uuid(env, at, "result"), "title": f"Deployed state of {env}",
            "description": ", ".join(f"{n} {s}" for s, n in counts.items()),
            "start": at, "end": at,
            "props": [_prop("exit-code", result.exit_code), _prop("confirmed", counts[CONFIRMED])],
            "reviewed-controls": {"control-selections": [{"include-all": {}}]},
            "observations": observations,
            **({"findings": findings} if findings else {})}],
        "back-matter": {"resources": [{
            "uuid": _uuid("resource", "verify-method"), "title": "The verification method",
            "description": "docs/verify.md: each template claim read in the account (CloudFormation, CloudTrail, "
                           "Bedrock, EC2, KMS, S3, EventBridge, SNS, Organizations) and compared with the "
                           "synthesized template; the Bedrock rule pack re-run with the live documents."}]},
    }
    return {"assessment-results": body}
