"""Concurrency: blocking bindings off the event loop, and a client that leaves stops its generation.

Assertions are about order and counts seen by a generation observer (a server plugin), never
about wall-clock time: the machine may be loaded.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from . import observer_plugin
from .conftest import Running

WORDS = " ".join(f"w{i}" for i in range(40))  # 40 chunks


def config(delay: float, concurrency: int) -> dict[str, Any]:
    return {
        "server": {"plugins": ["tests.observer_plugin"]},
        "models": {"slow": {"binding": "echo", "config": {"delay": delay}, "concurrency": concurrency}},
    }


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    observer_plugin.EVENTS.clear()


def wait_for(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def chunks_per_call() -> dict[int, int]:
    counts: dict[int, int] = {}
    for event in list(observer_plugin.EVENTS):
        counts.setdefault(event.call_id, 0)
        counts[event.call_id] += event.kind == "chunk"
    return counts


def test_32_streams_one_client_killed_mid_stream_stops_its_generation(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(config(0.05, 32))
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
        async with httpx.AsyncClient(timeout=120, limits=limits) as c1, httpx.AsyncClient(timeout=120) as c2:
            fulls = [asyncio.ensure_future(full(c1)) for _ in range(31)]
            seen = await killed(c2)
            return await asyncio.gather(*fulls), seen

    answers, seen = asyncio.run(run())
    assert seen == 4
    assert all(a.count("w39") == 1 for a in answers)  # the 31 others got every chunk
    # The killed one: its upstream stream was closed, and nothing is left running on the host.
    assert wait_for(lambda: server.state.hosts["slow"].active == 0)
    assert binding.streams_opened == 32 and binding.streams_closed == 32
    counts = sorted(chunks_per_call().values())
    assert len(counts) == 32 and counts[1:] == [40] * 31
    assert counts[0] < 20  # the killed client's generation stopped early (it read 3 chunks), not at 40
    kinds = [e.kind for e in observer_plugin.EVENTS if e.kind != "chunk"]
    assert kinds[:32] == ["start"] * 32  # all 32 ran at once: every one started before any ended


def test_a_blocking_binding_does_not_block_the_event_loop(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(config(0.1, 4))
    body = {"model": "slow", "messages": [{"role": "user", "content": WORDS}]}
    blocking = threading.Thread(target=lambda: httpx.post(f"{server.v1}/chat/completions", json=body, timeout=120))
    blocking.start()
    assert wait_for(lambda: any(e.kind == "chunk" for e in observer_plugin.EVENTS))
    health = httpx.get(f"{server.url}/health", timeout=30).json()
    # /health was answered by the event loop while the blocking generation was still running.
    assert health["models"]["slow"]["active"] == 1
    blocking.join()
    assert [e.kind for e in observer_plugin.EVENTS][-1] == "end"


def test_pool_bounds_concurrent_calls_per_alias(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(config(0.02, 1))
    body = {"model": "slow", "messages": [{"role": "user", "content": "a b c d e"}]}
    threads = [
        threading.Thread(target=lambda: httpx.post(f"{server.v1}/chat/completions", json=body, timeout=120))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = [e.kind for e in observer_plugin.EVENTS if e.kind != "chunk"]
    assert kinds == ["start", "end"] * 3  # one worker: each call started after the previous one ended


def test_closing_a_host_cancels_what_still_runs_on_it() -> None:
    """Shutdown must not wait for a long answer: the pool's threads are joined at exit."""
    from lollms_core import get_registry
    from lollms_core.errors import GenerationCancelled
    from lollms_core.types import ChatRequest, Modality
    from lollms_server.hosts import ModelHost

    def make() -> Any:
        return get_registry().get(Modality.LLM, "echo").create(delay=0.05)

    host = ModelHost("slow", Modality.LLM, "echo", make)
    request = ChatRequest(messages=[{"role": "user", "content": WORDS}])
    outcome: list[Any] = []

    async def ask() -> None:
        try:
            outcome.append(await host.generate(request))
        except GenerationCancelled as exc:
            outcome.append(exc)

    runner = threading.Thread(target=lambda: asyncio.run(ask()))
    runner.start()
    assert wait_for(lambda: host.binding is not None and host.binding.streams_opened == 1)
    host.close()
    runner.join(30)
    assert isinstance(outcome[0], GenerationCancelled)
    assert outcome[0].partial_text.count("w") < 40  # stopped before the end of the 40-word answer


def test_native_async_binding_leaving_client_closes_the_upstream_http_stream(serve) -> None:  # type: ignore[no-untyped-def]
    """Server B serves our openai binding (native async) in front of server A (echo): a client leaving B
    mid-stream cancels B's task, which closes its HTTP stream to A, whose echo generation then stops."""
    upstream: Running = serve(config(0.05, 4))
    front: Running = serve({"models": {"relay": {"binding": "openai", "config": {"host_address": upstream.v1,
                                                                                  "model_name": "slow"}}}})  # fmt: skip
    assert front.state.hosts["relay"].native_async
    body = {"model": "relay", "messages": [{"role": "user", "content": WORDS}], "stream": True}
    with httpx.stream("POST", f"{front.v1}/chat/completions", json=body, timeout=120) as answer:
        seen = 0
        for line in answer.iter_lines():
            seen += line.startswith("data: {")
            if seen == 4:
                break
    echo = upstream.binding("slow")
    assert wait_for(lambda: echo.streams_closed == 1 and front.state.hosts["relay"].active == 0)
    assert wait_for(lambda: upstream.state.hosts["slow"].active == 0)
    chunks = [e for e in observer_plugin.EVENTS if e.kind == "chunk" and e.binding == "echo"]
    assert len(chunks) < 40  # the echo upstream stopped early, not at the end of its answer
