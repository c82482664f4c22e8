"""The ``llamacpp`` LLM binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import LlamaCppBinding

__all__ = ["BindingName", "LlamaCppBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "LlamaCppBinding"
