"""Generation on the real SmolLM2 (GGUF dequantized by transformers): answers, options, stopping, queueing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from lollms_core.errors import ConfigError, GenerationCancelled, NotSupportedError
from lollms_core.types import MSG_TYPE, ToolDefinition

GREEDY = {"temperature": 0.0, "n_predict": 24}
WEATHER_TOOL = ToolDefinition(
    "get_weather",
    "Get the current weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
STORY = "Write a long story about a small dragon who learns to fly over the misty mountains at night."


def test_greedy_answer_is_the_capital(shared_binding: Any) -> None:
    """The model's own chat template is applied: the instruct model answers the question."""
    answer = shared_binding.generate_text("What is the capital of France?", n_predict=16, temperature=0.0)
    assert isinstance(answer, str)
    assert "Paris" in answer


def test_temperature_zero_is_greedy_decoding_as_model_generate_does_it(shared_binding: Any) -> None:
    """temperature 0 maps to do_sample=False: the text equals transformers' own greedy generate."""
    import torch

    loaded = shared_binding._loaded
    messages = [{"role": "user", "content": STORY}]
    enc = loaded.tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    with torch.inference_mode():
        out = loaded.model.generate(**enc, max_new_tokens=12, do_sample=False)
    raw = loaded.tokenizer.decode(out[0][enc["input_ids"].shape[-1] :], skip_special_tokens=True)
    ours = shared_binding.generate_text(STORY, n_predict=12, temperature=0.0)
    assert ours == raw


def test_same_seed_same_sample(shared_binding: Any) -> None:
    """With sampling on, a seed makes the draw repeatable."""
    options = {"temperature": 1.2, "top_k": 50, "top_p": 0.95, "seed": 1234, "n_predict": 12}
    first = shared_binding.generate_text(STORY, **options)
    assert shared_binding.generate_text(STORY, **options) == first


def test_usage_and_finish_reason(shared_binding: Any) -> None:
    """The last chunk carries token counts; hitting n_predict is finish_reason 'length'."""
    result = shared_binding.run(shared_binding.build_request(STORY, n_predict=5, temperature=0.0))
    assert result.finish_reason == "length"
    assert result.usage["completion_tokens"] == 5
    assert result.usage["prompt_tokens"] > 10
    assert result.usage["total_tokens"] == result.usage["prompt_tokens"] + 5


