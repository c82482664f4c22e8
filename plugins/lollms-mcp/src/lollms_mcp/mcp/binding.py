"""``McpBinding``: the tools of several MCP servers, each named ``alias::tool``.

Sessions live on a private event loop (see :mod:`._loop`): the sync surface waits on it,
the async one awaits it natively. A server that fails is reported by alias
(:class:`~lollms_core.errors.ToolServerError`) while the others keep serving.
"""

from __future__ import annotations

import logging
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
    or call that needs it, and its session is reused until :meth:`close`.
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
        self._connections = {s.alias: Connection(s) for s in self.servers}
        #: Why each failing server was left out of the last listing (alias -> typed error).
        self.server_errors: dict[str, ToolServerError] = {}
        self._loop: LoopThread | None = None
        close_at_exit(self)

    # -- the loop ---------------------------------------------------------------------------

    def _thread(self) -> LoopThread:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    self._loop = LoopThread(f"lollms-mcp-{self.binding_name}")
        return self._loop

    def _wait_limit(self) -> float:
        # A backstop only: every request is bounded on the loop by its server's timeout.
        return max((s.timeout for s in self.servers), default=30.0) * 3 + 10

    # -- listing ----------------------------------------------------------------------------

    async def _list_all(self) -> list[ToolDefinition]:
        import asyncio

        conns = list(self._connections.values())
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
        self._reset_failures()
        return self._thread().run(self._list_all(), self._wait_limit())

    async def _adiscover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        self._reset_failures()
        return await self._thread().arun(self._list_all())

    def _reset_failures(self) -> None:
        # A listing is the moment to try a failed server again.
        for conn in self._connections.values():
            conn.failure = None

    def _unknown_tool(self, name: str) -> LollmsError:
        alias = name.partition(SEPARATOR)[0]
        if alias in self.server_errors:
            return self.server_errors[alias]
        return super()._unknown_tool(name)

    # -- calling ----------------------------------------------------------------------------

    async def _call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        alias, _, tool = name.partition(SEPARATOR)
        result = await self._connections[alias].call_tool(tool, arguments)
        return to_tool_result(result, name, new_call_id())

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return self._thread().run(self._call(name, arguments), self._wait_limit())

    async def _acall_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await self._thread().arun(self._call(name, arguments))

    # -- closing ----------------------------------------------------------------------------

    async def _close_all(self) -> None:
        import asyncio

        await asyncio.gather(*(c.aclose() for c in self._connections.values()), return_exceptions=True)

    def close(self) -> None:
        """Close every session and stop every stdio server's process. Safe to call twice."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            loop.run(self._close_all(), self._wait_limit())
        except Exception as exc:
            log.warning("closing the %s binding: %s", self.binding_name, redact(str(exc)))
        finally:
            loop.stop()
            # Fresh connections: the old ones belong to the stopped loop; a later call starts anew.
            self._connections = {s.alias: Connection(s) for s in self.servers}
