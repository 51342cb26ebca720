"""The protection-mutant list stays true to the source: every mutant still applies exactly once.

Running the mutants is `make mutate` (minutes); this cheap check keeps the list from going stale
when a protection moves, so `make mutate` never silently tests less than it says.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "tools" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_mutant_applies_exactly_once_and_names_existing_tests() -> None:
    tool = _tool()
    mutants = tool.load()
    assert len(mutants) >= 14
    assert {m.id: tool.applies(m) for m in mutants if tool.applies(m)} == {}
