"""``/lollms/v1`` (what lollms_client's ``lollms`` binding asks a LoLLMS server) and ``GET /health``.

Names and shapes follow that binding: ``POST /lollms/v1/tokenize {model, text}`` →
``{"tokens", "count"}``, ``POST /lollms/v1/detokenize {model, tokens}`` → ``{"text"}``,
``POST /lollms/v1/context_size {model}`` → ``{"context_size"}``, ``/lollms/v1/audio/speech`` (as
``/v1``'s) and ``GET /lollms/v1/audio/voices`` → ``{"data": [...]}``; plus ``count_tokens`` and
the model's ``get_model_info()`` at ``GET /lollms/v1/models/{model}``. The LoLLMS app's own API
documentation uses the same paths and payloads (``{"model": "binding/model", "text": ...}``).
"""

from __future__ import annotations

from typing import Any

from lollms_core.types import Modality
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError
from .routes_openai import json_body, state_of
from .state import ServerState

__all__ = ["health", "lollms_routes"]


async def _llm_call(request: Request, run: Any) -> Any:
    body = await json_body(request)
    host = state_of(request).host(body.get("model"), Modality.LLM)
    return await host.call(lambda b: run(b, body))


def _text(body: dict[str, Any]) -> str:
    text = body.get("text", body.get("prompt"))
    if not isinstance(text, str):
        raise ApiError(400, "'text' must be a string", param="text")
    return text


async def tokenize(request: Request) -> Response:
    """``POST /lollms/v1/tokenize``: ``{"tokens": [...], "count": n}``."""
    tokens = await _llm_call(request, lambda b, body: b.tokenize(_text(body)))
    return JSONResponse({"tokens": tokens, "count": len(tokens)})


async def detokenize(request: Request) -> Response:
    """``POST /lollms/v1/detokenize``: ``{"text": ...}``."""

    def run(binding: Any, body: dict[str, Any]) -> str:
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
            raise ApiError(400, "'tokens' must be a list of integers", param="tokens")
        return str(binding.detokenize(tokens))

    return JSONResponse({"text": await _llm_call(request, run)})


async def count_tokens(request: Request) -> Response:
    """``POST /lollms/v1/count_tokens``: ``{"count": n}``."""
    return JSONResponse({"count": await _llm_call(request, lambda b, body: b.count_tokens(_text(body)))})


def _context_size(info: dict[str, Any]) -> int | None:
    for key in ("ctx_size", "context_size", "n_ctx", "context_length"):
        if isinstance(info.get(key), int):
            return int(info[key])
    return None


async def context_size(request: Request) -> Response:
    """``POST /lollms/v1/context_size``: ``{"context_size": n}`` from the model's info."""
    info = await _llm_call(request, lambda b, body: b.get_model_info())
    size = _context_size(info)
    if size is None:
        raise ApiError(404, "this model does not report its context size", code="unknown_context_size")
    return JSONResponse({"context_size": size})


async def model_info(request: Request) -> Response:
    """``GET /lollms/v1/models/{model}``: the binding's ``get_model_info()`` (LLM) or its models list."""
    state = state_of(request)
    name = request.path_params["model"]
    host = state.hosts.get(name)
    if host is None:
        raise ApiError(
            404, f"model '{name}' is not served here; models: {', '.join(state.hosts)}", code="model_not_found"
        )
    info = await host.call(
        lambda b: b.get_model_info() if hasattr(b, "get_model_info") else {"models": getattr(b, "list_models")()}  # noqa: B009
    )
    return JSONResponse({"id": host.name, "modality": host.modality.value, "binding": host.binding_name, "info": info})


async def voices(request: Request) -> Response:
    """``GET /lollms/v1/audio/voices``: ``{"data": [{"id", "model"}]}``, every voice of every TTS model."""
    data = []
    for host in state_of(request).of(Modality.TTS):
        try:
            names = await host.call(lambda b: b.list_voices())  # type: ignore[attr-defined]
        except Exception:  # a model that cannot list its voices (or failed to load) lists none
            names = []
        data += [{"id": name, "model": host.name} for name in names]
    return JSONResponse({"object": "list", "data": data})


async def health(request: Request) -> Response:
    """``GET /health``: per model id ``ready``/``loading``/``failing`` (router members too).

    Without a valid key (when keys are configured) only the overall status is shown.
    """
    state = state_of(request)
    states = [h.state for h in state.hosts.values()]
    status = "ok" if all(s == "ready" for s in states) else "loading" if "loading" in states else "degraded"
    body: dict[str, Any] = {"status": status}
    if request.scope.get("lollms.authorised", True):
        body["models"] = {name: host.health() for name, host in state.hosts.items()}
    return JSONResponse(body, status_code=200 if any(s == "ready" for s in states) or "loading" in states else 503)


def lollms_routes(state: ServerState) -> list[Route]:
    """The ``/lollms/v1`` extras and ``/health`` (speech routes only when a TTS model is configured)."""
    speech = []
    if state.of(Modality.TTS):
        from .routes_openai import audio_speech

        speech = [
            Route("/lollms/v1/audio/speech", audio_speech, methods=["POST"]),  # the LoLLMS app's copy of /v1's
            Route("/lollms/v1/audio/voices", voices),
        ]
    return [
        *speech,
        Route("/health", health),
        Route("/lollms/v1/tokenize", tokenize, methods=["POST"]),
        Route("/lollms/v1/detokenize", detokenize, methods=["POST"]),
        Route("/lollms/v1/count_tokens", count_tokens, methods=["POST"]),
        Route("/lollms/v1/context_size", context_size, methods=["POST"]),
        Route("/lollms/v1/models/{model:path}", model_info),
    ]
