"""Secrets: cleaned on load, held masked, and scrubbed from every error message by ONE function.

Servers echo request headers in their error bodies and transport libraries quote header
values in their exceptions, so masking reprs is not enough: :func:`redact` runs over every
message built from a server response or an exception (``BackendError`` does it itself).
"""

from __future__ import annotations

import re
import threading

__all__ = ["Secret", "clean_secret", "redact", "remember_secret"]

MASK = "********"
_known: set[str] = set()
_known_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None
# Header-shaped credentials, whatever their value: "Bearer abc", "Authorization: Basic abc", "api-key: abc".
_CREDENTIAL = (
    r"(?i)(\bbearer\s+|\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:\w+\s+)?|\b(?:x-)?api[-_]key\b[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;}]+"
)
# Short values (e.g. "1", "no") would mangle unrelated text; real keys are long.
_MIN_SECRET = 6


def clean_secret(value: str, name: str) -> str:
    """``value`` without surrounding whitespace (keys read from files end in a newline).

    :raises ValueError: the key contains control characters or non-ASCII characters; the message
        names the position, never the value.
    """
    value = value.strip()
    bad = next((i for i, c in enumerate(value) if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise ValueError(
            f"parameter '{name}' contains a control character at position {bad} "
            "(a line break or tab inside the key?); the value is not shown"
        )
    # Keys travel in HTTP headers, which are ASCII: a smart quote or a non-breaking space copied
    # with the key was sent as UTF-8 bytes and came back as a puzzling 401 from the server.
    bad = next((i for i, c in enumerate(value) if ord(c) > 127), None)
    if bad is not None:
        raise ValueError(
            f"parameter '{name}' contains a non-ASCII character at position {bad} "
            "(a smart quote or a non-breaking space copied with the key?); the value is not shown"
        )
    return value


def remember_secret(value: str) -> None:
    """Add a configured secret value to what :func:`redact` removes."""
    global _pattern
    if len(value) < _MIN_SECRET:
        return
    with _known_lock:
        if value in _known:
            return
        _known.add(value)
        # Longest first, so a key that contains another is removed whole.
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def redact(text: str) -> str:
    """``text`` with every remembered secret and every ``Bearer …``/``Authorization: …`` value masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return re.sub(_CREDENTIAL, lambda m: m.group(1) + MASK, text)  # re caches the compiled pattern


class Secret:
    """A secret value whose repr never shows it; :meth:`reveal` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember_secret(value)

    def reveal(self) -> str:
        """The value itself (to put into a request header, nowhere else)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})" if self._value else "Secret('')"

    __str__ = __repr__
