"""``python -m infra.verify`` (``make verify``): the deployed twin of the synth-time gate.

The gate proves the templates; an assessor also needs to know the account is still in that state. This reads each
environment's deployed stack (and its organization's policies) with the caller's credentials, compares every
resource the evidence made claims about with the template the same code synthesizes now, runs the Bedrock rule
pack over the template with the live policy documents that differ substituted, and writes
``cdk.out/compliance/verified-<env>.json`` and ``.md``, dated by the clock (this is evidence about live state) and
naming the identity that read it. Nothing is written into the account.

Exit codes: 0 every claim confirmed (or not verifiable read-only, said so); 1 a claim contradicted; 2 bad input
(unknown environment, no synthesized template, no credentials, credentials of another account); 3 a read failed
(permissions, expired credentials, an API error).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .verify_checks import (
    CONFIRMED,
    CONTRADICTED,
    NOT_VERIFIABLE,
    STACK_CHECKS,
    UNREADABLE,
    Claim,
    Reader,
    ReadFailed,
    check_drift,
    check_organization_policies,
    check_stack,
)
from .verify_perimeter import prove_live
from .verify_template import Deployed, matches, resolve

#: boto3 session factory (``boto3.Session``); tests pass one bound to a moto server.
SessionFactory = Callable[..., Any]


class BadInput(Exception):
    """Exit 2: the message names what to fix."""


class CannotRead(Exception):
    """Exit 3: AWS refused or failed a read the verification cannot do without."""


@dataclass
class Access:
    """How to reach AWS: the session factory, an endpoint override (a test server) and a hook on every client."""

    session_factory: SessionFactory | None = None
    endpoint_url: str | None = None
    prepare_client: Callable[[str, Any], Any] | None = None
    #: A ``botocore.config.Config`` for every client (retries, timeouts); None: botocore's defaults.
    client_config: Any = None
    sessions: dict[tuple[Any, str], Any] = field(default_factory=dict)

    def session(self, verify: Any, region: str) -> Any:
        """A session for an environment's ``verify`` block: its profile, the role it names, or the default chain."""
        key = (verify, region)
        if key in self.sessions:
            return self.sessions[key]
        factory = self.session_factory
        if factory is None:
            import boto3

            factory = boto3.Session
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

        try:
            if verify is not None and verify.profile:
                session = factory(profile_name=verify.profile, region_name=region)
            else:
                session = factory(region_name=region)
            if verify is not None and verify.role_arn:
                sts = session.client("sts", region_name=region, endpoint_url=self.endpoint_url)
                credentials = sts.assume_role(RoleArn=verify.role_arn,
                                              RoleSessionName="compliant-bedrock-verify")["Credentials"]
                session = factory(aws_access_key_id=credentials["AccessKeyId"],
                                  aws_secret_access_key=credentials["SecretAccessKey"],
                                  aws_session_token=credentials["SessionToken"], region_name=region)
        except ProfileNotFound as err:
            raise BadInput(f"verify.profile: {err}; name a profile of your AWS config (aws configure list-profiles)") \
                from err
        except NoCredentialsError as err:
            raise BadInput(_NO_CREDENTIALS) from err
        except (ClientError, BotoCoreError) as err:
            raise CannotRead(f"verify.role_arn {verify.role_arn}: could not assume it: {err}") from err
        self.sessions[key] = session
        return session

    def clients(self, session: Any, region: str) -> Callable[[str], Any]:
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in made:
                made[service] = session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                               config=self.client_config)
                if self.prepare_client is not None:
                    self.prepare_client(service, made[service])
            return made[service]

        return client


_NO_CREDENTIALS = ("no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or give "
                   "the environment a `verify: {profile: NAME}` or `verify: {role_arn: ARN}` block (docs/verify.md)")


@dataclass
class Verification:
    """One environment's result: the claims, who read them and when."""

    environment: str
    stack: str
    region: str
    collected_at: str
    identity: dict[str, str]
    claims: list[Claim]

    @property
    def counts(self) -> dict[str, int]:
        statuses = (CONFIRMED, CONTRADICTED, NOT_VERIFIABLE, UNREADABLE)
        return {s: sum(1 for c in self.claims if c.status == s) for s in statuses}

    @property
    def exit_code(self) -> int:
        counts = self.counts
        return 1 if counts[CONTRADICTED] else 3 if counts[UNREADABLE] else 0


