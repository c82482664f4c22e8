"""Opening a discussion database safely: refuse what is not ours before anything is written.

``sqlite3.connect`` accepts any path and fails later with messages that do not name it
("unable to open database file", "file is not a database"), and the store's migration would
happily add its tables to someone else's database. These checks run first and only read.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from ..errors import ConfigError

__all__ = ["OUR_TABLES", "check_db_path", "check_is_ours", "connect"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: The tables (and their columns) a lollms discussion database has; the schema of version 1.
OUR_TABLES: dict[str, frozenset[str]] = {
    "discussions": frozenset({"id", "created_at", "system_prompt", "metadata", "active_leaf_id"}),
    "messages": frozenset(
        {"id", "discussion_id", "seq", "parent_id", "sender", "role", "content", "images", "metadata"}
        | {"tokens", "created_at"}
    ),
}


def check_db_path(path: Path) -> bool:
    """Check that ``path`` can hold a discussion database; return whether the file is read-only.

    A missing file is fine (it will be created); an empty file is a new database.

    :raises ConfigError: a directory, something that is not a regular file, a file that is not
        SQLite (the first bytes are shown), or a file that cannot be read; the path is named.
    """
    if not path.parent.is_dir():
        raise ConfigError(f"db_path '{path}': folder '{path.parent}' does not exist")
    if not path.exists():
        return False
    if path.is_dir():
        raise ConfigError(f"db_path '{path}' is a directory; give the path of a database file inside it")
    if not path.is_file():
        raise ConfigError(f"db_path '{path}' is not a regular file; give the path of a database file")
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise ConfigError(f"db_path '{path}' cannot be read: {exc.strerror or exc}") from None
    if head and head != _SQLITE_MAGIC:
        raise ConfigError(
            f"db_path '{path}' is not a SQLite database (it starts with {head[:12]!r}); "
            "give a new file name or a database lollms created"
        )
    return not os.access(path, os.W_OK)


def connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """An autocommit connection; read-only files are opened with ``mode=ro`` so reading never writes.

    A WAL database also needs its ``-wal`` and ``-shm`` files to be read, and SQLite creates them
    beside the file: in a read-only folder that fails ("unable to open database file"). When
    nobody can write the folder nobody can be writing the database either, so it is then opened
    ``immutable=1`` (read without those files and without locks).

    :raises ConfigError: SQLite cannot open the file (the path and SQLite's reason are named).
    """
    target, uri = str(path), False
    if read_only:
        target, uri = f"file:{quote(str(path.absolute()))}?mode=ro", True
    try:
        # Autocommit mode: transactions are opened explicitly, one per operation.
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30, uri=uri)
        if not read_only:
            return conn
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # WAL files are opened on first read
        except sqlite3.OperationalError:
            conn.close()
            if os.access(path.parent, os.W_OK):
                raise
            conn = sqlite3.connect(
                f"{target}&immutable=1", isolation_level=None, check_same_thread=False, timeout=30, uri=True
            )
        return conn
    except sqlite3.Error as exc:
        raise ConfigError(f"db_path '{path}' cannot be opened as a SQLite database: {exc}") from None


def check_is_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that has tables but not a lollms discussion schema; reads only.

    :raises ConfigError: naming the path and the tables found.
    """
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        columns = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in OUR_TABLES if t in tables}
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"db_path '{path}' is not a usable SQLite database: {exc}") from None
    if not tables:
        return  # a new, empty database: the store creates its schema
    ours = all(t in columns and needed <= columns[t] for t, needed in OUR_TABLES.items())
    if not ours:
        shown = ", ".join(tables[:8]) + ("..." if len(tables) > 8 else "")
        raise ConfigError(
            f"db_path '{path}' is a SQLite database of something else (tables: {shown}); lollms leaves it "
            "untouched. Give a new file name or a database lollms created"
        )
