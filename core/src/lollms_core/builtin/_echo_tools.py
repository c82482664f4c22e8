"""The echo LLM's deterministic tool calling, so the tool loop can be tested end to end without an engine.

The script is written in the last user message, one directive per line:

- ``/call NAME ARGS``: call tool ``NAME`` with the raw argument text ``ARGS`` (sent as is, so a
  test can send JSON that is broken or breaks the schema), once: when the turn already has
  tool results after that user message, the echo answers with the results' text instead.
- ``/loop NAME ARGS``: the same, but every round (a model that never stops calling).

How the calls come out depends on the request, as with a real backend:

- ``tools`` given (native): :class:`~lollms_core.types.ToolCallDelta` fragments, the arguments
  cut in three and the calls interleaved, without ids (the base generates them).
- ``json_schema`` given (constrained decoding): a JSON value built from the schema; a
  ``tool_calls`` property is filled with the pending calls (lollms' prompt protocol).
- neither, and a system message that mentions ``<tool>``: lollms_client's text protocol,
  ``<tool>{"name": ..., "parameters": ...}</tool>``.

``tool_choice="required"`` (or a tool's name) with no directive calls that (or the first) tool
with ``{}``; ``"none"`` makes no call. The binding config ``tool_calling`` says what the
binding claims: ``native`` (default), ``ignore`` (claims support but answers in prose, like a
server whose chat template drops the tools), ``none`` (no support).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .._json_schema import schema_errors
from ..types import ChatRequest, Chunk, Message, ToolCallDelta

__all__ = ["echo_tool_stream", "pending_calls"]


def _text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def pending_calls(request: ChatRequest) -> tuple[list[tuple[str, str]], str] | None:
    """``(calls, reply)``: the calls the echo makes now and the text it would answer; ``None`` = plain echo."""
    messages = request.messages
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
    if last is None:
        return None
    calls: list[tuple[str, str]] = []
    looping: list[tuple[str, str]] = []
    for line in _text(messages[last]).splitlines():
        word, _, rest = line.strip().partition(" ")
        if word in ("/call", "/loop"):
            name, _, args = rest.strip().partition(" ")
            (looping if word == "/loop" else calls).append((name, args.strip()))
    results = [_text(m) for m in messages[last + 1 :] if m.get("role") == "tool"]
    if not calls and not looping and not results:
        return None
    reply = "\n".join(results) if results else _text(messages[last])
    return ([] if results else calls) + looping, reply


def echo_tool_stream(request: ChatRequest, mode: str) -> Iterator[Chunk | ToolCallDelta] | None:
    """The echo's answer when tools or a schema are involved, or ``None`` for the plain echo."""
    plan = pending_calls(request)
    choice = request.tool_choice
    native = bool(request.tools) and mode == "native" and choice != "none"
    calls, reply = plan if plan is not None else ([], None)
    if native and not calls and choice not in (None, "auto", "none"):
        name = choice if choice != "required" else request.tools[0].name
        calls = [(name, "{}")]
    if native and calls:
        return _native(calls)
    if request.json_schema is not None:
        return iter([Chunk(json.dumps(_constrained(request, calls, reply)))])
    system = " ".join(_text(m) for m in request.messages if m.get("role") == "system")
    if calls and "<tool>" in system:
        text = "\n".join(f'<tool>{{"name": {json.dumps(n)}, "parameters": {a or "{}"}}}</tool>' for n, a in calls)
        return iter([Chunk(text)])
    if reply is not None and plan is not None and not plan[0]:
        return iter([Chunk(reply)])  # the results came back: answer with them
    return None


def _constrained(request: ChatRequest, calls: list[tuple[str, str]], reply: str | None) -> Any:
    schema = request.json_schema or {}
    if reply is None:  # no script: a user message that is already a valid answer comes back as is
        last = next((m for m in reversed(request.messages) if m.get("role") == "user"), {})
        reply = _text(last)
        for value in _json_values(reply):  # an echo: the prompt's own JSON, when it is a valid answer
            if not schema_errors(value, schema):
                return value
    return _fill(schema, schema, calls, reply)


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON object or array found in ``text`` (whole, fenced or inline), in order."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                yield decoder.raw_decode(text, i)[0]
            except ValueError:
                continue


def _native(calls: list[tuple[str, str]]) -> Iterator[ToolCallDelta]:
    pieces = []
    for _name, args in calls:
        third = max(1, len(args) // 3)
        pieces.append([args[:third], args[third : 2 * third], args[2 * third :]])
    for index, (name, _) in enumerate(calls):
        yield ToolCallDelta(index, name=name)
    for step in range(3):  # interleaved, as a server streaming parallel calls may do
        for index, parts in enumerate(pieces):
            if parts[step]:
                yield ToolCallDelta(index, arguments=parts[step])


def _fill(schema: dict[str, Any], root: dict[str, Any], calls: list[tuple[str, str]], text: str) -> Any:
    """A value valid for ``schema``: what a constrained decoder lets the echo say."""
    if "$ref" in schema:
        node: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            node = node[part]
        return _fill(node, root, calls, text)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = schema[key]
            wanted = next((b for b in branches if ("tool_calls" in _props(b, root)) == bool(calls)), branches[0])
            return _fill(wanted, root, calls, text)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = _props(schema, root)
        out: dict[str, Any] = {}
        for name in schema.get("required", list(props)):
            if name == "tool_calls" and calls:
                out[name] = [{"name": n, "arguments": _loads(a)} for n, a in calls]
            else:
                out[name] = _fill(props.get(name, {"type": "string"}), root, calls, text)
        return out
    if kind == "array":
        item = schema.get("items") or {"type": "string"}
        return [_fill(item, root, [], text) for _ in range(int(schema.get("minItems", 0)))]
    return {"string": text, "integer": 0, "number": 0, "boolean": False, "null": None}.get(kind, text)


def _props(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        node: Any = root
        for part in str(schema["$ref"])[2:].split("/"):
            node = node[part]
        schema = node
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _loads(raw: str) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
