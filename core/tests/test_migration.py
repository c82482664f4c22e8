"""Coming from lollms_client 1.21: its names work, or fail loudly with the way forward (issue 14).

Each test names the lollms_client behaviour it checks. The echo binding answers with the
last user message, so answers are exact.
"""

from __future__ import annotations

import importlib
import json
import re
import warnings
from collections.abc import Iterator

import pytest
from lollms_core import (
    MSG_TYPE,
    ChatRequest,
    Chunk,
    GenerationOptions,
    LollmsClient,
    LollmsDataManager,
    LollmsDiscussion,
    LollmsLLMBinding,
)
from lollms_core.errors import ConfigError, MessageNotFoundError, NotSupportedError


@pytest.fixture
def client():
    c = LollmsClient(llm_binding_name="echo")
    yield c
    c.close()


# -- 1. persistence API -------------------------------------------------------------------


def test_data_manager_creates_lists_gets_and_deletes(tmp_path, client):
    db = LollmsDataManager(f"sqlite:///{tmp_path / 'chats.db'}")
    d = LollmsDiscussion.create_new(lollms_client=client, db_manager=db, discussion_metadata={"title": "trip"})
    d.add_message(sender="user", content="hello")
    d.commit()  # a no-op: already written
    listed = db.list_discussions()
    assert [(r["id"], r["title"], r["active_branch_id"]) for r in listed] == [(d.id, "trip", d.active_branch_id)]
    again = db.get_discussion(client, d.id)
    assert [m.content for m in again.get_messages()] == ["hello"]
    assert db.get_discussion(client, "missing") is None
    db.delete_discussion(d.id)
    assert db.list_discussions() == []
    db.close()


def test_create_new_with_an_existing_id_opens_it(tmp_path, client):
    db = LollmsDataManager(tmp_path / "c.db")
    first = LollmsDiscussion.create_new(lollms_client=client, db_manager=db, id="chat-1")
    first.add_message(sender="user", content="kept")
    second = LollmsDiscussion.create_new(lollms_client=client, db_manager=db, id="chat-1")
    assert second.id == "chat-1"
    assert [m.content for m in second.get_messages()] == ["kept"]


def test_lollms_client_constructor_form(tmp_path, client):
    db = LollmsDataManager(tmp_path / "c.db")
    d = LollmsDiscussion(lollmsClient=client, db_manager=db, discussion_id="abc", autosave=True)
    d.add_message(sender="user", content="x")
    assert d.lollms_client is client and d.autosave is True
    reopened = LollmsDiscussion(lollmsClient=client, db_manager=db, discussion_id="abc")
    assert [m.content for m in reopened.get_messages()] == ["x"]
    in_memory = LollmsDiscussion(client)
    assert in_memory.lollms_client is client and len(in_memory) == 0


def test_to_dict_is_the_json_export(client):
    d = LollmsDiscussion.create_new(lollms_client=client, title="t")
    d.add_message(sender="user", content="q")
    assert d.to_dict() == json.loads(d.export("json"))
    assert d.to_dict()["messages"][0]["content"] == "q"


def test_data_manager_refuses_what_it_does_not_offer(tmp_path):
    with pytest.raises(NotSupportedError, match="encryption_key"):
        LollmsDataManager(tmp_path / "x.db", encryption_key="k")
    with pytest.raises(NotSupportedError, match="postgresql://"):
        LollmsDataManager("postgresql://host/db")
    with pytest.raises(ConfigError, match="empty"):
        LollmsDataManager("")


# -- 9. no silent acceptance ---------------------------------------------------------------


def test_lollms_client_parameters_never_become_metadata(tmp_path, client):
    db = LollmsDataManager(tmp_path / "c.db")
    d = LollmsDiscussion.create_new(lollms_client=client, db_manager=db, id="x1", autosave=True)
    assert d.metadata == {}  # before: {"db_manager": ..., "id": "x1", "autosave": True}, in memory only
    assert db.discussion_exists("x1")
    with pytest.raises(NotSupportedError, match=r"workspace_path .*discussion_metadata"):
        LollmsDiscussion.create_new(lollms_client=client, workspace_path="/tmp/ws")
    # lollms_client's data zones are discussion fields now, never metadata.
    zoned = LollmsDiscussion.create_new(memory="remember", user_data_zone="a dev")
    assert (zoned.memory, zoned.user_data_zone, zoned.metadata) == ("remember", "a dev", {})
    with pytest.raises(ConfigError, match="not both"):
        LollmsDiscussion.create_new(db_path=tmp_path / "a.db", db_manager=db)
    # Free fields that are not lollms_client parameters still work, as before.
    assert LollmsDiscussion.create_new(title="t", project="p").metadata == {"title": "t", "project": "p"}


