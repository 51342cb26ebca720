"""FedRAMP 20x Security Decision Record (SDR-CSO-FRR) of one environment, JSON and Markdown.

Valid against FedRAMP's ``fedramp-security-decision-record-schema-2026-06-24.json`` (the tests check
it). It covers the Key Security Indicators this package gives evidence for (``data/fedramp-20x-ksi.json``,
with why): for each, the controls of its 800-53 mapping the rules cite, the rules that produced results
on them (``ksiTests``), the statuses from the matrix, and evidence entries naming the files of
``cdk.out/compliance/`` with their sha256. No KSI is claimed "Implemented": every one asks for a
persistent cycle or a review the templates cannot show (``not_shown``); one whose controls have a failed
rule is "Not Implemented".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..compliance.template import as_list, possible_strings
from .assembly import StackEvidence
from .baselines import catalog_to_control
from .matrix import CLAIMED
from .responsibility import BASIS

#: Where the provider's Certification Package Overview lives is the provider's to say (``--package-overview-uri``).
UNSET_OVERVIEW = "urn:compliant-bedrock:certification-package-overview:not-provided"


@cache
def ksi_data() -> dict[str, Any]:
    text = resources.files("compliant_bedrock.evidence").joinpath("data/fedramp-20x-ksi.json").read_text("utf-8")
    return json.loads(text)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ports_and_protocols(stack: StackEvidence) -> list[dict[str, str]]:
    """What the template exposes: each interface endpoint's security-group ingress (port, protocol, CIDRs)."""
    ingress: dict[str, list[dict[str, Any]]] = {}
    for r in stack.resources:
        if r.type == "AWS::EC2::SecurityGroup":
            ingress.setdefault(r.logical_id, []).extend(
                x for x in as_list(r.properties.get("SecurityGroupIngress")) if isinstance(x, dict))
        elif r.type == "AWS::EC2::SecurityGroupIngress":
            for target in stack.references(r.logical_id):
                ingress.setdefault(target, []).append(r.properties)
    found: dict[tuple[str, str, str], set[str]] = {}
    for r in stack.resources:
        if r.type != "AWS::EC2::VPCEndpoint":
            continue
        services = sorted(n.rsplit(".", 1)[-1] for n in possible_strings(r.properties.get("ServiceName")))
        for group in stack.references(r.logical_id):
            for rule in ingress.get(group, []):
                low, high = rule.get("FromPort"), rule.get("ToPort")
                port = str(low) if low == high else f"{low}-{high}"
                key = (port, str(rule.get("IpProtocol", "")).upper(), ", ".join(services))
                source = rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourcePrefixListId") or "a security group"
                found.setdefault(key, set()).update(s for s in possible_strings(source) if "<" not in s)
    return [{"serviceName": f"Amazon Bedrock interface endpoint ({service})", "portNumber": port,
             "transportProtocol": protocol, "encryption": "TLS" if port == "443" else "not determined by the template",
             "purpose": f"Clients in {', '.join(sorted(cidrs)) or 'no literal CIDR'} call Bedrock through AWS "
                        "PrivateLink (interface endpoint with private DNS)"}
            for (port, protocol, service), cidrs in sorted(found.items())]


