"""Hostile servers and hostile keys (issue 11): Retry-After, cancel of blocked reads, secrets, HTML answers."""

from __future__ import annotations

import asyncio
import email.utils
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from lollms_core.errors import (
    AuthenticationError,
    BackendConnectionError,
    ConfigError,
    GenerationCancelled,
    RateLimitError,
    ServerError,
)

KEY = "sk-live-0123456789abcdef"


def _llm(make_binding: Any, scenario: Any, **config: Any) -> Any:
    config.setdefault("model_name", "fake-model")
    config.setdefault("strict", True)
    return make_binding("LLM", host_address=scenario.base_url, **config)


def _retry_after(value: str, times: int = 1) -> str:
    return f"retryafter~{quote(value, safe='')}~{times}"


# -- Retry-After (RFC 9110: delta-seconds or HTTP-date, anything else ignored) ---------------------


@pytest.mark.parametrize("value", ["NaN", "garbage", "-5", "inf", "1.5e400", ""])
def test_retry_after_that_is_no_rfc_value_falls_back_to_normal_backoff(
    make_binding: Any, fault: Any, value: str
) -> None:
    scenario = fault(_retry_after(value))
    started = time.monotonic()
    assert _llm(make_binding, scenario).generate_text("ping") == "echo: ping"
    assert scenario.seen()["attempts"] == 2
    assert time.monotonic() - started < 5  # never the 60 s cap (inf), never a raw ValueError (NaN, garbage)


def test_retry_after_nan_does_not_hang_async(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault(_retry_after("NaN")))
    assert asyncio.run(asyncio.wait_for(llm.agenerate_text("ping"), 10)) == "echo: ping"


def test_retry_after_as_http_date_is_honoured(make_binding: Any, fault: Any) -> None:
    scenario = fault(_retry_after(email.utils.formatdate(time.time() + 2, usegmt=True)))
    assert _llm(make_binding, scenario).generate_text("ping") == "echo: ping"
    requests = scenario.seen()["requests"]
    assert requests[1]["time"] - requests[0]["time"] >= 0.9  # whole seconds: at least ~1 s of the 2


@pytest.mark.parametrize("value", ["3600", "86400"])
def test_retry_after_beyond_the_budget_fails_at_once_with_retry_after(
    make_binding: Any, fault: Any, value: str
) -> None:
    scenario = fault(_retry_after(value, times=10))
    started = time.monotonic()
    with pytest.raises(RateLimitError, match="retry after") as caught:
        _llm(make_binding, scenario, max_retries=3).generate_text("ping")
    assert caught.value.retry_after == float(value)
    assert time.monotonic() - started < 3
    assert scenario.seen()["attempts"] == 1


def test_retry_after_beyond_the_budget_async(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault(_retry_after("3600", times=10)), max_retries=3)
    with pytest.raises(RateLimitError) as caught:
        asyncio.run(asyncio.wait_for(llm.agenerate_text("ping"), 10))
    assert caught.value.retry_after == 3600.0


# -- cancel() reaches blocked reads and back-off sleeps ----------------------------------------------


def _cancel_when(binding: Any, event: threading.Event, delay: float = 0.0) -> threading.Thread:
    def run() -> None:
        event.wait(10)
        time.sleep(delay)
        binding.cancel()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_cancel_ends_a_blocked_stream_read_within_a_second(make_binding: Any, fault: Any) -> None:
    # slowstream: one chunk, then 5 s of silence; the read timeout is 30 s.
    llm = _llm(make_binding, fault("slowstream"), timeout=30)
    first = threading.Event()
    _cancel_when(llm, first, delay=0.2)
    started = time.monotonic()
    with pytest.raises(GenerationCancelled) as caught:
        llm.generate_text("hi", streaming_callback=lambda *_: first.set())
    assert time.monotonic() - started < 1.5
    assert caught.value.partial_text == "first"


def test_cancel_ends_a_blocked_async_stream_read(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("slowstream"), timeout=30)
    first = threading.Event()
    _cancel_when(llm, first, delay=0.2)

    async def consume() -> list[str]:
        return [chunk.text async for chunk in llm.astream("hi") if first.set() is None]

    started = time.monotonic()
    with pytest.raises(GenerationCancelled) as caught:
        asyncio.run(asyncio.wait_for(consume(), 10))
    assert time.monotonic() - started < 1.5
    assert caught.value.partial_text == "first"


def test_cancel_ends_a_blocking_non_streamed_call(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("slowheaders"), timeout=30)  # answers after 5 s
    go = threading.Event()
    _cancel_when(llm, go, delay=0.5)
    go.set()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled):
        llm.generate_text("hi")
    assert time.monotonic() - started < 6  # headers arrive at 5 s at the latest; no retry, no wait for more


def test_cancel_interrupts_a_backoff_sleep(make_binding: Any, fault: Any) -> None:
    scenario = fault(_retry_after("20", times=10))
    llm = _llm(make_binding, scenario, max_retries=2)
    go = threading.Event()
    _cancel_when(llm, go, delay=0.5)
    go.set()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled):
        llm.generate_text("hi")
    assert time.monotonic() - started < 2
    assert scenario.seen()["attempts"] == 1


def test_cancel_interrupts_an_async_backoff_sleep(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault(_retry_after("20", times=10)), max_retries=2)
    go = threading.Event()
    _cancel_when(llm, go, delay=0.5)
    go.set()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled):
        asyncio.run(asyncio.wait_for(llm.agenerate_text("hi"), 10))
    assert time.monotonic() - started < 2


