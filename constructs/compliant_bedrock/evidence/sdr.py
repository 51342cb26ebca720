"""FedRAMP 20x Security Decision Record (SDR-CSO-FRR) of one environment, JSON and Markdown.

Valid against FedRAMP's ``fedramp-security-decision-record-schema-2026-06-24.json`` with format checking
on (the tests check it; ``formats`` holds the checks): every URI is absolute, built on the evidence base
URI (``evidence_base``). It holds:

* ``metadata`` (SDR-CSO-MTD): version, date and source of the update, and ``provenance.json`` with its sha256;
* ``fedRampRequirements``: the FedRAMP rules the record itself addresses (``requirements`` of
  ``data/fedramp-20x-ksi.json``), each with what the package does for it;
* ``keySecurityIndicators``: every KSI of the vendored Consolidated Rules. Where reviewed text says what
  the templates show of it (``shows`` / ``not_shown``) and the environment's matrix has a claimed or failed
  control of its mapping: the controls with their statuses, the rules that produced results on them
  (``ksiTests``) and evidence entries naming the files of ``cdk.out/compliance/`` with their sha256; never
  "Implemented" (every KSI asks for a persistent cycle or a review the templates cannot show), "Not
  Implemented" when a control of its mapping failed. Every other KSI says it is not assessed by automation
  and has no implementation status (FedRAMP's statuses have no "not assessed": either would be a claim);
* ``securityControls``: every control of the environment's matrix with the matrix's status
  (``CONTROL_STATUS``; none where the matrix does not assess it) and the parameter values the template sets.

Each KSI, rule and control also carries ``automatedAssessment`` / ``matrixStatus`` (this package's terms),
properties FedRAMP's schema allows beside its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from ..compliance.template import as_list, possible_strings
from .assembly import StackEvidence
from .baselines import catalog_to_control
from .formats import is_uri
from .matrix import CLAIMED, STATUS_TEXT, control_sort_key, oscal_control_id
from .oscal import template_parameters
from .responsibility import BASIS

#: Where the provider's Certification Package Overview lives is the provider's to say (``--package-overview-uri``).
UNSET_OVERVIEW = "urn:compliant-bedrock:certification-package-overview:not-provided"


@cache
def ksi_data() -> dict[str, Any]:
    text = resources.files("compliant_bedrock.evidence").joinpath("data/fedramp-20x-ksi.json").read_text("utf-8")
    return json.loads(text)


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


#: Where the evidence files are published is the provider's to say (``--evidence-base-uri``, context
#: ``compliance:evidence-base-uri``): until then each location is this URN and the file name, an absolute URI
#: (FedRAMP's schema asks for one) that names the file without pretending it can be fetched.
UNSET_EVIDENCE_BASE = "urn:compliant-bedrock:unpublished-evidence:"
#: The matrix's status -> FedRAMP's implementation status; a status not here (not assessed by automation)
#: gets none: the record says it is not assessed instead of claiming either way.
CONTROL_STATUS = {"satisfied-by-automated-check": "Implemented", "partially-satisfied": "Partially Implemented",
                  "risk-accepted": "Partially Implemented", "not-satisfied": "Not Implemented"}
NOT_ASSESSED = "not-assessed-by-automation"
SCHEMA = "https://fedramp.gov/schemas/fedramp-security-decision-record-schema-2026-06-24.json"


def evidence_base(uri: str | None) -> str:
    """The base the evidence locations are built on: ``uri`` (absolute, no query or fragment), ending in ``/``
    (or ``:`` for a URN); the unpublished-evidence URN when ``uri`` is empty. Raises ValueError otherwise."""
    if not uri:
        return UNSET_EVIDENCE_BASE
    if not is_uri(uri) or "?" in uri or "#" in uri:
        raise ValueError(f"evidence base URI {uri!r} is not an absolute URI without query or fragment (RFC 3986), "
                         "e.g. https://trust.example.gov/compliant-bedrock/<commit>/: FedRAMP's schema requires "
                         "every evidenceLocation to be one")
    if uri.lower().startswith("urn:"):
        return uri if uri.endswith(":") else uri + ":"
    return uri if uri.endswith("/") else uri + "/"


def _statement(ksi: Mapping[str, Any]) -> str:
    if "statement" in ksi:
        return ksi["statement"]
    return " ".join(f"Class {c.upper()}: {v['statement']}" for c, v in sorted(ksi.get("varies_by_class", {}).items()))


def _indicator(ksi_id: str, ksi: Mapping[str, Any], env: str, stack: StackEvidence, entry: Mapping[str, Any],
               evidence: Sequence[dict[str, str]]) -> dict[str, Any]:
    """One KSI. Assessed (a FedRAMP status) only where reviewed text says what the templates show of it and
    this environment's matrix has a claimed or failed control of its mapping; otherwise not assessed by
    automation, with no status and no evidence (never a claim either way)."""
    controls, rules = entry["controls"], entry["rules"]
    mapped = [catalog_to_control(c) for c in ksi["controls"]]
    cited = [c for c in mapped if c in controls]
    statuses = {c: controls[c]["status"] for c in cited}
    failed = [c for c, s in statuses.items() if s == "not-satisfied"]
    per_status = "; ".join(f"{c} {s}" for c, s in statuses.items()) or "none of its controls is cited by a rule"
    reviewed = "shows" in ksi
    if reviewed and (failed or any(s in CLAIMED for s in statuses.values())):
        tests = sorted(r for r, e in rules.items() if set(e["controls"]) & set(mapped))
        return {
            "ksiId": ksi_id,
            "ksiImplementationStatus": "Not Implemented" if failed else "Partially Implemented",
            "automatedAssessment": "not-satisfied" if failed else "partially-satisfied",
            "ksiImplementation": [
                f"{ksi['shows']} Environment `{env}` (stack {stack.name}).",
                f"Controls of this KSI's 800-53 mapping that the rules cite, with their status in `{env}`: {per_status}.",
                "Cycle: every `cdk synth` of the configuration runs the rules in ksiTests on the templates it deploys "
                "(each change, in CI); nothing here runs on a schedule against deployed resources.",
                f"Not shown by this package: {ksi['not_shown']} Controls of the mapping no rule cites: "
                + (", ".join(c for c in mapped if c not in controls) or "none") + ".",
            ],
            "ksiValidation": [
                f"{BASIS} The rules listed in ksiTests run on every `cdk synth`; the synth fails on an unsuppressed "
                "error-level finding, and every suppression names one rule, one resource and a reason (see the "
                "POA&M). Each rule has a compliant and a non-compliant test case in the package's test suite.",
            ],
            "ksiAssessment": [
                "An assessor re-runs `make synth` at the commit named in provenance.json, checks the sha256 of each "
                "evidence file below, and assesses the deployed resources and the organization's procedures "
                "separately: this record covers the templates only.",
            ],
            "ksiTests": tests,
            "ksiEvidence": list(evidence),
        }
    if reviewed:
        why = (f"Not assessed by automation in `{env}`: none of the controls of its 800-53 mapping is shown by this "
               f"environment's template ({per_status}). Elsewhere the package's templates show: {ksi['shows']}")
    else:
        why = (f"Not assessed by automation: compliant-bedrock reads synthesized templates only and has no reviewed "
               f"statement of what they show of {ksi_id} ({ksi['name']}), so this record makes no claim about it "
               "and gives it no implementation status; the provider states its measures, their cycle, verification "
               "and validation.")
    info = ("Controls of its 800-53 mapping that rules cite in this environment, for information only (not an "
            f"assessment of this indicator): {per_status}." if cited else
            "No control of its 800-53 mapping is cited by a rule of this package." if mapped else
            "FedRAMP maps no 800-53 control to this indicator.")
    return {
        "ksiId": ksi_id,
        "automatedAssessment": NOT_ASSESSED,
        "ksiImplementation": [why, info, *([f"Not shown by this package: {ksi['not_shown']}"] if reviewed else [])],
        "ksiValidation": ["Not validated by automation: no rule of this package tests this indicator."],
        "ksiAssessment": ["Assessed from the provider's own statements and evidence, not from this package's."],
        "ksiTests": [],
        "ksiEvidence": [],
    }


def _requirements(env: str, indicators: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The FedRAMP rules this record addresses (``requirements`` of the KSI data), each with what it does."""
    assessed = sum(1 for k in indicators if k["automatedAssessment"] != NOT_ASSESSED)
    found = []
    for rule_id, rule in ksi_data()["requirements"].items():
        implementation = [rule["implementation"]]
        if rule_id == "SDR-CSX-KSI":
            implementation.append(f"In `{env}`: {assessed} of {len(indicators)} indicators assessed from the "
                                  "templates, the others not assessed by automation.")
        if rule.get("not_shown"):
            implementation.append(f"Not shown by this package: {rule['not_shown']}")
        found.append({
            "frrID": rule_id,
            **({"frrImplementationStatus": rule["status"]} if rule.get("status") else {}),
            "automatedAssessment": "generated-record" if rule.get("status") else NOT_ASSESSED,
            "frrImplementation": implementation,
            "frrValidation": ["Generated by compliant-bedrock at synth from the templates and rule results; the "
                              "package's tests check the generator, not this instance."
                              if rule.get("status") else "Not validated by automation."],
            "frrAssessment": ["An assessor compares this statement with the record itself and the files it cites."
                              if rule.get("status") else "Assessed from the provider's own statements and evidence."],
        })
    return found


