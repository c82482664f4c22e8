"""docs/how-the-core-is-built.md: every module it names exists, and its example runs."""

from __future__ import annotations

import importlib
import re

from _docs_blocks import DOCS, python_blocks, run_python_blocks

DOC = DOCS / "how-the-core-is-built.md"
MODULE = re.compile(r"`(lollms_core(?:\.[a-z_]+)*)`")


def test_every_module_on_the_map_exists():
    named = sorted(set(MODULE.findall(DOC.read_text())))
    assert len(named) >= 25, named  # the map names the modules of each step
    missing = []
    for name in named:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            missing.append(name)
    assert not missing, f"docs/how-the-core-is-built.md names modules that do not exist: {missing}"


def test_the_maps_example_runs():
    assert len(python_blocks(DOC)) == 1
    run_python_blocks(DOC)


def test_the_layer_table_is_the_one_the_import_graph_test_enforces():
    from test_import_graph import LAYERS

    text = DOC.read_text()
    for layer, prefixes in LAYERS:
        row = next((line for line in text.splitlines() if line.startswith(f"| {layer} |")), None)
        assert row is not None, f"docs/how-the-core-is-built.md has no row for the layer {layer!r}"
        for prefix in prefixes:
            assert f"`{prefix}" in row, f"the {layer!r} row does not name {prefix}"
