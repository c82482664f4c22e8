"""The ``transformers`` LLM binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import TransformersBinding

__all__ = ["BindingName", "TransformersBinding"]

#: The seeds' module constant: the class the core instantiates.
BindingName = "TransformersBinding"
