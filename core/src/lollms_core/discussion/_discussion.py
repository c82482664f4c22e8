"""``LollmsDiscussion``: a branching conversation, optionally persisted in one SQLite file.

Messages form a tree: each has a ``parent_id``; the *active branch* is the path from a
root to the *active leaf*. Adding a message continues the active branch (or any message
given as ``parent_id``), ``regenerate()`` answers the last user turn again as a sibling,
``switch_branch()`` moves between branches. Without ``db_path`` everything lives in memory
and nothing touches the disk; with it, each operation is committed before it returns.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import json
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..compat._discussion_refusals import NOT_OFFERED_ATTRIBUTES, NOT_OFFERED_PARAMETERS, refuse
from ..errors import ConfigError, DiscussionNotFoundError, MessageNotFoundError
from ..text import split_discussion
from ..types import ImageInput, StreamingCallback
from . import _chat, _context, _tree
from . import _llm as _gen
from ._chat import ChatResult
from ._formats import ROLES, record_from_json, record_to_json, render
from ._store import DiscussionMessage, DiscussionRecord, SQLiteDiscussionStore
from ._tree import BranchInfo, MessageNode

if TYPE_CHECKING:
    from ._manager import LollmsDataManager

__all__ = [
    "BranchInfo",
    "ChatResult",
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "LollmsDiscussion",
    "LollmsMessage",
    "MessageNode",
    "MessageNotFoundError",
]

#: lollms_client's name for a discussion message.
LollmsMessage = DiscussionMessage

_UNSET: Any = object()
_PARAMETERS = ("sender", "content", "role", "parent_id", "images", "metadata")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _check_storable(value: Any, what: str) -> None:
    """Refuse, before anything changes, a value the store could not write (not JSON, not UTF-8).

    Validating first keeps memory and disk equal: a write that fails half-way would otherwise
    leave the in-memory discussion holding what the database refused.
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        if isinstance(value, dict):  # name the culprit
            for key, item in value.items():
                _check_storable(str(key), f"{what} key {key!r}")
                _check_storable(item, f"{what}[{key!r}]")
        raise ConfigError(f"{what} cannot be stored: {exc}") from None


def _image_text(image: ImageInput) -> str:
    # Bytes are stored as base64 so the JSON export and the SQLite row stay text.
    if isinstance(image, bytes):
        return base64.b64encode(image).decode("ascii")
    return str(image)


