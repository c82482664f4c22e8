"""lollms_client's discussion features (issue 26): branches, artefacts, data zones, images, exports, data manager.

Parts are ported from lollms_client's own tests (``test/test_lollms_discussion.py``,
``test/test_artifact_versioning_and_export.py``); those are marked ``PORT:`` where they change.
The model is the built-in echo binding (it answers the last user turn and reports how many
images it received), so every assertion is about what the discussion sent and kept.
"""

from __future__ import annotations

import json
import sqlite3
from types import SimpleNamespace

import pytest
from lollms_core import LollmsClient, LollmsDataManager, LollmsDiscussion
from lollms_core.errors import ConfigError, LollmsError, MessageNotFoundError, NotSupportedError

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


@pytest.fixture
def client():
    c = LollmsClient(llm_binding_name="echo")
    yield c
    c.close()


def _tree(d: LollmsDiscussion) -> dict[str, str]:
    q = d.add_message(sender="user", content="q")
    a1 = d.add_message(sender="assistant", content="a1")
    u2 = d.add_message(sender="user", content="u2")
    a2 = d.add_message(sender="assistant", content="a2", parent_id=q.id)
    return {"q": q.id, "a1": a1.id, "u2": u2.id, "a2": a2.id}


# -- branches ------------------------------------------------------------------------------


def test_branch_diff_names_the_common_ancestor_and_each_side():
    d = LollmsDiscussion.create_new()
    ids = _tree(d)
    diff = d.branch_diff(ids["u2"], ids["a2"])
    assert diff == {
        "common_ancestor_id": ids["q"],
        "only_in_a": [ids["a1"], ids["u2"]],
        "only_in_b": [ids["a2"]],
        "shared": [ids["q"]],
    }
    other_root = d.add_message(sender="user", content="elsewhere", parent_id=None)
    assert d.branch_diff(other_root.id, ids["a2"])["common_ancestor_id"] is None
    with pytest.raises(MessageNotFoundError):
        d.branch_diff("nope", ids["a2"])


def test_merge_branches_copies_the_source_only_messages_after_a_separator(tmp_path):
    d = LollmsDiscussion.create_new(db_path=tmp_path / "m.db")
    ids = _tree(d)
    tip = d.merge_branches(ids["u2"], ids["a2"], separator_content="-- merged --")
    path = d.get_messages()
    assert d.active_leaf_id == tip.id
    assert [m.content for m in path] == ["q", "a2", "-- merged --", "a1", "u2"]
    assert path[2].role == "system" and path[2].metadata["merge_separator"] is True
    assert [m.metadata["merged_from"] for m in path[3:]] == [ids["a1"], ids["u2"]]
    assert [m.role for m in path[3:]] == ["assistant", "user"]
    # the originals are untouched, the copies persisted
    assert [m.content for m in d.get_messages(ids["u2"])] == ["q", "a1", "u2"]
    assert [m.content for m in LollmsDiscussion.load(d._store.path, d.id).get_messages()] == [m.content for m in path]
    # no separator when asked; merging what is already there returns the target itself
    d2 = LollmsDiscussion.create_new()
    ids2 = _tree(d2)
    assert d2.merge_branches(ids2["u2"], separator_content="").content == "u2"  # target: the active branch (a2)
    assert [m.content for m in d2.get_messages()] == ["q", "a2", "a1", "u2"]
    assert d2.merge_branches(ids2["q"]).id == d2.active_leaf_id
    with pytest.raises(MessageNotFoundError):
        d2.merge_branches("nope")


def test_branch_labels_and_the_branches_through_a_message():
    d = LollmsDiscussion.create_new()
    ids = _tree(d)
    assert d.set_branch_label(ids["u2"], "first idea") is True
    assert d.get_branch_info(ids["u2"]).label == "first idea"
    assert d.set_branch_label("nope", "x") is False  # lollms_client's value
    through_q = d.get_message_branches(ids["q"])
    assert {b.leaf_id for b in through_q} == {ids["u2"], ids["a2"]}
    assert [b.leaf_id for b in d.get_message_branches(ids["a1"])] == [ids["u2"]]
    assert d.get_message_branches("nope") == []
    d.strict = True
    with pytest.raises(MessageNotFoundError):
        d.set_branch_label("nope", "x")


