"""Looking inside the running engine from tests."""

from __future__ import annotations

from typing import Any


def slots_busy(binding: Any) -> int:
    """How many llama.cpp slots are decoding right now (the engine's /slots route)."""
    return sum(1 for s in binding._engine._http("GET", "/slots") if s.get("is_processing"))


def seconds_until_idle(binding: Any, timeout: float = 5.0) -> float:
    """Poll /slots until no slot decodes; return how long that took (``inf`` if it never happened)."""
    import time

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if slots_busy(binding) == 0:
            return time.perf_counter() - t0
        time.sleep(0.01)
    return float("inf")
