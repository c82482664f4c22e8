"""The import graph is one-way, layer by layer (issue 20), ``TYPE_CHECKING`` imports included.

The walk reads every ``import`` with ``ast``: module level, function level (a cycle hidden
in a function is still a cycle: it only waits for the first call) and ``if TYPE_CHECKING:``
blocks (an annotation naming a higher layer is a dependency on it, and a loop that closes
only through one is still a knot). Importing ``a.b.c`` also runs ``a`` and ``a.b``; a
module's own parent packages are not counted, since Python always initialises them first.

``LAYERS`` is the table of docs/how-the-core-is-built.md: a module may import its own layer
and the layers below it, never one above. Every module of the core must have a place in it.
Across the repository (the core, every plugin, every other distribution's package) there is
no import loop at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lollms_core

ROOT = Path(lollms_core.__file__).parent
REPO = ROOT.parents[2]

#: Bottom to top. A prefix names a module and everything under it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "lollms_core.errors",
            "lollms_core.types",
            "lollms_core.text",
            "lollms_core.media",
            "lollms_core.tokens",
            "lollms_core._secrets",
            "lollms_core._cancel",
            "lollms_core._json_schema",
            "lollms_core._seed_rule",
        ),
    ),
    # text_processing: the text helpers over a typed LLM protocol (bindings build their `tp` from it).
    ("plumbing", ("lollms_core.http", "lollms_core.manifest", "lollms_core.compat", "lollms_core.text_processing")),
    # The contracts: one base per modality (bindings/tools.py, the tools modality, included) and the
    # plugin hooks, which name the Manifest type a hook may return.
    ("contracts", ("lollms_core.bindings", "lollms_core.hookspecs")),
    ("registry", ("lollms_core.registry",)),
    ("built-in bindings", ("lollms_core.router", "lollms_core.builtin")),
    ("discovery", ("lollms_core.discovery",)),
    ("jobs and tools", ("lollms_core.batch", "lollms_core.tools")),
    ("discussion", ("lollms_core.discussion",)),
    ("client", ("lollms_core.client",)),
    ("commands and kits", ("lollms_core.cli", "lollms_core.testing", "lollms_core.scaffold")),
    # The package face and lollms_client's alias modules (lollms_core.lollms_*): pure re-exports.
    ("public face", ("lollms_core", "lollms_core.lollms_")),
]

#: Edges the layer rule and the loop check leave alone for now, each with the branch that removes it.
KNOWN_KNOTS: dict[tuple[str, str], str] = {}


def _packages() -> dict[str, Path]:
    """Every first-party import package of the repository: the core, plugins, other distributions."""
    found = {"lollms_core": ROOT}
    for src in sorted(REPO.glob("*/src")) + sorted(REPO.glob("plugins/*/src")):
        for init in sorted(src.glob("*/__init__.py")):
            found.setdefault(init.parent.name, init.parent)
    return found


def _modules(packages: dict[str, Path]) -> dict[str, Path]:
    out = {}
    for package, folder in packages.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


PACKAGES = _packages()
MODULES = _modules(PACKAGES)
CORE = {m: p for m, p in MODULES.items() if m.split(".")[0] == "lollms_core"}


def _imports(module: str, path: Path, known: dict[str, Path] = MODULES) -> set[str]:
    """The first-party modules ``module`` imports, ``TYPE_CHECKING`` blocks and function bodies included."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    roots = {name.split(".")[0] for name in known}
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.split(".")[0] in roots)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] not in roots:
                return
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    edges = set()
    for name in found:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            step = ".".join(parts[:i])
            if step in known and step != module and not f"{module}.".startswith(f"{step}."):
                edges.add(step)
    return edges


def layer_of(module: str) -> int | None:
    """The index in :data:`LAYERS` of ``module`` (longest matching prefix), or ``None``."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "lollms_core":  # the package face itself, not everything under it
                hit = module == prefix
            else:
                hit = module == prefix or module.startswith(prefix if prefix.endswith("_") else f"{prefix}.")
            if hit and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return best[0] if best else None


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path, or ``None``."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
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


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph = {module: _imports(module, path) for module, path in modules.items()}
    for source, target in KNOWN_KNOTS:
        graph.get(source, set()).discard(target)
    return graph


def test_the_walker_sees_a_cycle_hidden_in_a_function() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_walker_counts_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from lollms_core.registry import Registry\n"
        "def late():\n    from lollms_core.discovery import default_registry\n",
        encoding="utf-8",
    )
    known = {**MODULES, "lollms_core.registry": source, "lollms_core.discovery": source}
    edges = _imports("lollms_core.bindings.probe", source, known)
    assert {"lollms_core.registry", "lollms_core.discovery"} <= edges


def test_the_layer_table_places_every_module_of_the_core() -> None:
    assert len(CORE) > 60, "the walk must see the whole package"
    unplaced = sorted(m for m in CORE if layer_of(m) is None)
    assert not unplaced, f"modules without a layer in LAYERS (add them to the table and the docs): {unplaced}"
    assert layer_of("lollms_core.bindings.tools") == layer_of("lollms_core.bindings.llm")  # i22's contract
    assert layer_of("lollms_core.tools.loop") == layer_of("lollms_core.batch")  # i21's package
    assert layer_of("lollms_core.lollms_types") == len(LAYERS) - 1


def test_no_module_imports_a_layer_above_its_own() -> None:
    graph = _graph(CORE)
    assert "lollms_core.bindings.base" in graph["lollms_core.bindings.llm"], "the walk must see module-level imports"
    upward = sorted(
        f"{module} ({LAYERS[layer_of(module) or 0][0]}) -> {target} ({LAYERS[layer_of(target) or 0][0]})"
        for module, targets in graph.items()
        for target in targets
        if target.startswith("lollms_core") and (layer_of(target) or 0) > (layer_of(module) or 0)
    )
    assert not upward, "imports reaching a higher layer:\n" + "\n".join(upward)


def test_the_contracts_know_nothing_of_the_registry_or_discovery() -> None:
    for module, path in CORE.items():
        if module.startswith("lollms_core.bindings"):
            above = {
                t for t in _imports(module, path) if t.startswith(("lollms_core.registry", "lollms_core.discovery"))
            }
            assert not above, f"{module} imports {above}"


def test_registry_knows_nothing_of_discovery() -> None:
    for module, path in CORE.items():
        if module.startswith("lollms_core.registry"):
            imported = _imports(module, path)
            assert not {m for m in imported if m.startswith("lollms_core.discovery")}, module


def test_no_import_loop_anywhere_in_the_repository() -> None:
    assert {"lollms_core", "lollms_openai", "lollms_whisper"} <= set(PACKAGES), PACKAGES
    graph = _graph(MODULES)
    cycle = _cycle(graph)
    assert cycle is None, f"import loop: {' -> '.join(cycle or [])}"


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    script = "import importlib, sys; importlib.import_module(sys.argv[1])"
    failures = {}
    for module in sorted(m for m in CORE if not m.endswith(".__main__")):  # __main__ runs the command
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