def test_strict_follows_the_client_and_can_be_set_per_discussion():
    strict_client = LollmsClient(llm_binding_name="echo", strict=True)
    assert LollmsDiscussion.create_new(strict_client).strict is True
    assert LollmsDiscussion.create_new(strict_client, strict=False).get_message("nope") is None
    assert LollmsDiscussion.create_new(SimpleNamespace(llm=None)).strict is False
    strict_client.close()


# -- artefacts -----------------------------------------------------------------------------


def test_artefact_names_are_where_lollms_client_has_them():
    import lollms_core.discussion as canonical
    import lollms_core.lollms_artefact as artefact_alias
    import lollms_core.lollms_discussion as discussion_alias

    for name in ("ArtefactType", "ArtefactManager"):
        assert getattr(discussion_alias, name) is getattr(artefact_alias, name) is getattr(canonical, name)
    assert isinstance(LollmsDiscussion.create_new().artefacts, canonical.ArtefactManager)


def test_artefact_version_bumping_and_history():
    """PORT of lollms_client's test_version_bumping_and_history (no workspace folder here)."""
    from lollms_core.lollms_discussion import ArtefactType

    discussion = LollmsDiscussion.create_new()
    discussion.artefacts.add(
        title="script.py", artefact_type=ArtefactType.CODE, content="print('v1')", language="python", version=1,
        active=True,
    )  # fmt: skip
    discussion.artefacts.update(
        title="script.py", new_content="print('v2')", language="python", bump_version=True, active=True
    )
    discussion.artefacts.update(
        title="script.py", new_content="print('v3')", language="python", bump_version=True, active=True
    )
    latest = discussion.artefacts.get("script.py")
    assert latest["version"] == 3
    assert latest["content"] == "print('v3')"
    history = discussion.artefacts.get_version_history("script.py")
    assert len(history) == 3
    assert history[2]["is_active"]
    assert [h["is_active"] for h in history] == [False, False, True]  # one active version


def test_active_artefacts_are_in_the_prompt_and_the_budget(client):
    d = LollmsDiscussion.create_new(client, system_prompt="Be brief.")
    d.add_message(sender="user", content="hi")
    before = d.get_context_status()["zones"]["system_context"]["tokens"]
    d.artefacts.add("notes.md", content="The launch is on Friday.")
    assert d.artefacts.build_artefacts_context_zone() == ""  # added inactive, as in lollms_client
    d.artefacts.activate("notes.md")
    zone = d.artefacts.build_artefacts_context_zone()
    assert zone == '<file path="notes.md">\nThe launch is on Friday.\n</file>'
    system = d.export("openai_chat")[0]["content"]
    assert system == f"Be brief.\n\n-- Active Artefacts --\n{zone}"
    status = d.get_context_status()
    assert status["zones"]["system_context"]["tokens"] > before
    assert status["zones"]["system_context"]["breakdown"]["artefacts"]["tokens"] == client.count_tokens(zone)
    assert d.artefacts.toggle("notes.md") is False
    assert d.export("openai_chat")[0]["content"] == "Be brief."
    assert d.artefacts.remove("notes.md") == 1
    assert d.artefacts.get("notes.md") is None


def test_artefact_errors_are_typed_and_change_nothing():
    d = LollmsDiscussion.create_new()
    with pytest.raises(ConfigError, match="cannot update artefact 'x': there is none; stored: none yet"):
        d.artefacts.update("x", "new")
    with pytest.raises(ConfigError, match="unknown artefact type 'poem'"):
        d.artefacts.add("a", artefact_type="poem")
    d.artefacts.add("a", content="1")
    with pytest.raises(ConfigError, match="no artefact 'a' version 7; stored: a"):
        d.artefacts.activate("a", 7)
    assert d.artefacts.list() == [d.artefacts.get("a")]