def _identity(clients: Callable[[str], Any], env: Any) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        found = clients("sts").get_caller_identity()
    except NoCredentialsError as err:
        raise BadInput(f"environment {env.name!r}: {_NO_CREDENTIALS}") from err
    except (ClientError, BotoCoreError) as err:
        raise CannotRead(f"environment {env.name!r}: sts:GetCallerIdentity failed: {err}") from err
    identity = {k: str(found.get(k, "")) for k in ("Account", "Arn", "UserId")}
    if env.account and identity["Account"] != env.account:
        raise BadInput(f"environment {env.name!r}: the credentials are of account {identity['Account']} "
                       f"({identity['Arn']}), the environment's account is {env.account}; set its verify block "
                       "(profile or role_arn) to credentials of that account")
    return identity


def _template(outdir: Path, stack: str, env_name: str) -> dict[str, Any]:
    path = outdir / f"{stack}.template.json"
    if not path.is_file():
        raise BadInput(f"{path}: not found; run `make synth ENV={env_name}` first (verify compares the account "
                       "with the template this code synthesizes)")
    return json.loads(path.read_text(encoding="utf-8"))


def _read_stack(reader: Reader, stack: str, partition: str, region: str, account: str) -> bool:
    """The stack's status and physical ids into ``reader.deployed``; False when it cannot be read."""
    try:
        found = check_stack(reader, stack)
    except ReadFailed as err:
        if "does not exist" in str(err):
            reader.claims.append(Claim(f"stack {stack}", "deployed", CONTRADICTED, "deployed", "not deployed"))
            return False
        if err.denied:
            raise CannotRead(f"stack {stack}: {err}") from err
        reader.claims.append(Claim(f"stack {stack}", "DescribeStacks", UNREADABLE, note=str(err)))
        return False
    reader.deployed = Deployed({k: v[0] for k, v in found.items()}, {k: v[1] for k, v in found.items()},
                               partition, region, account, stack)
    return True


def verify_environment(env: Any, outdir: Path, access: Access, *, organizations: list | None = None,
                       drift: bool = True, drift_timeout: float = 120.0,
                       sleep: Callable[[float], None] | None = None, acceptances: Path | None = None,
                       node_modules: Path | None = None) -> Verification:
    """Read one environment's stack and its organization's policies; judge every claim (see module docstring)."""
    from .config import partition_of

    partition = str(partition_of(env.region))
    template = _template(outdir, env.stack_name, env.name)
    session = access.session(env.verify, env.region)
    clients = access.clients(session, env.region)
    identity = _identity(clients, env)
    collected_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    reader = Reader(clients, Deployed({}, {}, partition, env.region, identity["Account"], env.stack_name), template)
    if _read_stack(reader, env.stack_name, partition, env.region, identity["Account"]):
        if drift:
            reader.guarded(f"stack {env.stack_name}", "drift",
                           lambda: check_drift(reader, env.stack_name, timeout=drift_timeout,
                                               **({"sleep": sleep} if sleep else {})))
        else:
            reader.claims.append(Claim(f"stack {env.stack_name}", "drift", NOT_VERIFIABLE,
                                       note="--no-drift: CloudFormation drift detection not run"))
        for check in STACK_CHECKS:
            check(reader)
        reader.claims += judge_live(template, reader, env, outdir)
    org_readers = _organization_readers(env, outdir, access, organizations or [], partition)
    # the organization stack's logical ids may repeat the environment stack's: its claims name their stack
    claims = reader.claims + [c if c.subject.startswith("stack ") or not r.deployed.stack_name else
                              replace(c, subject=f"{c.subject} in {r.deployed.stack_name}")
                              for r in org_readers for c in r.claims]
    if reader.deployed.physical:
        live = {env.stack_name: reader.live_properties, **{r.deployed.stack_name: r.live_properties for r in org_readers}}
        removed = {r.deployed.stack_name: r.detached for r in org_readers}
        claims += prove_live(outdir, env.name, live, removed, acceptances=acceptances, node_modules=node_modules)
    return Verification(env.name, env.stack_name, env.region, collected_at, identity, claims)


def _organization_readers(env: Any, outdir: Path, access: Access, organizations: list,
                          partition: str) -> list[Reader]:
    """One reader per organization covering the environment, its claims judged (a note when none covers it)."""
    covering = [org for org in organizations if env.name in org.covers_environments]
    if not covering:
        note = Reader(lambda service: None, Deployed({}, {}, partition, env.region, "", ""), {})
        note.claims.append(Claim("organization", "policies", NOT_VERIFIABLE,
                                 note="no config/organization/*.yaml covers this environment: no SCP, RCP or Bedrock "
                                      "policy of this code is expected on its account"))
        return [note]
    readers: list[Reader] = []
    for org in covering:
        template = _template(outdir, org.stack_name, env.name)
        session = access.session(org.verify if org.verify is not None else env.verify, org.home_region)
        reader = Reader(access.clients(session, org.home_region),
                        Deployed({}, {}, partition, org.home_region, org.management_account, org.stack_name), template)
        if _read_stack(reader, org.stack_name, partition, org.home_region, org.management_account):
            check_organization_policies(reader)
            for check in STACK_CHECKS:  # the management account's own trail, keys and buckets
                check(reader)
        readers.append(reader)
    return readers


