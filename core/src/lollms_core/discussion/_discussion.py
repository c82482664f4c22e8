"""``LollmsDiscussion``: a branching conversation, optionally persisted in one SQLite file.

Messages form a tree: each has a ``parent_id``; the *active branch* is the path from a
root to the *active leaf*. Adding a message continues the active branch (or any message
given as ``parent_id``), ``regenerate()`` answers the last user turn again as a sibling,
``switch_branch()`` moves between branches. Without ``db_path`` everything lives in memory
and nothing touches the disk; with it, each operation is committed before it returns.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._seed_rule import seed_rule
from ..compat._discussion_refusals import NOT_OFFERED_ATTRIBUTES, NOT_OFFERED_PARAMETERS, refuse
from ..errors import ConfigError, DiscussionNotFoundError, MessageNotFoundError
from ..text import split_discussion
from ..types import ImageInput, Message, StreamingCallback
from . import _chat, _context, _images, _tool_turns, _tree
from ._artefacts import ArtefactManager, ArtefactType
from ._chat import ChatResult
from ._context import PromptParts
from ._formats import ROLES, record_from_json, record_to_json, render, to_openai_messages
from ._llm import ClientLLM
from ._store import (
    ZONES,
    DiscussionMessage,
    DiscussionRecord,
    DiscussionStore,
    MemoryStore,
    SQLiteDiscussionStore,
)
from ._tree import BranchInfo, MessageNode, MessageTree

__all__ = [
    "ArtefactManager",
    "ArtefactType",
    "BranchInfo",
    "ChatResult",
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "LollmsDiscussion",
    "LollmsMessage",
    "MessageNode",
    "MessageNotFoundError",
]

_log = logging.getLogger("lollms_core.discussion")
#: What lollms_client answers with a value instead of an error: an id that is not in the discussion.
_UNKNOWN = (MessageNotFoundError,)


def _warn_unchanged(exc: BaseException) -> None:
    # lollms_client's switch_to_branch logs the unknown id and changes nothing.
    _log.warning("switch_to_branch: %s; nothing changed", exc)


#: lollms_client's name for a discussion message.
LollmsMessage = DiscussionMessage

_UNSET: Any = object()
_PARAMETERS = ("sender", "content", "role", "parent_id", "images", "metadata")


class StoreHolder(Protocol):
    """What ``db_manager=`` must be: something holding a shared store (a :class:`LollmsDataManager`)."""

    @property
    def store(self) -> SQLiteDiscussionStore:
        """The store every discussion from this holder writes to."""


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


def _zone(name: str) -> Any:
    """A persisted text property for lollms_client's data zone ``name`` (``None`` reads back as ``""``)."""

    def get(self: LollmsDiscussion) -> str:
        return self._record.zones.get(name, "")

    def set(self: LollmsDiscussion, text: str | None) -> None:
        text = "" if text is None else text
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str, not {type(text).__name__}")
        _check_storable(text, name)
        self._save_fields(zones={**self._record.zones, name: text})

    return property(get, set, doc=f"lollms_client's ``{name}``: text sent in the system prompt (persisted).")


