"""The ``whisper`` STT binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import WhisperBinding

__all__ = ["BindingName", "WhisperBinding"]

#: The seeds' module constant: the class the core instantiates (``class:`` in description.yaml comes first).
BindingName = "WhisperBinding"