def build_sdr(env: str, stack: StackEvidence, entry: Mapping[str, Any], evidence: Sequence[tuple[str, str, str]],
              *, dest: Path, date: str, overview_uri: str = UNSET_OVERVIEW) -> dict[str, Any]:
    """``entry``: the environment's ``matrix_digest``; ``evidence``: (file name, evidence type, description)
    of the files in ``dest`` to cite (hashed here); ``date``: YYYY-MM-DD of the synth."""
    data = ksi_data()
    controls, rules = entry["controls"], entry["rules"]
    hashed = [(name, kind, text, sha256_of(dest / name)) for name, kind, text in evidence if (dest / name).is_file()]
    indicators = []
    for ksi_id, ksi in data["indicators"].items():
        mapped = [catalog_to_control(c) for c in ksi["controls"]]
        cited = [c for c in mapped if c in controls]
        tests = sorted(r for r, e in rules.items() if set(e["controls"]) & set(mapped))
        statuses = {c: controls[c]["status"] for c in cited}
        failed = [c for c, s in statuses.items() if s == "not-satisfied"]
        status = "Not Implemented" if failed or not any(s in CLAIMED for s in statuses.values()) \
            else "Partially Implemented"
        per_status = "; ".join(f"{c} {s}" for c, s in statuses.items()) or "none of its controls is cited by a rule"
        indicators.append({
            "ksiId": ksi_id,
            "ksiImplementationStatus": status,
            "ksiImplementation": [
                f"{ksi['shows']} Environment `{env}` (stack {stack.name}).",
                f"Controls of this KSI's 800-53 mapping that the rules cite, with their status in `{env}`: {per_status}.",
                f"Not shown by this package: {ksi['not_shown']} Controls of the mapping no rule cites: "
                + (", ".join(c for c in mapped if c not in controls) or "none") + ".",
            ],
            "ksiValidation": [
                f"{BASIS} The rules listed in ksiTests run on every `cdk synth`; the synth fails on an unsuppressed "
                "error-level finding, and every suppression names one rule, one resource and a reason (see the "
                "POA&M). Each rule has a compliant and a non-compliant test case in the package's test suite.",
            ],
            "ksiAssessment": [
                "An assessor re-runs `make synth` at the same commit, checks the sha256 of each evidence file below, "
                "and assesses the deployed resources and the organization's procedures separately: this record "
                "covers the templates only.",
            ],
            "ksiTests": tests,
            "ksiEvidence": [{"evidenceType": kind, "evidenceDescription": text, "evidenceLocation": f"./{name}",
                             "evidenceText": f"sha256 {digest}", "lastUpdated": date}
                            for name, kind, text, digest in hashed],
        })
    return {
        "certificationPackageOverviewUri": overview_uri,
        "portsAndProtocols": ports_and_protocols(stack),
        # Only KSIs: no FedRAMP process rule (FRR) is shown by templates.
        "fedRampRequirements": [],
        "keySecurityIndicators": indicators,
    }


def render_sdr(env: str, sdr: Mapping[str, Any]) -> str:
    """The human-readable form SDR-CSO-FRR asks for next to the JSON."""
    src = ksi_data()["source"]
    lines = [f"# FedRAMP 20x Security Decision Record: `{env}`", "", f"> {BASIS}", "",
             f"Key Security Indicators from FedRAMP Consolidated Rules {src['version']} ({src['repository']}). "
             f"Machine-readable: `sdr-{env}.json` (valid against FedRAMP's "
             "`fedramp-security-decision-record-schema-2026-06-24.json`).", ""]
    if sdr["certificationPackageOverviewUri"] == UNSET_OVERVIEW:
        lines += ["The Certification Package Overview URI is not set: pass `--package-overview-uri` to "
                  "`python -m infra.report`.", ""]
    lines += ["## Ports and protocols (from the template)", "", "| Service | Port | Protocol | Encryption | Purpose |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {p['serviceName']} | {p['portNumber']} | {p['transportProtocol']} | {p['encryption']} | "
              f"{p['purpose']} |" for p in sdr["portsAndProtocols"]]
    for ksi in sdr["keySecurityIndicators"]:
        name = ksi_data()["indicators"][ksi["ksiId"]]["name"]
        lines += ["", f"## {ksi['ksiId']} {name}: {ksi['ksiImplementationStatus']}", ""]
        lines += [f"- {text}" for text in ksi["ksiImplementation"]]
        lines += ["", f"Tests: {', '.join(ksi['ksiTests']) or 'none'}.", "", "| Evidence | sha256 |", "| --- | --- |"]
        lines += [f"| `{e['evidenceLocation']}` | `{e['evidenceText'].removeprefix('sha256 ')}` |"
                  for e in ksi["ksiEvidence"]]
    return "\n".join(lines) + "\n"
