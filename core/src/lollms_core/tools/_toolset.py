"""What callers may pass as ``tools=``, turned into one name -> :class:`Tool` table.

Functions, :class:`Tool` objects, :class:`~lollms_core.types.ToolDefinition` (a tool the
caller runs), OpenAI-shaped dicts (lollms_client's inline dicts may carry a ``callable``),
instances of a class whose public methods are tools (a toolbox), and names of tools offered
by tools bindings (``alias::tool``), which a resolver turns into tools.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..bindings._tool_stream import coerce_tool_definitions
from ..errors import ConfigError
from ..types import ToolDefinition
from ._tool import Tool, function_tool

__all__ = ["ToolResolver", "ToolSet", "no_tool_names"]

#: Turns a tool name given as a string (``alias::tool``) into the tools it names.
ToolResolver = Callable[[str], list[Tool]]


def no_tool_names(name: str) -> list[Tool]:
    """The resolver used when no tools binding is configured: every name is unknown."""
    raise ConfigError(
        f"unknown tool '{name}': names are looked up in the client's tools binding and none is configured "
        "(LollmsClient(tools_binding_name=...)); pass a function, a Tool or a ToolDefinition instead"
    )


class ToolSet:
    """The tools of one loop, by name, in the order they were given."""

    __slots__ = ("tools",)

    def __init__(self, items: Iterable[Any] = (), resolve: ToolResolver | None = None) -> None:
        if isinstance(items, (str, bytes, dict)) or callable(items) or isinstance(items, Tool):
            items = [items]  # one tool given alone
        self.tools: dict[str, Tool] = {}
        for index, item in enumerate(items):
            for made in _as_tools(item, index, resolve or no_tool_names):
                if made.name in self.tools:
                    raise ConfigError(f"two tools are named '{made.name}': tool names must be unique")
                self.tools[made.name] = made

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or ``None``."""
        return self.tools.get(name)

    def definitions(self) -> list[ToolDefinition]:
        """The definitions, in order (what the binding receives)."""
        return [t.definition for t in self.tools.values()]


def _as_tools(item: Any, index: int, resolve: ToolResolver) -> list[Tool]:
    if isinstance(item, Tool):
        return [item]
    if isinstance(item, str):
        return list(resolve(item))
    if isinstance(item, ToolDefinition):
        return [Tool(coerce_tool_definitions([item])[0])]
    if isinstance(item, dict):
        func = item.get("callable")
        definition = coerce_tool_definitions([{k: v for k, v in item.items() if k != "callable"}])[0]
        if func is not None and not callable(func):
            raise ConfigError(f"tools[{index}] 'callable' is a {type(func).__name__}, not a function")
        return [Tool(definition, func)]
    if inspect.isroutine(item) or isinstance(item, functools.partial):
        return [function_tool(item)]
    if isinstance(item, type) or item is None or isinstance(item, (int, float, bool, bytes, list, tuple)):
        raise ConfigError(
            f"tools[{index}] is a {type(item).__name__}: pass functions, Tool objects, ToolDefinitions, "
            "OpenAI tool dicts, tool names, or an instance of a class whose methods are tools"
        )
    return _toolbox(item, index)


def _toolbox(instance: Any, index: int) -> list[Tool]:
    """The public methods of ``instance`` (those decorated with ``@tool`` keep their options)."""
    out: list[Tool] = []
    for name, member in inspect.getmembers(type(instance)):
        if name.startswith("_"):
            continue
        if isinstance(member, Tool):
            out.append(member.__get__(instance))
        elif inspect.isfunction(member):
            out.append(function_tool(getattr(instance, name)))
    if not out:
        raise ConfigError(
            f"tools[{index}]: the {type(instance).__name__} instance has no public methods to offer as tools"
        )
    return out
