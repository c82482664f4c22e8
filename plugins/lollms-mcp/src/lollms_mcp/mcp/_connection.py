"""One MCP server connection: a session opened lazily, kept open, reused, and closed for good.

The SDK's transports and ``ClientSession`` are anyio context managers that must be entered
and left by ONE task, so each connection has an owner task that opens them, waits until
told to stop, and closes them (which stops a stdio server's process). Requests run as
their own tasks beside it and are raced against the timeout and against the connection
breaking (garbage on the wire), so no call waits longer than the server's ``timeout``.
Everything here runs on the binding's event loop. The SDK is imported with this module, that
is when an ``mcp`` binding is created, never at discovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from lollms_core._secrets import redact
from lollms_core.errors import LollmsError, ToolServerError
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import PaginatedRequestParams

from ._config import ServerConfig

__all__ = ["Connection"]


async def _within(seconds: float, request: Awaitable[T]) -> T:
    """``await request`` with a deadline, in the calling task (Python 3.11's ``asyncio.timeout``)."""
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:  # Python 3.10: wait_for runs it as a task
        return await asyncio.wait_for(request, seconds)
    async with timeout(seconds):
        return await request


T = TypeVar("T")
log = logging.getLogger("lollms_mcp")
# The JSON-RPC code the SDK uses when the other side went away.
_CONNECTION_CLOSED = -32000
# How long a stdio server gets to exit after its session closes (the SDK then terminates it).
_CLOSE_GRACE = 5.0


def _closed(session: Any) -> bool:
    """Whether the session already knows its server went away (then a new one is started first).

    Reads the SDK's dispatcher flag when it has one; an SDK without it costs one failed
    call, which also marks the connection dead.
    """
    dispatcher = getattr(session, "_dispatcher", None)
    return bool(getattr(dispatcher, "_closed", False))


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)  # an exception group (anyio task groups raise them)
    if isinstance(inner, tuple) and inner:
        return "; ".join(_reason(e) for e in inner)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}"[:500])