# -- secrets --------------------------------------------------------------------------------------


def test_key_read_from_a_file_with_a_trailing_newline_works(make_binding: Any, fault: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    scenario = fault("ok")
    llm = _llm(make_binding, scenario, service_key=key_file.read_text())
    assert llm.generate_text("ping") == "echo: ping"
    assert scenario.seen()["requests"][0]["headers"]["authorization"] == "Bearer ***"  # sent, stripped


@pytest.mark.parametrize("bad", [KEY[:8] + "\n" + KEY[8:], KEY + "\x00", "\x1b" + KEY])
def test_key_with_control_characters_is_refused_without_echoing_it(make_binding: Any, fault: Any, bad: str) -> None:
    with pytest.raises(ConfigError, match="control character") as caught:
        _llm(make_binding, fault("ok"), service_key=bad)
    assert KEY[:8] not in str(caught.value) and KEY[8:] not in str(caught.value)


@pytest.mark.parametrize("bad", ["\u201c" + KEY + "\u201d", KEY[:8] + "\u00a0" + KEY[8:], KEY + "\u2019"])
def test_key_with_non_ascii_characters_is_refused_at_construction(make_binding: Any, fault: Any, bad: str) -> None:
    # Before: accepted, sent as UTF-8 bytes in the Authorization header, answered with a 401.
    scenario = fault("ok")
    with pytest.raises(ConfigError, match="'service_key' contains a non-ASCII character at position") as caught:
        _llm(make_binding, scenario, service_key=bad)
    assert KEY[:8] not in str(caught.value) and KEY[8:] not in str(caught.value)
    assert scenario.seen()["requests"] == []  # refused before any request


def test_server_echoing_the_key_has_it_redacted_everywhere(make_binding: Any, fault: Any) -> None:
    scenario = fault("authecho")
    with pytest.raises(AuthenticationError, match="Invalid credentials") as caught:
        _llm(make_binding, scenario, service_key=KEY).generate_text("hi")
    assert KEY not in str(caught.value) and "Bearer ********" in str(caught.value)
    out = _llm(make_binding, scenario, service_key=KEY, strict=False).generate_text("hi")
    assert out["status"] is False and "Invalid credentials" in out["error"] and KEY not in out["error"]
    argv = ["generate", "-b", "openai", "-m", "fake-model", "-c", f"host_address={scenario.base_url}"]
    cli = subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", *argv, "-c", f"service_key={KEY}", "hi"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LOLLMS_DEFAULT_MODEL": ""},
        check=False,
    )
    assert cli.returncode == 1 and "Invalid credentials" in cli.stderr
    assert KEY not in cli.stderr and KEY not in cli.stdout


def test_no_internal_repr_holds_the_key(make_binding: Any, fault: Any) -> None:
    llm = _llm(make_binding, fault("ok"), service_key=KEY)
    assert llm.generate_text("ping") == "echo: ping"  # the key is still sent (built per request)
    conn = llm.connection
    for shown in (repr(conn.settings), repr(vars(llm)), repr(vars(conn)), repr(conn.client.headers), repr(llm.config)):
        assert KEY not in shown


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "nan", "-inf"])
def test_non_finite_config_floats_are_refused(make_binding: Any, fault: Any, value: Any) -> None:
    with pytest.raises(ConfigError, match=r"'timeout'.*finite"):
        _llm(make_binding, fault("ok"), timeout=value)


# -- answers that are not what was asked for --------------------------------------------------------


def test_html_page_on_a_chat_stream_says_so_naming_the_full_url(make_binding: Any, fault: Any) -> None:
    scenario = fault("html")
    llm = _llm(make_binding, scenario, max_retries=0)
    with pytest.raises(ServerError, match="HTML page, not an event stream") as caught:
        llm.generate_text("hi", streaming_callback=lambda *_: None)
    assert f"{scenario.base_url}/chat/completions" in str(caught.value)
    with pytest.raises(ServerError, match="HTML page") as caught:
        llm.generate_text("hi")  # blocking: one JSON body expected, an HTML page received
    assert f"{scenario.base_url}/chat/completions" in str(caught.value)


def test_non_json_tokenize_reply_is_a_typed_error_not_a_json_decode_error(make_binding: Any, fault: Any) -> None:
    from lollms_core.tokens import get_encoding

    llm = _llm(make_binding, fault("htmltokenize"), model_name="some-local-model")
    # The probe's typed ServerError means "this server has no usable /tokenize": tiktoken, said so.
    assert llm.tokenize("hello there") == get_encoding("cl100k_base").encode("hello there")
    assert llm.get_model_info()["token_counts_exact"] is False
    with pytest.raises(ServerError, match=r"tokenize answered 200 with an HTML page"):
        llm.connection.post_json(llm.connection.server_root + "/tokenize", {"content": "x"})


def test_transport_errors_name_the_full_url(make_binding: Any, dead_url: str) -> None:
    llm = make_binding("LLM", host_address=dead_url, model_name="m", max_retries=0, strict=True)
    with pytest.raises(BackendConnectionError) as caught:
        llm.generate_text("hi")
    assert f"{dead_url}/chat/completions" in str(caught.value)  # the /v1 base path kept
    # httpx's own exception is not chained into the traceback (its message can quote headers)
    assert caught.value.__suppress_context__ and caught.value.__cause__ is None
