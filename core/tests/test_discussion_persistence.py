"""LollmsDiscussion in SQLite: across processes, after a crash, schema versions, one file only."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import lollms_core
import pytest
from lollms_core import LollmsDiscussion
from lollms_core.discussion import DiscussionNotFoundError
from lollms_core.discussion._store import SCHEMA_VERSION
from lollms_core.errors import ConfigError, LollmsError

_SRC = str(Path(lollms_core.__file__).resolve().parents[1])
_PRELUDE = """
import json, os, sys
from types import SimpleNamespace
import lollms_core
from lollms_core import LollmsDiscussion
client = SimpleNamespace(llm=lollms_core.LollmsLLMBindingManager().create_binding("echo"))
db = sys.argv[1]
"""


def run_py(code: str, db: Path, cwd: Path, *args: str, returncode: int = 0) -> dict:
    """Run ``code`` in a fresh interpreter (cwd = ``cwd``); it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code), str(db), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == returncode, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def workdir(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


def test_branches_survive_process_restarts(tmp_path, workdir):
    db = tmp_path / "store" / "chats.sqlite"
    db.parent.mkdir()
    first = run_py(
        """
        d = LollmsDiscussion.create_new(lollms_client=client, db_path=db, system_prompt="Be brief.", title="trip")
        a1 = d.chat("where should we go")
        a1b = d.regenerate(n_predict=2)
        print(json.dumps({"id": d.id, "u1": a1.parent_id, "a1": a1.id, "a1b": a1b.id}))
        """,
        db,
        workdir,
    )
    second = run_py(
        """
        d = LollmsDiscussion.load(db, sys.argv[2], lollms_client=client)
        leaf_on_open = d.active_leaf_id
        d.switch_branch(sys.argv[3])
        a2 = d.chat("and after that")
        print(json.dumps({"leaf_on_open": leaf_on_open, "a2": a2.id, "u2": a2.parent_id}))
        """,
        db,
        workdir,
        first["id"],
        first["a1"],
    )
    assert second["leaf_on_open"] == first["a1b"]  # the active branch was persisted too

    d = LollmsDiscussion.load(db, first["id"])
    assert d.system_prompt == "Be brief."
    assert d.metadata == {"title": "trip"}
    assert d.active_leaf_id == second["a2"]
    assert [m.id for m in d.get_messages()] == [first["u1"], first["a1"], second["u2"], second["a2"]]
    assert [m.content for m in d.get_messages()] == [
        "where should we go",
        "where should we go",
        "and after that",
        "and after that",
    ]
    assert [m.content for m in d.get_branch(first["a1b"])] == ["where should we go", "where should"]
    d.switch_branch(first["a1b"])
    d.close()
    assert LollmsDiscussion.load(db, first["id"]).active_leaf_id == first["a1b"]
    assert os.listdir(workdir) == []
    assert {p.name for p in db.parent.iterdir()} <= {"chats.sqlite", "chats.sqlite-wal", "chats.sqlite-shm"}


def test_a_crash_loses_nothing_that_was_added(tmp_path, workdir):
    db = tmp_path / "crash.sqlite"
    out = run_py(
        """
        d = LollmsDiscussion.create_new(lollms_client=client, db_path=db)
        d.chat("one")
        d.add_message(sender="user", content="two")
        d.edit_message(d.active_leaf_id, content="two, edited", metadata={"seen": True})
        print(json.dumps({"id": d.id}), flush=True)
        os._exit(9)  # no close(), no interpreter shutdown: a crash
        """,
        db,
        workdir,
        returncode=9,
    )
    d = LollmsDiscussion.load(db, out["id"])
    assert [m.content for m in d.get_messages()] == ["one", "one", "two, edited"]
    assert d.get_messages()[-1].metadata == {"seen": True}
    assert d.get_messages()[0].tokens == 1  # counted with the echo tokenizer when added


def test_database_uses_wal_and_records_its_schema_version(tmp_path):
    db = tmp_path / "v.sqlite"
    LollmsDiscussion.create_new(db_path=db).close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2  # 2: zones, images, artefacts
    con.close()


def test_a_database_from_a_newer_lollms_is_refused_untouched(tmp_path):
    db = tmp_path / "future.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(LollmsError, match=r"schema version 99.*up to 2"):
        LollmsDiscussion.create_new(db_path=db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 99
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_several_discussions_share_one_file_and_can_be_listed_and_deleted(tmp_path):
    db = tmp_path / "many.sqlite"
    assert LollmsDiscussion.list_discussions(db) == []
    assert not db.exists()
    a = LollmsDiscussion.create_new(db_path=db)
    b = LollmsDiscussion.create_new(db_path=db)
    a.add_message(sender="user", content="in a")
    b.add_message(sender="user", content="in b")
    assert LollmsDiscussion.list_discussions(db) == [a.id, b.id]
    a.delete()
    assert LollmsDiscussion.list_discussions(db) == [b.id]
    assert [m.content for m in LollmsDiscussion.load(db, b.id).get_messages()] == ["in b"]


def test_fork_and_import_persist_into_the_database(tmp_path):
    db = tmp_path / "f.sqlite"
    d = LollmsDiscussion.create_new(db_path=db)
    d.add_message(sender="user", content="q")
    d.add_message(sender="assistant", content="a")
    f = d.fork(d.get_messages()[0].id)
    f.add_message(sender="assistant", content="other a")
    assert [m.content for m in LollmsDiscussion.load(db, f.id).get_messages()] == ["q", "other a"]
    other = tmp_path / "copy.sqlite"
    LollmsDiscussion.from_json(d.export("json"), db_path=other)
    assert LollmsDiscussion.load(other, d.id).export("json") == d.export("json")
    with pytest.raises(ConfigError, match="already exists"):
        LollmsDiscussion.from_json(d.export("json"), db_path=other)


def test_loading_a_missing_discussion_or_file_names_what_exists(tmp_path):
    db = tmp_path / "x.sqlite"
    with pytest.raises(DiscussionNotFoundError, match="does not exist"):
        LollmsDiscussion.load(db, "abc")
    assert not db.exists()  # load never creates a file
    d = LollmsDiscussion.create_new(db_path=db)
    with pytest.raises(DiscussionNotFoundError, match=f"no discussion 'abc'.*{d.id}"):
        LollmsDiscussion.load(db, "abc")
    with pytest.raises(ConfigError, match="does not exist"):
        LollmsDiscussion.create_new(db_path=tmp_path / "no" / "such" / "dir.sqlite")


def test_two_writers_on_one_discussion_both_keep_their_messages(tmp_path):
    db = tmp_path / "two.sqlite"
    d = LollmsDiscussion.create_new(db_path=db)
    root = d.add_message(sender="user", content="root")
    first, second = LollmsDiscussion.load(db, d.id), LollmsDiscussion.load(db, d.id)
    from_first = first.add_message(sender="assistant", content="from first")
    from_second = second.add_message(sender="assistant", content="from second")
    merged = LollmsDiscussion.load(db, d.id)
    assert [m.id for m in merged.get_children(root.id)] == [from_first.id, from_second.id]
    assert merged.active_leaf_id == from_second.id  # the last write wins the active branch


def test_an_older_file_is_migrated_in_place_keeping_its_data(tmp_path, monkeypatch):
    from lollms_core.discussion import _store as store

    db = tmp_path / "old.sqlite"
    d = LollmsDiscussion.create_new(db_path=db)
    d.add_message(sender="user", content="written by this schema")
    d.close()
    # A future release adds a step; opening today's file must run exactly that step.
    future = store.SCHEMA_VERSION + 1
    monkeypatch.setattr(store, "_MIGRATIONS", [*store._MIGRATIONS, ["ALTER TABLE messages ADD COLUMN rating INTEGER"]])
    monkeypatch.setattr(store, "SCHEMA_VERSION", future)
    again = LollmsDiscussion.load(db, d.id)
    assert [m.content for m in again.get_messages()] == ["written by this schema"]
    again.add_message(sender="assistant", content="written by the next schema")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == future
    assert "rating" in [row[1] for row in con.execute("PRAGMA table_info(messages)")]
    con.close()