# -- 2. module paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("lollms_types", ["MSG_TYPE", "ELF_COMPLETION_FORMAT"]),
        ("lollms_discussion", ["LollmsDiscussion", "LollmsDataManager", "LollmsMessage"]),
        ("lollms_core", ["LollmsClient"]),
        ("lollms_llm_binding", ["LollmsLLMBinding", "LollmsLLMBindingManager"]),
        ("lollms_tti_binding", ["LollmsTTIBinding"]),
    ],
)
def test_lollms_client_module_paths_are_aliases_not_copies(module, names):
    alias = importlib.import_module(f"lollms_core.{module}")
    import lollms_core

    for name in names:
        original = getattr(lollms_core, name, None) or getattr(importlib.import_module("lollms_core.types"), name)
        assert getattr(alias, name) is original


# -- 3. branch and tree names, message fields, exports -------------------------------------------


def test_branch_names(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    q = d.add_message(sender="user", content="q")
    a1 = d.add_message(sender="assistant", content="a1")
    a2 = d.fork_from(q.id, label="second try", initial_content="a2", initial_sender="assistant",
                     initial_sender_type="assistant")  # fmt: skip
    assert d.active_branch_id == a2.id and a2.metadata["branch_label"] == "second try"
    branches = d.list_branches()
    assert [b.leaf_id for b in branches] == [a1.id, a2.id]
    assert [b.is_active for b in branches] == [False, True]
    assert branches[1].label == "second try" and branches[1].message_ids == [q.id, a2.id]
    tree = d.get_tree()
    assert len(tree) == 1 and tree[0].branch_count == 2
    assert [c.message_id for c in tree[0].children] == [a1.id, a2.id]
    assert tree[0].to_dict()["children"][1]["is_active_path"] is True
    assert d.switch_to_sibling(-1).id == a1.id
    assert d.switch_to_sibling(1).id == a2.id
    d.switch_to_branch(q.id)
    assert d.active_branch_id == q.id  # switch_to_branch sets exactly that id
    d.switch_to_branch("nope")  # lollms_client logs a warning and changes nothing
    assert d.active_branch_id == q.id
    with pytest.raises(MessageNotFoundError):
        LollmsDiscussion.create_new(strict=True).switch_to_branch("nope")
    assert d.prune_branch(a1.id) == 1
    assert [m.id for m in d.get_children(q.id)] == [a2.id]


def test_prune_branch_is_persisted_and_moves_the_active_leaf(tmp_path, client):
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=tmp_path / "d.db")
    q = d.add_message(sender="user", content="q")
    d.add_message(sender="assistant", content="a")
    d.add_message(sender="user", content="q2")
    assert d.delete_branch(d.get_messages()[1].id) == 2
    assert d.active_branch_id == q.id
    with LollmsDiscussion.load(tmp_path / "d.db", d.id) as fresh:
        assert [m.id for m in fresh.messages] == [q.id]
        assert fresh.active_branch_id == q.id


def test_message_fields(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    answer = d.chat("tell me <think>plan</think>a story")
    assert answer.sender_type == "assistant"
    assert answer.thoughts == "plan"
    assert answer.raw_content == answer.content == "tell me a story"
    assert answer.model_name == client.llm.model_name
    assert answer.binding_name == "echo"
    assert isinstance(answer.tokens, int)
    assert answer.metadata["thoughts"] == "plan"


def test_export_format_type_and_ollama_chat(client):
    d = LollmsDiscussion.create_new(lollms_client=client, system_prompt="sys")
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    d.add_message(sender="user", content="look", images=[png, "https://example.com/a.png"])
    assert d.export(format_type="ollama_chat") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "look", "images": [png]},
    ]
    assert d.export("openai_chat", suppress_system_prompt=True)[0]["role"] == "user"
    assert d.export(format_type="lollms_text").startswith("!@>system:\nsys")
    with pytest.raises(ConfigError, match="give one"):
        d.export("markdown", format_type="lollms_text")


