"""The core's import graph is one-way (issue 12.1): no cycle, and every module imports on its own.

The walk reads every ``import`` of ``lollms_core`` with ``ast``, function-level imports
included (a cycle hidden in a function is still a cycle: it only waits for the first
call), ``if TYPE_CHECKING:`` blocks excluded (never run). Importing ``a.b.c`` also runs
``a`` and ``a.b``; a module's own parent packages are not counted, since Python always
initialises them first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lollms_core

ROOT = Path(lollms_core.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.split(".")[0] == "lollms_core")

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "lollms_core":
                return
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    edges = set()
    for name in found:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            step = ".".join(parts[:i])
            if step in MODULES and step != module and not f"{module}.".startswith(f"{step}."):
                edges.add(step)
    return edges


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path, or ``None``."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_walker_sees_a_cycle_hidden_in_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_registry_knows_nothing_of_discovery() -> None:
    for module in [m for m in MODULES if m.startswith("lollms_core.registry")]:
        imported = _imports(module, MODULES[module])
        assert not {m for m in imported if m.startswith("lollms_core.discovery")}, module


def test_no_import_cycle_among_core_modules() -> None:
    graph = {module: _imports(module, path) for module, path in MODULES.items()}
    assert len(graph) > 30, "the walk must see the whole package"
    assert "lollms_core.registry._sources" in graph["lollms_core.registry._table"], (
        "the walk must see module-level imports"
    )
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    script = "import importlib, sys; importlib.import_module(sys.argv[1])"
    failures = {}
    for module in sorted(m for m in MODULES if not m.endswith(".__main__")):  # __main__ runs the command
        run = subprocess.run(
            [sys.executable, "-c", script, module],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if run.returncode != 0:
            failures[module] = (run.stdout + run.stderr).strip()[-500:]
    assert not failures, failures