def test_artefacts_zones_and_images_persist_and_reload(tmp_path):
    db = tmp_path / "all.db"
    d = LollmsDiscussion.create_new(db_path=db, memory="likes tea")
    d.user_data_zone = "a developer"
    d.artefacts.add("plan.md", content="v1", active=True)
    d.artefacts.update("plan.md", new_content="v2")
    d.add_discussion_image(PNG)
    d.toggle_discussion_image_activation(0)
    msg = d.add_message(sender="user", content="look", images=[PNG, PNG])
    msg.toggle_image_activation(1, active=False)
    again = LollmsDiscussion.load(db, d.id)
    assert again.export("json") == d.export("json")
    assert (again.memory, again.user_data_zone) == ("likes tea", "a developer")
    assert [a["version"] for a in again.artefacts.list()] == [1, 2]
    assert again.artefacts.get("plan.md")["active"] is True
    assert again.get_discussion_images()[0]["active"] is False
    assert again.get_messages()[0].get_all_images() == [{"data": PNG, "active": True}, {"data": PNG, "active": False}]
    assert LollmsDiscussion.from_json(d.export("json")).artefacts.get("plan.md")["content"] == "v2"


# -- data zones and memory -----------------------------------------------------------------


def test_data_zones_follow_the_system_prompt_in_lollms_client_layout(client):
    d = LollmsDiscussion.create_new(client, system_prompt="You are a tester.")
    d.memory = "Remember this."
    d.user_data_zone = "User is a dev."
    d.discussion_data_zone = "Project X."
    d.personality_data_zone = "Cheerful."
    d.add_message(sender="user", content="Test prompt.")
    expected = (
        "You are a tester.\n\n-- Memory --\nRemember this.\n\n-- User Data Zone --\nUser is a dev.\n\n"
        "-- Discussion Data Zone --\nProject X.\n\n-- Personality Data Zone --\nCheerful."
    )
    assert d.export("openai_chat")[0] == {"role": "system", "content": expected}
    assert d.get_full_data_zone() == expected.split("\n\n", 1)[1]
    breakdown = d.get_context_status()["zones"]["system_context"]["breakdown"]
    for zone, text in [
        ("system_prompt", "You are a tester."),
        ("memory", "Remember this."),
        ("personality_data_zone", "Cheerful."),
    ]:
        assert breakdown[zone] == {"tokens": client.count_tokens(text)}
    d.user_data_zone = None  # lollms_client's None clears a zone
    assert "User Data Zone" not in d.export("openai_chat")[0]["content"]
    with pytest.raises(TypeError, match="memory must be a str"):
        d.memory = 42


def test_memorize_appends_a_dated_entry_and_returns_none_on_a_backend_failure(tmp_path):
    ok = LollmsClient(llm_binding_name="echo")
    d = LollmsDiscussion.create_new(ok, db_path=tmp_path / "mem.db", memory="older note")
    assert d.memorize() is None  # an empty branch: nothing to remember
    d.add_message(sender="user", content="My favorite color is blue.")
    text = d.memorize()
    assert text and "blue" in text  # echo repeats the conversation it was given
    assert d.memory.startswith("older note\n\n--- Memory entry from ")
    assert LollmsDiscussion.load(tmp_path / "mem.db", d.id).memory == d.memory
    failing = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"})
    d.lollms_client = failing
    before = d.memory
    assert d.memorize() is None  # lollms_client's value
    d.strict = True
    with pytest.raises(LollmsError):
        d.memorize()
    assert d.memory == before
    ok.close()
    failing.close()


# -- images --------------------------------------------------------------------------------


