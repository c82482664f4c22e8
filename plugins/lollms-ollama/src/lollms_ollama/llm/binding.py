"""``OllamaBinding``: lollms' LLM contract over Ollama's REST API, with plain httpx (no ollama SDK)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
from lollms_core import http
from lollms_core.bindings import LollmsLLMBinding
from lollms_core.errors import ConfigError, NotFoundError, ServerError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta

from .wire import FrameReader, build_chat_body, build_generate_body, model_entry, normalise_host

__all__ = ["OllamaBinding", "PullProgress"]

#: ``pull_model``'s callback receives each /api/pull status object:
#: ``{"status": str, "digest"?: str, "total"?: int, "completed"?: int}``; returning False stops the pull.
PullProgress = Callable[[dict[str, Any]], "bool | None"]

_TOKENIZER_NOTE = (
    "approximate: Ollama has no tokenize endpoint, so tokenize/count_tokens use tiktoken's "
    "cl100k_base, not the model's own tokenizer"
)


class OllamaBinding(LollmsLLMBinding):
    """Chat, raw completion, thinking, structured output, vision input and embeddings on Ollama.

    Config (``description.yaml``): ``host_address`` (``$OLLAMA_HOST``), ``model_name``,
    ``service_key`` (``$OLLAMA_API_KEY``, sent as a bearer token), ``keep_alive``, ``timeout``,
    ``max_retries``.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.host_address = normalise_host(str(self.config["host_address"] or ""))
        headers = {"Accept": "application/x-ndjson, application/json"}
        key = self.config["service_key"]
        timeout = float(self.config["timeout"])
        self.settings = http.HttpSettings(
            base_url=self.host_address,
            headers=headers,
            read_timeout=timeout,
            connect_timeout=min(10.0, timeout),
            retry=http.RetryPolicy(max_retries=int(self.config["max_retries"])),
            service="Ollama",
            # Held masked; the header is built per request, so no repr (vars(binding)...) shows the key.
            bearer=http.Secret(str(key)) if key else None,
        )
        self._client = http.make_client(self.settings)
        self._keep_alive = str(self.config["keep_alive"] or "")
        self._encoding: Any = None
        self._capabilities: dict[str, list[str]] = {}  # model -> /api/show capabilities, asked once

    # -- helpers ------------------------------------------------------------------------
    def _model(self, request_model: str | None = None) -> str:
        model = request_model or self.model_name
        if not model:
            raise ConfigError(
                "the ollama binding needs a model: set model_name (see `lollms models -b ollama` "
                f"for the models the server at {self.host_address} has)"
            )
        return model

    def _not_found(self, exc: NotFoundError, model: str) -> NotFoundError:
        return NotFoundError(
            f"model '{model}' not found on Ollama at {self.host_address} ({exc}); "
            f"pull it with `lollms models pull -b ollama {model}`",
            status_code=404,
        )

    def _post(self, path: str, body: dict[str, Any], model: str | None = None) -> Any:
        try:
            return http.request(self._client, "POST", path, settings=self.settings, json=body).json()
        except NotFoundError as exc:
            raise self._not_found(exc, model) if model else exc from None

    # -- generation ---------------------------------------------------------------------
    def _prepare(self, request: ChatRequest) -> tuple[str, str, dict[str, Any], str]:
        model = self._model(request.model)
        raw = bool(request.extra.get("raw"))
        path = "/api/generate" if raw else "/api/chat"
        body = (build_generate_body if raw else build_chat_body)(request, model, self._keep_alive)
        return model, path, body, f"Ollama at {self.host_address}{path}"

    def _stream(self, request: ChatRequest) -> Iterator[Chunk | ToolCallDelta]:
        """Stream /api/chat (or /api/generate with ``raw``); the ``with`` closes the connection on stop.

        When nobody consumes chunks (``request.streaming`` is false) the body says ``"stream": false``
        and the answer is one JSON object, read whole.
        """
        model, path, body, where = self._prepare(request)
        if not request.streaming:
            body["stream"] = False
        reader = FrameReader(where)
        try:
            with http.stream(self._client, "POST", path, settings=self.settings, json=body) as response:
                if not request.streaming:
                    response.read()  # one object; read whole, then framed like a stream of one line
                for frame in http.iter_ndjson(response):
                    chunks, done = reader.feed(frame)
                    yield from chunks
                    if done:
                        return
        except NotFoundError as exc:
            raise self._not_found(exc, model) from None
        raise ServerError(f"{where}: the stream ended before its final (done) object")

    async def _astream(self, request: ChatRequest) -> AsyncIterator[Chunk | ToolCallDelta]:
        """Native async :meth:`_stream` (one AsyncClient per call: each ``asyncio.run`` has its own loop)."""
        model, path, body, where = self._prepare(request)
        if not request.streaming:
            body["stream"] = False
        client = http.make_async_client(self.settings)
        reader = FrameReader(where)
        try:
            async with http.astream(client, "POST", path, settings=self.settings, json=body) as response:
                if not request.streaming:
                    await response.aread()
                async for frame in http.aiter_ndjson(response):
                    chunks, done = reader.feed(frame)
                    for chunk in chunks:
                        yield chunk
                    if done:
                        return
        except NotFoundError as exc:
            raise self._not_found(exc, model) from None
        finally:
            await client.aclose()
        raise ServerError(f"{where}: the stream ended before its final (done) object")

    # -- capabilities ---------------------------------------------------------------------
    def _model_capabilities(self, model: str | None) -> list[str]:
        name = self._model(model)
        if name not in self._capabilities:
            show = self._post("/api/show", {"model": name}, name)
            self._capabilities[name] = [str(c) for c in show.get("capabilities") or []]
        return self._capabilities[name]

    def supports_tools(self, model: str | None = None) -> bool:
        """Whether the model's template takes tools: ``"tools"`` in its /api/show capabilities.

        Ollama refuses ``tools`` for a model without it (400 "does not support tools").
        """
        return "tools" in self._model_capabilities(model)

    def supports_json_schema(self, model: str | None = None) -> bool:
        """True: ``format`` takes a JSON Schema and Ollama constrains decoding to it."""
        return True

    # -- embeddings -----------------------------------------------------------------------
    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """Vectors from /api/embed (one request for a whole list). ``model=`` picks another model."""
        model = self._model(kwargs.pop("model", None))
        body: dict[str, Any] = {"model": model, "input": inputs}
        if self._keep_alive:
            body["keep_alive"] = self._keep_alive
        vectors: list[list[float]] = self._post("/api/embed", body, model)["embeddings"]
        return vectors

    # -- tokens ---------------------------------------------------------------------------
    def _tiktoken(self) -> Any:
        if self._encoding is None:
            from lollms_core.tokens import get_encoding

            self._encoding = get_encoding("cl100k_base")
        return self._encoding

    def tokenize(self, text: str) -> list[int]:
        """cl100k_base token ids: an approximation (see ``get_model_info()["tokenizer"]``)."""
        return list(self._tiktoken().encode(text, disallowed_special=()))

    def detokenize(self, tokens: list[int]) -> str:
        """Text of cl100k_base token ids (the inverse of :meth:`tokenize`)."""
        return str(self._tiktoken().decode(tokens))

    # -- models ---------------------------------------------------------------------------
    def list_models(self) -> list[dict[str, Any]]:
        """Local models (/api/tags): name, size, family, parameter size, quantisation."""
        response = http.request(self._client, "GET", "/api/tags", settings=self.settings)
        return [model_entry(item) for item in response.json().get("models") or []]

    def list_running_models(self) -> list[dict[str, Any]]:
        """Models loaded in memory now (/api/ps), with ``expires_at`` and ``context_length``."""
        response = http.request(self._client, "GET", "/api/ps", settings=self.settings)
        return [
            {**model_entry(item), "expires_at": item.get("expires_at"), "context_length": item.get("context_length")}
            for item in response.json().get("models") or []
        ]

    def get_model_info(self) -> dict[str, Any]:
        """/api/show of the current model: context length, capabilities, details, tokenizer honesty."""
        model = self._model()
        show = self._post("/api/show", {"model": model}, model)
        info = show.get("model_info") or {}
        arch = info.get("general.architecture", "")
        context = info.get(f"{arch}.context_length")
        capabilities = list(show.get("capabilities") or [])
        self._capabilities[model] = [str(c) for c in capabilities]
        details = show.get("details") or {}
        return {
            "binding": self.binding_name,
            "model_name": model,
            "host_address": self.host_address,
            "context_length": context,
            "capabilities": capabilities,
            "supports_vision": "vision" in capabilities,
            "supports_thinking": "thinking" in capabilities,
            "supports_embedding": "embedding" in capabilities,
            "supports_tools": "tools" in capabilities,
            "supports_structured_output": True,
            "family": details.get("family"),
            "parameter_size": details.get("parameter_size"),
            "quantization": details.get("quantization_level"),
            "tokenizer": _TOKENIZER_NOTE,
            "token_counts_exact": False,
            "details": details,
        }

    def load_model(self, model_name: str) -> bool:
        """Switch to ``model_name`` if the server has it (/api/show); False when it does not."""
        try:
            self._post("/api/show", {"model": model_name}, model_name)
        except NotFoundError:
            return False
        self.model_name = model_name
        return True

    def pull_model(self, model_name: str, progress_callback: PullProgress | None = None) -> bool:
        """Download ``model_name`` (/api/pull), calling ``progress_callback(status)`` per progress object.

        :returns: True when the server reported ``success``; False when the callback stopped it.
        :raises ServerError: the server reported an error (unknown model, registry unreachable...).
        """
        where = f"Ollama at {self.host_address}/api/pull"
        body = {"model": model_name, "stream": True}
        with http.stream(self._client, "POST", "/api/pull", settings=self.settings, json=body) as response:
            for status in http.iter_ndjson(response):
                if not isinstance(status, dict):
                    raise ServerError(f"{where}: expected a JSON object per line, got {status!r:.200}")
                if "error" in status:
                    raise ServerError(f"{where}: pulling '{model_name}' failed: {status['error']}")
                if progress_callback is not None and progress_callback(status) is False:
                    return False
                if status.get("status") == "success":
                    return True
        raise ServerError(f"{where}: the progress stream ended without 'success'")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        with contextlib.suppress(httpx.HTTPError):  # closing must never raise
            self._client.close()
        super().close()