def test_export_of_another_branch_within_a_token_budget(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    first = d.add_message(sender="user", content="one two three four five six")
    d.add_message(sender="assistant", content="seven eight")
    d.add_message(sender="user", content="other branch", parent_id=first.id)
    assert [m["content"] for m in d.export("openai_chat", branch_tip_id=first.id)] == [first.content]
    newest_only = d.export("openai_chat", max_allowed_tokens=2 + LollmsDiscussion.message_overhead_tokens)
    assert [m["content"] for m in newest_only] == ["other branch"]


# -- 5. chat(): result object, options, validation before change ------------------------------


def test_chat_result_offers_mapping_access_and_attributes(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    result = d.chat("hello there")
    assert result["ai_message"] is result is d.get_messages()[-1]
    assert result["user_message"].content == "hello there"
    assert result.content == "hello there" and result.role == "assistant"
    assert result["sources"] == [] and result["was_cancelled"] is False
    assert "ai_message" in result and set(result.keys()) >= {"user_message", "ai_message", "artefacts"}
    assert dict(result)["ai_message"] is result


def test_chat_branch_tip_and_add_user_message(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    first = d.chat("first question")
    d.chat("second question")
    other = d.chat("on the first branch", branch_tip_id=first.id)
    assert other.parent_id == other["user_message"].id and other["user_message"].parent_id == first.id
    again = d.chat("", add_user_message=False)
    assert again["user_message"] is None and again.parent_id == other.id


class RecordingLLM(LollmsLLMBinding):
    """Answers "ok" and keeps every request, to see what chat() sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[ChatRequest] = []

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        yield Chunk("hmm", MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK)
        yield Chunk("ok")


def test_chat_add_system_prompt_and_remove_thinking_blocks():
    llm = RecordingLLM()
    d = LollmsDiscussion.create_new(lollms_client=llm, system_prompt="SYSTEM TEXT")
    kept = d.chat("hi")
    assert llm.requests[-1].messages[0] == {"role": "system", "content": "SYSTEM TEXT"}
    assert kept.content == "ok" and kept.thoughts == "hmm"
    raw = d.chat("again", add_system_prompt=False, remove_thinking_blocks=False)
    assert [m["role"] for m in llm.requests[-1].messages] == ["user", "assistant", "user"]
    assert raw.content == "<think>\nhmm\n</think>\nok"


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"web_search": True}, NotSupportedError, "web_search=True"),
        ({"personality": object()}, NotSupportedError, "personality="),
        ({"temperature": "hot"}, ConfigError, "temperature"),
        ({"no_such_option": 1}, ConfigError, "no_such_option"),
        ({"max_reasoning_steps": 0}, ConfigError, "max_reasoning_steps"),
    ],
)
def test_rejected_chat_options_leave_no_orphan_user_turn(tmp_path, client, options, error, match):
    d = LollmsDiscussion.create_new(lollms_client=client, db_path=tmp_path / "d.db")
    d.chat("kept")
    before = d.export("json")
    with pytest.raises(error, match=match):
        d.chat("must not stay", **options)
    assert d.export("json") == before  # before the fix: a user turn was added, then the option refused
    with LollmsDiscussion.load(tmp_path / "d.db", d.id) as fresh:
        assert [m.content for m in fresh.messages] == ["kept", "kept"]


def test_lollms_client_defaults_are_accepted(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    answer = d.chat("ok", web_search=False, enable_artefacts=True, debug=False, max_reasoning_steps=3)
    assert answer.content == "ok"


def test_regenerate_branch_replaces_the_answer(client):
    d = LollmsDiscussion.create_new(lollms_client=client)
    old = d.chat("one two three")
    new = d.regenerate_branch(n_predict=1)
    assert new.content == "one" and new.parent_id == old.parent_id
    assert old.id not in [m.id for m in d.messages]


# -- 4. constructor keywords ---------------------------------------------------------------------


def test_lollms_client_constructor_keywords_map_with_a_warning():
    with pytest.warns(DeprecationWarning, match="llm_binding_name="):
        c = LollmsClient(binding_name="echo")
    assert c.llm.binding_name == "echo"
    with pytest.warns(DeprecationWarning, match="logging"):
        LollmsClient(llm_binding_name="echo", debug=True)
    with pytest.warns(DeprecationWarning, match='llm_binding_config={"service_key"'):
        keyed = LollmsClient(llm_binding_name="echo", service_key="sk-x")
    assert keyed.llm.config["service_key"] is not None and "sk-x" not in repr(keyed.llm.config)
    with pytest.warns(DeprecationWarning, match="models_path"), pytest.raises(ConfigError, match="models_path"):
        LollmsClient(llm_binding_name="echo", models_path="/models")  # echo has no such setting: named


def test_user_and_ai_names_feed_the_prompt_headers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = LollmsClient(llm_binding_name="echo", user_name="ada", ai_name="bot")
    assert (c.user_full_header, c.ai_full_header, c.system_full_header) == ("!@>ada: ", "!@>bot: ", "!@>system: ")
    assert c.system_custom_header("tool") == "!@>tool: "
    assert c.separator_template == "\n"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"callback": print}, "streaming_callback="),
        ({"llm_bindings_dir": "/x"}, "entry points"),
        ({"rag_binding_name": "x"}, "rag bindings are not offered"),
        ({"llm_binding_profiles": {}}, "profiles are not offered"),
    ],
)
def test_lollms_client_keywords_we_do_not_offer_say_what_to_do(kwargs, match):
    with pytest.raises(NotSupportedError, match=match):
        LollmsClient(llm_binding_name="echo", **kwargs)


def test_unknown_constructor_keyword_is_a_type_error_with_a_suggestion():
    with pytest.raises(TypeError, match="did you mean llm_binding_name="):
        LollmsClient(llm_binding_nam="echo")


# -- 6. client helpers -----------------------------------------------------------------------------


def test_tokenize_and_detokenize_keywords(client):
    ids = client.tokenize(text="a b")
    assert client.tokenize(prompt="a b") == ids == client.tokenize("a b")
    assert client.detokenize(tokens=ids) == client.detokenize(tokens_list=ids) == "a b"
    with pytest.raises(ConfigError, match="give one"):
        client.tokenize(text="a", prompt="b")


def test_list_mounted_personalities_is_not_supported_off_a_lollms_server(client):
    # Issue 26: lollms_client's dict by default; the typed error with strict=True.
    assert client.listMountedPersonalities() == {
        "status": False,
        "error": "Functionality not available for the current binding",
    }
    with pytest.raises(NotSupportedError, match="lollms server"):
        LollmsClient(llm_binding_name="echo", strict=True).listMountedPersonalities()


def test_get_ctx_size_and_switching(client):
    assert client.get_ctx_size() == client.llm.get_model_info().get("ctx_size", client.get_ctx_size())
    with_ctx = LollmsClient(llm_binding_name="echo", ctx_size=1234)
    assert with_ctx.get_ctx_size() == 1234
    old = client.llm
    assert client.update_llm_binding("echo", {}) is True
    assert client.llm is not old
    assert client.switch_llm_model("other-model") is True and client.llm.model_name == "other-model"


def test_count_image_tokens_reads_the_image_size(client):
    import base64
    import struct
    import zlib

    def png(w: int, h: int) -> bytes:
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + struct.pack(">I", 13)
            + b"IHDR"
            + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        )

    assert client.count_image_tokens(png(512, 512)) == 85 + 170
    data_url = "data:image/png;base64," + base64.b64encode(png(1024, 1024)).decode()
    assert client.count_image_tokens(data_url) == 85 + 170 * 4


def test_extract_code_blocks_formats(client):
    assert client.extract_code_blocks("```py\nx\n```")[0]["content"] == "x"
    html = client.extract_code_blocks('<code class="language-js">a &amp;&amp; b</code>', format="html")
    assert (html[0]["type"], html[0]["content"], html[0]["is_complete"]) == ("js", "a && b", True)
    with pytest.raises(ConfigError, match="markdown"):
        client.extract_code_blocks("x", format="rst")


def test_multichoice_ranking(client):
    assert client.multichoice_ranking('Rank {"ranking": [1, 0, 2]}', ["a", "b", "c"]) == [1, 0, 2]
    assert client.multichoice_ranking('{"ranking": [0, 0, 1]}', ["a", "b", "c"]) == []  # not a permutation
    assert client.multichoice_ranking("no json", ["a", "b"], return_explanation=True) == {
        "ranking": [],
        "explanation": "Failed",
    }


def test_long_context_processing_maps_then_reduces():
    c = LollmsClient(llm_binding_name="echo", ctx_size=64)
    short = c.long_context_processing("tiny text", "summarise")
    assert "tiny text" in short  # fits: one call (echo repeats the prompt)
    with pytest.raises(NotSupportedError, match="processing_type='poem'"):  # issue 26: lollms_client's five types
        c.long_context_processing("x", "y", processing_type="poem")


def test_long_context_processing_chunks_a_text_longer_than_the_window():
    from lollms_core.testing.echo import EchoLLMBinding

    class NoteTaker(EchoLLMBinding):
        """Answers every map call with a short note and keeps the prompts."""

        def __init__(self) -> None:
            super().__init__()
            self.prompts: list[str] = []

        def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
            self.prompts.append(str(request.messages[-1]["content"]))
            yield Chunk("note" if "Part" in self.prompts[-1] else "final answer")

    client = LollmsClient(llm_binding_name="echo", ctx_size=64)
    client.llm = taker = NoteTaker()
    taker.default_options = GenerationOptions(ctx_size=64)
    words = [f"w{i}" for i in range(200)]
    assert client.long_context_processing(" ".join(words), "summarise it") == "final answer"
    maps = [p for p in taker.prompts if "Part" in p]
    assert len(maps) >= 4  # 200 tokens do not fit 70 % of 64: several chunks
    assert set(re.findall(r"\bw\d+\b", " ".join(maps))) == set(words)  # every part of the text was read
    assert "[part 1] note" in taker.prompts[-1]  # the reduce step works from the notes
