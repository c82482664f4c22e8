"""Every ``python`` block of docs/plugin-discovery.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin-discovery.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["info"].strip() == "python"]


def test_every_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"example {number} of {DOC.name} failed: {type(exc).__name__}: {exc}\n{code}")
    assert "piper-a:piper, piper-b:piper" in capsys.readouterr().out
