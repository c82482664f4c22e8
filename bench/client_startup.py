"""Process start to a ready client: lollms vs raw httpx (and the openai SDK if installed); wall, CPU, RSS.

Each case is a fresh ``python -c`` process. One unmeasured run per case warms the bytecode and the
manifest cache (the warm path is what users hit every time after the first); then rounds run every
case in ABBA-alternating order. Prints medians and the median per-round ratio to the baseline.

Goals (issue 13): ready openai client <= 1.25x ``import httpx; httpx.Client()`` in wall and CPU,
<= +6 MB RSS; ``LollmsClient(llm_binding_name="echo")`` <= 1.0x ``import pydantic, yaml, pluggy``.

usage: python bench/client_startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

REPORT = "\nimport resource, sys; sys.stdout.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
OPENAI_CONFIG = '{"host_address": "http://127.0.0.1:9/v1", "model_name": "m", "service_key": "sk-bench-0123"}'
CASES = {
    "httpx.Client()": "import httpx; httpx.Client()",
    "lollms openai": f"from lollms_core import LollmsClient; LollmsClient(llm_binding_name='openai', "
    f"llm_binding_config={OPENAI_CONFIG})",
    "openai SDK": "import openai; openai.OpenAI(api_key='sk-bench', base_url='http://127.0.0.1:9/v1')",
    "pydantic+yaml+pluggy": "import pydantic, yaml, pluggy",
    "lollms echo": "from lollms_core import LollmsClient; LollmsClient(llm_binding_name='echo')",
}
PAIRS = [("lollms openai", "httpx.Client()"), ("openai SDK", "httpx.Client()"), ("lollms echo", "pydantic+yaml+pluggy")]


# Warm means compiled too: with PYTHONDONTWRITEBYTECODE set, editable sources would be compiled on
# every run while site-packages (httpx) has its .pyc from installation.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(code: str) -> tuple[float, float, float]:
    """(wall ms, CPU ms, max RSS MB) of one fresh interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    argv = [sys.executable, "-c", code + REPORT]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=ENV).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000, int(out.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    cases = dict(CASES)
    try:
        run(cases["openai SDK"])
    except subprocess.CalledProcessError:
        del cases["openai SDK"]
    for code in cases.values():
        run(code)  # warm-up: bytecode, manifest cache
    names = list(cases)
    samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:  # ABBA
            samples[name].append(run(cases[name]))

    def med(name: str, i: int) -> float:
        return statistics.median(s[i] for s in samples[name])

    print(f"{args.rounds} rounds; load average before {load:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'case':<22}{'wall ms':>10}{'CPU ms':>10}{'RSS MB':>10}")
    for name in names:
        print(f"{name:<22}{med(name, 0):>10.1f}{med(name, 1):>10.1f}{med(name, 2):>10.1f}")
    print("median per-round ratios (wall, CPU) and RSS difference of medians:")
    for a, b in PAIRS:
        if a not in samples:
            continue
        ratios = [statistics.median(x[i] / y[i] for x, y in zip(samples[a], samples[b], strict=True)) for i in (0, 1)]
        print(f"  {a} / {b}: wall {ratios[0]:.2f}x, CPU {ratios[1]:.2f}x, RSS {med(a, 2) - med(b, 2):+.1f} MB")


if __name__ == "__main__":
    main()
