"""Generation on the real SmolLM2 GGUF: chat template, streaming, stopping, async, options, concurrency."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from llamacpp_probe import seconds_until_idle, slots_busy
from lollms_core.errors import NotSupportedError
from lollms_core.types import MSG_TYPE

pytestmark = pytest.mark.engine

GREEDY = {"temperature": 0.0, "seed": 7}
LONG = "Write a long story about a small dragon who learns to fly over the misty mountains at night."


def test_chat_uses_the_models_template(shared_binding: Any) -> None:
    # At temperature 0 the instruct model answers plainly only when its own chat template is applied.
    answer = shared_binding.generate_text("What is the capital of France? Answer in one word.", n_predict=20, **GREEDY)
    assert "Paris" in answer
    messages = [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Name the planet we live on."},
    ]
    assert "Earth" in shared_binding.generate_from_messages(messages, n_predict=20, **GREEDY)


def test_stream_chunks_add_up_to_the_blocking_answer(shared_binding: Any) -> None:
    blocking = shared_binding.generate_text("What is 2+2?", n_predict=20, **GREEDY)
    chunks = list(shared_binding.stream("What is 2+2?", n_predict=20, **GREEDY))
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 3, "llama.cpp streams token by token"
    assert "".join(texts) == blocking
    assert "4" in blocking
    # The last frame's finish reason and token counts reach the result.
    result = shared_binding.run(shared_binding.build_request("What is 2+2?", n_predict=20, **GREEDY))
    assert result.text == blocking
    assert result.finish_reason in ("stop", "length")
    end_of_turn = 1 if result.finish_reason == "stop" else 0  # the <|im_end|> token is counted, not shown
    assert result.usage["completion_tokens"] == shared_binding.count_tokens(blocking) + end_of_turn
    assert result.usage["prompt_tokens"] > shared_binding.count_tokens("What is 2+2?")  # the template's tokens


def test_callback_stop_after_n_chunks_stops_decoding(shared_binding: Any) -> None:
    seen: list[str] = []

    def stop_after_four(chunk: str, msg_type: MSG_TYPE) -> bool:
        seen.append(chunk)
        return len(seen) < 4

    t0 = time.perf_counter()
    out = shared_binding.generate_text(LONG, n_predict=400, streaming_callback=stop_after_four, **GREEDY)
    assert len(seen) == 4
    assert out == "".join(seen)
    # llama.cpp was told to stop, not drained: the slot is free within a token or two, while the
    # full 400-token answer below takes seconds.
    idle_after = seconds_until_idle(shared_binding)
    t_full = time.perf_counter()
    full = shared_binding.generate_text(LONG, n_predict=400, **GREEDY)
    assert idle_after * 10 < time.perf_counter() - t_full
    assert full.startswith(out)
    assert len(full) > len(out) * 5
    assert time.perf_counter() - t0 < 120


def test_breaking_out_of_the_iterator_frees_the_slot(shared_binding: Any) -> None:
    it = shared_binding.stream(LONG, n_predict=2000, **GREEDY)
    first = [next(it) for _ in range(3)]
    assert any(c.text for c in first)
    it.close()
    assert seconds_until_idle(shared_binding) < 2.0  # 2000 tokens would take 10 s or more


def test_cancel_stops_decoding_even_when_nobody_pulls(shared_binding: Any) -> None:
    it = shared_binding.stream(LONG, n_predict=2000, **GREEDY)
    next(it)
    shared_binding.cancel()  # nobody calls next() after this: the engine must stop by itself
    assert seconds_until_idle(shared_binding) < 2.0  # 2000 tokens would take 10 s or more
    it.close()


def test_async_forms_give_the_same_text(shared_binding: Any) -> None:
    prompt = "Which ocean is the largest?"
    blocking = shared_binding.generate_text(prompt, n_predict=16, **GREEDY)

    async def both() -> tuple[str, str]:
        text = await shared_binding.agenerate_text(prompt, n_predict=16, **GREEDY)
        streamed = "".join([c.text async for c in shared_binding.astream(prompt, n_predict=16, **GREEDY)])
        return text, streamed

    assert asyncio.run(both()) == (blocking, blocking)


def test_seed_and_temperature_reach_the_sampler(shared_binding: Any) -> None:
    hot = {"temperature": 1.2, "top_k": 100, "top_p": 1.0, "n_predict": 24}
    a = shared_binding.generate_text(LONG, seed=1, **hot)
    assert a == shared_binding.generate_text(LONG, seed=1, **hot)
    assert {
        a,
        shared_binding.generate_text(LONG, seed=2, **hot),
        shared_binding.generate_text(LONG, seed=3, **hot),
    } != {a}


def test_stop_strings_and_repeat_penalty_are_applied(shared_binding: Any) -> None:
    prompt = "Which ocean is the largest?"
    full = shared_binding.generate_text(prompt, n_predict=30, **GREEDY)
    assert "Pacific" in full
    cut = shared_binding.generate_text(prompt, n_predict=30, stop=["Pacific"], **GREEDY)
    assert "Pacific" not in cut
    assert full.startswith(cut)
    penalised = shared_binding.generate_text(LONG, n_predict=60, repeat_penalty=1.8, repeat_last_n=64, **GREEDY)
    assert penalised != shared_binding.generate_text(LONG, n_predict=60, **GREEDY)


def test_concurrent_requests_share_one_model(shared_binding: Any) -> None:
    engine = shared_binding._engine
    busy_when_both_streamed: list[int] = []
    # Each stream waits, after its first chunk, until the other has one too; at that moment the
    # engine's slots are read once. Served one after the other, the first would have finished its
    # 400 tokens (one slot busy) before the second began, or the barrier would time out.
    both_streaming = threading.Barrier(2, action=lambda: busy_when_both_streamed.append(slots_busy(shared_binding)))
    results: dict[int, str] = {}

    def first_chunk_then_stop(chunk: str, msg_type: MSG_TYPE) -> bool:
        if chunk:
            both_streaming.wait(timeout=60)
        return not chunk

    def run(i: int) -> None:
        results[i] = shared_binding.generate_text(
            LONG, n_predict=400, streaming_callback=first_chunk_then_stop, **GREEDY
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2
    assert all(results.values())
    assert busy_when_both_streamed == [2], "both requests should decode at the same time on the two slots"
    assert shared_binding._engine is engine, "a concurrent request must not load the model again"


def test_images_without_a_projector_are_refused_clearly(shared_binding: Any, gguf_path: Any) -> None:
    with pytest.raises(NotSupportedError, match="mmproj"):
        shared_binding.generate_text("What is in this picture?", images=[b"\x89PNG\r\n\x1a\n" + b"\0" * 32])
