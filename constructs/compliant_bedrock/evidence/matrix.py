"""The control matrix: NIST SP 800-53 r5 control -> rules that test it -> resources -> result -> status.

Rules come from two packs that cite NIST SP 800-53 r5 controls: cdk-nag's ``NIST.800.53.R5`` (its
whole rule list ships in ``compliance/data``) and this package's ``Bedrock`` pack. A rule of either
pack with no result in a stack is *not applicable* there (none of the resource types it checks is in
the template, or none of them is in its scope). Packs without NIST ids (AwsSolutions, HIPAA, PCI)
are listed in a section of their own.

The environment's perimeter proof (``perimeter-<env>.json``) adds its request families as checks
(``perimeter:<request id>``: as expected, open, accepted). A control's status says what was checked (see
``STATUS_TEXT`` and :func:`.objectives.judge`): only the checks the reviewed control-objective map
(``data/control-objectives.tsv``) names can satisfy a control; cdk-nag's citations only support it; a
failed or unevaluated check makes it not satisfied; a suppression with a named approver makes it risk
accepted, the package's own suppressions are vendor justifications; a resource no pack reported on caps what
its rules would feed; an enhancement never outranks its base control; a withdrawn id or a control no
template shows is never claimed. A control no rule tested is not assessed, never "not applicable": only an
assessor decides that a control does not apply.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..compliance.gate import Finding, blocking
from ..compliance.pack import PACK_NAME, RULES
from .assembly import StackEvidence
from .deployed import verified_cell
from .destinations import data_destinations
from .destinations import render as render_destinations
from .objectives import (
    GATE_CONTROLS,
    RISK_ACCEPTED,
    acceptance,
    acceptance_kind,
    base_control,
    cap_by_base,
    catalog,
    judge,
    objective_map,
    perimeter_checks,
)
from .responsibility import BASIS, control_info, narrative, template_facts

__all__ = ["CLAIMED", "CONTROL_PACKS", "GATE_CONTROLS", "STATUS_TEXT", "acceptance", "build_matrix"]

NIST_PACK = "NIST.800.53.R5"
#: Packs whose rules cite NIST SP 800-53 r5 control ids.
CONTROL_PACKS = (NIST_PACK, PACK_NAME)

#: Report ``compliance`` values -> matrix results.
RESULTS = {
    "Compliant": "compliant",
    "Non-Compliant": "non-compliant",
    "Suppressed": "suppressed",
    "N/A": "not-applicable",
    "UNKNOWN": "error",
}
#: Worst first: the result a rule shows when its resources differ.
RESULT_ORDER = ("non-compliant", "error", "suppressed", "compliant", "not-applicable")
#: The perimeter proof's request families, as checks in the matrix (``perimeter:<request id>``).
PERIMETER_PACK = "perimeter-proof"
STATUS_TEXT = {
    "satisfied-by-automated-check": "a template can show the whole control, and for every part of its objective "
                                    "(control-objectives.tsv) a check that can satisfy it (a Bedrock-pack rule or a "
                                    "perimeter-proof request family) passed on named resources; no check citing it "
                                    "failed, was UNKNOWN or suppressed, none missed a resource, and its base control "
                                    "(for an enhancement) is satisfied too",
    "partially-satisfied": "checks passed and none failed, but only part of it is shown: the rest is not checked by "
                           "automation (not_checked), or only supporting evidence passed (cdk-nag's citations, never "
                           "enough alone), or a resource no pack reported on feeds it, or a satisfying check was "
                           "justified away on a resource, or its base control is partial",
    "risk-accepted": "a finding or perimeter path citing it was accepted by a named approver (from configuration) and "
                     "none failed; the package's own suppressions are vendor justifications, listed, never an "
                     "acceptance",
    "not-satisfied": "a check citing it failed or could not be evaluated (UNKNOWN), an open perimeter path cites it, "
                     "its base control is not satisfied, or (CA-7, CM-6, SA-11) the compliance gate failed on this "
                     "template",
    "not-assessed-by-automation": "organizational, procedural or physical, or never shown by a template "
                                  "(control-objectives.tsv), or withdrawn from SP 800-53 r5 (its checks count for its "
                                  "replacement), or no check citing it passed",
}
GATE_LINE = ("Every synth runs the NIST SP 800-53 r5, AWS Solutions and Bedrock rule packs on this template and fails "
             "on an unsuppressed error; the matrix lists each rule, resource and result.")
#: Statuses that claim (some of) the control is in place.
CLAIMED = ("satisfied-by-automated-check", "partially-satisfied")

_CONTROL = re.compile(r"^\s*([A-Za-z]{2})-(\d+)(?:\s*\(\s*(\d+)\s*\))?")

#: cdk-nag's rule sources name L1 classes; these are the CloudFormation types they stand for.
_CFN_CLASS: dict[str, tuple[str, ...]] = {
    "CfnAlarm": ("AWS::CloudWatch::Alarm",),
    "CfnAutoScalingGroup": ("AWS::AutoScaling::AutoScalingGroup",),
    "CfnBackupSelection": ("AWS::Backup::BackupSelection",),
    "CfnBucket": ("AWS::S3::Bucket",),
    "CfnBucketPolicy": ("AWS::S3::BucketPolicy",),
    "CfnCacheCluster": ("AWS::ElastiCache::CacheCluster",),
    "CfnCluster": ("AWS::Redshift::Cluster",),
    "CfnClusterParameterGroup": ("AWS::Redshift::ClusterParameterGroup",),
    "CfnDBCluster": ("AWS::RDS::DBCluster",),
    "CfnDBInstance": ("AWS::RDS::DBInstance",),
    "CfnDomain": ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"),
    "CfnEndpointConfig": ("AWS::SageMaker::EndpointConfig",),
    "CfnEnvironment": ("AWS::ElasticBeanstalk::Environment",),
    "CfnFileSystem": ("AWS::EFS::FileSystem",),
    "CfnFlowLog": ("AWS::EC2::FlowLog",),
    "CfnFunction": ("AWS::Lambda::Function",),
    "CfnGroup": ("AWS::IAM::Group",),
    "CfnInstance": ("AWS::EC2::Instance",),
    "CfnKey": ("AWS::KMS::Key",),
    "CfnLaunchConfiguration": ("AWS::AutoScaling::LaunchConfiguration",),
    "CfnLaunchTemplate": ("AWS::EC2::LaunchTemplate",),
    "CfnListener": ("AWS::ElasticLoadBalancingV2::Listener",),
    "CfnLoadBalancer": ("AWS::ElasticLoadBalancing::LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    "CfnLoadBalancerV2": ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "CfnLogGroup": ("AWS::Logs::LogGroup",),
    "CfnLoggingConfiguration": ("AWS::WAFv2::LoggingConfiguration",),
    "CfnManagedPolicy": ("AWS::IAM::ManagedPolicy",),
    "CfnNotebookInstance": ("AWS::SageMaker::NotebookInstance",),
    "CfnPermission": ("AWS::Lambda::Permission",),
    "CfnPolicy": ("AWS::IAM::Policy",),
    "CfnReplicationGroup": ("AWS::ElastiCache::ReplicationGroup",),
    "CfnReplicationInstance": ("AWS::DMS::ReplicationInstance",),
    "CfnRole": ("AWS::IAM::Role",),
    "CfnRotationSchedule": ("AWS::SecretsManager::RotationSchedule",),
    "CfnRoute": ("AWS::EC2::Route",),
    "CfnScalableTarget": ("AWS::ApplicationAutoScaling::ScalableTarget",),
    "CfnSecret": ("AWS::SecretsManager::Secret",),
    "CfnSecretTargetAttachment": ("AWS::SecretsManager::SecretTargetAttachment",),
    "CfnSecurityGroup": ("AWS::EC2::SecurityGroup",),
    "CfnSecurityGroupIngress": ("AWS::EC2::SecurityGroupIngress",),
    "CfnStage": ("AWS::ApiGateway::Stage",),
    "CfnSubnet": ("AWS::EC2::Subnet",),
    "CfnTable": ("AWS::DynamoDB::Table",),
    "CfnTaskDefinition": ("AWS::ECS::TaskDefinition",),
    "CfnTopic": ("AWS::SNS::Topic",),
    "CfnTrail": ("AWS::CloudTrail::Trail",),
    "CfnUser": ("AWS::IAM::User",),
    "CfnVPC": ("AWS::EC2::VPC",),
    "CfnVolume": ("AWS::EC2::Volume",),
    "CfnWebACL": ("AWS::WAFv2::WebACL",),
    "CfnWebACLAssociation": ("AWS::WAFv2::WebACLAssociation",),
}


# ---------------------------------------------------------------------------------------------
# Control ids


@cache  # pure, and asked for every finding of every stack
def normalize_control(cited: str) -> str | None:
    """``AC-17(4)(a)`` -> ``AC-17(4)``, ``AU-2b`` -> ``AU-2``, ``PM-14a.1`` -> ``PM-14``; None if not a control id.

    Statement parts (letters, ``(a)``, ``.1``) are dropped; a control enhancement is kept, except on
    a family's ``-1`` control (policy and procedures), which has none in SP 800-53 r5: cdk-nag cites
    ``CP-1(2)``, ``SA-1(1)`` and ``SI-1(1)(c)``, ids the OSCAL catalog does not have, so they count
    as ``CP-1``, ``SA-1``, ``SI-1`` (the matrix keeps the cited form under ``cited_as``).
    """
    match = _CONTROL.match(cited)
    if match is None:
        return None
    family, number, enhancement = match.group(1).upper(), int(match.group(2)), match.group(3)
    if number == 1:
        enhancement = None
    return f"{family}-{number}" + (f"({int(enhancement)})" if enhancement else "")


@cache
def control_sort_key(control: str) -> tuple[str, int, int]:
    """Family, then number, then enhancement (the base control first): AC-2 < AC-2(1) < AC-3 < AC-17."""
    match = _CONTROL.match(control)
    if match is None:
        return (control, 0, 0)
    return (match.group(1).upper(), int(match.group(2)), int(match.group(3)) if match.group(3) else -1)


@cache
def oscal_control_id(control: str) -> str:
    """``AU-9(3)`` -> ``au-9.3``: the id the OSCAL NIST SP 800-53 r5 catalog uses."""
    family, _, rest = control.partition("-")
    number, _, enhancement = rest.partition("(")
    return f"{family.lower()}-{number}" + (f".{enhancement.rstrip(')')}" if enhancement else "")


def normalized_controls(cited: tuple[str, ...] | list[str]) -> list[str]:
    return list(_normalized(tuple(cited)))


@cache
def _normalized(cited: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({c for c in (normalize_control(x) for x in cited) if c}, key=control_sort_key))


# ---------------------------------------------------------------------------------------------
# The rules of the packs


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    pack: str
    #: Control ids as the pack cites them (statement parts included).
    cited: tuple[str, ...]
    #: CloudFormation types the rule checks; empty for a rule about the whole stack.
    types: tuple[str, ...]
    description: str

    @property
    def controls(self) -> list[str]:
        return normalized_controls(self.cited)


def _cfn_types(classes: str) -> tuple[str, ...]:
    types: list[str] = []
    for name in (c.strip() for c in classes.split(",")):
        if name:
            types.extend(_CFN_CLASS.get(name, (f"{name} (CDK L1 class)",)))
    return tuple(dict.fromkeys(types))


@cache
def rule_specs() -> dict[str, RuleSpec]:
    """Every rule of the NIST and Bedrock packs, whether or not it produced a result."""

    text = resources.files("compliant_bedrock.compliance").joinpath(
        "data/cdk-nag-nist-800-53-r5-rules.tsv").read_text("utf-8")
    specs: dict[str, RuleSpec] = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        cited = tuple(dict.fromkeys(c.strip() for c in row["control_ids"].split(",") if c.strip()))
        specs[row["rule_id"]] = RuleSpec(row["rule_id"], NIST_PACK, cited, _cfn_types(row["cfn_types_checked"]),
                                         row.get("info", ""))
    for rule_id, rule in sorted(RULES.items()):
        specs[rule_id] = RuleSpec(rule_id, PACK_NAME, tuple(rule.controls), tuple(rule.resource_types),
                                  rule.explanation)
    return specs


# ---------------------------------------------------------------------------------------------
# Results


def result_of(finding: Finding) -> str:
    return RESULTS.get(finding.compliance, "error")


def _rows(stack: StackEvidence, findings: list[Finding]) -> list[dict[str, Any]]:
    """One row per (resource, result, reason); repeated findings (granular rules) counted."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        counts[(f.resource, result_of(f), f.reason or "")] += 1
    rows = []
    for (resource, result, reason), count in sorted(counts.items()):
        logical_id = stack.logical_id(resource)
        row: dict[str, Any] = {
            "resource": resource,
            "label": stack.label(logical_id) if logical_id else ("(stack)" if resource == stack.name else resource),
            "logical_id": logical_id,
            "type": stack.template.resources[logical_id].type if logical_id else
            ("AWS::CloudFormation::Stack" if resource == stack.name else None),
            "result": result,
        }
        if reason:
            row["reason"] = reason
        if result == "suppressed":
            row["acceptance"] = acceptance_kind(reason)
        if count > 1:
            row["count"] = count
        rows.append(row)
    return rows