class LollmsDiscussion:
    """A conversation tree with an active branch, exports, context budgeting and ``chat()``.

    Build one with :meth:`create_new`, :meth:`load` or :meth:`from_json`.
    ``lollms_client`` is anything with an ``.llm`` attribute (a :class:`~lollms_core.LollmsClient`)
    or an LLM binding itself; it counts tokens and generates answers.
    """

    #: Tokens a chat template adds around each message (role markers, separators).
    message_overhead_tokens: int = 4

    def __init__(
        self,
        record: DiscussionRecord | None = None,
        lollms_client: Any = None,
        store: SQLiteDiscussionStore | None = None,
        *,
        lollmsClient: Any = None,  # noqa: N803 - lollms_client's spelling
        db_manager: LollmsDataManager | None = None,
        discussion_id: str | None = None,
        autosave: bool = False,
        max_context_size: int | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            refuse(unsupported, "LollmsDiscussion()")
        if record is None or not isinstance(record, DiscussionRecord):
            # lollms_client's form: LollmsDiscussion(lollmsClient=..., db_manager=..., discussion_id=...).
            lollms_client = next((c for c in (lollms_client, lollmsClient, record) if c is not None), None)
            record, store = self._open_or_make(db_manager, discussion_id)
        self._record = record
        self._store = store
        #: Whether :meth:`close` closes the store (not when a :class:`LollmsDataManager` shares it).
        self._owns_store = db_manager is None
        self.lollms_client = lollms_client
        #: lollms_client's setting: writes are committed at once here, whatever its value.
        self.autosave = autosave
        #: Context window used by budgets and :meth:`get_context_status` when the binding knows none.
        self.max_context_size = max_context_size
        self._by_id: dict[str, DiscussionMessage] = {}
        self._children: dict[str | None, list[str]] = {}
        for msg in record.messages:
            self._index(msg)
        record.messages = []  # the index above is the single in-memory copy

    @staticmethod
    def _open_or_make(
        db_manager: LollmsDataManager | None, discussion_id: str | None
    ) -> tuple[DiscussionRecord, SQLiteDiscussionStore | None]:
        store = db_manager.store if db_manager is not None else None
        if store is not None and discussion_id is not None and discussion_id in store.list_ids():
            return store.load(discussion_id), store
        record = DiscussionRecord(id=discussion_id or uuid.uuid4().hex, created_at=_now())
        if store is not None:
            store.create(record)
        return record, store

    if not TYPE_CHECKING:  # at runtime only: a __getattr__ would hide typos from the type checker

        def __getattr__(self, name: str) -> Any:
            # Only reached for a missing attribute: name lollms_client's ones we do not offer, and why.
            if name in NOT_OFFERED_ATTRIBUTES:
                raise AttributeError(f"LollmsDiscussion has no {name!r}: {NOT_OFFERED_ATTRIBUTES[name]}")
            raise AttributeError(f"'LollmsDiscussion' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # lollms_client persists `disc.memory = ...`; here it would be a silent, unsaved attribute.
        if name in NOT_OFFERED_ATTRIBUTES:
            raise AttributeError(f"cannot set LollmsDiscussion.{name}: {NOT_OFFERED_ATTRIBUTES[name]}")
        super().__setattr__(name, value)

    def _index(self, msg: DiscussionMessage) -> None:
        self._by_id[msg.id] = msg
        self._children.setdefault(msg.parent_id, []).append(msg.id)

    # == construction ===================================================================

    @classmethod
    def create_new(
        cls,
        lollms_client: Any = None,
        db_path: str | Path | None = None,
        *,
        db_manager: LollmsDataManager | None = None,
        id: str | None = None,
        autosave: bool = False,
        discussion_metadata: Mapping[str, Any] | None = None,
        max_context_size: int | None = None,
        **metadata: Any,
    ) -> LollmsDiscussion:
        """A new, empty discussion.

        :param lollms_client: counts tokens and answers in :meth:`chat`; may be set later.
        :param db_path: SQLite file to persist into (created if missing); ``None`` keeps it in memory.
        :param db_manager: lollms_client's form of ``db_path``: a :class:`LollmsDataManager`.
        :param id: the discussion's id (default: a new uuid4 hex); with a database that already
            holds it, that discussion is opened instead, as lollms_client does.
        :param autosave: accepted for lollms_client: every change is committed at once anyway.
        :param discussion_metadata: free fields kept with the discussion (lollms_client's name).
        :param max_context_size: the context window to budget with when the binding reports none.
        :param metadata: more free fields; ``system_prompt``, ``user_name`` and ``ai_name`` are
            understood (the latter two name the senders of :meth:`chat`). lollms_client
            parameters we do not offer (``workspace_path``, ``memory``...) are refused, never kept as metadata.
        :raises NotSupportedError: a lollms_client parameter lollms-core does not offer.
        :raises ConfigError: both ``db_path`` and ``db_manager``, or metadata that cannot be stored.
        """
        refuse({k: metadata.pop(k) for k in list(metadata) if k in NOT_OFFERED_PARAMETERS}, "create_new()")
        if db_path is not None and db_manager is not None:
            raise ConfigError("create_new() takes db_path= or db_manager=, not both")
        if discussion_metadata is not None and not isinstance(discussion_metadata, Mapping):
            raise ConfigError(f"discussion_metadata must be a dict, not {type(discussion_metadata).__name__}")
        metadata = {**(discussion_metadata or {}), **metadata}
        system_prompt = str(metadata.pop("system_prompt", "") or "")
        _check_storable(metadata, "metadata")
        _check_storable(system_prompt, "system_prompt")
        if db_manager is not None:
            store: SQLiteDiscussionStore | None = db_manager.store
        else:
            store = SQLiteDiscussionStore(db_path) if db_path is not None else None
        if id is not None and store is not None and id in store.list_ids():
            found = cls(store.load(id), lollms_client, store, autosave=autosave, max_context_size=max_context_size)
            found._owns_store = db_manager is None
            return found
        record = DiscussionRecord(
            id=id or uuid.uuid4().hex, created_at=_now(), system_prompt=system_prompt, metadata=metadata
        )
        if store is not None:
            try:
                store.create(record)
            except BaseException:
                if db_manager is None:
                    store.close()
                raise
        new = cls(record, lollms_client, store, autosave=autosave, max_context_size=max_context_size)
        new._owns_store = db_manager is None
        return new

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
        """Close the database connection, if any (the data is already committed).

        A discussion from a :class:`LollmsDataManager` leaves the manager's connection open.
        """
        if self._store is not None and self._owns_store:
            self._store.close()

    def commit(self) -> None:
        """lollms_client's explicit save: a no-op, every change is already committed when its call returns."""

    def to_dict(self) -> dict[str, Any]:
        """The whole discussion (every branch) as a dict: :meth:`export` ``("json")`` parsed."""
        data: dict[str, Any] = json.loads(record_to_json(self._record, self.messages))
        return data

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
        """Update free fields (persisted).

        :raises ConfigError: a value that is not JSON-serialisable or not valid UTF-8 (nothing changes).
        """
        merged = {**self._record.metadata, **fields}
        _check_storable(merged, "metadata")
        self._save_fields(metadata=merged)

    @property
    def system_prompt(self) -> str:
        """Sent first on every branch; kept by context trimming."""
        return self._record.system_prompt

    @system_prompt.setter
    def system_prompt(self, text: str | None) -> None:
        text = "" if text is None else text
        if not isinstance(text, str):
            raise TypeError(f"system_prompt must be a str, not {type(text).__name__}")
        _check_storable(text, "system_prompt")
        self._save_fields(system_prompt=text)

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

    def _save_fields(self, **changes: Any) -> None:
        """Write the discussion's own fields with ``changes`` applied, then apply them in memory.

        Disk first: when the write fails, the in-memory record has not changed.
        """
        if self._store is not None:
            self._store.update_discussion(dataclasses.replace(self._record, **changes))
        for name, value in changes.items():
            setattr(self._record, name, value)

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
        msg = self._new_message(sender, content, role, parent_id, images, metadata, fields)
        self._store_message(msg)
        return msg

    def _new_message(
        self,
        sender: str,
        content: str,
        role: str | None = None,
        parent_id: str | None = _UNSET,
        images: list[ImageInput] | None = None,
        metadata: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> DiscussionMessage:
        """A checked message, not yet in the discussion (every check happens here, before any change)."""
        fields = dict(fields or {})
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
        merged = {**fields, **(metadata or {})}
        _check_storable(sender, "sender")
        _check_storable(content, "content")
        _check_storable(merged, "metadata")
        image_texts = [_image_text(i) for i in images or ()]
        _check_storable(image_texts, "images")
        return DiscussionMessage(
            id=uuid.uuid4().hex,
            sender=sender,
            role=role,
            content=content,
            parent_id=parent,
            created_at=_now(),
            images=image_texts,
            metadata=merged,
            tokens=_gen.count_tokens(self.lollms_client, content),
        )

    def _store_message(self, msg: DiscussionMessage) -> None:
        """Persist ``msg`` (disk first), then add it to the tree as the active leaf."""
        if self._store is not None:
            self._store.add_message(self.id, msg, msg.id)
        self._index(msg)
        self._record.active_leaf_id = msg.id

    def _role_of(self, sender: str) -> str:
        name = sender.strip().lower()
        if name == "system":
            return "system"
        ai_names = {"assistant", "lollms", "ai", str(self._record.metadata.get("ai_name", "assistant")).lower()}
        return "assistant" if name in ai_names else "user"

    def edit_message(
        self, message_id: str, content: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DiscussionMessage:
        """Change a message's content and/or merge into its metadata in place (persisted).

        :raises ConfigError: content or metadata the store cannot hold (nothing changes).
        """
        msg = self.get_message(message_id)
        if content is not None and not isinstance(content, str):
            raise TypeError(f"content must be a str, not {type(content).__name__}")
        new_content = msg.content if content is None else content
        new_metadata = {**msg.metadata, **(metadata or {})}
        _check_storable(new_content, "content")
        _check_storable(new_metadata, "metadata")
        tokens = msg.tokens if content is None else _gen.count_tokens(self.lollms_client, new_content)
        updated = dataclasses.replace(msg, content=new_content, metadata=new_metadata, tokens=tokens)
        if self._store is not None:
            self._store.update_message(updated)  # disk first: a failed write leaves memory as it was
        msg.content, msg.metadata, msg.tokens = new_content, new_metadata, tokens
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

    def get_messages(self, branch_id: str | None = None) -> list[DiscussionMessage]:
        """The active branch (or the one ending at ``branch_id``, lollms_client's argument), root first."""
        leaf = branch_id if branch_id is not None else self.active_leaf_id
        return self.get_branch(leaf) if leaf is not None else []

    def switch_branch(self, message_id: str) -> DiscussionMessage:
        """Make the branch through ``message_id`` active; return the new active leaf.

        The leaf is ``message_id`` itself if nothing follows it, else its deepest descendant
        taking the most recent reply at each step.
        """
        leaf = self.get_message(message_id).id
        while self._children.get(leaf):
            leaf = self._children[leaf][-1]
        self._save_fields(active_leaf_id=leaf)
        return self._by_id[leaf]

    # -- lollms_client's branch names (docs/migrating-from-lollms-client.md) ---------------

    @property
    def active_branch_id(self) -> str | None:
        """lollms_client's name for :attr:`active_leaf_id`; setting it makes that message the leaf (persisted)."""
        return self._record.active_leaf_id

    @active_branch_id.setter
    def active_branch_id(self, message_id: str | None) -> None:
        if message_id is not None:
            self.get_message(message_id)
        self._save_fields(active_leaf_id=message_id)

    def switch_to_branch(self, branch_id: str) -> None:
        """Make ``branch_id`` itself the active leaf (lollms_client; :meth:`switch_branch` goes to the deepest reply).

        :raises MessageNotFoundError: unknown id (lollms_client only logs a warning).
        """
        self.active_branch_id = branch_id

    def get_siblings(self, message_id: str) -> list[DiscussionMessage]:
        """The messages sharing ``message_id``'s parent (itself included), oldest first."""
        return _tree.siblings(self, message_id)

    def switch_to_sibling(self, direction: int = 1) -> DiscussionMessage | None:
        """Move to the next (``+1``) or previous (``-1``) alternative of the active leaf (wrapping round).

        Returns the new active leaf, or ``None`` when the leaf has no sibling.
        """
        target = _tree.sibling_of_leaf(self, direction)
        return self.switch_branch(target) if target is not None else None

    def fork_from(
        self,
        message_id: str,
        label: str | None = None,
        initial_content: str | None = None,
        initial_sender: str = "user",
        initial_sender_type: str = "user",
        **fields: Any,
    ) -> DiscussionMessage:
        """Start a new branch inside this discussion: a new reply to ``message_id`` (now the active leaf).

        ``label`` is kept as ``metadata["branch_label"]`` (shown by :meth:`list_branches`).
        :meth:`fork` instead copies a branch into a new discussion.
        """
        self.get_message(message_id)
        metadata = dict(fields.pop("metadata", None) or {})
        if label:
            metadata["branch_label"] = label
        metadata.setdefault("forked_from", message_id)
        return self.add_message(
            sender=initial_sender, content=initial_content or "", role=initial_sender_type,
            parent_id=message_id, metadata=metadata, **fields,
        )  # fmt: skip

    def list_branches(self) -> list[BranchInfo]:
        """A :class:`BranchInfo` per leaf (root-to-leaf ids, depth, label, whether active), oldest first."""
        return _tree.list_branches(self)

    def get_branch_info(self, leaf_id: str) -> BranchInfo:
        """The :class:`BranchInfo` of the branch ending at ``leaf_id``."""
        return _tree.branch_info(self, leaf_id)

    def get_tree(self) -> list[MessageNode]:
        """The whole tree as nested :class:`MessageNode` roots."""
        return _tree.message_tree(self)

    def prune_branch(self, message_id: str) -> int:
        """Delete ``message_id`` and every reply below it (persisted); return how many were removed.

        If the active leaf was removed, the branch through the parent becomes active.
        """
        doomed = _tree.subtree_ids(self, message_id)
        leaf = self.active_leaf_id
        if leaf in doomed:
            leaf = _tree.leaf_after_removing(self, message_id)
        if self._store is not None:
            self._store.delete_messages(self.id, doomed, leaf)
        for i in doomed:
            msg = self._by_id.pop(i)
            siblings = self._children.get(msg.parent_id)
            if siblings is not None and i in siblings:  # a doomed parent's list is already gone
                siblings.remove(i)
            self._children.pop(i, None)
        self._record.active_leaf_id = leaf
        return len(doomed)

    def delete_branch(self, message_id: str) -> int:
        """lollms_client 1.21's ``delete_branch``: the same as :meth:`prune_branch`."""
        return self.prune_branch(message_id)

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

    def export(
        self,
        format: str | None = None,
        branch_tip_id: str | None = None,
        max_allowed_tokens: int | None = None,
        *,
        format_type: str | None = None,
        suppress_system_prompt: bool = False,
    ) -> Any:
        r"""The active branch (or, for ``"json"``, the whole tree) in one of these formats.

        - ``"openai_chat"``: ``[{"role", "content", "images"?}]`` with the system prompt first —
          what ``LollmsLLMBinding.chat()`` consumes.
        - ``"ollama_chat"``: the same list; ``images`` holds only base64 images (Ollama takes no URLs).
        - ``"lollms_text"``: ``!@>system:\n...\n!@>user:\n...``, readable by
          :func:`lollms_core.text.split_discussion` (which strips surrounding whitespace).
        - ``"markdown"``: a readable transcript.
        - ``"json"``: a string with every branch; :meth:`from_json` reads it back exactly.

        ``format_type``, ``branch_tip_id`` (another branch than the active one) and
        ``max_allowed_tokens`` (keep the newest turns that fit, counted with the client's
        tokenizer) are lollms_client's arguments.

        :raises ConfigError: unknown format, or ``format`` and ``format_type`` both given.
        """
        if format is not None and format_type is not None and format != format_type:
            raise ConfigError(f"export() got format={format!r} and format_type={format_type!r}; give one")
        fmt = format or format_type or "openai_chat"
        if fmt == "json":
            return record_to_json(self._record, self.messages)
        leaf = branch_tip_id if branch_tip_id is not None else self.active_leaf_id
        if max_allowed_tokens is not None:
            branch = _gen.messages_for_budget(
                self, max_allowed_tokens, None, None, False, leaf, add_system_prompt=not suppress_system_prompt
            )
        else:
            branch = self.get_branch(leaf) if leaf is not None else []
            branch = branch if suppress_system_prompt else self._with_system_prompt(branch)
        title = str(self._record.metadata.get("title") or f"Discussion {self.id}")
        return render(branch, fmt, title)

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
        branch = self._after_pruning_point(branch)
        if not self.system_prompt:
            return branch
        prompt = DiscussionMessage(
            id="", sender="system", role="system", content=self.system_prompt, parent_id=None,
            created_at=self.created_at, metadata={"system_prompt": True},
            tokens=_gen.count_tokens(self.lollms_client, self.system_prompt),
        )  # fmt: skip
        return [prompt, *branch]

    def _after_pruning_point(self, branch: list[DiscussionMessage]) -> list[DiscussionMessage]:
        """A branch through :meth:`summarize_and_prune`'s point: its summary, then the turns from there."""
        point, summary = self.pruning_point_id, self.pruning_summary
        ids = [m.id for m in branch]
        if point is None or summary is None or point not in ids:
            return branch
        note = DiscussionMessage(
            id="", sender="system", role="system", content=_gen.SUMMARY_PREFIX + summary, parent_id=None,
            created_at=self.created_at, metadata={"summary_of": ids[: ids.index(point)]},
        )  # fmt: skip
        return [note, *branch[ids.index(point) :]]

    # == the LLM ========================================================================

    def get_messages_for_budget(
        self,
        max_tokens: int | None = None,
        *,
        n_predict: int | None = None,
        ctx_size: int | None = None,
        summarize: bool = False,
        leaf_id: str | None = None,
    ) -> list[DiscussionMessage]:
        """The active branch (system prompt first) cut to fit the context window.

        The budget is ``max_tokens`` or ``ctx_size - n_predict`` (from the arguments, else the
        binding's settings, else :attr:`max_context_size`). The system prompt and the branch's
        leading system messages are always kept; then the newest turns that fit, as an unbroken
        suffix of the branch. With ``summarize=True`` the dropped turns are replaced by a summary
        written by the LLM. Nothing is deleted from the discussion.

        :raises ConfigError: even the system prompt plus the newest message exceed the budget.
        """
        return _gen.messages_for_budget(self, max_tokens, n_predict, ctx_size, summarize, leaf_id)

    def chat(
        self,
        user_message: str,
        streaming_callback: StreamingCallback | None = None,
        *,
        images: list[ImageInput] | None = None,
        summarize: bool = False,
        branch_tip_id: str | None = None,
        add_user_message: bool = True,
        add_system_prompt: bool = True,
        remove_thinking_blocks: bool = True,
        **kwargs: Any,
    ) -> ChatResult:
        """Add ``user_message``, answer it with the client's LLM within the context budget, return the answer.

        The answer is a :class:`ChatResult`: the stored assistant message, which also answers
        lollms_client's result keys (``result["ai_message"]``, ``result["user_message"]``).

        :param branch_tip_id: continue that branch instead of the active one.
        :param add_user_message: ``False`` answers the branch as it is (``user_message`` unused).
        :param add_system_prompt: ``False`` leaves the system prompt out of the context.
        :param remove_thinking_blocks: ``False`` keeps the model's thinking in the content as
            ``<think>...</think>`` (it is always in ``metadata["thoughts"]``).
        :param kwargs: generation options (``n_predict``, ``temperature``...) passed to the binding.
            lollms_client's agent options are accepted at their default value only.
        :raises NotSupportedError: a lollms_client agent option we do not offer (nothing changed).
        :raises ConfigError: an unknown or bad option (nothing changed).
        :raises BackendError: the backend failed (the user message stays in the discussion).
        """
        return _chat.chat(
            self, user_message, streaming_callback, kwargs, images=images, summarize=summarize,
            branch_tip_id=branch_tip_id, add_user_message=add_user_message, add_system_prompt=add_system_prompt,
            remove_thinking_blocks=remove_thinking_blocks,
        )  # fmt: skip

    def regenerate(
        self, streaming_callback: StreamingCallback | None = None, *, summarize: bool = False, **kwargs: Any
    ) -> ChatResult:
        """Answer the active branch's last user message again, as a new sibling branch (now active).

        :raises ConfigError: the active branch has no user message.
        """
        return _chat.regenerate(self, streaming_callback, kwargs, summarize=summarize)

    def regenerate_branch(self, branch_tip_id: str | None = None, **kwargs: Any) -> ChatResult:
        """lollms_client's regeneration: replace the answer at ``branch_tip_id`` (default: the active leaf).

        An assistant tip is deleted (with any replies below it) and its user message answered
        again; a user tip is answered. :meth:`regenerate` keeps the old answer as a sibling instead.

        :raises ConfigError: the tip is a system message, or an assistant message with no user parent.
        """
        return _chat.regenerate_branch(self, branch_tip_id, kwargs)

    # -- lollms_client's context helpers ---------------------------------------------------

    @property
    def pruning_summary(self) -> str | None:
        """The summary :meth:`summarize_and_prune` wrote for the turns before :attr:`pruning_point_id`."""
        value = self._record.metadata.get("pruning_summary")
        return None if value is None else str(value)

    @property
    def pruning_point_id(self) -> str | None:
        """The first message still sent verbatim after :meth:`summarize_and_prune`."""
        value = self._record.metadata.get("pruning_point_id")
        return None if value is None else str(value)

    def summarize_and_prune(self, max_tokens: int | None = None, preserve_last_n: int = 4) -> None:
        """Summarise the active branch except its last ``preserve_last_n`` messages (persisted).

        Nothing is deleted: exports and :meth:`chat` send the summary, then the messages from
        :attr:`pruning_point_id` on. With ``max_tokens``, does nothing while the branch fits.
        Unlike lollms_client, a backend failure raises instead of being logged.
        """
        _context.summarize_and_prune(self, max_tokens, preserve_last_n)

    def get_context_status(self, branch_tip_id: str | None = None) -> dict[str, Any]:
        """Token use of the next prompt, in lollms_client's shape.

        ``{"max_tokens", "current_tokens", "percent", "zones": {"system_context": {"tokens"},
        "message_history": {"tokens", "message_count", "breakdown": {"text_tokens", "image_tokens"}}}}``;
        ``max_tokens`` is the binding's context size, else :attr:`max_context_size`, else ``None``
        (and ``percent`` then ``None``).
        """
        return _context.context_status(self, branch_tip_id)

    def auto_title(self) -> str:
        """Ask the LLM for a short title of the active branch, keep it in ``metadata["title"]`` and return it.

        :raises BackendError: the backend failed (lollms_client logs it and returns ``None``).
        """
        return _context.auto_title(self)
