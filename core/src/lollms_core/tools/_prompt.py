"""``tool_mode="prompt"``: tool calling for bindings without native tools, implemented once.

The tools are described in the system prompt. Where the binding can constrain its answer to a
JSON Schema, the answer must be ``{"tool_calls": [{"name", "arguments"}, ...]}`` or
``{"response": "..."}`` (``tool_choice="required"`` drops the second branch), which is what
llama.cpp's generic tool handler did. Where it cannot, lollms_client's text protocol is used:
``<tool>{"name": ..., "parameters": {...}}</tool>``, each call validated like a native one.

The conversation is kept in the canonical OpenAI shape either way; :func:`render_history` turns
earlier calls and results into the text form just before a request is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ..bindings._tool_stream import parse_arguments
from ..types import Message, ToolCall, ToolDefinition, new_call_id

__all__ = ["fit_history", "parse_answer", "prompt_schema", "render_history", "tools_system_text"]

_TAG = re.compile(r"<tool>(.*?)</tool>", re.S | re.I)


def prompt_schema(tools: Sequence[ToolDefinition], *, allow_reply: bool, only: str | None = None) -> dict[str, Any]:
    """The JSON Schema an answer must match: calls of the offered tools, or (``allow_reply``) a reply."""
    chosen = [t for t in tools if only is None or t.name == only]
    calls = {
        "type": "object",
        "properties": {
            "tool_calls": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                            "required": ["name", "arguments"],
                        }
                        for t in chosen
                    ]
                },
            }
        },
        "required": ["tool_calls"],
    }
    if not allow_reply:
        return calls
    reply = {"type": "object", "properties": {"response": {"type": "string"}}, "required": ["response"]}
    return {"anyOf": [calls, reply]}


def tools_system_text(tools: Sequence[ToolDefinition], *, constrained: bool, required: bool) -> str:
    """The system-prompt section that tells the model its tools and how to call them."""
    listing = "\n".join(
        f"- {t.name}: {t.description or '(no description)'}\n  arguments (JSON Schema): "
        f"{json.dumps(t.parameters, ensure_ascii=False)}"
        for t in tools
    )
    if constrained:
        how = (
            'To call tools, answer {"tool_calls": [{"name": "<tool name>", "arguments": {...}}]}.'
            + ("" if required else ' To answer the user, answer {"response": "<your answer>"}.')
            + " Tool results come back in <tool_result> blocks."
        )
    else:
        how = (
            "To call a tool, write exactly one line per call:\n"
            '<tool>{"name": "<tool name>", "parameters": {...}}</tool>\n'
            "No code fences, no text around the tags. Tool results come back in <tool_result> blocks; "
            "once you have what you need, write your final answer without tags."
        )
    return f"You can use these tools:\n{listing}\n\n{how}"


def parse_answer(text: str, *, constrained: bool) -> tuple[str, list[ToolCall]]:
    """``(reply text, calls)`` from a prompt-mode answer; a call with bad JSON carries ``error``."""
    if constrained:
        try:
            value = json.loads(text)
        except ValueError:
            return text, []  # not JSON at all (a backend that did not constrain): a plain reply
        if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
            calls = []
            for item in value["tool_calls"]:
                item = item if isinstance(item, dict) else {}
                arguments = item.get("arguments", {})
                raw = json.dumps(arguments, ensure_ascii=False)
                error = None if isinstance(arguments, dict) else "the arguments must be a JSON object"
                calls.append(
                    ToolCall(new_call_id(), str(item.get("name", "")), arguments if error is None else {}, raw, error)
                )
            return "", calls
        if isinstance(value, dict) and isinstance(value.get("response"), str):
            return value["response"], []
        return text, []
    calls = []
    for match in _TAG.finditer(text):
        body = match.group(1).strip()
        parsed, error = parse_arguments(body)
        name = parsed.get("name") if error is None else None
        params = parsed.get("parameters", parsed.get("arguments", {})) if error is None else {}
        if error is None and not isinstance(name, str):
            error = 'the call has no "name"'
        if error is None and not isinstance(params, dict):
            error, params = 'the "parameters" must be a JSON object', {}
        calls.append(
            ToolCall(
                new_call_id(),
                name or "",
                params if error is None else {},
                json.dumps(params) if error is None else body,
                error,
            )
        )
    return _TAG.sub("", text).strip(), calls


def render_history(messages: list[Message], *, constrained: bool) -> list[Message]:
    """``messages`` with tool calls and results written as text, for a binding without native tools."""
    out: list[Message] = []
    for m in messages:
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = [(c.get("function") or {}) for c in m["tool_calls"]]
            if constrained:
                body = json.dumps(
                    {"tool_calls": [{"name": f.get("name"), "arguments": _loads(f.get("arguments"))} for f in calls]},
                    ensure_ascii=False,
                )
            else:
                lines = [str(m.get("content") or "").strip()]
                lines += [
                    f'<tool>{{"name": {json.dumps(f.get("name"))}, "parameters": {f.get("arguments") or "{}"}}}</tool>'
                    for f in calls
                ]
                body = "\n".join(line for line in lines if line)
            out.append({"role": "assistant", "content": body})
        elif role == "tool":
            block = f'<tool_result name="{m.get("name", "")}">\n{m.get("content") or ""}\n</tool_result>'
            if out and out[-1].get("role") == "user" and out[-1].get("_tool_results"):
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block, "_tool_results": True})
        else:
            out.append(m)
    return [{k: v for k, v in m.items() if k != "_tool_results"} for m in out]


def _loads(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return raw


def fit_history(messages: list[Message], offered: set[str] | frozenset[str], *, native: bool) -> list[Message]:
    """``messages`` as a request may carry them, given the tools offered now.

    A stored conversation may hold calls of tools that are no longer offered, or be sent to a
    binding (or a request) without native tools: backends refuse a ``tool_calls`` entry or a
    ``role: tool`` message they cannot match, so those turns are written as text instead
    (nothing is dropped). Calls of tools still offered stay native when ``native``.
    """
    if not any(m.get("tool_calls") or m.get("role") == "tool" for m in messages):
        return messages  # the common case: a conversation without tool turns
    if not native:
        return render_history(messages, constrained=False)
    out: list[Message] = []
    textual: set[str] = set()  # ids of calls written as text: their results follow them
    for m in messages:
        calls = m.get("tool_calls") or []
        if calls and any(str((c.get("function") or {}).get("name")) not in offered for c in calls):
            textual.update(str(c.get("id")) for c in calls)
            out.extend(render_history([m], constrained=False))
        elif m.get("role") == "tool" and (str(m.get("tool_call_id")) in textual or not out):
            out.extend(render_history([m], constrained=False))
        else:
            out.append(m)
    return out