def _worst(results: list[str]) -> str:
    return min(results, key=RESULT_ORDER.index) if results else "not-applicable"


def _not_applicable_note(spec: RuleSpec, present: set[str]) -> str:
    if not spec.types:
        return "no result for this stack"
    here = [t for t in spec.types if t in present]
    if not here:
        return f"no {' or '.join(spec.types)} in the template"
    return f"{', '.join(here)} present, none in the rule's scope"


def _tally(rows: list[dict[str, Any]]) -> dict[str, int]:
    tally = dict.fromkeys(RESULT_ORDER, 0)
    for row in rows:
        tally[row["result"]] += row.get("count", 1)
    return tally


def unchecked_resources(stack: StackEvidence) -> dict[str, dict[str, Any]]:
    """Resources no cdk-nag pack reported on although its rules check their type: logical id -> label, type
    and the NIST rules that never saw it.

    cdk-nag visits constructs by L1 class, so a resource written as a plain ``CfnResource`` (CDK's own
    custom-resource provider: ``CustomVpcRestrictDefaultSG...Handler`` and its inline-policy ``...Role``)
    gets no line from any of its rules. A type counts as one cdk-nag checks when a single-class NIST rule
    checks it or another resource of the type got a cdk-nag line in this stack. The Bedrock pack reads the
    template itself, so it sees every resource; the perimeter proof is not about resources.
    """
    specs = rule_specs()
    nist = [s for s in specs.values() if s.pack == NIST_PACK]
    seen = {stack.logical_id(f.resource) for f in stack.findings if f.pack != PACK_NAME}
    seen_types = {stack.template.resources[lid].type for lid in seen if lid}
    single = {s.types[0] for s in nist if len(s.types) == 1}
    out: dict[str, dict[str, Any]] = {}
    for r in stack.resources:
        if r.logical_id in seen or r.type not in single | seen_types:
            continue
        rules = sorted(s.rule_id for s in nist if r.type in s.types)
        if rules:
            out[r.logical_id] = {"logical_id": r.logical_id, "label": stack.label(r.logical_id), "type": r.type,
                                 "rules": rules}
    return out


