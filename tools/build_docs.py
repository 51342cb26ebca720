"""Build the API reference of ``compliant_bedrock`` with pdoc (pinned in requirements-dev.txt), warnings as errors.

Every module of the package is documented, so every public construct, prop, attribute and function has a page
(its signature, its type hints, its docstring). A reference nobody checks rots silently, so the build fails on:

- any warning pdoc raises (a module that does not import, an annotation it cannot resolve, a repeated module);
- a Sphinx cross-reference role (``:class:`X```, ``:func:`f```, ...) that pdoc renders as plain code instead of
  a link, because its target does not exist where the docstring says (a renamed or moved name);
- a prop of a public construct or a parameter of a public function (``compliant_bedrock.__all__``) that its
  docstrings do not document: a ``:param name:``, a ````name```` in the text, or a documented attribute of that
  name (a dataclass field's ``#:`` comment).

Usage: ``python tools/build_docs.py [OUTPUT_DIR]`` (default ``build/docs``; ``make docs`` runs it). The output
is not committed. Exit 0 with no output but the page count, 1 listing every problem.
"""

from __future__ import annotations

import ast
import html
import importlib
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


#: Parameters every construct has and no docstring needs to explain.
_CONVENTIONAL = {"self", "scope", "id", "construct_id"}


def undocumented_params(module: Any) -> Iterator[str]:
    """Yields one line per parameter of a public name of ``module`` (a pdoc ``Module``, its ``__all__``) that
    neither a ``:param`` field, a code mention nor a documented attribute explains."""
    import enum
    import inspect

    import pdoc.doc

    for member in module.members.values():
        if member.name not in getattr(module.obj, "__all__", ()):
            continue
        if isinstance(member, pdoc.doc.Variable) and member.obj is None:
            yield f"{module.modulename}.{member.name}: exported but not importable, so not documented"
            continue
        if isinstance(member, pdoc.doc.Class):
            if issubclass(member.obj, enum.Enum):
                continue
            init = member.members.get("__init__")
            docs = "\n".join([member.docstring, init.docstring if init else ""])
            attributes = {n for n, m in member.members.items() if isinstance(m, pdoc.doc.Variable) and m.docstring}
            target = member.obj
        elif isinstance(member, pdoc.doc.Function):
            docs, attributes, target = member.docstring, set(), member.obj
        else:
            continue
        try:
            parameters = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):
            continue
        documented = set(attributes)
        for field in re.finditer(r":param ([\w, ]+):", docs):
            documented |= {name.strip() for name in field[1].split(",")}
        for parameter in parameters:
            name = parameter.name
            if (name in _CONVENTIONAL or name in documented or f"``{name}``" in docs
                    or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)):
                continue
            yield (f"{module.modulename}.{member.name}: `{name}` is not documented: add `:param {name}: ...` to "
                   f"its docstring (or a `#:` comment on the field)")


def _assigned_name(node: ast.AST) -> str | None:
    """``x = ...``, ``x: T = ...``, ``self.x = ...``: the name assigned, else None."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    if len(targets) != 1:
        return None
    target = targets[0]
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return target.attr
    return None


def comment_docstrings(source: str, tree: ast.Module | ast.ClassDef) -> dict[str, str]:
    """The ``#:`` comment block right above each assignment of ``tree`` (and of its ``__init__``): the
    project documents constants, fields and attributes that way (Sphinx's convention), which pdoc does not read."""
    lines = source.splitlines()
    nodes = list(tree.body)
    nodes += [n for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "__init__" for n in f.body]
    found: dict[str, str] = {}
    for node in nodes:
        name = _assigned_name(node)
        if name is None or name in found:
            continue
        comment, i = [], node.lineno - 2
        while i >= 0 and lines[i].lstrip().startswith("#:"):
            comment.insert(0, lines[i].lstrip()[2:].strip())
            i -= 1
        if comment:
            found[name] = " ".join(comment)
    return found


def _read_comment_docstrings() -> None:
    """Teach pdoc (pinned, 16.0.0) the ``#:`` comments: its syntax-tree walk gives only string literals after an
    assignment as attribute docstrings, so every ``#:``-documented constant and field would render bare, and the
    prop check below would call a documented dataclass field undocumented. A string docstring still wins."""
    import pdoc.doc_ast

    walk = pdoc.doc_ast.walk_tree
    if getattr(walk, "reads_comments", False):
        return

    def walk_tree(obj: Any) -> Any:
        info = walk(obj)
        source = pdoc.doc_ast.get_source(obj)
        if source:
            tree = pdoc.doc_ast.parse(obj)
            if isinstance(tree, ast.Module | ast.ClassDef):
                for name, text in comment_docstrings(source, tree).items():
                    info.var_docstrings.setdefault(name, text)
        return info

    walk_tree.reads_comments = True  # type: ignore[attr-defined]
    pdoc.doc_ast.walk_tree = walk_tree


def build(output: Path = DEFAULT_OUTPUT) -> list[str]:
    """Render every module into ``output`` (emptied first); return the problems, empty when the build is clean."""
    sys.path[:0] = [str(ROOT / "constructs"), str(ROOT)]
    import pdoc
    import pdoc.doc
    import pdoc.render

    _read_comment_docstrings()
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
    package = importlib.import_module("compliant_bedrock")
    for name in package.__all__:  # resolve the lazy exports, so pdoc sees the objects, not unset names
        getattr(package, name)
    problems += undocumented_params(pdoc.doc.Module.from_name("compliant_bedrock"))
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
