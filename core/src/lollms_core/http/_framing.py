"""Stream framing for HTTP bindings: server-sent events and NDJSON, parsed from the body's bytes.

Public through :mod:`lollms_core.http`. Hot path: one ``split`` per network read, each payload
handed to ``json.loads`` once as bytes, no per-line text objects.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from ..errors import ServerError

__all__ = ["SSEDecoder", "aiter_ndjson", "aiter_sse", "iter_ndjson", "iter_sse"]


class SSEDecoder:
    """Server-sent events, line by line: returns each event's ``data`` once a blank line ends it."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Feed one line (without newline); return the event data when an event completes."""
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None  # comment / keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """The last event's data when the stream ended without a blank line."""
        return self.feed("")


def _decode_json(data: str | bytes, kind: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        shown = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        raise ServerError(f"malformed {kind} line from server: {shown[:200]!r}") from None


# The C scanner behind json.loads, called directly: json.loads on every event costs more in its
# wrappers (type checks, encoding detection, two whitespace regexes) than in the parse itself.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _decode_fast(data: bytes, kind: str) -> Any:
    """``json.loads(data)`` for the common case (compact UTF-8 JSON), same result and errors otherwise."""
    try:
        text = data.decode()
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):  # UnicodeDecodeError is a ValueError
        return _decode_json(data, kind)
    if end != len(text):  # trailing whitespace or junk: the slow path decides
        return _decode_json(data, kind)
    return value


class _SSEBytes:
    """SSE framing straight from the body's bytes: one split per network read, no per-line text decode.

    ``feed`` returns the ``data`` of every event a piece of body completes (as bytes; ``json.loads``
    reads UTF-8 bytes itself, so each payload is decoded exactly once).
    """

    __slots__ = ("_data", "_rest", "lines_seen")

    def __init__(self) -> None:
        self._rest = b""
        self._data: list[bytes] = []
        self.lines_seen = 0  # non-empty lines: tells "not an event stream" from "empty body"

    def feed(self, piece: bytes) -> list[bytes]:
        if self._rest:
            piece = self._rest + piece
        lines = piece.split(b"\n")
        self._rest = lines.pop()
        return self._lines(lines)

    def _lines(self, lines: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        data = self._data
        for line in lines:
            if line[-1:] == b"\r":
                line = line[:-1]
            if not line:
                if data:
                    out.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
                continue
            self.lines_seen += 1
            if line[:5] == b"data:":
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            # comments (":"), event:, id: and retry: carry nothing a chat stream needs
        return out

    def flush(self) -> list[bytes]:
        rest, self._rest = self._rest, b""
        return self._lines([rest, b""] if rest else [b""])


_DONE = b"[DONE]"
_DRAIN_READS = 4  # after [DONE] only the end of the body is left; a server that keeps talking is cut


def _not_an_event_stream(response: httpx.Response, service: str) -> ServerError:
    kind = response.headers.get("content-type", "no content type")
    what = "an HTML page" if "html" in kind else f"a {kind} body"
    return ServerError(
        f"{service}: {response.request.url} answered with {what}, not an event stream; "
        "is host_address the API's base URL?"
    )


def _check_event_stream(response: httpx.Response, service: str) -> None:
    if "html" in response.headers.get("content-type", ""):
        raise _not_an_event_stream(response, service)


def iter_sse(response: httpx.Response, service: str = "server") -> Iterator[Any]:
    """JSON payloads of an SSE response, until ``[DONE]``.

    :raises ServerError: a malformed data line, or a body that is not an event stream (an HTML page).
    """
    _check_event_stream(response, service)
    decoder, events = _SSEBytes(), 0
    pieces = response.iter_bytes()
    for piece in pieces:
        for data in decoder.feed(piece):
            if data[:1] != b"{" and data.strip() == _DONE:
                # Read the (empty) rest, so the connection goes back to the pool instead of being closed.
                for _ in zip(range(_DRAIN_READS), pieces, strict=False):
                    pass
                return
            events += 1
            yield _decode_fast(data, "SSE data")
    for data in decoder.flush():
        if data.strip() != _DONE:
            events += 1
            yield _decode_fast(data, "SSE data")
    if not events and decoder.lines_seen:
        raise _not_an_event_stream(response, service)


async def aiter_sse(response: httpx.Response, service: str = "server") -> AsyncIterator[Any]:
    """Async :func:`iter_sse`."""
    _check_event_stream(response, service)
    decoder, events = _SSEBytes(), 0
    pieces = response.aiter_bytes()
    async for piece in pieces:
        for data in decoder.feed(piece):
            if data[:1] != b"{" and data.strip() == _DONE:
                for _ in range(_DRAIN_READS):  # as in iter_sse: keep the connection reusable
                    if await anext(pieces, None) is None:
                        break
                return
            events += 1
            yield _decode_fast(data, "SSE data")
    for data in decoder.flush():
        if data.strip() != _DONE:
            events += 1
            yield _decode_fast(data, "SSE data")
    if not events and decoder.lines_seen:
        raise _not_an_event_stream(response, service)


def _ndjson_lines(rest: bytes, piece: bytes) -> tuple[list[bytes], bytes]:
    lines = (rest + piece if rest else piece).split(b"\n")
    return lines, lines.pop()


def iter_ndjson(response: httpx.Response) -> Iterator[Any]:
    """One JSON object per non-empty line (Ollama's streaming framing)."""
    rest = b""
    for piece in response.iter_bytes():
        lines, rest = _ndjson_lines(rest, piece)
        for line in lines:
            if line.strip():
                yield _decode_fast(line, "NDJSON")
    if rest.strip():
        yield _decode_json(rest, "NDJSON")


async def aiter_ndjson(response: httpx.Response) -> AsyncIterator[Any]:
    """Async :func:`iter_ndjson`."""
    rest = b""
    async for piece in response.aiter_bytes():
        lines, rest = _ndjson_lines(rest, piece)
        for line in lines:
            if line.strip():
                yield _decode_fast(line, "NDJSON")
    if rest.strip():
        yield _decode_json(rest, "NDJSON")
