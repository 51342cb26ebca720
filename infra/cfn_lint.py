"""cfn-lint over every template of a cloud assembly, each against its own stack's region.

``python -m infra.cfn_lint [cdk.out]`` exits non-zero on any error or unjustified warning
(justified ones are listed in ``.cfnlintrc.yaml``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


#: A StackSet's metadata naming its kept assembly (``compliant_bedrock.evidence.assembly.STACKSET_ASSEMBLY_METADATA``).
_KEPT = "compliant-bedrock:assembly"


def templates_by_region(outdir: Path) -> dict[str, list[Path]]:
    """Every stack's template in its region, and every StackSet's kept template (its ``TemplateBody``, byte for
    byte as JSON) in each region its stack instances deploy to."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    by_region: dict[str, list[Path]] = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        region = artifact["environment"].rsplit("/", 1)[-1]
        region = "us-east-1" if region == "unknown-region" else region
        template = outdir / artifact["properties"]["templateFile"]
        by_region.setdefault(region, []).append(template)
        for resource in (json.loads(template.read_text(encoding="utf-8")).get("Resources") or {}).values():
            kept = (resource.get("Metadata") or {}).get(_KEPT)
            if resource.get("Type") != "AWS::CloudFormation::StackSet" or not isinstance(kept, str):
                continue
            regions = {r for group in resource["Properties"].get("StackInstancesGroup") or [] for r in group["Regions"]}
            for region in sorted(regions):
                by_region.setdefault(region, []).extend(sorted((outdir / kept).glob("*.template.json")))
    return by_region


def lint(outdir: Path) -> tuple[int, str]:
    """Return cfn-lint's worst exit code and its combined output (one process per region, in parallel)."""
    cli = str(Path(sys.executable).parent / "cfn-lint")
    config = str(ROOT / ".cfnlintrc.yaml")
    runs = [
        subprocess.Popen([cli, "--config-file", config, "--format", "parseable", "--regions", region, "--",
                          *map(str, sorted(templates))], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for region, templates in sorted(templates_by_region(outdir).items())
    ]
    outputs = [run.communicate()[0] for run in runs]
    return max((run.returncode for run in runs), default=0), "".join(outputs)


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    code, output = lint(outdir)
    sys.stdout.write(output)
    print(f"cfn-lint: {'clean' if code == 0 else f'findings (exit {code})'} over {outdir}")
    return code


if __name__ == "__main__":
    sys.exit(main())