class Connection:
    """The session with one server. ``alias`` names it in every error."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.alias = config.alias
        self._session: Any = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        #: Why the connection broke (garbage on the wire, the owner task ended), ``None`` while it works.
        self.broken_by: BaseException | None = None
        self._waiting: set[asyncio.Task[Any]] = set()
        self._cancelled: set[asyncio.Task[Any]] = set()
        self._lock: asyncio.Lock | None = None
        #: Set when the server went away since the session opened (the next call reconnects, once).
        self.dead = False
        #: The error that made this server unusable after its one reconnect, until a refresh.
        self.failure: ToolServerError | None = None

    def _error(self, what: str, status: int = 503) -> ToolServerError:
        return ToolServerError(f"MCP server {self.alias!r}: {what}", server=self.alias, status_code=status)

    # -- opening and closing ---------------------------------------------------------------

    def _transport(self) -> Any:
        if self.config.type == "stdio":
            params = StdioServerParameters(
                command=self.config.command[0],
                args=list(self.config.command[1:]),
                env=dict(self.config.env) or None,
                cwd=self.config.cwd,
            )
            return stdio_client(params)
        # TLS verification is the HTTP client's default and is never turned off here.
        client = create_mcp_http_client(headers=dict(self.config.headers) or None)
        return _owned_client(client, streamable_http_client(self.config.url, http_client=client))

    async def _own(self, ready: asyncio.Future[Any]) -> None:
        """The owner task: open the transport and session, wait for stop, close them."""
        assert self._stop is not None
        started = False
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = ClientSession(read, write, message_handler=self._on_message)
                await stack.enter_async_context(session)
                ready.set_result(session)
                started = True
                await self._stop.wait()
        except BaseException as exc:
            if not started:  # the opener waits on `ready`: it gets the reason from there
                self.dead = True
                if not ready.done():
                    ready.set_exception(self._error(f"could not start: {_reason(exc)}"))
            else:
                self._break(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            if started:
                self._break(ConnectionError("the session closed"))

    async def _on_message(self, message: Any) -> None:
        """The SDK hands transport problems (a line that is not JSON-RPC) here: the connection is broken."""
        if isinstance(message, Exception):
            self._break(message)

    def _break(self, exc: BaseException) -> None:
        """Mark the connection broken and stop every request waiting on it (each gets a typed error)."""
        self.dead = True
        if self.broken_by is None:
            self.broken_by = exc
        for task in list(self._waiting):
            if task not in self._cancelled:
                self._cancelled.add(task)
                task.cancel()

    async def _open(self) -> Any:
        loop = asyncio.get_running_loop()
        self._stop, self.broken_by = asyncio.Event(), None
        self.dead = False
        ready: asyncio.Future[Any] = loop.create_future()
        self._owner = loop.create_task(self._own(ready), name=f"lollms-mcp:{self.alias}")
        try:
            session = await self._race(asyncio.shield(ready), "start")
            await self._race(session.initialize(), "initialise")
        except BaseException:
            await self.aclose()
            raise
        self._session = session
        return session

    async def session(self) -> Any:
        """The open session; opened on first use, and once more when the server went away."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        session = self._session
        if session is not None and not self.dead and not _closed(session):
            return session
        async with self._lock:
            if self._session is not None and not self.dead and not _closed(self._session):
                return self._session
            if self.failure is not None:
                raise self.failure
            reconnecting = self._session is not None
            await self.aclose()
            try:
                return await self._open()
            except ToolServerError as exc:
                if reconnecting:  # the one reconnect failed: stop trying until a refresh
                    self.failure = exc
                raise

    async def aclose(self) -> None:
        """Close the session and stop the server (a stdio server's process ends). Safe to repeat."""
        owner, self._owner, self._session = self._owner, None, None
        if owner is None:
            return
        if self._stop is not None:
            self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(owner), _CLOSE_GRACE + 2)
        except (asyncio.TimeoutError, TimeoutError):
            owner.cancel()
            with contextlib.suppress(BaseException):
                await owner
        except BaseException:
            pass

    # -- requests ---------------------------------------------------------------------------

    async def _race(self, request: Awaitable[T], what: str) -> T:
        """``request``, unless the timeout passes or the connection breaks first (then a typed error).

        Awaited in the caller's own task (no extra task per request: each costs two turns of a
        busy loop); a broken connection cancels the tasks waiting on it, see :meth:`_break`.
        """
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always called from a coroutine on a loop
            raise RuntimeError("a request needs a running task")
        if self.broken_by is not None:
            raise self._error(f"the connection broke before {what}: {_reason(self.broken_by)}")
        self._waiting.add(task)
        try:
            return await _within(self.config.timeout, request)
        except asyncio.CancelledError:
            if task not in self._cancelled:
                raise  # our caller's cancellation: not ours to turn into an error
            self._cancelled.discard(task)
            if hasattr(task, "uncancel"):
                task.uncancel()  # the cancel was ours: the task's own scopes must not see it
            reason = _reason(self.broken_by) if self.broken_by is not None else "closed"
            raise self._error(f"the connection broke during {what}: {reason}") from None
        except (asyncio.TimeoutError, TimeoutError):
            raise self._error(f"no answer to {what} within {self.config.timeout:g} s", status=504) from None
        except LollmsError:
            raise
        except Exception as exc:
            raise self._failed(exc, what) from None
        finally:
            self._waiting.discard(task)

    def _failed(self, exc: BaseException, what: str) -> ToolServerError:
        code = getattr(getattr(exc, "error", None), "code", None)
        if code == _CONNECTION_CLOSED or "Connection closed" in str(exc):
            self.dead = True
            return self._error(f"the server closed the connection during {what} (it exited?)")
        return self._error(f"{what} failed: {_reason(exc)}")

    async def list_tools(self) -> list[Any]:
        """Every tool the server lists (all pages)."""
        session = await self.session()
        tools: list[Any] = []
        cursor: str | None = None
        while True:
            if cursor is None:
                page = await self._race(session.list_tools(), "tools/list")
            else:
                page = await self._race(session.list_tools(params=PaginatedRequestParams(cursor=cursor)), "tools/list")
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """The server's ``CallToolResult`` for ``name(arguments)``."""
        session = await self.session()
        return await self._race(session.call_tool(name, arguments), f"the call of {name!r}")


@contextlib.asynccontextmanager
async def _owned_client(client: Any, transport: Any) -> Any:
    """The streamable HTTP transport, with the HTTP client we made for it closed after it."""
    async with client, transport as streams:
        yield streams
