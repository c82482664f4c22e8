"""Every ``python`` block of docs/plugin-discovery.md runs, in order, in one namespace."""

from __future__ import annotations

import pytest
from _docs_blocks import DOCS, python_blocks, run_python_blocks

DOC = DOCS / "plugin-discovery.md"


def test_every_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(python_blocks(DOC)) >= 2
    run_python_blocks(DOC)
    assert "piper-a:piper, piper-b:piper" in capsys.readouterr().out
