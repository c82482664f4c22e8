"""docs/how-the-core-is-built.md: every module it names exists, and its example runs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-the-core-is-built.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
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
    blocks = [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["info"].strip() == "python"]
    assert len(blocks) == 1
    exec(compile(blocks[0], DOC.name, "exec"), {"__name__": "docs_example"})
