"""An Ollama-API server for tests: Ollama's REST surface in front of the real llama.cpp engine.

No Ollama server can run here (TESTING-BACKENDS.md), so this app implements the routes the binding
uses from Ollama's published API documentation (ollama/ollama docs/api.md, docs/openapi.yaml,
docs/api/errors.mdx, docs/capabilities/thinking.mdx) and puts xllamacpp's embedded llama-server
(SmolLM2 135M) behind /api/chat, /api/generate and /api/embed, so text and vectors are real.
/api/tags, /api/show, /api/ps and /api/pull answer from the GGUF file's own metadata.

What no real engine here can do is scripted and named as such:
- model ``scripted-thinker`` (capabilities completion/vision/thinking): streams fixed thinking
  frames, then an answer stating how many images (and decoded bytes) it received;
- model ``scripted-tools`` (capabilities completion/tools): Ollama's published tool-call examples
  (see ollama_tool_script.py); any other model given ``tools`` answers 400 "does not support tools";
- models ``fault-500``, ``fault-cut`` (connection dropped mid-stream), ``fault-malformed`` (one
  broken NDJSON line), ``fault-stream-error`` (an ``{"error": ...}`` frame mid-stream);
- any other unknown model: 404 ``{"error": "model 'x' not found"}``.
``records`` keeps every request body and every stream a client closed before its last frame.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as _dt
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from gguf_facts import GGUFFacts
from ollama_scripted import FAULT_MODELS, SCRIPTED_THINKER, fault_stream, ollama_frame, scripted_thinker
from ollama_tool_script import SCRIPTED_TOOLS, streamed_answer, whole_answer
from ollama_wire import (
    NDJSON,
    RecordingNDJSONStream,
    error,
    final_stats,
    keep_alive_seconds,
    llama_sampling,
    ndjson_line,
    normalise_model_name,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerRecords:
    """What the server saw, for tests to assert on."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    early_closes: list[dict[str, Any]] = field(default_factory=list)
    completed_streams: list[dict[str, Any]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    engine_errors: list[str] = field(default_factory=list)

    def last(self, path: str) -> dict[str, Any]:
        """The last request made to ``path`` (with ``body`` and ``authorization``)."""
        return next(r for r in reversed(self.requests) if r["path"] == path)

    def wait_for_early_close(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` early closes have been recorded."""
        deadline = time.monotonic() + timeout
        while len(self.early_closes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.early_closes) >= count


class OllamaTestServer:
    """Start/stop the llama.cpp engine and the Ollama-API app on free 127.0.0.1 ports."""

    def __init__(self, gguf_path: str | Path, model_name: str = "smollm2:135m", n_ctx: int = 2048) -> None:
        self.facts = GGUFFacts.read(gguf_path)
        self.model_name = normalise_model_name(model_name)
        self.n_ctx = n_ctx
        self.records = ServerRecords()
        self.loaded_until: dict[str, float | None] = {}  # model -> monotonic expiry (None = forever)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._engine: Any = None
        self._engine_url = ""
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._upstream: httpx.AsyncClient | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        """Start the engine, then the app; return the base URL once both answer."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.facts.path)
        engine_port = free_port()
        params.port = engine_port
        params.hostnames = ["127.0.0.1"]
        params.embedding = True
        params.pooling_type = 1  # mean pooling: one vector per input
        params.n_ctx = self.n_ctx
        params.n_parallel = 2
        params.cpuparams.n_threads = 2
        params.model_alias = {self.model_name}
        self._engine = xllamacpp.Server(params)
        self._engine_url = f"http://127.0.0.1:{engine_port}"
        _wait_healthy(f"{self._engine_url}/health")
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, name="ollama-test-server", daemon=True)
        self._thread.start()
        _wait_healthy(self.url + "/")
        return self.url

    def stop(self) -> None:
        """Stop the app and the engine."""
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)
        self._engine = None  # xllamacpp.Server stops its loop in its destructor

    # ---- app -------------------------------------------------------------------------------
    def app(self) -> Starlette:
        """The Starlette app with Ollama's routes."""
        return Starlette(
            routes=[
                Route("/", lambda _: PlainTextResponse("Ollama is running"), methods=["GET", "HEAD"]),
                Route("/api/version", lambda _: JSONResponse({"version": "0.12.0-lollms-test"})),
                Route("/api/chat", self.chat, methods=["POST"]),
                Route("/api/generate", self.generate, methods=["POST"]),
                Route("/api/embed", self.embed, methods=["POST"]),
                Route("/api/tags", self.tags),
                Route("/api/show", self.show, methods=["POST"]),
                Route("/api/ps", self.ps),
                Route("/api/pull", self.pull, methods=["POST"]),
            ]
        )

    async def _read(self, request: Request) -> dict[str, Any] | Response:
        self.records.hits[request.url.path] += 1
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"invalid JSON body: {exc}")
        if not isinstance(body, dict):
            return error(400, "request body must be a JSON object")
        self.records.requests.append(
            {"path": request.url.path, "body": body, "authorization": request.headers.get("authorization")}
        )
        return body

    def _known(self, name: str) -> bool:
        return name in (self.model_name, SCRIPTED_THINKER, SCRIPTED_TOOLS)

    def _touch(self, name: str, keep_alive: Any) -> None:
        if name != self.model_name:  # only the real GGUF is "loaded"; /api/ps reports its facts
            return
        seconds = keep_alive_seconds(keep_alive)
        if seconds == 0:
            self.loaded_until.pop(name, None)
        else:
            self.loaded_until[name] = None if seconds is None else time.monotonic() + seconds

    def _client(self) -> httpx.AsyncClient:
        if self._upstream is None:  # created lazily inside the server's event loop
            # No keep-alive to the engine: llama-server (cpp-httplib) drops idle pooled connections,
            # and a reused dead one fails as "Server disconnected without sending a response".
            self._upstream = httpx.AsyncClient(
                base_url=self._engine_url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)
            )
        return self._upstream

    async def _resolve(self, request: Request, need_model: bool = True) -> tuple[dict[str, Any], str] | Response:
        body = await self._read(request)
        if isinstance(body, Response):
            return body
        raw = body.get("model") or body.get("name")
        if not isinstance(raw, str) or not raw:
            return error(400, "model is required")
        name = normalise_model_name(raw)
        if name == "fault-500:latest":
            return error(500, "the model failed to generate a response")
        if need_model and not self._known(name) and name not in FAULT_MODELS:
            return error(404, f"model '{raw}' not found")
        try:
            keep_alive_seconds(body.get("keep_alive"))
        except ValueError as exc:
            return error(400, str(exc))
        return body, name

    # ---- generation ------------------------------------------------------------------------
    async def chat(self, request: Request) -> Any:
        """POST /api/chat."""
        return await self._complete(request, kind="chat")

    async def generate(self, request: Request) -> Any:
        """POST /api/generate."""
        return await self._complete(request, kind="generate")

    async def _complete(self, request: Request, kind: str) -> Any:
        resolved = await self._resolve(request)
        if isinstance(resolved, Response):
            return resolved
        body, name = resolved
        field_name = "message" if kind == "chat" else "response"
        if name in FAULT_MODELS:
            return fault_stream(name, kind)
        if name == SCRIPTED_TOOLS and kind == "chat":
            if body.get("stream", True) is False:
                return JSONResponse(whole_answer(name, body))
            return StreamingResponse((ndjson_line(o) async for o in streamed_answer(name, body)), media_type=NDJSON)
        if body.get("tools"):  # what Ollama answers for a model whose template has no tools
            return error(400, f"registry.ollama.ai/library/{name} does not support tools")
        think = body.get("think")
        if think not in (None, False) and name != SCRIPTED_THINKER:
            return error(400, f'"{name}" does not support thinking')
        messages = body.get("messages") or []
        if kind == "chat":
            images = [img for m in messages for img in (m.get("images") or [])]
            if not messages:  # documented: empty messages loads (or, keep_alive 0, unloads) the model
                self._touch(name, body.get("keep_alive"))
                reason = "unload" if name not in self.loaded_until else "load"
                return JSONResponse(ollama_frame(name, kind, "", done=True, done_reason=reason))
        else:
            images = list(body.get("images") or [])
            if not body.get("prompt"):
                self._touch(name, body.get("keep_alive"))
                reason = "unload" if name not in self.loaded_until else "load"
                return JSONResponse(ollama_frame(name, kind, "", done=True, done_reason=reason))
        try:
            decoded = [base64.b64decode(img, validate=True) for img in images]
        except (binascii.Error, TypeError, ValueError):
            return error(400, "illegal base64 data in images")
        if images and name != SCRIPTED_THINKER:
            return error(400, f"model '{name}' does not support image input")
        self._touch(name, body.get("keep_alive"))
        if name == SCRIPTED_THINKER:
            source = scripted_thinker(name, kind, bool(think), decoded)
        else:
            try:
                payload = llama_sampling(body.get("options"), body.get("format"))
            except ValueError as exc:
                return error(400, str(exc))
            source = self._engine_frames(name, kind, body, payload)
        if body.get("stream", True) is False:
            merged: dict[str, Any] = {}
            text, thought = "", ""
            async for obj in source:
                part = obj.get(field_name) or {}
                text += part.get("content", "") if kind == "chat" else obj.get("response", "")
                thought += part.get("thinking", "") if kind == "chat" else obj.get("thinking", "")
                merged = obj
            if kind == "chat":
                merged["message"] = {
                    "role": "assistant",
                    "content": text,
                    **({"thinking": thought} if thought else {}),
                }
            else:
                merged["response"] = text
                if thought:
                    merged["thinking"] = thought
            return JSONResponse(merged)

        async def frames() -> AsyncIterator[bytes]:
            try:
                async for obj in source:
                    yield ndjson_line(obj)
            except Exception as exc:  # recorded and reported in-band, never a silently dropped connection
                self.records.engine_errors.append(repr(exc))
                yield ndjson_line({"error": f"test server: {type(exc).__name__}: {exc}"})

        def on_finish(completed: bool, sent: int) -> None:
            entry = {"path": request.url.path, "model": name, "frames_sent": sent}
            (self.records.completed_streams if completed else self.records.early_closes).append(entry)

        return RecordingNDJSONStream(frames(), on_finish)

    async def _engine_frames(
        self, name: str, kind: str, body: dict[str, Any], payload: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        started = time.perf_counter_ns()
        if kind == "chat":
            route, payload["messages"] = (
                "/v1/chat/completions",
                [{"role": m.get("role", "user"), "content": m.get("content", "")} for m in body["messages"]],
            )
        elif body.get("raw"):
            route, payload["prompt"] = "/v1/completions", body["prompt"]
        else:
            system = [{"role": "system", "content": body["system"]}] if body.get("system") else []
            route, payload["messages"] = (
                "/v1/chat/completions",
                [*system, {"role": "user", "content": body["prompt"]}],
            )
        payload.update(stream=True, stream_options={"include_usage": True})
        usage: dict[str, Any] = {}
        timings: dict[str, Any] = {}
        finish = "stop"
        try:
            async with self._client().stream("POST", route, json=payload) as upstream:
                if upstream.status_code != 200:
                    detail = (await upstream.aread()).decode(errors="replace")
                    yield {"error": f"llama engine answered {upstream.status_code}: {detail[:200]}"}
                    return
                async for line in upstream.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    event = json.loads(line[6:])
                    usage = event.get("usage") or usage
                    timings = event.get("timings") or timings
                    for choice in event.get("choices") or []:
                        finish = choice.get("finish_reason") or finish
                        text = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
                        if text:
                            yield ollama_frame(name, kind, text)
        except httpx.HTTPError as exc:
            # Ollama reports a failure after the stream started as an error frame (docs/api/errors.mdx).
            self.records.engine_errors.append(repr(exc))
            yield {"error": f"llama engine stream failed: {type(exc).__name__}: {exc}"}
            return
        done = ollama_frame(name, kind, "", done=True, done_reason="length" if finish == "length" else "stop")
        done.update(final_stats(started, usage, timings))
        yield done

    # ---- embeddings, models ------------------------------------------------------------------
    async def embed(self, request: Request) -> Response:
        """POST /api/embed: ``input`` is a string or a list of strings."""
        resolved = await self._resolve(request)
        if isinstance(resolved, Response):
            return resolved
        body, name = resolved
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            return error(400, "invalid input type: want a string or a list of strings")
        if name != self.model_name:
            return error(400, f'"{name}" does not support embeddings')
        started = time.perf_counter_ns()
        self._touch(name, body.get("keep_alive"))
        if not inputs:
            return JSONResponse({"model": name, "embeddings": []})
        reply = await self._client().post("/v1/embeddings", json={"input": inputs})
        if reply.status_code != 200:
            return error(500, f"llama engine answered {reply.status_code}: {reply.text[:200]}")
        data = reply.json()
        vectors = [item["embedding"] for item in sorted(data["data"], key=lambda d: d["index"])]
        return JSONResponse(
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": 0,
                "prompt_eval_count": int((data.get("usage") or {}).get("prompt_tokens", 0)),
            }
        )

    def _summary(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "model": name,
            "modified_at": self.facts.modified_at,
            "size": self.facts.size,
            "digest": self.facts.digest,
            "details": self.facts.details(),
        }

    async def tags(self, request: Request) -> Response:
        """GET /api/tags: the real GGUF, named ``model_name``."""
        self.records.hits[request.url.path] += 1
        return JSONResponse({"models": [self._summary(self.model_name)]})

    async def ps(self, request: Request) -> Response:
        """GET /api/ps: models used recently and not expired (``keep_alive``)."""
        self.records.hits[request.url.path] += 1
        now, models = time.monotonic(), []
        for name, until in list(self.loaded_until.items()):
            if until is not None and until <= now:
                del self.loaded_until[name]
                continue
            expires = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=3650 if until is None else until - now)
            summary = self._summary(name)
            summary.update(expires_at=expires.isoformat(), size_vram=0, context_length=self.n_ctx)
            models.append(summary)
        return JSONResponse({"models": models})

    async def show(self, request: Request) -> Response:
        """POST /api/show: details, GGUF ``model_info``, template, capabilities."""
        resolved = await self._resolve(request)
        if isinstance(resolved, Response):
            return resolved
        _, name = resolved
        capabilities = {SCRIPTED_THINKER: ["completion", "vision", "thinking"], SCRIPTED_TOOLS: ["completion", "tools"]}
        capabilities = capabilities.get(name, ["completion"])
        return JSONResponse(
            {
                "license": self.facts.license,
                "modelfile": f"# Modelfile generated by the lollms test server\nFROM {self.facts.path}\n",
                "parameters": "",
                "template": self.facts.chat_template,
                "details": self.facts.details(),
                "model_info": self.facts.model_info(),
                "capabilities": capabilities,
                "modified_at": self.facts.modified_at,
            }
        )

    async def pull(self, request: Request) -> Response:
        """POST /api/pull: streamed progress while the real GGUF is read and hashed."""
        resolved = await self._resolve(request, need_model=False)
        if isinstance(resolved, Response):
            return resolved
        body, name = resolved
        if body.get("stream", True) is not False:
            return StreamingResponse(self._pull_frames(name), media_type=NDJSON)
        if name != self.model_name:
            return error(500, "pull model manifest: file does not exist")
        return JSONResponse({"status": "success"})

    async def _pull_frames(self, name: str) -> AsyncIterator[bytes]:
        yield ndjson_line({"status": "pulling manifest"})
        if name != self.model_name:
            yield ndjson_line({"error": "pull model manifest: file does not exist"})
            return
        digest, total = f"sha256:{self.facts.digest}", self.facts.size
        step = max(total // 8, 1)
        for completed in range(0, total, step):
            yield ndjson_line(
                {
                    "status": f"pulling {digest[7:19]}",
                    "digest": digest,
                    "total": total,
                    "completed": completed,
                }
            )
            await asyncio.sleep(0)
        yield ndjson_line({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total, "completed": total})
        for status in ("verifying sha256 digest", "writing manifest", "success"):
            yield ndjson_line({"status": status})


def _wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy within {timeout} s")
