"""The shapes llama.cpp's chat route speaks: a ChatRequest in, OpenAI stream deltas out."""

from __future__ import annotations

import json
from typing import Any

from lollms_core.media import image_to_data_url
from lollms_core.types import MSG_TYPE, ChatRequest, Chunk, ToolCallDelta

__all__ = ["chat_body", "chunks_from_frame", "tool_fields"]

# lollms sampling option -> llama.cpp request field (None values are left to the engine).
_SAMPLING_FIELDS = {
    "n_predict": "max_tokens",
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "seed": "seed",
    "stop": "stop",
}


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The /v1/chat/completions body for ``request``; the engine applies the model's chat template."""
    body: dict[str, Any] = {"messages": [_message(m) for m in request.messages]}
    for option, wire_name in _SAMPLING_FIELDS.items():
        value = getattr(request.options, option)
        if value is not None:
            body[wire_name] = value
    if request.tools and request.tool_choice != "none":
        body.update(tool_fields(request))
    if request.json_schema is not None:
        body["json_schema"] = request.json_schema  # the engine turns it into a grammar
    # The last frame then carries token counts, which the base reports as usage.
    body["stream_options"] = {"include_usage": True}
    return body


def tool_fields(request: ChatRequest) -> dict[str, Any]:
    """``tools``/``tool_choice``/``parallel_tool_calls`` for the engine's chat handler (jinja templates).

    llama.cpp ignores the object form of a named ``tool_choice``, so a named choice is sent as that
    one tool with ``"required"``.
    """
    choice = request.tool_choice
    named = [t for t in request.tools if t.name == choice] if choice not in (None, "auto", "required") else []
    out: dict[str, Any] = {"tools": [t.to_openai() for t in (named or request.tools)]}
    if named:
        out["tool_choice"] = "required"
    elif choice:
        out["tool_choice"] = choice
    if request.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = request.parallel_tool_calls
    return out


def _wire_call(call: dict[str, Any]) -> dict[str, Any]:
    function = dict(call.get("function") or {})
    if not isinstance(function.get("arguments"), str):  # the engine parses JSON text for the template
        function["arguments"] = json.dumps(function.get("arguments") or {}, ensure_ascii=False)
    return {"id": call.get("id"), "type": "function", "function": function}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    images = message.get("images") or []
    out = {k: v for k, v in message.items() if k != "images"}
    if message.get("tool_calls"):
        out["tool_calls"] = [_wire_call(c) for c in message["tool_calls"]]
    if images:
        text = message.get("content") or ""
        parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        parts += [{"type": "image_url", "image_url": {"url": image_to_data_url(img)}} for img in images]
        out["content"] = parts
    return out


def _call_delta(call: dict[str, Any], default_index: int) -> ToolCallDelta:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = "" if arguments is None else json.dumps(arguments, ensure_ascii=False)
    index = call.get("index")
    return ToolCallDelta(
        index=index if isinstance(index, int) else default_index,
        id=call.get("id") or None,
        name=function.get("name") or None,
        arguments=arguments,
    )


def chunks_from_frame(frame: dict[str, Any]) -> list[Chunk | ToolCallDelta]:
    """The chunks of one stream frame: answer text, reasoning, tool-call fragments, the final finish/usage."""
    chunks: list[Chunk | ToolCallDelta] = []
    meta: dict[str, Any] = {}
    for choice in frame.get("choices") or ():
        delta = choice.get("delta") or {}
        thought = delta.get("reasoning_content")
        if thought:
            chunks.append(Chunk(thought, MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK))
        text = delta.get("content")
        if text:
            chunks.append(Chunk(text))
        calls = delta.get("tool_calls")
        if calls:
            chunks.extend(_call_delta(c, i) for i, c in enumerate(calls) if isinstance(c, dict))
        if choice.get("finish_reason"):
            meta["finish_reason"] = choice["finish_reason"]
    usage = frame.get("usage")
    if usage:
        meta["usage"] = {k: v for k, v in usage.items() if isinstance(v, int)}
        if frame.get("timings"):
            meta["timings"] = frame["timings"]
    if meta:
        chunks.append(Chunk("", meta=meta))
    return chunks
