"""Evidence for auditors, generated from the cloud assembly that deploys (pre-deployment evidence).

One model, many renderers: :mod:`.build` reads what the judges left in ``cdk.out`` once into the frozen
:class:`.model.EvidenceModel` (stacks, rule findings, matrix statuses, perimeter decisions, acceptances, facts,
provenance, verdict, supporting engines' observations); every cross-stack file is a pure function of it
(:data:`.render.RENDERERS`), written by :func:`.write.write_evidence`, which removes stale files. Each stack's own
files (matrix, responsibility, diagram) are written per stack first, by the shards of a parallel synth too.

* :mod:`.index`: ``index.md``, which file is for whom, with counts generated from the model;
* :mod:`.facts`: the settings' sentences, confirmed against the templates before any document states them;
* :mod:`.assembly`: each stack of ``cdk.out`` with its template, construct paths and rule results
  (read through ``compliance.gate.read_findings``);
* :mod:`.matrix`: NIST SP 800-53 r5 control -> rules -> resources -> result -> status, JSON and Markdown;
* :mod:`.responsibility`: what a template can show of each control, who is responsible (reviewed data
  in ``data/controls.tsv``) and SSP starting text from the template's own values;
* :mod:`.baselines`: FedRAMP Rev5 Low/Moderate/High coverage (vendored profiles in ``data/``);
* :mod:`.components` and :mod:`.oscal`: the package's components found by CloudFormation type, and an
  OSCAL 1.2.1 component definition of them with each control's status;
* :mod:`.oscal_common`: what every OSCAL document shares (deterministic v4-format UUIDs, metadata, parties and
  roles, back-matter citing provenance.json, OSCAL implementation-status values, inventory items);
* :mod:`.ssp`, :mod:`.assessment` and :mod:`.poam_oscal`: an SSP skeleton per environment, the assessment results
  (the gate's results and the perimeter proof's decisions as observations) and the POA&M, in OSCAL 1.2.1;
* :mod:`.sdr`: FedRAMP 20x Security Decision Records (KSIs in ``data/fedramp-20x-ksi.json``);
* :mod:`.poam`: accepted risks, justified deviations and failed controls with FedRAMP's POA&M fields, JSON
  and CSV, and the scoping rows apart;
* :mod:`.diagram`: the authorization boundary and data flows as SVG and PNG (own layout, no Graphviz);
* :mod:`.destinations`: where the granted models may process prompts (the catalog's cross-region destinations),
  listed in the matrix, drawn in the diagram and stated in the OSCAL model-access statement;
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
