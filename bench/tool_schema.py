"""Tool schema derivation from a Python function: cold (first time) vs warm (cached), per call.

The tool loop turns the functions it is given into tools on every call; the derivation (signature,
type hints, docstring parsing) is cached per function, so the warm path is a lookup. Measured:

- cold: ``signature_schema(func)`` itself (what the first call pays), per function;
- warm: ``ToolSet([func])`` for a function already seen (what every later call pays);
- baseline: ``inspect.signature(func)`` alone, the cheapest thing that still reads the function.

Rounds alternate the sides in ABBA order; medians of per-call wall and CPU time, the warm/baseline
ratio, and the load average are printed. Goal (issue 21): warm <= 50 microseconds per call.

usage: python bench/tool_schema.py [--rounds 20] [--calls 2000]
"""

from __future__ import annotations

import argparse
import enum
import inspect
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lollms_core.tools import ToolSet, signature_schema


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


@dataclass
class Place:
    city: str
    country: str = ""


def weather(
    place: Place, unit: Unit = Unit.C, days: int | None = None, when: Literal["now", "later"] = "now"
) -> dict[str, str]:
    """The weather at a place.

    Args:
        place: where
        unit: degrees
        days: how many days ahead
        when: now or later
    """
    return {}


def timed(work: Callable[[], object], calls: int) -> tuple[float, float]:
    """Per-call wall and CPU microseconds of ``calls`` runs of ``work``."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(calls):
        work()
    return (time.perf_counter() - w0) / calls * 1e6, (time.process_time() - c0) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    ToolSet([weather])  # warm the cache once: the warm side measures the lookup path
    sides: dict[str, Callable[[], object]] = {
        "cold signature_schema": lambda: signature_schema(weather),
        "warm ToolSet([func])": lambda: ToolSet([weather]),
        "inspect.signature": lambda: inspect.signature(weather),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    order = list(sides)
    for r in range(args.rounds):
        for name in order if r % 2 == 0 else reversed(order):  # ABBA
            calls = args.calls if name != "cold signature_schema" else max(1, args.calls // 10)
            results[name].append(timed(sides[name], calls))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'case':<24}{'wall us/call':>14}{'cpu us/call':>14}")
    med: dict[str, float] = {}
    for name, runs in results.items():
        med[name] = statistics.median(w for w, _ in runs)
        print(f"{name:<24}{med[name]:>14.2f}{statistics.median(c for _, c in runs):>14.2f}")
    warm = med["warm ToolSet([func])"]
    print(f"warm / inspect.signature: {warm / med['inspect.signature']:.2f}x")
    print(f"cold / warm: {med['cold signature_schema'] / warm:.1f}x")
    print(f"goal warm <= 50 us/call: {'met' if warm <= 50 else 'NOT met'} ({warm:.2f} us)")


if __name__ == "__main__":
    main()