def test_stop_sequence_cuts_the_text_and_ends_decoding(shared_binding: Any) -> None:
    """A stop string is not shown, nothing after it either, and decoding ends at the next token."""
    full = shared_binding.generate_text(STORY, **GREEDY)
    words = full.split()
    assert len(words) >= 6, full
    stop_word = words[len(words) // 2]
    expected = full[: full.index(stop_word)]
    result = shared_binding.run(shared_binding.build_request(STORY, stop=[stop_word], **GREEDY))
    assert result.text == expected
    assert result.finish_reason == "stop"
    run = shared_binding._last_run
    assert run.overrun is not None
    assert run.overrun <= 1, f"decoding went {run.overrun} tokens past the stop sequence"


def test_callback_false_stops_decoding_within_one_token(shared_binding: Any) -> None:
    """The worker thread stops at the next token: a StoppingCriteria, not a queue drained to the end."""
    seen: list[str] = []

    def two_chunks(chunk: str, msg_type: MSG_TYPE) -> bool:
        seen.append(chunk)
        return len(seen) < 2

    out = shared_binding.generate_text(STORY, streaming_callback=two_chunks, n_predict=200, temperature=0.0)
    assert out == "".join(seen)
    run = shared_binding._last_run
    assert run.overrun is not None
    assert run.overrun <= 1, f"decoding went {run.overrun} tokens past the stop"
    assert run.completion_tokens < 20, "the worker kept decoding after the callback said stop"


def test_cancel_from_another_thread_stops_within_one_token(shared_binding: Any) -> None:
    """cancel() ends a running generation with GenerationCancelled; decoding stops at the next token."""
    stream = shared_binding.stream(STORY, n_predict=200, temperature=0.0)
    first = next(stream)
    assert first.text
    canceller = threading.Thread(target=shared_binding.cancel)
    canceller.start()
    canceller.join(10)
    with pytest.raises(GenerationCancelled):
        for _ in stream:
            pass
    run = shared_binding._last_run
    assert run.overrun is not None
    assert run.overrun <= 1
    assert run.completion_tokens < 40


def test_concurrent_callers_queue_and_both_get_their_answer(shared_binding: Any) -> None:
    """Two threads at once: the second waits its turn (one generation at a time), both answers are right."""
    alone = shared_binding.generate_text("What is the capital of France?", n_predict=12, temperature=0.0)
    results: dict[str, Any] = {}
    second_waited = threading.Event()

    def first_callback(chunk: str, msg_type: MSG_TYPE) -> bool:
        # Hold the first generation until the second caller is queued behind it.
        deadline = time.monotonic() + 30
        while shared_binding._turns.waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if shared_binding._turns.waiting:
            second_waited.set()
        return True

    def run(name: str, callback: Any) -> None:
        results[name] = shared_binding.generate_text(
            "What is the capital of France?", n_predict=12, temperature=0.0, streaming_callback=callback
        )

    first = threading.Thread(target=run, args=("first", first_callback))
    first.start()
    while shared_binding._loaded is not None and not shared_binding._stops:
        time.sleep(0.01)
    second = threading.Thread(target=run, args=("second", None))
    second.start()
    first.join(300)
    second.join(300)
    assert second_waited.is_set(), "the second caller never queued behind the first"
    assert results == {"first": alone, "second": alone}


def test_cancel_reaches_callers_waiting_for_their_turn(shared_binding: Any) -> None:
    """cancel() also ends a queued call, which raises GenerationCancelled without having run."""
    outcomes: dict[str, BaseException | str] = {}
    started = threading.Event()

    def run(name: str) -> None:
        try:
            outcomes[name] = shared_binding.generate_text(
                STORY, n_predict=300, temperature=0.0, streaming_callback=lambda c, t: started.set() or True
            )
        except BaseException as exc:
            outcomes[name] = exc

    first = threading.Thread(target=run, args=("running",))
    first.start()
    assert started.wait(120)
    second = threading.Thread(target=run, args=("queued",))
    second.start()
    deadline = time.monotonic() + 30
    while shared_binding._turns.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert shared_binding._turns.waiting == 1
    shared_binding.cancel()
    first.join(60)
    second.join(60)
    assert isinstance(outcomes["running"], GenerationCancelled)
    assert isinstance(outcomes["queued"], GenerationCancelled)
    assert shared_binding._turns.waiting == 0
    assert shared_binding.generate_text("Hi", n_predict=2, temperature=0.0)  # the binding still works


def test_prompt_longer_than_ctx_size_is_a_config_error(shared_binding: Any) -> None:
    """ctx_size bounds prompt + answer; a prompt that fills it alone is refused, naming both sizes."""
    with pytest.raises(ConfigError, match="ctx_size is 16"):
        shared_binding.generate_text(STORY, ctx_size=16, n_predict=4)
    result = shared_binding.run(shared_binding.build_request("Hi", ctx_size=40, temperature=0.0))
    assert result.usage["total_tokens"] <= 40


def test_images_without_a_processor_are_not_supported(shared_binding: Any, tmp_path: Any) -> None:
    """A text-only model refuses images with NotSupportedError naming the model."""
    from PIL import Image

    image = tmp_path / "red.png"
    Image.new("RGB", (8, 8), "red").save(image)
    with pytest.raises(NotSupportedError, match="cannot read images"):
        shared_binding.generate_text("What colour is this?", images=[str(image)], n_predict=4)


def test_embeddings_are_mean_pooled_with_padding_masked(shared_binding: Any) -> None:
    """A text's vector is the same alone or batched with a longer text (padding does not leak in)."""
    import math

    alone = shared_binding.embed("The cat sat on the mat.")
    batch = shared_binding.embed(["The cat sat on the mat.", "A much longer sentence about quantum physics, " * 4])
    assert len(alone) == shared_binding._loaded.model.config.hidden_size
    assert all(math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-4) for a, b in zip(alone, batch[0]))
    assert batch[0] != batch[1]


def test_tokens_come_from_the_models_own_tokenizer(shared_binding: Any) -> None:
    """tokenize/detokenize/count_tokens agree with the tokenizer transformers loaded from the GGUF."""
    text = "Tokenizers split text into pieces."
    tokenizer = shared_binding._loaded.tokenizer
    assert shared_binding.tokenize(text) == tokenizer.encode(text, add_special_tokens=False)
    assert shared_binding.count_tokens(text) == len(tokenizer.encode(text, add_special_tokens=False))
    assert shared_binding.detokenize(shared_binding.tokenize(text)) == text


