"""Every ``python`` block of docs/migrating-from-lollms-client.md runs, in order, in one namespace."""

from __future__ import annotations

from _docs_blocks import DOCS, python_blocks, run_python_blocks

DOC = DOCS / "migrating-from-lollms-client.md"


def test_the_page_has_runnable_examples():
    assert len(python_blocks(DOC)) >= 7


def test_every_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples write chats.db in the current folder
    run_python_blocks(DOC)
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
