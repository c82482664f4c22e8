"""The native async path (``_astream`` on httpx.AsyncClient): same chunks, same errors, same stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lollms_core import MSG_TYPE
from ollama_scripted import THINKING_FRAMES
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]


def test_async_stream_matches_sync_and_keeps_thoughts_apart(make_binding: Make) -> None:
    binding = make_binding(model_name="scripted-thinker")

    async def collect() -> list[Any]:
        return [chunk async for chunk in binding.astream("Hi", think="true")]

    chunks = asyncio.run(collect())
    thoughts = [c.text for c in chunks if c.type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK]
    assert thoughts == THINKING_FRAMES
    answer = "".join(c.text for c in chunks if c.type == MSG_TYPE.MSG_TYPE_CHUNK)
    assert answer == binding.generate_text("Hi", think="true")


def test_async_missing_model_gives_the_seed_error_dict(make_binding: Make) -> None:
    result = asyncio.run(make_binding(model_name="nope:3b").agenerate_text("Hi"))
    assert result["error_type"] == "NotFoundError"
    assert "lollms models pull -b ollama nope:3b" in result["error"]


def test_leaving_an_async_stream_closes_the_connection(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    records = ollama_server.records
    before = len(records.early_closes)
    binding = make_binding()

    async def take_two() -> list[str]:
        got: list[str] = []
        stream = binding.astream("Write a long story about a lighthouse.", n_predict=300)
        async for chunk in stream:
            got.append(chunk.text)
            if len(got) == 2:
                break
        await stream.aclose()
        return got

    assert len(asyncio.run(take_two())) == 2
    assert records.wait_for_early_close(before + 1), "the server never saw the async client close the stream"
    assert records.early_closes[before]["frames_sent"] < 50
