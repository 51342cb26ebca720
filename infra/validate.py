"""Every configuration problem at once: ``python -m infra.cli validate`` (``make validate``) and a failed synth.

A platform team that fixes one problem per synth learns the rules in rounds; this collects the problems of every
environment file (``config/*.yaml``) and organization file (``config/organization/*.yaml``) and of the rules across
them in one pass, one line each (file, field path, problem, fix). Problems exit 2. Warnings never fail: they name
what is legal but likely a mistake (two environments of one organization with overlapping VPC CIDRs cannot be
routed to each other, by peering or a transit gateway, later).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import EnvironmentSettings, read_environments


@dataclass
class Findings:
    """What validation found: problems (exit 2) and warnings (printed, never failing)."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 0

    def lines(self) -> list[str]:
        """One line per finding, errors first, then a count."""
        return ([f"error: {p}" for p in self.problems] + [f"warning: {w}" for w in self.warnings]
                + [f"{len(self.problems)} problem(s), {len(self.warnings)} warning(s)"])


def collect(config_dir: Path) -> Findings:
    """Validate every environment and organization file of ``config_dir`` and the rules across them."""
    from .config import ConfigError
    from .org_config import load_organizations

    envs, problems, unparsed = read_environments(config_dir)
    findings = Findings(problems=list(problems))
    try:  # with no environment that validates, coverage would name every covered one as unknown: files only
        load_organizations(config_dir, [env for _, env in envs] if envs else None, unparsed=unparsed)
    except ConfigError as err:
        findings.problems.extend(err.problems)
    findings.warnings = cidr_overlaps(envs, organization_members(config_dir))
    return findings


def organization_members(config_dir: Path) -> dict[str, list[str]]:
    """Organization id -> the environments its file covers, from every organization file that parses."""
    from .config import ConfigError
    from .org_config import ORGANIZATION_DIR, _parse

    members: dict[str, list[str]] = {}
    directory = config_dir / ORGANIZATION_DIR
    for path in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
        try:
            settings = _parse(path)
        except ConfigError:
            continue  # reported by collect
        members.setdefault(settings.organization_id, []).extend(settings.covers_environments)
    return members


def cidr_overlaps(envs: list[tuple[str, EnvironmentSettings]], members: dict[str, list[str]]) -> list[str]:
    """A warning per pair of environments of one organization (its file covers both, or both name it in
    ``organization_id``) whose VPC CIDRs overlap."""
    organizations: dict[str, set[str]] = {org: set(names) for org, names in members.items()}
    for _, env in envs:
        if env.organization_id:
            organizations.setdefault(env.organization_id, set()).add(env.name)
    by_name: dict[str, tuple[str, Any]] = {env.name: (source, env) for source, env in envs}
    warnings: list[str] = []
    seen: set[tuple[str, str]] = set()
    for org in sorted(organizations):
        names = sorted(n for n in organizations[org] if n in by_name)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                (source, env), (other_source, other) = by_name[first], by_name[second]
                if (first, second) in seen:
                    continue
                if ipaddress.ip_network(env.vpc.cidr).overlaps(ipaddress.ip_network(other.vpc.cidr)):
                    seen.add((first, second))
                    warnings.append(
                        f"{source}: environment {first!r}: vpc.cidr: {env.vpc.cidr} overlaps {other.vpc.cidr} of "
                        f"environment {second!r} ({other_source}), both in organization {org}: their networks "
                        "cannot be peered or joined by a transit gateway later; give each environment its own range")
    return warnings
