"""Text that cannot be encoded as UTF-8 is refused where prompts enter, not deep in an engine.

Python strings may hold lone surrogates (U+D800..U+DFFF): ``os.fsdecode`` and ``sys.argv``
turn undecodable bytes into them, and JSON decoders let a JSON escape of a lone surrogate through. Every
backend has to encode the prompt as UTF-8 (HTTP bodies, llama.cpp's C++ strings, SQLite),
which then fails with a raw ``UnicodeEncodeError`` far from the caller. The rule: such
text is an error naming where it is, never silently replaced (a replaced character would
change what the model reads without anyone knowing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError

__all__ = ["check_encodable", "check_messages_encodable"]


def check_encodable(text: str, what: str) -> None:
    """Raise if ``text`` cannot be encoded as UTF-8 (a lone surrogate).

    Cheap on the common path: ASCII text is recognised without encoding anything.

    :param what: how the caller names the text in the message ("prompt", "message 2 content").
    :raises ConfigError: naming ``what``, the character position and the code point.
    """
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ord(text[exc.start])
        # The character itself is not echoed: it cannot be printed either.
        hint = (
            "undecodable bytes from the command line or a file read with errors='surrogateescape'"
            if 0xDC80 <= bad <= 0xDCFF
            else "a lone UTF-16 surrogate"
        )
        raise ConfigError(
            f"{what} is not valid Unicode text: character {exc.start} is U+{bad:04X} ({hint}); "
            "give UTF-8 text (decode bytes with errors='replace' to keep going with U+FFFD)"
        ) from None


def check_messages_encodable(messages: Iterable[dict[str, Any]]) -> None:
    """:func:`check_encodable` on each message's text content (string or ``{"type": "text"}`` parts).

    :raises ConfigError: naming the message index and the character position.
    """
    for index, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, str):
            check_encodable(content, f"message {index} ({message.get('role', '?')}) content")
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                if isinstance(text, str):
                    check_encodable(text, f"message {index} ({message.get('role', '?')}) content")
