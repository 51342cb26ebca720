"""Build the API reference of ``compliant_bedrock`` with pdoc (pinned in requirements-dev.txt), warnings as errors.

Every module of the package is documented, so every public construct, prop, attribute and function has a page
(its signature, its type hints, its docstring). A reference nobody checks rots silently, so the build fails on:

- any warning pdoc raises (a module that does not import, an annotation it cannot resolve, a repeated module);
- a Sphinx cross-reference role (``:class:`X```, ``:func:`f```, ...) that pdoc renders as plain code instead of
  a link, because its target does not exist where the docstring says (a renamed or moved name).

Usage: ``python tools/build_docs.py [OUTPUT_DIR]`` (default ``build/docs``; ``make docs`` runs it). The output
is not committed. Exit 0 with no output but the page count, 1 listing every problem.
"""

from __future__ import annotations

import ast
import html
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "constructs" / "compliant_bedrock"
DEFAULT_OUTPUT = ROOT / "build" / "docs"

#: A Sphinx role with an explicit target: ``:class:`~pkg.Name```; the role's target is group 2.
ROLE = re.compile(r":(class|func|meth|attr|mod|data|exc|obj|const):`~?([^`<>]+?)`")
#: One rendered docstring (pdoc's template: ``<div class="docstring">``, never nested).
DOCSTRING = re.compile(r'<div class="docstring">(.*?)</div>', re.S)
#: Plain code in a rendered docstring: what pdoc leaves of a reference it could not link.
UNLINKED_CODE = re.compile(r"<code>([^<]+)</code>")


def _defines_all(init: Path) -> bool:
    """Whether a package's ``__init__`` assigns ``__all__`` (read, not imported)."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Assign | ast.AnnAssign)
               and any(isinstance(t, ast.Name) and t.id == "__all__"
                       for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
               for node in tree.body)


def module_names(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Every module of the package, each once. pdoc walks the submodules of a package without ``__all__`` by
    itself, and warns when one is named twice; a package with ``__all__`` hides the submodules it does not list,
    so those are named explicitly."""
    names: list[str] = []
    base = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        if path.name == "__init__.py":
            parts = path.parent.relative_to(base).parts
            parent_init = path.parent.parent / "__init__.py"
        else:
            parts = (*path.parent.relative_to(base).parts, path.stem)
            parent_init = path.parent / "__init__.py"
        if len(parts) == 1 or _defines_all(parent_init):
            names.append(".".join(parts))
    return names


def role_targets(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Per module name, the targets of the Sphinx roles its source writes (docstrings and comments alike: only
    those in docstrings can appear rendered)."""
    base = package_dir.parent
    targets: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        rel = path.relative_to(base).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found = {m[2] for m in ROLE.finditer(path.read_text(encoding="utf-8"))}
        if found:
            targets[".".join(parts)] = found
    return targets


def unresolved_roles(output: Path, targets: dict[str, set[str]]) -> Iterator[str]:
    """A role pdoc resolved becomes a link; one it could not is left as ``<code>target</code>`` in the
    rendered docstring. Yields one line per such target, naming the module and the target."""
    for module, names in sorted(targets.items()):
        page = output / (module.replace(".", "/") + ".html")
        if not page.is_file():
            continue
        rendered = "".join(DOCSTRING.findall(page.read_text(encoding="utf-8")))
        for code in sorted({html.unescape(c).removesuffix("()") for c in UNLINKED_CODE.findall(rendered)}):
            if code in names or code.lstrip("~") in names:
                yield (f"{module}: the cross-reference `{code}` resolves to nothing pdoc documents: name the "
                       f"object where it is defined (e.g. `compliant_bedrock.module.Name`) or write it as "
                       f"plain ``code``")


def build(output: Path = DEFAULT_OUTPUT) -> list[str]:
    """Render every module into ``output`` (emptied first); return the problems, empty when the build is clean."""
    sys.path[:0] = [str(ROOT / "constructs"), str(ROOT)]
    import pdoc
    import pdoc.render

    if output.exists():
        shutil.rmtree(output)
    pdoc.render.configure(docformat="restructuredtext", search=True, show_source=True,
                          footer_text="compliant-bedrock API reference (generated by make docs)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*module_names(), output_directory=output)
    problems = [f"pdoc: {w.message} ({Path(w.filename).name}:{w.lineno})" for w in caught
                if not issubclass(w.category, DeprecationWarning) or "pdoc" in w.filename]
    problems += unresolved_roles(output, role_targets())
    return problems


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    problems = build(output.resolve())
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    pages = sum(1 for _ in output.rglob("*.html"))
    if problems:
        print(f"docs: FAILED: {len(problems)} problem(s) in the API reference ({pages} pages in {output})",
              file=sys.stderr)
        return 1
    print(f"docs: API reference built, no warnings: {pages} pages in {output} (open index.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
