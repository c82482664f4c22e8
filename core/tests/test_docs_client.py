"""Every ``python`` block of docs/using-lollmsclient.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "using-lollmsclient.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["info"].strip() == "python"]


def test_the_guide_has_runnable_examples():
    assert len(python_blocks()) >= 10


def test_every_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for number, code in enumerate(python_blocks(), 1):
        try:
            exec(compile(code, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"example {number} of {DOC.name} failed: {type(exc).__name__}: {exc}\n{code}")
    assert "Error: " in capsys.readouterr().out  # the error-handling example printed the seed's dict
