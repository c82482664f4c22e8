"""The ``lollms_*`` hook specifications: the whole contract between the core and a plugin.

Three hooks, each for one reason:

* ``lollms_register_bindings`` — the only way a binding enters the registry;
* ``lollms_register_commands`` — lets a plugin add ``lollms`` subcommands (``lollms models pull``...);
* ``lollms_on_generation_event`` — lets a plugin log, meter or trace calls without touching bindings.

A plugin is a module (named by the ``lollms.bindings`` entry point) holding functions
decorated with :data:`lollms_core.hookimpl`.

Every hook is called through pluggy, one plugin at a time: an implementation may declare
only the arguments it uses, and ``tryfirst``/``trylast``/``wrapper`` behave as pluggy
documents; a plugin that raises (``SystemExit`` included) never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pluggy

if TYPE_CHECKING:
    import argparse  # annotations only: argparse costs ~1 ms at every import of lollms_core

    from .manifest._model import Manifest
    from .types import GenerationEvent

__all__ = ["BindingSource", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("lollms")
#: Decorate a plugin's hook functions with this (pinned public name: ``lollms_core.hookimpl``).
hookimpl = pluggy.HookimplMarker("lollms")

#: What ``lollms_register_bindings`` may return items of: the dotted name of a binding
#: package holding ``description.yaml`` (preferred: nothing is imported), a path to a
#: ``description.yaml``, a parsed mapping, or a :class:`~lollms_core.manifest.Manifest`.
BindingSource = Union[str, Path, "dict[str, Any]", "Manifest"]


# -- discovery ---------------------------------------------------------------------------


@hookspec
def lollms_register_bindings() -> Iterable[BindingSource]:  # type: ignore[empty-body]
    """Return the bindings this plugin provides.

    Called once per plugin when the registry is built (at ``import lollms_core``; for a
    plugin module that was itself still being imported then, as soon as its import has
    finished), inside its own ``try``: if it raises, the plugin is listed with status
    ``"error"`` and the reason, and every other plugin keeps working.

    Return dotted package names such as ``"lollms_openai.llm"``: the core reads
    ``description.yaml`` beside that package's ``__init__.py`` through
    ``importlib.resources`` without importing it, and imports the binding class (the
    manifest's ``class`` or the package's ``BindingName``) only when a binding is created.
    Keep this function free of heavy imports.
    """


# -- command line ------------------------------------------------------------------------


@hookspec
def lollms_register_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add subcommands to the ``lollms`` command line.

    Called when ``lollms`` builds its parser, after the built-in commands, with the
    ``argparse`` subparsers object. Add a parser and ``set_defaults(func=callable)``;
    the callable receives the parsed ``argparse.Namespace`` and returns an exit code.
    A plugin whose hook raises is skipped with a warning on stderr.
    """


# -- observing generation ----------------------------------------------------------------


@hookspec
def lollms_on_generation_event(event: GenerationEvent) -> None:
    """Observe a call on any binding: ``start``, each ``chunk``, ``end`` or ``error``.

    Called synchronously in the generating thread, so keep it fast. The return value is
    ignored; an exception is logged and swallowed (an observer can never break a call).
    When no plugin implements this hook the core skips building events entirely.
    """
