"""The same stacks as the reference app, synthesized with no checks at all: no cdk-nag packs, no
Bedrock pack, no gate, no evidence, no perimeter proof. Against it the benchmark reports the whole
gate's overhead as a ratio."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "constructs")]

from infra import runtime  # noqa: E402

runtime.prepare()

from infra.app_factory import build_app  # noqa: E402

build_app(compliance=False).synth()
