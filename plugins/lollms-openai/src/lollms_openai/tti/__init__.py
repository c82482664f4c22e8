"""The ``openai`` TTI binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import OpenAIImageBinding

__all__ = ["BindingName", "OpenAIImageBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "OpenAIImageBinding"
