"""``LollmsDiscussion.chat(..., tools=...)``: calls and results stored as messages, reloaded and re-sent.

The echo binding follows the ``/call`` script of the last user message (builtin/_echo_tools.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lollms_core import LollmsClient, LollmsDiscussion
from lollms_core.discussion import _store as store
from lollms_core.errors import ConfigError, LollmsError, NotSupportedError


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def mul(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@pytest.fixture
def client() -> Any:
    with LollmsClient(llm_binding_name="echo") as made:
        yield made


def spy(client: Any) -> list[list[dict[str, Any]]]:
    """Record the messages of every request the client's binding builds."""
    seen: list[list[dict[str, Any]]] = []
    original = client.llm.build_request

    def build(messages: Any, **kwargs: Any) -> Any:
        seen.append([dict(m) for m in messages])
        return original(messages, **kwargs)

    client.llm.build_request = build
    return seen


def test_calls_and_results_are_stored_as_messages(client: Any, tmp_path: Path) -> None:
    db = tmp_path / "tools.sqlite"
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)
    events: list[Any] = []
    answer = d.chat('/call add {"a": 2, "b": 3}', lambda t, ty, meta=None: events.append(ty), tools=[add])
    assert answer.content == "5"
    assert answer["ai_message"] is answer
    roles = [m.role for m in d.get_messages()]
    assert roles == ["user", "assistant", "tool", "assistant"]
    call_msg, result_msg = d.get_messages()[1:3]
    (call,) = call_msg.metadata["tool_calls"]
    assert call["function"] == {"name": "add", "arguments": '{"a": 2, "b": 3}'}
    assert result_msg.metadata == {"tool_call_id": call["id"], "tool_name": "add"}
    assert result_msg.content == "5"
    assert 19 in events and 20 in events
    d.close()

    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    assert [(m.role, m.content, m.metadata.get("tool_call_id")) for m in again.get_messages()] == [
        (m.role, m.content, m.metadata.get("tool_call_id")) for m in d.get_messages()
    ]
    exported = again.export("openai_chat")
    assert exported[-3]["tool_calls"][0]["id"] == call["id"]
    assert exported[-3]["content"] is None
    assert exported[-2] == {"role": "tool", "content": "5", "tool_call_id": call["id"], "name": "add"}
    again.close()


def test_a_reloaded_discussion_resends_its_calls_natively(client: Any, tmp_path: Path) -> None:
    db = tmp_path / "resend.sqlite"
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)
    d.chat('/call add {"a": 2, "b": 3}', tools=[add])
    d.close()
    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    seen = spy(client)
    assert again.chat('/call add {"a": 1, "b": 1}', tools=[add]).content == "2"
    first = next(m for m in seen if len(m) > 1)  # the loop's first request (the options check sends one message)
    assert [m["role"] for m in first] == ["user", "assistant", "tool", "assistant", "user"]
    assert first[2]["tool_call_id"] == first[1]["tool_calls"][0]["id"]
    assert [m.role for m in again.get_messages()].count("tool") == 2
    again.close()


def test_a_reloaded_discussion_whose_tool_is_gone(client: Any, tmp_path: Path) -> None:
    db = tmp_path / "gone.sqlite"
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)
    d.chat('/call add {"a": 2, "b": 3}', tools=[add])
    d.close()
    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    seen = spy(client)
    # no tools at all: the old turns go as text, nothing is dropped
    plain = again.chat("and now?")
    assert plain.content == "and now?"
    assert all(m["role"] != "tool" and "tool_calls" not in m for m in seen[-1])
    assert any("<tool_result" in str(m["content"]) and "5" in str(m["content"]) for m in seen[-1])
    # other tools: the gone tool's turns as text, the new calls native
    other = again.chat('/call mul {"a": 2, "b": 4}', tools=[mul])
    assert other.content == "8"
    assert all(m.get("name") != "add" for m in seen[-1] if m["role"] == "tool")
    assert len(again.get_messages()) == 4 + 2 + 4, "every message kept"
    again.close()


