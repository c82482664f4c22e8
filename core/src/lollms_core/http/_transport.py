"""Shared httpx plumbing for HTTP bindings: clients, retries, typed errors, SSE and NDJSON.

One set of decisions (what to retry, how long to wait, how a status maps to an error)
serves both faces; the sync and async loops around it are deliberately thin.

Rules: retry connection errors and 408/409/429/5xx with exponential backoff and jitter,
honouring ``Retry-After`` (RFC 9110) within the call's budget; never retry another 4xx; never
retry once a stream's body has started (the caller may already have shown text to a user).
A plain request is a stream read to the end (as in httpx), so :func:`_send` and :func:`_asend`
are the only retry loops.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Union

import httpx

from .._cancel import current_call
from .._secrets import Secret
from ..errors import (
    MAX_RETRY_AFTER,
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    GenerationCancelled,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from ._framing import SSEDecoder, aiter_ndjson, aiter_sse, iter_ndjson, iter_sse

__all__ = [
    "HttpSettings",
    "RetryPolicy",
    "SSEDecoder",
    "Secret",
    "aiter_ndjson",
    "aiter_sse",
    "arequest",
    "astream",
    "error_for_response",
    "error_for_transport",
    "iter_ndjson",
    "iter_sse",
    "json_body",
    "make_async_client",
    "make_client",
    "parse_retry_after",
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
    #: The most one call waits for ``Retry-After`` in all; a server asking for more fails the call at once.
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
    #: A bearer token, held masked: the ``Authorization`` header is built per request, so no
    #: settings, client or binding repr ever contains the key.
    bearer: Secret | None = None


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer …`` to each request as it is sent."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


def _client_kwargs(s: HttpSettings) -> dict[str, Any]:
    return {
        "base_url": s.base_url,
        "headers": s.headers or {},
        "auth": _BearerAuth(s.bearer) if s.bearer else None,
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


def parse_retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` value asks for, per RFC 9110 §10.2.3, or ``None`` to ignore it.

    Only delta-seconds (ASCII digits) and an HTTP-date count; ``NaN``, ``inf``, negative numbers,
    fractions and garbage are not ``Retry-After`` values, so the normal back-off applies.
    Values beyond :data:`~lollms_core.errors.MAX_RETRY_AFTER` (a day) are clamped to it: a
    server asking for 10**300 seconds gets a day, never an ``OverflowError``.
    """
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # Compare digit counts before int(): Python refuses int() of more than 4300 digits, and
        # float() of a huge int overflows.
        digits = text.lstrip("0")
        if len(digits) > len(str(int(MAX_RETRY_AFTER))):
            return MAX_RETRY_AFTER
        return min(float(int(text)), MAX_RETRY_AFTER)
    import datetime
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


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


def error_for_response(response: httpx.Response, service: str = "server", note: str = "") -> BackendError:
    """The typed error for a non-2xx response, carrying the server's own message (secrets redacted)."""
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
    return cls(text + note, status_code=code, retry_after=parse_retry_after(response.headers.get("retry-after")))


def error_for_transport(exc: Exception, url: Union[str, httpx.URL], service: str = "server") -> BackendError:
    """The typed error for a transport failure, naming the full URL that was tried."""
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeoutError(f"{service}: {url} timed out ({type(exc).__name__})")
    if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol)):
        return BackendConnectionError(f"cannot connect to {service}: {url}: {exc}")
    return ServerError(f"{service}: {url}: connection broken ({type(exc).__name__}: {exc})")


def json_body(response: httpx.Response, service: str = "server") -> Any:
    """The decoded JSON body of a 2xx response; anything else is a :class:`ServerError` naming the URL."""
    try:
        return json.loads(response.content)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        what = "an HTML page" if "html" in kind else f"something that is not JSON ({kind})"
        raise ServerError(
            f"{service}: {response.request.url} answered {response.status_code} with {what}: "
            f"{response.text[:120].strip()!r}; is host_address the API's base URL?"
        ) from None


def _next_wait(
    settings: HttpSettings,
    attempt: int,
    waited: float,
    request: httpx.Request,
    response: httpx.Response | None,
    exc: Exception | None,
) -> float:
    """Seconds to wait before retrying, or raise the typed error: every retry decision, for both faces.

    Connection errors and 408/409/429/5xx are retried; when the server asks (``Retry-After``) for
    longer than this call may still wait (``retry.max_retry_after`` in all), it fails at once with
    the error carrying ``retry_after``, rather than sleeping through the caller's budget.
    """
    policy = settings.retry
    if exc is not None:
        retryable = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError))
        if retryable and attempt < policy.max_retries:
            if attempt == 0 and isinstance(exc, httpx.RemoteProtocolError):
                # "Server disconnected without sending a response": most often a kept-alive
                # connection the server had closed (llama.cpp does it every few requests), found
                # stale by this request. Nothing is wrong with the server: a fresh connection, now.
                return 0.0
            return policy.delay(attempt, None)
        # from None: the typed error says it all; httpx's own message (which can quote headers) stays out.
        raise error_for_transport(exc, request.url, settings.service) from None
    assert response is not None
    note = ""
    if response.status_code in _RETRY_STATUSES and attempt < policy.max_retries:
        asked = parse_retry_after(response.headers.get("retry-after"))
        if asked is None:
            return policy.delay(attempt, None)
        if asked <= policy.max_retry_after - waited:
            return asked
        note = (
            f" (it asks to retry after {asked:g} s, more than the {policy.max_retry_after - waited:g} s left to wait)"
        )
    raise error_for_response(response, settings.service, note)


