"""FAKE OpenAI Chat Completions server for the native tool-call wire (no local engine emits it: see below).

Why a fake: llama.cpp with SmolLM2 (the one model that runs here) has a chat template without tool
support, so the engine silently ignores ``tools``. The wire below is built from OpenAI's published
documentation, not from any client library:

- the function-calling guide, "Streaming": the ``delta.tool_calls`` sequence printed there, byte for
  byte (``call_DdmO9pD3xa9XTPNJ32zg2hcA``, ``get_weather``, the argument fragments ``{"`` ``location``
  ``":"`` ``Paris`` ``,`` `` France`` ``"}``, and the explicit ``null`` id/name/type of later fragments),
  then a last delta with no tool calls whose ``finish_reason`` is ``"tool_calls"``;
- the same guide, "Handling function calls": the three parallel calls ``call_12345xyz``,
  ``call_67890abc`` and ``call_99999def`` (get_weather Paris, get_weather Bogotá, send_email to bob),
  streamed per the guide's rule that id, name and type come only in a call's first delta and ``index``
  tells the calls apart;
- the API reference's ``chat.completion.chunk`` / ``chat.completion`` envelopes (id, object, created,
  model, system_fingerprint, choices[index, delta|message, logprobs, finish_reason]) and ``data: [DONE]``.

Model names pick the script: ``weather-one`` (one fragmented call), ``weather-parallel`` (three calls),
``weather-broken`` (arguments that are not JSON). A request whose last message is a ``tool`` result is
answered with text quoting every tool result it was given (so a loop's second round is checked), one
without tools with a plain sentence. ``GET /_requests`` returns every request body; ``/props`` is 404
as on OpenAI (not a llama.cpp server).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REQUESTS: list[dict[str, Any]] = []
CREATED = 1694268190
FINGERPRINT = "fp_44709d6fcb"

# The guide's streamed output, one line per chunk (the Python SDK prints absent fields as null).
ONE_CALL_DELTAS: list[list[dict[str, Any]]] = [
    [
        {
            "index": 0,
            "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
            "function": {"arguments": "", "name": "get_weather"},
            "type": "function",
        }
    ],
    *[
        [{"index": 0, "id": None, "function": {"arguments": piece, "name": None}, "type": None}]
        for piece in ['{"', "location", '":"', "Paris", ",", " France", '"}']
    ],
]

# "Sample response with multiple function calls" of the guide.
PARALLEL_CALLS = [
    ("call_12345xyz", "get_weather", '{"location":"Paris, France"}'),
    ("call_67890abc", "get_weather", '{"location":"Bogotá, Colombia"}'),
    ("call_99999def", "send_email", '{"to":"bob@email.com","body":"Hi bob"}'),
]


def _fragments(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _parallel_deltas() -> list[list[dict[str, Any]]]:
    deltas: list[list[dict[str, Any]]] = []
    for index, (call_id, name, arguments) in enumerate(PARALLEL_CALLS):
        deltas.append(
            [{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]
        )
        deltas.extend([{"index": index, "function": {"arguments": piece}}] for piece in _fragments(arguments))
    return deltas


SCRIPTS: dict[str, list[list[dict[str, Any]]]] = {
    "weather-one": ONE_CALL_DELTAS,
    "weather-parallel": _parallel_deltas(),
    "weather-broken": [
        [{"index": 0, "id": "call_broken", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
        [{"index": 0, "function": {"arguments": '{"location": "Par'}}],
    ],
}


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _whole_calls(deltas: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The calls a delta script adds up to (what a non-streamed answer carries)."""
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for part in delta:
            call = calls.setdefault(
                part["index"], {"id": None, "type": "function", "function": {"name": None, "arguments": ""}}
            )
            call["id"] = call["id"] or part.get("id")
            call["function"]["name"] = call["function"]["name"] or part["function"].get("name")
            call["function"]["arguments"] += part["function"].get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def _reply_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    results = [m for m in messages if m.get("role") == "tool"]
    if messages and messages[-1].get("role") == "tool":
        return "The tools said: " + "; ".join(f"{m.get('tool_call_id')}={m.get('content')}" for m in results)
    return "No tool was offered, so here is a plain answer."


async def chat(request: Request) -> Response:
    """POST /v1/chat/completions."""
    body = await request.json()
    REQUESTS.append(body)
    model = str(body.get("model") or "")
    messages = body.get("messages") or []
    wants_call = bool(body.get("tools")) and not (messages and messages[-1].get("role") == "tool")
    script = SCRIPTS.get(model) if wants_call and body.get("tool_choice") != "none" else None
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if script is not None:
            message["tool_calls"] = _whole_calls(script)
        else:
            message["content"] = _reply_text(body)
        return JSONResponse(
            {
                "id": "chatcmpl-123",
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "system_fingerprint": FINGERPRINT,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if script is not None else "stop",
                    }
                ],
                "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99},
            }
        )

    async def events() -> AsyncIterator[bytes]:
        if script is not None:
            first, *rest = script
            yield _chunk(model, {"role": "assistant", "content": None, "tool_calls": first, "refusal": None})
            for delta in rest:
                yield _chunk(model, {"tool_calls": delta})
            yield _chunk(model, {}, "tool_calls")
        else:
            yield _chunk(model, {"role": "assistant", "content": "", "refusal": None})
            for word in _reply_text(body).split(" "):
                yield _chunk(model, {"content": word + " "})
            yield _chunk(model, {}, "stop")
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def models(request: Request) -> Response:
    """GET /v1/models."""
    data = [{"id": name, "object": "model", "created": CREATED, "owned_by": "system"} for name in SCRIPTS]
    return JSONResponse({"object": "list", "data": data})


async def requests_seen(request: Request) -> Response:
    """GET /_requests: every chat request body so far."""
    return JSONResponse(REQUESTS)


async def health(request: Request) -> Response:
    """GET /health."""
    return JSONResponse({"status": "ok"})


async def not_found(request: Request) -> Response:
    """OpenAI's 404 body for routes it does not have (here /props)."""
    error = {"message": f"Invalid URL (GET {request.url.path})", "type": "invalid_request_error"}
    return JSONResponse({"error": {**error, "param": None, "code": None}}, status_code=404)


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", models),
        Route("/_requests", requests_seen),
        Route("/health", health),
        Route("/props", not_found),
    ]
)
