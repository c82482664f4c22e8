"""LollmsDiscussion in memory: the tree, branches, exports, chat and regenerate with the echo LLM."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import lollms_core
import pytest
from lollms_core import LollmsDiscussion
from lollms_core.discussion import MessageNotFoundError
from lollms_core.errors import BackendError, ConfigError, ModalityNotConfiguredError
from lollms_core.text import split_discussion


@pytest.fixture
def echo():
    return lollms_core.LollmsLLMBindingManager().create_binding("echo")


@pytest.fixture
def client(echo):
    # The LollmsClient facade is any object with an ``.llm``: this is the smallest such object.
    return SimpleNamespace(llm=echo)


def test_lazy_export_is_the_class():
    assert lollms_core.LollmsDiscussion is LollmsDiscussion


def test_add_message_builds_the_active_branch_with_ids_parents_and_times():
    d = LollmsDiscussion.create_new()
    a = d.add_message(sender="user", content="hi")
    b = d.add_message(sender="assistant", content="hello")
    assert len(a.id) == 32
    assert int(a.id, 16) >= 0
    assert a.id != b.id
    assert (a.parent_id, b.parent_id) == (None, a.id)
    assert [m.id for m in d.get_messages()] == [a.id, b.id]
    assert d.active_leaf_id == b.id
    assert a.created_at.endswith("+00:00")
    assert a.created_at <= b.created_at
    assert a.tokens is None  # no client: token counts are unknown, not guessed


@pytest.mark.parametrize(
    ("sender", "role"),
    [("user", "user"), ("assistant", "assistant"), ("lollms", "assistant"), ("system", "system"),
     ("Alice", "user"), ("Bob the bot", "assistant")],
)  # fmt: skip
def test_role_is_inferred_from_the_sender(sender, role):
    d = LollmsDiscussion.create_new(ai_name="Bob the bot")
    assert d.add_message(sender=sender, content="x").role == role


def test_explicit_role_wins_and_unknown_role_is_refused():
    d = LollmsDiscussion.create_new()
    assert d.add_message(sender="lollms", content="x", role="user").role == "user"
    with pytest.raises(ConfigError, match="'robot' is not one of system, user, assistant"):
        d.add_message(sender="x", content="y", role="robot")


def test_extra_fields_go_to_metadata_and_sender_type_sets_the_role():
    d = LollmsDiscussion.create_new()
    msg = d.add_message(sender="bot", content="x", sender_type="assistant", model_name="m1", metadata={"a": 1})
    assert msg.role == "assistant"
    assert msg.metadata == {"model_name": "m1", "a": 1}
    with pytest.raises(TypeError, match="did you mean images="):
        d.add_message(sender="user", content="x", imgaes=["a.png"])


def test_token_counts_come_from_the_clients_binding(client, echo):
    d = LollmsDiscussion.create_new(lollms_client=client)
    msg = d.add_message(sender="user", content="one two three four")
    assert msg.tokens == echo.count_tokens("one two three four") == 4


def test_images_are_kept_as_text_and_exported(tmp_path):
    d = LollmsDiscussion.create_new()
    d.add_message(sender="user", content="look", images=[b"\x89PNG", tmp_path / "a.png", "http://x/y.png"])
    assert d.get_messages()[0].images == ["iVBORw==", str(tmp_path / "a.png"), "http://x/y.png"]
    (msg,) = d.export("messages")  # what the bindings consume
    assert msg["images"] == ["iVBORw==", str(tmp_path / "a.png"), "http://x/y.png"]
    (msg,) = d.export("openai_chat")  # OpenAI content parts, as lollms_client exports them
    assert msg["content"][0] == {"type": "text", "text": "look"}
    assert [p["image_url"]["url"] for p in msg["content"][1:]] == [
        "data:image/png;base64,iVBORw==",
        str(tmp_path / "a.png"),  # unreadable: passed as given, like lollms_client
        "http://x/y.png",
    ]


def test_parent_id_branches_and_switch_branch_follows_the_newest_replies():
    d = LollmsDiscussion.create_new()
    u1 = d.add_message(sender="user", content="q1")
    a1 = d.add_message(sender="assistant", content="a1")
    u2 = d.add_message(sender="user", content="q2")
    a1b = d.add_message(sender="assistant", content="a1 again", parent_id=u1.id)
    assert [m.content for m in d.get_messages()] == ["q1", "a1 again"]
    assert [m.id for m in d.get_children(u1.id)] == [a1.id, a1b.id]
    assert d.switch_branch(a1.id) is True  # lollms_client's return value
    assert d.active_leaf_id == u2.id  # deepest descendant
    assert [m.content for m in d.get_messages()] == ["q1", "a1", "q2"]
    u3 = d.add_message(sender="user", content="q3 on the second branch", parent_id=a1b.id)
    d.add_message(sender="assistant", content="old reply", parent_id=u1.id)
    # From the root, the newest reply to u1 wins: the "old reply" leaf, not u3.
    d.switch_branch(u1.id)
    assert d.get_message(d.active_leaf_id).content == "old reply"
    d.switch_branch(u3.id)
    assert d.active_leaf_id == u3.id  # a leaf is its own branch end
    assert d.switch_branch("nope") is False  # lollms_client's value; nothing changes
    assert d.get_message("nope") is None
    assert d.active_leaf_id == u3.id
    d.strict = True  # typed errors instead of lollms_client's values
    with pytest.raises(MessageNotFoundError, match="no message 'nope'"):
        d.switch_branch("nope")
    with pytest.raises(MessageNotFoundError, match="no message 'nope'"):
        d.get_message("nope")
    with pytest.raises(MessageNotFoundError):
        d.add_message(sender="user", content="x", parent_id="nope")


def test_parent_none_starts_a_new_root():
    d = LollmsDiscussion.create_new()
    d.add_message(sender="user", content="first")
    other = d.add_message(sender="user", content="second root", parent_id=None)
    assert d.get_messages() == [other]
    assert len(d.get_children(None)) == 2


def test_chat_answers_within_the_branch_and_records_generation_facts(client):
    d = LollmsDiscussion.create_new(lollms_client=client, system_prompt="Be brief.")
    chunks = []
    answer = d.chat("tell me <think>plan</think>a story", streaming_callback=lambda c, t, m=None: chunks.append(c))
    assert answer.role == "assistant"
    assert answer.sender == "assistant"
    assert answer.content == "tell me a story"  # the echo model answers the last user turn
    assert answer.metadata["thoughts"] == "plan"
    assert answer.metadata["finish_reason"] == "stop"
    assert "".join(chunks) == "plan" + answer.content
    assert [m.role for m in d.get_messages()] == ["user", "assistant"]
    assert d.export("openai_chat")[0] == {"role": "system", "content": "Be brief."}


def test_the_binding_chat_method_consumes_a_discussion(echo):
    d = LollmsDiscussion.create_new(system_prompt="sys")
    d.add_message(sender="user", content="first question")
    d.add_message(sender="assistant", content="first answer")
    d.add_message(sender="user", content="second question")
    assert echo.chat(d) == "second question"
    assert echo.chat(d.export("openai_chat"), n_predict=1) == "second"


def test_chat_accepts_an_llm_binding_directly_and_passes_options(echo):
    d = LollmsDiscussion.create_new(lollms_client=echo)
    answer = d.chat("one two three four five", n_predict=2)
    assert answer.content == "one two"
    assert answer.metadata["finish_reason"] == "length"


def test_a_callback_that_stops_keeps_the_partial_answer(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    pieces = []

    def stop_after_two(chunk, msg_type, meta=None):
        pieces.append(chunk)
        return len(pieces) < 2

    answer = d.chat("one two three four", streaming_callback=stop_after_two)
    assert answer.content == "one two"
    assert answer.metadata["stopped_by"] == "callback"
    assert d.get_messages()[-1] is answer


def test_chat_without_a_client_names_what_to_set():
    d = LollmsDiscussion.create_new()
    with pytest.raises(ModalityNotConfiguredError, match="lollms_client="):
        d.chat("hi")
    assert len(d) == 0


def test_backend_failure_raises_typed_and_keeps_the_user_turn():
    failing = lollms_core.LollmsLLMBindingManager().create_binding("echo", fail_with="rate_limit")
    d = LollmsDiscussion.create_new(lollms_client=SimpleNamespace(llm=failing))
    with pytest.raises(BackendError, match="rate_limit"):
        d.chat("hi")
    assert [m.content for m in d.get_messages()] == ["hi"]


def test_regenerate_adds_a_sibling_answer_and_keeps_the_old_branch(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    first = d.chat("hello there")
    user_id = first.parent_id
    second = d.regenerate(n_predict=1)
    assert second.parent_id == user_id
    assert second.id != first.id
    assert second.content == "hello"
    assert [m.id for m in d.get_children(user_id)] == [first.id, second.id]
    assert d.get_messages()[-1].id == second.id
    assert d.switch_branch(first.id) is True
    assert d.get_message(d.active_leaf_id).content == "hello there"


def test_regenerate_with_nothing_to_answer_is_an_error(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    d.add_message(sender="system", content="rules")
    with pytest.raises(ConfigError, match="no user message"):
        d.regenerate()


def test_fork_copies_the_branch_with_fresh_ids(client):
    d = LollmsDiscussion.create_new(lollms_client=client, system_prompt="sys", title="t")
    d.chat("q1")
    d.chat("q2")
    cut = d.get_messages()[1]
    f = d.fork(cut.id)
    assert f.id != d.id
    assert f.system_prompt == "sys"
    assert [m.content for m in f.get_messages()] == ["q1", "q1"]
    assert not {m.id for m in f.messages} & {m.id for m in d.messages}
    assert f.metadata["forked_from"] == {"discussion_id": d.id, "message_id": cut.id}
    f.chat("only in the fork")
    assert len(d) == 4
    assert len(f) == 4


def test_lollms_text_export_round_trips_through_split_discussion():
    d = LollmsDiscussion.create_new(system_prompt="You are helpful.\nBe brief.")
    d.add_message(sender="user", content="What is 2+2?")
    d.add_message(sender="lollms", content="4.\n\nAnything else?")
    d.add_message(sender="user", content="No.")
    text = d.export("lollms_text")
    assert text.startswith("!@>system:\nYou are helpful.\nBe brief.\n!@>user:\nWhat is 2+2?\n!@>assistant:\n")
    assert split_discussion(text) == d.export("openai_chat")
    back = LollmsDiscussion.from_lollms_text(text)
    assert back.export("openai_chat") == d.export("openai_chat")


def test_json_round_trip_is_exact_and_keeps_every_branch(client):
    d = LollmsDiscussion.create_new(lollms_client=client, system_prompt="s", title="trip", tags=["a", "é"])
    d.chat("first")
    d.regenerate()
    d.add_message(sender="user", content="with image", images=[b"img"], metadata={"k": [1, {"x": None}]})
    text = d.export("json")
    again = LollmsDiscussion.from_json(text)
    assert again.export("json") == text
    assert again.id == d.id
    assert again.active_leaf_id == d.active_leaf_id
    assert [m.to_dict() for m in again.messages] == [m.to_dict() for m in d.messages]
    assert LollmsDiscussion.from_json(json.loads(text)).export("json") == text  # a dict works too


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda o: o.update(format="other"), "not a discussion export"),
        (lambda o: o["messages"][0].update(role="robot"), "role 'robot'"),
        (lambda o: o["messages"].reverse(), "does not precede it"),
        (lambda o: o.update(active_leaf_id="ghost"), "active_leaf_id 'ghost'"),
        (lambda o: o["messages"][1].pop("content"), "lacks field"),
    ],
)
def test_broken_json_is_refused_with_the_reason(mutate, error):
    d = LollmsDiscussion.create_new()
    d.add_message(sender="user", content="a")
    d.add_message(sender="assistant", content="b")
    obj = json.loads(d.export("json"))
    mutate(obj)
    with pytest.raises(ConfigError, match=error):
        LollmsDiscussion.from_json(obj)


def test_markdown_export_shows_senders_and_the_active_branch_only():
    d = LollmsDiscussion.create_new(title="Trip plan", system_prompt="sys")
    u = d.add_message(sender="Alice", content="Where to?")
    d.add_message(sender="assistant", content="Rome", parent_id=u.id)
    d.add_message(sender="assistant", content="Paris", parent_id=u.id)
    md = d.export("markdown")
    assert md.startswith("# Trip plan\n")
    assert "**Alice** (user):\n\nWhere to?" in md
    assert "Paris" in md
    assert "Rome" not in md
    with pytest.raises(ConfigError, match="unknown export format 'pdf'"):
        d.export("pdf")


def test_in_memory_work_writes_nothing_to_the_current_directory(tmp_path, monkeypatch, client):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    d = LollmsDiscussion.create_new(lollms_client=client, system_prompt="s")
    d.chat("a b c")
    d.regenerate()
    d.fork().chat("d")
    LollmsDiscussion.from_json(d.export("json"))
    for fmt in ("openai_chat", "lollms_text", "markdown", "json"):
        d.export(fmt)
    d.get_messages_for_budget(30, summarize=True)
    assert os.listdir(cwd) == []