def _security_controls(env: str, stack: StackEvidence, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every control of the environment's matrix with its status as the matrix gives it (``matrix_digest``)."""
    parameters = template_parameters(stack)
    found = []
    for control in sorted(entry["controls"], key=control_sort_key):
        item = entry["controls"][control]
        status = item["status"]
        text = (f"Matrix status in `{env}` (pre-deployment, template evidence): {status}: "
                f"{STATUS_TEXT.get(status, status)}. {item.get('why', '')}").strip()
        if status not in CONTROL_STATUS:
            text = f"Not assessed by automation: no implementation status is claimed. {text}"
        risks = item.get("accepted_risks") or []
        if risks:
            text += f" Accepted risks: {len(risks)} (see the POA&M)."
        values = parameters.get(oscal_control_id(control), {})
        found.append({
            "controlId": control,
            **({"controlImplementationStatus": CONTROL_STATUS[status]} if status in CONTROL_STATUS else {}),
            "matrixStatus": status,
            **({"parameterValues": [{"parameterId": k, "parameterValue": v} for k, v in sorted(values.items())]}
               if values else {}),
            "controlImplementationDescription": text,
        })
    return found


def build_sdr(env: str, stack: StackEvidence, entry: Mapping[str, Any], evidence: Sequence[tuple[str, str, str]],
              *, hashes: Mapping[str, str], date: str, overview_uri: str = UNSET_OVERVIEW,
              base_uri: str | None = None, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``entry``: the environment's ``matrix_digest``; ``evidence``: (file name, evidence type, description)
    of the files to cite, each cited where ``hashes`` (file name -> sha256 of the files of the evidence directory,
    the writer's manifest) has it; ``date``: YYYY-MM-DD of the evidence; ``base_uri``: where
    the files are published (``evidence_base``); ``metadata``: SDR-CSO-MTD (version, lastUpdated,
    sourceOfUpdate, provenance), from the report."""
    data = ksi_data()
    base = evidence_base(base_uri)
    cited = [{"evidenceType": kind, "evidenceDescription": text, "evidenceLocation": f"{base}{name}",
              "evidenceText": f"sha256 {hashes[name]}", "lastUpdated": date}
             for name, kind, text in evidence if name in hashes]
    indicators = [_indicator(ksi_id, ksi, env, stack, entry, cited) for ksi_id, ksi in data["indicators"].items()]
    src = data["source"]
    return {
        "metadata": {
            "environment": env,
            "stack": stack.name,
            "evidenceBasis": BASIS,
            "schema": SCHEMA,
            "rules": {"name": "FedRAMP Consolidated Rules", "version": src["version"], "lastUpdated": src["last_updated"],
                      "repository": src["repository"]},
            "evidenceBaseUri": base,
            **dict(metadata or {}),
        },
        "certificationPackageOverviewUri": overview_uri,
        "portsAndProtocols": ports_and_protocols(stack),
        "fedRampRequirements": _requirements(env, indicators),
        "keySecurityIndicators": indicators,
        "securityControls": _security_controls(env, stack, entry),
    }


def render_sdr(env: str, sdr: Mapping[str, Any]) -> str:
    """The human-readable form SDR-CSO-FRR asks for next to the JSON (the same data, every field of it)."""
    src = ksi_data()["source"]
    meta = sdr.get("metadata", {})
    lines = [f"# FedRAMP 20x Security Decision Record: `{env}`", "", f"> {BASIS}", "",
             f"Key Security Indicators and rules from FedRAMP Consolidated Rules {src['version']} ({src['repository']}). "
             f"Machine-readable: `sdr-{env}.json` (valid against FedRAMP's "
             "`fedramp-security-decision-record-schema-2026-06-24.json`).", ""]
    if meta:
        prov = meta.get("provenance") or {}
        lines += ["## Metadata (SDR-CSO-MTD)", "", f"- Version: `{meta.get('version', '')}`",
                  f"- Last updated: {meta.get('lastUpdated', '')} ({meta.get('lastUpdatedSource', '')})",
                  f"- Source of update: {meta.get('sourceOfUpdate', '')}"]
        if prov:
            lines.append(f"- Provenance: `{prov['location']}` (sha256 `{prov['sha256']}`)")
        lines.append("")
    if sdr["certificationPackageOverviewUri"] == UNSET_OVERVIEW:
        lines += ["The Certification Package Overview URI is not set: pass `--package-overview-uri` to "
                  "`python -m infra.report`, or set the context `compliance:package-overview-uri`.", ""]
    if meta.get("evidenceBaseUri", UNSET_EVIDENCE_BASE) == UNSET_EVIDENCE_BASE:
        lines += [f"Evidence locations are URNs (`{UNSET_EVIDENCE_BASE}<file>`): where the files are published is "
                  "not set; pass `--evidence-base-uri` to `python -m infra.report`, or set the context "
                  "`compliance:evidence-base-uri`.", ""]
    lines += ["## Ports and protocols (from the template)", "", "| Service | Port | Protocol | Encryption | Purpose |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {p['serviceName']} | {p['portNumber']} | {p['transportProtocol']} | {p['encryption']} | "
              f"{p['purpose']} |" for p in sdr["portsAndProtocols"]]
    lines += ["", "## FedRAMP rules this record addresses", ""]
    for frr in sdr.get("fedRampRequirements", []):
        status = frr.get("frrImplementationStatus", "not assessed by automation")
        lines += [f"### {frr['frrID']}: {status}", ""]
        lines += [f"- {text}" for text in [*frr["frrImplementation"], *frr.get("frrValidation", []),
                                           *frr.get("frrAssessment", [])]]
        lines.append("")
    for ksi in sdr["keySecurityIndicators"]:
        name = ksi_data()["indicators"][ksi["ksiId"]]["name"]
        status = ksi.get("ksiImplementationStatus", "not assessed by automation")
        lines += ["", f"## {ksi['ksiId']} {name}: {status}", ""]
        lines += [f"- {text}" for text in [*ksi["ksiImplementation"], *ksi["ksiValidation"], *ksi["ksiAssessment"]]]
        if ksi["ksiTests"] or ksi["ksiEvidence"]:
            lines += ["", f"Tests: {', '.join(ksi['ksiTests']) or 'none'}.", "", "| Evidence | sha256 |", "| --- | --- |"]
            lines += [f"| `{e['evidenceLocation']}` | `{e['evidenceText'].removeprefix('sha256 ')}` |"
                      for e in ksi["ksiEvidence"]]
    controls = sdr.get("securityControls", [])
    if controls:
        lines += ["", "## NIST SP 800-53 r5 controls (from the control matrix)", "",
                  "| Control | Status | Matrix status | Parameters | Description |", "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(_cell(x) for x in (
            c["controlId"], c.get("controlImplementationStatus", "not assessed by automation"), c["matrixStatus"],
            "; ".join(f"{p['parameterId']}: {p['parameterValue']}" for p in c.get("parameterValues", [])),
            c["controlImplementationDescription"])) + " |" for c in controls]
    return "\n".join(lines) + "\n"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()
