"""SQLite persistence of discussions: one file the user names, WAL, versioned schema.

Every write is its own transaction, committed before the call returns, so a crash loses
at most the operation in flight. The schema version lives in ``PRAGMA user_version``;
``_MIGRATIONS[n]`` brings a file from version ``n`` to ``n + 1``, so an old file is
upgraded in place on open and a file from a newer lollms is refused, not damaged.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import (  # re-exported: the old import path keeps working
    ConfigError,
    DiscussionNotFoundError,
    LollmsError,
    MessageNotFoundError,
    ReadOnlyDatabaseError,
)
from ._sqlite_open import check_db_path, check_is_ours, connect

__all__ = [
    "SCHEMA_VERSION",
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "DiscussionRecord",
    "MessageNotFoundError",
    "SQLiteDiscussionStore",
]

_MIGRATIONS: list[list[str]] = [
    # 0 -> 1: discussions and their message trees.
    [
        """CREATE TABLE discussions (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            metadata TEXT NOT NULL DEFAULT '{}',
            active_leaf_id TEXT
        )""",
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            discussion_id TEXT NOT NULL REFERENCES discussions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            parent_id TEXT,
            sender TEXT NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            images TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            tokens INTEGER,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX messages_by_discussion ON messages(discussion_id, seq)",
    ],
]
#: The schema version this code writes.
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass
class DiscussionMessage:
    """One message of a discussion tree.

    :param id: a uuid4 hex string.
    :param sender: who wrote it ("user", "assistant", a persona name...).
    :param role: ``"system"``, ``"user"`` or ``"assistant"``.
    :param images: paths, URLs or base64 strings (bytes are stored as base64).
    :param tokens: the content's token count with the client's model, ``None`` if unknown.
    :param parent_id: the previous message on its branch, ``None`` for a root.
    :param created_at: ISO 8601 UTC time stamp.
    """

    id: str
    sender: str
    role: str
    content: str
    parent_id: str | None
    created_at: str
    images: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    tokens: int | None = None

    # lollms_client's message field names, read from ours (see docs/migrating-from-lollms-client.md).
    @property
    def sender_type(self) -> str:
        """lollms_client's name for :attr:`role`."""
        return self.role

    @property
    def raw_content(self) -> str:
        """The answer as the model wrote it (thinking included) when recorded, else :attr:`content`."""
        return str(self.metadata.get("raw_content", self.content))

    @property
    def thoughts(self) -> str | None:
        """The model's thinking (``<think>`` blocks or reasoning stream) kept apart from the answer."""
        value = self.metadata.get("thoughts")
        return None if value is None else str(value)

    @property
    def model_name(self) -> str | None:
        """The model that wrote this answer, when known."""
        value = self.metadata.get("model_name")
        return None if value is None else str(value)

    @property
    def binding_name(self) -> str | None:
        """The binding that wrote this answer, when known."""
        value = self.metadata.get("binding_name")
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "sender": self.sender,
            "role": self.role,
            "content": self.content,
            "images": list(self.images),
            "metadata": self.metadata,
            "tokens": self.tokens,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscussionMessage:
        """Inverse of :meth:`to_dict`.

        :raises ConfigError: a required field is missing.
        """
        missing = [k for k in ("id", "sender", "role", "content", "created_at") if k not in data]
        if missing:
            raise ConfigError(f"message {data.get('id', '?')!r} lacks field(s) {', '.join(missing)}")
        return cls(
            id=str(data["id"]),
            sender=str(data["sender"]),
            role=str(data["role"]),
            content=str(data["content"]),
            parent_id=data.get("parent_id"),
            created_at=str(data["created_at"]),
            images=list(data.get("images") or []),
            metadata=dict(data.get("metadata") or {}),
            tokens=data.get("tokens"),
        )


@dataclass
class DiscussionRecord:
    """A discussion's own fields plus its messages in insertion order."""

    id: str
    created_at: str
    system_prompt: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    active_leaf_id: str | None = None
    messages: list[DiscussionMessage] = field(default_factory=list)


