"""OpenAI chat-completions wire format: request bodies out, chunks in. No I/O here (shared by sync and async)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lollms_core.errors import ServerError
from lollms_core.media import image_to_data_url
from lollms_core.types import MSG_TYPE, ChatRequest, Chunk, ToolCallDelta

__all__ = [
    "StreamState",
    "ThinkSplitter",
    "build_chat_body",
    "chunks_from_completion",
    "response_format",
    "sampling_fields",
    "strict_allowed",
    "tool_fields",
]

THOUGHT = MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK
OPEN_TAG, CLOSE_TAG = "<think>", "</think>"


def sampling_fields(request: ChatRequest) -> dict[str, Any]:
    """The seeds' sampling options in OpenAI's vocabulary.

    ``repeat_penalty`` (multiplicative, 1.0 = off) becomes ``frequency_penalty`` (additive, 0 = off) as
    ``repeat_penalty - 1``, clamped to OpenAI's [-2, 2]: an approximation, the two penalise differently.
    ``top_k`` is not in OpenAI's API; it is passed through because llama.cpp, vLLM and most local servers
    honour it. ``repeat_last_n``, ``n_threads`` and ``ctx_size`` are server-side settings and are not sent.
    """
    opts = request.options
    out: dict[str, Any] = {}
    if opts.n_predict is not None:
        out["max_tokens"] = opts.n_predict
    for name in ("temperature", "top_p", "seed", "top_k"):
        value = getattr(opts, name)
        if value is not None:
            out[name] = value
    if opts.repeat_penalty is not None:
        out["frequency_penalty"] = max(-2.0, min(2.0, round(opts.repeat_penalty - 1.0, 4)))
    if opts.stop:
        out["stop"] = list(opts.stop)
    return out


def _wire_call(call: dict[str, Any]) -> dict[str, Any]:
    """An assistant turn's call as the API wants it back: ``function.arguments`` is JSON text."""
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        function["arguments"] = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
    return {"id": call.get("id"), "type": "function", "function": function}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    images = message.get("images") or []
    if message.get("role") == "tool":
        # The API's tool message is {role, tool_call_id, content}: our ``name`` is for other backends.
        return {"role": "tool", "tool_call_id": message.get("tool_call_id"), "content": message.get("content") or ""}
    out = {k: v for k, v in message.items() if k != "images"}
    if message.get("tool_calls"):
        out["tool_calls"] = [_wire_call(c) for c in message["tool_calls"]]
    if images:
        parts: list[dict[str, Any]] = []
        content = message.get("content")
        if isinstance(content, list):
            parts.extend(content)
        elif content:
            parts.append({"type": "text", "text": str(content)})
        parts.extend({"type": "image_url", "image_url": {"url": image_to_data_url(img)}} for img in images)
        out["content"] = parts
    return out


