"""The documentation a user navigates: every relative link of README.md and docs/*.md reaches a file (and, for a
Markdown page, a heading) that exists; the generated pages are what their generators write now; the counts the
pages state are the code's. Reads of the repository, no synth (`make docs` runs this module after building the API
reference; `make test` runs it too).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_docs  # noqa: E402
import docs_links  # noqa: E402
import generate_rules_page  # noqa: E402
from docs_links import PENDING_PAGES, broken_links, slug  # noqa: E402


def test_every_relative_link_of_the_docs_reaches_a_file_and_heading() -> None:
    problems = [p for page in docs_links.pages() for p in broken_links(page)]
    assert not problems, "\n".join(problems)


def test_the_link_check_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Index\n\n## Two words\n", encoding="utf-8")
    page = tmp_path / "docs" / "probe.md"
    page.write_text("# Probe\n\n[gone](no-such-page.md) [here](#probe) [there](#nowhere) [ok](index.md#two-words) "
                    "[index](index.md#no-such-heading) `[code](span.md)`\n\n```\n[in code](ignored.md)\n```\n",
                    encoding="utf-8")
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 3, problems
    assert any("no file docs/no-such-page.md" in p for p in problems)
    assert any("#nowhere" in p for p in problems) and any("#no-such-heading" in p for p in problems)


def test_headings_slug_as_github_anchors_them() -> None:
    assert slug("Use it in your own app") == "use-it-in-your-own-app"
    assert slug("`Bedrock-TrailMantleDataEvents`") == "bedrock-trailmantledataevents"
    assert slug("Statuses: what was checked") == "statuses-what-was-checked"
    assert slug("Per-account baseline (StackSet)") == "per-account-baseline-stackset"


def test_the_rules_page_is_what_the_registry_generates() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == generate_rules_page.render(), (
        "docs/rules.md is stale: PYTHONPATH=.:constructs .venv/bin/python tools/generate_rules_page.py")


def test_the_rules_page_lists_every_rule_with_its_controls() -> None:
    from compliant_bedrock.compliance import RULES

    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| \[`(Bedrock-[A-Za-z]+)`\]\(#[a-z-]+\) \| ([^|]+) \|", page, flags=re.M))
    assert set(rows) == set(RULES)
    for rule_id, controls in rows.items():
        assert tuple(c.strip() for c in controls.split(",")) == RULES[rule_id].controls, rule_id


def test_the_api_reference_documents_every_module_once() -> None:
    """pdoc walks a package without ``__all__`` itself: naming one of its modules again is a warning (a
    failed ``make docs``); a package with ``__all__`` hides the modules it does not list unless named."""
    names = build_docs.module_names()
    assert len(names) == len(set(names))
    assert {"compliant_bedrock", "compliant_bedrock.compliance", "compliant_bedrock.models",
            "compliant_bedrock.evidence", "compliant_bedrock.compliance_gate"} <= set(names)
    assert "compliant_bedrock.compliance.rules.iam" not in names  # rules/ has no __all__: pdoc walks it


def test_an_unresolvable_cross_reference_is_a_docs_failure(tmp_path: Path) -> None:
    """A Sphinx role pdoc cannot link stays ``<code>`` in the rendered docstring: the build names it."""
    page = tmp_path / "compliant_bedrock" / "model_access.html"
    page.parent.mkdir()
    page.write_text('<div class="docstring"><p>the <code>BedrockGuardrail</code> of this stack, '
                    '<code><a href="#x">BedrockPrivateLink</a></code></p></div>', encoding="utf-8")
    problems = list(build_docs.unresolved_roles(
        tmp_path, {"compliant_bedrock.model_access": {"BedrockGuardrail", "BedrockPrivateLink"}}))
    assert len(problems) == 1 and "`BedrockGuardrail`" in problems[0], problems


def test_pending_pages_are_only_those_not_yet_written() -> None:
    landed = sorted(p for p in PENDING_PAGES if (ROOT / p).exists())
    assert not landed, f"{landed} exist now: remove them from PENDING_PAGES in tests/test_docs.py"


def _init_params(class_name: str) -> set[str]:
    """The parameters of a construct's ``__init__``, read from the source (no import, no jsii)."""
    import ast

    for path in (ROOT / "constructs" / "compliant_bedrock").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
                return {a.arg for a in [*init.args.args, *init.args.kwonlyargs]}
    raise AssertionError(f"no class {class_name} in the package")


