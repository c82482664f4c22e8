"""The shapes llama.cpp's chat route speaks: a ChatRequest in, OpenAI stream deltas out."""

from __future__ import annotations

from typing import Any

from lollms_core.media import image_to_data_url
from lollms_core.types import MSG_TYPE, ChatRequest, Chunk

__all__ = ["chat_body", "chunks_from_frame"]

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
    # The last frame then carries token counts, which the base reports as usage.
    body["stream_options"] = {"include_usage": True}
    return body


def _message(message: dict[str, Any]) -> dict[str, Any]:
    images = message.get("images") or []
    out = {k: v for k, v in message.items() if k != "images"}
    if images:
        text = message.get("content") or ""
        parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        parts += [{"type": "image_url", "image_url": {"url": image_to_data_url(img)}} for img in images]
        out["content"] = parts
    return out


def chunks_from_frame(frame: dict[str, Any]) -> list[Chunk]:
    """The chunks of one stream frame: answer text, reasoning text, and the final finish/usage."""
    chunks: list[Chunk] = []
    meta: dict[str, Any] = {}
    for choice in frame.get("choices") or ():
        delta = choice.get("delta") or {}
        thought = delta.get("reasoning_content")
        if thought:
            chunks.append(Chunk(thought, MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK))
        text = delta.get("content")
        if text:
            chunks.append(Chunk(text))
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