def build_chat_body(request: ChatRequest, model: str, stream: bool, include_usage: bool) -> dict[str, Any]:
    """The /chat/completions body: messages (images as data URLs), sampling fields, per-call extras."""
    body: dict[str, Any] = {"model": model, "messages": [_message(m) for m in request.messages]}
    body.update(sampling_fields(request))
    if request.extra.get("reasoning_effort"):
        body["reasoning_effort"] = request.extra["reasoning_effort"]
    if request.json_schema is not None:
        body["response_format"] = response_format(request.json_schema)
    elif request.extra.get("json_mode"):
        body["response_format"] = {"type": "json_object"}
    if request.tools:
        body.update(tool_fields(request))
    body.update(request.extra.get("extra_body") or {})
    if stream:  # absent means false (the API's default): a blocking call is one JSON body
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def tool_fields(request: ChatRequest) -> dict[str, Any]:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls`` for a request that offers tools.

    A named choice is the API's object form ``{"type": "function", "function": {"name": ...}}``;
    ``parallel_tool_calls`` is only sent when set (the API rejects it without tools).
    """
    out: dict[str, Any] = {"tools": [tool.to_openai() for tool in request.tools]}
    choice = request.tool_choice
    if choice in ("auto", "none", "required"):
        out["tool_choice"] = choice
    elif choice:
        out["tool_choice"] = {"type": "function", "function": {"name": choice}}
    if request.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = request.parallel_tool_calls
    return out


_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """``response_format`` constraining the answer to ``schema`` (Structured Outputs).

    ``strict`` is true only when the schema meets strict mode's rules (:func:`strict_allowed`):
    OpenAI rejects a strict request whose schema does not, while a non-strict one is still honoured
    by llama.cpp, vLLM and other servers that constrain decoding with the schema.
    """
    name = _SCHEMA_NAME.sub("_", str(schema.get("title") or "response")).strip("_")[:64] or "response"
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": strict_allowed(schema)},
    }


_SUBSCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def strict_allowed(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts ``schema``.

    Every object must close ``additionalProperties`` (false) and list all of its properties in
    ``required``; checked through nested schemas.
    """
    if isinstance(schema, list):
        return all(strict_allowed(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    kinds = schema.get("type")
    is_object = kinds == "object" or (isinstance(kinds, list) and "object" in kinds) or "properties" in schema
    if is_object:
        properties = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False or set(schema.get("required") or ()) != set(properties):
            return False
    for key in _SUBSCHEMA_MAPS:
        if isinstance(schema.get(key), dict) and not all(strict_allowed(s) for s in schema[key].values()):
            return False
    for key in _SUBSCHEMA_LISTS:
        if key in schema and not strict_allowed(schema[key]):
            return False
    return all(strict_allowed(schema[key]) for key in ("items", "not") if key in schema)


def _call_delta(call: dict[str, Any], default_index: int) -> ToolCallDelta:
    """One ``tool_calls`` entry (a stream fragment or a whole call) as a :class:`ToolCallDelta`."""
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if arguments is None:
        arguments = ""
    elif not isinstance(arguments, str):  # some servers send the object itself
        arguments = json.dumps(arguments, ensure_ascii=False)
    index = call.get("index")
    return ToolCallDelta(
        index=index if isinstance(index, int) else default_index,
        id=call.get("id") or None,
        name=function.get("name") or None,
        arguments=arguments,
    )


class ThinkSplitter:
    """Route inline ``<think>…</think>`` text to THOUGHT chunks, even when a tag is split across deltas."""

    __slots__ = ("_buffer", "_inside")

    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> list[Chunk]:
        """Chunks for this piece of content; a possible partial tag at the end is held back."""
        out: list[Chunk] = []
        self.feed_into(out, text)
        return out

    def feed_into(self, out: list[Chunk] | list[Chunk | ToolCallDelta], text: str) -> None:
        """:meth:`feed`, appending to ``out`` (the stream's hot path: most deltas hold no '<')."""
        if not self._buffer and "<" not in text:
            out.append(Chunk(text, THOUGHT) if self._inside else Chunk(text))
            return
        self._buffer += text
        while self._buffer:
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            at = self._buffer.find(tag)
            if at >= 0:
                self._emit(out, self._buffer[:at])
                self._buffer = self._buffer[at + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buffer, tag)
            self._emit(out, self._buffer[: len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep :]
            break

    def flush(self) -> list[Chunk]:
        """Whatever is still held back (a lone '<thi' at the very end is text after all)."""
        out: list[Chunk] = []
        self._emit(out, self._buffer)
        self._buffer = ""
        return out

    def _emit(self, out: list[Chunk] | list[Chunk | ToolCallDelta], text: str) -> None:
        if text:
            out.append(Chunk(text, THOUGHT) if self._inside else Chunk(text))


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a beginning of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


@dataclass
class StreamState:
    """What one streamed answer has said so far: finish reason, usage, and the think splitter."""

    where: str
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    splitter: ThinkSplitter = field(default_factory=ThinkSplitter)

    def feed(self, payload: Any) -> list[Chunk | ToolCallDelta]:
        """Chunks (and tool-call fragments) of one SSE payload (``chat.completion.chunk``). Hot path."""
        if payload.__class__ is not dict:
            raise ServerError(f"{self.where}: expected a JSON object per SSE event, got {payload!r:.200}")
        get = payload.get
        if get("error"):
            err = payload["error"]
            message = err.get("message") if isinstance(err, dict) else err
            raise ServerError(f"{self.where}: the server reported an error mid-stream: {message}")
        usage = get("usage")
        if isinstance(usage, dict):
            self.usage = dict(usage)
        out: list[Chunk | ToolCallDelta] = []
        for choice in get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if delta:
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning and isinstance(reasoning, str):
                    out.append(Chunk(reasoning, THOUGHT))
                content = delta.get("content")
                if content and content.__class__ is str:
                    self.splitter.feed_into(out, content)
                calls = delta.get("tool_calls")
                if calls:
                    out.extend(_call_delta(c, i) for i, c in enumerate(calls) if isinstance(c, dict))
            finish = choice.get("finish_reason")
            if finish:
                self.finish_reason = finish
        return out

    def finish(self) -> list[Chunk | ToolCallDelta]:
        """The held-back text and the final meta chunk; raises if the stream never said it finished."""
        out: list[Chunk | ToolCallDelta] = [*self.splitter.flush()]
        if self.finish_reason is None:
            raise ServerError(f"{self.where}: the stream ended before a finish_reason (connection cut?)")
        out.append(Chunk("", meta={"finish_reason": self.finish_reason, "usage": self.usage}))
        return out


def chunks_from_completion(payload: Any, where: str) -> list[Chunk | ToolCallDelta]:
    """Chunks of a non-streamed ``chat.completion`` (same splitting as a stream); each call whole."""
    try:
        choice = payload["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError):
        raise ServerError(f"{where}: no choices[0].message in the answer: {str(payload)[:200]}") from None
    state = StreamState(where)
    out: list[Chunk | ToolCallDelta] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(Chunk(reasoning, THOUGHT))
    if isinstance(message.get("content"), str):
        out.extend(state.splitter.feed(message["content"]))
    calls = message.get("tool_calls") or ()
    out.extend(_call_delta({**c, "index": i}, i) for i, c in enumerate(calls) if isinstance(c, dict))
    state.finish_reason = choice.get("finish_reason") or "stop"
    state.usage = dict(payload.get("usage") or {})
    return out + state.finish()