def test_the_props_the_constructs_page_names_exist() -> None:
    """docs/constructs.md lists each construct's main props after its name; a renamed or removed prop there is a
    user's TypeError, so every prop named at the top level of that list must be a parameter of the construct."""
    page = (ROOT / "docs" / "constructs.md").read_text(encoding="utf-8")
    checked = 0
    for m in re.finditer(r"^\*\*`([A-Z]\w+)`\*\* \(", page, re.M):
        depth, i, props = 1, m.end(), []
        while depth:
            ch = page[i]
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 1 and ch == "`":
                end = page.index("`", i + 1)
                props.append(page[i + 1:end])
                i = end
            i += 1
        names = [p for p in props if re.fullmatch(r"[a-z_][a-z0-9_]*", p)]
        missing = sorted(set(names) - _init_params(m[1]))
        assert not missing, f"docs/constructs.md: {m[1]} has no prop {missing}"
        checked += len(names)
    assert checked > 40  # the lists are read, not skipped


def test_the_public_names_the_constructs_page_lists_are_the_packages() -> None:
    import ast

    init = ast.parse((ROOT / "constructs" / "compliant_bedrock" / "__init__.py").read_text(encoding="utf-8"))
    exported = next(ast.literal_eval(n.value) for n in init.body
                    if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets))
    page = (ROOT / "docs" / "constructs.md").read_text(encoding="utf-8")
    listed = page.split("The public names, all importable from `compliant_bedrock`", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"`(\w+)`", listed.split(":", 1)[1])) == set(exported)


def test_the_counts_the_pages_state_are_the_codes() -> None:
    """Counts typed in prose are checked here against the data or code they describe."""
    import json

    from compliant_bedrock.audit_trail import BEDROCK_DATA_RESOURCE_TYPES, CORE_BEDROCK_DATA_RESOURCE_TYPES

    words = {"six": 6, "eight": 8}
    ksi = json.loads((ROOT / "constructs/compliant_bedrock/evidence/data/fedramp-20x-ksi.json").read_text())
    shown = sum(1 for k in ksi["indicators"].values() if "shows" in k)
    evidence = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    stated = re.search(r"all (\d+) KSIs of the Consolidated Rules; the (\d+) whose measures.*?the other (\d+) say",
                       evidence, re.S)
    assert stated and tuple(map(int, stated.groups())) == (
        len(ksi["indicators"]), shown, len(ksi["indicators"]) - shown)
    constructs = (ROOT / "docs" / "constructs.md").read_text(encoding="utf-8")
    stated = re.search(r"all (\d+) documented\s+types by default.*?selects the core (\w+) unless", constructs, re.S)
    assert stated and (int(stated[1]), words[stated[2]]) == (
        len(BEDROCK_DATA_RESOURCE_TYPES), len(CORE_BEDROCK_DATA_RESOURCE_TYPES))
    reference = (ROOT / "docs" / "reference-app.md").read_text(encoding="utf-8")
    stated = re.search(r"all (\d+) Bedrock types in aws, the core (\d+) elsewhere", reference)
    assert stated and (int(stated[1]), int(stated[2])) == (
        len(BEDROCK_DATA_RESOURCE_TYPES), len(CORE_BEDROCK_DATA_RESOURCE_TYPES))


def test_a_public_parameter_nobody_documented_is_a_docs_failure(tmp_path: Path, monkeypatch) -> None:
    """The API reference's prop check over a small module: documented by ``:param``, by a code mention or by a
    ``#:`` comment on a dataclass field passes; a bare parameter is named, with the fix."""
    import importlib

    import pdoc.doc

    (tmp_path / "probe_api.py").write_text('''"""Probe."""
from dataclasses import dataclass

__all__ = ["Fielded", "documented", "mentioned", "bare"]


@dataclass
class Fielded:
    """A dataclass."""

    #: Why this field exists.
    size: int = 1


def documented(x: int) -> None:
    """Doc.

    :param x: the x.
    """


def mentioned(y: int) -> None:
    """Takes ``y``."""


def bare(z: int) -> None:
    """No word about its parameter."""
''', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    build_docs._read_comment_docstrings()
    module = pdoc.doc.Module(importlib.import_module("probe_api"))
    problems = list(build_docs.undocumented_params(module))
    assert len(problems) == 1 and "probe_api.bare: `z` is not documented" in problems[0], problems


def test_comment_docstrings_are_read_above_assignments() -> None:
    import ast

    source = "class C:\n    #: One.\n    #: Two.\n    a: int = 1\n    b = 2\n    def __init__(self):\n        #: Three.\n        self.c = 3\n"
    assert build_docs.comment_docstrings(source, ast.parse(source).body[0]) == {"a": "One. Two.", "c": "Three."}


def test_the_readme_stays_a_landing_page() -> None:
    """Issue #24: the README is the landing page, a few hundred lines; detail belongs in a docs/ page it links."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < 400, f"README.md has {lines} lines: move detail into a page of docs/ and link it"
