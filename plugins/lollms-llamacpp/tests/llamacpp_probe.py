"""Looking inside the running engine from tests."""

from __future__ import annotations

from typing import Any


def slots_busy(binding: Any) -> int:
    """How many llama.cpp slots are decoding right now (the engine's /slots route)."""
    return sum(1 for s in binding._engine._http("GET", "/slots") if s.get("is_processing"))
