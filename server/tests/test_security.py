"""Keys, limits, CORS and secrets: what stands between the network and the models."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest
from lollms_server.asgi import KeyCheck
from lollms_server.cli import is_loopback

from .conftest import ECHO, Running, free_port

KEY = "sk-test-0123456789abcdef"
CHAT = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


def lollms(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lollms_core.cli", *args]
    return subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def test_non_loopback_bind_without_a_key_refuses_to_start() -> None:
    done = lollms("serve", "-b", "echo", "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0 without an API key" in done.stderr
    assert "--api-key" in done.stderr


def test_a_key_from_the_environment_allows_a_non_loopback_bind() -> None:
    done = lollms("serve", "-b", "echo", "--host", "0.0.0.0", "--check", env={"LOLLMS_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout + done.stderr


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.8.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")


@pytest.fixture
def keyed(serve) -> Running:  # type: ignore[no-untyped-def]
    return serve(ECHO, api_keys=(KEY, "second-key-abcdefgh"), max_body_bytes=4096)


def test_wrong_or_missing_key_is_401_right_key_works(keyed: Running, http: httpx.Client) -> None:
    url = f"{keyed.v1}/chat/completions"
    assert http.post(url, json=CHAT).status_code == 401
    wrong = http.post(url, json=CHAT, headers={"Authorization": "Bearer sk-test-0123456789abcdeX"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert http.post(url, json=CHAT, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert http.post(url, json=CHAT, headers={"x-api-key": "second-key-abcdefgh"}).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=keyed.v1, api_key="nope", max_retries=0).models.list()
    assert [m.id for m in openai.OpenAI(base_url=keyed.v1, api_key=KEY, max_retries=0).models.list()] == ["echo"]


def test_health_without_a_key_shows_only_the_overall_status(keyed: Running, http: httpx.Client) -> None:
    assert http.get(f"{keyed.url}/health").json() == {"status": "ok"}
    full = http.get(f"{keyed.url}/health", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert full["models"]["echo"]["state"] == "ready"


def test_key_check_compares_every_key_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    check = KeyCheck((KEY, "other-key-1234567"))
    assert check.accepts(KEY) and check.accepts("other-key-1234567")
    assert not check.accepts(KEY[:-1]) and not check.accepts("") and not check.accepts(None)
    # Constant time by construction (a timed test would measure the machine's load): every key is
    # compared, with hmac.compare_digest, on digests of one length, whatever was presented.
    import lollms_server.asgi as asgi

    calls: list[tuple[int, int]] = []
    real = asgi.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(asgi.hmac, "compare_digest", counting)
    for given in (KEY, "other-key-1234567", KEY[:-1] + "X", "z", "x" * 500):
        calls.clear()
        check.accepts(given)
        assert calls == [(32, 32), (32, 32)], given


def test_oversized_body_is_413_both_declared_and_streamed(keyed: Running, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    big = {"model": "echo", "messages": [{"role": "user", "content": "x" * 5000}]}
    declared = http.post(f"{keyed.v1}/chat/completions", json=big, headers=auth)
    assert declared.status_code == 413 and "4096 bytes" in declared.json()["error"]["message"]

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"model": "echo", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    streamed = http.post(f"{keyed.v1}/chat/completions", content=chunks(), headers=auth)  # chunked: no length
    assert streamed.status_code == 413


def test_max_tokens_above_the_configured_bound_is_refused(serve, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    server = serve(ECHO, max_tokens=8)
    bad = http.post(f"{server.v1}/chat/completions", json={**CHAT, "max_tokens": 9})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "max_tokens"
    words = " ".join(f"w{i}" for i in range(20))
    capped = http.post(f"{server.v1}/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": words}]})
    assert capped.json()["usage"]["completion_tokens"] == 8  # no max_tokens: the bound applies


def test_cors_is_off_unless_configured(serve, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    plain = serve(ECHO)
    pre = {"Origin": "http://app.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in http.options(f"{plain.v1}/chat/completions", headers=pre).headers
    opened = serve(ECHO, cors_origins=("http://app.example",), api_keys=(KEY,))
    answer = http.options(f"{opened.v1}/chat/completions", headers=pre)  # preflight: no key needed
    assert answer.headers["access-control-allow-origin"] == "http://app.example"


def test_secrets_never_reach_answers_or_logs(serve, http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    secret = "echo-secret-value-42"
    server = serve({"models": {"echo": {"binding": "echo", "config": {"service_key": secret, "fail_with": "auth"}}}},
                   api_keys=(KEY,))  # fmt: skip
    auth = {"Authorization": f"Bearer {KEY}"}
    with caplog.at_level(logging.DEBUG):
        answers = [
            http.post(f"{server.v1}/chat/completions", json=CHAT, headers=auth).text,
            http.get(f"{server.url}/health", headers=auth).text,
            http.get(f"{server.v1}/models", headers=auth).text,
            http.get(f"{server.url}/lollms/v1/models/echo", headers=auth).text,
            http.post(f"{server.v1}/chat/completions", json=CHAT, headers={"Authorization": "Bearer " + secret}).text,
        ]
        deadline = time.monotonic() + 5  # the access line follows the answer by a moment
        while 'POST /v1/chat/completions" 401' not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    everything = "\n".join(answers) + caplog.text
    assert secret not in everything and KEY not in everything
    assert "upstream_authentication" in answers[0]  # the backend's auth failure is a 502, not the client's 401
    assert 'POST /v1/chat/completions" 401' in caplog.text
