"""Shared httpx plumbing for HTTP bindings: clients, retries, typed errors, SSE and NDJSON.

One set of decisions (what to retry, how long to wait, how a status maps to an error)
serves both faces; the sync and async loops around it are deliberately thin.

Rules: retry connection errors and 408/409/429/5xx with exponential backoff and jitter,
honouring ``Retry-After``; never retry another 4xx; never retry once a stream's body has
started (the caller may already have shown text to a user).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Union

import httpx

from .errors import (
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "HttpSettings",
    "RetryPolicy",
    "SSEDecoder",
    "aiter_ndjson",
    "aiter_sse",
    "arequest",
    "astream",
    "error_for_response",
    "error_for_transport",
    "iter_ndjson",
    "iter_sse",
    "make_async_client",
    "make_client",
    "request",
    "stream",
]

_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait (seconds)."""

    max_retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = min(self.max_backoff, self.backoff * (2.0**attempt))
        return base * (0.5 + random.random() / 2)  # jitter: many clients must not retry in lockstep


@dataclass(frozen=True)
class HttpSettings:
    """Connection settings a binding builds from its config."""

    base_url: str
    headers: dict[str, str] | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    max_connections: int = 100
    retry: RetryPolicy = RetryPolicy()
    service: str = "server"


def _client_kwargs(s: HttpSettings) -> dict[str, Any]:
    return {
        "base_url": s.base_url,
        "headers": s.headers or {},
        "timeout": httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
        "limits": httpx.Limits(max_connections=s.max_connections, max_keepalive_connections=min(20, s.max_connections)),
    }


def make_client(settings: HttpSettings) -> httpx.Client:
    """A pooled sync client for ``settings``."""
    return httpx.Client(**_client_kwargs(settings))


def make_async_client(settings: HttpSettings) -> httpx.AsyncClient:
    """A pooled async client for ``settings``."""
    return httpx.AsyncClient(**_client_kwargs(settings))


# -- errors ------------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return (response.text if response.is_closed else "")[:300].strip()
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message")))
        if isinstance(err, dict):
            err = err.get("message") or json.dumps(err)
        if err:
            return str(err)[:500]
    return json.dumps(body)[:300]


def error_for_response(response: httpx.Response, service: str = "server") -> BackendError:
    """The typed error for a non-2xx response, carrying the server's own message."""
    code = response.status_code
    msg = _server_message(response)
    where = f"{service} {response.request.method} {response.request.url.path}"
    text = f"{where} returned {code}: {msg}" if msg else f"{where} returned {code}"
    cls: type[BackendError]
    if code in (401, 403):
        cls = AuthenticationError
    elif code == 404:
        cls = NotFoundError
    elif code == 429:
        cls = RateLimitError
    elif code >= 500 or code in (408, 409):
        cls = ServerError
    else:
        cls = BackendError
    return cls(text, status_code=code, retry_after=_retry_after(response))


def error_for_transport(exc: Exception, url: Union[str, httpx.URL], service: str = "server") -> BackendError:
    """The typed error for a transport failure, naming the address that was tried."""
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeoutError(f"{service} at {url} timed out ({type(exc).__name__})")
    if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol)):
        return BackendConnectionError(f"cannot connect to {service} at {url}: {exc}")
    return ServerError(f"{service} at {url}: connection broken ({type(exc).__name__}: {exc})")


def _should_retry(
    policy: RetryPolicy, attempt: int, response: httpx.Response | None, exc: Exception | None
) -> float | None:
    """Seconds to wait before retrying, or ``None`` to give up (the one retry decision)."""
    if attempt >= policy.max_retries:
        return None
    if exc is not None:
        retryable = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError))
        return policy.delay(attempt, None) if retryable else None
    if response is not None and response.status_code in _RETRY_STATUSES:
        return policy.delay(attempt, _retry_after(response))
    return None


# -- sync ----------------------------------------------------------------------------------


def request(client: httpx.Client, method: str, url: str, *, settings: HttpSettings, **kwargs: Any) -> httpx.Response:
    """Send a request with retries; return the 2xx response or raise the typed error."""
    attempt = 0
    while True:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            wait = _should_retry(settings.retry, attempt, None, exc)
            if wait is None:
                raise error_for_transport(exc, client.base_url.join(url), settings.service) from None
        else:
            if response.is_success:
                return response
            wait = _should_retry(settings.retry, attempt, response, None)
            if wait is None:
                raise error_for_response(response, settings.service)
        time.sleep(wait)
        attempt += 1


