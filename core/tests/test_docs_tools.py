"""Every ``python`` block of docs/tools.md runs, in order, in one namespace."""

from __future__ import annotations

from pathlib import Path

import pytest
from _docs_blocks import DOCS, python_blocks, run_python_blocks

DOC = DOCS / "tools.md"


@pytest.mark.skipif(not DOC.is_file(), reason="docs/ is not shipped with the core distribution")
def test_every_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(python_blocks(DOC)) >= 12
    namespace = run_python_blocks(DOC)
    assert namespace["notes"].lines == ["buy milk"]  # type: ignore[attr-defined]
