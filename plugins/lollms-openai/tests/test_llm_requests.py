"""What the LLM binding puts on the wire: URL rules, headers, sampling mapping, images, tokenizer choice."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from lollms_core.errors import ConfigError
from lollms_openai._connection import normalise_base_url
from png import solid_png


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"),
        ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1"),
        ("", "https://api.openai.com/v1"),
    ],
)
def test_base_url_rules(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


def test_non_http_host_is_a_config_error(make_binding: Any) -> None:
    with pytest.raises(ConfigError, match="ftp://x"):
        make_binding("LLM", host_address="ftp://x", model_name="m")


def _last_request(scenario: Any) -> dict[str, Any]:
    return scenario.seen()["requests"][-1]


def test_headers_key_org_project_and_extra(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    llm = make_binding(
        "LLM",
        host_address=scenario.base_url,
        model_name="m",
        service_key="sk-secret-value",
        organization="org-1",
        project="proj-2",
        extra_headers={"X-Gateway": "yes"},
    )
    assert llm.generate_text("hi") == "echo: hi"
    headers = _last_request(scenario)["headers"]
    assert headers["authorization"] == "Bearer ***"
    assert (headers["openai-organization"], headers["openai-project"], headers["x-gateway"]) == (
        "org-1",
        "proj-2",
        "yes",
    )
    assert "sk-secret-value" not in repr(llm) + repr(llm.config)


def test_openai_api_key_env_is_the_default_key(make_binding: Any, fault: Any, monkeypatch: Any) -> None:
    scenario = fault("ok")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    make_binding("LLM", host_address=scenario.base_url, model_name="m").generate_text("hi")
    assert _last_request(scenario)["headers"]["authorization"] == "Bearer ***"


def test_no_key_sends_no_authorization(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    make_binding("LLM", host_address=scenario.base_url, model_name="m").generate_text("hi")
    assert _last_request(scenario)["headers"]["authorization"] == ""


def test_sampling_options_are_mapped(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    llm = make_binding("LLM", host_address=scenario.base_url, model_name="m")
    llm.generate_text(
        "hi",
        n_predict=33,
        temperature=0.2,
        top_p=0.9,
        top_k=5,
        seed=42,
        repeat_penalty=1.3,
        stop=["\n\n"],
        system_prompt="Be brief.",
        streaming_callback=lambda *_: None,  # chunks consumed: an SSE stream
    )
    body = _last_request(scenario)["body"]
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert {k: body[k] for k in ("max_tokens", "temperature", "top_p", "top_k", "seed", "stop")} == {
        "max_tokens": 33,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
        "seed": 42,
        "stop": ["\n\n"],
    }
    assert body["frequency_penalty"] == pytest.approx(0.3)  # repeat_penalty - 1: an approximation
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_a_blocking_call_is_one_non_streamed_request(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    llm = make_binding("LLM", host_address=scenario.base_url, model_name="m")
    assert llm.generate_text("one two") == "echo: one two"
    body = _last_request(scenario)["body"]
    assert not body.get("stream") and "stream_options" not in body  # nobody consumed chunks: one JSON body
    chunks: list[str] = []
    assert llm.generate_text("one two", streaming_callback=lambda c, *_: chunks.append(c)) == "echo: one two"
    assert _last_request(scenario)["body"]["stream"] is True and len(chunks) > 1


def test_unset_options_are_not_sent(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    make_binding("LLM", host_address=scenario.base_url, model_name="m").generate_text("hi", http_stream=False)
    body = _last_request(scenario)["body"]
    assert set(body) == {"model", "messages"}


def test_images_become_data_urls_from_path_bytes_base64_or_url(make_binding: Any, fault: Any, tmp_path: Path) -> None:
    scenario = fault("ok")
    png = solid_png(2, 2, (255, 0, 0, 255))
    path = tmp_path / "red.png"
    path.write_bytes(png)
    b64 = base64.b64encode(png).decode()
    llm = make_binding("LLM", host_address=scenario.base_url, model_name="m")
    llm.generate_text("what is it?", images=[str(path), png, b64, "https://example.com/cat.png"])
    content = _last_request(scenario)["body"]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "what is it?"}
    urls = [part["image_url"]["url"] for part in content[1:]]
    assert urls[:3] == [f"data:image/png;base64,{b64}"] * 3
    assert urls[3] == "https://example.com/cat.png"


def test_missing_model_is_a_config_error(make_binding: Any, fault: Any) -> None:
    # A server listing no model: nothing to fall back on (one listed model is used, see test_llm_faults).
    llm = make_binding("LLM", host_address=fault("nomodels").base_url, strict=True)
    with pytest.raises(ConfigError, match="model_name"):
        llm.generate_text("hi")


def test_openai_model_names_count_with_tiktoken(make_binding: Any, fault: Any) -> None:
    import tiktoken

    scenario = fault("ok")
    llm = make_binding("LLM", host_address=scenario.base_url, model_name="gpt-4o-mini")
    text = "Tokenization is exact for OpenAI models."
    from lollms_core.tokens import get_encoding

    assert llm.tokenize(text) == get_encoding("o200k_base").encode(text)
    assert tiktoken.encoding_name_for_model("gpt-4o-mini") == "o200k_base"
    assert llm.get_model_info()["token_counts_exact"] is True
    assert not any(r["path"] == "tokenize" for r in scenario.seen()["requests"])


def test_unknown_server_without_tokenize_falls_back_to_cl100k_and_says_so(make_binding: Any, fault: Any) -> None:
    llm = make_binding("LLM", host_address=fault("ok").base_url, model_name="some-local-model")
    from lollms_core.tokens import get_encoding

    assert llm.tokenize("hello there") == get_encoding("cl100k_base").encode("hello there")
    info = llm.get_model_info()
    assert info["token_counts_exact"] is False and "approximation" in info["tokenizer"]
    assert info["listed_by_server"] is False
