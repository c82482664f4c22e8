"""Plain ASGI pieces around the routes: the gate (keys, body size, access log) and the event stream.

Both are written against ASGI itself rather than Starlette's middleware classes: the gate must
see the status of streamed answers when they END (to log tokens and latency), and the event
stream must notice a client leaving even while the model is silent, then close the generation
at once (Starlette's ``StreamingResponse`` leaves that to the garbage collector on some servers).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from typing import Any

from .errors import ApiError, error_body

__all__ = ["ACCESS_KEY", "EventStream", "Gate", "KeyCheck", "access_info"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where a route tells the access log which model answered and how many tokens it used.
ACCESS_KEY = "lollms.access"
#: The cookie the settings page's sign-in sets (SameSite=Strict, HttpOnly).
KEY_COOKIE = "lollms_key"
access_log = logging.getLogger("lollms.server.access")
# Paths a browser needs before it can present a key: the page shell (it shows a sign-in form, no data).
_OPEN_PATHS = ("/", "/login", "/health", "/favicon.ico")


def access_info(scope: Scope) -> dict[str, Any]:
    """The dict a route fills for the access log line (``model``, ``tokens``)."""
    info: dict[str, Any] = scope.setdefault(ACCESS_KEY, {})
    return info


class KeyCheck:
    """Constant-time API key check: every configured key is compared, digest against digest.

    Comparing SHA-256 digests makes every comparison the same length, so neither the key's
    length nor a matching prefix changes the time taken; no early exit across keys either.
    """

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._digests = tuple(hashlib.sha256(k.encode("utf-8")).digest() for k in keys)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def __repr__(self) -> str:
        return f"KeyCheck({len(self._digests)} key(s))"

    def accepts(self, given: str | None) -> bool:
        """Whether ``given`` is one of the keys."""
        digest = hashlib.sha256((given or "").encode("utf-8", "surrogatepass")).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found and given is not None

    def presented(self, scope: Scope) -> str | None:
        """The key a request carries: ``Authorization: Bearer``, ``x-api-key`` or the page's cookie."""
        headers: dict[str, str] = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        if "x-api-key" in headers:
            return headers["x-api-key"].strip()
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == KEY_COOKIE:
                from urllib.parse import unquote

                return unquote(value)
        return None


class BodyTooLarge(ApiError):
    """The request body is bigger than ``server.max_body_bytes`` (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"request body is larger than this server's limit of {limit} bytes (server.max_body_bytes)",
            code="request_too_large",
        )


class Gate:
    """The outermost layer: API keys, the body size limit, and one access log line per request."""

    def __init__(self, app: ASGIApp, keys: KeyCheck, max_body_bytes: int) -> None:
        self.app, self.keys, self.max_body = app, keys, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the key and the declared length, bound the body as it arrives, log the request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info = access_info(scope)
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            scope["lollms.authorised"] = authorised = not self.keys or self.keys.accepts(self.keys.presented(scope))
            length = _content_length(scope)
            if not authorised and scope["path"] not in _OPEN_PATHS and not scope["path"].startswith("/static/"):
                await _refuse(sending, ApiError(401, "missing or wrong API key", code="invalid_api_key"))
            elif length is not None and length > self.max_body:
                await _refuse(sending, BodyTooLarge(self.max_body))
            else:
                await self.app(scope, self._bounded(receive), sending)
        finally:
            tokens = info.get("tokens")
            access_log.info(
                '%s "%s %s" %s model=%s tokens=%s %.3fs',
                (scope.get("client") or ("-",))[0],
                scope["method"],
                scope["path"],
                status or "-",
                info.get("model", "-"),
                "-" if tokens is None else f"{tokens[0]}+{tokens[1]}",
                time.perf_counter() - started,
            )

    def _bounded(self, receive: Receive) -> Receive:
        """``receive`` that raises :class:`BodyTooLarge` once the body passes the limit (chunked uploads)."""
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        return bounded


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            with contextlib.suppress(ValueError):
                return int(value)
    return None


async def _refuse(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="lollms"'))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EventStream:
    """A ``text/event-stream`` response that closes its generator the moment the client leaves.

    One task sends the events, another waits for ``http.disconnect``; whichever ends first
    ends the other, and the generator is closed (``aclose``) before the response returns,
    so the model stops generating for a client that is gone and nothing is left running.
    """

    def __init__(self, events: AsyncGenerator[bytes, None], status: int = 200) -> None:
        self.events, self.status = events, status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the events until the generator ends or the client leaves, then close the generator."""
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),  # nginx: pass events on as they come
                ],
            }
        )

        async def pump() -> None:
            async for data in self.events:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(watch())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.events.aclose()
        if tasks[0].done() and not tasks[0].cancelled() and tasks[0].exception() is not None:
            exc = tasks[0].exception()
            if not isinstance(exc, OSError):  # a send to a closed socket: the client left
                raise exc  # type: ignore[misc]


def error_event(error: ApiError) -> bytes:
    """The mid-stream error event: ``data: {"error": {...}}``."""
    body = error_body(error.message, error.type, error.param, error.code)
    return b"data: " + json.dumps(body).encode() + b"\n\n"
