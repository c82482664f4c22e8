"""Real MCP servers for the suite: the SDK's own server API, over stdio and streamable HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVERS = Path(__file__).with_name("mcp_servers.py")
FAULTY = Path(__file__).with_name("mcp_faulty.py")


def stdio_entry(alias: str = "calc", mode: str = "", **extra: Any) -> dict[str, Any]:
    """A ``servers`` entry that starts the test server over stdio (``mode`` makes it misbehave)."""
    script = [str(FAULTY), mode] if mode else [str(SERVERS), "stdio"]
    entry: dict[str, Any] = {"alias": alias, "type": "stdio", "command": [sys.executable, *script]}
    entry.update(extra)
    return entry


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    """Wait until ``pid`` is gone; whether it went."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def http_url() -> Iterator[str]:
    """The test server over streamable HTTP on 127.0.0.1, for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVERS), "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the streamable HTTP MCP test server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
