"""The ``/v1`` routes: OpenAI's API over the configured aliases, one modality per route family."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

from lollms_core.types import MSG_TYPE, ChatRequest, Chunk, GenerationResult, Modality
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import wire
from .asgi import EventStream, access_info, error_event
from .errors import ApiError, error_for
from .hosts import ModelHost
from .state import ServerState

__all__ = ["openai_routes"]

_STARTED = int(time.time())


def state_of(request: Request) -> ServerState:
    """The server state the app was built with."""
    state: ServerState = request.app.state.lollms
    return state


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    return body


def _note(request: Request, host: ModelHost) -> None:
    access_info(request.scope)["model"] = host.name


def _tokens(request: Request, usage: dict[str, int]) -> None:
    access_info(request.scope)["tokens"] = (usage["prompt_tokens"], usage["completion_tokens"])


# == models ===============================================================================


def _model_object(host: ModelHost) -> dict[str, Any]:
    return {
        "id": host.name,
        "object": "model",
        "created": _STARTED,
        "owned_by": f"lollms:{host.binding_name}",
        "lollms": {"modality": host.modality.value, "binding": host.binding_name, "state": host.state},
    }


async def list_models(request: Request) -> Response:
    """``GET /v1/models``: every model id (aliases and router groups) with its modality and state."""
    hosts = state_of(request).hosts.values()
    return JSONResponse({"object": "list", "data": [_model_object(h) for h in hosts]})


async def get_model(request: Request) -> Response:
    """``GET /v1/models/{model}``."""
    state = state_of(request)
    host = state.hosts.get(request.path_params["model"])
    if host is None:
        raise ApiError(404, f"model '{request.path_params['model']}' is not served here", code="model_not_found")
    return JSONResponse(_model_object(host))


# == text ==================================================================================


async def _prompt_tokens(host: ModelHost, result: GenerationResult, text: str) -> int | None:
    """Prompt tokens for usage, counted with the model's tokenizer when the binding reported none."""
    if (result.usage or {}).get("prompt_tokens"):
        return None
    try:
        return await host.call(lambda b: b.count_tokens(text))  # type: ignore[attr-defined]
    except Exception:
        return None


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("content") or "") for m in messages)


async def _start(host: ModelHost, request: ChatRequest) -> tuple[AsyncGenerator[Any, None], Any]:
    """Open the stream and wait for its first item, so a failure before any text is a plain HTTP error."""
    events = host.stream(request)
    try:
        first = await events.__anext__()
    except BaseException:
        await events.aclose()
        raise
    return events, first


async def _build(request: Request, host: ModelHost, messages: list[dict[str, Any]], params: dict[str, Any]) -> Any:
    binding = await host.ready()
    _note(request, host)
    return binding.build_request(messages, **params)  # type: ignore[attr-defined]


async def chat_completions(request: Request) -> Response:
    """``POST /v1/chat/completions``: streamed (SSE, ``[DONE]``, optional usage chunk) or not."""
    state = state_of(request)
    body = await json_body(request)
    host = state.host(body.get("model"), Modality.LLM)
    messages = wire.chat_messages(body)
    params = {**wire.sampling(body, state.config.max_tokens), **wire.tooling(body)}
    chat = await _build(request, host, messages, params)
    model, cid = host.name, wire.new_id("chatcmpl")
    if not body.get("stream"):
        result = await host.generate(chat)
        answer = wire.chat_completion(cid, model, result, await _prompt_tokens(host, result, _prompt_text(messages)))
        _tokens(request, answer["usage"])
        return JSONResponse(answer)
    options = body.get("stream_options") or {}
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    events, first = await _start(host, chat)

    async def stream() -> AsyncGenerator[bytes, None]:
        created = int(time.time())
        yield wire.sse(wire.chat_chunk(cid, model, created, first=True, with_usage=include_usage))
        try:
            item, calls = first, 0
            while not isinstance(item, GenerationResult):
                if isinstance(item, Chunk) and item.type is MSG_TYPE.MSG_TYPE_TOOL_CALL:
                    yield wire.sse(
                        wire.chat_chunk(cid, model, created, item, with_usage=include_usage, tool_index=calls)
                    )
                    calls += 1
                elif isinstance(item, Chunk) and item.text:
                    yield wire.sse(wire.chat_chunk(cid, model, created, item, with_usage=include_usage))
                item = await events.__anext__()
            result = item
            finish = wire.finish_reason(result)
            yield wire.sse(wire.chat_chunk(cid, model, created, finish=finish, with_usage=include_usage))
            usage = wire.usage(result, await _prompt_tokens(host, result, _prompt_text(messages)))
            _tokens(request, usage)
            if include_usage:
                last = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
                yield wire.sse({**last, "choices": [], "usage": usage})
            yield wire.sse("[DONE]")
        except Exception as exc:
            yield error_event(error_for(exc))
        finally:
            await events.aclose()

    return EventStream(stream())  # type: ignore[return-value]