def _gate_failure(stack: StackEvidence, perimeter: Mapping[str, Any] | None) -> str:
    """Why the compliance gate failed on this template ("" when it passed)."""
    errors = blocking(stack.findings)
    open_paths = [r["id"] for r in (perimeter or {}).get("requests", []) if r.get("verdict") == "open"]
    reasons = ([f"{len(errors)} unsuppressed error(s)"] if errors else []) + (
        [f"{len(open_paths)} open perimeter path(s) ({', '.join(open_paths[:3])}{', ...' if len(open_paths) > 3 else ''})"]
        if open_paths else [])
    return "; ".join(reasons)


def build_matrix(stack: StackEvidence, perimeter: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The control matrix of one stack, as a JSON-ready dict (sorted, deterministic).

    ``perimeter``: the perimeter proof of this stack's environment (``perimeter-<env>.json``), for the
    environment's own stack: its request families are checks like rules (see :mod:`.objectives`)."""
    specs = rule_specs()
    objectives = objective_map()
    present = {r.type for r in stack.resources}
    by_rule: dict[str, list[Finding]] = {}
    for f in stack.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    unchecked = unchecked_resources(stack)

    rules: dict[str, dict[str, Any]] = {}
    for rule_id in sorted({*(r for r, s in specs.items() if s.pack in CONTROL_PACKS),
                           *(f.rule_id for f in stack.findings if f.pack in CONTROL_PACKS)}):
        findings = by_rule.get(rule_id, [])
        spec = specs.get(rule_id)
        cited = tuple(dict.fromkeys(c for f in findings for c in f.controls)) or (spec.cited if spec else ())
        pack = findings[0].pack if findings else spec.pack if spec else NIST_PACK
        rows = _rows(stack, findings)
        entry: dict[str, Any] = {
            "pack": pack,
            "controls": normalized_controls(cited),
            "cited_as": list(cited),
            "level": findings[0].level if findings else None,
            "types": list(spec.types) if spec else [],
            "description": (findings[0].info.split(" - (Control IDs")[0] if findings else spec.description if spec
                            else ""),
            "results": rows,
            "tally": _tally(rows),
            "status": _worst([r["result"] for r in rows]),
        }
        if entry["status"] == "not-applicable":
            entry["note"] = (_not_applicable_note(spec, present) if spec and not rows
                             else "the rule reported itself not applicable")
        missed = sorted(lid for lid, u in unchecked.items() if rule_id in u["rules"])
        if missed:
            entry["unchecked"] = missed
        rules[rule_id] = entry
    for family, checks in sorted(perimeter_checks(perimeter).items()):
        rows = checks["rows"]
        rules[family] = {"pack": PERIMETER_PACK, "controls": checks["controls"], "cited_as": checks["controls"],
                         "level": None, "types": [], "description": checks["rationale"], "results": rows,
                         "tally": _tally(rows), "status": _worst([r["result"] for r in rows])}

    controls: dict[str, dict[str, Any]] = {}

    def add(control: str, rule_id: str, entry: dict[str, Any], via: str | None = None) -> None:
        item = controls.setdefault(control, {"oscal_id": oscal_control_id(control), "rules": []})
        if any(ref["rule"] == rule_id for ref in item["rules"]):
            return
        role, part = ("supports", None) if via else objectives.role(control, rule_id)
        ref: dict[str, Any] = {"rule": rule_id, "status": entry["status"], "role": role}
        if part and part != "-":
            ref["part"] = part
        if via:
            ref["cited_as"] = via
        if entry["results"]:
            ref["results"] = [{k: row[k] for k in ("resource", "result", "reason", "acceptance", "count") if k in row}
                              for row in entry["results"]]
        if entry.get("unchecked"):
            ref["unchecked"] = [unchecked[lid]["label"] for lid in entry["unchecked"]]
        item["rules"].append(ref)

    for rule_id, entry in rules.items():
        for control in entry["controls"]:
            add(control, rule_id, entry)
            for replacement in objectives.withdrawn.get(control, ((), ""))[0]:
                add(replacement, rule_id, entry, via=f"{control} (withdrawn)")
        if entry["results"]:  # a Bedrock rule the map names for a control it does not cite (AU-5: tamper alerts)
            for control in objectives.attached(rule_id):
                add(control, rule_id, entry)

    facts = template_facts(stack)
    gate_failed = _gate_failure(stack, perimeter)
    for control in sorted(controls, key=control_sort_key):  # a base control before its enhancements
        item = controls[control]
        tally = dict.fromkeys(RESULT_ORDER, 0)
        for ref in item["rules"]:
            for result, n in rules[ref["rule"]]["tally"].items():
                tally[result] += n
        item["tally"] = tally
        info = control_info(control)
        item["scope"] = info.scope
        if info.scope != "template":
            item["not_checked"] = info.not_checked
        item["responsibility"] = info.responsibility
        if info.aws_service:
            item["aws_service"] = info.aws_service
        item["narrative"] = narrative(control, facts, GATE_LINE)
        if control in objectives.reasons:
            item["objective"] = objectives.reasons[control]
        if control in objectives.withdrawn:
            item["withdrawn"] = {"note": catalog()["controls"][control]["withdrawn"],
                                 "replaced_by": list(objectives.withdrawn[control][0])}
        refs = [{**ref, "types": rules[ref["rule"]]["types"]} for ref in item["rules"]]
        verdict = judge(control, refs, info.scope, info.not_checked)
        status, notes = verdict.status, verdict.notes
        if gate_failed and control in GATE_CONTROLS and status != "not-satisfied":
            status, notes = "not-satisfied", [f"The compliance gate failed on this template: {gate_failed}.", *notes]
        base = base_control(control)
        if base and control not in objectives.withdrawn:
            base_status = controls[base]["status"] if base in controls else "not-assessed-by-automation"
            capped = cap_by_base(status, base_status)
            if capped != status:
                status, notes = capped, [f"Capped by its base control {base} ({base_status}): an enhancement never "
                                         "outranks its base.", *notes]
        item["status"] = status
        item["why"] = " ".join(notes)
        accepted = [dict(rule=ref["rule"], resource=r["resource"], reason=r.get("reason", ""),
                         **acceptance(r.get("reason", "")))
                    for ref in item["rules"] for r in ref.get("results", [])
                    if r["result"] == "suppressed" and r.get("acceptance") == RISK_ACCEPTED]
        if accepted:
            item["accepted_risks"] = accepted
        justified = [dict(rule=ref["rule"], resource=r["resource"], reason=r.get("reason", ""))
                     for ref in item["rules"] for r in ref.get("results", [])
                     if r["result"] == "suppressed" and r.get("acceptance") != RISK_ACCEPTED]
        if justified:
            item["vendor_justifications"] = justified
        missed = sorted({label for ref in item["rules"] for label in ref.get("unchecked", [])})
        if missed:
            item["unchecked"] = missed
    #: A list, not a mapping: JSON written with sorted keys keeps family-then-number order this way.
    ordered = [{"control": c, **controls[c]} for c in sorted(controls, key=control_sort_key)]

    other: dict[str, dict[str, Any]] = {}
    for f in stack.findings:
        if f.pack in CONTROL_PACKS:
            continue
        other.setdefault(f.pack, {}).setdefault(f.rule_id, [])
    for pack, pack_rules in other.items():
        for rule_id in pack_rules:
            findings = [f for f in by_rule[rule_id] if f.pack == pack]
            rows = _rows(stack, findings)
            pack_rules[rule_id] = {
                "cited_as": list(dict.fromkeys(c for f in findings for c in f.controls)),
                "description": findings[0].info.split(" - (Control IDs")[0],
                "level": findings[0].level,
                "results": rows,
                "status": _worst([r["result"] for r in rows]),
            }

    status_counts = Counter(c["status"] for c in ordered)
    return {
        "stack": stack.name,
        "environment": stack.environment,
        "region": stack.region,
        "account": stack.account,
        "description": stack.description,
        "evidence_basis": BASIS,
        "packs": list(CONTROL_PACKS),
        "statuses": STATUS_TEXT,
        "totals": {s: status_counts.get(s, 0) for s in STATUS_TEXT},
        "gate": {"passed": not gate_failed, **({"failed": gate_failed} if gate_failed else {}),
                 "perimeter": "proof of this environment" if perimeter is not None else "not part of this stack's checks"},
        "unchecked_resources": [unchecked[lid] for lid in sorted(unchecked)],
        "controls": ordered,
        "rules": rules,
        "other_packs": {p: dict(sorted(r.items())) for p, r in sorted(other.items())},
        "data_destinations": data_destinations(stack),
    }


# ---------------------------------------------------------------------------------------------
# Markdown


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _counts(tally: dict[str, int]) -> str:
    parts = [f"{n} {r}" for r in RESULT_ORDER if (n := tally.get(r, 0)) and r != "not-applicable"]
    return ", ".join(parts) or "none"


def _resources(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"`{r['label']}`" + (f" (x{r['count']})" if r.get("count") else "") for r in rows)


def render_markdown(matrix: dict[str, Any], digest: str = "") -> str:
    env, rules = matrix["environment"], matrix["rules"]
    lines = [
        f"# NIST SP 800-53 rev 5 control matrix: `{env}`",
        "",
        f"> {BASIS}",
        "",
        f"Stack `{matrix['stack']}`" + (f", region `{matrix['region']}`" if matrix["region"] else "")
        + (f": {matrix['description']}" if matrix["description"] else "") + ".",
        "",
        "Every result below is a rule of the cdk-nag `NIST.800.53.R5` pack or of this package's `Bedrock` pack, "
        "run on the synthesized CloudFormation template at `cdk synth` (the template `cdk deploy` deploys). "
        "Control ids are normalized to the control or enhancement (`AU-2b` -> `AU-2`, `AC-17(4)(a)` -> `AC-17(4)`); "
        "`matrix-" + env + ".json` keeps the ids as each rule cites them.",
        "",
    ]
    if digest:
        lines += [f"Inputs (this stack's template and pack reports) sha256 `{digest}`.", ""]
    lines += ["| Status | Controls | Meaning |", "| --- | ---: | --- |"]
    for status, meaning in STATUS_TEXT.items():
        lines.append(f"| {status} | {matrix['totals'][status]} | {meaning} |")
    runs = matrix.get("verified_in_account") or []
    if runs:  # make verify read the deployed account after this synth (evidence/deployed.py)
        lines += ["", "Verified in account: " + "; ".join(
            f"`{r['file']}`, collected {r['collected_at']} by `{r['collected_by']}`" for r in runs)
            + ". The column says whether the account was found in the state each control's checks showed "
              "(contradicted claims are POA&M items); it never changes a status."]
    lines += ["", "## Controls", "",
              "| Control | Status | Responsibility | Results | Why | Rules not applicable |"
              + (" Verified in account |" if runs else ""),
              "| --- | --- | --- | --- | --- | ---: |" + (" --- |" if runs else "")]
    for item in matrix["controls"]:
        control = item["control"]
        applicable = [r for r in item["rules"] if r["status"] != "not-applicable"]
        lines.append(f'| <a id="{item["oscal_id"]}"></a>{control} | {item["status"]} | {item["responsibility"]} | '
                     f"{_counts(item['tally'])} | {_cell(item['why'])} | {len(item['rules']) - len(applicable)} |"
                     + (f" {verified_cell(item)} |" if runs else ""))
    lines += ["", "## Rule results", ""]
    for rule_id, entry in rules.items():
        if entry["status"] == "not-applicable" and not entry["results"]:
            continue
        lines += [f"### {rule_id}: {entry['status']}", "",
                  f"{_cell(entry['description'])}. Controls: {', '.join(entry['controls']) or 'none'}.", "",
                  "| Resource | Type | Result | Reason |", "| --- | --- | --- | --- |"]
        for row in entry["results"]:
            count = f" (x{row['count']})" if row.get("count") else ""
            lines.append(f"| `{_cell(row['label'])}`{count} | {row['type'] or ''} | {row['result']} | "
                         f"{_cell(row.get('reason', ''))} |")
        lines.append("")
    suppressed = [(rid, row) for rid, e in rules.items() for row in e["results"] if row["result"] == "suppressed"]
    suppressed += [(rid, row) for pack in matrix["other_packs"].values() for rid, e in pack.items()
                   for row in e["results"] if row["result"] == "suppressed"]
    lines += ["## Suppressed findings", ""]
    if suppressed:
        lines += ["| Rule | Resource | Reason |", "| --- | --- | --- |"]
        lines += [f"| {rid} | `{_cell(row['label'])}` | {_cell(row.get('reason', ''))} |"
                  for rid, row in sorted(suppressed, key=lambda x: (x[0], x[1]["resource"]))]
    else:
        lines.append("None.")
    lines += ["", "## Other packs (no NIST SP 800-53 control ids)", ""]
    if not matrix["other_packs"]:
        lines.append("None ran.")
    for pack, pack_rules in matrix["other_packs"].items():
        lines += [f"### {pack}", "", "| Rule | Result | Resources | Reason |", "| --- | --- | --- | --- |"]
        for rule_id, entry in pack_rules.items():
            for row in entry["results"]:
                lines.append(f"| {rule_id} | {row['result']} | {_resources([row])} | {_cell(row.get('reason', ''))} |")
        lines.append("")
    na = [(rid, e) for rid, e in rules.items() if e["status"] == "not-applicable"]
    lines += ["", "## Rules not applicable to this stack", "",
              "| Rule | Controls | Why |", "| --- | --- | --- |"]
    lines += [f"| {rid} | {', '.join(e['controls'])} | {_cell(e.get('note', ''))} |" for rid, e in na]
    lines += ["", *render_destinations(matrix.get("data_destinations", []))]
    return "\n".join(lines).rstrip() + "\n"


def render_responsibility(matrix: dict[str, Any]) -> str:
    """Responsibility per control with the SSP starting text: ``responsibility-<env>.md``."""
    counts = Counter(item["responsibility"] for item in matrix["controls"])
    lines = [f"# Responsibility and SSP starting text: `{matrix['environment']}`", "", f"> {BASIS}", "",
             "Who is responsible for each control the rules cite (reviewed data: "
             "`compliant_bedrock/evidence/data/controls.tsv`), and a narrative generated from what this stack's "
             "template configures: every value between backticks is read from the template. Use it as the starting "
             "text of the control's SSP section; the organization completes what the template does not show.", "",
             "| Responsibility | Controls |", "| --- | ---: |"]
    lines += [f"| {r} | {counts.get(r, 0)} |" for r in ("customer", "shared", "inherited")]
    lines += ["", "| Control | Status | Responsibility | SSP starting text |", "| --- | --- | --- | --- |"]
    for item in matrix["controls"]:
        lines.append(f"| {item['control']} | {item['status']} | {item['responsibility']} | {_cell(item['narrative'])} |")
    return "\n".join(lines) + "\n"


def matrix_digest(matrix: dict[str, Any]) -> dict[str, Any]:
    """What the documents spanning every stack (baselines, POA&M, SDR, OSCAL) need of a matrix: each
    control's status, responsibility and accepted risks, and the failed rules. JSON-ready (a shard of a
    parallel synth hands it to the parent)."""
    controls: dict[str, Any] = {}
    for item in matrix["controls"]:
        entry: dict[str, Any] = {"status": item["status"], "why": item["why"]}
        if item.get("accepted_risks"):
            entry["accepted_risks"] = item["accepted_risks"]
        if item.get("vendor_justifications"):
            entry["vendor_justifications"] = item["vendor_justifications"]
        if item["status"] == "not-satisfied":
            entry["failed"] = sorted({ref["rule"] for ref in item["rules"]
                                      if any(r["result"] in ("non-compliant", "error") for r in ref.get("results", []))})
        controls[item["control"]] = entry
    rules = {rule_id: {"controls": entry["controls"], "tally": entry["tally"]}
             for rule_id, entry in matrix["rules"].items() if entry["results"]}
    #: Perimeter paths accepted with an approver: POA&M items like accepted findings.
    accepted_paths = [{"family": rule_id, "request": row["resource"], "controls": entry["controls"],
                       **{k: row[k] for k in ("reason", "accepted_by", "accepted_until") if row.get(k)}}
                      for rule_id, entry in matrix["rules"].items() if entry["pack"] == PERIMETER_PACK
                      for row in entry["results"] if row["result"] == "suppressed"]
    return {"totals": dict(matrix["totals"]), "controls": controls, "rules": rules,
            "gate_failed": matrix["gate"].get("failed", ""), "accepted_perimeter_paths": accepted_paths,
            "unchecked_resources": [u["label"] for u in matrix["unchecked_resources"]]}