def test_model_info_describes_the_loaded_model(shared_binding: Any, gguf_path: Any) -> None:
    """Context length, parameter count, dtype, device; SmolLM2's template has no tools."""
    info = shared_binding.get_model_info()
    assert info["source"] == "gguf"
    assert info["gguf_file"] == gguf_path.name
    assert info["n_ctx_train"] == 8192
    assert info["n_ctx"] == 8192
    assert 130e6 < info["n_params"] < 140e6
    assert info["dtype"] == "float32"
    assert info["device"] == "cpu"
    assert info["architecture"] == "llama"
    assert info["has_chat_template"] is True
    assert info["supports_tools"] is False
    assert info["vision"] is False
    assert info["memory_bytes"] > 400e6


def test_json_schema_constrains_the_real_model(shared_binding: Any) -> None:
    """json_schema: the answer parses and matches the schema (llguidance masks every other token)."""
    import json

    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    prompt = "Describe a person named Ana who is 30 years old, as JSON with her name and age."
    free = shared_binding.generate_text(prompt, n_predict=40, temperature=0.0)
    result = shared_binding.run(shared_binding.build_request(prompt, json_schema=schema, n_predict=40, temperature=0.0))
    value = json.loads(result.text)
    assert set(value) == {"name", "age"}
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int)
    assert result.text != free, "the constraint changed nothing (unconstrained, this model adds a key)"


def test_smollm2_reports_no_native_tools_and_refuses_them(shared_binding: Any) -> None:
    """Its template has no tools: supports_tools is False and tools= is refused, pointing to tool_mode='prompt'."""
    assert shared_binding.supports_tools() is False
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        shared_binding.generate_text("Weather in Paris?", tools=[WEATHER_TOOL], n_predict=4)


def test_a_tool_template_gets_the_tools_and_required_calls_are_well_formed(tools_binding: Any) -> None:
    """Tools reach apply_chat_template; tool_choice='required' yields a parsed call (constrained decoding)."""
    assert tools_binding.supports_tools() is True
    request = tools_binding.build_request(
        "Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="get_weather", parallel_tool_calls=False,
        n_predict=48, temperature=0.0,
    )  # fmt: skip
    result = tools_binding.run(request)
    prompt = tools_binding._loaded.tokenizer.decode(tools_binding._last_run.inputs["input_ids"][0])
    assert '"name": "get_weather"' in prompt
    assert "<tools>" in prompt
    assert [call.name for call in result.tool_calls] == ["get_weather"]
    assert result.finish_reason == "tool_calls"
    assert "<tool_call>" not in result.text
    # Random weights never end the city's string, but the grammar shaped everything before it.
    call = result.tool_calls[0]
    assert (call.raw_arguments or "").startswith(('{"city":"', '{"name":"get_weather","arguments":{"city":"'))


def test_the_tool_call_grammar_takes_a_well_formed_call_and_nothing_else(tools_binding: Any) -> None:
    """The constraint for tool_choice='required': a <tool_call> block naming an offered tool, compact JSON."""
    import llguidance
    from lollms_transformers.llm.structured import guidance_tokenizer, tool_call_grammar

    tokenizer = tools_binding._loaded.tokenizer
    lltok = guidance_tokenizer(tokenizer)

    def accepts(text: str) -> bool:
        matcher = llguidance.LLMatcher(lltok, tool_call_grammar([WEATHER_TOOL], "required", False), log_level=0)
        ids = tokenizer.encode(text, add_special_tokens=False)
        return bool(matcher.try_consume_tokens(ids) == len(ids) and matcher.is_accepting())

    assert accepts('<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>')
    assert not accepts('<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>')
    assert not accepts('<tool_call>\n{"name":"get_weather","arguments":{}}\n</tool_call>'), "city is required"
    assert not accepts('<tool_call>\n{ "name":"get_weather","arguments":{"city":"P"}}\n</tool_call>')
    assert not accepts("Paris is sunny.")
    with pytest.raises(ConfigError, match="names no offered tool"):
        tool_call_grammar([WEATHER_TOOL], "get_time", None)
