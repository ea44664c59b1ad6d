"""The house a newcomer enters: nothing uses naive time, bot/ shows its layers, and the project's modules import
each other one way only — no cycles, counting imports inside functions (imports under `TYPE_CHECKING`, used only
for type hints, don't count), and no project import hidden inside a function. (That the domain stays
platform-neutral and the layers hold is import-linter's job: the contracts in pyproject.toml, run by
`lint-imports` in .ci/run.)"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")


def test_no_naive_now():
    pattern = re.compile(r"datetime\.(utcnow|now)\(\)|datetime\.today\(\)")
    offenders = []
    for folder in PACKAGES:
        for p in (ROOT / folder).rglob("*.py"):
            if pattern.search(p.read_text()):
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []


def test_bot_shows_its_layers():
    """At most eight modules directly in bot/; everything else in the kernel, shared helpers or a feature."""
    top = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(top) <= 8, top
    packages = sorted(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists())
    assert packages == ["features", "kernel", "shared"]


def _modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = p
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported project module, inside a function?) for every import that runs (not under TYPE_CHECKING)."""

    def project_module(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package[: len(package) - child.level + 1] + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in child.names]
            for name in names:
                target = project_module(name)
                if target and target != module:
                    found.append((target, in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(path.read_text()), False)
    return found


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    hidden = []
    for module, path in modules.items():
        graph[module] = set()
        for target, in_function in _imports(module, path, modules):
            graph[module].add(target)
            # app.py, the composition root, loads a front end only when it is asked to run (the console starts
            # without importing either platform's SDK); every module of the project imports at the top.
            if in_function and module != "app":
                hidden.append(f"{module} -> {target}")
    return graph, hidden


def test_no_import_cycles_counting_imports_inside_functions():
    graph, _ = _graph()
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def test_project_imports_are_at_the_top_of_the_file():
    """A project import inside a function hides a dependency (and usually a cycle) from the reader."""
    _, hidden = _graph()
    assert sorted(set(hidden)) == []
