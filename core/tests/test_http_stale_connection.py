"""A kept-alive connection the server closed between requests is replaced at once, not after a back-off.

The server here is a real socket on 127.0.0.1 doing what llama.cpp's server was measured doing
(bench/tool_round.py --server llamacpp): it answers with ``keep-alive`` semantics (no
``Connection: close``) and then closes the connection anyway. The client's next request finds
the pooled connection dead: httpx raises ``RemoteProtocolError("Server disconnected without
sending a response")``. lollms used to wait its back-off (0.25-0.5 s) before sending again.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from lollms_core import http
from lollms_core.http import _transport

BODY = b'{"ok": true}'


class ClosingServer:
    """Answers the first request of each connection (keep-alive), then drops the next one unanswered."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                if not self._read_request(conn):
                    continue
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
                    + BODY
                )
                self._read_request(conn)  # the next request on this kept-alive connection: no answer

    @staticmethod
    def _read_request(conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more:
                return False
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        headers = [line.lower() for line in head.split(b"\r\n")]
        length = next((int(h.split(b":")[1]) for h in headers if h.startswith(b"content-length")), 0)
        while len(rest) < length:
            rest += conn.recv(65536)
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[ClosingServer]:
    made = ClosingServer()
    yield made
    made.close()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every back-off the retry loops ask for (the sleep itself is skipped)."""
    asked: list[float] = []
    real_next_wait = _transport._next_wait

    def recording(*args: Any) -> float:
        wait = real_next_wait(*args)
        asked.append(wait)
        return wait

    monkeypatch.setattr(_transport, "_next_wait", recording)
    return asked


def settings(port: int) -> http.HttpSettings:
    return http.HttpSettings(base_url=f"http://127.0.0.1:{port}", retry=http.RetryPolicy(max_retries=2))


def test_a_stale_kept_alive_connection_is_replaced_at_once(server: ClosingServer, waits: list[float]) -> None:
    conf = settings(server.port)
    with http.make_client(conf) as client:
        for _ in range(3):
            response = http.request(client, "POST", "/chat", settings=conf, json={"q": 1})
            assert response.json() == {"ok": True}
    assert server.connections == 3, "each request after the first found its pooled connection dead"
    assert waits and all(w == 0.0 for w in waits), f"a stale connection must not wait a back-off: {waits}"


def test_the_async_face_does_the_same(server: ClosingServer, waits: list[float]) -> None:
    conf = settings(server.port)

    async def three() -> list[Any]:
        async with http.make_async_client(conf) as client:
            return [(await http.arequest(client, "POST", "/chat", settings=conf, json={})).json() for _ in range(3)]

    assert asyncio.run(three()) == [{"ok": True}] * 3
    assert waits and all(w == 0.0 for w in waits), waits


def test_a_second_disconnect_in_a_row_backs_off() -> None:
    """Only the first retry is immediate: a server that keeps hanging up gets the normal back-off."""
    import httpx

    conf = settings(1)
    request = httpx.Request("POST", "http://127.0.0.1:1/chat")
    gone = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    assert _transport._next_wait(conf, 0, 0.0, request, None, gone) == 0.0
    assert _transport._next_wait(conf, 1, 0.0, request, None, gone) > 0.0
    refused = httpx.ConnectError("connection refused")
    assert _transport._next_wait(conf, 0, 0.0, request, None, refused) > 0.0, "a refused connect still backs off"
