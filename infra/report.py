"""Evidence for auditors from the synth that deploys: ``python -m infra.report [cdk.out]``.

A thin wrapper around :mod:`compliant_bedrock.evidence.report` (which every synth through
:class:`compliant_bedrock.ComplianceGate` already runs): it adds the reference app's facts, the sentences
its environment settings (``config/*.yaml``) state about each component, and the unverified model ids.
Output is deterministic; exit codes: 0 written, 2 no usable assembly, a URI option that is not an absolute
URI, or evidence that cannot be dated (no positive SOURCE_DATE_EPOCH and no git commit).
"""

from __future__ import annotations

import sys

from .runtime import LIBRARY_DIR

# `python -m infra.report` (make report) starts no app: the editable install may point at another
# checkout, so the library beside this file is put first, as app.py does through runtime.prepare().
if sys.path[:1] != [LIBRARY_DIR]:
    sys.path.insert(0, LIBRARY_DIR)

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compliant_bedrock.evidence import report as _report
from compliant_bedrock.evidence.assembly import AssemblyError
from compliant_bedrock.evidence.facts import UNCONFIRMED, confirm_facts  # noqa: F401  (re-exported)
from compliant_bedrock.evidence.provenance import ProvenanceError
from compliant_bedrock.evidence.report import (  # noqa: F401  (re-exported for infra.parallel and tests)
    COMPLIANCE_DIR,
    STACK_FILE_PATTERNS,
    sdr_evidence,
    stack_file_names,
    stack_files,
    write_stack_evidence,
)
from compliant_bedrock.evidence.sdr import UNSET_OVERVIEW
from compliant_bedrock.model_standing import unverified_reason
from compliant_bedrock.models import model_destinations
from compliant_bedrock.private_link import FIPS_ENDPOINTS

from .app_factory import CONFIG_DIR_KEY, ROOT, cdk_json_context
from .config import ConfigError, EnvironmentSettings, load_environments


def _opt(obj: Any, path: str, default: Any = None) -> Any:
    """``obj.a.b`` or ``default``: settings fields come and go; the report must not break on them."""
    for name in path.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return default
    return obj