def test_active_images_are_sent_to_the_binding_and_inactive_ones_are_not(client):
    d = LollmsDiscussion.create_new(client)
    d.add_discussion_image(PNG)
    d.add_discussion_image(PNG, active=False)
    answer = d.chat("what is this?", images=[PNG, PNG])
    assert answer.content.startswith("[3 image(s)]")  # one discussion image + two message images
    d.get_messages()[0].toggle_image_activation(0)
    d.toggle_discussion_image_activation(0)
    assert d.chat("and now?").content.startswith("[1 image(s)]")
    assert d.get_active_images() == [PNG]
    assert [i["active"] for i in d.get_all_images()] == [False, True]
    status = d.get_context_status()
    assert status["zones"]["message_history"]["breakdown"]["image_tokens"] == client.count_image_tokens(PNG)
    assert "discussion_images" not in status["zones"]
    with pytest.raises(IndexError, match="out of range"):
        d.toggle_discussion_image_activation(5)
    with pytest.raises(IndexError, match="out of range"):
        d.get_messages()[0].toggle_image_activation(2)
    d.remove_discussion_image(1)
    assert len(d.get_discussion_images()) == 1
    # an image the client cannot read here (a URL the backend would fetch) is estimated, not an error
    d.add_message(sender="user", content="and this?", images=["https://example.invalid/cat.png"])
    from lollms_core.discussion._llm import UNREADABLE_IMAGE_TOKENS

    last = d.get_context_status()["zones"]["message_history"]["breakdown"]["image_tokens"]
    assert last == client.count_image_tokens(PNG) + UNREADABLE_IMAGE_TOKENS


# -- exports -------------------------------------------------------------------------------


def test_openai_export_uses_content_parts_for_images_and_the_system_prompt():
    d = LollmsDiscussion.create_new(system_prompt="Look closely.")
    d.add_discussion_image(PNG)
    d.add_message(sender="user", content="what?", images=[PNG])
    d.add_message(sender="assistant", content="a pixel")
    system, user, assistant = d.export("openai_chat")
    url = f"data:image/png;base64,{PNG}"
    assert system == {
        "role": "system",
        "content": [
            {"type": "text", "text": "Look closely."},
            {"type": "image_url", "image_url": {"url": url, "detail": "auto"}},
        ],
    }
    assert user["content"][1]["image_url"]["url"] == url
    assert assistant == {"role": "assistant", "content": "a pixel"}
    json.dumps(d.export("openai_chat"))  # plain JSON: straight into the OpenAI SDK
    # what the bindings consume: the discussion's images move to the last user turn
    messages = d.export("messages")
    assert messages[0] == {"role": "system", "content": "Look closely."}
    assert messages[1]["images"] == [PNG, PNG]
    assert d.export("ollama_chat")[1]["images"] == [PNG]
    assert "(1 image(s) attached)" in d.export("lollms_text")
    assert d.export("openai_chat", suppress_system_prompt=True)[0]["role"] == "user"


# -- calls go through the client -----------------------------------------------------------


def test_chat_goes_through_a_client_override():
    class Recording(LollmsClient):
        seen: list[str] = []

        def generate_from_messages(self, messages, streaming_callback=None, **kwargs):
            self.seen.append(messages[-1]["content"])
            return "overridden"

        def count_tokens(self, text):
            self.seen.append("count")
            return 1

    c = Recording(llm_binding_name="echo")
    d = LollmsDiscussion.create_new(c)
    assert d.chat("hello").content == "overridden"
    assert "hello" in Recording.seen and "count" in Recording.seen
    c.close()


# -- LollmsDataManager ---------------------------------------------------------------------