def _abort_on_cancel(response: httpx.Response) -> Callable[[], None]:
    """Let ``cancel()`` end a read blocked on this response: shut its socket down from the cancelling thread."""
    call = current_call.get()
    if call is None:
        return _nothing

    def abort() -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            # shutdown(), not close(): only shutdown wakes a recv() blocked in another thread.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    return call.on_cancel(abort)


def _nothing() -> None:
    return None


# -- sync ----------------------------------------------------------------------------------


def _sleep(seconds: float) -> None:
    if seconds <= 0:
        return
    call = current_call.get()
    if call is None:
        time.sleep(seconds)
    elif call.wait(seconds):  # cancel() ends a back-off at once
        raise GenerationCancelled()


def _send(
    client: httpx.Client, method: str, url: str, settings: HttpSettings, kwargs: dict[str, Any]
) -> httpx.Response:
    """THE sync retry loop: send until a 2xx response's headers arrive; return it unread."""
    attempt, waited = 0, 0.0
    while True:
        req = client.build_request(method, url, **kwargs)
        try:
            response = client.send(req, stream=True)
        except httpx.TransportError as exc:
            wait = _next_wait(settings, attempt, waited, req, None, exc)
        else:
            if response.is_success:
                return response
            try:
                response.read()  # the error body names the problem
            except httpx.TransportError:
                pass
            finally:
                response.close()
            wait = _next_wait(settings, attempt, waited, req, response, None)
        _sleep(wait)
        attempt, waited = attempt + 1, waited + wait


@contextmanager
def stream(
    client: httpx.Client, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> Iterator[httpx.Response]:
    """Open a streaming response with retries until its headers say 2xx; never retry after that.

    Leaving the ``with`` block closes the connection (that is how a stop reaches the server);
    ``cancel()`` on the generation this runs in ends a blocked read from another thread.
    """
    response = _send(client, method, url, settings, kwargs)
    unhook = _abort_on_cancel(response)
    try:
        yield response
    except httpx.TransportError as exc:
        raise error_for_transport(exc, response.request.url, settings.service) from None
    finally:
        unhook()
        response.close()


def request(client: httpx.Client, method: str, url: str, *, settings: HttpSettings, **kwargs: Any) -> httpx.Response:
    """Send a request with retries; return the 2xx response (read) or raise the typed error.

    A stream read to the end (as httpx does it), so retries are decided in one place.
    """
    with stream(client, method, url, settings=settings, **kwargs) as response:
        response.read()
    return response


# -- async ---------------------------------------------------------------------------------


async def _asend(
    client: httpx.AsyncClient, method: str, url: str, settings: HttpSettings, kwargs: dict[str, Any]
) -> httpx.Response:
    """THE async retry loop (:func:`_send`'s twin; ``cancel()`` cancels the task, which ends sleeps too)."""
    import asyncio

    attempt, waited = 0, 0.0
    while True:
        req = client.build_request(method, url, **kwargs)
        try:
            response = await client.send(req, stream=True)
        except httpx.TransportError as exc:
            wait = _next_wait(settings, attempt, waited, req, None, exc)
        else:
            if response.is_success:
                return response
            try:
                await response.aread()
            except httpx.TransportError:
                pass
            finally:
                await response.aclose()
            wait = _next_wait(settings, attempt, waited, req, response, None)
        await asyncio.sleep(wait)
        attempt, waited = attempt + 1, waited + wait


@asynccontextmanager
async def astream(
    client: httpx.AsyncClient, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> AsyncIterator[httpx.Response]:
    """Async :func:`stream`."""
    response = await _asend(client, method, url, settings, kwargs)
    try:
        yield response
    except httpx.TransportError as exc:
        raise error_for_transport(exc, response.request.url, settings.service) from None
    finally:
        await response.aclose()


async def arequest(
    client: httpx.AsyncClient, method: str, url: str, *, settings: HttpSettings, **kwargs: Any
) -> httpx.Response:
    """Async :func:`request`."""
    async with astream(client, method, url, settings=settings, **kwargs) as response:
        await response.aread()
    return response
