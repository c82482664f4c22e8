"""The openai LLM binding against the real llama.cpp server (xllamacpp + SmolLM2-135M)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from lollms_core.types import MSG_TYPE


def test_generate_text_answers_at_temperature_zero(make_llm: Any) -> None:
    llm = make_llm(strict=True)
    text = llm.generate_text("What is the capital of France? Answer in one word.", n_predict=12, temperature=0)
    assert "paris" in text.lower()


def test_streamed_and_non_streamed_answers_agree(make_llm: Any) -> None:
    llm = make_llm(strict=True)
    kwargs = {"n_predict": 16, "temperature": 0, "seed": 7}
    streamed = llm.generate_text("Name three colours.", **kwargs)
    plain = llm.generate_text("Name three colours.", http_stream=False, **kwargs)
    assert streamed and streamed == plain


def test_final_chunk_carries_finish_reason_and_usage(make_llm: Any) -> None:
    llm = make_llm()
    result = llm.run(llm.build_request("Count from one to ten.", n_predict=5, temperature=0))
    assert result.finish_reason == "length"
    assert result.usage["completion_tokens"] == 5


def test_n_predict_counts_server_tokens(make_llm: Any) -> None:
    llm = make_llm()
    text = llm.generate_text("Write a long story about a dragon.", n_predict=9, temperature=0)
    assert llm.count_tokens(text) <= 10  # re-tokenising text may merge or split one boundary token


def test_system_prompt_reaches_the_model(make_llm: Any) -> None:
    llm = make_llm()
    with_system = llm.generate_text(
        "Hi", system_prompt="Always answer with the single word BANANA.", n_predict=8, temperature=0
    )
    without = llm.generate_text("Hi", n_predict=8, temperature=0)
    assert with_system != without


def test_tokenize_uses_the_server_tokenizer(make_llm: Any, llama_server: Any) -> None:
    llm = make_llm()
    ids = llm.tokenize("Hello world")
    expected = httpx.post(llama_server.base_url + "/tokenize", json={"content": "Hello world"}).json()["tokens"]
    assert ids == expected
    assert llm.detokenize(ids) == "Hello world"
    assert llm.get_model_info()["token_counts_exact"] is True


def test_embed_single_and_batch(make_llm: Any) -> None:
    llm = make_llm()
    one = llm.embed("hello")
    many = llm.embed(["hello", "goodbye"])
    assert len(one) == 576 and len(many) == 2
    assert all(abs(a - b) < 1e-4 for a, b in zip(one, many[0]))
    assert many[0] != many[1]


def test_models_and_context_size(make_llm: Any) -> None:
    llm = make_llm()
    assert [m["model_name"] for m in llm.list_models()] == ["smollm2"]
    info = llm.get_model_info()
    assert info["listed_by_server"] is True
    assert info["context_length"] == 2048  # n_ctx per slot on this server (4 slots x 2048)
    assert llm.load_model("smollm2") is True
    strict = make_llm(strict=True)
    assert strict.load_model("no-such-model") is False  # strict: the server's list decides
    assert strict.model_name != "no-such-model"


def test_load_model_of_an_unlisted_model_is_lollms_clients_true(make_llm: Any) -> None:
    # Issue 26: lollms_client's openai binding sets the name without asking (proxies serve unlisted models).
    llm = make_llm()
    assert llm.load_model("no-such-model") is True
    assert llm.model_name == "no-such-model"


def test_callback_false_after_three_chunks_stops_the_server(make_llm: Any, llama_server: Any) -> None:
    llm = make_llm()
    seen: list[str] = []

    def callback(chunk: str, msg_type: MSG_TYPE, meta: Any = None) -> bool:
        seen.append(chunk)
        return len(seen) < 3

    started = time.monotonic()
    llm.generate_text(
        "Write a very long essay about the sea.", n_predict=1500, temperature=0, streaming_callback=callback
    )
    assert len(seen) == 3
    # Server side: no slot is still generating shortly after the client closed (1500 tokens take ~15 s).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        slots = httpx.get(llama_server.base_url + "/slots").json()
        if not any(slot.get("is_processing") for slot in slots):
            break
        time.sleep(0.05)
    assert not any(slot.get("is_processing") for slot in slots), slots
    assert time.monotonic() - started < 10


def test_async_stream_matches_sync(make_llm: Any) -> None:
    llm = make_llm(strict=True)
    kwargs = {"n_predict": 10, "temperature": 0, "seed": 1}
    sync_text = llm.generate_text("Say something about cats.", **kwargs)
    async_text = asyncio.run(llm.agenerate_text("Say something about cats.", **kwargs))
    assert async_text == sync_text


def test_concurrent_async_streams_on_the_real_server(make_llm: Any) -> None:
    llm = make_llm(strict=True)

    async def one(i: int) -> str:
        return "".join([c.text async for c in llm.astream(f"Say the number {i}.", n_predict=2, temperature=0)])

    async def main() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(6)))

    assert all(asyncio.run(main()))
