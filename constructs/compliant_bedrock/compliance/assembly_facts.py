"""What one stack's rules need to know about the other stacks of the assembly: the trails, the SCPs, and who owns
what an account has one of (its multi-region trail; per region, its enforced guardrail and invocation logging).

A rule judges one template, but whether Mantle inference is recorded depends on more than that template:
on whether the organization's SCPs let anybody in its account call Mantle at all, and on which trail
records the account (a stack without a trail of its own names one: the environment that creates the
account's trail, or the organization trail). The gate reads these facts from the assembly once and hands
them to every rule in its :class:`~compliant_bedrock.compliance.pack.RuleContext` (``assembly``); a rule
run without them (a lone template, cdk-nag 3.x's plugin) judges its own template only, and says so.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .template import Template, as_list, possible_strings, region_of

#: Template metadata of an organization stack (``perimeter.discovery.ORGANIZATION_METADATA``).
ORGANIZATION_METADATA = "compliant-bedrock:organization"
_MANTLE_ACTIONS = ("bedrock-mantle:createinference", "bedrock-mantle:*")
_ACCOUNT = re.compile(r"^arn:[^:]+:iam::(\d{12}):")
_ENVIRONMENT_TAG = "Environment"


@dataclass(frozen=True)
class TrailFacts:
    """A trail of the assembly: where it is, whether it records the whole organization, what it selects."""

    stack: str
    name: str
    account: str | None
    partition: str | None
    organization: bool
    selectors: tuple[dict[str, Any], ...]
    #: Whether it records every region (``IsMultiRegionTrail``), so EventBridge in each region sees its events.
    multi_region: bool = False


@dataclass(frozen=True)
class OrganizationFacts:
    """An organization stack's reach (partition, covered environments, StackSets) and its Mantle denial."""

    stack: str
    partition: str | None
    #: Environments its policies bind (None: every environment of its partition).
    covers: frozenset[str] | None
    #: Whether an SCP denies Mantle inference (Resource ``*``) to every principal but named exemptions.
    denies_mantle: bool
    #: Accounts of the principals those denies exempt: Mantle stays possible there.
    mantle_accounts: frozenset[str]
    trail: TrailFacts | None = None


@dataclass(frozen=True)
class StackFacts:
    environment: str
    account: str | None
    partition: str | None
    #: From the manifest's environment; None when the stack is environment-agnostic there.
    region: str | None = None
    #: What the stack owns of the things an account (or an account and region) has one of: kind -> count
    #: (``rules.one_per_account.owned``: multi-region trails, enforced guardrails, invocation logging).
    owns: Mapping[str, int] = field(default_factory=dict)

    @property
    def resolved_partition(self) -> str | None:
        """The region's partition when the region is known (exact), else the one its ARNs name (a guess)."""
        if self.region is None:
            return self.partition
        from .perimeter.placeholders import partition_of

        return partition_of(self.region)


@dataclass(frozen=True)
class AssemblyFacts:
    stacks: dict[str, StackFacts] = field(default_factory=dict)
    trails: tuple[TrailFacts, ...] = ()
    organizations: tuple[OrganizationFacts, ...] = ()

    def organization_of(self, stack: str) -> OrganizationFacts | None:
        """The organization whose policies bind ``stack``'s account (its partition, its covered environment)."""
        facts = self.stacks.get(stack)
        if facts is None:
            return None
        for org in self.organizations:
            if org.stack == stack or (org.partition is not None and org.partition != facts.partition):
                continue
            if org.covers is None or facts.environment in org.covers:
                return org
        return None

    def mantle_denied(self, stack: str) -> bool:
        """True when the SCPs binding ``stack``'s account deny Mantle inference to every principal there."""
        org = self.organization_of(stack)
        account = self.stacks[stack].account if stack in self.stacks else None
        return org is not None and org.denies_mantle and account is not None and account not in org.mantle_accounts

    def covering_trail(self, stack: str, declared: str | None) -> TrailFacts | None:
        """The trail that records a stack without one of its own: the declared environment's trail (same account),
        a declared trail of this assembly by name or ARN, or the organization trail of the organization that binds
        the stack's account. None: not in this assembly (then only the declaration says so)."""
        facts = self.stacks.get(stack)
        if facts is None:
            return None
        for trail in self.trails:
            if trail.organization or trail.stack == stack:
                continue
            same_account = None in (trail.account, facts.account) or trail.account == facts.account
            owner = self.stacks.get(trail.stack)
            if declared and same_account and ((owner and owner.environment == declared) or declared == trail.name
                                              or declared.endswith(f":trail/{trail.name}")):
                return trail
        org = self.organization_of(stack)
        if org is not None and org.trail is not None:
            return org.trail
        return None

    def earlier_owner(self, stack: str, kind: str, *, per_region: bool) -> tuple[str, str] | None:
        """The first stack before ``stack`` (in name order) that owns a ``kind`` where ``stack`` could deploy too:
        (its name, why they could meet). An account or region the manifest does not name (an environment-agnostic
        stack) could be any of its partition's, as the config check assumes for an environment without ``account``;
        so an agnostic owner meets every other owner of its partition, and is judged alone only when alone."""
        facts = self.stacks.get(stack)
        if facts is None or not facts.owns.get(kind):
            return None
        for name, other in self.stacks.items():
            if name == stack:
                return None
            if not other.owns.get(kind):
                continue
            why = _could_meet(facts, other, per_region=per_region)
            if why is not None:
                return name, why
        return None


