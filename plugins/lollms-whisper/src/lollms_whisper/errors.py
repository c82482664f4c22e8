"""The typed errors of lollms-whisper (subclasses of the core's, so callers can catch either)."""

from __future__ import annotations

from lollms_core.errors import BindingLoadError, ConfigError

__all__ = ["AudioDecodeError", "AudioLimitError", "WhisperModelNotFoundError"]


class AudioDecodeError(ConfigError):
    """The audio given (named in the message) is not something the decoder (PyAV/FFmpeg) can read."""


class AudioLimitError(AudioDecodeError):
    """The audio is refused before it costs memory (the message names the input and the limit).

    An absurd sample rate, or longer than ``max_audio_seconds`` or than its byte size can hold.
    """


class WhisperModelNotFoundError(BindingLoadError):
    """The model is neither cached nor a local directory; the message says how to get it."""
