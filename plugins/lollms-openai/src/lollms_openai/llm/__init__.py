"""The ``openai`` LLM binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import OpenAIBinding

__all__ = ["BindingName", "OpenAIBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "OpenAIBinding"
