"""Tools for the ``python`` binding's failing case: ``add`` exists but always raises; no other function."""

from __future__ import annotations

LIMIT = 3


def add(a: int, b: int) -> int:
    """Add two integers (broken on purpose)."""
    raise RuntimeError("the adder is broken")
