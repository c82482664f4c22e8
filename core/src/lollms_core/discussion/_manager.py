"""``LollmsDataManager``: lollms_client's handle on a discussion database, over our SQLite store.

lollms_client 1.21 builds it on SQLAlchemy (``LollmsDataManager("sqlite:///chats.db")``).
Here it is one :class:`SQLiteDiscussionStore` shared by the discussions it opens, so a
script that passes ``db_manager=`` keeps working; ``db_path=`` is the shorter way to say it.
What lollms_client's scripts touch of SQLAlchemy has a small stand-in: ``get_session()``
(a context manager; every change is already committed), ``engine.dispose()``, and the
``discussion_mixin``/``message_mixin`` extra columns (stored, read back, searchable).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NotSupportedError
from ._store import SQLiteDiscussionStore

if TYPE_CHECKING:
    from ._discussion import LollmsDiscussion

__all__ = ["DataSession", "LollmsDataManager", "StoreEngine", "columns_of_mixin"]

_SQLITE_URL = "sqlite:///"
_SQL_TYPES = {bool: "INTEGER", int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}


def _path_of(db_path: str | Path) -> str:
    """A file path from a path or an SQLAlchemy SQLite URL (``sqlite:///chats.db``, ``sqlite:///:memory:``)."""
    text = str(db_path)
    if not text:
        raise ConfigError("LollmsDataManager: db_path is empty; give a file path or 'sqlite:///file.db'")
    if text.startswith(_SQLITE_URL):
        return text[len(_SQLITE_URL) :]
    if "://" in text:
        raise NotSupportedError(
            f"LollmsDataManager: '{text.split('://', maxsplit=1)[0]}://' databases are not offered; lollms-core stores "
            "discussions in SQLite: give a file path or 'sqlite:///file.db'"
        )
    return text


def _sql_type_of(value: Any) -> str | None:
    """The SQLite type of a mixin attribute: an SQLAlchemy ``Column``/``mapped_column``, or a type annotation."""
    column_type = getattr(value, "type", None)
    if column_type is not None and type(value).__name__ in ("Column", "MappedColumn"):
        try:
            python_type = column_type.python_type
        except (NotImplementedError, AttributeError):  # JSON and custom types: stored as text
            return "TEXT"
        return _SQL_TYPES.get(python_type, "TEXT")
    return None


def _sql_type_of_annotation(hint: Any) -> str:
    """``str``, ``"int"``, ``Mapped[int]``, ``Optional[float]``... → the SQLite type (``TEXT`` when unsure)."""
    text = hint if isinstance(hint, str) else getattr(hint, "__name__", "") if isinstance(hint, type) else str(hint)
    inner = text.rsplit("[", 1)[-1].strip("] '\"").split("|")[0].strip()  # Mapped[int] -> int
    by_name = {t.__name__: sql for t, sql in _SQL_TYPES.items()}
    return by_name.get(inner, by_name.get(text, "TEXT"))


def columns_of_mixin(mixin: type) -> dict[str, str]:
    """The extra columns a lollms_client mixin declares: name → SQLite type.

    Read from SQLAlchemy ``Column(...)``/``mapped_column(...)`` attributes (SQLAlchemy itself is
    not needed to read them back) and from plain annotations (``project: str``).

    :raises ConfigError: ``mixin`` is not a class, or declares no column.
    """
    if not isinstance(mixin, type):
        raise ConfigError(f"a mixin is a class with column attributes, not {type(mixin).__name__}")
    columns: dict[str, str] = {}
    for klass in reversed(mixin.__mro__[:-1]):
        for name, hint in vars(klass).get("__annotations__", {}).items():
            if not name.startswith("_"):
                columns[name] = _sql_type_of_annotation(hint)
        for name, value in vars(klass).items():
            sql_type = _sql_type_of(value)
            if not name.startswith("_") and sql_type:
                columns[name] = sql_type
    if not columns:
        raise ConfigError(
            f"mixin {mixin.__name__} declares no column: give it Column(...) attributes or annotations (name: str)"
        )
    return columns


class DataSession:
    """What ``get_session()`` returns: a context manager; every change is already committed.

    ``commit()`` and ``close()`` do nothing more; there is no SQLAlchemy ``query()`` (use the
    manager's ``list_discussions``/``search_discussions``/``get_discussion``).
    """

    def __enter__(self) -> DataSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def commit(self) -> None:
        """Nothing to do: each discussion call commits before it returns."""

    def close(self) -> None:
        """Nothing to release."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"the session has no {name!r}: lollms-core has no SQLAlchemy session; use the manager's "
            "list_discussions(), search_discussions(**criteria) or get_discussion(client, id)"
        )


class StoreEngine:
    """``manager.engine``: lollms_client's SQLAlchemy engine handle, reduced to what scripts call."""

    def __init__(self, store: SQLiteDiscussionStore) -> None:
        self._store = store
        #: The database URL, as lollms_client would print it.
        self.url = f"{_SQLITE_URL}{store.path}"

    def dispose(self) -> None:
        """Close the database connection (the manager's discussions can no longer write)."""
        self._store.close()

    def __repr__(self) -> str:
        return f"StoreEngine({self.url})"


class LollmsDataManager:
    """A discussion database: open, list, search and delete the discussions it holds.

    :param db_path: a file path, or lollms_client's ``"sqlite:///file.db"`` URL
        (``"sqlite:///:memory:"`` keeps everything in memory for this manager's lifetime).
    :param discussion_mixin: a class whose ``Column`` attributes or annotations become extra
        ``discussions`` columns: ``discussion.<name>`` reads and sets them (persisted), and
        :meth:`search_discussions` queries them.
    :param message_mixin: the same for messages: ``add_message(..., <name>=value)``,
        ``edit_message(id, <name>=value)``, ``message.<name>``.
    :param encryption_key: refused (:class:`NotSupportedError`): see the message for what to use.
    :raises ConfigError: a mixin column that clashes with lollms' own columns.
    """

    def __init__(
        self,
        db_path: str | Path,
        discussion_mixin: type | None = None,
        message_mixin: type | None = None,
        encryption_key: str | None = None,
    ) -> None:
        if encryption_key:
            raise NotSupportedError(
                "LollmsDataManager(encryption_key=...) is not offered: lollms_client's per-column Fernet with a fixed "
                "salt leaves metadata, ids and tree shape in clear and cannot be searched. Encrypt the whole file "
                "instead: keep the database on an encrypted volume (LUKS, FileVault, BitLocker, fscrypt), or open it "
                "with SQLCipher (sqlcipher3 bindings) in your own code"
            )
        extra = {
            "discussions": columns_of_mixin(discussion_mixin) if discussion_mixin is not None else {},
            "messages": columns_of_mixin(message_mixin) if message_mixin is not None else {},
        }
        #: The store every discussion from this manager writes to.
        self.store = SQLiteDiscussionStore(_path_of(db_path))
        try:
            for table, columns in extra.items():
                if columns:
                    self.store.add_columns(table, columns)
        except BaseException:
            self.store.close()
            raise
        #: lollms_client's SQLAlchemy engine, reduced to ``dispose()`` and ``url``.
        self.engine = StoreEngine(self.store)

    @property
    def db_path(self) -> Path:
        """The database file."""
        return self.store.path

    def get_discussion(self, lollms_client: Any, discussion_id: str, **kwargs: Any) -> LollmsDiscussion | None:
        """The stored discussion with that id (sharing this manager's connection), or ``None``."""
        from ._discussion import LollmsDiscussion

        if not self.discussion_exists(discussion_id):
            return None
        return LollmsDiscussion(lollmsClient=lollms_client, db_manager=self, discussion_id=discussion_id, **kwargs)

    def discussion_exists(self, discussion_id: str) -> bool:
        """Whether a discussion with that id is stored."""
        return discussion_id in self.store.list_ids()

    def list_discussions(self, limit: int | None = None) -> list[dict[str, Any]]:
        """``[{"id", "created_at", "updated_at", "active_branch_id", "title"}]``, newest first.

        ``updated_at`` is ``None``: lollms-core does not record it (lollms_client orders by it).
        """
        return self._rows(None)[: limit or None]

    def search_discussions(self, **criteria: Any) -> list[dict[str, Any]]:
        """The discussions whose columns contain each value (case-insensitive), as :meth:`list_discussions` rows.

        Any column can be a criterion: ``system_prompt``, a data zone, a mixin column...

        :raises ConfigError: a criterion that names no column (the message lists them).
        """
        return self._rows(set(self.store.search("discussions", criteria)))

    def _rows(self, only: set[str] | None) -> list[dict[str, Any]]:
        return [
            {
                "id": id_,
                "created_at": created,
                "updated_at": None,
                "active_branch_id": leaf,
                "title": str(meta.get("title") or "") if isinstance(meta, dict) else "",
            }
            for id_, created, leaf, meta in self.store.summaries()
            if only is None or id_ in only
        ]

    def delete_discussion(self, discussion_id: str) -> None:
        """Remove a discussion and its messages (nothing happens for an unknown id, as in lollms_client)."""
        self.store.delete(discussion_id)

    def get_session(self) -> DataSession:
        """lollms_client's ``with manager.get_session():`` block: accepted; every change is already committed."""
        return DataSession()

    def close(self) -> None:
        """Close the database connection (discussions from this manager can no longer write)."""
        self.store.close()

    def __repr__(self) -> str:
        return f"<LollmsDataManager {self.store.path}>"
