"""The typed errors of lollms-whisper (subclasses of the core's, so callers can catch either)."""

from __future__ import annotations

from lollms_core.errors import BindingLoadError, ConfigError

__all__ = ["AudioDecodeError", "WhisperModelNotFoundError"]


class AudioDecodeError(ConfigError):
    """The audio given (named in the message) is not something the decoder (PyAV/FFmpeg) can read."""


class WhisperModelNotFoundError(BindingLoadError):
    """The model is neither cached nor a local directory; the message says how to get it."""
