"""lollms-server: ``lollms serve``, every configured lollms binding behind one OpenAI-compatible server.

This module is what the ``lollms.bindings`` entry point names, so it is imported at every
``import lollms_core``: it holds only the hook that adds the ``serve`` command and imports
nothing heavy (Starlette and uvicorn load when the command runs). The application itself is
:func:`lollms_server.app.create_app`; its configuration :class:`lollms_server.config.ServerConfig`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lollms_core import hookimpl

if TYPE_CHECKING:
    import argparse

#: The distribution version: the one source hatch reads at build time (pyproject ``dynamic``).
__version__ = "0.1.0"

__all__ = ["__version__", "lollms_register_commands"]


@hookimpl
def lollms_register_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``lollms serve`` to the ``lollms`` command line."""
    from .cli import add_serve_command

    add_serve_command(subparsers)
