"""Prove the perimeter: evaluate attack and workload requests against the synthesized policies.

The request matrix (``requests.yaml``) says, per environment, which requests a compliant deployment
must allow, deny, or guard. :func:`prove` generates them from the cloud assembly (one per allowed
model ARN, audit key, audit bucket, trail ...), evaluates all of them in one batched run of the IAM
simulator ``@cloud-copilot/iam-simulate`` (a separate Node process; see :mod:`.simulator`), and judges
each decision against the matrix; :func:`write_evidence` writes ``compliance/perimeter-<env>.json``
and ``.md`` with the deciding policy and statement of every request.
"""

from .discovery import Assembly, Environment, Policy, read
from .proof import Acceptance, Outcome, PerimeterError, Proof, load_acceptances, matrix, prove, write_evidence
from .simulator import SimulatorError

__all__ = [
    "Acceptance", "Assembly", "Environment", "Outcome", "PerimeterError", "Policy", "Proof", "SimulatorError",
    "load_acceptances", "matrix", "prove", "read", "write_evidence",
]
