"""OpenAI chat-completions wire format: request bodies out, chunks in. No I/O here (shared by sync and async)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lollms_core.errors import ServerError
from lollms_core.media import image_to_data_url
from lollms_core.types import MSG_TYPE, ChatRequest, Chunk

__all__ = ["StreamState", "ThinkSplitter", "build_chat_body", "chunks_from_completion", "sampling_fields"]

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


def _message(message: dict[str, Any]) -> dict[str, Any]:
    images = message.get("images") or []
    out = {k: v for k, v in message.items() if k != "images"}
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
    if request.extra.get("json_mode"):
        body["response_format"] = {"type": "json_object"}
    body.update(request.extra.get("extra_body") or {})
    if stream:  # absent means false (the API's default): a blocking call is one JSON body
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


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

    def feed_into(self, out: list[Chunk], text: str) -> None:
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

    def _emit(self, out: list[Chunk], text: str) -> None:
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

    def feed(self, payload: Any) -> list[Chunk]:
        """Chunks carried by one SSE payload (``chat.completion.chunk``). Hot path: one call per event."""
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
        out: list[Chunk] = []
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
            finish = choice.get("finish_reason")
            if finish:
                self.finish_reason = finish
        return out

    def finish(self) -> list[Chunk]:
        """The held-back text and the final meta chunk; raises if the stream never said it finished."""
        out = self.splitter.flush()
        if self.finish_reason is None:
            raise ServerError(f"{self.where}: the stream ended before a finish_reason (connection cut?)")
        out.append(Chunk("", meta={"finish_reason": self.finish_reason, "usage": self.usage}))
        return out


def chunks_from_completion(payload: Any, where: str) -> list[Chunk]:
    """Chunks of a non-streamed ``chat.completion`` (same splitting as a stream)."""
    try:
        choice = payload["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError):
        raise ServerError(f"{where}: no choices[0].message in the answer: {str(payload)[:200]}") from None
    state = StreamState(where)
    out: list[Chunk] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(Chunk(reasoning, THOUGHT))
    if isinstance(message.get("content"), str):
        out.extend(state.splitter.feed(message["content"]))
    state.finish_reason = choice.get("finish_reason") or "stop"
    state.usage = dict(payload.get("usage") or {})
    return out + state.finish()
