"""Import cost of ``lollms_core`` (with whatever plugins are installed) against a baseline.

Baseline: ``import pydantic, yaml, pluggy`` — the core's own dependencies, so the ratio
says what lollms adds on top of them. Each figure is the median of N warm runs (one
unmeasured run first warms the bytecode and manifest caches), measured two ways:
``-X importtime`` cumulative microseconds of the top-level imports, and the wall time of
the whole ``python -c`` process. Run: ``python bench/import_time.py [N]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

TARGET = "import lollms_core"
BASELINE = "import pydantic, yaml, pluggy"
ANCHORS = {"import llm.cli": "774 ms", "import lollms_client": "740 ms", "import litellm": "3 s"}


def importtime_ms(code: str) -> float:
    """Sum of the cumulative times of the top-level imports ``code`` triggers (-X importtime)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    ).stderr
    total = 0
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # top-level entries only
            total += int(cumulative)
    return total / 1000


def wall_ms(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return (time.perf_counter() - t0) * 1000


def median_of(fn, code: str, n: int) -> float:
    fn(code)  # warm-up: bytecode, manifest cache
    return statistics.median(fn(code) for _ in range(n))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    plugins = subprocess.run(
        [
            sys.executable,
            "-c",
            "import lollms_core as l; print(sorted({e.distribution for e in l.get_registry().entries}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lollms_core; print(sorted(m for m in ('pydantic.main','yaml','httpx','asyncio',"
            "'xllamacpp','faster_whisper','numpy','tiktoken') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"python {sys.version.split()[0]}; distributions in the registry: {plugins}")
    print(f"heavy modules loaded by `{TARGET}`: {heavy}")
    print(f"median of {n} warm runs:")
    rows = []
    for label, fn in (("-X importtime cumulative", importtime_ms), ("process wall time", wall_ms)):
        t, b = median_of(fn, TARGET, n), median_of(fn, BASELINE, n)
        rows.append((label, t, b))
        print(f"  {label:26s} {TARGET}: {t:7.1f} ms   {BASELINE}: {b:7.1f} ms   ratio {t / b:.2f}x")
    empty = median_of(wall_ms, "pass", n)
    print(f"  (interpreter start alone: {empty:.1f} ms wall)")
    print(
        "targets: importtime <= 120 ms and <= 1.5x baseline; anchors measured on this kind of machine: "
        + ", ".join(f"{k} {v}" for k, v in ANCHORS.items())
    )


if __name__ == "__main__":
    main()
