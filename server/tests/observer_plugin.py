"""A server plugin for the tests: records every generation event it is shown."""

from __future__ import annotations

from typing import Any

from lollms_core import hookimpl

EVENTS: list[Any] = []


@hookimpl
def lollms_on_generation_event(event: Any) -> None:
    """Keep the event."""
    EVENTS.append(event)
