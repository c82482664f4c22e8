"""``McpBinding``: the tools of several MCP servers, each named ``alias::tool``.

Sessions are bound to the event loop that opened them (the SDK's streams are anyio objects of
one loop). The sync surface uses a private loop in a daemon thread (see :mod:`._loop`); the
async surface is native: it opens and reuses sessions on the caller's own loop, so an
``await binding.acall_tool(...)`` costs no thread hop. A server that fails is reported by
alias (:class:`~lollms_core.errors.ToolServerError`) while the others keep serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from lollms_core._secrets import redact, remember_secret
from lollms_core.bindings import LollmsToolBinding
from lollms_core.bindings.tools import tool_schema_problem
from lollms_core.errors import LollmsError, ToolServerError
from lollms_core.types import ToolDefinition, ToolResult, new_call_id

from ._config import ServerConfig, parse_servers
from ._connection import Connection
from ._loop import LoopThread, close_at_exit
from ._results import to_tool_result

__all__ = ["SEPARATOR", "McpBinding"]

#: Between a server's alias and its tool's name, as lollms_client writes it.
SEPARATOR = "::"
log = logging.getLogger("lollms_mcp")


class McpBinding(LollmsToolBinding):
    """Tools of the MCP servers listed in ``servers`` (stdio commands or streamable HTTP URLs).

    Nothing starts when the binding is created: a server is connected on the first listing
    or call that needs it, and its session is reused until :meth:`close` (or, for sessions
    opened by async calls, until their event loop ends: ``asyncio.run`` stops them with it).
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.servers: list[ServerConfig] = parse_servers(
            self.config["servers"], self.config["timeout"], remember_secret
        )
        # The validated config keeps the servers with env and header values masked: reprs are safe.
        shown = {**self.config, "servers": [s.public() for s in self.servers]}
        secret = frozenset(k for k, v in self.config.masked().items() if v != self.config[k])
        self.config = type(self.config)(shown, secret)
        #: Why each failing server was left out of the last listing (alias -> typed error).
        self.server_errors: dict[str, ToolServerError] = {}
        self._loop: LoopThread | None = None
        # One set of connections per event loop that used this binding (the private one included).
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Connection]] = (
            weakref.WeakKeyDictionary()
        )
        self._sets_lock = threading.Lock()
        close_at_exit(self)

    # -- loops and their connections -------------------------------------------------------

    def _thread(self) -> LoopThread:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    self._loop = LoopThread(f"lollms-mcp-{self.binding_name}")
        return self._loop

    def _connections(self) -> dict[str, Connection]:
        """The connections of the running loop (made on its first use)."""
        loop = asyncio.get_running_loop()
        with self._sets_lock:
            conns = self._by_loop.get(loop)
            if conns is None:
                # Sessions keep their loop alive (a weak key does not help): forget the ended ones.
                for ended in [other for other in self._by_loop if other.is_closed()]:
                    del self._by_loop[ended]
                conns = {s.alias: Connection(s) for s in self.servers}
                self._by_loop[loop] = conns
        return conns

    def _wait_limit(self) -> float:
        # A backstop only: every request is bounded on the loop by its server's timeout.
        return max((s.timeout for s in self.servers), default=30.0) * 3 + 10

    # -- listing ----------------------------------------------------------------------------

    async def _list_all(self) -> list[ToolDefinition]:
        conns = list(self._connections().values())
        for conn in conns:
            conn.failure = None  # a listing is the moment to try a failed server again
        listings = await asyncio.gather(*(self._list_one(c) for c in conns), return_exceptions=True)
        found: list[ToolDefinition] = []
        for conn, listing in zip(conns, listings, strict=True):
            if isinstance(listing, ToolServerError):
                self.server_errors[conn.alias] = listing
                log.warning("%s", listing)
            elif isinstance(listing, BaseException):
                raise listing
            else:
                self.server_errors.pop(conn.alias, None)
                found.extend(listing)
        return found

    async def _list_one(self, conn: Connection) -> list[ToolDefinition]:
        out: list[ToolDefinition] = []
        for tool in await conn.list_tools():
            name = getattr(tool, "name", None)
            schema = getattr(tool, "input_schema", None)
            problem = tool_schema_problem(schema)
            if not isinstance(name, str) or not name or problem is not None or not isinstance(schema, dict):
                raise ToolServerError(
                    f"MCP server {conn.alias!r} lists tool {name!r} with an invalid input schema: {problem}",
                    server=conn.alias,
                )
            out.append(ToolDefinition(f"{conn.alias}{SEPARATOR}{name}", tool.description or "", dict(schema)))
        return out

    def _discover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        return self._thread().run(self._list_all(), self._wait_limit())

    async def _adiscover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        return await self._list_all()

    def _unknown_tool(self, name: str) -> LollmsError:
        alias = name.partition(SEPARATOR)[0]
        if alias in self.server_errors:
            return self.server_errors[alias]
        return super()._unknown_tool(name)

    # -- calling ----------------------------------------------------------------------------

    async def _call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        alias, _, tool = name.partition(SEPARATOR)
        result = await self._connections()[alias].call_tool(tool, arguments)
        return to_tool_result(result, name, new_call_id())

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return self._thread().run(self._call(name, arguments), self._wait_limit())

    async def _acall_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await self._call(name, arguments)

    # -- closing ----------------------------------------------------------------------------

    @staticmethod
    async def _close_set(conns: dict[str, Connection]) -> None:
        await asyncio.gather(*(c.aclose() for c in conns.values()), return_exceptions=True)

    def close(self) -> None:
        """Close every session and stop every stdio server's process. Safe to call twice.

        Sessions of a loop that is still running in another thread are closed there; a loop
        that already ended (``asyncio.run`` returned) took its sessions with it. From async
        code, prefer ``await binding.aclose()``.
        """
        private, self._loop = self._loop, None
        with self._sets_lock:
            sets = list(self._by_loop.items())
            self._by_loop = weakref.WeakKeyDictionary()
        try:
            for loop, conns in sets:
                if private is not None and loop is private.loop:
                    private.run(self._close_set(conns), self._wait_limit())
                elif loop.is_closed():
                    continue
                elif _running_here(loop):
                    loop.create_task(self._close_set(conns))  # close() called from that loop's own code
                elif loop.is_running():
                    asyncio.run_coroutine_threadsafe(self._close_set(conns), loop).result(self._wait_limit())
        except Exception as exc:  # closing goes on; the reason is logged
            log.warning("closing the %s binding: %s", self.binding_name, redact(str(exc)))
        finally:
            if private is not None:
                private.stop()

    async def aclose(self) -> None:
        """Async :meth:`close`: this loop's sessions are closed here, the others as :meth:`close` does."""
        with self._sets_lock:
            mine = self._by_loop.pop(asyncio.get_running_loop(), None)
        if mine is not None:
            await self._close_set(mine)
        await asyncio.to_thread(self.close)


def _running_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
