"""Quarantining flaky pytest tests: `@pytest.mark.flaky(reruns=N)` on the test, and off again later.

The marker is pytest-rerunfailures'. Edits are line insertions (the test file keeps every other byte)
checked with `ast`: the edited module must equal the original plus (or minus) exactly that decorator
on exactly that function, or no edit is proposed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from mlops_bot.healing.dependency_files._core import DependencyEdit, _edit, _eol, _insert_line, _lines

RERUN_PLUGIN = "pytest-rerunfailures"
FLAKY_PLUGIN = "flaky"  # the `flaky` package: `@flaky(max_runs=N)`, a repository's existing mechanism
_MARKER = re.compile(r"^\s*@(?:pytest\.mark\.flaky|flaky)\b")


@dataclass(frozen=True)
class Mechanism:
    """How the repository marks a test for reruns: the decorator and the import it needs."""

    plugin: str
    decorator: str  # with `{reruns}` to fill
    import_line: str

    def marker(self, reruns: int) -> str:
        return self.decorator.format(reruns=reruns, runs=reruns + 1)


RERUNFAILURES = Mechanism(RERUN_PLUGIN, "@pytest.mark.flaky(reruns={reruns})", "import pytest")
FLAKY = Mechanism(FLAKY_PLUGIN, "@flaky(max_runs={runs})", "from flaky import flaky")


@dataclass(frozen=True)
class NodeId:
    """`tests/test_api.py::TestPredict::test_batch[cpu-4]` as file, class path and function."""

    path: str
    classes: tuple[str, ...]
    function: str

    @classmethod
    def parse(cls, node_id: str) -> NodeId | None:
        parts = node_id.split("::")
        if len(parts) < 2 or not parts[0].endswith(".py"):
            return None
        function = re.sub(r"\[.*\]$", "", parts[-1])
        if not function.isidentifier() or not all(p.isidentifier() for p in parts[1:-1]):
            return None
        return cls(parts[0], tuple(parts[1:-1]), function)

    @property
    def name(self) -> str:
        return "::".join((*self.classes, self.function))


def _find(tree: ast.Module, test: NodeId) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    body: list[ast.stmt] = tree.body
    for name in test.classes:
        found = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if found is None:
            return None
        body = found.body
    return next(
        (n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == test.function), None
    )


def _is_flaky_marker(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target) in {"pytest.mark.flaky", "flaky"}


def _without_marker(tree: ast.Module, test: NodeId) -> str:
    function = _find(tree, test)
    if function is not None:
        function.decorator_list = [d for d in function.decorator_list if not _is_flaky_marker(d)]
    return ast.dump(tree)


def _parse(content: str) -> ast.Module | None:
    try:
        return ast.parse(content)
    except SyntaxError:
        return None


def _is_import(node: ast.stmt, import_line: str) -> bool:
    return isinstance(node, ast.Import | ast.ImportFrom) and ast.unparse(node) == import_line


def _imports(tree: ast.Module, import_line: str) -> bool:
    return any(_is_import(n, import_line) for n in tree.body)


def _without_import(tree: ast.Module, import_line: str) -> ast.Module:
    tree.body = [
        n for n in tree.body if not (isinstance(n, ast.Import | ast.ImportFrom) and ast.unparse(n) == import_line)
    ]
    return tree


def _import_line(tree: ast.Module) -> int:
    """The 0-based line before which `import pytest` goes: after the docstring and `__future__` imports,
    before the first other import (or statement)."""
    index = 0
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and index == 0
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            index = node.end_lineno or node.lineno
            continue
        return node.lineno - 1 if isinstance(node, ast.Import | ast.ImportFrom) else index
    return index


def mark_flaky(
    path: str, content: str, tests: list[NodeId], reruns: int, mechanism: Mechanism = RERUNFAILURES
) -> DependencyEdit | None:
    """Put the rerun marker (`@pytest.mark.flaky(reruns=N)`, or the repository's `@flaky(max_runs=N+1)`)
    on each test of this file that does not carry one yet."""
    tree = _parse(content)
    if tree is None:
        return None
    lines, eol = _lines(content), _eol(content)
    inserts: list[tuple[int, str]] = []
    marked: list[NodeId] = []
    for test in tests:
        function = _find(tree, test)
        if function is None or any(_is_flaky_marker(d) for d in function.decorator_list):
            continue
        indent = re.match(r"[ \t]*", lines[function.lineno - 1]).group(0)  # type: ignore[union-attr]
        first = min([d.lineno for d in function.decorator_list] + [function.lineno]) - 1
        inserts.append((first, f"{indent}{mechanism.marker(reruns)}"))
        marked.append(test)
    if not inserts:
        return None
    if not _imports(tree, mechanism.import_line):
        inserts.append((_import_line(tree), mechanism.import_line))
    new_lines = list(lines)
    for index, text in sorted(inserts, key=lambda i: i[0], reverse=True):
        new_lines = _lines(_insert_line(new_lines, index, text, eol))
    new_content = "".join(new_lines)
    new_tree = _parse(new_content)
    if new_tree is None:
        return None
    for test in marked:
        function = _find(new_tree, test)
        if function is None or sum(_is_flaky_marker(d) for d in function.decorator_list) != 1:
            return None
    reduced = _without_import(new_tree, mechanism.import_line)
    original = _without_import(tree, mechanism.import_line)
    for test in marked:
        _without_marker(reduced, test)
    if ast.dump(reduced) != ast.dump(original):
        return None
    names = ", ".join(t.name for t in marked)
    return _edit(path, content, new_content, f"{mechanism.marker(reruns)} on {names}")


def unmark_flaky(path: str, content: str, tests: list[NodeId]) -> DependencyEdit | None:
    """Take the one-line `@pytest.mark.flaky(...)` off each test again (the quarantine is over)."""
    tree = _parse(content)
    if tree is None:
        return None
    lines = _lines(content)
    drop: list[int] = []
    released: list[NodeId] = []
    for test in tests:
        function = _find(tree, test)
        if function is None:
            continue
        for decorator in function.decorator_list:
            one_line = decorator.lineno == decorator.end_lineno and _MARKER.match(lines[decorator.lineno - 1])
            if _is_flaky_marker(decorator) and one_line:
                drop.append(decorator.lineno - 1)
                released.append(test)
    if not drop:
        return None
    new_content = "".join(line for i, line in enumerate(lines) if i not in set(drop))
    new_tree = _parse(new_content)
    if new_tree is None:
        return None
    for test in released:
        _without_marker(tree, test)
    if ast.dump(new_tree) != ast.dump(tree):
        return None
    return _edit(path, content, new_content, "removed @pytest.mark.flaky from " + ", ".join(t.name for t in released))
