"""The Ollama REST shapes: request bodies out, chunks and model dicts in (docs/api.md, openapi.yaml).

Pure functions with no I/O, so the binding module reads as the HTTP conversation only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from lollms_core.errors import ServerError
from lollms_core.media import image_to_base64
from lollms_core.types import MSG_TYPE, ChatRequest, Chunk, GenerationOptions, ToolCallDelta

__all__ = [
    "DEFAULT_HOST",
    "FrameReader",
    "build_chat_body",
    "build_generate_body",
    "chunks_from_frame",
    "model_entry",
    "normalise_host",
    "ollama_options",
]

DEFAULT_HOST = "http://localhost:11434"

# lollms option name -> Ollama option name (Modelfile parameter names).
_OPTION_NAMES = {
    "n_predict": "num_predict",
    "ctx_size": "num_ctx",
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "seed": "seed",
    "n_threads": "num_thread",
    "stop": "stop",
}


def normalise_host(host: str) -> str:
    """A base URL from ``host_address`` or an ``OLLAMA_HOST``-style value.

    Ollama's own client accepts ``host:port``, ``:port`` and ``0.0.0.0`` (a listen address,
    meaning "this machine"); the scheme defaults to http and the port to 11434.
    """
    text = (host or DEFAULT_HOST).strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    hostname = parts.hostname or "localhost"
    if hostname in ("0.0.0.0", "::"):
        hostname = "localhost"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    port = parts.port or (443 if parts.scheme == "https" else 11434)
    return f"{parts.scheme}://{hostname}:{port}{parts.path}"


def ollama_options(options: GenerationOptions) -> dict[str, Any]:
    """Ollama ``options`` for the lollms sampling options that are set (None = server default)."""
    values = ((name, getattr(options, name, None)) for name in _OPTION_NAMES)
    return {_OPTION_NAMES[name]: value for name, value in values if value is not None}


def _think_value(value: Any) -> bool | str | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    return {"true": True, "false": False}.get(lowered, lowered)


def _common(request: ChatRequest, model: str, keep_alive: str) -> dict[str, Any]:
    extra = request.extra
    body: dict[str, Any] = {"model": model, "stream": True}
    options = ollama_options(request.options)
    if options:
        body["options"] = options
    think = _think_value(extra.get("think"))
    if think is not None:
        body["think"] = think
    schema = request.json_schema if request.json_schema is not None else extra.get("json_schema")
    if schema:
        body["format"] = schema
    elif extra.get("format"):
        body["format"] = extra["format"]
    alive = extra.get("keep_alive") or keep_alive
    if alive:
        # Ollama takes a duration string or a number of seconds; plain digits mean seconds.
        body["keep_alive"] = int(alive) if alive.lstrip("-").isdigit() else alive
    return body


def _arguments_object(arguments: Any) -> dict[str, Any]:
    """Ollama takes a call's arguments as an object; ours may be JSON text (OpenAI-shaped history)."""
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else {}
    except ValueError:
        value = None
    # Text that is no JSON object (a model's broken call, kept in the history) is sent as it was said.
    return value if isinstance(value, dict) else {"_raw_arguments": str(arguments)}


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message.get("role", "user")
    out: dict[str, Any] = {"role": role, "content": message.get("content") or ""}
    if role == "tool":
        # Ollama names the tool a result belongs to (``tool_name``); it has no call ids.
        out["tool_name"] = message.get("name") or message.get("tool_name") or ""
    calls = message.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                "type": "function",
                "function": {
                    "index": i,
                    "name": (call.get("function") or {}).get("name", ""),
                    "arguments": _arguments_object((call.get("function") or {}).get("arguments")),
                },
            }
            for i, call in enumerate(calls)
        ]
    images = message.get("images")
    if images:
        out["images"] = [image_to_base64(image) for image in images]
    return out


def _tools(request: ChatRequest) -> list[dict[str, Any]]:
    """The ``tools`` to send (Ollama has no ``tool_choice``).

    A named choice sends that tool only and ``"none"`` sends none; ``"required"`` cannot be
    enforced, so the core checks that the answer made a call.
    """
    choice = request.tool_choice
    if not request.tools or choice == "none":
        return []
    named = [t for t in request.tools if t.name == choice]
    return [t.to_openai() for t in (named or request.tools)]


def build_chat_body(request: ChatRequest, model: str, keep_alive: str) -> dict[str, Any]:
    """The /api/chat body: messages (images as plain base64, tool calls and results), tools, options."""
    body = {**_common(request, model, keep_alive), "messages": [_chat_message(m) for m in request.messages]}
    tools = _tools(request)
    if tools:
        body["tools"] = tools
    return body


