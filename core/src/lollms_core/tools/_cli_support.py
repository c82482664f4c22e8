"""What ``lollms generate/chat --tool`` needs: tools named on a command line, shown and approved there.

Kept here, beside the loop, so the command line only wires arguments to these.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from typing import IO, Any

from ..errors import ConfigError
from ..types import MSG_TYPE, ToolCall

__all__ = ["ask_before_call", "load_tool_specs", "show_tool_event"]


def load_tool_specs(specs: list[str]) -> list[Any]:
    """The tools named by ``--tool`` values.

    ``pkg.mod:func``, ``pkg.mod:Class`` (a toolbox made with no arguments) or ``pkg.mod:object``;
    any other value (``alias::tool``, a bare name) is a tool name for the tools binding.

    :raises ConfigError: a module that cannot be imported, or an attribute it does not have
        (listing the functions it has).
    """
    out: list[Any] = []
    for spec in specs:
        module_name, sep, attribute = spec.partition(":")
        if not sep or "::" in spec:
            out.append(spec)  # a tools binding's name (alias::tool), resolved by the client
            continue
        if not module_name or not attribute:
            raise ConfigError(f"--tool '{spec}': expected MODULE:FUNCTION, e.g. mypkg.tools:search")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # whatever the module raised at import: reported, never a traceback
            raise ConfigError(
                f"--tool '{spec}': cannot import module '{module_name}': {type(exc).__name__}: {exc}"
            ) from None
        target = module
        for part in attribute.split("."):
            if not hasattr(target, part):
                offered = sorted(
                    n
                    for n, v in vars(module).items()
                    if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                )
                raise ConfigError(
                    f"--tool '{spec}': module '{module_name}' has no '{attribute}'"
                    + (f"; it has: {', '.join(offered)}" if offered else "")
                )
            target = getattr(target, part)
        if inspect.isclass(target):
            try:
                target = target()
            except Exception as exc:
                raise ConfigError(
                    f"--tool '{spec}': cannot create {attribute}(): {type(exc).__name__}: {exc}"
                ) from None
        out.append(target)
    return out


def show_tool_event(msg_type: Any, meta: dict[str, Any] | None, out: IO[str]) -> bool:
    """Print a tool call or result as it happens (one line each); ``True`` if it was one."""
    if msg_type == MSG_TYPE.MSG_TYPE_TOOL_CALL and meta:
        call = meta.get("tool_call") or {}
        arguments = (
            call.get("raw_arguments") if call.get("error") else json.dumps(call.get("arguments"), ensure_ascii=False)
        )
        out.write(f"\n[tool call] {call.get('name')}({_cut(str(arguments))})\n")
    elif msg_type == MSG_TYPE.MSG_TYPE_TOOL_OUTPUT and meta:
        result = meta.get("tool_result") or {}
        mark = "tool error" if result.get("is_error") else "tool result"
        out.write(f"[{mark}] {result.get('name')}: {_cut(str(result.get('content', '')))}\n")
    else:
        return False
    out.flush()
    return True


def ask_before_call(read_line: Callable[[], str], out: IO[str]) -> Callable[[ToolCall], bool]:
    """A ``before_call`` hook asking on the terminal: ``y`` runs the call, anything else refuses it."""

    def ask(call: ToolCall) -> bool:
        out.write(f"run {call.name}({_cut(json.dumps(call.arguments, ensure_ascii=False))})? [y/N] ")
        out.flush()
        answer = read_line()
        return answer.strip().lower() in ("y", "yes")

    return ask


def _cut(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
