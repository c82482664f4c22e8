"""``LollmsDiscussion``: a branching conversation, optionally persisted in one SQLite file.

Messages form a tree: each has a ``parent_id``; the *active branch* is the path from a
root to the *active leaf*. Adding a message continues the active branch (or any message
given as ``parent_id``), ``regenerate()`` answers the last user turn again as a sibling,
``switch_branch()`` moves between branches. Without ``db_path`` everything lives in memory
and nothing touches the disk; with it, each operation is committed before it returns.
"""

from __future__ import annotations

import base64
import difflib
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._discussion_formats import ROLES, record_from_json, record_to_json, render
from ._discussion_llm import DiscussionGeneration
from ._discussion_store import (
    DiscussionMessage,
    DiscussionNotFoundError,
    DiscussionRecord,
    MessageNotFoundError,
    SQLiteDiscussionStore,
)
from .errors import ConfigError
from .text import split_discussion
from .types import ImageInput

__all__ = [
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "LollmsDiscussion",
    "MessageNotFoundError",
]

_UNSET: Any = object()
_PARAMETERS = ("sender", "content", "role", "parent_id", "images", "metadata")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _image_text(image: ImageInput) -> str:
    # Bytes are stored as base64 so the JSON export and the SQLite row stay text.
    if isinstance(image, bytes):
        return base64.b64encode(image).decode("ascii")
    return str(image)