def environment_facts(env: EnvironmentSettings) -> dict[str, list[str]]:
    """Component id -> sentences stating how the environment's settings configure it."""
    on = {True: "on", False: "off"}
    models = [f"{m}{'' if unverified_reason(m.id, m.path, env.region) is None else ' (unverified id)'}"
              for m in env.models]
    clients = _opt(env, "client_cidrs") or [env.vpc.cidr]
    zones = list(_opt(env, "availability_zones", []))
    vpc = (f"existing VPC {env.vpc.vpc_id}" if _opt(env, "vpc.vpc_id")
           else f"new isolated VPC {env.vpc.cidr} across {len(zones)} AZs ({', '.join(zones)})")
    lock = f"Object Lock {env.object_lock.mode} {env.object_lock.days} days"
    org = _opt(env, "organization_id")
    logging_on = bool(_opt(env, "audit.invocation_logging", False))
    no_logging_reason = _opt(env, "audit.no_invocation_logging_reason")
    guardrail = ", ".join(f"{label} {value}" for label, value in (
        ("preset", _opt(env, "guardrail.preset")), ("PII action", _opt(env, "guardrail.pii_action")),
        ("tier", _opt(env, "guardrail.tier")),
        ("account-level enforcement", on.get(_opt(env, "guardrail.enforce_account_level")))) if value is not None)
    packs = ["NIST.800.53.R5", "AwsSolutions", "Bedrock", *(_opt(env, "compliance.extra_packs") or [])]
    mantle = [env.mantle_project_name] if env.model_ids("mantle") else []
    accepted = [f"Unguarded path {path} risk-accepted by {a.approved_by}: {a.reason} Compensating: {a.compensating}"
                for path, a in sorted(env.accept_unguarded.items())]
    residency = _opt(env, "residency")
    accepted.append(f"Data residency declared: {residency}; synth refuses a model whose destination regions in the "
                    "model catalog leave it, and destinations the catalog marks UNCERTAIN unless accepted."
                    if residency else "No data residency declared: destination regions are listed, not checked.")
    accepted += [f"UNCERTAIN destination regions of {model} accepted by {a.approved_by}: {a.reason}"
                 for model, a in sorted((_opt(env, "accept_uncertain_destinations") or {}).items())]
    return {
        "private-link": [
            f"Interface endpoints: {', '.join(env.endpoints)}; FIPS endpoints {on[bool(env.fips_endpoints)]}"
            + (f" (accepted as non-FIPS, no FIPS service exists: {', '.join(env.non_fips_endpoints)})."
               if _opt(env, "non_fips_endpoints") else "."),
            f"Endpoint security group admits TCP 443 from {', '.join(clients)} only; {vpc}.",
            (f"Endpoint policies admit principals of organization {org} only." if org
             else "Endpoint policies admit principals of the stack's account only."),
            f"VPC flow logs retained {env.log_retention_days} days.",
        ],
        "model-access": [
            f"Models allowed: {', '.join(models)}.",
            *([f"Mantle project (AWS::BedrockMantle::Project): {', '.join(mantle)}."] if mantle else []),
            *accepted,
        ],
        "audit-trail": [
            ("Multi-region CloudTrail trail created in this environment." if _opt(env, "audit.create_trail", True)
             else "No trail created here (audit.create_trail false: the account's trail comes from another "
                  "environment)."),
            f"Audit logs: {lock}; moved to Glacier Instant Retrieval after "
            f"{_opt(env, 'audit.archive_after_days', '?')} days; "
            + (f"replicated to {env.audit.replica_region} (deletes never replicated)."
               if env.audit.replica_region else "no cross-region replica."),
        ],
        "invocation-logging": [
            f"Model invocation logging {on[logging_on]}"
            + (f" ({no_logging_reason})" if not logging_on and no_logging_reason else "")
            + f"; log groups retained {env.log_retention_days} days; S3 delivery under {lock}.",
        ],
        "guardrail": [f"Guardrail {guardrail}." if guardrail else "Guardrail settings: defaults."],
        "compliance-gate": [
            f"Packs: {', '.join(packs)}"
            + (f"; data classification {_opt(env, 'tags.data_classification')}."
               if _opt(env, "tags.data_classification") else "."),
        ],
    }


def _settings(config_dir: Path | None) -> dict[str, EnvironmentSettings]:
    directory = config_dir or ROOT / str(cdk_json_context().get(CONFIG_DIR_KEY) or "config")
    try:
        return {env.name: env for env in load_environments(directory)}
    except ConfigError as err:
        print(f"report: settings not read ({err}); OSCAL statements will come from the templates only",
              file=sys.stderr)
        return {}


def _organizations(config_dir: Path | None, envs: list[EnvironmentSettings]) -> list:
    """The organizations of the config directory (none when it has none or they do not validate)."""
    from .org_config import load_organizations

    directory = config_dir or ROOT / str(cdk_json_context().get(CONFIG_DIR_KEY) or "config")
    try:
        return load_organizations(directory, envs)
    except ConfigError:
        return []


