"""Synthesize and gate: the body of ``app.py``, reusable by tests that need a modified app.

Exit codes: 0 compliant (or report-only), 1 unsuppressed compliance errors or an open perimeter path,
2 invalid configuration (or construct properties a construct refused, or a malformed perimeter acceptance),
3 a shard worker's synth failed, or the perimeter proof could not run (the IAM simulator is missing or
failed: it never skips silently).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run(build: Callable[..., Any] | None = None) -> int:
    """Build the app (``infra.app_factory.build_app`` by default), synthesize, judge, report.

    With many environments and the default builder, worker processes synthesize shares of them
    in parallel (``infra.parallel``); the gate and the report then judge the merged assembly.
    """
    from compliant_bedrock.compliance.gate import clear_reports
    from compliant_bedrock.compliance.nag_cache import NagPlan
    from compliant_bedrock.errors import CompliantBedrockError

    from . import parallel
    from .app_factory import build_app, cdk_json_context, cli_context, selected_environments, settings_contexts
    from .config import ConfigError

    if parallel.shard() is not None:  # a worker: this share's synth and stack evidence; the parent judges
        try:
            plan = NagPlan()
            envs = selected_environments()  # validated once: build_app takes this worker's share of them
            outdir = Path(plan.synth(build_app(outdir=os.environ["CDK_OUTDIR"], nag=plan, envs=envs)).directory)
        except (ConfigError, CompliantBedrockError) as err:  # config was valid in the parent: a construct's props
            print(f"compliant-bedrock: invalid construct properties: {err}", file=sys.stderr)
            return 2
        parallel.mark_ready(outdir)  # the parent merges the assembly and judges it while this share's evidence is drawn
        parallel.write_share_evidence(outdir, envs, record=True)
        return 0
    # No verdict outlives its run: an earlier synth's evidence (findings.json "passed": true) goes before anything
    # can fail (a config error, a construct's props, a worker), and the gate writes the new verdict last.
    if build is None:  # a custom build names its own outdir (the gate clears it when it judges)
        shutil.rmtree(Path(os.environ.get("CDK_OUTDIR") or "cdk.out") / "compliance", ignore_errors=True)
    started: list = []
    scratch: Path | None = None
    try:
        try:
            envs = selected_environments()
            _print_unverified(envs)
            if build is None:
                _print_cidr_warnings(envs)
            context = {**cdk_json_context(), **cli_context()}
            workers = parallel.worker_count(len(envs), context) if build is None else 1
            scratch = Path(tempfile.mkdtemp(prefix="cb-shards-")) if workers > 1 else None
            parent_out = Path(os.environ.get("CDK_OUTDIR") or "cdk.out")
            started = parallel.start_workers(workers, context, scratch, caches_of=parent_out) if scratch else []
            if started:
                os.environ[parallel.SHARD_ENV] = f"0/{workers}"
            try:
                # Under the CLI, CDK_OUTDIR is set; run directly, write where the CLI would.
                outdir_arg = None if os.environ.get("CDK_OUTDIR") else "cdk.out"
                plan = None if build else NagPlan()
                app = build(outdir=outdir_arg) if build else build_app(outdir=outdir_arg, envs=envs, nag=plan)
            finally:
                os.environ.pop(parallel.SHARD_ENV, None)
        except ConfigError as err:
            _print_all_problems(err, build)
            return 2
        except CompliantBedrockError as err:
            # A construct refusing its props: its message names them and the fix. Any other exception is a
            # defect and keeps its traceback.
            print(f"compliant-bedrock: invalid construct properties: {err}", file=sys.stderr)
            return 2
        # cdk.out outlives synths: a pack dropped since the last one must not leave its old report behind.
        clear_reports(Path(app.outdir), _stack_names(app, envs if build is None else None))
        assembly = plan.synth(app) if plan is not None else app.synth()
        outdir = Path(assembly.directory)
        shard_evidence: dict[str, Any] = {}
        if started:
            shard_evidence = parallel.write_share_evidence(outdir, envs, record=False)  # while the workers run
            failed = parallel.wait_ready(started)
            if failed:
                return _shards_failed(outdir, failed)
            # The workers' templates and cdk-nag reports join the assembly now; their stacks' evidence files join
            # it when the gate asks for them, after the proof: the workers write them meanwhile.
            parallel.merge_assembly(outdir, [out for _, out in started])

            def evidence_of_the_shards() -> dict[str, Any]:
                failed = [str(out) for worker, out in started if worker.wait() != 0]
                if failed:
                    raise parallel.ShardFailed(failed)
                shard_evidence.update(parallel.merge_evidence(outdir, [out for _, out in started]))
                return shard_evidence

        if build is not None:  # a custom app (tests): judge what it holds
            from .app_factory import rule_contexts
            from .stack import ReferenceStack

            contexts = rule_contexts(app)
            envs = [s.settings for s in app.node.children if isinstance(s, ReferenceStack)]
        else:
            contexts = settings_contexts(envs)
        # The judging and the evidence: the library's own entry point, as any app uses it. The reference app
        # requires the perimeter proof (exit 3 when it cannot run) and adds the facts of its configuration.
        from compliant_bedrock import ComplianceGate

        from .app_factory import selected_organizations
        from .report import config_files, deviations_of, facts_of, poam_plans_of, unverified_models

        settings = {env.name: env for env in envs}
        gate = ComplianceGate(app, rule_contexts=contexts, perimeter="required",
                              perimeter_acceptances=_acceptances_file(app), node_modules=_node_modules(),
                              prove_environments=[env.name for env in envs] if build is None else (),
                              facts=facts_of(settings, selected_organizations(envs=envs) if build is None else ()),
                              unverified=unverified_models(settings), deviations=deviations_of(settings),
                              poam_plans=poam_plans_of(settings), inputs=config_files(_config_dir(app)))
        try:
            return gate.judge(outdir, written_by_shards=evidence_of_the_shards if started else shard_evidence).exit_code
        except parallel.ShardFailed as failure:  # the gate removed compliance/ already
            return _shards_failed(outdir, failure.parts)
    finally:
        for worker, _ in started:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _shards_failed(outdir: Path, failed: list[str]) -> int:
    """A worker's synth failed: no evidence rather than a mix of this synth's and an earlier one's (exit 3)."""
    shutil.rmtree(outdir / "compliance", ignore_errors=True)
    print(f"compliant-bedrock: synth of {', '.join(failed)} failed (see above); no evidence written", file=sys.stderr)
    return 3


