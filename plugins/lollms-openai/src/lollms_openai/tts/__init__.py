"""The ``openai`` TTS binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import OpenAISpeechBinding

__all__ = ["BindingName", "OpenAISpeechBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "OpenAISpeechBinding"
