"""One way to build the app, shared by ``app.py``, the tests and the benchmark.

Only the CDK CLI passes ``cdk.json`` context to an app. ``python app.py`` and pytest load it here
themselves, so the feature flags (partition literals, S3 defaults, ...) are the same everywhere
and a stack cannot pass under test and fail under ``cdk synth``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR_KEY = "compliant-bedrock:config-dir"


def cdk_json_context(root: Path = ROOT) -> dict[str, Any]:
    """The ``context`` block of ``cdk.json``: feature flags and the config directory."""
    return dict(json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def cli_context() -> dict[str, Any]:
    """Context the CDK CLI hands to the app (``-c env=NAME``): an env var, or a file when large."""
    overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
    if overflow:
        return dict(json.loads(Path(overflow).read_text(encoding="utf-8")))
    return dict(json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}"))


def selected_environments(context: dict[str, Any] | None = None, config_dir: Path | None = None) -> list:
    """The validated environments this run synthesizes (all, or ``-c env=NAME``)."""
    from .config import load_environments

    merged = {**cdk_json_context(), **cli_context(), **(context or {})}
    directory = config_dir or ROOT / str(merged.get(CONFIG_DIR_KEY) or "config")
    only = merged.get("env")
    return load_environments(directory, only=str(only) if only else None)


def selected_organizations(context: dict[str, Any] | None = None, config_dir: Path | None = None,
                           envs: list | None = None) -> list:
    """The organizations this run synthesizes: one per ``<config dir>/organization/*.yaml``; with
    ``-c env=NAME``, only the one that covers that environment (the perimeter proof needs its SCPs)."""
    from .config import load_environments
    from .org_config import load_organizations

    merged = {**cdk_json_context(), **cli_context(), **(context or {})}
    directory = config_dir or ROOT / str(merged.get(CONFIG_DIR_KEY) or "config")
    only = merged.get("env")
    # coverage is checked against every environment (not only a selected one): the exemptions name their accounts
    settings = load_organizations(directory, envs if envs is not None and not only else load_environments(directory))
    return [s for s in settings if str(only) in s.covers_environments] if only else settings


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None, config_dir: Path | None = None,
              compliance: bool = True, envs: list | None = None, organizations: list | None = None,
              nag: Any = None):
    """Validate configuration, then build every selected environment's stack in one App.

    Configuration is validated completely before any construct exists, so bad input never
    leaves a half-built app behind. With ``compliance`` (the default) every stack gets the
    cdk-nag packs of its environment: attached now, or, given ``nag`` (a
    ``compliance.nag_cache.NagPlan``), planned, for ``nag.synth(app)`` to run where no kept result
    matches. Raises ``infra.config.ConfigError``.
    """
    import aws_cdk as cdk

    from compliant_bedrock.compliance import attach_packs

    from .iam_events_stack import STACK_SUFFIX, IamEventsStack
    from .parallel import shard
    from .replica_stack import ReplicaStack
    from .stack import ReferenceStack

    merged = {**cdk_json_context(), **cli_context(), **(context or {})}
    if envs is None:  # ``envs``: already validated by the caller (the CLI parses the config once)
        envs = selected_environments(context, config_dir)
    if organizations is None:  # not given: from the config directory (``[]``: none)
        organizations = selected_organizations(context, config_dir, envs)
    # The weekly verification's read-only role, one per verified account (in the first of its environments by
    # name), decided over every environment before a shard takes its share.
    read_roles = _read_roles(organizations)
    share = shard()
    if share is not None:  # a worker of infra.parallel: every n-th environment; the organizations in share 0 only
        envs = envs[share[0]::share[1]]
        organizations = organizations if share[0] == 0 else []
    # Only now: creating the App already writes to the output directory.
    app = cdk.App(context=merged, outdir=outdir)
    for env in envs:
        stack = ReferenceStack(app, env.stack_name, settings=env)
        stacks = [stack]
        if env.audit.replica_region:
            replica = ReplicaStack(app, f"{env.stack_name}-replica", settings=env)
            stack.add_stack_dependency(replica, "audit replicas must exist before replication is configured")
            stacks.append(replica)
        if env.name in read_roles:
            from .verification_stack import add_read_role

            add_read_role(stack, read_roles[env.name], env.verify.role_arn)
        if env.iam_events_region:  # IAM's events arrive in its partition's IAM region only
            stacks.append(IamEventsStack(app, f"{env.stack_name}{STACK_SUFFIX}", settings=env))
        if compliance:
            for each in stacks:
                (nag.add if nag is not None else attach_packs)(each, env.compliance.extra_packs)
    if organizations:
        from .organization_stack import OrganizationStack

        for organization in organizations:
            org_stacks = [OrganizationStack(app, settings=organization)]
            if organization.verification is not None:
                from .verification_stack import VerificationStack

                org_stacks.append(VerificationStack(app, settings=organization))
            if compliance:
                for each in org_stacks:
                    (nag.add if nag is not None else attach_packs)(each)
    return app


def _read_roles(organizations: list) -> dict[str, Any]:
    """environment name -> its organization, for the one environment per verified account that creates the role."""
    owners: dict[str, Any] = {}
    seen: set[str] = set()
    for organization in organizations:
        if organization.verification is None:
            continue
        for env in organization.covered_environments():
            if env.account not in seen and env.verify is not None and env.verify.role_arn:
                seen.add(env.account)
                owners[env.name] = organization
    return owners


def rule_contexts(app) -> dict[str, Any]:
    """Per-stack settings the Bedrock rule pack compares against."""
    from .iam_events_stack import IamEventsStack
    from .replica_stack import ReplicaStack
    from .stack import ReferenceStack

    stacks = ReferenceStack | ReplicaStack | IamEventsStack
    return settings_contexts([child.settings for child in app.node.children if isinstance(child, stacks)])


def settings_contexts(envs: list) -> dict[str, Any]:
    """Stack name -> the Bedrock pack's settings, for each environment's stacks."""
    from compliant_bedrock.compliance import RuleContext

    contexts = {}
    for env in envs:
        context = RuleContext(min_log_retention_days=env.log_retention_days,
                              min_object_lock_days=env.object_lock.days)
        contexts[env.stack_name] = context
        contexts[f"{env.stack_name}-replica"] = context
        contexts[f"{env.stack_name}-iam-events"] = context
    return contexts
