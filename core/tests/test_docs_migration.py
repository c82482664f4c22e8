"""Every ``python`` block of docs/migrating-from-lollms-client.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating-from-lollms-client.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["info"].strip() == "python"]


def test_the_page_has_runnable_examples():
    assert len(python_blocks()) >= 7


def test_every_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples write chats.db in the current folder
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for number, code in enumerate(python_blocks(), 1):
        try:
            exec(compile(code, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"example {number} of {DOC.name} failed: {type(exc).__name__}: {exc}\n{code}")
    out = capsys.readouterr().out
    assert "web_search=True" in out  # the refused option was named
    assert "use llm_binding_name=" in out


def test_the_table_names_every_lollms_client_discussion_item_of_issue_14():
    text = DOC.read_text()
    for name in (
        "active_branch_id", "fork_from", "list_branches", "get_tree", "switch_to_branch", "switch_to_sibling",
        "delete_branch", "regenerate_branch", "prune_branch", "get_context_status", "summarize_and_prune",
        "auto_title", "sender_type", "raw_content", "thoughts", "model_name", "ollama_chat", "format_type",
        "listMountedPersonalities", "lc.llm.tp", "count_image_tokens", "get_ctx_size", "update_llm_binding",
        "switch_llm_model", "multichoice_ranking", "long_context_processing", "separator_template",
    ):  # fmt: skip
        assert name in text, name
