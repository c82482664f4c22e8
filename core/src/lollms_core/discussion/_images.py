"""Discussion-level images (lollms_client's ``add_discussion_image``...) as new lists, never in place.

A discussion image is ``{"data", "source", "active", "created_at"}``; the active ones are
sent with every turn (on the system message of an export, with the last user turn to a
binding) and counted in the context status. Each function returns the list the
discussion should store next; it stores it (store first) or, on an exception, keeps the
old one.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from ..errors import ConfigError
from ..types import ImageInput
from ._store import DiscussionMessage

__all__ = ["added", "all_images", "image_text", "removed", "toggled"]


def image_text(image: ImageInput) -> str:
    """How an image is stored: bytes as base64 text, anything else (path, URL, base64) as given."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(image)).decode("ascii")
    if not isinstance(image, (str, PurePath)) or not str(image):
        raise ConfigError(f"an image is a path, URL, base64 text or bytes, not {image!r}")
    return str(image)


def added(images: list[dict[str, Any]], image: ImageInput, source: str, active: bool) -> list[dict[str, Any]]:
    """``images`` with ``image`` appended."""
    entry = {"data": image_text(image), "source": str(source), "active": bool(active)}
    entry["created_at"] = datetime.now(timezone.utc).isoformat()
    return [*(dict(i) for i in images), entry]


def _check_index(images: list[dict[str, Any]], index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(images):
        raise IndexError(f"discussion image index {index!r} is out of range: the discussion has {len(images)} image(s)")


def toggled(images: list[dict[str, Any]], index: int, active: bool | None) -> list[dict[str, Any]]:
    """``images`` with image ``index`` flipped (or set to ``active``).

    :raises IndexError: no image at ``index`` (lollms_client's error).
    """
    _check_index(images, index)
    out = [dict(i) for i in images]
    out[index]["active"] = (not out[index].get("active", True)) if active is None else bool(active)
    return out


def removed(images: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """``images`` without image ``index``.

    :raises IndexError: no image at ``index``.
    """
    _check_index(images, index)
    return [dict(i) for n, i in enumerate(images) if n != index]


def all_images(branch: list[DiscussionMessage]) -> list[dict[str, Any]]:
    """lollms_client's ``get_all_images``: ``[{"message_id", "index", "data", "active"}]`` along a branch."""
    return [
        {"message_id": m.id, "index": n, "data": image["data"], "active": image["active"]}
        for m in branch
        for n, image in enumerate(m.get_all_images())
    ]
