"""After any failed operation, a persisted discussion in memory equals what is on disk.

Each case makes an operation fail (a value SQLite/JSON cannot hold, or a closed store) and
then reloads the discussion from the file and compares the full JSON export.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from lollms_core import LollmsDiscussion
from lollms_core.errors import ConfigError

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


@pytest.fixture
def disc(tmp_path):
    d = LollmsDiscussion.create_new(db_path=tmp_path / "d.sqlite", title="t")
    d.add_message(sender="user", content="hello", images=[PNG])
    d.add_message(sender="assistant", content="hi")
    d.add_discussion_image(PNG)
    d.artefacts.add("plan.md", content="v1", active=True)
    yield d
    d.close()


def assert_same_as_disk(d: LollmsDiscussion) -> None:
    path = d._store.path  # the file this discussion writes to
    with LollmsDiscussion.load(path, d.id) as fresh:
        assert json.loads(d.export("json")) == json.loads(fresh.export("json"))


FAILING_OPS = {
    "edit_message content with a lone surrogate": lambda d: d.edit_message(d.active_leaf_id, content="bad\ud800"),
    "edit_message metadata not JSON": lambda d: d.edit_message(d.active_leaf_id, metadata={"when": object()}),
    "set_metadata not JSON": lambda d: d.set_metadata(when=object()),
    "set_metadata surrogate": lambda d: d.set_metadata(title="x\udfff"),
    "system_prompt surrogate": lambda d: setattr(d, "system_prompt", "x\ud800"),
    "add_message content surrogate": lambda d: d.add_message(sender="user", content="a\ud800"),
    "add_message metadata not JSON": lambda d: d.add_message(sender="user", content="a", metadata={"x": {1, 2}}),
    "add_message image surrogate": lambda d: d.add_message(sender="user", content="a", images=["\ud800"]),
    "memory surrogate": lambda d: setattr(d, "memory", "x\ud800"),
    "user_data_zone surrogate": lambda d: setattr(d, "user_data_zone", "x\ud800"),
    "add_discussion_image surrogate": lambda d: d.add_discussion_image("x\ud800"),
    "artefacts.add content surrogate": lambda d: d.artefacts.add("new", content="x\ud800"),
    "artefacts.add extra not JSON": lambda d: d.artefacts.add("new", blob=object()),
    "artefacts.update surrogate": lambda d: d.artefacts.update("plan.md", new_content="x\ud800"),
    "set_branch_label surrogate": lambda d: d.set_branch_label(d.active_leaf_id, "x\ud800"),
    "merge_branches separator surrogate": lambda d: d.merge_branches(
        d.active_leaf_id, d.get_messages()[0].id, separator_content="x\ud800"
    ),
}


@pytest.mark.parametrize("op", FAILING_OPS.values(), ids=FAILING_OPS.keys())
def test_failed_operation_leaves_memory_equal_to_disk(disc, op):
    before = disc.export("json")
    with pytest.raises(ConfigError, match="cannot be stored"):
        op(disc)
    assert disc.export("json") == before
    assert_same_as_disk(disc)
    # and the object keeps working
    disc.set_metadata(after="ok")
    disc.add_message(sender="user", content="still works")
    assert_same_as_disk(disc)


def test_set_metadata_object_does_not_poison_later_operations(disc):
    with pytest.raises(ConfigError, match="when"):
        disc.set_metadata(when=object())
    assert "when" not in disc.metadata
    disc.switch_branch(disc.get_messages()[0].id)  # would fail with "not JSON serializable" before
    assert_same_as_disk(disc)


CLOSED_STORE_OPS = {
    "switch_branch": lambda d: d.switch_branch(d.get_children(d.get_messages()[0].id)[0].id),
    "edit_message": lambda d: d.edit_message(d.active_leaf_id, content="changed"),
    "set_metadata": lambda d: d.set_metadata(title="changed"),
    "system_prompt": lambda d: setattr(d, "system_prompt", "changed"),
    "add_message": lambda d: d.add_message(sender="user", content="new"),
    "prune_branch": lambda d: d.prune_branch(d.get_messages()[-1].id),
    "active_branch_id": lambda d: setattr(d, "active_branch_id", d.get_messages()[0].id),
    "fork_from": lambda d: d.fork_from(d.get_messages()[0].id, initial_content="x"),
    "memory": lambda d: setattr(d, "memory", "changed"),
    "personality_data_zone": lambda d: setattr(d, "personality_data_zone", "changed"),
    "add_discussion_image": lambda d: d.add_discussion_image(PNG),
    "toggle_discussion_image_activation": lambda d: d.toggle_discussion_image_activation(0),
    "remove_discussion_image": lambda d: d.remove_discussion_image(0),
    "message toggle_image_activation": lambda d: d.get_messages()[0].toggle_image_activation(0),
    "artefacts.add": lambda d: d.artefacts.add("other.md", content="x"),
    "artefacts.update": lambda d: d.artefacts.update("plan.md", new_content="v2"),
    "artefacts.remove": lambda d: d.artefacts.remove("plan.md"),
    "artefacts.deactivate": lambda d: d.artefacts.deactivate("plan.md"),
    "set_branch_label": lambda d: d.set_branch_label(d.active_leaf_id, "label"),
    "merge_branches": lambda d: d.merge_branches(d.get_messages()[-1].id, d.get_messages()[0].id),
}


@pytest.mark.parametrize("op", CLOSED_STORE_OPS.values(), ids=CLOSED_STORE_OPS.keys())
def test_write_failure_leaves_memory_unchanged(disc, op):
    first = disc.get_messages()[0].id
    disc.add_message(sender="assistant", content="sibling", parent_id=first)
    disc.switch_branch(disc.get_messages()[0].id)
    before = disc.export("json")
    disc._store.close()  # every write now fails inside the store
    with pytest.raises(sqlite3.ProgrammingError):
        op(disc)
    assert disc.export("json") == before
    disc._store.__init__(disc._store.path)  # reopen the same file
    assert_same_as_disk(disc)


def test_a_bad_index_or_title_changes_nothing(disc):
    before = disc.export("json")
    with pytest.raises(IndexError):
        disc.toggle_discussion_image_activation(3)
    with pytest.raises(IndexError):
        disc.get_messages()[0].toggle_image_activation(1)
    with pytest.raises(ConfigError):
        disc.artefacts.activate("missing.md")
    with pytest.raises(TypeError):
        disc.memory = 3
    assert disc.export("json") == before
    assert_same_as_disk(disc)


def test_in_memory_discussion_validates_too():
    d = LollmsDiscussion.create_new()
    d.add_message(sender="user", content="x")
    with pytest.raises(ConfigError, match="metadata"):
        d.set_metadata(when=object())
    assert d.metadata == {}
    with pytest.raises(ConfigError, match="content"):
        d.edit_message(d.active_leaf_id, content="\ud800")
    assert d.get_messages()[0].content == "x"


def test_regenerate_branch_keeps_the_old_answer_when_the_backend_fails(tmp_path):
    """lollms_client's regenerate_branch replaces the answer: only once a new one exists."""
    from lollms_core import BackendError, LollmsClient, LollmsDiscussion

    db = tmp_path / "chat.db"
    failing = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=True)
    disc = LollmsDiscussion.create_new(lollms_client=failing, db_path=db)
    disc.add_message(sender="user", content="hello")
    old = disc.add_message(sender="assistant", content="the old answer")
    with pytest.raises(BackendError):
        disc.regenerate_branch()
    assert disc.get_message(old.id).content == "the old answer"
    again = LollmsDiscussion.load(db, disc.id)
    assert [m.content for m in again.get_messages()] == ["hello", "the old answer"]

    working = LollmsClient(llm_binding_name="echo")
    disc = LollmsDiscussion.load(db, disc.id, lollms_client=working)
    new = disc.regenerate_branch()
    assert [m.content for m in disc.get_messages()][-1] == new["ai_message"].content
    assert old.id not in {m.id for m in LollmsDiscussion.load(db, disc.id).get_messages()}
