"""The scripted tool-calling model of the test server (``scripted-tools``): no engine here calls tools.

Built from Ollama's published documents, not from a client library:
- docs/api.md, "Chat request (with tools)": the non-streamed response, byte for byte
  (``get_current_weather`` with ``{"format": "celsius", "location": "Paris, FR"}``, ``content: ""``,
  ``done_reason: "stop"``, ``done: true`` and the statistics fields);
- docs/capabilities/tool-calling.mdx: the single call ``get_temperature`` ``{"city": "New York"}``,
  the parallel calls (``get_temperature``/``get_conditions`` for New York and London, with
  ``function.index`` 0..3), the results sent back as ``{"role": "tool", "tool_name", "content"}``,
  and "Tool calling with streaming": the calls arrive in a chunk of their own (``done: false``) and
  the stream ends with a separate ``done`` chunk.

Which script plays depends on the offered tools: ``get_current_weather`` → api.md's example;
``get_temperature`` + ``get_conditions`` → the parallel example; ``get_temperature`` alone → the
single call. A request whose last message is a tool result gets a text answer quoting every result
(``tool_name=content``) so a loop's second round can be checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ollama_wire import now_iso

SCRIPTED_TOOLS = "scripted-tools:latest"

API_MD_CALL = [
    {"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}
]
SINGLE_CALL = [
    {"type": "function", "function": {"index": 0, "name": "get_temperature", "arguments": {"city": "New York"}}}
]
PARALLEL_CALLS = [
    {"type": "function", "function": {"index": i, "name": name, "arguments": {"city": city}}}
    for i, (name, city) in enumerate(
        [
            ("get_temperature", "New York"),
            ("get_conditions", "New York"),
            ("get_temperature", "London"),
            ("get_conditions", "London"),
        ]
    )
]
# api.md's statistics for the tool-call response.
API_MD_STATS = {
    "total_duration": 885095291,
    "load_duration": 3753500,
    "prompt_eval_count": 122,
    "prompt_eval_duration": 328493000,
    "eval_count": 33,
    "eval_duration": 552222000,
}


def script_calls(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The calls this request is answered with, or None for a text answer."""
    messages = body.get("messages") or []
    if not body.get("tools") or (messages and messages[-1].get("role") == "tool"):
        return None
    names = {(t.get("function") or {}).get("name") for t in body["tools"]}
    if "get_current_weather" in names:
        return API_MD_CALL
    if {"get_temperature", "get_conditions"} <= names:
        return PARALLEL_CALLS
    if "get_temperature" in names:
        return SINGLE_CALL
    return None


def reply_text(body: dict[str, Any]) -> str:
    """The text answer: every tool result quoted, or a plain sentence."""
    results = [m for m in body.get("messages") or [] if m.get("role") == "tool"]
    if results:
        return "The tools said: " + "; ".join(f"{m.get('tool_name')}={m.get('content')}" for m in results)
    return "No tool was called."


def _message(content: str, calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls is not None:
        message["tool_calls"] = calls
    return message


def whole_answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The ``"stream": false`` answer (api.md's shape)."""
    calls = script_calls(body)
    text = "" if calls is not None else reply_text(body)
    return {
        "model": name,
        "created_at": now_iso(),
        "message": _message(text, calls),
        "done_reason": "stop",
        "done": True,
        **API_MD_STATS,
    }


async def streamed_answer(name: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """The streamed answer: calls in one ``done: false`` chunk, then a separate ``done`` chunk."""
    calls = script_calls(body)
    if calls is not None:
        yield {"model": name, "created_at": now_iso(), "message": _message("", calls), "done": False}
    else:
        for i, word in enumerate(reply_text(body).split(" ")):
            yield {
                "model": name,
                "created_at": now_iso(),
                "message": _message(word if i == 0 else " " + word),
                "done": False,
            }
    yield {
        "model": name,
        "created_at": now_iso(),
        "message": _message(""),
        "done_reason": "stop",
        "done": True,
        **API_MD_STATS,
    }