class SQLiteDiscussionStore:
    """Discussions in one SQLite file (created if missing, never anywhere else)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: ``True`` when the file is not writable: it is opened read-only and every write raises
        #: :class:`~lollms_core.errors.ReadOnlyDatabaseError`.
        self.read_only = check_db_path(self.path)
        self._conn = connect(self.path, self.read_only)
        self._lock = threading.RLock()
        try:
            check_is_ours(self._conn, self.path)  # before any write: a foreign file stays byte-identical
            self._check_version()
            if self.read_only:
                self._check_readable_as_is()
            else:
                # WAL: readers in other processes never block the writer, and a crash keeps every commit.
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ConfigError(f"db_path '{self.path}' is not a usable SQLite database: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    def _check_readable_as_is(self) -> None:
        """A read-only file cannot be migrated: it must already have this version's schema."""
        version = self._check_version()
        if version < SCHEMA_VERSION:
            raise ReadOnlyDatabaseError(
                f"discussion database '{self.path}' is read-only and "
                + ("empty" if version == 0 else f"has the older schema version {version}")
                + f"; lollms needs schema version {SCHEMA_VERSION}: make the file writable once so it can be set up"
            )

    def _check_version(self) -> int:
        version: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            # Refuse before writing anything: a newer schema must not be half-migrated by old code.
            raise LollmsError(
                f"discussion database '{self.path}' has schema version {version}; this lollms-core "
                f"reads versions up to {SCHEMA_VERSION}: upgrade lollms-core to open it"
            )
        return version

    def _migrate(self) -> None:
        with self._transaction() as cur:
            version = self._check_version()  # again inside the lock: another process may have migrated
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step]:
                    cur.execute(statement)
            # PRAGMA cannot take a bound parameter; the value is an int we computed.
            cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        if self.read_only:
            raise ReadOnlyDatabaseError(
                f"discussion database '{self.path}' was opened read-only (the file is not writable): "
                "reading works, changes are refused; make the file writable to change discussions"
            )
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (later writes fail)."""
        with self._lock:
            self._conn.close()

    # -- writes ----------------------------------------------------------------------

    def create(self, record: DiscussionRecord) -> None:
        """Insert a discussion and its messages in one transaction."""
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO discussions (id, created_at, system_prompt, metadata, active_leaf_id) VALUES (?,?,?,?,?)",
                (record.id, record.created_at, record.system_prompt, _dump(record.metadata), record.active_leaf_id),
            )
            for seq, msg in enumerate(record.messages):
                self._insert_message(cur, record.id, seq, msg)

    def add_message(self, discussion_id: str, msg: DiscussionMessage, active_leaf_id: str) -> None:
        """Append one message and move the active leaf, atomically."""
        with self._transaction() as cur:
            # Numbered inside the write lock: another process appending to the same file cannot collide.
            (seq,) = cur.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE discussion_id=?", (discussion_id,)
            ).fetchone()
            self._insert_message(cur, discussion_id, seq, msg)
            cur.execute("UPDATE discussions SET active_leaf_id=? WHERE id=?", (active_leaf_id, discussion_id))

    def update_message(self, msg: DiscussionMessage) -> None:
        """Rewrite a message's content, images, metadata and token count."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE messages SET content=?, images=?, metadata=?, tokens=? WHERE id=?",
                (msg.content, _dump(msg.images), _dump(msg.metadata), msg.tokens, msg.id),
            )

    def update_discussion(self, record: DiscussionRecord) -> None:
        """Rewrite a discussion's own fields (not its messages)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE discussions SET system_prompt=?, metadata=?, active_leaf_id=? WHERE id=?",
                (record.system_prompt, _dump(record.metadata), record.active_leaf_id, record.id),
            )

    def delete(self, discussion_id: str) -> None:
        """Remove a discussion and all its messages."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM discussions WHERE id=?", (discussion_id,))

    def delete_messages(self, discussion_id: str, message_ids: list[str], active_leaf_id: str | None) -> None:
        """Remove messages (a subtree the caller computed) and move the active leaf, atomically."""
        with self._transaction() as cur:
            cur.executemany(
                "DELETE FROM messages WHERE discussion_id=? AND id=?", [(discussion_id, i) for i in message_ids]
            )
            cur.execute("UPDATE discussions SET active_leaf_id=? WHERE id=?", (active_leaf_id, discussion_id))

    @staticmethod
    def _insert_message(cur: sqlite3.Cursor, discussion_id: str, seq: int, msg: DiscussionMessage) -> None:
        cur.execute(
            "INSERT INTO messages (id, discussion_id, seq, parent_id, sender, role, content, images, metadata,"
            " tokens, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                msg.id,
                discussion_id,
                seq,
                msg.parent_id,
                msg.sender,
                msg.role,
                msg.content,
                _dump(msg.images),
                _dump(msg.metadata),
                msg.tokens,
                msg.created_at,
            ),
        )

    # -- reads -----------------------------------------------------------------------

    def load(self, discussion_id: str) -> DiscussionRecord:
        """Read a discussion with all its branches.

        :raises DiscussionNotFoundError: no discussion has that id (the message lists some that exist).
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT id, created_at, system_prompt, metadata, active_leaf_id FROM discussions WHERE id=?",
                (discussion_id,),
            ).fetchone()
            if row is None:
                known = self.list_ids()
                hint = f"it holds: {', '.join(known[:5])}{'...' if len(known) > 5 else ''}" if known else "it is empty"
                raise DiscussionNotFoundError(f"no discussion '{discussion_id}' in '{self.path}'; {hint}")
            rows = self._conn.execute(
                "SELECT id, parent_id, sender, role, content, images, metadata, tokens, created_at"
                " FROM messages WHERE discussion_id=? ORDER BY seq",
                (discussion_id,),
            ).fetchall()
        messages = [
            DiscussionMessage(
                id=r[0],
                parent_id=r[1],
                sender=r[2],
                role=r[3],
                content=r[4],
                images=json.loads(r[5]),
                metadata=json.loads(r[6]),
                tokens=r[7],
                created_at=r[8],
            )
            for r in rows
        ]
        return DiscussionRecord(row[0], row[1], row[2], json.loads(row[3]), row[4], messages)

    def summaries(self) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        """``(id, created_at, active_leaf_id, metadata)`` of every stored discussion, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, created_at, active_leaf_id, metadata FROM discussions ORDER BY created_at DESC, rowid DESC"
            ).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def list_ids(self) -> list[str]:
        """Ids of the stored discussions, oldest first."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM discussions ORDER BY created_at, rowid")]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