async def completions(request: Request) -> Response:
    """``POST /v1/completions`` (legacy): one prompt, the model's chat template applied by the binding."""
    state = state_of(request)
    body = await json_body(request)
    host = state.host(body.get("model"), Modality.LLM)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise ApiError(400, "'prompt' must be a string (or a list of one string)", param="prompt")
    # OpenAI's default for this endpoint is 16 tokens.
    params = wire.sampling(body, state.config.max_tokens, default_tokens=16)
    messages = [{"role": "user", "content": prompt}]
    chat = await _build(request, host, messages, params)
    model, cid = host.name, wire.new_id("cmpl")
    echo = prompt if body.get("echo") is True else ""
    if not body.get("stream"):
        result = await host.generate(chat)
        result.text = echo + result.text
        answer = wire.completion(cid, model, result, await _prompt_tokens(host, result, prompt))
        _tokens(request, answer["usage"])
        return JSONResponse(answer)
    options = body.get("stream_options") or {}
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    events, first = await _start(host, chat)

    async def stream() -> AsyncGenerator[bytes, None]:
        created = int(time.time())
        try:
            if echo:
                yield wire.sse(wire.completion_chunk(cid, model, created, echo))
            item = first
            while not isinstance(item, GenerationResult):
                if isinstance(item, Chunk) and item.text and item.type is MSG_TYPE.MSG_TYPE_CHUNK:
                    yield wire.sse(wire.completion_chunk(cid, model, created, item.text))
                item = await events.__anext__()
            yield wire.sse(wire.completion_chunk(cid, model, created, "", wire.finish_reason(item)))
            usage = wire.usage(item, await _prompt_tokens(host, item, prompt))
            _tokens(request, usage)
            if include_usage:
                yield wire.sse({"id": cid, "object": "text_completion", "created": created, "model": model,
                                "choices": [], "usage": usage})  # fmt: skip
            yield wire.sse("[DONE]")
        except Exception as exc:
            yield error_event(error_for(exc))
        finally:
            await events.aclose()

    return EventStream(stream())  # type: ignore[return-value]


async def embeddings(request: Request) -> Response:
    """``POST /v1/embeddings``: text (or token arrays, when the model detokenizes), float or base64."""
    state = state_of(request)
    body = await json_body(request)
    host = state.host(body.get("model"), Modality.LLM)
    _note(request, host)
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ApiError(400, f"'encoding_format' must be 'float' or 'base64', got {encoding!r}", param="encoding_format")
    raw = body.get("input")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'input' must be a string, a list of strings or token arrays", param="input")
    if all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        raw = [raw]
    if not all(isinstance(x, str) or (isinstance(x, list) and all(isinstance(t, int) for t in x)) for x in raw):
        raise ApiError(400, "'input' must be a string, a list of strings or token arrays", param="input")

    def run(binding: Any) -> tuple[list[list[float]], int]:
        texts = [x if isinstance(x, str) else binding.detokenize(x) for x in raw]
        vectors = binding.embed(texts)
        try:
            used = sum(len(x) if isinstance(x, list) else binding.count_tokens(x) for x in raw)
        except Exception:
            used = 0
        return vectors, used

    vectors, used = await host.call(run)
    access_info(request.scope)["tokens"] = (used, 0)
    return JSONResponse(wire.embedding_list(host.name, vectors, encoding, used))


# == media =================================================================================


def _declared(host: ModelHost, method: str) -> set[str]:
    manifest = getattr(host.binding, "manifest", None)
    if manifest is None:
        return set()
    return {p.name for p in (*manifest.method_parameters.get(method, ()), *manifest.method_parameters.get("model", ()))}


