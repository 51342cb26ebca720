"""The Bedrock pack in an app that runs cdk-nag itself (2.x) or CDK's policy validation (cdk-nag 3.x).

Both run the pack over the *synthesized* templates, as the gate does: the rules follow intrinsics and
cross-resource references, and they must see what CloudFormation will deploy, escape hatches included.

* cdk-nag 2.x: :func:`run_bedrock_pack` after ``app.synth()``. A NagPack aspect would run before the
  template exists: the construct tree's public API gives the properties as constructed but not the raw
  overrides (``add_property_override``, ``add_override``), the usual way a wildcard reaches a policy, so an
  aspect would pass what CloudFormation then deploys open. The function writes
  ``Bedrock--<Stack>-NagReport.json`` next to cdk-nag's reports (same schema), honours
  ``NagSuppressions`` (their ``cdk_nag.rules_to_suppress`` metadata is in the template), prints each
  unsuppressed finding as cdk-nag prints an error, and exits 1 like a cdk-nag error fails ``cdk synth``.
* cdk-nag 3.x / CDK policy validation: :class:`BedrockValidationPlugin`, for
  ``Validations.of(app).add_plugins(...)`` or ``App(policy_validation_beta1=[...])``. CDK calls it after
  synthesis with the template paths; its violations (rule, resources, fix) go to CDK's validation report
  and fail synth. It honours suppressions in the template's ``cdk_nag.rules_to_suppress`` metadata (what
  ``NagSuppressions`` writes); it does not read CDK's ``Validations.of(c).acknowledge(...)`` records.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from .assembly_facts import read_facts
from .pack import _FAILING, PACK_NAME, RULES, RuleContext, RuleResult, evaluate
from .registry import SuppressionError
from .template import Template, region_of

#: The plugin's violation for a suppression the registry refuses (``compliance.registry``).
REGISTRY_RULE = f"{PACK_NAME}-SuppressionRegistry"


def run_bedrock_pack(assembly: cdk.cx_api.CloudAssembly | str | Path,
                     contexts: Mapping[str, RuleContext] | None = None, *, fail: bool = True) -> list[Any]:
    """Run the Bedrock pack over a synthesized assembly, the way cdk-nag 2.x reports a pack.

    ``assembly``: what ``app.synth()`` returned, or its directory. ``contexts``: stack name ->
    :class:`compliant_bedrock.compliance.RuleContext` (default settings for the others). Writes ``Bedrock--<Stack>-NagReport.json``
    per stack, prints ``[Error at <path>] <rule>: <info>`` on stderr for every unsuppressed non-compliant
    (or not evaluable) resource, and with ``fail`` exits the process with status 1 when there is one (a
    ``cdk synth`` then fails, as on a cdk-nag error). Returns the blocking findings (``fail=False``).
    """
    from .gate import REPORT_SUFFIX, blocking, read_findings  # cdk-nag 2.x's API: only on this path

    outdir = Path(assembly if isinstance(assembly, str | Path) else assembly.directory)
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise ValueError(f"run_bedrock_pack: {outdir} is not a cloud assembly (no manifest.json); pass what "
                         "app.synth() returned or its outdir")
    stacks = []
    facts = read_facts(outdir)  # the other stacks' trails, SCPs and single things: cross-stack rules, as in the gate
    for name, artifact in sorted(json.loads(manifest_file.read_text(encoding="utf-8")).get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        body = json.loads((outdir / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
        metadata = dict(artifact.get("metadata") or {})
        if artifact.get("additionalMetadataFile"):  # where CDK writes it now
            metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text(encoding="utf-8")))
        template = Template(name, _with_paths(body, metadata), region_of(artifact.get("environment")))
        try:
            results = evaluate(template, replace((contexts or {}).get(name, RuleContext()), stack=name, assembly=facts))
        except SuppressionError as err:  # bad input, not a finding: one line, exit 2 (a pipeline tells them apart)
            print(f"[Error at {name}] {err}", file=sys.stderr)
            if fail:
                raise SystemExit(2) from None
            raise
        lines = [r.report_line() for r in sorted(results, key=lambda r: (r.rule_id, r.resource_path))]
        report = outdir / f"{PACK_NAME}--{name}{REPORT_SUFFIX}"
        report.write_text(json.dumps({"lines": lines}, indent=1) + "\n", encoding="utf-8")
        stacks.append(name)
    errors = [f for f in blocking(read_findings(outdir, stacks)) if f.pack == PACK_NAME]
    for f in errors:
        info = f.info if f.compliance != "UNKNOWN" else f"{f.info} (the rule could not evaluate this resource)"
        print(f"[Error at /{f.resource.lstrip('/')}] {f.rule_id}: {info} Fix: {RULES[f.rule_id].fix}.",
              file=sys.stderr)
    if errors and fail:
        print(f"Found errors: {len(errors)} Bedrock pack finding(s)", file=sys.stderr)
        raise SystemExit(1)
    return errors


@jsii.implements(cdk.IPolicyValidationPlugin, cdk.IPolicyValidationPluginBeta1)
class BedrockValidationPlugin:
    """The Bedrock pack as a CDK policy-validation plugin (what cdk-nag 3.x packs are).

    ``contexts``: stack (artifact) name -> :class:`compliant_bedrock.compliance.RuleContext`; ``default_context`` for the others.
    A resource is reported when a rule finds it non-compliant or cannot evaluate it, unless a
    ``cdk_nag.rules_to_suppress`` entry (``NagSuppressions``, or this package's ``suppress``) names the rule.
    """

    def __init__(self, contexts: Mapping[str, RuleContext] | None = None,
                 default_context: RuleContext | None = None) -> None:
        self._contexts = dict(contexts or {})
        self._default = default_context or RuleContext()

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str | None:
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        from . import rules  # noqa: F401  (registers the rules)

        return sorted(RULES)

    def validate(self, context: Any) -> cdk.PolicyValidationPluginReport:
        by_rule: dict[str, list[cdk.PolicyViolatingResource]] = {}
        refused: list[cdk.PolicyViolation] = []
        for template_path in context.template_paths:
            body = json.loads(Path(template_path).read_text(encoding="utf-8"))
            name = Path(template_path).name.removesuffix(".template.json")
            template = Template(name, body)
            logical_ids = {r.path: r.logical_id for r in template.resources.values()}
            try:
                found_here = violations(template, self._contexts.get(name, self._default))
            except SuppressionError as err:  # a suppression the registry refuses fails synth like a finding
                refused.append(cdk.PolicyViolation(
                    rule_name=REGISTRY_RULE, description=str(err), severity="error",
                    fix="Give the suppression a reason of at least 8 words, on the resource it concerns; a risk "
                        "decision takes accept_risk(...) with a RiskAcceptance",
                    violating_resources=[cdk.PolicyViolatingResource(
                        resource_logical_id=name, template_path=str(template_path), locations=["Metadata"])]))
                continue
            for result in found_here:
                logical_id = logical_ids.get(result.resource_path, result.resource_path)
                location = f"Resources/{logical_id}" if logical_id in template.resources else "Resources"
                by_rule.setdefault(result.rule_id, []).append(cdk.PolicyViolatingResource(
                    resource_logical_id=logical_id, template_path=str(template_path), locations=[location]))
        found = [
            cdk.PolicyViolation(
                rule_name=rule_id, description=RULES[rule_id].info, fix=RULES[rule_id].fix,
                severity="error", violating_resources=resources,
                rule_metadata={"controls": ", ".join(RULES[rule_id].controls)},
            )
            for rule_id, resources in sorted(by_rule.items())
        ]
        found += refused
        return cdk.PolicyValidationPluginReport(success=not found, violations=found)


def _with_paths(body: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The template with each resource's construct path (what cdk-nag reports), from the manifest's
    ``aws:cdk:logicalId`` entries where the template has no ``aws:cdk:path`` (an app run without the
    CLI's path metadata)."""
    paths = {entry.get("data"): path.lstrip("/") for path, entries in metadata.items() for entry in entries
             if entry.get("type") == "aws:cdk:logicalId"}
    resources = {}
    for logical_id, resource in (body.get("Resources") or {}).items():
        meta = resource.get("Metadata") or {}
        if "aws:cdk:path" not in meta and logical_id in paths:
            resource = {**resource, "Metadata": {**meta, "aws:cdk:path": paths[logical_id]}}
        resources[logical_id] = resource
    return {**body, "Resources": resources}


def violations(template: Template, ctx: RuleContext) -> list[RuleResult]:
    """Unsuppressed failing results of the pack over one template ."""
    return [r for r in evaluate(template, ctx) if r.compliance in _FAILING and not r.suppression_reason]
