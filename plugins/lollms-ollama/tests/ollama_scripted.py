"""Scripted stand-ins for what no engine here can do: a thinking + vision model, broken streams.

Frames follow Ollama's documented shapes (docs/api.md, docs/api/errors.mdx, docs/capabilities/thinking.mdx).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from ollama_wire import NDJSON, final_stats, ndjson_line, now_iso
from starlette.responses import Response, StreamingResponse

SCRIPTED_THINKER = "scripted-thinker:latest"
THINKING_FRAMES = ["Counting", " the", " images", " I", " was", " given", "."]
FAULT_MODELS = {f"fault-{kind}:latest" for kind in ("500", "cut", "malformed", "stream-error")}


def ollama_frame(name: str, kind: str, text: str, done: bool = False, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"model": name, "created_at": now_iso()}
    if kind == "chat":
        obj["message"] = {"role": "assistant", "content": text}
    else:
        obj["response"] = text
    obj["done"] = done
    obj.update(extra)
    return obj


async def scripted_thinker(name: str, kind: str, think: bool, images: list[bytes]) -> AsyncIterator[dict[str, Any]]:
    started = time.perf_counter_ns()
    thinking = THINKING_FRAMES if think else []
    for piece in thinking:
        frame = ollama_frame(name, kind, "")
        (frame["message"] if kind == "chat" else frame)["thinking"] = piece
        yield frame
    answer = f"I received {len(images)} image(s) totalling {sum(map(len, images))} bytes."
    words = answer.split(" ")
    for i, word in enumerate(words):
        yield ollama_frame(name, kind, word if i == 0 else " " + word)
    done = ollama_frame(name, kind, "", done=True, done_reason="stop")
    done.update(final_stats(started, {"prompt_tokens": 1, "completion_tokens": len(words) + len(thinking)}, {}))
    yield done


def fault_stream(name: str, kind: str) -> Response:
    """The scripted broken streams (see the module docstring)."""

    async def frames() -> AsyncIterator[bytes]:
        for word in ("one", " two", " three"):
            yield ndjson_line(ollama_frame(name, kind, word))
        if name == "fault-cut:latest":
            raise ConnectionAbortedError("test server: stream cut on purpose")  # uvicorn drops the connection
        if name == "fault-malformed:latest":
            yield b'{"model": "fault-malformed", "message": {"content": \n'
        if name == "fault-stream-error:latest":
            yield ndjson_line({"error": "an error was encountered while running the model"})
            return
        yield ndjson_line(ollama_frame(name, kind, " four"))
        yield ndjson_line(ollama_frame(name, kind, "", done=True, done_reason="stop"))

    return StreamingResponse(frames(), media_type=NDJSON)
