"""FAKE OpenAI-compatible pool member for router tests and bench/router_scaling.py.

No real server can be told to answer 429 or 500 on cue, or to take exactly T ms per request
with exactly K requests at a time; this one can. Base URL: http://127.0.0.1:PORT/{mode}/v1
  ok          answers with the last user message's first 3 words: streamed in 3 chunks when the
              request says "stream": true, else one chat.completion object (the API's default)
  ratelimit   429 with `Retry-After: 2` (OpenAI error body)
  ratelimit_huge   429 with a Retry-After of 400 digits (chat and models): no real server sends it,
              a hostile or broken one can
  ratelimit_far    429 with `Retry-After: 100000000000000` (1e14 s; chat and models)
  status500   500 (OpenAI error body)
  badrequest  400 (the request's fault: must not be moved to another member)
  slow        like ok, but holds each request DELAY_MS ms, at most CONCURRENCY at once (others queue)
  stall       like ok, but the event stream's headers come at once and its first chunk after DELAY_MS ms
Every request is logged with its arrival time: GET /_log -> [{"mode", "t"}] (t = time.time()).

usage: python -m uvicorn pool_fake_server:app ...; DELAY_MS and CONCURRENCY come from the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

LOG: list[dict[str, Any]] = []
DELAY = float(os.environ.get("DELAY_MS", "0")) / 1000
SLOTS = asyncio.Semaphore(int(os.environ.get("CONCURRENCY", "1")))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
    body: dict[str, Any] = {
        "id": "chatcmpl-pool",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "pool",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n"


async def _answer(text: str) -> AsyncIterator[str]:
    parts = _parts(text)
    for part in parts:
        yield _chunk({"content": part})
    usage = {"prompt_tokens": 1, "completion_tokens": len(parts), "total_tokens": 1 + len(parts)}
    yield _chunk({}, "stop", usage)
    yield "data: [DONE]\n\n"


async def _stalled(text: str) -> AsyncIterator[str]:
    await asyncio.sleep(DELAY)
    async for event in _answer(text):
        yield event


async def chat(request: Request) -> Response:
    mode = request.path_params["mode"]
    LOG.append({"mode": mode, "t": time.time()})
    body = await request.json()
    if mode == "ratelimit":
        return _error(429, "rate limited (fake)", {"Retry-After": "2"})
    if mode in _ABSURD_RETRY_AFTER:
        return _error(429, "rate limited (fake)", {"Retry-After": _ABSURD_RETRY_AFTER[mode]})
    if mode == "status500":
        return _error(500, "internal error (fake)")
    if mode == "badrequest":
        return _error(400, "bad request (fake)")
    last = next((m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {})
    text = str(last.get("content") or "")
    if mode == "slow":
        async with SLOTS:
            await asyncio.sleep(DELAY)
    if mode == "stall":
        return StreamingResponse(_stalled(text), media_type="text/event-stream")
    if body.get("stream"):
        return StreamingResponse(_answer(text), media_type="text/event-stream")
    return JSONResponse(_completion(text))


def _completion(text: str) -> dict[str, Any]:
    """The non-streamed ``chat.completion`` object with the same text as :func:`_answer`'s chunks."""
    parts = _parts(text)
    return {
        "id": "chatcmpl-pool",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "pool",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": len(parts), "total_tokens": 1 + len(parts)},
    }


def _parts(text: str) -> list[str]:
    words = text.split() or ["(empty)"]
    return [words[0], *(" " + w for w in words[1:])][:3]


_ABSURD_RETRY_AFTER = {"ratelimit_huge": "9" * 400, "ratelimit_far": "100000000000000"}


async def models(request: Request) -> Response:
    mode = request.path_params["mode"]
    if mode in _ABSURD_RETRY_AFTER:
        return _error(429, "rate limited (fake)", {"Retry-After": _ABSURD_RETRY_AFTER[mode]})
    return JSONResponse({"object": "list", "data": [{"id": "pool", "object": "model", "owned_by": "fake"}]})


async def log(request: Request) -> Response:
    return JSONResponse(LOG)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/{mode}/v1/chat/completions", chat, methods=["POST"]),
        Route("/{mode}/v1/models", models),
        Route("/_log", log),
        Route("/health", health),
    ]
)
