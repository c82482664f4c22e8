"""The OpenAI wire format: request bodies read into lollms arguments, answers shaped as OpenAI's.

Only shapes live here (no I/O), following OpenAI's API reference for chat completions,
completions and embeddings. Fields OpenAI defines that no lollms binding can honour are
refused when they would change the answer (``n`` > 1, ``logprobs``) and ignored when they
are hints (``user``, ``presence_penalty``...), as other OpenAI-compatible servers do.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from typing import Any

from lollms_core.types import MSG_TYPE, Chunk, GenerationResult

from .errors import ApiError

__all__ = [
    "chat_chunk",
    "chat_completion",
    "chat_messages",
    "completion",
    "completion_chunk",
    "embedding_list",
    "new_id",
    "sampling",
    "sse",
    "tool_call_entry",
    "tooling",
    "usage",
]

_ROLES = ("system", "developer", "user", "assistant", "tool")
_MESSAGE_KEYS = ("name", "tool_calls", "tool_call_id")
_THOUGHT = MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK
_TOOL_CALL = MSG_TYPE.MSG_TYPE_TOOL_CALL


def new_id(prefix: str) -> str:
    """An id like OpenAI's (``chatcmpl-…``)."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def sse(obj: Any) -> bytes:
    """One server-sent event carrying ``obj`` as JSON (or the literal ``[DONE]``)."""
    data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + data.encode("utf-8") + b"\n\n"


# == requests ===========================================================================


def _field(body: dict[str, Any], name: str, kinds: tuple[type, ...], what: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise ApiError(400, f"'{name}' must be {what}, got {json.dumps(value)[:60]}", param=name, code="invalid_type")
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = _field(body, name, (int, float), "a number")
    if value is not None and not low <= value <= high:
        raise ApiError(400, f"'{name}' must be between {low} and {high}, got {value}", param=name, code="invalid_value")
    return None if value is None else float(value)


def sampling(body: dict[str, Any], max_tokens_cap: int, default_tokens: int | None = None) -> dict[str, Any]:
    """The lollms sampling arguments (``n_predict``, ``temperature``...) of an OpenAI request body.

    ``max_tokens`` (or ``max_completion_tokens``) above ``max_tokens_cap`` is refused (400);
    absent, it is ``default_tokens`` or the cap.
    """
    if (_field(body, "n", (int,), "an integer") or 1) != 1:
        raise ApiError(400, "'n' must be 1: lollms generates one choice per request", param="n", code="unsupported")
    if _field(body, "logprobs", (bool,), "a boolean"):
        raise ApiError(400, "'logprobs' is not supported by lollms serve", param="logprobs", code="unsupported")
    out: dict[str, Any] = {}
    name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    tokens = _field(body, name, (int,), "an integer")
    if tokens is not None and not 1 <= tokens <= max_tokens_cap:
        raise ApiError(
            400,
            f"'{name}' is {tokens}; this server allows 1 to {max_tokens_cap} (server.max_tokens)",
            param=name,
            code="invalid_value",
        )
    out["n_predict"] = tokens if tokens is not None else min(default_tokens or max_tokens_cap, max_tokens_cap)
    for key, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0), ("repeat_penalty", 0.0, 10.0)):
        value = _number(body, key, low, high)
        if value is not None:
            out[key] = value
    top_k = _field(body, "top_k", (int,), "an integer")
    if top_k is not None:
        out["top_k"] = top_k
    seed = _field(body, "seed", (int,), "an integer")
    if seed is not None:
        out["seed"] = seed
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > 16:
            raise ApiError(400, "'stop' must be a string or a list of up to 16 strings", param="stop")
        if stop:
            out["stop"] = stop
    return out


def tooling(body: dict[str, Any]) -> dict[str, Any]:
    """``tools``, ``tool_choice``, ``parallel_tool_calls`` and ``response_format`` as ``build_request`` arguments.

    ``response_format`` ``json_schema`` gives its schema, ``json_object`` any JSON object, ``text``
    nothing. The binding refuses what it cannot do (a 400 naming the capability).
    """
    out: dict[str, Any] = {}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise ApiError(400, "'tools' must be a list of {type: 'function', function: {...}}", param="tools")
        if tools:
            out["tools"] = tools
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        function = choice.get("function")
        choice = function.get("name") if isinstance(function, dict) else None
        if not isinstance(choice, str):
            raise ApiError(
                400, "'tool_choice' object must be {type: 'function', function: {name}}", param="tool_choice"
            )
    if choice is not None:
        if not isinstance(choice, str):
            raise ApiError(400, "'tool_choice' must be 'auto', 'none', 'required' or a function", param="tool_choice")
        if choice != "none" or tools:
            out["tool_choice"] = choice
    parallel = _field(body, "parallel_tool_calls", (bool,), "a boolean")
    if parallel is not None and tools:
        out["parallel_tool_calls"] = parallel
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "json_schema":
            spec = fmt.get("json_schema")
            schema = spec.get("schema") if isinstance(spec, dict) else None
            if not isinstance(schema, dict):
                raise ApiError(400, "'response_format.json_schema.schema' must be a JSON Schema object",
                               param="response_format")  # fmt: skip
            out["json_schema"] = schema
        elif kind == "json_object":
            out["json_schema"] = {"type": "object"}
        elif kind != "text":
            raise ApiError(400, "'response_format.type' must be 'text', 'json_object' or 'json_schema'",
                           param="response_format")  # fmt: skip
    return out


