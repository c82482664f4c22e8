"""Discussion exports (OpenAI messages, ``!@>role:`` text, Markdown, JSON) and the JSON import.

JSON carries the whole tree in insertion order, so ``from_json(export("json"))`` rebuilds
the same branches, ids, time stamps and active leaf, and exports the same string again.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..types import Message
from ._store import DiscussionMessage, DiscussionRecord

__all__ = [
    "EXPORT_FORMATS",
    "JSON_FORMAT",
    "ROLES",
    "record_from_json",
    "record_to_json",
    "render",
    "to_openai_messages",
]

ROLES = ("system", "user", "assistant")
EXPORT_FORMATS = ("openai_chat", "ollama_chat", "lollms_text", "markdown", "json")
#: The ``format`` marker of a JSON export.
JSON_FORMAT = "lollms_discussion"


def to_openai_messages(messages: list[DiscussionMessage]) -> list[Message]:
    """``[{"role", "content", "images"?}]`` for a list of discussion messages."""
    out: list[Message] = []
    for m in messages:
        item: Message = {"role": m.role, "content": m.content}
        if m.images:
            item["images"] = list(m.images)
        out.append(item)
    return out


def render(branch: list[DiscussionMessage], format: str, title: str) -> Any:
    """One branch as ``openai_chat`` (a list), ``lollms_text`` or ``markdown`` (strings).

    :raises ConfigError: unknown format.
    """
    if format == "openai_chat":
        return to_openai_messages(branch)
    if format == "ollama_chat":
        # Ollama's /api/chat: "images" is a list of base64 strings; paths and URLs are not sent.
        out = to_openai_messages(branch)
        for item in out:
            kept = [i for i in item.pop("images", []) if _is_base64(i)]
            if kept:
                item["images"] = kept
        return out
    if format == "lollms_text":
        return "\n".join(f"!@>{m.role}:\n{m.content}" for m in branch)
    if format == "markdown":
        parts = [f"# {title}"]
        for m in branch:
            header = f"**{m.sender}**" + (f" ({m.role})" if m.sender.lower() != m.role else "")
            images = f"\n\n*[{len(m.images)} image(s)]*" if m.images else ""
            parts.append(f"{header}:\n\n{m.content}{images}")
        return "\n\n".join(parts) + "\n"
    raise ConfigError(f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def _is_base64(text: str) -> bool:
    import binascii

    if text.startswith(("http://", "https://", "/", "data:")) or len(text) < 16:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def record_to_json(record: DiscussionRecord, messages: list[DiscussionMessage]) -> str:
    """The JSON export: the discussion's fields and every message of every branch."""
    data = {
        "format": JSON_FORMAT,
        "version": 1,
        "id": record.id,
        "created_at": record.created_at,
        "system_prompt": record.system_prompt,
        "metadata": record.metadata,
        "active_leaf_id": record.active_leaf_id,
        "messages": [m.to_dict() for m in messages],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def record_from_json(data: str | Mapping[str, Any]) -> DiscussionRecord:
    """Parse and check a JSON export.

    :raises ConfigError: not a discussion export, or a broken tree (unknown role, a parent that
        does not precede its child, a duplicated id, an active leaf that is not a message).
    """
    try:
        obj = json.loads(data) if isinstance(data, str) else dict(data)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"discussion JSON does not parse: {exc}") from None
    if not isinstance(obj, dict) or obj.get("format") != JSON_FORMAT:
        raise ConfigError(f'not a discussion export: expected a JSON object with "format": "{JSON_FORMAT}"')
    messages = [DiscussionMessage.from_dict(m) for m in obj.get("messages") or []]
    seen: set[str] = set()
    for msg in messages:
        if msg.role not in ROLES:
            raise ConfigError(f"message {msg.id!r} has role {msg.role!r}; expected one of {', '.join(ROLES)}")
        if msg.parent_id is not None and msg.parent_id not in seen:
            raise ConfigError(f"message {msg.id!r} names parent {msg.parent_id!r}, which does not precede it")
        if msg.id in seen:
            raise ConfigError(f"message id {msg.id!r} appears twice")
        seen.add(msg.id)
    leaf = obj.get("active_leaf_id")
    if leaf is not None and leaf not in seen:
        raise ConfigError(f"active_leaf_id {leaf!r} is not one of the messages")
    return DiscussionRecord(
        id=str(obj.get("id") or uuid.uuid4().hex),
        created_at=str(obj["created_at"]) if obj.get("created_at") else "",
        system_prompt=str(obj.get("system_prompt") or ""),
        metadata=dict(obj.get("metadata") or {}),
        active_leaf_id=leaf,
        messages=messages,
    )
