"""``LollmsDataManager``: lollms_client's handle on a discussion database, over our SQLite store.

lollms_client 1.21 builds it on SQLAlchemy (``LollmsDataManager("sqlite:///chats.db")``).
Here it is one :class:`SQLiteDiscussionStore` shared by the discussions it opens, so a
script that passes ``db_manager=`` keeps working; ``db_path=`` is the shorter way to say it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NotSupportedError
from ._store import SQLiteDiscussionStore

if TYPE_CHECKING:
    from ._discussion import LollmsDiscussion

__all__ = ["LollmsDataManager"]

_SQLITE_URL = "sqlite:///"


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


class LollmsDataManager:
    """A discussion database: open, list and delete the discussions it holds.

    :param db_path: a file path, or lollms_client's ``"sqlite:///file.db"`` URL
        (``"sqlite:///:memory:"`` keeps everything in memory for this manager's lifetime).
    :raises NotSupportedError: ``discussion_mixin``, ``message_mixin`` (SQLAlchemy model
        extension) or ``encryption_key`` (field encryption), which lollms-core does not offer.
    """

    def __init__(
        self,
        db_path: str | Path,
        discussion_mixin: Any = None,
        message_mixin: Any = None,
        encryption_key: str | None = None,
    ) -> None:
        refused = [n for n, v in (("discussion_mixin", discussion_mixin), ("message_mixin", message_mixin)) if v]
        if refused:
            raise NotSupportedError(
                f"LollmsDataManager({', '.join(refused)}=...) is not offered: the store has fixed tables; "
                "keep extra fields in discussion_metadata / message metadata"
            )
        if encryption_key:
            raise NotSupportedError(
                "LollmsDataManager(encryption_key=...) is not offered: put the database on an encrypted volume"
            )
        #: The store every discussion from this manager writes to.
        self.store = SQLiteDiscussionStore(_path_of(db_path))

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
        rows = self.store.summaries()
        return [
            {
                "id": id_,
                "created_at": created,
                "updated_at": None,
                "active_branch_id": leaf,
                "title": str(meta.get("title") or "") if isinstance(meta, dict) else "",
            }
            for id_, created, leaf, meta in rows[: limit or None]
        ]

    def delete_discussion(self, discussion_id: str) -> None:
        """Remove a discussion and its messages (nothing happens for an unknown id, as in lollms_client)."""
        self.store.delete(discussion_id)

    def get_session(self) -> Any:
        """Not offered: there is no SQLAlchemy session; every change is committed when its call returns.

        :raises NotSupportedError: always, naming the way forward.
        """
        raise NotSupportedError(
            "LollmsDataManager.get_session() is not offered: lollms-core commits every change at once, "
            "so drop the `with db_manager.get_session():` block and call the discussion's methods directly"
        )

    def close(self) -> None:
        """Close the database connection (discussions from this manager can no longer write)."""
        self.store.close()

    def __repr__(self) -> str:
        return f"<LollmsDataManager {self.store.path}>"