def judge_live(template: dict[str, Any], reader: Reader, env: Any, outdir: Path) -> list[Claim]:
    """The Bedrock rule pack over the template and over a copy holding every live value that differs from it.

    A rule the synthesized template passes and the live copy fails is a contradiction, named by the rule and the
    resource; a rule failing on both was already the gate's finding (or an accepted one) and is not repeated.
    """
    from compliant_bedrock.compliance.pack import Compliance, evaluate
    from compliant_bedrock.compliance.template import Template

    from .app_factory import settings_contexts

    live_body = copy.deepcopy(template)
    substituted = []
    for logical_id, properties in reader.live_properties.items():
        target = live_body["Resources"][logical_id].setdefault("Properties", {})
        for key, value in properties.items():
            if not matches(resolve(target.get(key), reader.deployed), value):
                target[key] = value
                substituted.append(f"{logical_id}.{key}")
    if not substituted:
        return [Claim("rule pack", "live values", CONFIRMED,
                      note="no live policy or setting differs from the template: the gate's verdict stands")]
    context = replace(settings_contexts([env])[env.stack_name], stack=env.stack_name, assembly=_facts(outdir))
    before = {(r.rule_id, r.resource_path): r for r in evaluate(Template(env.stack_name, template, env.region), context)}
    after = evaluate(Template(env.stack_name, live_body, env.region), context)
    failing = (Compliance.NON_COMPLIANT, Compliance.UNKNOWN)
    claims = []
    for result in after:
        was = before.get((result.rule_id, result.resource_path))
        if result.compliance in failing and not result.suppression_reason and \
                (was is None or was.compliance not in failing):
            claims.append(Claim(f"rule {result.rule_id} on {result.resource_path}", "compliance", CONTRADICTED,
                                Compliance.COMPLIANT.value, result.compliance.value, result.detail or ""))
    if not claims:
        claims.append(Claim("rule pack", "live values", CONFIRMED,
                            note=f"every rule as on the template with {', '.join(substituted)} substituted"))
    return claims


def _facts(outdir: Path) -> Any:
    """The assembly facts the gate gives stack-level rules (trails, SCPs of the other stacks), when readable."""
    if not (outdir / "manifest.json").is_file():
        return None
    from compliant_bedrock.compliance.assembly_facts import read_facts

    return read_facts(outdir)


# -- evidence ------------------------------------------------------------------------------------------------------

def write_evidence(outdir: Path, result: Verification) -> list[Path]:
    """``compliance/verified-<env>.json``, ``.md`` and ``-oscal.json`` (OSCAL assessment results): every claim, its
    status, the collection time and the identity that read it."""
    folder = outdir / "compliance"
    folder.mkdir(parents=True, exist_ok=True)
    from .verify_oscal import controls_of

    body = {"environment": result.environment, "stack": result.stack, "region": result.region,
            "collected_at": result.collected_at, "collected_by": result.identity, "exit_code": result.exit_code,
            "counts": result.counts,
            # each claim's stack and the NIST controls it evidences: the control matrices' "verified in account"
            "claims": [{**c.as_json(), "stack": stack_of(c, result.stack),
                        "controls": [x.upper() for x in controls_of(c)]} for c in result.claims]}
    json_path = folder / f"verified-{result.environment}.json"
    json_path.write_text(json.dumps(body, indent=1, sort_keys=False, default=str) + "\n", encoding="utf-8")
    md_path = folder / f"verified-{result.environment}.md"
    md_path.write_text(render_markdown(result), encoding="utf-8")
    from .verify_oscal import assessment_results

    oscal_path = folder / f"verified-{result.environment}-oscal.json"
    oscal_path.write_text(json.dumps(assessment_results(result), indent=1) + "\n", encoding="utf-8")
    return [json_path, md_path, oscal_path]


def stack_of(claim: Claim, stack: str) -> str:
    """The stack a claim is about: the organization stack's claims name it (``... in <stack>``), the rest are the
    environment's own."""
    _, found, other = claim.subject.rpartition(" in ")
    return other if found and other.startswith("CompliantBedrock-") and " " not in other else stack


