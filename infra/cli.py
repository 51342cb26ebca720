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
    from compliant_bedrock.errors import CompliantBedrockError

    from . import parallel
    from .app_factory import build_app, cdk_json_context, cli_context, selected_environments, settings_contexts
    from .config import ConfigError

    if parallel.shard() is not None:  # a worker: this share's synth and stack evidence; the parent judges
        try:
            outdir = Path(build_app(outdir=os.environ["CDK_OUTDIR"]).synth().directory)
        except (ConfigError, CompliantBedrockError) as err:  # config was valid in the parent: a construct's props
            print(f"compliant-bedrock: invalid construct properties: {err}", file=sys.stderr)
            return 2
        parallel.write_share_evidence(outdir, selected_environments(), record=True)
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
            context = {**cdk_json_context(), **cli_context()}
            workers = parallel.worker_count(len(envs), context) if build is None else 1
            scratch = Path(tempfile.mkdtemp(prefix="cb-shards-")) if workers > 1 else None
            started = parallel.start_workers(workers, context, scratch) if scratch else []
            if started:
                os.environ[parallel.SHARD_ENV] = f"0/{workers}"
            try:
                # Under the CLI, CDK_OUTDIR is set; run directly, write where the CLI would.
                outdir_arg = None if os.environ.get("CDK_OUTDIR") else "cdk.out"
                app = build(outdir=outdir_arg) if build else build_app(outdir=outdir_arg, envs=envs)
            finally:
                os.environ.pop(parallel.SHARD_ENV, None)
        except (ConfigError, CompliantBedrockError) as err:
            # A construct refusing its props: its message names them and the fix. Any other exception is a
            # defect and keeps its traceback.
            kind = "" if isinstance(err, ConfigError) else "invalid construct properties: "
            print(f"compliant-bedrock: {kind}{err}", file=sys.stderr)
            return 2
        # cdk.out outlives synths: a pack dropped since the last one must not leave its old report behind.
        clear_reports(Path(app.outdir), _stack_names(app, envs if build is None else None))
        assembly = app.synth()
        outdir = Path(assembly.directory)
        shard_evidence: dict[str, Any] = {}
        if started:
            shard_evidence = parallel.write_share_evidence(outdir, envs, record=False)  # while the workers run
            failed = [str(out) for worker, out in started if worker.wait() != 0]
            if failed:
                # No evidence rather than a mix of this synth's and an earlier one's.
                shutil.rmtree(outdir / "compliance", ignore_errors=True)
                print(f"compliant-bedrock: synth of {', '.join(failed)} failed (see above); no evidence written",
                      file=sys.stderr)
                return 3
            shard_evidence.update(parallel.merge(outdir, [out for _, out in started]))
    finally:
        for worker, _ in started:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
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
    return gate.judge(outdir, written_by_shards=shard_evidence).exit_code


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
    """Model ids outside the catalog are accepted, and said on the terminal, not only in summary.md."""
    from compliant_bedrock.models import InferencePath, check_path

    for env in envs:
        for model in env.models:
            if not check_path(model.id, InferencePath(model.path), env.region):
                print(f"compliant-bedrock: environment {env.name!r}: model id {model.id!r} (path {model.path}) is not "
                      "in the model catalog (compliant_bedrock.models): accepted as unverified; check its ARNs in "
                      "the template and add it to the catalog with its source", file=sys.stderr)


# ---- compliant-bedrock evidence merge -----------------------------------------------------------------
def evidence_command(argv: list[str]) -> int:
    """``evidence merge DIR... --out DIR``: one evidence set from partial synths (``infra.evidence_merge``).
    Exit codes: the gate's (0 passed, 1 findings, 2/3 as for a synth); 2 also when the parts cannot be merged."""
    import argparse

    parser = argparse.ArgumentParser(prog="compliant-bedrock evidence", description="Evidence across synths.")
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="merge partial synths' cdk.out into one assembly and evidence set",
                                description="Merge the cloud assemblies of partial synths (`make synth ENV=<name>`, one "
                                            "per CI job) and write the evidence of all of them, as one synth would.")
    merge.add_argument("parts", nargs="+", type=Path, metavar="DIR", help="a partial synth's cdk.out")
    merge.add_argument("--out", type=Path, required=True, help="where the merged cdk.out goes (replaced)")
    merge.add_argument("--config", type=Path, default=None,
                       help="environment settings directory (default: cdk.json's, else ./config)")
    args = parser.parse_args(argv)
    from .config import ConfigError
    from .evidence_merge import MergeError, judge_merged, merge_assemblies

    try:
        merge_assemblies(args.parts, args.out)
        return judge_merged(args.out, args.config)
    except (MergeError, ConfigError) as err:
        print(f"compliant-bedrock evidence merge: {err}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``compliant-bedrock <command>``: ``evidence merge ...`` (``python -m infra.cli evidence merge ...``)."""
    argv = sys.argv[1:] if argv is None else argv
    commands = {"evidence": evidence_command}
    if not argv or argv[0] not in commands:
        print(f"usage: compliant-bedrock {{{','.join(commands)}}} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    from . import runtime

    runtime.prepare()
    sys.exit(main())
