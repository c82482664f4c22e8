"""An MCP tool call through lollms-mcp vs the raw SDK's ``ClientSession.call_tool``; and import cost.

Both sides start their own copy of the same stdio server (plugins/lollms-mcp/tests/mcp_servers.py,
written with the SDK's server API) and call its ``add`` tool. Blocks of calls alternate ABBA;
per-call wall times give medians; client CPU (this process, all threads) per call is measured
per block. Two forms are compared:

* sync: ``binding.call_tool(...)`` (the private event loop thread) vs
  ``loop.run_until_complete(session.call_tool(...))`` on a loop the caller keeps;
* async: ``await binding.acall_tool(...)`` vs ``await session.call_tool(...)``.

Then ``import lollms_core`` in fresh interpreters with and without lollms-mcp discovered
(``LOLLMS_LOAD_PLUGINS``), ABBA: the difference is the manifest merge, and ``mcp`` must not
be imported.

Goal (issue 22): lollms-mcp <= 1.10x the raw SDK (median of >= 200 calls).

usage: python bench/mcp_call.py [--calls 240] [--block 20] [--imports 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "plugins" / "lollms-mcp" / "tests" / "mcp_servers.py"
COMMAND = [sys.executable, str(SERVER), "stdio"]


def blocks(
    sides: dict[str, Callable[[int], None]], calls: int, block: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Per side: (per-call wall seconds, per-block CPU seconds per call), blocks in ABBA order."""
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in sides}
    names = list(sides)
    rounds = max(1, calls // block // 2)
    for r in range(rounds * 2):
        for name in names if r % 2 == 0 else names[::-1]:
            walls, cpus = out[name]
            c0 = time.process_time()
            for i in range(block):
                t0 = time.perf_counter()
                sides[name](i)
                walls.append(time.perf_counter() - t0)
            cpus.append((time.process_time() - c0) / block)
    return out


def report(title: str, samples: dict[str, tuple[list[float], list[float]]], lollms: str, raw: str) -> None:
    print(f"\n{title}")
    print(f"{'side':<28}{'calls':>7}{'median ms':>11}{'p90 ms':>9}{'CPU ms/call':>13}")
    for name, (walls, cpus) in samples.items():
        p90 = statistics.quantiles(walls, n=10)[-1]
        print(
            f"{name:<28}{len(walls):>7}{statistics.median(walls) * 1000:>11.3f}{p90 * 1000:>9.3f}"
            f"{statistics.median(cpus) * 1000:>13.3f}"
        )
    wall_ratio = statistics.median(samples[lollms][0]) / statistics.median(samples[raw][0])
    cpu_ratio = statistics.median(samples[lollms][1]) / statistics.median(samples[raw][1])
    verdict = "ok" if wall_ratio <= 1.10 else "OVER the 1.10x goal"
    print(f"ratio lollms/raw: wall {wall_ratio:.3f}x ({verdict}), client CPU {cpu_ratio:.3f}x")


async def raw_session(stack: Any) -> Any:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=COMMAND[0], args=COMMAND[1:])
    read, write = await stack.enter_async_context(stdio_client(params))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    await session.list_tools()
    return session


def check(value: Any, expected: int) -> None:
    text = value.content if hasattr(value, "content") and isinstance(value.content, str) else value.content[0].text
    if text != str(expected):
        raise SystemExit(f"wrong answer {text!r}, expected {expected}")


def bench_sync(calls: int, block: int) -> None:
    import contextlib

    from lollms_core import LollmsToolBindingManager

    binding = LollmsToolBindingManager().create_binding("mcp", servers=[{"alias": "b", "command": COMMAND}])
    binding.list_tools()  # starts the server
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[Any] = loop.create_future()
    stop = asyncio.Event()

    async def own() -> None:  # anyio scopes must be left by the task that entered them
        async with contextlib.AsyncExitStack() as stack:
            ready.set_result(await raw_session(stack))
            await stop.wait()

    owner = loop.create_task(own())
    session = loop.run_until_complete(ready)

    def lollms(i: int) -> None:
        check(binding.call_tool("b::add", {"a": i, "b": 1}), i + 1)

    def raw(i: int) -> None:
        check(loop.run_until_complete(session.call_tool("add", {"a": i, "b": 1})), i + 1)

    for i in range(20):  # warm both
        lollms(i)
        raw(i)
    samples = blocks({"lollms-mcp call_tool": lollms, "SDK call_tool (caller loop)": raw}, calls, block)
    report("sync form", samples, "lollms-mcp call_tool", "SDK call_tool (caller loop)")
    stop.set()
    loop.run_until_complete(owner)
    loop.close()
    binding.close()