def deviations_of(settings: Mapping[str, EnvironmentSettings]) -> dict[str, list[dict[str, Any]]]:
    """Environment -> the deviations its configuration accepts that no suppression carries, for the POA&M: non-FIPS
    endpoints, model ids outside the catalog, UNCERTAIN destinations accepted under a data residency, an account no
    organization's policies bind. (``accept_unguarded``, ``no_invocation_logging_reason``, ``governance_reason`` and
    ``no_account_enforcement_reason`` become suppression reasons, which the POA&M lists already, approver included.)"""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, env in settings.items():
        items = found.setdefault(name, [])
        fips = [e for e in env.endpoints if e in FIPS_ENDPOINTS]
        for endpoint in env.non_fips_endpoints if env.fips_endpoints else []:
            items.append({
                "subject": f"non-fips/{endpoint}", "controls": ["SC-8(1)", "SC-13"],
                "source": "configuration non_fips_endpoints", "resource": f"{endpoint} interface endpoint",
                "weakness": f"The {endpoint} interface endpoint is not a FIPS endpoint: its TLS is not terminated by a "
                            "FIPS 140 validated endpoint" + (f", unlike {', '.join(fips)} here" if fips else ""),
                "reason": f"Accepted by name in the configuration (fips_endpoints: true, non_fips_endpoints: "
                          f"[{endpoint}]): AWS offers no FIPS endpoint service for {endpoint}. The configuration "
                          "names no approver.",
                "vendor_dependency": True,  # until AWS offers a FIPS endpoint for it
            })
        if not env.fips_endpoints:
            items.append({
                "subject": "non-fips/all", "controls": ["SC-8(1)", "SC-13"], "source": "configuration fips_endpoints",
                "weakness": f"Interface endpoints {', '.join(env.endpoints)} are not FIPS endpoints",
                "reason": "fips_endpoints: false in the configuration, which states no reason and names no approver.",
            })
        for model in env.models:  # strict by default: each id the catalog cannot vouch for is accepted in words
            acceptance = (_opt(env, "accept_unverified_models") or {}).get(model.id)
            why = unverified_reason(model.id, model.path, env.region)
            if why is None:
                continue
            items.append({
                "subject": f"unverified/{model.id}", "controls": ["AC-3", "SA-9(5)"],
                "source": "configuration accept_unverified_models", "resource": model.id,
                "weakness": f"Model id {model.id} (path {model.path}, called in {env.region}) {why}: the ARNs IAM "
                            "allows for it, its APIs and its destination regions follow from its shape or an "
                            "unconfirmed source, not from AWS documentation the catalog holds",
                "reason": acceptance.reason if acceptance is not None else
                "No acceptance in the configuration (settings built outside infra.config's validation).",
                **({"accepted_by": acceptance.approved_by} if acceptance is not None else {}),
            })
        for model_id, acceptance in sorted((_opt(env, "accept_uncertain_destinations") or {}).items()):
            model = next(m for m in env.models if m.id == model_id)
            dest = model_destinations(model_id, model.path, env.region)
            items.append({
                "subject": f"uncertain-destinations/{model_id}", "controls": ["AC-4", "SA-9(5)"],
                "source": "configuration accept_uncertain_destinations", "resource": model_id,
                "weakness": f"The destination regions of {model_id} called in {env.region} are UNCERTAIN in the model "
                            f"catalog ({dest.basis}; source {', '.join(dest.sources) or 'none'}): prompts and "
                            f"completions may be processed in {dest.describe()}, or in regions the catalog does not list",
                "reason": f"{acceptance.reason} (data_residency: {env.residency})",
                "accepted_by": acceptance.approved_by,
            })
        if _opt(env, "no_organization_reason"):
            items.append({
                "subject": "no-organization", "controls": ["AC-3", "AC-6", "SC-7"],
                "source": "configuration no_organization_reason",
                "weakness": "No organization's policies (SCPs, RCPs) bind this environment's account: its account-wide "
                            "controls rest on its own stack, which binds only the roles its policies are attached to",
                "reason": str(env.no_organization_reason),
            })
    return {name: items for name, items in found.items() if items}


def poam_plans_of(settings: Mapping[str, EnvironmentSettings]) -> dict[str, dict[str, Any]]:
    """Environment -> its ``poam`` settings as plain data (dates as YYYY-MM-DD), where it sets any."""
    plans = {name: env.poam.model_dump(mode="json", exclude_none=True) for name, env in settings.items()
             if _opt(env, "poam") is not None}
    return {name: plan for name, plan in plans.items() if plan.get("point_of_contact") or plan.get("items")}


def unverified_models(settings: Mapping[str, EnvironmentSettings]) -> dict[str, list[str]]:
    """Environment -> its model ids the catalog cannot vouch for (unknown, or UNCERTAIN there): each accepted in
    ``accept_unverified_models``, since config refuses them otherwise."""
    return {name: [m.id for m in env.models if unverified_reason(m.id, m.path, env.region) is not None]
            for name, env in settings.items()}


def config_files(config_dir: Path | None = None) -> list[Path]:
    """The configuration files of ``config_dir`` (default: cdk.json's config directory), for provenance.json."""
    directory = config_dir or ROOT / str(cdk_json_context().get(CONFIG_DIR_KEY) or "config")
    return sorted(p for pattern in ("*.yaml", "*.yml") for p in directory.rglob(pattern) if p.is_file())


