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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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
    "ZONES",
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "DiscussionRecord",
    "DiscussionStore",
    "MemoryStore",
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
    # 1 -> 2: lollms_client's data zones and discussion images, image activation, artefacts.
    [
        *(
            f"ALTER TABLE discussions ADD COLUMN {zone} TEXT NOT NULL DEFAULT ''"
            for zone in ("memory", "user_data_zone", "discussion_data_zone", "personality_data_zone")
        ),
        "ALTER TABLE discussions ADD COLUMN images TEXT NOT NULL DEFAULT '[]'",
        # One flag per image of the message; a missing flag (older rows: '[]') means active.
        "ALTER TABLE messages ADD COLUMN active_images TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE artefacts (
            discussion_id TEXT NOT NULL REFERENCES discussions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            title TEXT NOT NULL,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            active INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (discussion_id, title, version)
        )""",
    ],
]
#: lollms_client's text zones of a discussion, in the order its prompt lays them out.
ZONES = ("memory", "user_data_zone", "discussion_data_zone", "personality_data_zone")
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
    #: One flag per image (``images[i]`` is sent while ``active_images[i]`` is true); a missing flag means active.
    active_images: list[bool] = field(default_factory=list)
    #: Values of the extra columns a ``LollmsDataManager(message_mixin=...)`` declared.
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where a change made through the message itself (image activation) is persisted; set by the discussion.
    _sink: Callable[[DiscussionMessage, dict[str, Any]], None] | None = field(default=None, repr=False, compare=False)

    # lollms_client's message field names, read from ours (see docs/migrating-from-lollms-client.md).
    if not TYPE_CHECKING:  # at runtime only: a __getattr__ would hide typos from the type checker

        def __getattr__(self, name: str) -> Any:
            # Only reached for a missing attribute: a column declared by a LollmsDataManager message_mixin.
            extra = self.__dict__.get("extra")
            if extra is not None and name in extra:
                return extra[name]
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def _is_active(self, index: int) -> bool:
        return index >= len(self.active_images) or bool(self.active_images[index])

    def get_all_images(self) -> list[dict[str, Any]]:
        """lollms_client's image list: ``[{"data": image, "active": bool}]`` in order."""
        return [{"data": image, "active": self._is_active(i)} for i, image in enumerate(self.images)]

    def get_active_images(self) -> list[str]:
        """The images sent to the model with this message (the active ones), in order."""
        return [image for i, image in enumerate(self.images) if self._is_active(i)]

    def toggle_image_activation(self, index: int, active: bool | None = None) -> None:
        """Flip (or set, with ``active``) whether image ``index`` is sent to the model; persisted.

        :raises IndexError: no image at ``index`` (lollms_client's error; nothing changes).
        """
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.images):
            raise IndexError(f"image index {index!r} is out of range: this message has {len(self.images)} image(s)")
        flags = [self._is_active(i) for i in range(len(self.images))]
        flags[index] = (not flags[index]) if active is None else bool(active)
        if self._sink is not None:
            self._sink(self, {"active_images": flags})  # store first; it applies the change once written
        else:
            self.active_images = flags

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
            "active_images": list(self.active_images),
            **({"extra": dict(self.extra)} if self.extra else {}),
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
            active_images=[bool(f) for f in data.get("active_images") or []],
            extra=dict(data.get("extra") or {}),
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
    #: lollms_client's text zones (:data:`ZONES`), sent in the system prompt.
    zones: dict[str, str] = field(default_factory=dict)
    #: Discussion-level images: ``[{"data", "source", "active", "created_at"}]``.
    images: list[dict[str, Any]] = field(default_factory=list)
    #: Every version of every artefact: ``[{"title", "version", "type", "content", "active", ...}]``.
    artefacts: list[dict[str, Any]] = field(default_factory=list)
    #: Values of the extra columns a ``LollmsDataManager(discussion_mixin=...)`` declared.
    extra: dict[str, Any] = field(default_factory=dict)


class DiscussionStore(Protocol):
    """Where a discussion's changes go: each call is one committed change or an exception.

    The discussion calls the store *before* it changes memory, so a store that raises
    leaves the discussion as it was (memory equals disk). :class:`SQLiteDiscussionStore`
    writes a file; :class:`MemoryStore` keeps nothing (a discussion without ``db_path``).
    """

    #: Extra columns by table, declared through ``LollmsDataManager`` mixins.
    extra_columns: dict[str, tuple[str, ...]]

    @property
    def path(self) -> Path | None:
        """The database file, ``None`` for a store that keeps nothing."""

    def create(self, record: DiscussionRecord) -> None:
        """Insert a discussion and its messages."""

    def add_message(self, discussion_id: str, msg: DiscussionMessage, active_leaf_id: str) -> None:
        """Append one message and move the active leaf."""

    def update_message(self, msg: DiscussionMessage) -> None:
        """Rewrite a message's content, images, metadata and token count."""

    def update_discussion(self, record: DiscussionRecord) -> None:
        """Rewrite a discussion's own fields (not its messages)."""

    def delete(self, discussion_id: str) -> None:
        """Remove a discussion and its messages."""

    def replace_artefacts(self, discussion_id: str, artefacts: list[dict[str, Any]]) -> None:
        """Write the discussion's artefacts (every version), replacing what was stored."""

    def delete_messages(self, discussion_id: str, message_ids: list[str], active_leaf_id: str | None) -> None:
        """Remove messages and move the active leaf."""

    def close(self) -> None:
        """Release the connection, if any."""