def bench_async(calls: int, block: int) -> None:
    import contextlib

    from lollms_core import LollmsToolBindingManager

    async def main() -> None:
        binding = LollmsToolBindingManager().create_binding("mcp", servers=[{"alias": "b", "command": COMMAND}])
        await binding.alist_tools()
        async with contextlib.AsyncExitStack() as stack:
            session = await raw_session(stack)
            results: dict[str, tuple[list[float], list[float]]] = {
                n: ([], []) for n in ("lollms-mcp acall_tool", "SDK call_tool")
            }

            async def lollms(i: int) -> None:
                check(await binding.acall_tool("b::add", {"a": i, "b": 1}), i + 1)

            async def raw(i: int) -> None:
                check(await session.call_tool("add", {"a": i, "b": 1}), i + 1)

            sides = {"lollms-mcp acall_tool": lollms, "SDK call_tool": raw}
            for i in range(20):
                await lollms(i)
                await raw(i)
            names = list(sides)
            for r in range(max(1, calls // block // 2) * 2):
                for name in names if r % 2 == 0 else names[::-1]:
                    walls, cpus = results[name]
                    c0 = time.process_time()
                    for i in range(block):
                        t0 = time.perf_counter()
                        await sides[name](i)
                        walls.append(time.perf_counter() - t0)
                    cpus.append((time.process_time() - c0) / block)
            report("async form", results, "lollms-mcp acall_tool", "SDK call_tool")
        binding.close()

    asyncio.run(main())


def bench_import(rounds: int) -> None:
    """``import lollms_core`` with and without lollms-mcp discovered; whether mcp was imported."""
    script = "import json, sys, time; t=time.perf_counter(); import lollms_core; " + (
        "print(json.dumps([time.perf_counter()-t, 'mcp' in sys.modules, "
        "[e.name for e in lollms_core.get_registry().entries if e.distribution == 'lollms-mcp']]))"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "LOLLMS_LOAD_PLUGINS")}
    argv = [sys.executable, "-m", "lollms_core.cli", "bindings", "--json"]
    listing = subprocess.run(argv, capture_output=True, text=True, env=base, check=False)
    installed = sorted({r["distribution"] for r in json.loads(listing.stdout) if r["distribution"] != "lollms-core"})
    cases = {
        "with lollms-mcp": {**base, "LOLLMS_LOAD_PLUGINS": ",".join(installed)},
        "without lollms-mcp": {**base, "LOLLMS_LOAD_PLUGINS": ",".join(d for d in installed if d != "lollms-mcp")},
    }
    samples: dict[str, list[float]] = {n: [] for n in cases}
    seen: dict[str, Any] = {}
    names = list(cases)
    for env in cases.values():  # warm: bytecode and the manifest cache
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    for r in range(rounds * 2):
        for name in names if r % 2 == 0 else names[::-1]:
            argv = [sys.executable, "-c", script]
            out = subprocess.run(argv, capture_output=True, text=True, env=cases[name], check=True)
            took, has_mcp, rows = json.loads(out.stdout.strip().splitlines()[-1])
            samples[name].append(took)
            seen[name] = (has_mcp, rows)
    print(f"\nimport lollms_core ({rounds * 2} fresh interpreters per case, ABBA)")
    for name in names:
        has_mcp, rows = seen[name]
        print(
            f"{name:<22}{statistics.median(samples[name]) * 1000:>9.1f} ms   mcp imported: {has_mcp}; mcp rows: {rows}"
        )
    diff = statistics.median(samples["with lollms-mcp"]) - statistics.median(samples["without lollms-mcp"])
    print(f"difference (the lollms-mcp manifest merge): {diff * 1000:+.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=240, help="calls per side and form (>= 200)")
    parser.add_argument("--block", type=int, default=20, help="calls per ABBA block")
    parser.add_argument("--imports", type=int, default=10, help="ABBA rounds of the import comparison")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs")
    bench_sync(args.calls, args.block)
    bench_async(args.calls, args.block)
    bench_import(args.imports)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