def build_generate_body(request: ChatRequest, model: str, keep_alive: str) -> dict[str, Any]:
    """The /api/generate raw body: the messages' text concatenated, sent with no template."""
    prompt = "".join(str(m.get("content") or "") for m in request.messages if m.get("role") != "system")
    system = "\n".join(str(m.get("content") or "") for m in request.messages if m.get("role") == "system")
    body = {**_common(request, model, keep_alive), "prompt": prompt, "raw": True}
    if system:
        body["system"] = system
    images = [img for m in request.messages for img in (m.get("images") or ())]
    if images:
        body["images"] = [image_to_base64(image) for image in images]
    return body


def _final_meta(frame: dict[str, Any]) -> dict[str, Any]:
    prompt_tokens = int(frame.get("prompt_eval_count") or 0)
    completion_tokens = int(frame.get("eval_count") or 0)
    eval_ns = int(frame.get("eval_duration") or 0)
    meta: dict[str, Any] = {
        "finish_reason": frame.get("done_reason") or "stop",
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "model": frame.get("model"),
    }
    for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        if key in frame:
            meta[key] = int(frame[key])
    if eval_ns > 0:
        # Ollama's documented formula: eval_count / eval_duration * 10^9.
        meta["tokens_per_second"] = completion_tokens / eval_ns * 1e9
        # Also in usage: the base folds usage (not the other meta keys) into GenerationResult.
        meta["usage"]["tokens_per_second"] = meta["tokens_per_second"]
    return meta


class FrameReader:
    """Reads one answer's NDJSON frames, numbering tool calls across frames.

    Ollama sends calls whole, in a ``done: false`` frame of their own, before the separate ``done`` frame.
    """

    __slots__ = ("calls", "where")

    def __init__(self, where: str) -> None:
        self.where = where
        self.calls = 0

    def feed(self, frame: Any) -> tuple[list[Chunk | ToolCallDelta], bool]:
        """The chunks and tool-call deltas of one frame, and whether it was the last."""
        chunks, done = chunks_from_frame(frame, self.where)
        message = frame.get("message")
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if not calls and not (done and self.calls):
            return chunks, done  # type: ignore[return-value]
        out: list[Chunk | ToolCallDelta] = []
        for call in calls or ():
            if not isinstance(call, dict):
                raise ServerError(f"{self.where}: a tool call is not a JSON object: {call!r:.200}")
            function = call.get("function") or {}
            arguments = function.get("arguments")
            out.append(
                ToolCallDelta(
                    index=self.calls,
                    id=call.get("id") or None,  # newer servers give one; the core makes one otherwise
                    name=function.get("name") or None,
                    arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
                )
            )
            self.calls += 1
        for chunk in chunks:
            meta = chunk.meta
            if done and self.calls and meta and meta.get("finish_reason") == "stop":
                # Ollama says "stop" after calls; the other bindings say "tool_calls" (OpenAI's word).
                chunk.meta = {**meta, "finish_reason": "tool_calls"}
            out.append(chunk)
        return out, done


def chunks_from_frame(frame: Any, where: str) -> tuple[list[Chunk], bool]:
    """The chunks one NDJSON frame carries, and whether it was the last (``done``).

    Tool calls are read by :class:`FrameReader`, which numbers them across frames.

    :raises ServerError: the frame is an ``{"error": ...}`` object (an error after the stream
        started, docs/api/errors.mdx) or is not an object at all.
    """
    if not isinstance(frame, dict):
        raise ServerError(f"{where}: expected a JSON object per line, got {frame!r:.200}")
    if "error" in frame:
        raise ServerError(f"{where}: error during the stream: {frame['error']}")
    message = frame.get("message")
    if isinstance(message, dict):
        thinking, content = message.get("thinking") or "", message.get("content") or ""
    else:
        thinking, content = frame.get("thinking") or "", frame.get("response") or ""
    chunks = []
    if thinking:
        chunks.append(Chunk(thinking, MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK))
    if content:
        chunks.append(Chunk(content))
    done = bool(frame.get("done"))
    if done:
        chunks.append(Chunk("", meta=_final_meta(frame)))
    return chunks, done


def model_entry(item: dict[str, Any]) -> dict[str, Any]:
    """A ``list_models()`` dict from one /api/tags (or /api/ps) model object."""
    details = item.get("details") or {}
    name = item.get("name") or item.get("model") or ""
    return {
        "model_name": name,
        "size": item.get("size"),
        "family": details.get("family"),
        "families": details.get("families"),
        "parameter_size": details.get("parameter_size"),
        "quantization": details.get("quantization_level"),
        "format": details.get("format"),
        "digest": item.get("digest"),
        "modified_at": item.get("modified_at"),
    }
