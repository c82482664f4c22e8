"""Generation events reach server plugins; the access log has one line per request."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from . import observer_plugin
from .conftest import Running


def test_generation_events_reach_a_server_plugin(serve) -> None:  # type: ignore[no-untyped-def]
    observer_plugin.EVENTS.clear()
    server: Running = serve({"server": {"plugins": ["tests.observer_plugin", "no.such.plugin"]},
                             "models": {"echo": {"binding": "echo"}}})  # fmt: skip
    body = {"model": "echo", "messages": [{"role": "user", "content": "watch this"}], "stream": True}
    with httpx.stream("POST", f"{server.v1}/chat/completions", json=body) as answer:
        answer.read()
    kinds = [e.kind for e in observer_plugin.EVENTS]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("chunk") == 2
    assert observer_plugin.EVENTS[-1].binding == "echo"
    assert "".join(e.chunk.text for e in observer_plugin.EVENTS if e.kind == "chunk") == "watch this"


def test_one_access_line_per_request_with_model_tokens_latency(
    echo_server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lollms.server.access"):
        httpx.post(f"{echo_server.v1}/chat/completions",
                   json={"model": "echo", "messages": [{"role": "user", "content": "a b c"}]})  # fmt: skip
        httpx.get(f"{echo_server.v1}/models")
        # The line is written once the answer has gone out, so it may follow the client's return by a moment.
        deadline = time.monotonic() + 5
        while len([r for r in caplog.records if r.name == "lollms.server.access"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "lollms.server.access"]
    assert len(lines) == 2
    assert '"POST /v1/chat/completions" 200 model=echo tokens=' in lines[0] and "+3 " in lines[0]
    assert lines[0].endswith("s") and '"GET /v1/models" 200 model=-' in lines[1]
