"""The built-in ``python`` tools binding: your own functions, named by module path, as tools.

``functions`` lists ``pkg.mod:func`` (one function, a ``@tool``, or a class made into a
toolbox) and ``pkg.mod:*`` (every public function the module defines). Schemas come from
signatures and docstrings (:mod:`lollms_core.tools`); calls are validated against them.
No plugin to write: ``lollms tools list -b python -c functions=mypkg.tools:*``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from ..bindings.tools import LollmsToolBinding
from ..errors import ConfigError
from ..types import ToolDefinition, ToolResult
from ._cli_support import load_tool_specs
from ._toolset import ToolSet

__all__ = ["PythonToolBinding", "load_functions"]


def _module_functions(module_name: str) -> list[Any]:
    """``pkg.mod:*``: the public functions (and ``@tool`` objects) defined in the module itself."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # whatever the module raised at import: reported, never a traceback
        raise ConfigError(f"functions: cannot import module '{module_name}': {type(exc).__name__}: {exc}") from None
    from ._tool import Tool

    found = [
        value
        for name, value in vars(module).items()
        if not name.startswith("_")
        and ((inspect.isfunction(value) and value.__module__ == module.__name__) or isinstance(value, Tool))
    ]
    if not found:
        raise ConfigError(f"functions: module '{module_name}' defines no public function to offer ('{module_name}:*')")
    return found


def load_functions(specs: Sequence[str]) -> list[Any]:
    """The functions (or tools, or toolbox instances) named by ``pkg.mod:func`` / ``pkg.mod:*`` entries.

    :raises ConfigError: an entry without ``:``, a module that cannot be imported, or a name it lacks.
    """
    out: list[Any] = []
    for spec in specs:
        if not isinstance(spec, str) or ":" not in spec:
            raise ConfigError(f"functions: {spec!r} is not MODULE:FUNCTION or MODULE:* (e.g. mypkg.tools:search)")
        module_name, _, attribute = spec.partition(":")
        out.extend(_module_functions(module_name) if attribute == "*" else load_tool_specs([spec]))
    return out


class PythonToolBinding(LollmsToolBinding):
    """Tools from Python functions named in ``functions`` (``pkg.mod:func``, ``pkg.mod:*``)."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.toolset = ToolSet(load_functions(self.config["functions"]))

    def _discover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        return self.toolset.definitions()

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        # Tool.invoke validates the arguments against the schema and turns failures into error results.
        return self.toolset.tools[name].invoke(arguments, "")

    async def _acall_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await self.toolset.tools[name].ainvoke(arguments, "")
