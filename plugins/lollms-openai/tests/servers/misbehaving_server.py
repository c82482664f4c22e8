"""FAKE OpenAI-compatible server that misbehaves on purpose (no real server can be asked to fail on cue).

Built from the OpenAI API reference: error bodies are {"error": {"message", "type", "param", "code"}},
streams are `data: {chat.completion.chunk}` lines ending with `data: [DONE]`.

Base URL per test: http://127.0.0.1:PORT/{scenario}/{key}/v1 — `key` isolates a test's counters.
Scenarios (a trailing -N means "only the first N requests misbehave, then answer normally"):
  ok              a valid answer: echoes the last user message; records every request (see below)
  auth            401 invalid_api_key
  model404        404 model_not_found
  badrequest      400 invalid_request_error (must never be retried)
  ratelimit[-N]   429 with `Retry-After: 1`
  status500[-N], status503[-N]
  cut             streams 3 content chunks, then drops the connection (no [DONE])
  slowheaders     waits 5 s before answering (client read timeout)
  slowstream      one chunk, then waits 5 s
  malformed       a stream with a line that is not JSON in the middle
  endless         a chunk every 20 ms for ~40 s; records on the server when the client closes early
  reasoning       `reasoning_content` deltas (DeepSeek / llama.cpp style) before the answer
  think           the answer carries an inline <think>…</think> block split across chunks
  nostreamopts    400 when `stream_options` is sent (older OpenAI-compatible servers)
  retryafter~V~N  429 with `Retry-After: V` (V URL-quoted: NaN, garbage, 3600, an HTTP-date...) for N requests
  authecho        401 whose message echoes the Authorization header and the bare key (servers that do)
  html            200 text/html login page on every route (a proxy or a wrong base URL)
  htmltokenize    like ok, but POST {root}/tokenize answers 200 with an HTML page
GET /_control/{key} -> {"attempts": int, "requests": [{path, headers, body}], "events": [...]}.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STATE: dict[str, dict[str, Any]] = defaultdict(lambda: {"attempts": 0, "requests": [], "events": []})
ENDLESS_CHUNKS = 2000


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    headers: dict[str, str] | None = None,
    param: str | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


def _usage_chunk(prompt: int, completion: int) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }
    return f"data: {json.dumps(body)}\n\n"


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content)
    return ""


def _completion(text: str, reasoning: str | None = None) -> JSONResponse:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return JSONResponse(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": len(text.split()),
                "total_tokens": 5 + len(text.split()),
            },
        }
    )


def _stream(pieces: list[dict[str, Any]], body: dict[str, Any], state: dict[str, Any]) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        # in_flight / max_in_flight: how many streams of this key were open at once (pool-bound tests).
        state["in_flight"] = state.get("in_flight", 0) + 1
        state["max_in_flight"] = max(state.get("max_in_flight", 0), state["in_flight"])
        try:
            yield _chunk({"role": "assistant", "content": ""})
            for delta in pieces:
                await asyncio.sleep(0.005)
                yield _chunk(delta)
            yield _chunk({}, finish="stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                yield _usage_chunk(5, len(pieces))
            yield "data: [DONE]\n\n"
        finally:
            state["in_flight"] -= 1

    return StreamingResponse(events(), media_type="text/event-stream")


async def _endless(state: dict[str, Any]) -> AsyncIterator[str]:
    sent, completed = 0, False
    try:
        yield _chunk({"role": "assistant", "content": ""})
        for i in range(ENDLESS_CHUNKS):
            yield _chunk({"content": f" w{i}"})
            sent += 1
            await asyncio.sleep(0.02)
        yield "data: [DONE]\n\n"
        completed = True
    finally:
        # Runs on normal end, and also when the client goes away (cancellation / failed write).
        state["events"].append(
            {"event": "stream_end", "client_closed": not completed, "chunks_sent": sent, "time": time.time()}
        )


async def _cut() -> AsyncIterator[str]:
    yield _chunk({"role": "assistant", "content": ""})
    for word in ("one", " two", " three"):
        yield _chunk({"content": word})
    await asyncio.sleep(0.05)
    raise ConnectionAbortedError("misbehaving server: cutting the stream on purpose")


async def _slowstream() -> AsyncIterator[str]:
    yield _chunk({"role": "assistant", "content": "first"})
    await asyncio.sleep(5)
    yield "data: [DONE]\n\n"


HTML_PAGE = "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>login</form></body></html>"


def _misbehaviour(scenario: str, attempt: int, body: dict[str, Any], authorization: str = "") -> Response | None:
    """The error response for this attempt, or None when the request should be answered normally."""
    if scenario.startswith("retryafter~"):
        _, value, limit_text = scenario.split("~")
        if attempt > int(limit_text):
            return None
        return _error(429, "Rate limit reached.", "requests", "rate_limit_exceeded", {"Retry-After": unquote(value)})
    if scenario == "authecho":
        key = authorization.removeprefix("Bearer ")
        return _error(
            401, f"Invalid credentials in Authorization: {authorization} (key {key})", "invalid_request_error", None
        )
    if scenario == "html":
        return HTMLResponse(HTML_PAGE)
    name, _, limit = scenario.partition("-")
    if limit and attempt > int(limit):
        return None
    model = body.get("model", "")
    responses = {
        "auth": lambda: _error(
            401,
            "Incorrect API key provided: sk-te****. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        "model404": lambda: _error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        "badrequest": lambda: _error(
            400, "'messages' must contain at least one message.", "invalid_request_error", None, param="messages"
        ),
        "ratelimit": lambda: _error(
            429,
            "Rate limit reached for requests. Please try again in 1s.",
            "requests",
            "rate_limit_exceeded",
            {"Retry-After": "1"},
        ),
        "status500": lambda: _error(
            500, "The server had an error while processing your request.", "server_error", None
        ),
        "status503": lambda: _error(
            503, "The engine is currently overloaded, please try again later.", "server_error", None
        ),
    }
    if name == "nostreamopts" and "stream_options" in body:
        return _error(400, "Unrecognized request argument supplied: stream_options", "invalid_request_error", None)
    factory = responses.get(name)
    return factory() if factory else None


async def api(request: Request) -> Response:
    """Every /{scenario}/{key}/v1/... route."""
    scenario, key, endpoint = (request.path_params[p] for p in ("scenario", "key", "endpoint"))
    state = STATE[key]
    state["attempts"] += 1
    raw = await request.body()
    try:
        body = json.loads(raw) if raw and request.headers.get("content-type", "").startswith("application/json") else {}
    except ValueError:
        return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    headers["authorization"] = "Bearer ***" if "authorization" in request.headers else ""  # presence only
    state["requests"].append({"path": endpoint, "headers": headers, "body": body, "time": time.time()})
    failure = _misbehaviour(scenario, state["attempts"], body, request.headers.get("authorization", ""))
    if failure is not None:
        return failure
    if scenario == "slowheaders":
        await asyncio.sleep(5)
    if endpoint == "models":
        names = {"twomodels": ["fake-model", "other-model"], "nomodels": []}.get(scenario, ["fake-model"])
        return JSONResponse(
            {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "fake"} for n in names]}
        )
    if endpoint != "chat/completions":
        return _error(404, f"Unknown endpoint /v1/{endpoint}", "invalid_request_error", "unknown_url")
    text = f"echo: {_last_user_text(body)}"
    streaming = bool(body.get("stream"))
    if scenario == "reasoning":
        if not streaming:
            return _completion("42", reasoning="Let me think. Six times seven.")
        return _stream(
            [
                {"reasoning_content": "Let me think."},
                {"reasoning_content": " Six times seven."},
                {"content": "4"},
                {"content": "2"},
            ],
            body,
            state,
        )
    if scenario == "think":
        if not streaming:
            return _completion("<think>Let me think. Six times seven.</think>42")
        return _stream(
            [
                {"content": "<thi"},
                {"content": "nk>Let me think."},
                {"content": " Six times seven.</th"},
                {"content": "ink>4"},
                {"content": "2"},
            ],
            body,
            state,
        )
    if not streaming:
        return _completion(text)
    if scenario == "cut":
        return StreamingResponse(_cut(), media_type="text/event-stream")
    if scenario == "slowstream":
        return StreamingResponse(_slowstream(), media_type="text/event-stream")
    if scenario == "endless":
        return StreamingResponse(_endless(state), media_type="text/event-stream")
    if scenario == "malformed":

        async def malformed() -> AsyncIterator[str]:
            yield _chunk({"role": "assistant", "content": "good"})
            yield "data: {this is not json\n\n"
            yield _chunk({"content": " never reached"})
            yield "data: [DONE]\n\n"

        return StreamingResponse(malformed(), media_type="text/event-stream")
    return _stream([{"content": piece} for piece in re.findall(r"\s*\S+", text)], body, state)


async def root_api(request: Request) -> Response:
    """POST /{scenario}/{key}/tokenize (llama.cpp serves it at the root, not under /v1)."""
    if request.path_params["scenario"] in ("htmltokenize", "html"):
        return HTMLResponse(HTML_PAGE)
    return _error(404, "File Not Found", "not_found_error", None)


async def control(request: Request) -> Response:
    """GET /_control/{key}: what the server saw for that key."""
    return JSONResponse(STATE[request.path_params["key"]])


async def health(request: Request) -> Response:
    """GET /health."""
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/_control/{key}", control),
        Route("/{scenario}/{key}/v1/{endpoint:path}", api, methods=["GET", "POST"]),
        Route("/{scenario}/{key}/tokenize", root_api, methods=["POST"]),
    ]
)