def render_markdown(result: Verification) -> str:
    counts = result.counts
    lines = [f"# Deployed state of {result.environment} ({result.stack}, {result.region})", "",
             f"Collected {result.collected_at} by {result.identity.get('Arn')} (account "
             f"{result.identity.get('Account')}), read-only. Exit code {result.exit_code}.", "",
             ", ".join(f"{n} {s}" for s, n in counts.items()), "",
             "| status | subject | field | detail |", "|---|---|---|---|"]
    order = {CONTRADICTED: 0, UNREADABLE: 1, NOT_VERIFIABLE: 2, CONFIRMED: 3}
    for claim in sorted(result.claims, key=lambda c: order[c.status]):
        detail = claim.line().split(": ", 1)[1] if claim.status == CONTRADICTED else claim.note
        lines.append(f"| {claim.status} | {_cell(claim.subject)} | {_cell(claim.field)} | {_cell(detail)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# -- the command ---------------------------------------------------------------------------------------------------

#: A contradiction outranks a failed read, which outranks success.
_SEVERITY = {0: 0, 3: 1, 1: 2}


def main(argv: list[str] | None = None, access: Access | None = None, prog: str = "python -m infra.verify") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", help="one environment (default: every config/*.yaml)")
    parser.add_argument("--config-dir", default=None, help="the environment files (default: config)")
    parser.add_argument("--outdir", default="cdk.out", help="the synthesized assembly (default: cdk.out)")
    parser.add_argument("--drift-timeout", type=float, default=120.0, help="seconds to wait for drift detection")
    parser.add_argument("--no-drift", action="store_true", help="skip DetectStackDrift (said in the evidence)")
    args = parser.parse_args(argv)
    from .app_factory import ROOT
    from .config import ConfigError, load_environments
    from .org_config import load_organizations

    config_dir = Path(args.config_dir) if args.config_dir else ROOT / "config"
    outdir = Path(args.outdir)
    access = access or Access()
    worst = 0
    try:
        every = load_environments(config_dir)
        envs = load_environments(config_dir, args.env) if args.env else every
        organizations = load_organizations(config_dir, every)
        for env in envs:
            result = verify_environment(env, outdir, access, organizations=organizations, drift=not args.no_drift,
                                        drift_timeout=args.drift_timeout,
                                        acceptances=config_dir / "perimeter" / "accepted-open-paths.yaml",
                                        node_modules=ROOT / "node_modules" if (ROOT / "node_modules").is_dir() else None)
            paths = write_evidence(outdir, result)
            for claim in result.claims:
                if claim.status in (CONTRADICTED, UNREADABLE):
                    print(f"compliant-bedrock verify: {env.name}: {claim.line()}", file=sys.stderr)
            print(f"compliant-bedrock verify: {env.name}: " + ", ".join(f"{n} {s}" for s, n in result.counts.items())
                  + f"; evidence {paths[0]}")
            worst = max(worst, result.exit_code, key=_SEVERITY.__getitem__)
    except ConfigError as err:
        print(f"compliant-bedrock verify: {err}", file=sys.stderr)
        return 2
    except BadInput as err:
        print(f"compliant-bedrock verify: {err}", file=sys.stderr)
        return 2
    except CannotRead as err:
        print(f"compliant-bedrock verify: could not read: {err}", file=sys.stderr)
        return 3
    return max(worst, _render_again(outdir, config_dir), key=_SEVERITY.__getitem__)


def _render_again(outdir: Path, config_dir: Path) -> int:
    """The synth's evidence rendered again with the verified-*.json beside it (each control matrix's "verified in
    account" column, each contradiction a POA&M item), as make synth does after cfn-guard; 0, or 3 if it cannot be."""
    if not (outdir / "compliance" / "findings.json").is_file():
        return 0  # no synth evidence here to annotate (verify compared templates of an assembly without it)
    from compliant_bedrock.evidence.assembly import AssemblyError
    from compliant_bedrock.evidence.provenance import ProvenanceError

    from .report import generate

    try:
        generate(outdir, config_dir=config_dir)
    except (AssemblyError, ProvenanceError) as err:
        print(f"compliant-bedrock verify: the evidence could not be rendered again: {err}", file=sys.stderr)
        return 3
    print(f"compliant-bedrock verify: evidence in {outdir / 'compliance'} rendered again with the verified claims")
    return 0


if __name__ == "__main__":
    sys.exit(main())