def _could_meet(a: StackFacts, b: StackFacts, *, per_region: bool) -> str | None:
    """Why two stacks could deploy into one account (and region, with ``per_region``); None if they cannot."""
    pa, pb = a.resolved_partition, b.resolved_partition
    if pa is not None and pb is not None and pa != pb:
        return None
    if per_region and None not in (a.region, b.region) and a.region != b.region:
        return None
    if None not in (a.account, b.account) and a.account != b.account:
        return None
    unplaced = [what for what, value in (("account", a.account), ("account", b.account), ("region", a.region),
                                         ("region", b.region)) if value is None and (per_region or what == "account")]
    if not unplaced:
        return f"both deploy to {a.account}" + (f"/{a.region}" if per_region else "")
    return (f"either names no {' or '.join(dict.fromkeys(unplaced))} (environment-agnostic), so both could deploy to "
            "the same one")


def _partition(template: dict[str, Any], environment: str | None) -> str | None:
    found = Counter(re.findall(r"arn:(aws(?:-[a-z]+)*):", json.dumps(template.get("Resources") or {})))
    return found.most_common(1)[0][0] if found else None


def _environment(template: dict[str, Any], name: str) -> str:
    votes: Counter[str] = Counter()
    for resource in (template.get("Resources") or {}).values():
        tags = (resource.get("Properties") or {}).get("Tags")
        for tag in tags if isinstance(tags, list) else []:
            if isinstance(tag, dict) and tag.get("Key") == _ENVIRONMENT_TAG and isinstance(tag.get("Value"), str):
                votes[tag["Value"]] += 1
    return votes.most_common(1)[0][0] if votes else name.removeprefix("CompliantBedrock-")


def _scp_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in (template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Organizations::Policy" or props.get("Type") != "SERVICE_CONTROL_POLICY":
            continue
        content = props.get("Content")
        try:
            document = json.loads(content) if isinstance(content, str) else content
        except ValueError:
            continue
        found += [s for s in as_list((document or {}).get("Statement")) if isinstance(s, dict)]
    return found


def _mantle_denial(template: dict[str, Any]) -> tuple[bool, frozenset[str]]:
    """Whether the SCPs deny Mantle inference to every principal but named ones, and the accounts of the principals
    every such deny exempts (a principal must escape each deny that covers CreateInference: the intersection)."""
    from .rules.organization import exemptions

    denies = [s for s in _scp_statements(template) if s.get("Effect") == "Deny"
              and "*" in possible_strings(s.get("Resource"))
              and any(str(a).lower() in _MANTLE_ACTIONS for a in as_list(s.get("Action")))]
    if any(not s.get("Condition") for s in denies):
        return True, frozenset()  # denied to everybody
    by_principal = [s for s in denies if exemptions(s)]
    if not by_principal:
        return False, frozenset()
    accounts: set[str] | None = None
    for statement in by_principal:
        exempt = {m.group(1) for arn in exemptions(statement) if (m := _ACCOUNT.match(arn))}
        accounts = exempt if accounts is None else accounts & exempt
    return True, frozenset(accounts or ())


def read_facts(outdir: Path) -> AssemblyFacts:
    """The assembly's trails, organizations and stacks (account, region, partition, environment, what they own of
    an account's single things), from its manifest."""
    from .rules.one_per_account import owned

    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks: dict[str, StackFacts] = {}
    trails: list[TrailFacts] = []
    organizations: list[OrganizationFacts] = []
    for name, artifact in sorted((manifest.get("artifacts") or {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
        account = str(artifact.get("environment", "")).removeprefix("aws://").split("/")[0]
        account = account if account.isdigit() else None
        partition = _partition(template, None)
        stacks[name] = StackFacts(_environment(template, name), account, partition,
                                  region_of(artifact.get("environment")), owned(Template(name, template)))
        own_trails = []
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") != "AWS::CloudTrail::Trail":
                continue
            props = resource.get("Properties") or {}
            own_trails.append(TrailFacts(name, str(props.get("TrailName", "")), account, partition,
                                         props.get("IsOrganizationTrail") is True,
                                         tuple(s for s in as_list(props.get("AdvancedEventSelectors"))
                                               if isinstance(s, dict)),
                                         "true" in possible_strings(props.get("IsMultiRegionTrail"))))
        trails += own_trails
        scope = (template.get("Metadata") or {}).get(ORGANIZATION_METADATA)
        if isinstance(scope, dict):
            covers = scope.get("covers_environments")
            denies, accounts = _mantle_denial(template)
            organizations.append(OrganizationFacts(
                name, scope.get("partition"), frozenset(covers) if isinstance(covers, list) else None, denies,
                accounts, next((t for t in own_trails if t.organization), None)))
    return AssemblyFacts(stacks, tuple(trails), tuple(organizations))
