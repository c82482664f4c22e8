"""Every Python example in docs/discussions.md runs and its assertions hold."""

from __future__ import annotations

import os

import pytest
from _docs_blocks import DOCS, python_blocks

DOC = DOCS / "discussions.md"
BLOCKS = python_blocks(DOC) if DOC.is_file() else []


@pytest.mark.skipif(not DOC.is_file(), reason="docs/ is not shipped with the core distribution")
@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_doc_example_runs_and_writes_nothing_to_cwd(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {"__name__": "doc_example"})
    assert os.listdir(tmp_path) == []


def test_the_doc_has_examples():
    if DOC.is_file():
        assert len(BLOCKS) >= 5
