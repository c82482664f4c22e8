"""What a binding asks of whoever made it: its registry row and where its events go.

``BindingSpec.create`` hands both to the new instance before ``__init__`` runs, so a
binding made through a registry never looks anything up. A binding class constructed
directly (``OpenAIBinding(...)``, as seed code does) has neither: it asks the lookup slot
below, which discovery fills when ``lollms_core`` is imported (the default registry's row
for the class, and that registry as the event sink). Nothing here imports the registry or
discovery: these are the shapes they provide, and the contract layer stays below them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..manifest._config_check import ConfigChecker
    from ..manifest._model import Manifest
    from ..types import GenerationEvent

__all__ = ["BindingLookup", "BindingRow", "EventSink", "binding_lookup", "fill_binding_lookup"]


class EventSink(Protocol):
    """Where a binding's generation events go (a registry: its plugins' ``lollms_on_generation_event``)."""

    def observers(self) -> Sequence[tuple[str, Any]]:
        """``(plugin name, caller)`` of the observers; empty means no event is even built."""

    def emit(self, event: GenerationEvent) -> None:
        """Deliver one event to every observer (an observer that raises is logged, never propagated)."""


class BindingRow(Protocol):
    """What a binding needs of its registry row: the manifest's checks, and the manifest itself."""

    @property
    def checker(self) -> ConfigChecker | None:
        """Config and call-option checks built from the row's manifest (no pydantic on the warm path)."""

    @property
    def manifest(self) -> Manifest | None:
        """The row's validated manifest (pydantic, built on first use)."""


class BindingLookup(Protocol):
    """The slot a directly constructed binding asks: its row and its event sink."""

    def row_for(self, cls: type) -> BindingRow | None:
        """The row registered for this binding class (by class path or package), or ``None``."""

    def event_sink(self) -> EventSink:
        """Where the events of a binding that was not made by a registry go."""


class _NoObservers:
    """The sink of a binding when nothing filled the slot: nobody listens."""

    def observers(self) -> Sequence[tuple[str, Any]]:
        return ()

    def emit(self, event: GenerationEvent) -> None:
        return None


_lookup: BindingLookup | None = None
NO_OBSERVERS: EventSink = _NoObservers()


def fill_binding_lookup(lookup: BindingLookup | None) -> None:
    """Install the lookup directly constructed bindings ask (discovery does, at ``import lollms_core``)."""
    global _lookup
    _lookup = lookup


def binding_lookup() -> BindingLookup | None:
    """The installed lookup, or ``None`` (then a directly built binding has no row and no observers)."""
    return _lookup
