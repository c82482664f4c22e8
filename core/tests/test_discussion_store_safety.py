"""The discussion store never damages a file that is not its own, reads read-only files, and names bad paths."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lollms_core import ConfigError, LollmsDiscussion, ReadOnlyDatabaseError


def _foreign_db(path: Path, user_version: int = 0) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    if user_version:
        conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    return path


def _every_way_to_open(path: Path) -> list[str]:
    """Open ``path`` as each public entry point does; collect the error messages."""
    messages = []
    for attempt in (
        lambda: LollmsDiscussion.create_new(db_path=path),
        lambda: LollmsDiscussion.load(path, "anything"),
        lambda: LollmsDiscussion.list_discussions(path),
    ):
        with pytest.raises(ConfigError) as caught:
            attempt()
        messages.append(str(caught.value))
    return messages


@pytest.mark.parametrize("user_version", [0, 7])
def test_a_foreign_database_is_refused_and_left_byte_identical(tmp_path: Path, user_version: int) -> None:
    db = _foreign_db(tmp_path / "app.sqlite", user_version)
    before = db.read_bytes()
    for message in _every_way_to_open(db):
        assert str(db) in message
        assert "something else (tables: users)" in message  # not "upgrade lollms-core" for user_version 7
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite"]  # no -wal/-shm left either


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_text("just some notes\n"), "is not a SQLite database (it starts with b'just some no'"),
        (lambda p: p.write_bytes(b"\x00\x01" * 100), "is not a SQLite database"),
    ],
)
def test_an_unusable_path_is_a_config_error_naming_it(tmp_path: Path, make, fragment: str) -> None:
    target = tmp_path / "talk.db"
    make(target)
    before = None if target.is_dir() else target.read_bytes()
    with pytest.raises(ConfigError) as caught:
        LollmsDiscussion.create_new(db_path=target)
    assert f"db_path '{target}'" in str(caught.value)
    assert fragment in str(caught.value)
    if before is not None:
        assert target.read_bytes() == before


def test_a_sqlite_file_with_a_corrupt_body_names_the_path(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(ConfigError, match=f"db_path '{db}'"):
        LollmsDiscussion.list_discussions(db)


@pytest.fixture
def read_only() -> Iterator:
    """Make files unwritable for this process, also as root (where chmod is not enough)."""
    frozen: list[Path] = []

    def freeze(path: Path) -> None:
        if os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
                pytest.skip("running as root and chattr +i is not available: cannot make a file read-only")
            frozen.append(path)
        else:
            path.chmod(0o444)
        assert not os.access(path, os.W_OK)

    yield freeze
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_read_and_refuses_writes_clearly(tmp_path: Path, read_only) -> None:
    db = tmp_path / "archive.db"
    with LollmsDiscussion.create_new(db_path=db, topic="kept") as d:
        d.add_message(sender="user", content="hello")
        d.add_message(sender="assistant", content="hi there")
        ident = d.id
    read_only(db)
    before = db.read_bytes()
    assert LollmsDiscussion.list_discussions(db) == [ident]
    with LollmsDiscussion.load(db, ident) as loaded:
        assert [m.content for m in loaded.get_messages()] == ["hello", "hi there"]
        assert loaded.metadata["topic"] == "kept"
        with pytest.raises(ReadOnlyDatabaseError) as caught:
            loaded.add_message(sender="user", content="more")
    assert f"'{db}' was opened read-only" in str(caught.value)
    with pytest.raises(ReadOnlyDatabaseError, match="read-only"):
        LollmsDiscussion.create_new(db_path=db)
    assert db.read_bytes() == before


def test_a_read_only_empty_file_cannot_be_set_up(tmp_path: Path, read_only) -> None:
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    read_only(db)
    for attempt in (lambda: LollmsDiscussion.create_new(db_path=db), lambda: LollmsDiscussion.list_discussions(db)):
        with pytest.raises(ReadOnlyDatabaseError, match="read-only and empty"):
            attempt()
    assert db.read_bytes() == b""


def test_a_directory_is_named_by_every_entry_point(tmp_path: Path) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    for message in _every_way_to_open(folder):
        assert f"db_path '{folder}' is a directory" in message


def test_a_read_only_database_in_a_read_only_folder_is_read(tmp_path: Path, read_only) -> None:
    # Before: "attempt to write a readonly database": WAL mode needs the folder writable for its
    # -wal/-shm files. Now the file is opened immutable when even those cannot be made.
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "archive.db"
    with LollmsDiscussion.create_new(db_path=db, topic="kept") as d:
        d.add_message(sender="user", content="hello")
        d.add_message(sender="assistant", content="hi there")
        ident = d.id
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]  # a clean close leaves no -wal/-shm
    read_only(db)
    read_only(folder)
    before = db.read_bytes()
    assert LollmsDiscussion.list_discussions(db) == [ident]
    with LollmsDiscussion.load(db, ident) as loaded:
        assert [m.content for m in loaded.get_messages()] == ["hello", "hi there"]
        with pytest.raises(ReadOnlyDatabaseError, match="opened read-only"):
            loaded.add_message(sender="user", content="more")
    assert db.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]
