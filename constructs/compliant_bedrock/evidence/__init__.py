"""Evidence for auditors, generated from the cloud assembly that deploys.

* :mod:`.assembly`: each stack of ``cdk.out`` with its template, construct paths and rule results
  (read through ``compliance.gate.read_findings``);
* :mod:`.matrix`: NIST SP 800-53 r5 control -> rules -> resources -> result, JSON and Markdown;
* :mod:`.components` and :mod:`.oscal`: the package's components found by CloudFormation type, and an
  OSCAL 1.1 component definition of them;
* :mod:`.diagram`: the architecture as SVG and PNG (own layout, no Graphviz);
* :mod:`.summary`: results per pack and stack, suppressions, unverified model ids.

``python -m infra.report [cdk.out]`` writes them all to ``cdk.out/compliance/``.
"""

from .assembly import AssemblyError, StackEvidence, inputs_digest, read_assembly, stack_digest
from .components import COMPONENTS, component_members
from .diagram import write_diagram
from .matrix import build_matrix, normalize_control, oscal_control_id, render_markdown
from .oscal import build_component_definition
from .summary import build_summary, render_summary_markdown

__all__ = [
    "COMPONENTS", "AssemblyError", "StackEvidence", "build_component_definition", "build_matrix", "build_summary",
    "component_members", "inputs_digest", "normalize_control", "oscal_control_id", "read_assembly",
    "render_markdown", "render_summary_markdown", "stack_digest", "write_diagram",
]
