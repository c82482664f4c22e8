"""Tool calls in the LLM contract: request preparation, wire names, and stream assembly.

Private to the LLM base. Written once here so that no binding can get these wrong: a binding
sees only wire-valid names and yields the backend's deltas; the base assembles them by index,
parses the arguments once at the end and maps the names back.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import ConfigError
from ..types import Message, ToolCall, ToolCallDelta, ToolDefinition, new_call_id

__all__ = [
    "TOOL_CHOICES",
    "ToolAssembler",
    "coerce_tool_definitions",
    "parse_arguments",
    "prepare_tools",
    "wire_name",
]

#: What every wire (OpenAI, Ollama, llama.cpp, Anthropic...) accepts as a function name.
WIRE_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_NOT_WIRE = re.compile(r"[^a-zA-Z0-9_-]")
#: Control characters other than tab/newline/carriage return: never valid in a name or description.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TOOL_CHOICES = ("auto", "none", "required")


def wire_name(name: str) -> str:
    """``name`` if every wire accepts it, else a valid name derived from it (the same one every time).

    Mapped names keep their readable part and gain a short hash, so two names that clean up the
    same (``a::b`` and ``a..b``) stay apart.
    """
    if WIRE_NAME.fullmatch(name):
        return name
    cleaned = _NOT_WIRE.sub("_", name)[:55] or "tool"
    return f"{cleaned}_{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def check_tool_text(what: str, value: Any, *, multiline: bool) -> str:
    """``value`` if it is a string with no control characters (names: no whitespace controls at all).

    :raises ConfigError: naming the field and the position of the first bad character.
    """
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a str, not {type(value).__name__}")
    bad = _CONTROL.search(value) if multiline else re.search(r"[\x00-\x1f\x7f-\x9f]", value)
    if bad is not None:
        raise ConfigError(
            f"{what} contains the control character {bad.group()!r} at position {bad.start()}: "
            "remove it (names may hold letters, digits, '_', '-', '.', ':'; descriptions also tabs and newlines)"
        )
    return value


def coerce_tool_definitions(items: Iterable[Any]) -> tuple[ToolDefinition, ...]:
    """Tool definitions from what callers pass.

    :class:`ToolDefinition`, objects with a ``definition`` (a ``lollms_core.tools.Tool``), or
    OpenAI-shaped / flat dicts.

    :raises ConfigError: an item of another kind, a bad name or description, a duplicated name.
    """
    out: list[ToolDefinition] = []
    for index, item in enumerate(items):
        definition = getattr(item, "definition", item)
        if isinstance(definition, dict):
            spec = definition.get("function", definition) if definition.get("type") == "function" else definition
            if not isinstance(spec, dict) or "name" not in spec:
                raise ConfigError(f"tools[{index}] is a dict without a 'name' (expected an OpenAI tool entry)")
            definition = ToolDefinition(
                name=spec["name"],
                description=spec.get("description") or "",
                parameters=spec.get("parameters") or {"type": "object", "properties": {}},
            )
        if not isinstance(definition, ToolDefinition):
            raise ConfigError(
                f"tools[{index}] is a {type(item).__name__}: expected a ToolDefinition, a Tool "
                "(lollms_core.tools.tool(func)) or an OpenAI tool dict"
            )
        check_tool_text(f"tools[{index}] name", definition.name, multiline=False)
        if not definition.name:
            raise ConfigError(f"tools[{index}] has an empty name")
        check_tool_text(f"tool '{definition.name}' description", definition.description, multiline=True)
        if not isinstance(definition.parameters, dict) or definition.parameters.get("type", "object") != "object":
            raise ConfigError(
                f"tool '{definition.name}' parameters must be a JSON Schema object "
                '({"type": "object", "properties": {...}})'
            )
        out.append(definition)
    names = [d.name for d in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"tool names must be unique; offered more than once: {', '.join(twice)}")
    return tuple(out)


def prepare_tools(
    tools: Sequence[Any] | None, tool_choice: str | None, messages: list[Message]
) -> tuple[tuple[ToolDefinition, ...], str | None, dict[str, str]]:
    """Definitions with wire names, the wire ``tool_choice``, and the wire -> caller name map.

    ``messages`` is changed in place: tool names in earlier calls and results are mapped too,
    so a history re-sent to any backend only carries names it accepts.

    :raises ConfigError: a bad tool, or a ``tool_choice`` that is none of the choices or tools.
    """
    definitions = coerce_tool_definitions(tools or ())
    wire_names: dict[str, str] = {}
    mapped: list[ToolDefinition] = []
    for d in definitions:
        wire = wire_name(d.name)
        if wire != d.name:
            wire_names[wire] = d.name
            d = ToolDefinition(wire, d.description, d.parameters)
        mapped.append(d)
    if tool_choice is not None:
        if not isinstance(tool_choice, str):
            raise ConfigError(f"tool_choice must be a str, not {type(tool_choice).__name__}")
        names = [d.name for d in definitions]
        if tool_choice not in TOOL_CHOICES and tool_choice not in names:
            allowed = ", ".join([*TOOL_CHOICES, *names])
            raise ConfigError(f"tool_choice '{tool_choice}' is none of: {allowed}")
        if tool_choice in ("required", *names) and not definitions:
            raise ConfigError(f"tool_choice '{tool_choice}' needs tools: pass tools=[...]")
        if tool_choice not in TOOL_CHOICES:
            tool_choice = wire_name(tool_choice)
    _map_history(messages)
    return tuple(mapped), tool_choice, wire_names


def _map_history(messages: list[Message]) -> None:
    for i, m in enumerate(messages):
        calls = m.get("tool_calls")
        if calls:
            fixed = []
            for c in calls:
                fn = c.get("function") or {}
                name = str(fn.get("name") or "")
                fixed.append(c if WIRE_NAME.fullmatch(name) else {**c, "function": {**fn, "name": wire_name(name)}})
            if any(a is not b for a, b in zip(fixed, calls, strict=True)):  # copied only when a name changed
                messages[i] = {**m, "tool_calls": fixed}
        if m.get("role") == "tool" and isinstance(m.get("name"), str) and not WIRE_NAME.fullmatch(m["name"]):
            messages[i] = {**messages[i], "name": wire_name(m["name"])}


def parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """The arguments of a call, parsed once: ``(dict, None)``, or ``({}, why)`` when not a JSON object.

    An empty text is no arguments (several servers send ``""`` for a tool without parameters).
    """
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"the arguments are not valid JSON ({exc}): {_short(raw)}"
    if not isinstance(value, dict):
        return {}, f"the arguments must be a JSON object, got {type(value).__name__}: {_short(raw)}"
    return value, None


def _short(text: str) -> str:
    return repr(text) if len(text) <= 200 else repr(text[:197]) + "..."


class _Partial:
    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.args: list[str] = []


class ToolAssembler:
    """Collects a stream's tool-call deltas (or whole calls) and makes complete calls once, at the end."""

    __slots__ = ("_order", "_parts", "_whole")

    def __init__(self) -> None:
        self._parts: dict[int, _Partial] = {}
        self._whole: dict[int, ToolCall] = {}
        self._order: list[int] = []

    def add(self, item: Any) -> None:
        """Record one :class:`ToolCallDelta` or :class:`ToolCall`.

        :raises TypeError: anything else (the base reports it as the binding's error).
        """
        if isinstance(item, ToolCallDelta):
            part = self._parts.get(item.index)
            if part is None:
                part = self._parts[item.index] = _Partial()
                self._order.append(item.index)
            # id and name come once (OpenAI sends them in the first delta only); a server that
            # repeats them must not get them doubled.
            part.id = part.id or item.id
            part.name = part.name or item.name
            if item.arguments:
                part.args.append(item.arguments)
        elif isinstance(item, ToolCall):
            key = -1 - len(self._whole)  # whole calls keep their place after/among streamed ones
            self._whole[key] = item
            self._order.append(key)
        else:
            raise TypeError(
                f"a binding's _stream yielded a {type(item).__name__}: expected Chunk, ToolCallDelta or ToolCall"
            )

    def calls(self, wire_names: dict[str, str]) -> tuple[ToolCall, ...]:
        """The complete calls in stream order, arguments parsed, names mapped back to the caller's."""
        out: list[ToolCall] = []
        for key in self._order:
            whole = self._whole.get(key)
            if whole is not None:
                out.append(
                    ToolCall(
                        whole.id or new_call_id(),
                        wire_names.get(whole.name, whole.name),
                        whole.arguments,
                        whole.raw_arguments,
                        whole.error,
                    )
                )
                continue
            part = self._parts[key]
            raw = "".join(part.args)
            arguments, error = parse_arguments(raw)
            name = part.name or ""
            if not name:
                error = error or "the call has no tool name"
            out.append(ToolCall(part.id or new_call_id(), wire_names.get(name, name), arguments, raw, error))
        return tuple(out)
