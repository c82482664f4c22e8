"""Errors, retries, cut streams and early stops, against the documented misbehaving fake server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lollms_core.errors import (
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    ConfigError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from lollms_core.types import MSG_TYPE


def _ignore(*_: Any) -> None:
    """A streaming callback that only makes the call a stream (chunks are consumed)."""


def _llm(make_binding: Any, scenario: Any, **config: Any) -> Any:
    config.setdefault("model_name", "fake-model")
    config.setdefault("strict", True)
    return make_binding("LLM", host_address=scenario.base_url, **config)


def test_401_is_an_authentication_error_with_the_server_message(make_binding: Any, fault: Any) -> None:
    scenario = fault("auth")
    llm = _llm(make_binding, scenario, service_key="sk-test-secret-123")
    with pytest.raises(AuthenticationError, match="Incorrect API key") as caught:
        llm.generate_text("hi")
    assert "sk-test-secret-123" not in str(caught.value)
    assert scenario.seen()["attempts"] == 1  # a 401 cannot succeed on retry


def test_404_model_names_the_model(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("model404"), model_name="gpt-nope")
    with pytest.raises(NotFoundError, match="gpt-nope"):
        llm.generate_text("hi")


def test_400_is_never_retried(make_binding: Any, fault: Any) -> None:
    scenario = fault("badrequest")
    with pytest.raises(BackendError, match="at least one message") as caught:
        _llm(make_binding, scenario, max_retries=3).generate_text("hi")
    assert caught.value.status_code == 400
    assert scenario.seen()["attempts"] == 1


def test_429_honours_retry_after_then_succeeds(make_binding: Any, fault: Any) -> None:
    scenario = fault("ratelimit-1")
    started = time.monotonic()
    text = _llm(make_binding, scenario).generate_text("ping")
    assert text == "echo: ping"
    requests = scenario.seen()["requests"]
    assert len(requests) == 2
    assert requests[1]["time"] - requests[0]["time"] >= 0.95  # Retry-After: 1
    assert time.monotonic() - started < 5


def test_429_after_retries_is_a_rate_limit_error(make_binding: Any, fault: Any) -> None:
    scenario = fault("ratelimit")
    with pytest.raises(RateLimitError) as caught:
        _llm(make_binding, scenario, max_retries=0).generate_text("hi")
    assert caught.value.retry_after == 1.0


@pytest.mark.parametrize("scenario_name", ["status500-2", "status503-2"])
def test_5xx_are_retried_with_backoff(make_binding: Any, fault: Any, scenario_name: str) -> None:
    scenario = fault(scenario_name)
    assert _llm(make_binding, scenario, max_retries=2).generate_text("again") == "echo: again"
    assert scenario.seen()["attempts"] == 3


def test_5xx_when_retries_run_out_is_a_server_error(make_binding: Any, fault: Any) -> None:
    scenario = fault("status503")
    with pytest.raises(ServerError, match="overloaded"):
        _llm(make_binding, scenario, max_retries=1).generate_text("hi")
    assert scenario.seen()["attempts"] == 2


def test_seed_method_returns_the_error_dict_when_not_strict(make_binding: Any, fault: Any) -> None:
    out = _llm(make_binding, fault("status500"), max_retries=0, strict=False).generate_text("hi")
    assert out["status"] is False and out["error_type"] == "ServerError"


def test_cut_stream_keeps_and_reports_partial_text(make_binding: Any, fault: Any) -> None:
    scenario = fault("cut")
    llm = _llm(make_binding, scenario, max_retries=3)
    received: list[str] = []
    with pytest.raises(ServerError) as caught:
        llm.generate_text("hi", streaming_callback=lambda chunk, *_: received.append(chunk))
    assert caught.value.partial_text == "one two three"
    assert "".join(received) == "one two three"
    assert scenario.seen()["attempts"] == 1  # never retried once the stream had started


def test_cut_stream_in_the_seed_error_dict(make_binding: Any, fault: Any) -> None:
    # A consumer of chunks makes it a stream (a blocking call is one non-streamed request).
    out = _llm(make_binding, fault("cut"), strict=False).generate_text("hi", streaming_callback=_ignore)
    assert out["status"] is False and out["partial_text"] == "one two three"


def test_malformed_sse_line_is_a_server_error_quoting_it(make_binding: Any, fault: Any) -> None:
    with pytest.raises(ServerError, match="this is not json") as caught:
        _llm(make_binding, fault("malformed")).generate_text("hi", streaming_callback=_ignore)
    assert caught.value.partial_text == "good"


def test_slow_server_is_a_timeout(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("slowheaders"), timeout=0.5, max_retries=0)
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        llm.generate_text("hi")
    assert time.monotonic() - started < 3


def test_stalled_stream_is_a_timeout_keeping_partial_text(make_binding: Any, fault: Any) -> None:
    with pytest.raises(BackendError) as caught:
        _llm(make_binding, fault("slowstream"), timeout=0.5).generate_text("hi", streaming_callback=_ignore)
    assert isinstance(caught.value, (BackendTimeoutError, ServerError))
    assert caught.value.partial_text == "first"


def test_nothing_listening_is_a_connection_error_naming_the_address(make_binding: Any, dead_url: str) -> None:
    llm = make_binding("LLM", host_address=dead_url, model_name="m", max_retries=0, strict=True)
    with pytest.raises(BackendConnectionError, match=dead_url.rsplit("/", 1)[0].split("//")[1]):
        llm.generate_text("hi")


def test_callback_false_after_three_chunks_closes_the_connection(make_binding: Any, fault: Any) -> None:
    scenario = fault("endless")
    llm = _llm(make_binding, scenario)
    seen: list[str] = []
    llm.generate_text("go", streaming_callback=lambda chunk, *_: seen.append(chunk) or len(seen) < 3)
    assert len(seen) == 3
    deadline = time.monotonic() + 5
    while not scenario.seen()["events"] and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = scenario.seen()["events"]
    assert event["client_closed"] is True
    assert event["chunks_sent"] < 50  # it stopped right away, not after the 2000 chunks


def test_async_break_closes_the_connection(make_binding: Any, fault: Any) -> None:
    scenario = fault("endless")
    llm = _llm(make_binding, scenario)

    async def take_three() -> list[str]:
        out: list[str] = []
        stream = llm.astream("go")
        async for chunk in stream:
            out.append(chunk.text)
            if len(out) == 3:
                break
        await stream.aclose()
        return out

    assert len(asyncio.run(take_three())) == 3
    deadline = time.monotonic() + 5
    while not scenario.seen()["events"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scenario.seen()["events"][0]["client_closed"] is True


def test_reasoning_content_becomes_thought_chunks(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("reasoning"))
    chunks = list(llm.stream("6*7?"))
    thoughts = "".join(c.text for c in chunks if c.type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK)
    answer = "".join(c.text for c in chunks if c.type == MSG_TYPE.MSG_TYPE_CHUNK)
    assert (thoughts, answer) == ("Let me think. Six times seven.", "42")
    assert llm.generate_text("6*7?", http_stream=False) == "42"


def test_inline_think_tags_split_across_chunks_become_thoughts(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("think"))
    for stream in (True, False):
        result = llm.run(llm.build_request("6*7?", http_stream=stream))
        assert (result.thoughts, result.text) == ("Let me think. Six times seven.", "42")


def test_server_rejecting_stream_options_is_asked_again_without(make_binding: Any, fault: Any) -> None:
    scenario = fault("nostreamopts")
    llm = _llm(make_binding, scenario)
    assert llm.generate_text("a b", streaming_callback=_ignore) == "echo: a b"
    assert llm.generate_text("c", streaming_callback=_ignore) == "echo: c"
    bodies = [r["body"] for r in scenario.seen()["requests"]]
    assert ["stream_options" in b for b in bodies] == [True, False, False]  # remembered after one refusal


def test_200_concurrent_async_streams_share_a_bounded_pool(make_binding: Any, fault: Any) -> None:
    scenario = fault("ok")
    llm = _llm(make_binding, scenario, max_connections=20)

    async def one(i: int) -> str:
        return "".join([c.text async for c in llm.astream(f"n{i} x y z")])

    async def main() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(200)))

    results = asyncio.run(main())
    assert results == [f"echo: n{i} x y z" for i in range(200)]
    seen = scenario.seen()
    assert seen["attempts"] == 200
    assert 1 < seen["max_in_flight"] <= 20  # concurrent, and never more than the pool allows


def test_model_name_unset_uses_the_only_model_the_server_lists(make_binding: Any, fault: Any, caplog: Any) -> None:
    # lollms_client works without model_name against a single-model server (issue 14.8).
    scenario = fault("ok")
    llm = make_binding("LLM", host_address=scenario.base_url, strict=True)
    with caplog.at_level("DEBUG", logger="lollms_openai"):
        assert llm.generate_text("hello there") == "echo: hello there"
    assert llm.model_name == "fake-model"
    chat = [r for r in scenario.seen()["requests"] if r["path"] == "chat/completions"]  # type: ignore[index]
    assert chat[0]["body"]["model"] == "fake-model"
    assert "only model" in caplog.text


def test_model_name_unset_with_several_models_lists_them(make_binding: Any, fault: Any) -> None:
    llm = make_binding("LLM", host_address=fault("twomodels").base_url, strict=True)
    with pytest.raises(ConfigError, match="fake-model, other-model"):
        llm.generate_text("hi")