async def image_generations(request: Request) -> Response:
    """``POST /v1/images/generations``: ``b64_json``, or ``url`` as a ``data:`` URL (nothing is stored)."""
    state = state_of(request)
    body = await json_body(request)
    host = state.host(body.get("model"), Modality.TTI)
    _note(request, host)
    await host.ready()
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "'prompt' must be a non-empty string", param="prompt")
    count = body.get("n") or 1
    if not isinstance(count, int) or not 1 <= count <= 10:
        raise ApiError(400, "'n' must be an integer from 1 to 10", param="n")
    fmt = body.get("response_format") or "url"
    if fmt not in ("url", "b64_json"):
        raise ApiError(400, "'response_format' must be 'url' or 'b64_json'", param="response_format")
    params: dict[str, Any] = {}
    size = body.get("size")
    if isinstance(size, str) and size != "auto":
        width, _, height = size.partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise ApiError(400, f"'size' must look like 1024x1024, got {size!r}", param="size")
        declared = _declared(host, "generate_image")
        if "size" in declared and "width" not in declared:
            params["size"] = int(width)  # a square-only engine takes one side
        else:
            params["width"], params["height"] = int(width), int(height)
    images = []
    for _ in range(count):
        data = await host.call(lambda b: b.generate_image(prompt, **params))  # type: ignore[attr-defined]
        text = base64.b64encode(data).decode("ascii")
        images.append({"b64_json": text} if fmt == "b64_json" else {"url": f"data:image/png;base64,{text}"})
    return JSONResponse({"created": int(time.time()), "data": images})


_TRANSCRIPT_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


async def audio_transcriptions(request: Request) -> Response:
    """``POST /v1/audio/transcriptions`` (multipart): json, text, srt, vtt or verbose_json."""
    state = state_of(request)
    form = await request.form(max_part_size=state.config.max_body_bytes)
    model = form.get("model")
    host = state.host(model if isinstance(model, str) else None, Modality.STT)
    _note(request, host)
    await host.ready()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(400, "'file' must be an uploaded audio file (multipart/form-data)", param="file")
    audio = await upload.read()
    fmt = str(form.get("response_format") or "json")
    if fmt not in _TRANSCRIPT_FORMATS:
        raise ApiError(
            400, f"'response_format' must be one of {', '.join(_TRANSCRIPT_FORMATS)}", param="response_format"
        )
    options: dict[str, Any] = {}
    declared = _declared(host, "transcribe_audio")
    for key in ("language", "prompt", "temperature"):
        value = form.get(key)
        if isinstance(value, str) and value and key in declared:
            options[key] = value
    if fmt in ("json", "text"):
        text = await host.call(lambda b: b.transcribe_audio(audio, **options))  # type: ignore[attr-defined]
        return Response(text, media_type="text/plain") if fmt == "text" else JSONResponse({"text": text})
    result = await host.call(lambda b: b.transcribe_segments(audio, **options))  # type: ignore[attr-defined]
    if fmt == "srt":
        return Response(result.to_srt(), media_type="text/plain")
    if fmt == "vtt":
        return Response(result.to_vtt(), media_type="text/vtt")
    segments = [{"id": i, "start": s.start, "end": s.end, "text": s.text} for i, s in enumerate(result.segments)]
    verbose = {"task": "transcribe", "language": result.language, "duration": result.duration}
    return JSONResponse({**verbose, "text": result.text, "segments": segments})


_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg"}


async def audio_speech(request: Request) -> Response:
    """``POST /v1/audio/speech``: the binding's audio; ``wav`` and ``pcm`` served from a WAV answer."""
    from lollms_core.media import sniff_format

    state = state_of(request)
    body = await json_body(request)
    host = state.host(body.get("model"), Modality.TTS)
    _note(request, host)
    await host.ready()
    text = body.get("input")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "'input' must be a non-empty string", param="input")
    voice = body.get("voice")
    if voice is not None and not isinstance(voice, str):
        raise ApiError(400, "'voice' must be a string", param="voice")
    wanted = body.get("response_format")
    data = await host.call(lambda b: b.generate_audio(text, voice or None))  # type: ignore[attr-defined]
    produced = sniff_format(data) or "wav"
    if wanted is None or wanted == produced:
        return Response(data, media_type=_AUDIO_TYPES.get(produced, "application/octet-stream"))
    if wanted == "pcm" and produced == "wav":
        import wave

        with wave.open(io.BytesIO(data)) as w:
            return Response(w.readframes(w.getnframes()), media_type="audio/pcm")
    raise ApiError(
        400,
        f"'response_format' {wanted!r} is not available from model '{host.name}': it produces {produced} "
        f"(ask for {produced}, or pcm from a wav model)",
        param="response_format",
        code="unsupported",
    )


def openai_routes(state: ServerState) -> list[Route]:
    """The ``/v1`` routes for the modalities ``state`` has models of (others answer 404)."""
    routes = [Route("/v1/models", list_models), Route("/v1/models/{model:path}", get_model)]
    if state.of(Modality.LLM):
        routes += [
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    if state.of(Modality.TTI):
        routes.append(Route("/v1/images/generations", image_generations, methods=["POST"]))
    if state.of(Modality.STT):
        routes.append(Route("/v1/audio/transcriptions", audio_transcriptions, methods=["POST"]))
    if state.of(Modality.TTS):
        routes.append(Route("/v1/audio/speech", audio_speech, methods=["POST"]))
    return routes
