"""Chunks per second on the client's own path: raw httpx vs lollms-openai (vs the openai SDK if installed).

A stdlib server in another process answers every POST /v1/chat/completions with the same canned SSE
stream of N chunks (no model: only the clients' parsing and bookkeeping is measured). Each round runs
every side in threads and in asyncio at concurrency 1 and 8; the order of the sides alternates ABBA-
style from round to round so drift on a shared machine hits them alike. Prints median chunks/s, CPU
per request, and the median per-round ratio to raw httpx (goal: lollms >= 0.85x everywhere).

usage: python bench/stream_parse.py [--rounds 7] [--chunks 500] [--requests 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

MODEL = "canned"


def canned_body(chunks: int) -> bytes:
    """An OpenAI-shaped SSE stream: role, N content deltas, finish, usage, [DONE]."""

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else [],
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    parts = [event({"role": "assistant", "content": ""})]
    parts += [event({"content": f" w{i}"}) for i in range(chunks)]
    parts.append(event({}, "stop"))
    parts.append(event(None, usage={"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": chunks + 5}))
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def serve(port: int, chunks: int) -> None:
    """The canned server (run in its own process)."""
    payload = canned_body(chunks)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BODY = {"model": MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}


def raw_sides(base: str) -> tuple[Callable[[], int], Callable[[], Awaitable[int]]]:
    client = httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=16))
    aclients: dict[Any, httpx.AsyncClient] = {}

    def count(line: str, parts: list[str]) -> None:
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    parts.append(text)

    def sync() -> int:
        parts: list[str] = []
        with client.stream("POST", "/chat/completions", json=BODY) as response:
            for line in response.iter_lines():
                count(line, parts)
        return len(parts)

    async def aio() -> int:
        loop = asyncio.get_running_loop()
        if loop not in aclients:
            aclients[loop] = httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=16))
        parts: list[str] = []
        async with aclients[loop].stream("POST", "/chat/completions", json=BODY) as response:
            async for line in response.aiter_lines():
                count(line, parts)
        return len(parts)

    return sync, aio


def lollms_sides(base: str) -> tuple[Callable[[], int], Callable[[], Awaitable[int]]]:
    from lollms_core import LollmsLLMBindingManager

    llm = LollmsLLMBindingManager().create_binding("openai", host_address=base, model_name=MODEL, strict=True)

    def sync() -> int:
        return sum(1 for _ in llm.stream("go"))

    async def aio() -> int:
        return len([c async for c in llm.astream("go")])

    return sync, aio


def sdk_sides(base: str) -> tuple[Callable[[], int], Callable[[], Awaitable[int]]] | None:
    try:
        import openai
    except ImportError:
        return None
    client = openai.OpenAI(base_url=base, api_key="none")
    aclients: dict[Any, Any] = {}
    messages: Any = BODY["messages"]

    def sync() -> int:
        stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        return sum(1 for c in stream if c.choices and c.choices[0].delta.content)

    async def aio() -> int:
        loop = asyncio.get_running_loop()
        if loop not in aclients:
            aclients[loop] = openai.AsyncOpenAI(base_url=base, api_key="none")
        stream = await aclients[loop].chat.completions.create(model=MODEL, messages=messages, stream=True)
        return len([c async for c in stream if c.choices and c.choices[0].delta.content])

    return sync, aio


def run_threads(fn: Callable[[], int], conc: int, requests: int) -> tuple[int, float, float]:
    """(chunks, wall s, CPU s) for ``requests`` calls spread over ``conc`` threads."""
    t0, c0 = time.perf_counter(), time.process_time()
    if conc == 1:
        total = sum(fn() for _ in range(requests))
    else:
        with ThreadPoolExecutor(conc) as pool:
            total = sum(pool.map(lambda _i: fn(), range(requests)))
    return total, time.perf_counter() - t0, time.process_time() - c0


def run_asyncio(
    fn: Callable[[], Awaitable[int]], conc: int, requests: int, loop: asyncio.AbstractEventLoop
) -> tuple[int, float, float]:
    async def main() -> int:
        sem = asyncio.Semaphore(conc)

        async def one() -> int:
            async with sem:
                return await fn()

        return sum(await asyncio.gather(*(one() for _ in range(requests))))

    t0, c0 = time.perf_counter(), time.process_time()
    total = loop.run_until_complete(main())
    return total, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--requests", type=int, default=8, help="requests per side per cell per round")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.chunks)
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--chunks", str(args.chunks)])
    try:
        base = f"http://127.0.0.1:{port}/v1"
        for _ in range(100):
            try:
                httpx.get(base, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        bench(base, args)
    finally:
        server.terminate()
        server.wait(10)


def bench(base: str, args: argparse.Namespace) -> None:
    sides: dict[str, tuple[Callable[[], int], Callable[[], Awaitable[int]]]] = {
        "raw httpx": raw_sides(base),
        "lollms": lollms_sides(base),
    }
    sdk = sdk_sides(base)
    if sdk is not None:
        sides["openai SDK"] = sdk
    cells = [("threads", 1), ("threads", 8), ("asyncio", 1), ("asyncio", 8)]
    loop = asyncio.new_event_loop()
    samples: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    names = list(sides)
    for r in range(-1, args.rounds):  # round -1: warm-up, not recorded
        order = names if r % 2 == 0 else names[::-1]  # ABBA: A B | B A | A B ...
        for mode, conc in cells:
            for name in order:
                sync, aio = sides[name]
                n = args.requests if name != "openai SDK" else max(1, args.requests // 4)
                if mode == "threads":
                    chunks, wall, cpu = run_threads(sync, conc, n)
                else:
                    chunks, wall, cpu = run_asyncio(aio, conc, n, loop)
                if chunks != n * args.chunks:
                    raise SystemExit(f"{name} counted {chunks} chunks, expected {n * args.chunks}")
                if r >= 0:
                    samples.setdefault((name, mode, conc), []).append((chunks / wall, cpu / n))
    loop.close()
    load = os.getloadavg()
    print(f"{args.rounds} rounds x {args.requests} requests x {args.chunks} chunks; load average {load[0]:.2f}")
    print("median chunks/s (median per-round ratio to raw httpx) | CPU ms per request")
    print(f"{'cell':<12}" + "".join(f"{n:>34}" for n in names))
    for mode, conc in cells:
        row = []
        for name in names:
            s = samples[(name, mode, conc)]
            raw = samples[("raw httpx", mode, conc)]
            rate = statistics.median(x[0] for x in s)
            ratio = statistics.median(a[0] / b[0] for a, b in zip(s, raw, strict=True))
            cpu = statistics.median(x[1] for x in s) * 1000
            row.append(f"{rate:9.0f} ({ratio:5.2f}x) | {cpu:6.2f} ms")
        print(f"{mode + ' ' + str(conc):<12}" + "".join(f"{c:>34}" for c in row))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # a dying worker must not print over the table
    main()
