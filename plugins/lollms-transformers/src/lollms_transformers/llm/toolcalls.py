"""Tool calls in a model's streamed text: the ``<tool_call>{...}</tool_call>`` blocks of Hermes-style templates.

Chat templates that render ``tools`` (Qwen 2.5/3, Hermes, SmolLM3 and most recent open models) ask
the model to answer a call as a JSON object ``{"name": ..., "arguments": {...}}`` between
``<tool_call>`` tags. The scanner shows the text outside the tags as it comes, holds back what
could be the start of a tag, and collects each block; :func:`parse_call` turns a block into a
name and the arguments' JSON text (the core parses and validates arguments once, for every binding).
"""

from __future__ import annotations

import json
import re

__all__ = ["ToolCallScanner", "parse_call"]

OPEN, CLOSE = "<tool_call>", "</tool_call>"
_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"')


class ToolCallScanner:
    """Splits streamed text into answer text (returned) and tool-call blocks (kept in :attr:`blocks`)."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._held = ""
        self._inside = False

    def feed(self, text: str) -> str:
        """The answer text of ``text`` that is certainly outside any tool-call block."""
        buffer, shown = self._held + text, list[str]()
        while True:
            if self._inside:
                end = buffer.find(CLOSE)
                if end < 0:
                    self._held = buffer
                    return "".join(shown)
                self.blocks.append(buffer[:end].strip())
                buffer, self._inside = buffer[end + len(CLOSE) :], False
                continue
            start = buffer.find(OPEN)
            if start < 0:
                keep = next(
                    (n for n in range(min(len(buffer), len(OPEN) - 1), 0, -1) if OPEN.startswith(buffer[-n:])), 0
                )
                self._held = buffer[len(buffer) - keep :]
                shown.append(buffer[: len(buffer) - keep])
                return "".join(shown)
            shown.append(buffer[:start])
            buffer, self._inside = buffer[start + len(OPEN) :], True

    def flush(self) -> str:
        """At the end: an unclosed block still counts as a call; held-back text that was no tag is shown."""
        held, self._held = self._held, ""
        if self._inside:
            if held.strip():
                self.blocks.append(held.strip())
            self._inside = False
            return ""
        return held


def parse_call(block: str) -> tuple[str | None, str]:
    """``(name, arguments JSON text)`` of one block; text that is not such JSON keeps what can be read."""
    try:
        data = json.loads(block)
    except ValueError:
        found = _NAME.search(block)
        return (found.group(1) if found else None), block
    if not isinstance(data, dict):
        return None, block
    name = data.get("name")
    arguments = data.get("arguments", data.get("parameters", {}))
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return (name if isinstance(name, str) else None), text
