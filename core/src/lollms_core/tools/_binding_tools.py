"""Tools bindings offered to the tool loop: several at once, each under an alias (``alias::tool``).

``LollmsClient(tools_binding_name=..., tools_binding_config=...)`` builds one
:class:`ToolBindings`; ``generate_with_tools(tools=[...])`` and ``LollmsDiscussion.chat(tools=...)``
turn the names they are given into :class:`BindingTool` objects through :meth:`ToolBindings.resolve`
(the loop's resolver seam). A name is shown as ``alias::tool`` (the alias defaults to the
binding's name) and mapped to a valid wire name by the LLM base; the binding sees its own name.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from ..bindings.tools import LollmsToolBinding
from ..errors import ConfigError, LollmsError
from ..types import ToolDefinition, ToolResult
from ._tool import Tool, result_text

__all__ = ["SEPARATOR", "BindingTool", "ToolBindings"]

#: Between a binding's alias and its tool's name, as lollms_client writes it.
SEPARATOR = "::"


class BindingTool(Tool):
    """A tool that a tools binding runs: the loop's calls go to ``binding.call_tool``."""

    __slots__ = ("binding", "remote_name")

    def __init__(self, definition: ToolDefinition, binding: LollmsToolBinding, remote_name: str) -> None:
        super().__init__(definition, self._unused)
        self.binding = binding
        self.remote_name = remote_name

    @staticmethod
    def _unused(**_: Any) -> None:  # pragma: no cover - invoke/ainvoke below never call it
        raise AssertionError("a BindingTool runs through its binding")

    def _checked(self, call_id: str, arguments: Any) -> ToolResult | None:
        if not isinstance(arguments, dict):
            return self._error(
                call_id, f"Arguments for tool '{self.name}' must be a JSON object. Fix the call and try again."
            )
        problem = self.check(arguments)
        return None if problem is None else self._error(call_id, problem)

    def _shown(self, result: ToolResult, call_id: str) -> ToolResult:
        return dataclasses.replace(
            result, call_id=call_id, name=self.name, content=result_text(result.content, self.max_result_chars)
        )

    def _unavailable(self, call_id: str, exc: LollmsError) -> ToolResult:
        return self._error(call_id, f"Tool '{self.name}' is unavailable: {exc}. Answer without it or try later.")

    def invoke(self, arguments: dict[str, Any], call_id: str = "") -> ToolResult:
        """Run the call on the binding; a broken backend is an error result the model reads."""
        refused = self._checked(call_id, arguments)
        if refused is not None:
            return refused
        try:
            result = self.binding.call_tool(self.remote_name, arguments, call_id=call_id, timeout=self.timeout)
        except LollmsError as exc:
            return self._unavailable(call_id, exc)
        return self._shown(result, call_id)

    async def ainvoke(self, arguments: dict[str, Any], call_id: str = "") -> ToolResult:
        """Async :meth:`invoke` (natively async when the binding is, e.g. lollms-mcp)."""
        refused = self._checked(call_id, arguments)
        if refused is not None:
            return refused
        try:
            result = await self.binding.acall_tool(self.remote_name, arguments, call_id=call_id, timeout=self.timeout)
        except LollmsError as exc:
            return self._unavailable(call_id, exc)
        return self._shown(result, call_id)


def _aliases(names: Any) -> dict[str, str]:
    """``tools_binding_name`` as ``{alias: binding name}``: a name, a list of names, or a dict alias -> name."""
    if isinstance(names, str):
        return {names.rpartition(":")[2]: names}
    if isinstance(names, Mapping):
        out = dict(names)
    elif isinstance(names, Sequence) and all(isinstance(n, str) for n in names):
        out = {n.rpartition(":")[2]: n for n in names}
        if len(out) != len(names):
            raise ConfigError("tools_binding_name lists a binding twice: give a dict {alias: name} to use it twice")
    else:
        raise ConfigError(
            "tools_binding_name must be a binding name, a list of names, or a dict {alias: name}, "
            f"not {type(names).__name__}"
        )
    for alias, name in out.items():
        if not isinstance(alias, str) or not alias or SEPARATOR in alias or not isinstance(name, str):
            raise ConfigError(
                f"tools_binding_name: alias {alias!r} -> {name!r} must map a name without '::' to a binding name"
            )
    return out