def tool_call_entry(call: dict[str, Any], index: int) -> dict[str, Any]:
    """One ``tool_calls`` entry from a ``MSG_TYPE_TOOL_CALL`` chunk's ``meta["tool_call"]``."""
    arguments = call.get("raw_arguments") if call.get("error") else json.dumps(call.get("arguments") or {})
    return {
        "index": index,
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call.get("name"), "arguments": arguments or ""},
    }


def _content(content: Any, where: str) -> tuple[str | None, list[str]]:
    """Text and image URLs of a message's ``content`` (a string or a list of parts)."""
    if content is None or isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise ApiError(400, f"{where}.content must be a string or a list of parts", param=f"{where}.content")
    texts, images = [], []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str):
                raise ApiError(400, f"{where}.content[{i}].image_url.url must be a string", param=f"{where}.content")
            images.append(url)
        else:
            raise ApiError(
                400,
                f"{where}.content[{i}]: part type {kind!r} is not supported (use 'text' or 'image_url')",
                param=f"{where}.content",
            )
    return "\n".join(texts), images


def chat_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """OpenAI ``messages`` as lollms messages (images moved into the message's ``images``)."""
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise ApiError(400, f"{where}.role must be one of {', '.join(_ROLES)}", param=f"{where}.role")
        text, images = _content(message.get("content"), where)
        # Only what a binding understands goes on: OpenAI's other message fields (audio, refusal...)
        # would reach backends that reject them.
        converted = {k: message[k] for k in _MESSAGE_KEYS if message.get(k) is not None}
        converted["role"] = "system" if message["role"] == "developer" else message["role"]
        converted["content"] = text if text is not None else ""
        if images:
            converted["images"] = images
        out.append(converted)
    return out


# == answers ============================================================================


def usage(result: GenerationResult, prompt_tokens: int | None) -> dict[str, int]:
    """OpenAI's usage object from what the binding reported (prompt tokens counted if it did not)."""
    reported = result.usage or {}
    prompt = int(reported.get("prompt_tokens") or prompt_tokens or 0)
    completion = int(reported.get("completion_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def finish_reason(result: GenerationResult) -> str:
    """OpenAI's finish reason (``stop`` when the binding said nothing)."""
    reason = result.finish_reason or "stop"
    return reason if reason in ("stop", "length", "tool_calls", "content_filter") else "stop"


def chat_completion(cid: str, model: str, result: GenerationResult, prompt_tokens: int | None) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": result.text}
    calls = getattr(result, "tool_calls", ())
    if calls:
        message["tool_calls"] = [call.to_openai() for call in calls]
        message["content"] = result.text or None
    if result.thoughts:
        message["reasoning_content"] = result.thoughts  # the DeepSeek/vLLM field for thinking text
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(result), "logprobs": None}],
        "usage": usage(result, prompt_tokens),
    }


def chat_chunk(
    cid: str,
    model: str,
    created: int,
    chunk: Chunk | None = None,
    *,
    first: bool = False,
    finish: str | None = None,
    with_usage: bool = False,
    tool_index: int = 0,
) -> dict[str, Any]:
    """A ``chat.completion.chunk``: the role first, then text deltas, then the finish reason."""
    delta: dict[str, Any] = {}
    if first:
        delta = {"role": "assistant", "content": ""}
    elif chunk is not None and chunk.type == _TOOL_CALL:
        delta = {"tool_calls": [tool_call_entry((chunk.meta or {}).get("tool_call") or {}, tool_index)]}
    elif chunk is not None:
        delta = {"reasoning_content": chunk.text} if chunk.type == _THOUGHT else {"content": chunk.text}
    out: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if with_usage:
        out["usage"] = None  # OpenAI: null on every chunk but the last when include_usage is set
    return out


def completion(cid: str, model: str, result: GenerationResult, prompt_tokens: int | None) -> dict[str, Any]:
    """A legacy ``text_completion`` object."""
    return {
        "id": cid,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": result.text, "finish_reason": finish_reason(result), "logprobs": None}],
        "usage": usage(result, prompt_tokens),
    }


def completion_chunk(cid: str, model: str, created: int, text: str, finish: str | None = None) -> dict[str, Any]:
    """One streamed ``text_completion`` event."""
    return {
        "id": cid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
    }


def embedding_list(model: str, vectors: list[list[float]], encoding: str, prompt_tokens: int) -> dict[str, Any]:
    """The embeddings answer; ``base64`` packs each vector as little-endian float32, as OpenAI does."""
    data = []
    for i, vector in enumerate(vectors):
        value: Any = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
