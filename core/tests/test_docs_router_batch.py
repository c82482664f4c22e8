"""Every ``python`` block of docs/router-and-batch.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "router-and-batch.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.mark.skipif(not DOC.is_file(), reason="docs/ is not shipped with the core distribution")
def test_every_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["info"].strip() == "python"]
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"example {number} of {DOC.name} failed: {type(exc).__name__}: {exc}\n{code}")
