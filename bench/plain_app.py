"""The same stacks as the reference app, synthesized with no checks at all: no cdk-nag packs, no
Bedrock pack, no gate, no evidence, no perimeter proof. Against it the benchmark reports the whole
gate's overhead as a ratio.

It shards as the gated synth does (``infra.parallel``: the same worker count for the same number of
environments, each worker building every n-th environment into its own directory, the parent merging
their files and manifest entries), so "gated / plain" compares like with like at 50 environments too.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "constructs")]

from infra import runtime  # noqa: E402

runtime.prepare()

from infra import parallel  # noqa: E402
from infra.app_factory import build_app, cdk_json_context, cli_context, selected_environments  # noqa: E402


def main() -> int:
    if parallel.shard() is not None:  # a worker: its share, no checks
        build_app(compliance=False, outdir=os.environ["CDK_OUTDIR"]).synth()
        return 0
    envs = selected_environments()
    context = {**cdk_json_context(), **cli_context()}
    workers = parallel.worker_count(len(envs), context)
    scratch = Path(tempfile.mkdtemp(prefix="cb-plain-shards-")) if workers > 1 else None
    started = parallel.start_workers(workers, context, scratch, script=Path(__file__).resolve()) if scratch else []
    try:
        if started:
            os.environ[parallel.SHARD_ENV] = f"0/{workers}"
        try:
            app = build_app(compliance=False, envs=envs)
        finally:
            os.environ.pop(parallel.SHARD_ENV, None)
        outdir = Path(app.synth().directory)
        if started:
            failed = [str(out) for worker, out in started if worker.wait() != 0]
            if failed:
                print(f"plain synth of {', '.join(failed)} failed", file=sys.stderr)
                return 3
            parallel.merge(outdir, [out for _, out in started])
    finally:
        for worker, _ in started:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