@contextmanager
def stream(
    client: httpx.Client, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> Iterator[httpx.Response]:
    """Open a streaming response with retries until its headers say 2xx; never retry after that.

    Leaving the ``with`` block closes the connection (that is how a stop reaches the server).
    """
    attempt = 0
    while True:
        try:
            cm = client.stream(method, url, **kwargs)
            response = cm.__enter__()
        except httpx.TransportError as exc:
            wait = _should_retry(settings.retry, attempt, None, exc)
            if wait is None:
                raise error_for_transport(exc, client.base_url.join(url), settings.service) from None
        else:
            if response.is_success:
                break
            response.read()
            cm.__exit__(None, None, None)
            wait = _should_retry(settings.retry, attempt, response, None)
            if wait is None:
                raise error_for_response(response, settings.service)
        time.sleep(wait)
        attempt += 1
    try:
        yield response
    except httpx.TransportError as exc:
        raise error_for_transport(exc, response.url, settings.service) from None
    finally:
        cm.__exit__(None, None, None)


# -- async ---------------------------------------------------------------------------------


async def arequest(
    client: httpx.AsyncClient, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> httpx.Response:
    """Async :func:`request`."""
    import asyncio

    attempt = 0
    while True:
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            wait = _should_retry(settings.retry, attempt, None, exc)
            if wait is None:
                raise error_for_transport(exc, client.base_url.join(url), settings.service) from None
        else:
            if response.is_success:
                return response
            wait = _should_retry(settings.retry, attempt, response, None)
            if wait is None:
                raise error_for_response(response, settings.service)
        await asyncio.sleep(wait)
        attempt += 1


@asynccontextmanager
async def astream(
    client: httpx.AsyncClient, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> AsyncIterator[httpx.Response]:
    """Async :func:`stream`."""
    import asyncio

    attempt = 0
    while True:
        try:
            cm = client.stream(method, url, **kwargs)
            response = await cm.__aenter__()
        except httpx.TransportError as exc:
            wait = _should_retry(settings.retry, attempt, None, exc)
            if wait is None:
                raise error_for_transport(exc, client.base_url.join(url), settings.service) from None
        else:
            if response.is_success:
                break
            await response.aread()
            await cm.__aexit__(None, None, None)
            wait = _should_retry(settings.retry, attempt, response, None)
            if wait is None:
                raise error_for_response(response, settings.service)
        await asyncio.sleep(wait)
        attempt += 1
    try:
        yield response
    except httpx.TransportError as exc:
        raise error_for_transport(exc, response.url, settings.service) from None
    finally:
        await cm.__aexit__(None, None, None)


# -- stream framing ----------------------------------------------------------------------------


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


def _decode_json(data: str, kind: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise ServerError(f"malformed {kind} line from server: {data[:200]!r}") from None


def iter_sse(response: httpx.Response) -> Iterator[Any]:
    """JSON payloads of an SSE response, until ``[DONE]``; a malformed line raises :class:`ServerError`."""
    decoder = SSEDecoder()
    for line in response.iter_lines():
        data = decoder.feed(line)
        if data is None:
            continue
        if data.strip() == "[DONE]":
            return
        yield _decode_json(data, "SSE data")
    tail = decoder.flush()
    if tail is not None and tail.strip() != "[DONE]":
        yield _decode_json(tail, "SSE data")


async def aiter_sse(response: httpx.Response) -> AsyncIterator[Any]:
    """Async :func:`iter_sse`."""
    decoder = SSEDecoder()
    async for line in response.aiter_lines():
        data = decoder.feed(line)
        if data is None:
            continue
        if data.strip() == "[DONE]":
            return
        yield _decode_json(data, "SSE data")
    tail = decoder.flush()
    if tail is not None and tail.strip() != "[DONE]":
        yield _decode_json(tail, "SSE data")


def iter_ndjson(response: httpx.Response) -> Iterator[Any]:
    """One JSON object per non-empty line (Ollama's streaming framing)."""
    for line in response.iter_lines():
        if line.strip():
            yield _decode_json(line, "NDJSON")


async def aiter_ndjson(response: httpx.Response) -> AsyncIterator[Any]:
    """Async :func:`iter_ndjson`."""
    async for line in response.aiter_lines():
        if line.strip():
            yield _decode_json(line, "NDJSON")
