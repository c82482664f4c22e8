"""Discussion exports (OpenAI messages, ``!@>role:`` text, Markdown, JSON) and the JSON import.

JSON carries the whole tree in insertion order, so ``from_json(export("json"))`` rebuilds
the same branches, ids, time stamps and active leaf, and exports the same string again.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..media import image_to_data_url, is_existing_file, sniff_image_mime
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
EXPORT_FORMATS = ("openai_chat", "ollama_chat", "lollms_text", "markdown", "json", "messages")
#: The ``format`` marker of a JSON export.
JSON_FORMAT = "lollms_discussion"


def to_openai_messages(messages: list[DiscussionMessage]) -> list[Message]:
    """``[{"role", "content", "images"?}]``: what :meth:`LollmsLLMBinding.chat` and the wires consume.

    Only active images are sent. Images on a system message (the discussion's own images)
    move to the last user message: chat APIs accept images in user turns only.
    """
    out: list[Message] = []
    system_images: list[str] = []
    for m in messages:
        item: Message = {"role": m.role, "content": m.content}
        images = m.get_active_images()
        if images and m.role == "system":
            system_images.extend(images)
        elif images:
            item["images"] = images
        out.append(item)
    if system_images:
        out = [item for item in out if item["role"] != "system" or item["content"]]  # it only carried images
        last_user = next((item for item in reversed(out) if item["role"] == "user"), None)
        if last_user is None:
            out.append(last_user := {"role": "user", "content": ""})
        last_user["images"] = [*system_images, *(last_user.get("images") or ())]
    return out


def to_openai_content_parts(messages: list[DiscussionMessage]) -> list[Message]:
    """The OpenAI Chat Completions ``messages``: images as ``image_url`` content parts, ready for the SDK.

    A message with active images has ``content`` as a list of parts (its text first); one
    without keeps a string. The discussion's own images stay on the system message, as
    lollms_client exports them.
    """
    out: list[Message] = []
    for m in messages:
        images = m.get_active_images()
        if not images:
            out.append({"role": m.role, "content": m.content})
            continue
        parts: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
        parts += [{"type": "image_url", "image_url": {"url": _image_url(i), "detail": "auto"}} for i in images]
        out.append({"role": m.role, "content": parts})
    return out


def render(branch: list[DiscussionMessage], format: str, title: str) -> Any:
    """One branch as ``openai_chat``, ``ollama_chat``, ``messages`` (lists), ``lollms_text`` or ``markdown``.

    :raises ConfigError: unknown format.
    """
    if format == "openai_chat":
        return to_openai_content_parts(branch)
    if format == "messages":
        return to_openai_messages(branch)
    if format == "ollama_chat":
        # Ollama's /api/chat: "images" is a list of base64 strings on any message; paths and URLs are not sent.
        out: list[Message] = []
        for m in branch:
            item: Message = {"role": m.role, "content": m.content}
            kept = [i for i in m.get_active_images() if _is_base64(i)]
            if kept:
                item["images"] = kept
            out.append(item)
        return out
    if format == "lollms_text":
        return "\n".join(f"!@>{m.role}:\n{m.content}{_attached(m)}" for m in branch)
    if format == "markdown":
        parts = [f"# {title}"]
        for m in branch:
            header = f"**{m.sender}**" + (f" ({m.role})" if m.sender.lower() != m.role else "")
            images = f"\n\n*[{len(m.images)} image(s)]*" if m.images else ""
            parts.append(f"{header}:\n\n{m.content}{images}")
        return "\n\n".join(parts) + "\n"
    raise ConfigError(f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def _image_url(image: str) -> str:
    """A data URL for a file or base64 text (kept as written); a URL, or anything else, as given (lollms_client)."""
    import binascii

    if image.startswith(("http://", "https://", "data:")):
        return image
    if is_existing_file(image):
        return image_to_data_url(Path(image))
    try:
        raw = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        return image
    return f"data:{sniff_image_mime(raw)};base64,{image}"


def _attached(m: DiscussionMessage) -> str:
    # lollms_client's text rendering says how many images go with a turn.
    count = len(m.get_active_images())
    return f"\n({count} image(s) attached)" if count else ""


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
        "zones": dict(sorted(record.zones.items())),
        # Keys sorted as the store writes them: the export of a discussion equals its reloaded export.
        "images": [dict(sorted(i.items())) for i in record.images],
        "artefacts": [dict(sorted(a.items())) for a in record.artefacts],
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
        zones={str(k): str(v) for k, v in dict(obj.get("zones") or {}).items()},
        images=[dict(i) for i in obj.get("images") or []],
        artefacts=[dict(a) for a in obj.get("artefacts") or []],
    )
