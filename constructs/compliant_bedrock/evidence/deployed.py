"""What the deployed-twin verification (``make verify``: ``verified-<env>.json``) adds to the evidence.

The synth's evidence is design evidence: it shows the templates. ``make verify`` reads the account and writes, per
environment, every claim it checked (confirmed, contradicted, not verifiable read-only, unreadable), the stack it
belongs to, the NIST controls it evidences, when it was collected and by whom. Rendering the evidence again then
(``make verify`` does, like ``make synth`` after cfn-guard) gives each control matrix a "verified in account" column
and makes each contradiction a POA&M item: an open weakness found in the deployed account, named with its field.

A verification never changes a control's status: the status says what the checks of the template showed; the
column says whether the account was found in that state, and when. Files of an earlier synth do not survive the
next one (the gate removes ``compliance/``), so a verification is always of the templates it compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

#: The verifier's statuses (``infra.verify_checks``).
CONFIRMED, CONTRADICTED = "confirmed", "contradicted"
VERIFIED_GLOB = "verified-*.json"


@dataclass(frozen=True)
class DeployedVerification:
    """One environment's ``verified-<env>.json``: who read which account when, and every claim."""

    environment: str
    file: str
    collected_at: str
    collected_by: str
    exit_code: int
    claims: tuple[Mapping[str, Any], ...]

    def of_stack(self, stack: str) -> list[Mapping[str, Any]]:
        return [c for c in self.claims if c.get("stack") == stack]


def read_verified(dest: Path) -> tuple[DeployedVerification, ...]:
    """Every ``verified-<env>.json`` in ``dest`` (none: an empty tuple), by environment."""
    found = []
    for path in sorted(dest.glob(VERIFIED_GLOB)):
        if path.name.endswith("-oscal.json"):
            continue
        document = orjson.loads(path.read_bytes())
        found.append(DeployedVerification(
            environment=str(document["environment"]), file=path.name, collected_at=str(document["collected_at"]),
            collected_by=str((document.get("collected_by") or {}).get("Arn", "")),
            exit_code=int(document.get("exit_code", 0)), claims=tuple(document.get("claims") or ())))
    return tuple(found)


def claims_of(verified: Iterable[DeployedVerification], stack: str) -> list[tuple[DeployedVerification, Mapping[str, Any]]]:
    return [(v, c) for v in verified for c in v.of_stack(stack)]


def annotate_matrix(matrix: dict[str, Any], verified: Sequence[DeployedVerification]) -> None:
    """Give each control the deployed state of its stack's claims: ``contradicted`` if any claim evidencing it was,
    else ``confirmed`` if one was; controls no claim evidences get nothing. Unchanged statuses."""
    mine = claims_of(verified, matrix["stack"])
    if not mine:
        return
    runs = sorted({(v.file, v.collected_at, v.collected_by) for v, _ in mine})
    matrix["verified_in_account"] = [{"file": f, "collected_at": at, "collected_by": by} for f, at, by in runs]
    for item in matrix["controls"]:
        relevant = [(v, c) for v, c in mine if item["control"] in (c.get("controls") or ())]
        contradicted = [c for _, c in relevant if c["status"] == CONTRADICTED]
        confirmed = [c for _, c in relevant if c["status"] == CONFIRMED]
        if not (contradicted or confirmed):
            continue
        at = max(v.collected_at for v, _ in relevant)
        item["verified_in_account"] = {
            "status": CONTRADICTED if contradicted else CONFIRMED, "collected_at": at,
            "confirmed": len(confirmed), "contradicted": [f"{c['subject']} {c['field']}" for c in contradicted]}


def verified_cell(item: Mapping[str, Any]) -> str:
    """The matrix Markdown's "Verified in account" cell."""
    found = item.get("verified_in_account")
    if not found:
        return ""
    if found["status"] == CONTRADICTED:
        return f"contradicted {found['collected_at']} ({len(found['contradicted'])})"
    return f"confirmed {found['collected_at']} ({found['confirmed']})"


def contradiction_items(verified: Sequence[DeployedVerification], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One POA&M item per contradicted claim: a weakness of the deployed account (``names``: stack -> the name its
    evidence files carry, which POA&M items are filed under)."""
    items = []
    for run in verified:
        for claim in run.claims:
            if claim["status"] != CONTRADICTED:
                continue
            stack = str(claim.get("stack") or "")
            subject = f"{claim['subject']} {claim['field']}"
            items.append({
                "environment": names.get(stack, run.environment), "stack": stack, "subject": subject,
                "controls": list(claim.get("controls") or ()),
                "weakness": (f"Deployed state contradicts the evidence: {subject}: expected {_show(claim.get('expected'))}, "
                             f"live {_show(claim.get('live'))}"),
                "source": f"make verify ({run.file}, collected {run.collected_at} by {run.collected_by})",
                "note": str(claim.get("note") or ""), "detected_on": run.collected_at[:10],
            })
    return items


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
