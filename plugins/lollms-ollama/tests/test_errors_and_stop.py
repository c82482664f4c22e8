"""Failures are typed and say what was tried; a stop reaches the server; auth and host settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lollms_core import MSG_TYPE
from lollms_core.errors import BackendConnectionError, ConfigError, NotFoundError, ServerError
from lollms_ollama.llm.wire import normalise_host
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]


def test_server_down_names_the_address(make_binding: Make, dead_url: str) -> None:
    binding = make_binding(host_address=dead_url, max_retries=0, strict=True)
    with pytest.raises(BackendConnectionError, match=dead_url.replace(".", r"\.")):
        binding.generate_text("Hi")
    with pytest.raises(BackendConnectionError, match="cannot connect"):
        binding.list_models()


def test_unknown_model_suggests_pulling_it(make_binding: Make) -> None:
    binding = make_binding(model_name="nope:7b", strict=True)
    with pytest.raises(NotFoundError, match=r"`lollms models pull -b ollama nope:7b`") as caught:
        binding.generate_text("Hi")
    assert "model 'nope:7b' not found" in str(caught.value)
    assert caught.value.status_code == 404
    with pytest.raises(NotFoundError, match="lollms models pull"):
        binding.embed("x")
    with pytest.raises(NotFoundError, match="lollms models pull"):
        binding.get_model_info()


def test_seed_method_returns_the_error_dict_for_a_missing_model(make_binding: Make) -> None:
    result = make_binding(model_name="nope:7b").generate_text("Hi")
    assert result["status"] is False
    assert result["error_type"] == "NotFoundError"


def test_server_error_is_retried_then_raised(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    before = ollama_server.records.hits["/api/chat"]
    binding = make_binding(model_name="fault-500", max_retries=1, strict=True)
    with pytest.raises(ServerError, match="the model failed to generate a response") as caught:
        binding.generate_text("Hi")
    assert caught.value.status_code == 500
    assert ollama_server.records.hits["/api/chat"] - before == 2, "one try plus one retry"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("fault-cut", "connection broken"),
        ("fault-malformed", "malformed NDJSON"),
        ("fault-stream-error", "an error was encountered while running the model"),
    ],
)
def test_broken_streams_raise_server_error_with_the_partial_text(make_binding: Make, model: str, message: str) -> None:
    binding = make_binding(model_name=model, max_retries=0, strict=True)
    with pytest.raises(ServerError, match=message) as caught:
        binding.generate_text("Hi", streaming_callback=lambda *_: None)  # consumed chunks: a stream
    assert caught.value.partial_text == "one two three"


def test_stopping_after_n_chunks_closes_the_connection(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    records = ollama_server.records
    before = len(records.early_closes)
    got: list[str] = []

    def stop_after_three(chunk: str, msg_type: MSG_TYPE) -> bool:
        got.append(chunk)
        return len(got) < 3

    text = make_binding().generate_text(
        "Write a long story about a lighthouse.", n_predict=300, streaming_callback=stop_after_three
    )
    assert len(got) == 3
    assert text == "".join(got)
    assert records.wait_for_early_close(before + 1), "the server never saw the client close the stream"
    closed = records.early_closes[before]
    assert closed["path"] == "/api/chat"
    assert closed["frames_sent"] < 50, f"the server kept streaming after the stop: {closed}"


def test_service_key_is_sent_as_bearer_and_never_shown(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding(service_key="sk-ollama-test-123")
    binding.generate_text("Hi", n_predict=2)
    assert ollama_server.records.last("/api/chat")["authorization"] == "Bearer sk-ollama-test-123"
    assert "sk-ollama-test-123" not in repr(binding)
    assert "sk-ollama-test-123" not in repr(binding.config)
    # Not in any internal repr either (issue 11): the header is built per request from a masked holder.
    assert "sk-ollama-test-123" not in repr(vars(binding)) and "sk-ollama-test-123" not in repr(binding.settings)


def test_environment_supplies_host_and_key(
    make_binding: Make, ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama_server.port}")
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key-456")
    binding = make_binding(host_address="")
    assert binding.host_address == ollama_server.url
    assert binding.list_models()
    binding.generate_text("Hi", n_predict=2)
    assert ollama_server.records.last("/api/chat")["authorization"] == "Bearer env-key-456"


def test_no_key_sends_no_authorization(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    make_binding().generate_text("Hi", n_predict=2)
    assert ollama_server.records.last("/api/chat")["authorization"] is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "http://localhost:11434"),
        ("0.0.0.0", "http://localhost:11434"),
        ("0.0.0.0:8080", "http://localhost:8080"),
        ("example.com", "http://example.com:11434"),
        ("https://ollama.com", "https://ollama.com:443"),
        ("http://10.0.0.2:11434/", "http://10.0.0.2:11434"),
    ],
)
def test_host_forms_ollama_accepts(given: str, expected: str) -> None:
    assert normalise_host(given) == expected


def test_missing_model_is_a_config_error(make_binding: Make) -> None:
    with pytest.raises(ConfigError, match="model_name"):
        make_binding(model_name="").generate_text("Hi")