class ToolBindings:
    """The tools bindings one client offers, by alias."""

    def __init__(self, bindings: Mapping[str, LollmsToolBinding]) -> None:
        self.bindings = dict(bindings)
        self._tools: dict[str, dict[str, BindingTool]] = {}

    @classmethod
    def create(cls, names: Any, configs: Any = None, registry: Any = None) -> ToolBindings:
        """Build the bindings named by ``tools_binding_name`` with ``tools_binding_config``.

        With one binding, ``configs`` is its config; with several, a dict alias -> config.

        :raises ConfigError: a malformed name or config (nothing is built then).
        """
        from ..discovery.managers import LollmsToolBindingManager

        aliases = _aliases(names)
        configs = configs or {}
        if not isinstance(configs, Mapping):
            raise ConfigError(f"tools_binding_config must be a dict, not {type(configs).__name__}")
        several = not isinstance(names, str)
        if several and set(configs) - set(aliases):
            unknown = sorted(set(configs) - set(aliases))
            raise ConfigError(
                f"tools_binding_config names {unknown}, which are not aliases of tools_binding_name {sorted(aliases)}"
            )
        manager = LollmsToolBindingManager(registry=registry)
        built: dict[str, LollmsToolBinding] = {}
        try:
            for alias, name in aliases.items():
                config = dict(configs.get(alias) or {}) if several else dict(configs)
                binding = manager.create_binding(name, **config)
                assert isinstance(binding, LollmsToolBinding)
                built[alias] = binding
        except BaseException:
            for binding in built.values():
                binding.close()
            raise
        return cls(built)

    def _of(self, alias: str) -> dict[str, BindingTool]:
        tools = self._tools.get(alias)
        if tools is None:
            binding = self.bindings[alias]
            tools = {
                d.name: BindingTool(
                    ToolDefinition(f"{alias}{SEPARATOR}{d.name}", d.description, d.parameters), binding, d.name
                )
                for d in binding.definitions()
            }
            self._tools[alias] = tools
        return tools

    def tools(self) -> list[BindingTool]:
        """Every tool of every binding, named ``alias::tool``."""
        return [t for alias in self.bindings for t in self._of(alias).values()]

    def list_tools(self) -> list[dict[str, Any]]:
        """``name`` (``alias::tool``), ``description``, ``parameters`` and ``binding`` (the alias) of every tool."""
        return [
            {"name": t.name, "description": t.description, "parameters": t.parameters, "binding": alias}
            for alias in self.bindings
            for t in self._of(alias).values()
        ]

    def resolve(self, name: str) -> list[Tool]:
        """The tools a name given to the loop stands for.

        ``alias::*`` is every tool of that binding; ``alias::tool`` one tool; a binding's own
        tool name (``add``, or an MCP ``server::tool``) is accepted when one binding has it.

        :raises ConfigError: no such tool (close matches listed), or a name two bindings share.
        """
        alias, sep, rest = name.partition(SEPARATOR)
        if sep and alias in self.bindings:
            tools = self._of(alias)
            if rest == "*":
                return list(tools.values())
            if rest in tools:
                return [tools[rest]]
        found = [tools[name] for tools in (self._of(a) for a in self.bindings) if name in tools]
        if len(found) == 1:
            return list(found)
        shown = [t.name for t in self.tools()]
        if found:
            raise ConfigError(
                f"tool '{name}' is offered by several tools bindings: say which, {' or '.join(t.name for t in found)}"
            )
        close = difflib.get_close_matches(name, shown, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"no tools binding offers a tool '{name}'{hint} (offered: {', '.join(shown) or 'none'})")

    def close(self) -> None:
        """Close every binding (an MCP binding stops its servers)."""
        for binding in self.bindings.values():
            binding.close()