class LollmsDiscussion(DiscussionGeneration):
    """A conversation tree with an active branch, exports, context budgeting and ``chat()``.

    Build one with :meth:`create_new`, :meth:`load` or :meth:`from_json`.
    ``lollms_client`` is anything with an ``.llm`` attribute (a :class:`~lollms_core.LollmsClient`)
    or an LLM binding itself; it counts tokens and generates answers.
    """

    def __init__(
        self, record: DiscussionRecord, lollms_client: Any = None, store: SQLiteDiscussionStore | None = None
    ) -> None:
        self._record = record
        self._store = store
        self.lollms_client = lollms_client
        self._by_id: dict[str, DiscussionMessage] = {}
        self._children: dict[str | None, list[str]] = {}
        for msg in record.messages:
            self._index(msg)
        record.messages = []  # the index above is the single in-memory copy

    def _index(self, msg: DiscussionMessage) -> None:
        self._by_id[msg.id] = msg
        self._children.setdefault(msg.parent_id, []).append(msg.id)

    # == construction ===================================================================

    @classmethod
    def create_new(
        cls, lollms_client: Any = None, db_path: str | Path | None = None, **metadata: Any
    ) -> LollmsDiscussion:
        """A new, empty discussion.

        :param lollms_client: counts tokens and answers in :meth:`chat`; may be set later.
        :param db_path: SQLite file to persist into (created if missing); ``None`` keeps it in memory.
        :param metadata: free fields kept with the discussion; ``system_prompt``, ``user_name`` and
            ``ai_name`` are understood (the latter two name the senders of :meth:`chat`).
        """
        system_prompt = str(metadata.pop("system_prompt", "") or "")
        record = DiscussionRecord(
            id=uuid.uuid4().hex, created_at=_now(), system_prompt=system_prompt, metadata=metadata
        )
        store = SQLiteDiscussionStore(db_path) if db_path is not None else None
        if store is not None:
            store.create(record)
        return cls(record, lollms_client, store)

    @classmethod
    def load(cls, db_path: str | Path, discussion_id: str, lollms_client: Any = None) -> LollmsDiscussion:
        """Open a stored discussion with all its branches.

        :raises DiscussionNotFoundError: no discussion has that id in ``db_path``.
        """
        if not Path(db_path).exists():  # a directory or other non-file is named by the store
            raise DiscussionNotFoundError(f"db_path '{db_path}' does not exist; create_new(db_path=...) makes it")
        store = SQLiteDiscussionStore(db_path)
        try:
            return cls(store.load(discussion_id), lollms_client, store)
        except BaseException:
            store.close()
            raise

    @staticmethod
    def list_discussions(db_path: str | Path) -> list[str]:
        """Ids of the discussions stored in ``db_path``, oldest first (``[]`` if the file does not exist)."""
        if not Path(db_path).exists():
            return []  # listing must not create the file; a directory is named by the store
        store = SQLiteDiscussionStore(db_path)
        try:
            return store.list_ids()
        finally:
            store.close()

    @classmethod
    def from_json(
        cls, data: str | Mapping[str, Any], lollms_client: Any = None, db_path: str | Path | None = None
    ) -> LollmsDiscussion:
        """Rebuild a discussion from :meth:`export` ``("json")``, every branch included.

        :raises ConfigError: the data is not a discussion export, or its tree is broken.
        """
        record = record_from_json(data)
        record.created_at = record.created_at or _now()
        store = SQLiteDiscussionStore(db_path) if db_path is not None else None
        if store is not None:
            try:
                store.create(record)
            except sqlite3.IntegrityError:
                store.close()
                raise ConfigError(
                    f"discussion '{record.id}' (or one of its messages) already exists in '{db_path}'"
                ) from None
        return cls(record, lollms_client, store)

    def close(self) -> None:
        """Close the database connection, if any (the data is already committed)."""
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> LollmsDiscussion:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # == fields =========================================================================

    @property
    def id(self) -> str:
        """The discussion's uuid4 hex id (what :meth:`load` takes)."""
        return self._record.id

    @property
    def created_at(self) -> str:
        """ISO 8601 UTC creation time."""
        return self._record.created_at

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the free fields; change them with :meth:`set_metadata`."""
        return dict(self._record.metadata)

    def set_metadata(self, **fields: Any) -> None:
        """Update free fields (persisted)."""
        self._record.metadata.update(fields)
        self._save_fields()

    @property
    def system_prompt(self) -> str:
        """Sent first on every branch; kept by context trimming."""
        return self._record.system_prompt

    @system_prompt.setter
    def system_prompt(self, text: str) -> None:
        self._record.system_prompt = text
        self._save_fields()

    @property
    def active_leaf_id(self) -> str | None:
        """The last message of the active branch (``None`` while empty)."""
        return self._record.active_leaf_id

    @property
    def messages(self) -> list[DiscussionMessage]:
        """Every message of every branch, in the order they were added."""
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        where = str(self._store.path) if self._store is not None else "memory"
        return f"<LollmsDiscussion {self.id} messages={len(self)} in {where}>"

    def _save_fields(self) -> None:
        if self._store is not None:
            self._store.update_discussion(self._record)

    # == the tree =======================================================================

    def add_message(
        self,
        sender: str,
        content: str,
        *,
        role: str | None = None,
        parent_id: str | None = _UNSET,
        images: list[ImageInput] | None = None,
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> DiscussionMessage:
        """Add a message after the active leaf (or after ``parent_id``) and make it the active leaf.

        ``role`` defaults from ``sender``: ``"system"`` → system; ``"assistant"``, ``"lollms"``,
        ``"ai"`` or the ``ai_name`` metadata → assistant; anything else (``"user"``, a person's
        name) → user. lollms_client's ``sender_type`` is read as ``role``. ``parent_id=None``
        starts a new root. Other keyword ``fields`` (``model_name=``...) are kept in ``metadata``.

        :raises ConfigError: unknown role.
        :raises MessageNotFoundError: unknown ``parent_id``.
        :raises TypeError: a field name that looks like a misspelt parameter.
        """
        if not isinstance(content, str):
            raise TypeError(f"content must be a str, not {type(content).__name__}")
        role = role or fields.pop("sender_type", None) or self._role_of(sender)
        for name in fields:
            close = difflib.get_close_matches(name, _PARAMETERS, n=1, cutoff=0.75)
            if close:
                raise TypeError(f"add_message() got {name}=; did you mean {close[0]}=?")
        if role not in ROLES:
            raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
        parent = self.active_leaf_id if parent_id is _UNSET else parent_id
        if parent is not None:
            self.get_message(parent)
        msg = DiscussionMessage(
            id=uuid.uuid4().hex,
            sender=sender,
            role=role,
            content=content,
            parent_id=parent,
            created_at=_now(),
            images=[_image_text(i) for i in images or ()],
            metadata={**fields, **(metadata or {})},
            tokens=self._count(content),
        )
        if self._store is not None:
            self._store.add_message(self.id, msg, msg.id)
        self._index(msg)
        self._record.active_leaf_id = msg.id
        return msg

    def _role_of(self, sender: str) -> str:
        name = sender.strip().lower()
        if name == "system":
            return "system"
        ai_names = {"assistant", "lollms", "ai", str(self._record.metadata.get("ai_name", "assistant")).lower()}
        return "assistant" if name in ai_names else "user"

    def edit_message(
        self, message_id: str, content: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DiscussionMessage:
        """Change a message's content and/or merge into its metadata in place (persisted)."""
        msg = self.get_message(message_id)
        if content is not None:
            msg.content, msg.tokens = content, self._count(content)
        if metadata:
            msg.metadata.update(metadata)
        if self._store is not None:
            self._store.update_message(msg)
        return msg

    def get_message(self, message_id: str) -> DiscussionMessage:
        """The message with that id, on any branch.

        :raises MessageNotFoundError: no such message in this discussion.
        """
        try:
            return self._by_id[message_id]
        except KeyError:
            raise MessageNotFoundError(f"no message '{message_id}' in discussion '{self.id}'") from None

    def get_children(self, message_id: str | None) -> list[DiscussionMessage]:
        """Direct replies to a message (roots for ``None``), oldest first: the branch points."""
        return [self._by_id[i] for i in self._children.get(message_id, ())]

    def get_branch(self, leaf_id: str) -> list[DiscussionMessage]:
        """The path from the root to ``leaf_id``, in order."""
        path: list[DiscussionMessage] = []
        cursor: str | None = leaf_id
        while cursor is not None:
            msg = self.get_message(cursor)
            path.append(msg)
            cursor = msg.parent_id
        path.reverse()
        return path

    def get_messages(self) -> list[DiscussionMessage]:
        """The active branch, root first."""
        return self.get_branch(self.active_leaf_id) if self.active_leaf_id is not None else []

    def switch_branch(self, message_id: str) -> DiscussionMessage:
        """Make the branch through ``message_id`` active; return the new active leaf.

        The leaf is ``message_id`` itself if nothing follows it, else its deepest descendant
        taking the most recent reply at each step.
        """
        leaf = self.get_message(message_id).id
        while self._children.get(leaf):
            leaf = self._children[leaf][-1]
        self._record.active_leaf_id = leaf
        self._save_fields()
        return self._by_id[leaf]

    def fork(self, message_id: str | None = None, **metadata: Any) -> LollmsDiscussion:
        """A new discussion (same database, fresh ids) holding the branch up to ``message_id``.

        Defaults to the active leaf. The copy records where it came from in ``metadata["forked_from"]``.
        """
        leaf = message_id if message_id is not None else self.active_leaf_id
        branch = self.get_branch(leaf) if leaf is not None else []
        new_ids = {m.id: uuid.uuid4().hex for m in branch}
        copies = [
            DiscussionMessage.from_dict(
                {**m.to_dict(), "id": new_ids[m.id], "parent_id": new_ids.get(m.parent_id or "")}
            )
            for m in branch
        ]
        meta = {**self._record.metadata, **metadata, "forked_from": {"discussion_id": self.id, "message_id": leaf}}
        record = DiscussionRecord(
            id=uuid.uuid4().hex,
            created_at=_now(),
            system_prompt=self.system_prompt,
            metadata=meta,
            active_leaf_id=copies[-1].id if copies else None,
            messages=copies,
        )
        store = SQLiteDiscussionStore(self._store.path) if self._store is not None else None
        if store is not None:
            store.create(record)
        return type(self)(record, self.lollms_client, store)

    def delete(self) -> None:
        """Remove this discussion from its database (a no-op in memory)."""
        if self._store is not None:
            self._store.delete(self.id)

    # == export / import ================================================================

    def export(self, format: str = "openai_chat") -> Any:
        r"""The active branch (or, for ``"json"``, the whole tree) in one of these formats.

        - ``"openai_chat"``: ``[{"role", "content", "images"?}]`` with the system prompt first —
          what ``LollmsLLMBinding.chat()`` consumes.
        - ``"lollms_text"``: ``!@>system:\n...\n!@>user:\n...``, readable by
          :func:`lollms_core.text.split_discussion` (which strips surrounding whitespace).
        - ``"markdown"``: a readable transcript.
        - ``"json"``: a string with every branch; :meth:`from_json` reads it back exactly.

        :raises ConfigError: unknown format.
        """
        if format == "json":
            return record_to_json(self._record, self.messages)
        title = str(self._record.metadata.get("title") or f"Discussion {self.id}")
        return render(self._with_system_prompt(self.get_messages()), format, title)

    @classmethod
    def from_lollms_text(
        cls, text: str, lollms_client: Any = None, db_path: str | Path | None = None
    ) -> LollmsDiscussion:
        """A one-branch discussion from ``!@>role:`` text (a leading system turn becomes the system prompt)."""
        parsed = split_discussion(text)
        system = parsed.pop(0)["content"] if parsed and parsed[0]["role"] == "system" else ""
        new = cls.create_new(lollms_client, db_path, system_prompt=system)
        for m in parsed:
            new.add_message(sender=m["role"], role=m["role"], content=m["content"])
        return new

    def _with_system_prompt(self, branch: list[DiscussionMessage]) -> list[DiscussionMessage]:
        if not self.system_prompt:
            return branch
        prompt = DiscussionMessage(
            id="", sender="system", role="system", content=self.system_prompt, parent_id=None,
            created_at=self.created_at, metadata={"system_prompt": True}, tokens=self._count(self.system_prompt),
        )  # fmt: skip
        return [prompt, *branch]