def generate(outdir: Path, *, config_dir: Path | None = None, dest: Path | None = None,
             settings: dict[str, EnvironmentSettings] | None = None,
             written_by_shards: Mapping[str, Mapping[str, Any]] | None = None,
             package_overview_uri: str = UNSET_OVERVIEW, perimeter_note: str | None = None,
             evidence_base_uri: str | None = None, source_dir: Path | None = None) -> list[Path]:
    """:func:`compliant_bedrock.evidence.report.generate` with the facts of the environments' settings
    (``settings``, else read from ``config_dir`` / cdk.json's config directory); that directory's files are
    hashed into provenance.json."""
    organizations: list = []
    if settings is None:
        settings = _settings(config_dir)
        organizations = _organizations(config_dir, list(settings.values()))
    facts = facts_of(settings, organizations)  # confirmed against the templates where the model is built
    return _report.generate(outdir, dest=dest, facts=facts, unverified=unverified_models(settings),
                            written_by_shards=written_by_shards, package_overview_uri=package_overview_uri,
                            perimeter_note=perimeter_note, deviations=deviations_of(settings),
                            evidence_base_uri=evidence_base_uri, source_dir=source_dir,
                            config_files=config_files(config_dir), poam_plans=poam_plans_of(settings))


def facts_of(settings: Mapping[str, EnvironmentSettings],
             organizations: Sequence[Any] = ()) -> dict[str, dict[str, list[str]]]:
    """Environment -> component -> sentences, for the OSCAL statements; with ``organizations``
    (``OrganizationSettings``), which organization's policies bind each environment's account."""
    facts = {name: environment_facts(env) for name, env in settings.items()}
    for name, env in settings.items():
        org = next((o for o in organizations if name in o.covers_environments), None)
        if org is not None:
            policies = ["SCPs compliant-bedrock-inference and compliant-bedrock-audit-plane-*"]
            policies += ["RCP compliant-bedrock-audit-resources"] if org.rcp.enabled else []
            policies += ["BEDROCK_POLICY compliant-bedrock-guardrail"] if org.guardrail.enforce else []
            sentence = (f"Account-wide controls: organization {org.organization_id} ({org.partition}), stack "
                        f"{org.stack_name} deployed from management account {org.management_account}: "
                        f"{', '.join(policies)}" + (", the organization trail" if org.trail.enabled else "") + ".")
        elif organizations and env.no_organization_reason:
            sentence = f"No organization's policies bind this account: {env.no_organization_reason}"
        else:
            continue
        facts[name]["compliance-gate"].append(sentence)
    return facts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", default="cdk.out", help="the synthesized cloud assembly (default cdk.out)")
    parser.add_argument("--config", type=Path, default=None,
                        help="environment settings directory (default: cdk.json's, else ./config)")
    parser.add_argument("--dest", type=Path, default=None, help="where to write (default <outdir>/compliance)")
    parser.add_argument("--package-overview-uri", default=UNSET_OVERVIEW,
                        help="URI of the provider's Certification Package Overview (FedRAMP SDR "
                             "certificationPackageOverviewUri); default: a URN saying it was not provided")
    parser.add_argument("--evidence-base-uri", default=None,
                        help="absolute URI where the evidence files are published; the SDRs' evidence locations are "
                             "built on it (default: a URN per file saying they are not published)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from compliant_bedrock.evidence.formats import is_uri
    from compliant_bedrock.evidence.sdr import evidence_base

    try:
        evidence_base(args.evidence_base_uri)
        if not is_uri(args.package_overview_uri):
            raise ValueError(f"--package-overview-uri {args.package_overview_uri!r} is not an absolute URI (RFC 3986)")
    except ValueError as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    try:
        written = generate(Path(args.outdir), config_dir=args.config, dest=args.dest,
                           package_overview_uri=args.package_overview_uri, evidence_base_uri=args.evidence_base_uri)
    except (AssemblyError, ProvenanceError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    where = written[0].parent if written else args.outdir
    print(f"report: {len(written)} files in {where} ({time.perf_counter() - started:.2f} s): "
          + ", ".join(p.name for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