def test_a_backend_failure_in_round_two_keeps_round_one_in_the_discussion(client: Any, tmp_path: Path) -> None:
    """Regression (issue 21): the turn used to be stored only after the loop: round 1's call and result were lost."""
    from lollms_core.errors import BackendError

    db = tmp_path / "partial.sqlite"
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)
    real_run = client.llm.run
    asked = [0]

    def failing_second(request: Any, callback: Any = None) -> Any:
        asked[0] += 1
        if asked[0] == 2:
            raise BackendError("the server went away", status_code=502)
        return real_run(request, callback)

    client.llm.run = failing_second
    with pytest.raises(BackendError, match="went away"):
        d.chat('/call add {"a": 2, "b": 3}', tools=[add])
    stored = [(m.role, m.content) for m in d.get_messages()]
    assert [r for r, _ in stored] == ["user", "assistant", "tool"]
    assert stored[2] == ("tool", "5")
    d.close()
    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    assert [(m.role, m.content, m.metadata) for m in again.get_messages()] == [
        (m.role, m.content, m.metadata) for m in d.get_messages()
    ], "memory equals disk"
    # the backend is back: the kept turn is sent as it was, and the discussion goes on
    client.llm.run = real_run
    seen = spy(client)
    assert again.chat('/call add {"a": 1, "b": 1}', tools=[add]).content == "2"
    first = next(m for m in seen if len(m) > 1)
    assert [m["role"] for m in first] == ["user", "assistant", "tool", "user"]
    again.close()


def test_a_before_call_that_raises_leaves_every_call_answered(client: Any, tmp_path: Path) -> None:
    db = tmp_path / "refused.sqlite"
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)

    def approve_add_only(call: Any) -> bool:
        if call.name != "add":
            raise KeyboardInterrupt  # the user pressed Ctrl-C at the approval prompt
        return True

    with pytest.raises(KeyboardInterrupt):
        d.chat('/call add {"a": 2, "b": 3}\n/call mul {"a": 2, "b": 4}', tools=[add, mul], before_call=approve_add_only)
    messages = d.get_messages()
    assert [m.role for m in messages] == ["user", "assistant", "tool", "tool"]
    ids = [c["id"] for c in messages[1].metadata["tool_calls"]]
    assert [m.metadata["tool_call_id"] for m in messages[2:]] == ids
    assert messages[2].content == "5"
    assert "KeyboardInterrupt" in messages[3].content
    d.close()
    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    assert len(again.get_messages()) == 4


def test_bad_tool_options_change_nothing(client: Any) -> None:
    d = LollmsDiscussion.create_new(lollms_client=client)
    with pytest.raises(ConfigError, match="tool_choice 'sub'"):
        d.chat("hi", tools=[add], tool_choice="sub")
    with pytest.raises(ConfigError):
        d.chat("hi", tools=[42])
    assert d.get_messages() == []


def test_without_native_tools_the_fix_is_named_and_prompt_mode_works(tmp_path: Path) -> None:
    with LollmsClient(llm_binding_name="echo", llm_binding_config={"tool_calling": "none"}) as plain:
        d = LollmsDiscussion.create_new(lollms_client=plain)
        with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
            d.chat('/call add {"a": 1, "b": 2}', tools=[add])
        assert d.get_messages() == [], "refused before the user turn was stored"
        d.chat('/call add {"a": 1, "b": 2}', tools=[add], tool_mode="prompt")
        assert [m.role for m in d.get_messages()] == ["user", "assistant", "tool", "assistant"]
        assert d.get_messages()[2].content == "3"


def test_lollms_client_max_nb_rounds_caps_the_loop(client: Any) -> None:
    d = LollmsDiscussion.create_new(lollms_client=client)
    answer = d.chat('/loop add {"a": 1, "b": 1}', tools=[add], max_nb_rounds=2)
    assert [m.role for m in d.get_messages()].count("tool") == 2
    assert answer.content.startswith("Maximum tool rounds reached")


def test_a_file_from_before_tool_turns_is_upgraded_in_place_and_older_code_refuses_the_new_one(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "before.sqlite"
    before = store.SCHEMA_VERSION - 1  # the version before tool turns (the step adds no table change)
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=db, system_prompt="keep me")
    d.chat("written before tools")
    d.close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {before}")  # as the release before tool calling left it
    con.commit()
    con.close()
    again = LollmsDiscussion.load(db, d.id, lollms_client=client)
    assert [m.content for m in again.get_messages()] == ["written before tools", "written before tools"]
    assert again.system_prompt == "keep me"
    again.chat('/call add {"a": 2, "b": 3}', tools=[add])
    again.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == before + 1
    con.close()
    monkeypatch.setattr(store, "SCHEMA_VERSION", before)  # the code of that release
    with pytest.raises(LollmsError, match="upgrade lollms-core"):
        LollmsDiscussion.load(db, d.id, lollms_client=client)
