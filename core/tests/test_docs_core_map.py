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
