"""The ``lollms`` command line (``lollms = lollms_core.cli:main``; ``python -m lollms_core.cli``).

The face of :mod:`lollms_core.cli`: the parser and the entry point live in ``_main``; each
command group in its own module (``_commands``, ``_bindings``, ``_media``, ``_batch``,
``_scaffold``), imported when the parser is built. Importing this package imports argparse
and nothing else of the core.
"""

from __future__ import annotations

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
