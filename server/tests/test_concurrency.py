"""Concurrency: blocking bindings off the event loop, and a client that leaves stops its generation."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import openai

from .conftest import Running

SLOW = {"models": {"slow": {"binding": "echo", "config": {"delay": 0.05}, "concurrency": 32}}}
WORDS = " ".join(f"w{i}" for i in range(40))  # 40 chunks x 0.05 s = 2 s per full answer


def wait_for(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_32_streams_one_client_killed_mid_stream_stops_its_generation(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(SLOW)
    binding = server.binding("slow")
    body = {"model": "slow", "messages": [{"role": "user", "content": WORDS}], "stream": True}

    async def full(client: httpx.AsyncClient) -> str:
        text = []
        async with client.stream("POST", f"{server.v1}/chat/completions", json=body) as answer:
            async for line in answer.aiter_lines():
                if line.startswith("data: {"):
                    text.append(line)
        return "".join(text)

    async def killed(client: httpx.AsyncClient) -> int:
        seen = 0
        async with client.stream("POST", f"{server.v1}/chat/completions", json=body) as answer:
            async for line in answer.aiter_lines():
                if line.startswith("data: {"):
                    seen += 1
                if seen == 4:
                    break  # leaving the block closes the connection mid-stream
        return seen

    async def run() -> tuple[list[str], int]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=60, limits=limits) as c1, httpx.AsyncClient(timeout=60) as c2:
            fulls = [asyncio.ensure_future(full(c1)) for _ in range(31)]
            seen = await killed(c2)
            return await asyncio.gather(*fulls), seen

    started = time.monotonic()
    answers, seen = asyncio.run(run())
    elapsed = time.monotonic() - started
    assert seen == 4
    assert all(a.count("w39") == 1 for a in answers)  # the 31 others got every chunk
    assert elapsed < 20  # concurrently: 32 x 2 s one after the other would be 64 s
    # The killed one: its upstream stream was closed, and nothing is left running on the host.
    assert wait_for(lambda: server.state.hosts["slow"].active == 0)
    assert binding.streams_opened == 32 and binding.streams_closed == 32


def test_the_killed_stream_stopped_early_not_at_its_end(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve({"models": {"slow": {"binding": "echo", "config": {"delay": 0.1}}}})
    binding = server.binding("slow")
    body = {"model": "slow", "messages": [{"role": "user", "content": WORDS}], "stream": True}
    started = time.monotonic()
    with httpx.stream("POST", f"{server.v1}/chat/completions", json=body, timeout=30) as answer:
        for line in answer.iter_lines():
            if "w2" in line:
                break
    # 40 chunks at 0.1 s would run 4 s; closed after ~3 chunks, upstream ends within a chunk or two.
    assert wait_for(lambda: binding.streams_closed == 1, timeout=3)
    assert time.monotonic() - started < 2.0
    assert server.state.hosts["slow"].active == 0


def test_a_blocking_binding_does_not_block_the_event_loop(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(SLOW)
    body = {"model": "slow", "messages": [{"role": "user", "content": WORDS}]}
    blocking = threading.Thread(target=lambda: httpx.post(f"{server.v1}/chat/completions", json=body, timeout=30))
    blocking.start()
    time.sleep(0.2)  # the 2 s answer is being generated in the host's pool now
    t = time.monotonic()
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    assert time.monotonic() - t < 0.5
    blocking.join()


def test_pool_bounds_concurrent_calls_per_alias(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve({"models": {"one": {"binding": "echo", "config": {"delay": 0.05}, "concurrency": 1}}})
    client = openai.OpenAI(base_url=server.v1, api_key="x", max_retries=0)
    words = " ".join(["w"] * 10)  # 0.5 s each

    def ask() -> None:
        client.chat.completions.create(model="one", messages=[{"role": "user", "content": words}])

    threads = [threading.Thread(target=ask) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 1.4  # one worker: the three answers ran one after the other
