"""The ``mcp`` tools binding package (imported only when a binding is created)."""

from __future__ import annotations

from .binding import McpBinding

__all__ = ["BindingName", "McpBinding"]

#: The seeds' module constant: the class the core instantiates (``class:`` in description.yaml comes first).
BindingName = "McpBinding"
