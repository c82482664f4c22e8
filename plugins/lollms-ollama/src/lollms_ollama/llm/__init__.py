"""The ``ollama`` LLM binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import OllamaBinding

__all__ = ["BindingName", "OllamaBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "OllamaBinding"
