"""Model listing (/api/tags, /api/ps, /api/show), pulls with progress, embeddings, token honesty."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from lollms_core.errors import ServerError
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]


def test_list_models_reports_the_gguf_facts(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    models = make_binding().list_models()
    assert [m["model_name"] for m in models] == ["smollm2:135m"]
    model = models[0]
    assert model["size"] == ollama_server.facts.path.stat().st_size
    assert model["family"] == "llama"
    assert model["parameter_size"] == "134.52M"
    assert model["quantization"] == "Q4_1"
    assert model["format"] == "gguf"


def test_model_info_has_context_capabilities_and_an_honest_tokenizer(make_binding: Make) -> None:
    info = make_binding().get_model_info()
    assert info["model_name"] == "smollm2:135m"
    assert info["context_length"] == 8192
    assert info["capabilities"] == ["completion"]
    assert info["supports_vision"] is False
    assert info["supports_thinking"] is False
    assert info["token_counts_exact"] is False
    assert "approximate" in info["tokenizer"]
    thinker = make_binding(model_name="scripted-thinker").get_model_info()
    assert thinker["supports_vision"] is True
    assert thinker["supports_thinking"] is True


def test_load_model_checks_the_server(make_binding: Make) -> None:
    binding = make_binding()
    assert binding.load_model("scripted-thinker") is True
    assert binding.model_name == "scripted-thinker"
    assert binding.load_model("nope:1b") is False
    assert binding.model_name == "scripted-thinker"


def test_embed_batch_is_one_request(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding()
    before = ollama_server.records.hits["/api/embed"]
    vectors = binding.embed(["the cat sat", "the cat sat", "stock markets fell sharply"])
    assert ollama_server.records.hits["/api/embed"] - before == 1
    assert len(vectors) == 3
    assert len(vectors[0]) == 576  # SmolLM2-135M's embedding_length
    assert vectors[0] == pytest.approx(vectors[1])
    assert vectors[0] != pytest.approx(vectors[2])
    single = binding.embed("the cat sat")
    assert single == pytest.approx(vectors[0], abs=1e-5)
    assert math.isfinite(sum(single))


def test_keep_alive_controls_what_ps_reports(make_binding: Make) -> None:
    binding = make_binding(keep_alive="10m")
    binding.generate_text("Hi", n_predict=2)
    running = binding.list_running_models()
    assert [m["model_name"] for m in running] == ["smollm2:135m"]
    assert running[0]["expires_at"]
    assert running[0]["context_length"] > 0
    binding.generate_text("Hi", n_predict=2, keep_alive="0")  # a per-call keep_alive of 0 unloads
    assert binding.list_running_models() == []


def test_pull_model_reports_progress_until_success(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    statuses: list[dict[str, Any]] = []
    assert make_binding().pull_model("smollm2:135m", statuses.append) is True
    downloads = [s for s in statuses if "completed" in s]
    assert statuses[0]["status"] == "pulling manifest"
    assert statuses[-1]["status"] == "success"
    assert [s["completed"] for s in downloads] == sorted(s["completed"] for s in downloads)
    assert downloads[-1]["completed"] == downloads[-1]["total"] == ollama_server.facts.size
    assert downloads[-1]["digest"] == f"sha256:{ollama_server.facts.digest}"


def test_pull_can_be_stopped_by_the_callback(make_binding: Make) -> None:
    seen: list[dict[str, Any]] = []

    def stop_at_first_download(status: dict[str, Any]) -> bool:
        seen.append(status)
        return "completed" not in status

    assert make_binding().pull_model("smollm2:135m", stop_at_first_download) is False
    assert "completed" in seen[-1]
    assert all(s["status"] != "success" for s in seen)


def test_pull_of_an_unknown_model_raises_the_server_message(make_binding: Make) -> None:
    with pytest.raises(ServerError, match="pulling 'nope:1b' failed: pull model manifest: file does not exist"):
        make_binding().pull_model("nope:1b")


def test_token_counts_are_tiktoken_approximations(make_binding: Make) -> None:
    binding = make_binding()
    tokens = binding.tokenize("Hello world")
    assert binding.detokenize(tokens) == "Hello world"
    assert binding.count_tokens("Hello world") == len(tokens) == 2  # cl100k_base: "Hello", " world"
