"""What the bases check before a primitive runs, and how they wrap what escapes from one.

A binding author never sees a bad prompt, a non-string voice or a missing audio file: the
public method refuses them with a :class:`~lollms_core.errors.ConfigError` naming the
argument. And whatever an engine raises that is not a lollms error becomes an
:class:`~lollms_core.errors.EngineError` naming the binding, so callers (and ``lollms
speak``) deal with one typed error, never a raw ``RuntimeError``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, EngineError, LollmsError

__all__ = ["ENGINE_THREADS_PER_CPU", "audio_input", "engine_error", "max_engine_threads", "text_input", "voice_input"]

#: More engine threads than this many per logical CPU only add contention (and enough of them
#: abort the process: llama.cpp with a million threads dies in std::bad_alloc).
ENGINE_THREADS_PER_CPU = 4


def max_engine_threads() -> int:
    """The most threads a local engine may be asked for on this machine (every local binding's limit)."""
    return ENGINE_THREADS_PER_CPU * (os.cpu_count() or 1)


#: Longest engine message copied into an EngineError (tracebacks of C libraries can be huge).
_MAX_MESSAGE = 300


def text_input(method: str, name: str, value: Any) -> str:
    """``value`` when it is a ``str`` with something other than whitespace in it.

    :raises ConfigError: naming ``method``'s argument ``name`` and what it got.
    """
    if not isinstance(value, str):
        raise ConfigError(f"{method}(): {name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ConfigError(f"{method}(): {name} is empty; give the text to use")
    return value


def voice_input(method: str, value: Any) -> str | None:
    """``value`` when it is a non-empty ``str`` or ``None`` (the binding's default voice).

    :raises ConfigError: naming the ``voice`` argument.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{method}(): voice must be a str or None (the default voice), not {type(value).__name__}")
    if not value.strip():
        raise ConfigError(f"{method}(): voice is empty; pass None for the default voice or a name from list_voices()")
    return value


def audio_input(method: str, value: Any) -> bytes | Path:
    """Audio given as bytes (non-empty) or a path (``str``/``PathLike``) to an existing file.

    :raises ConfigError: naming the argument, the path, or the wrong type.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if not data:
            raise ConfigError(f"{method}(): audio is empty (0 bytes); give a file path or the file's bytes")
        return data
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{method}(): audio must be a file path or bytes, not {type(value).__name__}")
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"audio file '{path}' does not exist or is not a file")
    return path


def engine_error(binding: str, primitive: str, exc: BaseException, secrets: Iterable[str] = ()) -> BaseException:
    """What to raise for ``exc`` escaping from ``primitive``.

    ``exc`` itself when it is a lollms error (or not an ``Exception`` at all, e.g.
    ``KeyboardInterrupt``), else an :class:`EngineError` naming the binding, with ``exc`` as
    its ``__cause__``.

    ``secrets`` (the binding's secret config values) are blanked out of the copied message.
    """
    if isinstance(exc, LollmsError) or not isinstance(exc, Exception):
        return exc
    detail = " ".join(str(exc).split())
    for secret in secrets:
        if secret:
            detail = detail.replace(secret, "********")
    if len(detail) > _MAX_MESSAGE:
        detail = detail[:_MAX_MESSAGE] + "..."
    error = EngineError(f"the {binding} binding's engine failed in {primitive}(): {type(exc).__name__}: {detail}")
    error.__cause__ = exc
    return error
