"""An MCP ``CallToolResult`` as the core's :class:`~lollms_core.types.ToolResult`, nothing dropped.

Every content block is kept in ``parts`` as the MCP block dict (text, image, audio,
embedded resource, resource link); ``structured_content`` is kept in ``structured``;
``is_error`` makes an error result. ``content`` (what the model reads) is the text blocks,
with a one-line note for each non-text block, or the structured value as JSON when the
tool gave no text.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lollms_core.types import ToolResult

__all__ = ["to_tool_result"]


def _size(data: Any) -> str:
    try:
        return f"{len(base64.b64decode(data, validate=False))} bytes"
    except (binascii.Error, TypeError, ValueError):
        return "undecodable base64"


def _describe(block: dict[str, Any]) -> str:
    """The line a model reads for one block."""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind in ("image", "audio"):
        return f"[{kind}: {block.get('mimeType', '?')}, {_size(block.get('data', ''))}]"
    if kind == "resource":
        resource = block.get("resource") or {}
        if "text" in resource:
            return f"[resource {resource.get('uri', '')}]\n{resource['text']}"
        return (
            f"[resource {resource.get('uri', '')}: {resource.get('mimeType', '?')}, {_size(resource.get('blob', ''))}]"
        )
    if kind == "resource_link":
        return f"[resource link: {block.get('uri', '')}]"
    return f"[{kind} block]"


def to_tool_result(result: Any, name: str, call_id: str) -> ToolResult:
    """``result`` (an ``mcp.types.CallToolResult``) as the result of call ``call_id``."""
    parts = tuple(block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content)
    structured = result.structured_content
    lines = [_describe(p) for p in parts]
    text = "\n".join(line for line in lines if line)
    if not any(p.get("type") == "text" for p in parts) and structured is not None:
        text = "\n".join([*(line for line in lines if line), json.dumps(structured, ensure_ascii=False)])
    if result.is_error and not text:
        text = f"tool {name!r} reported an error without a message"
    return ToolResult(
        call_id=call_id, name=name, content=text, is_error=bool(result.is_error), parts=parts, structured=structured
    )
