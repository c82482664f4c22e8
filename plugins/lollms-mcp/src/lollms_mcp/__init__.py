"""lollms-mcp: the tools of Model Context Protocol servers as a lollms tools binding.

Importing this package is cheap: the MCP SDK is imported only when an ``mcp`` binding is
created (and its transports only when a server is first used).
"""

from __future__ import annotations

from lollms_core import hookimpl

#: The distribution version: the one source hatch reads at build time (pyproject ``dynamic``).
__version__ = "0.1.0"

__all__ = ["lollms_register_bindings"]


@hookimpl
def lollms_register_bindings() -> list[str]:
    """The ``mcp`` tools binding (manifest read without importing the SDK)."""
    return ["lollms_mcp.mcp"]
