"""Pieces of the Ollama wire format used by the test server (from ollama/ollama docs/api.md and
docs/openapi.yaml): NDJSON framing, error bodies, option and format translation, durations.

Kept apart from the server so the server module reads as routes only.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import JSONResponse

NDJSON = "application/x-ndjson"
DEFAULT_KEEP_ALIVE_SECONDS = 300.0  # Ollama's documented default, "5m"

# Ollama options that llama-server accepts under the same or another name.
_OPTION_TO_LLAMA = {
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "seed": "seed",
    "stop": "stop",
}
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def error(status: int, message: str) -> JSONResponse:
    """An Ollama error body: ``{"error": "..."}`` with an HTTP status (docs/api/errors.mdx)."""
    return JSONResponse({"error": message}, status_code=status)


def now_iso() -> str:
    """The ``created_at`` timestamp Ollama puts on every object."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def normalise_model_name(name: str) -> str:
    """``model`` → ``model:latest`` (Ollama's tag default)."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def keep_alive_seconds(value: Any) -> float | None:
    """Parse ``keep_alive`` (number of seconds or a Go duration such as ``5m``); None = forever."""
    if value is None:
        return DEFAULT_KEEP_ALIVE_SECONDS
    if isinstance(value, (int, float)):
        return None if value < 0 else float(value)
    text = str(value).strip()
    if text.startswith("-"):
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"time: invalid duration {text!r}")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def llama_sampling(options: dict[str, Any] | None, fmt: Any) -> dict[str, Any]:
    """Translate Ollama ``options`` and ``format`` into llama-server request fields."""
    options = options or {}
    payload = {_OPTION_TO_LLAMA[k]: v for k, v in options.items() if k in _OPTION_TO_LLAMA}
    num_predict = options.get("num_predict")
    if isinstance(num_predict, int) and num_predict >= 0:  # -1 infinite, -2 fill context
        payload["max_tokens"] = num_predict
    if fmt == "json":
        payload["response_format"] = {"type": "json_object"}
    elif isinstance(fmt, dict):
        payload["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
    elif fmt not in (None, ""):
        raise ValueError(f'invalid format: {fmt!r} (want "json" or a JSON schema object)')
    return payload


def final_stats(started_ns: int, usage: dict[str, Any], timings: dict[str, Any]) -> dict[str, Any]:
    """The statistics of the last object (counts, nanosecond durations) from llama-server data."""
    import time

    return {
        "total_duration": time.perf_counter_ns() - started_ns,
        "load_duration": 0,
        "prompt_eval_count": int(usage.get("prompt_tokens", timings.get("prompt_n", 0))),
        "prompt_eval_duration": int(float(timings.get("prompt_ms", 0.0)) * 1e6),
        "eval_count": int(usage.get("completion_tokens", timings.get("predicted_n", 0))),
        "eval_duration": int(float(timings.get("predicted_ms", 0.0)) * 1e6),
    }


def ndjson_line(obj: dict[str, Any]) -> bytes:
    """One NDJSON frame."""
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


class RecordingNDJSONStream:
    """An ASGI NDJSON response that notices a client that goes away before the last frame.

    Starlette's StreamingResponse only finds out at the next send and leaves the generator to the
    garbage collector; this one watches ``http.disconnect`` itself, closes the source (so the
    engine stops decoding) and reports ``on_finish(completed, frames_sent)`` deterministically.
    """

    def __init__(
        self,
        frames: AsyncIterator[bytes],
        on_finish: Callable[[bool, int], None],
        status_code: int = 200,
    ) -> None:
        self.frames = frames
        self.on_finish = on_finish
        self.status_code = status_code

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.create_task(watch())
        completed, sent = False, 0
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": [(b"content-type", NDJSON.encode())],
                }
            )
            async for frame in self.frames:
                if disconnected.is_set():
                    break
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                sent += 1
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                completed = True
        except OSError:
            pass
        finally:
            watcher.cancel()
            await self.frames.aclose()  # type: ignore[attr-defined]
            self.on_finish(completed, sent)
