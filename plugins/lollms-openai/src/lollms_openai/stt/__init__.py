"""The ``openai`` STT binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import OpenAITranscriptionBinding

__all__ = ["BindingName", "OpenAITranscriptionBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "OpenAITranscriptionBinding"