class LollmsDiscussion:
    """A conversation tree with an active branch, exports, context budgeting and ``chat()``.

    Build one with :meth:`create_new`, :meth:`load` or :meth:`from_json`.
    ``lollms_client`` is anything with an ``.llm`` attribute (a :class:`~lollms_core.LollmsClient`)
    or an LLM binding itself; it counts tokens and generates answers.

    Composed of three parts: a :class:`~lollms_core.discussion._tree.MessageTree` (the messages
    in memory), a store (SQLite, or :class:`~lollms_core.discussion._store.MemoryStore`) and
    the model seen through :class:`~lollms_core.discussion._llm.ClientLLM`. Context, budget
    and chat steps are functions that return new values; only this class changes the tree
    and the store, always the store first, so a failed write leaves memory as it was.
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
        db_manager: StoreHolder | None = None,
        discussion_id: str | None = None,
        autosave: bool = False,
        max_context_size: int | None = None,
        strict: bool | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            refuse(unsupported, "LollmsDiscussion()")
        if record is None or not isinstance(record, DiscussionRecord):
            # lollms_client's form: LollmsDiscussion(lollmsClient=..., db_manager=..., discussion_id=...).
            lollms_client = next((c for c in (lollms_client, lollmsClient, record) if c is not None), None)
            record, store = self._open_or_make(db_manager, discussion_id)
        self._record = record
        self._store: DiscussionStore = store if store is not None else MemoryStore()
        #: Whether :meth:`close` closes the store (not when a :class:`LollmsDataManager` shares it).
        self._owns_store = db_manager is None
        self.lollms_client = lollms_client
        #: lollms_client's setting: writes are committed at once here, whatever its value.
        self.autosave = autosave
        #: Context window used by budgets and :meth:`get_context_status` when the binding knows none.
        self.max_context_size = max_context_size
        self._strict = strict
        #: lollms_client's artefact manager: versioned documents, the active ones sent in the system prompt.
        self.artefacts = ArtefactManager(lambda: self._record.artefacts, self._save_artefacts)
        for msg in record.messages:
            msg._sink = self._update_message
        self._tree = MessageTree(record.id, record.messages)
        record.messages = []  # the tree is the single in-memory copy

    @staticmethod
    def _open_or_make(
        db_manager: StoreHolder | None, discussion_id: str | None
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
            # Only reached for a missing attribute: a mixin column, else lollms_client's ones we do not offer.
            store = self.__dict__.get("_store")
            if store is not None and name in store.extra_columns["discussions"]:
                return self._record.extra.get(name)
            if name in NOT_OFFERED_ATTRIBUTES:
                raise AttributeError(f"LollmsDiscussion has no {name!r}: {NOT_OFFERED_ATTRIBUTES[name]}")
            raise AttributeError(f"'LollmsDiscussion' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # lollms_client persists `disc.memory = ...`; here it would be a silent, unsaved attribute.
        if name in NOT_OFFERED_ATTRIBUTES:
            raise AttributeError(f"cannot set LollmsDiscussion.{name}: {NOT_OFFERED_ATTRIBUTES[name]}")
        store = self.__dict__.get("_store")
        if store is not None and name in store.extra_columns["discussions"]:
            _check_storable(value, name)  # a column declared by the manager's discussion_mixin: persisted
            self._save_fields(extra={**self._record.extra, name: value})
            return
        super().__setattr__(name, value)

    def _llm(self) -> ClientLLM:
        """The model as the context and chat functions see it (whatever ``lollms_client`` is now)."""
        return ClientLLM(self.lollms_client)

    def _prompt_parts(self) -> PromptParts:
        images = [i["data"] for i in self._record.images if i.get("active", True)]
        images += [i for i in self.artefacts.get_active_images() if i not in images]
        return PromptParts(
            self.system_prompt, self.created_at, self.pruning_point_id, self.pruning_summary,
            zones=dict(self._record.zones), artefacts_zone=self.artefacts.build_artefacts_context_zone(),
            images=tuple(images),
        )  # fmt: skip

    @property
    def strict(self) -> bool:
        """``True``: unknown ids and backend failures raise typed errors; ``False``: lollms_client's values.

        Defaults to the client's ``strict`` (``False`` without a client).
        """
        if self._strict is not None:
            return self._strict
        return bool(getattr(self.lollms_client, "strict", False) is True)

    @strict.setter
    def strict(self, value: bool) -> None:
        self._strict = bool(value)

    # == construction ===================================================================

    @classmethod
    def create_new(
        cls,
        lollms_client: Any = None,
        db_path: str | Path | None = None,
        *,
        db_manager: StoreHolder | None = None,
        id: str | None = None,
        autosave: bool = False,
        discussion_metadata: Mapping[str, Any] | None = None,
        max_context_size: int | None = None,
        strict: bool | None = None,
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
        :param strict: typed errors instead of lollms_client's return values (default: the client's ``strict``).
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
        zones = {z: metadata.pop(z) for z in ZONES if metadata.get(z) is not None}
        for zone, text in zones.items():
            if not isinstance(text, str):
                raise ConfigError(f"{zone} must be a str, not {type(text).__name__}")
            _check_storable(text, zone)
        _check_storable(metadata, "metadata")
        _check_storable(system_prompt, "system_prompt")
        if db_manager is not None:
            store: SQLiteDiscussionStore | None = db_manager.store
        else:
            store = SQLiteDiscussionStore(db_path) if db_path is not None else None
        if id is not None and store is not None and id in store.list_ids():
            found = cls(
                store.load(id),
                lollms_client,
                store,
                autosave=autosave,
                max_context_size=max_context_size,
                strict=strict,
            )
            found._owns_store = db_manager is None
            return found
        record = DiscussionRecord(
            id=id or uuid.uuid4().hex, created_at=_now(), system_prompt=system_prompt, metadata=metadata, zones=zones
        )
        if store is not None:
            try:
                store.create(record)
            except BaseException:
                if db_manager is None:
                    store.close()
                raise
        new = cls(record, lollms_client, store, autosave=autosave, max_context_size=max_context_size, strict=strict)
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
        if self._owns_store:
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

    # -- lollms_client's data zones and memory ------------------------------------------

    memory = _zone("memory")
    user_data_zone = _zone("user_data_zone")
    discussion_data_zone = _zone("discussion_data_zone")
    personality_data_zone = _zone("personality_data_zone")

    def setMemory(self, memory: str) -> None:
        """lollms_client's setter: the same as ``discussion.memory = memory``."""
        self.memory = memory

    def get_full_data_zone(self) -> str:
        """The data zones and active artefacts as they follow the system prompt (lollms_client's layout)."""
        return self._prompt_parts().data_zone()

    @seed_rule(None)
    def memorize(self, branch_tip_id: str | None = None) -> str | None:
        """Ask the model what to remember from the branch; append it to :attr:`memory` as a dated entry.

        The entry reads ``--- Memory entry from YYYY-MM-DD HH:MM:SS ---`` then the model's text.
        Returns that text, or ``None`` for an empty branch or (unless :attr:`strict`) a backend
        failure, as lollms_client does.

        :raises BackendError: (``strict``) the backend failed; memory is unchanged.
        """
        branch = self.get_messages(branch_tip_id)
        if not branch:
            return None
        text = _context.memory_entry(branch, self._llm())
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        entry = f"--- Memory entry from {stamp} ---\n{text}"
        self.memory = f"{self.memory.rstrip()}\n\n{entry}" if self.memory.strip() else entry
        return text

    # -- lollms_client's discussion images ---------------------------------------------

    def add_discussion_image(self, image_b64: ImageInput, source: str = "user", active: bool = True) -> None:
        """Attach an image to the whole discussion (sent with every turn while active); persisted."""
        self._save_images(_images.added(self._record.images, image_b64, source, active))

    def get_discussion_images(self) -> list[dict[str, Any]]:
        """The discussion's images: ``[{"data", "source", "active", "created_at"}]`` (copies)."""
        return [dict(i) for i in self._record.images]

    def toggle_discussion_image_activation(self, index: int, active: bool | None = None) -> None:
        """Flip (or set) whether discussion image ``index`` is sent; persisted.

        :raises IndexError: no image at ``index`` (nothing changes).
        """
        self._save_images(_images.toggled(self._record.images, index, active))

    def remove_discussion_image(self, index: int, commit: bool = True) -> None:
        """Remove discussion image ``index`` (persisted; ``commit`` is accepted for lollms_client).

        :raises IndexError: no image at ``index`` (nothing changes).
        """
        self._save_images(_images.removed(self._record.images, index))

    def get_active_images(self, branch_tip_id: str | None = None) -> list[str]:
        """Every image sent with the next turn: the discussion's active ones, then the branch's active ones."""
        active = list(self._prompt_parts().images)
        return active + [i for m in self.get_messages(branch_tip_id) for i in m.get_active_images()]

    def get_all_images(self, branch_tip_id: str | None = None) -> list[dict[str, Any]]:
        """The branch's message images: ``[{"message_id", "index", "data", "active"}]``."""
        return _images.all_images(self.get_messages(branch_tip_id))

    def _save_images(self, images: list[dict[str, Any]]) -> None:
        _check_storable(images, "images")
        self._save_fields(images=images)

    def _save_artefacts(self, artefacts: list[dict[str, Any]]) -> None:
        """Persist the artefact manager's new list (store first), then keep it."""
        _check_storable(artefacts, "artefacts")
        self._store.replace_artefacts(self.id, artefacts)
        self._record.artefacts = artefacts

    def _update_message(self, msg: DiscussionMessage, changes: dict[str, Any]) -> None:
        """The sink of changes made through a message itself (image activation): store first, then apply."""
        _check_storable(changes, "message fields")
        self._store.update_message(dataclasses.replace(msg, **changes))
        for name, value in changes.items():
            setattr(msg, name, value)

    # -- lollms_client's artefact shortcuts ---------------------------------------------

    def list_artefacts(self) -> list[dict[str, Any]]:
        """``artefacts.list()``."""
        return self.artefacts.list()

    def add_artefact(
        self, title: str, content: str = "", images: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """``artefacts.add(title, content=..., images=...)``."""
        return self.artefacts.add(title, content=content, images=images, **extra)

    def get_artefact(self, title: str, version: int | None = None) -> dict[str, Any] | None:
        """``artefacts.get(title, version)``."""
        return self.artefacts.get(title, version)

    def update_artefact(
        self, title: str, new_content: str, new_images: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """``artefacts.update(title, new_content, new_images=...)``: the next version."""
        return self.artefacts.update(title, new_content, new_images=new_images, **extra)

    def remove_artefact(self, title: str, version: int | None = None) -> int:
        """``artefacts.remove(title, version)``."""
        return self.artefacts.remove(title, version)

    @property
    def active_leaf_id(self) -> str | None:
        """The last message of the active branch (``None`` while empty)."""
        return self._record.active_leaf_id

    @property
    def messages(self) -> list[DiscussionMessage]:
        """Every message of every branch, in the order they were added."""
        return self._tree.messages

    def __len__(self) -> int:
        return len(self._tree)

    def __repr__(self) -> str:
        where = str(self._store.path) if self._store.path is not None else "memory"
        return f"<LollmsDiscussion {self.id} messages={len(self)} in {where}>"

    def _save_fields(self, **changes: Any) -> None:
        """Write the discussion's own fields with ``changes`` applied, then apply them in memory.

        Disk first: when the write fails, the in-memory record has not changed.
        """
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
            self._tree.get(parent)
        columns = {n: fields.pop(n) for n in list(fields) if n in self._store.extra_columns["messages"]}
        merged = {**fields, **(metadata or {})}
        _check_storable(columns, "columns")
        _check_storable(sender, "sender")
        _check_storable(content, "content")
        _check_storable(merged, "metadata")
        image_texts = [_images.image_text(i) for i in images or ()]
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
            tokens=self._llm().try_count_tokens(content),
            extra=columns,
        )

    def _store_message(self, msg: DiscussionMessage) -> None:
        """Persist ``msg`` (disk first), then add it to the tree as the active leaf."""
        self._store.add_message(self.id, msg, msg.id)
        msg._sink = self._update_message
        self._tree.add(msg)
        self._record.active_leaf_id = msg.id

    def _role_of(self, sender: str) -> str:
        name = sender.strip().lower()
        if name == "system":
            return "system"
        ai_names = {"assistant", "lollms", "ai", str(self._record.metadata.get("ai_name", "assistant")).lower()}
        return "assistant" if name in ai_names else "user"

    def edit_message(
        self, message_id: str, content: str | None = None, metadata: dict[str, Any] | None = None, **columns: Any
    ) -> DiscussionMessage:
        """Change a message's content, merge into its metadata, set mixin ``columns`` (persisted, in place).

        :raises ConfigError: content or metadata the store cannot hold, or an unknown column (nothing changes).
        """
        msg = self._tree.get(message_id)
        unknown = [n for n in columns if n not in self._store.extra_columns["messages"]]
        if unknown:
            known = ", ".join(self._store.extra_columns["messages"]) or "none (see LollmsDataManager(message_mixin=))"
            raise ConfigError(f"edit_message() got unknown column(s) {', '.join(unknown)}; extra columns: {known}")
        if columns:
            _check_storable(columns, "columns")
            self._update_message(msg, {"extra": {**msg.extra, **columns}})
        if content is not None and not isinstance(content, str):
            raise TypeError(f"content must be a str, not {type(content).__name__}")
        new_content = msg.content if content is None else content
        new_metadata = {**msg.metadata, **(metadata or {})}
        _check_storable(new_content, "content")
        _check_storable(new_metadata, "metadata")
        tokens = msg.tokens if content is None else self._llm().try_count_tokens(new_content)
        updated = dataclasses.replace(msg, content=new_content, metadata=new_metadata, tokens=tokens)
        self._store.update_message(updated)  # disk first: a failed write leaves memory as it was
        msg.content, msg.metadata, msg.tokens = new_content, new_metadata, tokens
        return msg

    @seed_rule(None, on=_UNKNOWN)
    def get_message(self, message_id: str) -> DiscussionMessage | None:
        """The message with that id, on any branch; ``None`` for an unknown id, as in lollms_client.

        :raises MessageNotFoundError: (:attr:`strict`) no such message in this discussion.
        """
        return self._tree.get(message_id)

    def get_children(self, message_id: str | None) -> list[DiscussionMessage]:
        """Direct replies to a message (roots for ``None``), oldest first: the branch points."""
        return self._tree.children(message_id)

    def get_branch(self, leaf_id: str) -> list[DiscussionMessage]:
        """The path from the root to ``leaf_id``, in order."""
        return self._tree.branch(leaf_id)

    def get_messages(self, branch_id: str | None = None) -> list[DiscussionMessage]:
        """The active branch (or the one ending at ``branch_id``, lollms_client's argument), root first."""
        leaf = branch_id if branch_id is not None else self.active_leaf_id
        return self.get_branch(leaf) if leaf is not None else []

    @seed_rule(False, on=_UNKNOWN)
    def switch_branch(self, message_id: str) -> bool:
        """Make the branch through ``message_id`` active; ``True``, or ``False`` for an unknown id (lollms_client).

        The new active leaf (:attr:`active_leaf_id`) is ``message_id`` itself if nothing follows
        it, else its deepest descendant taking the most recent reply at each step.

        :raises MessageNotFoundError: (:attr:`strict`) unknown id; nothing changes.
        """
        self._save_fields(active_leaf_id=self._tree.deepest_leaf(message_id))
        return True

    # -- lollms_client's branch names (docs/migrating-from-lollms-client.md) ---------------

    @property
    def active_branch_id(self) -> str | None:
        """lollms_client's name for :attr:`active_leaf_id`; setting it makes that message the leaf (persisted)."""
        return self._record.active_leaf_id

    @active_branch_id.setter
    def active_branch_id(self, message_id: str | None) -> None:
        if message_id is not None:
            self._tree.get(message_id)
        self._save_fields(active_leaf_id=message_id)

    @seed_rule(_warn_unchanged, on=_UNKNOWN)
    def switch_to_branch(self, branch_id: str) -> None:
        """Make ``branch_id`` itself the active leaf (lollms_client; :meth:`switch_branch` goes to the deepest reply).

        An unknown id changes nothing and logs a warning, as in lollms_client.

        :raises MessageNotFoundError: (:attr:`strict`) unknown id.
        """
        self.active_branch_id = branch_id

    def get_siblings(self, message_id: str) -> list[DiscussionMessage]:
        """The messages sharing ``message_id``'s parent (itself included), oldest first."""
        return self._tree.siblings(message_id)

    def switch_to_sibling(self, direction: int = 1) -> DiscussionMessage | None:
        """Move to the next (``+1``) or previous (``-1``) alternative of the active leaf (wrapping round).

        Returns the new active leaf, or ``None`` when the leaf has no sibling.
        """
        target = self._tree.sibling_of(self.active_leaf_id, direction)
        if target is None:
            return None
        self._save_fields(active_leaf_id=self._tree.deepest_leaf(target))
        return self._tree.get(self._record.active_leaf_id or target)

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
        self._tree.get(message_id)
        metadata = dict(fields.pop("metadata", None) or {})
        if label:
            metadata["branch_label"] = label
        metadata.setdefault("forked_from", message_id)
        return self.add_message(
            sender=initial_sender, content=initial_content or "", role=initial_sender_type,
            parent_id=message_id, metadata=metadata, **fields,
        )  # fmt: skip

    def get_message_branches(self, message_id: str) -> list[BranchInfo]:
        """The branches passing through ``message_id`` (``[]`` for an unknown id, as in lollms_client)."""
        return [b for b in self.list_branches() if message_id in b.message_ids]

    @seed_rule(False, on=_UNKNOWN)
    def set_branch_label(self, leaf_id: str, label: str) -> bool:
        """Name the branch ending at ``leaf_id`` (kept as ``metadata["branch_label"]``, persisted).

        Returns ``False`` for an unknown id, as lollms_client does.

        :raises MessageNotFoundError: (:attr:`strict`) unknown id.
        """
        self.edit_message(leaf_id, metadata={"branch_label": str(label)})
        return True

    def branch_diff(self, leaf_a: str, leaf_b: str) -> dict[str, Any]:
        """How two branches diverge: ``{"common_ancestor_id", "only_in_a", "only_in_b", "shared"}`` (ids, root first).

        :raises MessageNotFoundError: an unknown leaf id.
        """
        return _tree.branch_diff(self._tree, leaf_a, leaf_b)

    def merge_branches(
        self,
        source_leaf_id: str,
        target_leaf_id: str | None = None,
        separator_content: str = "--- merged from another branch ---",
        separator_sender: str = "system",
    ) -> DiscussionMessage:
        """Copy the source branch's own messages onto the target branch (default: the active one).

        A system separator (skipped when ``separator_content`` is empty) comes first, then
        copies of the messages of ``source_leaf_id``'s branch that the target does not share,
        each with ``metadata["merged_from"]`` naming its original. Written in one go: the copies
        are checked before the first one is stored. Returns the new tip (now the active leaf).

        :raises MessageNotFoundError: an unknown source or target (lollms_client raises ``ValueError``).
        """
        target = target_leaf_id if target_leaf_id is not None else self.active_leaf_id
        if target is None:
            raise MessageNotFoundError("merge_branches: there is no target branch (the discussion is empty)")
        target_ids = {m.id for m in self._tree.branch(target)}
        unique = [m for m in self._tree.branch(source_leaf_id) if m.id not in target_ids]
        if not unique:
            return self._tree.get(target)
        copies: list[DiscussionMessage] = []
        parent = target
        if separator_content:
            marker = {"merge_separator": True}
            sep = self._new_message(separator_sender, separator_content, "system", parent, None, marker)
            copies.append(sep)
            parent = sep.id
        for src in unique:
            meta = {**src.metadata, "merged_from": src.id}
            copy = self._new_message(src.sender, src.content, src.role, None, list[ImageInput](src.images), meta)
            copy.parent_id, copy.active_images = parent, list(src.active_images)
            copies.append(copy)
            parent = copy.id
        for copy in copies:  # every copy is checked above: only a failing disk can stop half-way
            self._store_message(copy)
        return copies[-1]

    def list_branches(self) -> list[BranchInfo]:
        """A :class:`BranchInfo` per leaf (root-to-leaf ids, depth, label, whether active), oldest first."""
        return _tree.list_branches(self._tree, self.active_leaf_id)

    def get_branch_info(self, leaf_id: str) -> BranchInfo:
        """The :class:`BranchInfo` of the branch ending at ``leaf_id``."""
        return _tree.branch_info(self._tree, leaf_id, self.active_leaf_id)

    def get_tree(self) -> list[MessageNode]:
        """The whole tree as nested :class:`MessageNode` roots."""
        return _tree.message_tree(self._tree, self.active_leaf_id)

    def prune_branch(self, message_id: str) -> int:
        """Delete ``message_id`` and every reply below it (persisted); return how many were removed.

        If the active leaf was removed, the branch through the parent becomes active.
        """
        doomed = self._tree.subtree_ids(message_id)
        leaf = self.active_leaf_id
        if leaf in doomed:
            leaf = self._tree.leaf_after_removing(message_id)
        self._store.delete_messages(self.id, doomed, leaf)
        self._tree.remove(doomed)
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
            zones=dict(self._record.zones),
            images=[dict(i) for i in self._record.images],
            artefacts=[dict(a) for a in self._record.artefacts],
        )
        store = SQLiteDiscussionStore(self._store.path) if self._store.path is not None else None
        if store is not None:
            store.create(record)
        return type(self)(record, self.lollms_client, store)

    def delete(self) -> None:
        """Remove this discussion from its database (a no-op in memory)."""
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
            branch = self._fit(leaf, max_allowed_tokens, add_system_prompt=not suppress_system_prompt)
        else:
            branch = self.get_messages(leaf)
            if not suppress_system_prompt:
                branch = _context.context_messages(branch, self._prompt_parts(), self._llm())
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

    def _fit(
        self,
        leaf_id: str | None,
        max_tokens: int | None = None,
        n_predict: int | None = None,
        ctx_size: int | None = None,
        *,
        summarize: bool = False,
        add_system_prompt: bool = True,
    ) -> list[DiscussionMessage]:
        """The branch ending at ``leaf_id`` (default: the active one) as sent, cut to the budget."""
        return _context.fit_to_budget(
            self.get_messages(leaf_id), self._prompt_parts(), self._llm(), self.message_overhead_tokens,
            max_tokens=max_tokens, n_predict=n_predict, ctx_size=ctx_size, max_context_size=self.max_context_size,
            summarize=summarize, add_system_prompt=add_system_prompt,
        )  # fmt: skip

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
        return self._fit(leaf_id, max_tokens, n_predict, ctx_size, summarize=summarize)

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
        # Every check before the first change: a refused option must not leave a user turn behind.
        kwargs = dict(kwargs)
        tooling = _tool_turns.pop_tool_options(kwargs)  # tools=: the tool loop (see docs/tools.md)
        options = _chat.prepare_options(kwargs)
        llm = self._llm()
        binding = llm.binding()
        if tooling:
            _tool_turns.check_tools(binding, self.lollms_client, tooling)
        parent = branch_tip_id if branch_tip_id is not None else self.active_leaf_id
        if parent is not None:
            self._tree.get(parent)
        user: DiscussionMessage | None = None
        if add_user_message:
            sender = str(self.metadata.get("user_name", "user"))
            user = self._new_message(sender, user_message, "user", parent, images)
            llm.check_options(user_message, images, options)
            self._store_message(user)
            parent = user.id
        else:
            llm.check_options("", images, options)
            if parent is None:
                raise ConfigError("chat(add_user_message=False) needs a branch to answer: the discussion is empty")
        return self._answer(
            parent, streaming_callback, options, summarize=summarize, user=user,
            add_system_prompt=add_system_prompt, keep_thinking=not remove_thinking_blocks, tooling=tooling,
        )  # fmt: skip

    def _answer(
        self,
        parent_id: str,
        callback: StreamingCallback | None,
        options: dict[str, Any],
        *,
        summarize: bool = False,
        user: DiscussionMessage | None = None,
        add_system_prompt: bool = True,
        keep_thinking: bool = False,
        tooling: dict[str, Any] | None = None,
    ) -> ChatResult:
        """Generate the reply to the branch ending at ``parent_id`` and store it as its child.

        With ``tooling`` (``chat(tools=...)``) the tool loop answers: each call and result is stored
        as a message of the branch, the final answer last.

        :raises BackendError: the backend failed (nothing is added).
        """
        context = self._fit(
            parent_id, None, options.get("n_predict"), options.get("ctx_size"),
            summarize=summarize, add_system_prompt=add_system_prompt,
        )  # fmt: skip
        if tooling:
            sent = to_openai_messages(context)
            ai_name = str(self.metadata.get("ai_name", "assistant"))
            try:
                run = _tool_turns.run_tools(self._llm().binding(), self.lollms_client, tooling, sent, callback, options)
            except BaseException as exc:
                # A later round failed (backend, cancel(), a before_call that raised): the calls
                # already made and their results stay in the discussion, then the error goes on.
                self._store_tool_steps(_tool_turns.steps_before(exc, sent), parent_id, ai_name)
                raise
            *steps, final = run.messages[len(sent) :]
            parent_id = self._store_tool_steps(steps, parent_id, ai_name)
            sender, content, role, meta = _tool_turns.turn_fields(final, ai_name)
            last = self._new_message(sender, content, role, parent_id, metadata=meta)
            if run.finish_reason:
                last.metadata["finish_reason"] = run.finish_reason
            answer = ChatResult.of(last, user, cancelled=run.stopped_by is not None)
            self._store_message(answer)
            return answer
        text, meta = _chat.reply(context, self._llm(), callback, options, keep_thinking=keep_thinking)
        ai_name = str(self.metadata.get("ai_name", "assistant"))
        msg = self._new_message(ai_name, text, "assistant", parent_id, metadata=meta)
        result = ChatResult.of(msg, user, cancelled=meta.get("stopped_by") is not None)
        self._store_message(result)
        return result

    def _store_tool_steps(self, steps: list[Message], parent_id: str, ai_name: str) -> str:
        """Store the loop's calls and results in order below ``parent_id``; the id of the last one."""
        for step in steps:
            sender, content, role, meta = _tool_turns.turn_fields(step, ai_name)
            made = self._new_message(sender, content, role, parent_id, metadata=meta)
            self._store_message(made)
            parent_id = made.id
        return parent_id

    def regenerate(
        self, streaming_callback: StreamingCallback | None = None, *, summarize: bool = False, **kwargs: Any
    ) -> ChatResult:
        """Answer the active branch's last user message again, as a new sibling branch (now active).

        :raises ConfigError: the active branch has no user message.
        """
        user = next((m for m in reversed(self.get_messages()) if m.role == "user"), None)
        if user is None:
            raise ConfigError("nothing to regenerate: the active branch has no user message")
        options = dict(kwargs)
        self._llm().check_options("", None, options)
        return self._answer(user.id, streaming_callback, options, summarize=summarize, user=user)

    def regenerate_branch(self, branch_tip_id: str | None = None, **kwargs: Any) -> ChatResult:
        """lollms_client's regeneration: replace the answer at ``branch_tip_id`` (default: the active leaf).

        An assistant tip is deleted (with any replies below it) and its user message answered
        again; a user tip is answered. :meth:`regenerate` keeps the old answer as a sibling instead.

        :raises ConfigError: the tip is a system message, or an assistant message with no user parent.
        """
        options = dict(kwargs)
        streaming_callback = options.pop("streaming_callback", None)
        options = _chat.prepare_options(options)
        llm = self._llm()
        llm.binding()
        target = self._tree.get(branch_tip_id if branch_tip_id is not None else self.active_leaf_id or "")
        parent = self._tree.get(target.parent_id) if target.role == "assistant" and target.parent_id else None
        user = parent if target.role == "assistant" else target
        if user is None or user.role != "user":
            raise ConfigError(f"nothing to regenerate from message '{target.id}' ({target.role}): no user message")
        llm.check_options("", None, options)
        # The new answer first: if the backend fails, the old one must still be there (nothing changes).
        result = self._answer(user.id, streaming_callback, options, user=user)
        if target is not user:
            self.prune_branch(target.id)  # the old reply is not on the new answer's path: the new one stays active
        return result

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
        found = _context.summarize_for_pruning(
            self.get_messages(), self._prompt_parts(), self._llm(), self.message_overhead_tokens,
            max_tokens, preserve_last_n,
        )  # fmt: skip
        if found is not None:
            self.set_metadata(pruning_summary=found[0], pruning_point_id=found[1])

    def get_context_status(self, branch_tip_id: str | None = None) -> dict[str, Any]:
        """Token use of the next prompt, in lollms_client's shape.

        ``{"max_tokens", "current_tokens", "percent", "zones": {"system_context": {"tokens"},
        "message_history": {"tokens", "message_count", "breakdown": {"text_tokens", "image_tokens"}}}}``;
        ``max_tokens`` is the binding's context size, else :attr:`max_context_size`, else ``None``
        (and ``percent`` then ``None``).
        """
        leaf = branch_tip_id if branch_tip_id is not None else self.active_leaf_id
        return _context.context_status(
            self.get_messages(leaf),
            self._prompt_parts(),
            self._llm(),
            self.message_overhead_tokens,
            self.max_context_size,
        )

    def auto_title(self) -> str:
        """Ask the LLM for a short title of the active branch, keep it in ``metadata["title"]`` and return it.

        :raises BackendError: the backend failed (lollms_client logs it and returns ``None``).
        """
        title = _context.auto_title(self.get_messages(), self._llm())
        self.set_metadata(title=title)
        return title