class MemoryStore:
    """The store of a discussion kept in memory only: every write succeeds and keeps nothing."""

    def __init__(self) -> None:
        self.extra_columns: dict[str, tuple[str, ...]] = {"discussions": (), "messages": ()}

    @property
    def path(self) -> Path | None:
        """Always ``None``: nothing is written."""
        return None

    def create(self, record: DiscussionRecord) -> None:
        """Nothing to write."""

    def add_message(self, discussion_id: str, msg: DiscussionMessage, active_leaf_id: str) -> None:
        """Nothing to write."""

    def update_message(self, msg: DiscussionMessage) -> None:
        """Nothing to write."""

    def update_discussion(self, record: DiscussionRecord) -> None:
        """Nothing to write."""

    def delete(self, discussion_id: str) -> None:
        """Nothing to write."""

    def replace_artefacts(self, discussion_id: str, artefacts: list[dict[str, Any]]) -> None:
        """Nothing to write."""

    def delete_messages(self, discussion_id: str, message_ids: list[str], active_leaf_id: str | None) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to close."""


class SQLiteDiscussionStore:
    """Discussions in one SQLite file (created if missing, never anywhere else)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: ``True`` when the file is not writable: it is opened read-only and every write raises
        #: :class:`~lollms_core.errors.ReadOnlyDatabaseError`.
        self.read_only = check_db_path(self.path)
        self._conn = connect(self.path, self.read_only)
        self._lock = threading.RLock()
        #: Extra columns by table (``"discussions"``, ``"messages"``): see :meth:`add_columns`.
        self.extra_columns: dict[str, tuple[str, ...]] = {"discussions": (), "messages": ()}
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
            self._write_fields(cur, record)
            for seq, msg in enumerate(record.messages):
                self._insert_message(cur, record.id, seq, msg)
            self._insert_artefacts(cur, record.id, record.artefacts)

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
                "UPDATE messages SET content=?, images=?, metadata=?, tokens=?, active_images=? WHERE id=?",
                (msg.content, _dump(msg.images), _dump(msg.metadata), msg.tokens, _dump(msg.active_images), msg.id),
            )
            self._write_extra(cur, "messages", msg.id, msg.extra)

    def update_discussion(self, record: DiscussionRecord) -> None:
        """Rewrite a discussion's own fields (not its messages)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE discussions SET system_prompt=?, metadata=?, active_leaf_id=? WHERE id=?",
                (record.system_prompt, _dump(record.metadata), record.active_leaf_id, record.id),
            )
            self._write_fields(cur, record)

    def _write_fields(self, cur: sqlite3.Cursor, record: DiscussionRecord) -> None:
        # The columns of schema 2, apart so that version 1's INSERT above stays as it was.
        zones = [record.zones.get(zone, "") for zone in ZONES]
        cur.execute(
            f"UPDATE discussions SET {', '.join(f'{zone}=?' for zone in ZONES)}, images=? WHERE id=?",
            (*zones, _dump(record.images), record.id),
        )
        self._write_extra(cur, "discussions", record.id, record.extra)

    def _write_extra(self, cur: sqlite3.Cursor, table: str, row_id: str, values: dict[str, Any]) -> None:
        names = [n for n in self.extra_columns[table] if n in values]
        if names:  # names were checked as identifiers by add_columns: safe to place in the statement
            cur.execute(
                f"UPDATE {table} SET {', '.join(f'{_quoted(n)}=?' for n in names)} WHERE id=?",
                (*(values[n] for n in names), row_id),
            )

    def add_columns(self, table: str, columns: dict[str, str]) -> None:
        """Make sure ``table`` has these extra columns (name → SQLite type); later reads and writes use them.

        Columns are only ever added, never dropped: an older lollms or a manager without the
        mixin still reads the file (it ignores them).

        :raises ConfigError: an unknown table, a name that is not an identifier or is one of ours.
        """
        if table not in self.extra_columns:
            raise ConfigError(f"extra columns go in 'discussions' or 'messages', not {table!r}")
        with self._lock:
            present = {r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")}
        ours = OUR_COLUMNS[table]
        for name in columns:
            if not name.isidentifier() or name.lower() in ours or name.startswith("_"):
                taken = "is one of lollms' own columns" if name.lower() in ours else "is not a plain identifier"
                raise ConfigError(f"extra {table} column {name!r} {taken}; rename it in the mixin")
        missing = {n: t for n, t in columns.items() if n not in present}
        if missing:
            with self._transaction() as cur:
                for name, sql_type in missing.items():
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {_quoted(name)} {sql_type}")
        self.extra_columns[table] = tuple(dict.fromkeys([*self.extra_columns[table], *columns]))

    def search(self, table: str, criteria: dict[str, Any]) -> list[str]:
        """Ids of the ``table`` rows whose columns contain each criterion's text (case-insensitive ``LIKE``).

        :raises ConfigError: a criterion that names no column (the message lists the columns).
        """
        with self._lock:
            columns = [r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")]
            for name in criteria:
                if name not in columns:
                    raise ConfigError(f"no {table} column {name!r}; the columns are {', '.join(columns)}")
            where = " AND ".join(f"{_quoted(n)} LIKE ?" for n in criteria) or "1"
            rows = self._conn.execute(
                f"SELECT id FROM {table} WHERE {where} ORDER BY rowid", [f"%{v}%" for v in criteria.values()]
            )
            return [r[0] for r in rows]

    def replace_artefacts(self, discussion_id: str, artefacts: list[dict[str, Any]]) -> None:
        """Write the discussion's artefacts (every version) in place of the stored ones, atomically."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM artefacts WHERE discussion_id=?", (discussion_id,))
            self._insert_artefacts(cur, discussion_id, artefacts)

    @staticmethod
    def _insert_artefacts(cur: sqlite3.Cursor, discussion_id: str, artefacts: list[dict[str, Any]]) -> None:
        cur.executemany(
            "INSERT INTO artefacts (discussion_id, seq, title, version, type, active, body) VALUES (?,?,?,?,?,?,?)",
            [
                (discussion_id, seq, a["title"], int(a["version"]), a["type"], int(bool(a.get("active"))), _dump(a))
                for seq, a in enumerate(artefacts)
            ],
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

    def _insert_message(self, cur: sqlite3.Cursor, discussion_id: str, seq: int, msg: DiscussionMessage) -> None:
        cur.execute(
            "INSERT INTO messages (id, discussion_id, seq, parent_id, sender, role, content, images, metadata,"
            " tokens, created_at, active_images) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
                _dump(msg.active_images),
            ),
        )
        self._write_extra(cur, "messages", msg.id, msg.extra)

    # -- reads -----------------------------------------------------------------------

    def load(self, discussion_id: str) -> DiscussionRecord:
        """Read a discussion with all its branches.

        :raises DiscussionNotFoundError: no discussion has that id (the message lists some that exist).
        """
        with self._lock:
            row = self._conn.execute(
                f"SELECT id, created_at, system_prompt, metadata, active_leaf_id, {', '.join(ZONES)}, images"
                " FROM discussions WHERE id=?",
                (discussion_id,),
            ).fetchone()
            if row is None:
                known = self.list_ids()
                hint = f"it holds: {', '.join(known[:5])}{'...' if len(known) > 5 else ''}" if known else "it is empty"
                raise DiscussionNotFoundError(f"no discussion '{discussion_id}' in '{self.path}'; {hint}")
            rows = self._conn.execute(
                "SELECT id, parent_id, sender, role, content, images, metadata, tokens, created_at, active_images"
                " FROM messages WHERE discussion_id=? ORDER BY seq",
                (discussion_id,),
            ).fetchall()
            artefacts = [
                json.loads(r[0])
                for r in self._conn.execute(
                    "SELECT body FROM artefacts WHERE discussion_id=? ORDER BY seq", (discussion_id,)
                )
            ]
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
                active_images=json.loads(r[9]),
            )
            for r in rows
        ]
        zones = {zone: text for zone, text in zip(ZONES, row[5 : 5 + len(ZONES)], strict=True) if text}
        for msg in messages:
            msg.extra = self._read_extra("messages", msg.id)
        return DiscussionRecord(
            row[0], row[1], row[2], json.loads(row[3]), row[4], messages, zones, json.loads(row[-1]), artefacts,
            self._read_extra("discussions", row[0]),
        )  # fmt: skip

    def _read_extra(self, table: str, row_id: str) -> dict[str, Any]:
        names = self.extra_columns[table]
        if not names:
            return {}
        with self._lock:
            values = self._conn.execute(
                f"SELECT {', '.join(map(_quoted, names))} FROM {table} WHERE id=?", (row_id,)
            ).fetchone()
        return dict(zip(names, values, strict=True))

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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: Our own column names per table (lower case): an extra column may not take one.
OUR_COLUMNS = {
    "discussions": frozenset({"id", "created_at", "system_prompt", "metadata", "active_leaf_id", "images", *ZONES}),
    "messages": frozenset(
        {"id", "discussion_id", "seq", "parent_id", "sender", "role", "content", "images", "metadata", "tokens"}
        | {"created_at", "active_images", "extra"}
    ),
}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