def test_data_manager_session_engine_mixins_and_search(tmp_path):
    class DiscussionMixin:
        project: str
        priority: int

    class MessageMixin:
        rating: int

    db = tmp_path / "mixins.db"
    manager = LollmsDataManager(f"sqlite:///{db}", discussion_mixin=DiscussionMixin, message_mixin=MessageMixin)
    with manager.get_session() as session:
        d = LollmsDiscussion.create_new(db_manager=manager)
        d.project = "apollo"
        d.priority = 2
        msg = d.add_message(sender="user", content="hi", rating=5)
        session.commit()
    d.edit_message(msg.id, rating=4)
    with pytest.raises(ConfigError, match="unknown column"):
        d.edit_message(msg.id, stars=1)
    other = LollmsDiscussion.create_new(db_manager=manager)
    other.project = "gemini"
    again = manager.get_discussion(None, d.id)
    assert (again.project, again.priority) == ("apollo", 2)
    assert again.get_messages()[0].rating == 4
    assert [r["id"] for r in manager.search_discussions(project="apo")] == [d.id]
    with pytest.raises(ConfigError, match="no discussions column 'colour'"):
        manager.search_discussions(colour="red")
    con = sqlite3.connect(db)
    assert con.execute("SELECT project, priority FROM discussions WHERE id=?", (d.id,)).fetchone() == ("apollo", 2)
    con.close()
    manager.engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        d.project = "closed"
    assert d.project == "apollo"  # memory equals disk after the failed write
    # a plain manager still opens the file (the extra columns are ignored)
    plain = LollmsDataManager(db)
    assert plain.get_discussion(None, d.id).get_messages()[0].content == "hi"
    plain.close()


def test_data_manager_refuses_encryption_and_clashing_columns(tmp_path):
    with pytest.raises(NotSupportedError, match="SQLCipher"):
        LollmsDataManager(tmp_path / "e.db", encryption_key="secret")

    class Clash:
        content: str

    with pytest.raises(ConfigError, match="'content' is one of lollms' own columns"):
        LollmsDataManager(tmp_path / "c.db", message_mixin=Clash)


# -- the schema ----------------------------------------------------------------------------

_SCHEMA_1 = [
    "CREATE TABLE discussions (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, system_prompt TEXT NOT NULL DEFAULT '',"
    " metadata TEXT NOT NULL DEFAULT '{}', active_leaf_id TEXT)",
    "CREATE TABLE messages (id TEXT PRIMARY KEY, discussion_id TEXT NOT NULL REFERENCES discussions(id) ON DELETE "
    "CASCADE, seq INTEGER NOT NULL, parent_id TEXT, sender TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,"
    " images TEXT NOT NULL DEFAULT '[]', metadata TEXT NOT NULL DEFAULT '{}', tokens INTEGER,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX messages_by_discussion ON messages(discussion_id, seq)",
    "INSERT INTO discussions VALUES ('d1', '2025-01-01T00:00:00+00:00', 'sys', '{\"title\": \"old\"}', 'm2')",
    "INSERT INTO messages VALUES ('m1', 'd1', 0, NULL, 'user', 'user', 'hello', '[\"" + PNG + "\"]', '{}', 1, 't')",
    "INSERT INTO messages VALUES ('m2', 'd1', 1, 'm1', 'assistant', 'assistant', 'hi', '[]', '{}', 1, 't')",
    "PRAGMA user_version = 1",
]


def test_a_version_1_database_upgrades_in_place_and_keeps_everything(tmp_path):
    db = tmp_path / "v1.db"
    con = sqlite3.connect(db)
    for statement in _SCHEMA_1:
        con.execute(statement)
    con.commit()
    con.close()
    d = LollmsDiscussion.load(db, "d1")
    assert (d.system_prompt, d.metadata, d.active_leaf_id) == ("sys", {"title": "old"}, "m2")
    assert [m.content for m in d.get_messages()] == ["hello", "hi"]
    assert d.get_messages()[0].get_active_images() == [PNG]  # older rows: every image active
    d.memory = "new"
    d.artefacts.add("a", content="x")
    again = LollmsDiscussion.load(db, "d1")
    assert (again.memory, again.artefacts.get("a")["content"]) == ("new", "x")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    con.close()


def test_older_code_refuses_a_version_2_file(tmp_path, monkeypatch):
    from lollms_core.discussion import _store as store

    db = tmp_path / "v2.db"
    LollmsDiscussion.create_new(db_path=db).close()
    monkeypatch.setattr(store, "SCHEMA_VERSION", 1)  # what the previous release reads
    with pytest.raises(LollmsError, match="schema version 2; this lollms-core reads versions up to 1"):
        LollmsDiscussion.create_new(db_path=db)
