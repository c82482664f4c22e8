"""The fenced blocks of a page in docs/, and running its Python examples in order (one namespace).

Every docs page's examples are executed by a test; they all read and run them through here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(doc: Path) -> list[tuple[str, str]]:
    """``(info string, code)`` of every fenced block of ``doc``, in order."""
    return [(m["info"].strip(), m["code"]) for m in FENCE.finditer(doc.read_text(encoding="utf-8"))]


def python_blocks(doc: Path) -> list[str]:
    """The code of ``doc``'s ```` ```python ```` blocks, in order."""
    return [code for info, code in blocks(doc) if info == "python"]


def run_python_blocks(doc: Path) -> dict[str, object]:
    """Run ``doc``'s Python blocks in order in one namespace; a failing block fails the test naming it."""
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for number, code in enumerate(python_blocks(doc), 1):
        try:
            exec(compile(code, f"{doc.name} block {number}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"example {number} of {doc.name} failed: {type(exc).__name__}: {exc}\n{code}")
    return namespace
