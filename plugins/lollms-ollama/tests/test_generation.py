"""Generation through /api/chat and /api/generate: options, streaming meta, thinking, images, formats."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from lollms_core import MSG_TYPE
from lollms_core.errors import BackendError
from ollama_scripted import THINKING_FRAMES
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]
GREEDY = {"temperature": 0.0, "seed": 7}


def _collect(binding: Any, prompt: str, **kwargs: Any) -> list[tuple[str, MSG_TYPE, dict[str, Any]]]:
    seen: list[tuple[str, MSG_TYPE, dict[str, Any]]] = []

    def callback(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool:
        seen.append((chunk, msg_type, dict(meta or {})))
        return True

    binding.generate_text(prompt, streaming_callback=callback, **kwargs)
    return seen


def test_sampling_options_reach_ollama_under_its_names(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding(keep_alive="7m")
    binding.generate_text(
        "Say hello.",
        n_predict=5,
        ctx_size=1024,
        temperature=0.3,
        top_k=20,
        top_p=0.9,
        repeat_penalty=1.1,
        repeat_last_n=32,
        seed=11,
        n_threads=2,
        stop=["\n\n"],
        streaming_callback=lambda *_: None,  # consumed chunks: a stream
    )
    body = ollama_server.records.last("/api/chat")["body"]
    assert body["options"] == {
        "num_predict": 5,
        "num_ctx": 1024,
        "temperature": 0.3,
        "top_k": 20,
        "top_p": 0.9,
        "repeat_penalty": 1.1,
        "repeat_last_n": 32,
        "seed": 11,
        "num_thread": 2,
        "stop": ["\n\n"],
    }
    assert body["keep_alive"] == "7m"
    assert body["stream"] is True
    assert "think" not in body, "think must only be sent when asked for (non-thinking models reject it)"


def test_a_blocking_call_asks_for_one_json_body(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding()
    text = binding.generate_text("Say hello.", n_predict=4)
    assert isinstance(text, str) and text
    assert ollama_server.records.last("/api/chat")["body"]["stream"] is False  # nobody consumed chunks
    seen: list[str] = []
    assert binding.generate_text("Say hello.", n_predict=4, streaming_callback=lambda c, *_: seen.append(c))
    assert ollama_server.records.last("/api/chat")["body"]["stream"] is True and seen


def test_unset_options_are_left_to_the_server(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    make_binding().generate_text("Hi", n_predict=3)
    assert ollama_server.records.last("/api/chat")["body"]["options"] == {"num_predict": 3}


def test_last_chunk_meta_carries_usage_durations_and_tokens_per_second(make_binding: Make) -> None:
    binding = make_binding()
    request = binding.build_request("Name a colour.", n_predict=6, **GREEDY)
    final = list(binding._stream(request))[-1]
    assert final.text == ""
    meta = final.meta
    assert meta["finish_reason"] in ("stop", "length")
    usage = meta["usage"]
    assert usage["prompt_tokens"] > 0
    assert 0 < usage["completion_tokens"] <= 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert meta["eval_duration"] > 0
    assert meta["tokens_per_second"] == pytest.approx(usage["completion_tokens"] / meta["eval_duration"] * 1e9)
    # The base folds the final meta into the call's result.
    result = binding.run(binding.build_request("Name a colour.", n_predict=6, **GREEDY))
    assert result.finish_reason == meta["finish_reason"]
    assert result.usage["completion_tokens"] == usage["completion_tokens"]
    assert result.usage["tokens_per_second"] > 0


def test_each_chunk_arrives_exactly_once(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    """The lollms_client Ollama binding emitted every chunk twice; compare with the raw NDJSON frames."""
    prompt = "List three fruits."
    seen = _collect(make_binding(), prompt, n_predict=16, **GREEDY)
    body = {
        "model": ollama_server.model_name,
        "messages": [{"role": "user", "content": prompt}],
        "options": {"num_predict": 16, "temperature": 0.0, "seed": 7},
    }
    with httpx.stream("POST", ollama_server.url + "/api/chat", json=body, timeout=60) as response:
        frames = [json.loads(line) for line in response.iter_lines() if line]
    raw_pieces = [f["message"]["content"] for f in frames if f["message"]["content"]]
    assert [text for text, _, _ in seen if text] == raw_pieces
    assert len(raw_pieces) >= 3


def test_thinking_arrives_as_thought_chunks_once_each(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    seen = _collect(make_binding(model_name="scripted-thinker"), "How many images?", think="true")
    thoughts = [t for t, kind, _ in seen if kind == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK]
    answer = "".join(t for t, kind, _ in seen if kind == MSG_TYPE.MSG_TYPE_CHUNK)
    assert thoughts == THINKING_FRAMES
    assert answer == "I received 0 image(s) totalling 0 bytes."
    assert ollama_server.records.last("/api/chat")["body"]["think"] is True


@pytest.mark.parametrize(("given", "sent"), [("false", False), ("low", "low"), ("high", "high")])
def test_think_values_are_passed_through(
    make_binding: Make, ollama_server: OllamaTestServer, given: str, sent: Any
) -> None:
    seen = _collect(make_binding(model_name="scripted-thinker"), "Hi", think=given)
    assert ollama_server.records.last("/api/chat")["body"]["think"] == sent
    has_thoughts = any(kind == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK for _, kind, _ in seen)
    assert has_thoughts is (sent is not False)


def test_thinking_on_a_model_without_it_is_a_backend_error(make_binding: Make) -> None:
    binding = make_binding(strict=True)
    with pytest.raises(BackendError, match="does not support thinking") as caught:
        binding.generate_text("Hi", think="true")
    assert caught.value.status_code == 400


def test_images_are_sent_as_plain_base64(make_binding: Make, ollama_server: OllamaTestServer, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    path = tmp_path / "pixel.png"
    path.write_bytes(png * 2)
    binding = make_binding(model_name="scripted-thinker")
    answer = binding.generate_text("Describe.", images=[png, path])
    assert answer == f"I received 2 image(s) totalling {len(png) * 3} bytes."
    sent = ollama_server.records.last("/api/chat")["body"]["messages"][-1]["images"]
    assert [base64.b64decode(s) for s in sent] == [png, png * 2]
    assert not any(s.startswith("data:") for s in sent)


def test_system_prompt_is_the_first_message(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    make_binding().generate_text("Hi", system_prompt="You are terse.", n_predict=2)
    messages = ollama_server.records.last("/api/chat")["body"]["messages"]
    assert messages[0] == {"role": "system", "content": "You are terse."}
    assert messages[-1] == {"role": "user", "content": "Hi"}


def test_json_mode_returns_json(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding()
    out = binding.generate_text('Reply with this JSON: {"colour": "red"}', format="json", n_predict=120, **GREEDY)
    assert ollama_server.records.last("/api/chat")["body"]["format"] == "json"
    assert isinstance(json.loads(out), dict)


def test_json_schema_structured_output(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    out = make_binding().generate_text(
        "Ollama is 22 years old. Give his age as JSON.", json_schema=schema, n_predict=40
    )
    assert ollama_server.records.last("/api/chat")["body"]["format"] == schema
    assert isinstance(json.loads(out)["age"], int)


def test_raw_completion_uses_api_generate(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    out = make_binding().generate_text("The capital of France is", raw=True, n_predict=4, **GREEDY)
    body = ollama_server.records.last("/api/generate")["body"]
    assert body["raw"] is True
    assert body["prompt"] == "The capital of France is"
    assert "Paris" in out
