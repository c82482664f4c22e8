"""Every ``python`` block of docs/using-lollmsclient.md runs, in order, in one namespace."""

from __future__ import annotations

from _docs_blocks import DOCS, python_blocks, run_python_blocks

DOC = DOCS / "using-lollmsclient.md"


def test_the_guide_has_runnable_examples():
    assert len(python_blocks(DOC)) >= 10


def test_every_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_python_blocks(DOC)
    assert "Error: " in capsys.readouterr().out  # the error-handling example printed the seed's dict