def _print_all_problems(err: Exception, build: Callable[..., Any] | None) -> None:
    """A config error in synth: every problem of every config file (``infra.validate``), not only the first
    loader's; a custom build's own error as it is."""
    from .validate import collect

    problems = list(getattr(err, "problems", [str(err)]))
    if build is None:
        found = collect(_default_config_dir())
        problems += [p for p in found.problems if p not in problems]
        for warning in found.warnings:
            print(f"compliant-bedrock: warning: {warning}", file=sys.stderr)
    print(f"compliant-bedrock: invalid configuration ({len(problems)} problem(s)):", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def _print_cidr_warnings(envs: list) -> None:
    """Overlapping VPC CIDRs within one organization: legal, printed, never failing (``infra.validate``)."""
    from .validate import cidr_overlaps, organization_members

    directory = _default_config_dir()
    sources = [(str(directory / f"{env.name}.yaml") if (directory / f"{env.name}.yaml").is_file() else str(directory),
                env) for env in envs]
    for warning in cidr_overlaps(sources, organization_members(directory)):
        print(f"compliant-bedrock: warning: {warning}", file=sys.stderr)


def _default_config_dir() -> Path:
    from .app_factory import CONFIG_DIR_KEY, ROOT, cdk_json_context, cli_context

    return ROOT / str({**cdk_json_context(), **cli_context()}.get(CONFIG_DIR_KEY) or "config")


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.cli validate [--config-dir DIR]``: every configuration problem at once, exit 2 if any.
    ``python -m infra.cli evidence merge DIR... --out DIR``: one evidence set from partial synths.
    ``verify`` and ``report`` hand the rest of the line to ``infra.verify`` and ``infra.report``. The package's
    ``compliant-bedrock`` console script (:mod:`compliant_bedrock.cli`) runs this in the app's checkout.

    Exit codes: validate: 0 valid (warnings may be printed), 2 invalid configuration; nothing is synthesized.
    evidence merge: the gate's (0 passed, 1 findings, 2/3 as for a synth), and 2 when the parts cannot be merged.
    """
    import argparse

    from . import runtime

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:  # its own options (python -m infra.verify --help)
        from .verify import main as verify

        return verify(argv[1:], prog="compliant-bedrock verify")
    if argv[:1] == ["report"]:
        from .report import main as report

        return report(argv[1:])
    parser = argparse.ArgumentParser(prog="compliant-bedrock", description=__doc__.split("\n", 1)[0],
                                     epilog="compliant-bedrock verify [--env NAME] ...: read a deployed account and "
                                            "verify it (docs/verify.md); compliant-bedrock report [cdk.out]: the "
                                            "evidence again from an assembly")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="report every problem of every configuration file in one pass")
    check.add_argument("--config-dir", type=Path, default=None,
                       help="the environments' directory (default: cdk.json's compliant-bedrock:config-dir, "
                            "else config/); organizations are read from its organization/ folder")
    evidence = commands.add_parser("evidence", help="evidence across synths")
    evidence_commands = evidence.add_subparsers(dest="evidence_command", required=True)
    merge = evidence_commands.add_parser(
        "merge", help="merge partial synths' cdk.out into one assembly and evidence set",
        description="Merge the cloud assemblies of partial synths (`make synth ENV=<name>`, one per CI job) and write "
                    "the evidence of all of them, as one synth would.")
    merge.add_argument("parts", nargs="+", type=Path, metavar="DIR", help="a partial synth's cdk.out")
    merge.add_argument("--out", type=Path, required=True, help="where the merged cdk.out goes (replaced)")
    merge.add_argument("--config", type=Path, default=None,
                       help="environment settings directory (default: cdk.json's, else ./config)")
    args = parser.parse_args(argv)
    runtime.prepare()
    if args.command == "evidence":
        return _evidence_merge(args.parts, args.out, args.config)
    from .validate import collect

    findings = collect(args.config_dir or _default_config_dir())
    for line in findings.lines():
        print(line, file=sys.stderr if findings.problems else sys.stdout)
    return findings.exit_code


def _evidence_merge(parts: list[Path], out: Path, config: Path | None) -> int:
    """``evidence merge``: the merged assembly judged by the gate (``infra.evidence_merge``)."""
    from .config import ConfigError
    from .evidence_merge import MergeError, judge_merged, merge_assemblies

    try:
        merge_assemblies(parts, out)
        return judge_merged(out, config)
    except (MergeError, ConfigError) as err:
        print(f"compliant-bedrock evidence merge: {err}", file=sys.stderr)
        return 2


def _config_dir(app: Any) -> Path:
    from .app_factory import CONFIG_DIR_KEY, ROOT

    return ROOT / str(app.node.try_get_context(CONFIG_DIR_KEY) or "config")


def _acceptances_file(app: Any) -> Path:
    from compliant_bedrock.compliance_gate import PERIMETER_ACCEPTANCES_KEY

    from .app_factory import CONFIG_DIR_KEY, ROOT

    given = app.node.try_get_context(PERIMETER_ACCEPTANCES_KEY)
    if given:
        return Path(given)
    config_dir = ROOT / str(app.node.try_get_context(CONFIG_DIR_KEY) or "config")
    return config_dir / "perimeter" / "accepted-open-paths.yaml"


def _node_modules() -> Path | None:
    """This checkout's node_modules (``make setup``), wherever synth runs from."""
    from .app_factory import ROOT

    return ROOT / "node_modules" if (ROOT / "node_modules").is_dir() else None


def _stack_names(app: Any, envs: list | None) -> list[str]:
    """The stacks this synth writes: from the settings (free), else asked of the app (a custom build)."""
    if envs is not None:
        # every organization stack's reports, whichever files configure them now (one may have been removed)
        from compliant_bedrock.compliance.gate import REPORT_SUFFIX

        from .org_config import ORGANIZATION_STACK

        organizations = sorted({p.name.split("--", 1)[1].removesuffix(REPORT_SUFFIX)
                                for p in Path(app.outdir).glob(f"*--{ORGANIZATION_STACK}*{REPORT_SUFFIX}")})
        return [name for env in envs for name in (env.stack_name, f"{env.stack_name}-replica",
                                                  f"{env.stack_name}-iam-events")] + organizations
    import aws_cdk as cdk

    return [child.stack_name for child in app.node.children if isinstance(child, cdk.Stack)]


def _print_unverified(envs: list) -> None:
    """Model ids the catalog cannot vouch for run only when accepted in writing; say so on the terminal too."""
    from compliant_bedrock.model_standing import unverified_reason

    for env in envs:
        for model in env.models:
            why = unverified_reason(model.id, model.path, env.region)
            acceptance = env.accept_unverified_models.get(model.id)
            if why is not None and acceptance is not None:
                print(f"compliant-bedrock: environment {env.name!r}: model id {model.id!r} (path {model.path}) {why}: "
                      f"accepted by accept_unverified_models (approved by {acceptance.approved_by}); a POA&M item",
                      file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
