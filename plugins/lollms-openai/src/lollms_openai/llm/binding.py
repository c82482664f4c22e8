"""``OpenAIBinding``: lollms' LLM contract over any OpenAI-compatible /chat/completions, with plain httpx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from lollms_core import http
from lollms_core.bindings import LollmsLLMBinding
from lollms_core.errors import BackendError, ConfigError, NotFoundError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta

from .._connection import OpenAIConnection
from .tokens import TokenCounter
from .wire import StreamState, build_chat_body, chunks_from_completion

__all__ = ["OpenAIBinding"]

_log = logging.getLogger(__name__)
_CONTEXT_KEYS = ("context_length", "context_window", "max_model_len", "max_context_length", "n_ctx_train")


class OpenAIBinding(LollmsLLMBinding):
    """Chat (streamed or not), vision input, reasoning, embeddings and model listing on OpenAI-compatible APIs.

    Config (``description.yaml``): ``host_address``, ``service_key`` (``$OPENAI_API_KEY``), ``model_name``,
    ``organization``, ``project``, ``extra_headers``, ``connect_timeout``, ``timeout``, ``max_retries``,
    ``max_connections``.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.connection = OpenAIConnection(self.config)
        self.host_address = self.connection.base_url
        # Servers that reject stream_options (older vLLM, some proxies) are remembered after one 400.
        self._include_usage = True
        self._server_tool_caps: bool | None = None  # llama.cpp's /props answer, asked once
        self._tokens = TokenCounter(self.connection, lambda: self.model_name)

    # -- helpers ------------------------------------------------------------------------
    def _model(self, request_model: str | None = None) -> str:
        model = request_model or self.model_name or self._only_served_model()
        if not model:
            raise ConfigError(
                "the openai binding needs a model: set model_name (e.g. gpt-4o-mini); "
                f"`lollms models -b openai` lists what {self.host_address} serves"
            )
        return model

    def _only_served_model(self) -> str | None:
        """With no model_name, the one model a single-model server lists (as lollms_client does).

        :raises ConfigError: the server lists several (they are named, pick one).
        """
        try:
            served = [str(m["id"]) for m in self._models_payload() if m.get("id")]
        except BackendError:
            return None  # no listing: the caller's "set model_name" error says what to do
        if len(served) > 1:
            raise ConfigError(
                f"the openai binding needs a model: {self.host_address} serves {len(served)} "
                f"({', '.join(served[:20])}{', ...' if len(served) > 20 else ''}); set model_name to one of them"
            )
        if served:
            _log.debug("model_name unset: using %r, the only model %s lists", served[0], self.host_address)
            self.model_name = served[0]  # once: later calls and the tokenizer use it too
            return served[0]
        return None

    def _where(self) -> str:
        return f"OpenAI-compatible server at {self.host_address}/chat/completions"

    def _rejects_stream_options(self, exc: BackendError) -> bool:
        return exc.status_code in (400, 422) and "stream_options" in str(exc) and self._include_usage

    def _not_found(self, exc: NotFoundError, model: str) -> NotFoundError:
        return NotFoundError(
            f"{exc} — model '{model}' may not exist on {self.host_address}; "
            "`lollms models -b openai` lists the models it serves",
            status_code=404,
        )

    # -- generation ---------------------------------------------------------------------
    def _stream(self, request: ChatRequest) -> Iterator[Chunk | ToolCallDelta]:
        """Stream /chat/completions; one non-streamed call when nobody consumes chunks or ``http_stream=False``.

        The ``with`` block closes the HTTP response when the base closes this generator (stop/cancel).
        """
        model = self._model(request.model)
        conn, where = self.connection, self._where()
        try:
            if not request.streaming or request.extra.get("http_stream") is False:
                body = build_chat_body(request, model, stream=False, include_usage=False)
                yield from chunks_from_completion(conn.post_json("/chat/completions", body), where)
                return
            state = StreamState(where)
            while True:
                body = build_chat_body(request, model, stream=True, include_usage=self._include_usage)
                try:
                    with http.stream(
                        conn.client, "POST", "/chat/completions", settings=conn.settings, json=body
                    ) as response:
                        for payload in http.iter_sse(response, conn.settings.service):
                            yield from state.feed(payload)
                    break
                except BackendError as exc:
                    if not self._rejects_stream_options(exc):
                        raise
                    self._include_usage = False
            yield from state.finish()
        except NotFoundError as exc:
            raise self._not_found(exc, model) from None

    async def _astream(self, request: ChatRequest) -> AsyncIterator[Chunk | ToolCallDelta]:
        """Native async twin of :meth:`_stream` (one pooled AsyncClient per event loop)."""
        model = self._model(request.model)
        conn, where = self.connection, self._where()
        client = conn.async_client()
        try:
            if not request.streaming or request.extra.get("http_stream") is False:
                body = build_chat_body(request, model, stream=False, include_usage=False)
                response = await http.arequest(client, "POST", "/chat/completions", settings=conn.settings, json=body)
                for chunk in chunks_from_completion(http.json_body(response, conn.settings.service), where):
                    yield chunk
                return
            state = StreamState(where)
            while True:
                body = build_chat_body(request, model, stream=True, include_usage=self._include_usage)
                try:
                    async with http.astream(
                        client, "POST", "/chat/completions", settings=conn.settings, json=body
                    ) as response:
                        async for payload in http.aiter_sse(response, conn.settings.service):
                            for chunk in state.feed(payload):
                                yield chunk
                    break
                except BackendError as exc:
                    if not self._rejects_stream_options(exc):
                        raise
                    self._include_usage = False
            for chunk in state.finish():
                yield chunk
        except NotFoundError as exc:
            raise self._not_found(exc, model) from None

    # -- capabilities ---------------------------------------------------------------------
    def supports_tools(self, model: str | None = None) -> bool:
        """Whether the server honours ``tools`` natively (config ``supports_tools``).

        ``"yes"``/``"no"`` say so outright. ``"auto"`` (default) asks the server once: a llama.cpp
        server reports its chat template's capabilities at ``/props`` (``chat_template_caps``), and a
        template without tool support makes llama.cpp ignore ``tools`` silently, so that answer is
        believed. A server with no such report (OpenAI, vLLM, LM Studio, proxies) is assumed to
        honour tools; the core still refuses a ``required`` answer that came back with no call.
        """
        setting = str(self.config.get("supports_tools") or "auto")
        if setting in ("yes", "no"):
            return setting == "yes"
        if self._server_tool_caps is None:
            self._server_tool_caps = self._probe_tool_caps()
        return self._server_tool_caps

    def _probe_tool_caps(self) -> bool:
        conn = self.connection
        try:
            props = http.json_body(
                http.request(conn.client, "GET", f"{conn.server_root}/props", settings=conn.settings),
                conn.settings.service,
            )
        except Exception:  # no /props (404), not JSON, unreachable: not llama.cpp; assume OpenAI-like
            return True
        caps = props.get("chat_template_caps") if isinstance(props, dict) else None
        if isinstance(caps, dict) and "supports_tools" in caps:
            return bool(caps["supports_tools"]) and bool(caps.get("supports_tool_calls", True))
        return True

    def supports_json_schema(self, model: str | None = None) -> bool:
        """Whether ``json_schema`` is sent as ``response_format`` (config ``supports_json_schema``, default yes).

        OpenAI, llama.cpp, vLLM, LM Studio and Ollama's /v1 honour it; ``"no"`` is for a server that
        rejects it (structured output then prompts and validates).
        """
        return str(self.config.get("supports_json_schema") or "yes") != "no"

    # -- embeddings -----------------------------------------------------------------------
    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """Vectors from /embeddings, one request for a whole list. ``model=`` picks another model."""
        model = self._model(kwargs.pop("model", None))
        body: dict[str, Any] = {"model": model, "input": inputs, **kwargs}
        data = self.connection.post_json("/embeddings", body).get("data") or []
        return [item["embedding"] for item in sorted(data, key=lambda d: d.get("index", 0))]

    # -- tokens ---------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """The server's own tokens (/tokenize, llama.cpp) when it has that route, else tiktoken's.

        ``get_model_info()["token_counts_exact"]`` says which one was used.
        """
        return self._tokens.tokenize(text)

    def detokenize(self, tokens: list[int]) -> str:
        """The inverse of :meth:`tokenize` (same tokenizer)."""
        return self._tokens.detokenize(tokens)

    def count_tokens(self, text: str) -> int:
        """``len(tokenize(text))``."""
        return len(self._tokens.tokenize(text))

    # -- models ---------------------------------------------------------------------------
    def _models_payload(self) -> list[dict[str, Any]]:
        data = self.connection.get_json("/models")
        items = data.get("data") if isinstance(data, dict) else data
        return [m for m in items or [] if isinstance(m, dict)]

    def list_models(self) -> list[dict[str, Any]]:
        """/models: ``model_name`` plus ``owned_by``, ``created`` and ``context_length`` when reported."""
        return [
            {
                "model_name": m.get("id", ""),
                "owned_by": m.get("owned_by"),
                "created": m.get("created"),
                "context_length": _context_of(m),
            }
            for m in self._models_payload()
        ]

    def get_model_info(self) -> dict[str, Any]:
        """What the server says about the current model, plus the tokenizer in use and whether counts are exact."""
        model = self.model_name
        entry = next((m for m in self._models_payload() if m.get("id") == model), None)
        return {
            "binding": self.binding_name,
            "model_name": model,
            "host_address": self.host_address,
            "listed_by_server": entry is not None,
            "context_length": _context_of(entry or {}),
            "owned_by": (entry or {}).get("owned_by"),
            "tokenizer": self._tokens.describe(),
            "token_counts_exact": self._tokens.exact(),
            "supports_streaming_usage": self._include_usage,
            "supports_tools": self.supports_tools(model),
            "supports_structured_output": self.supports_json_schema(model),
        }

    def load_model(self, model_name: str) -> bool:
        """Use ``model_name`` from the next call on; ``True`` (lollms_client's answer, listed or not).

        Proxies and routers serve models their /models does not list, so the name is not
        checked here: a model the server lacks fails at the first generation. With
        ``strict=True`` the server's list is asked first: ``False`` when it does not list the model.
        """
        if self.strict and not any(m.get("id") == model_name for m in self._models_payload()):
            return False
        self.model_name = model_name
        return True

    def close(self) -> None:
        """Close the HTTP pools."""
        self.connection.close()
        super().close()


def _context_of(entry: dict[str, Any]) -> int | None:
    """Context size if the server reports one (llama.cpp: meta.n_ctx; vLLM: max_model_len; others vary)."""
    meta = entry.get("meta")
    for source in (entry, meta if isinstance(meta, dict) else {}):
        for key in ("n_ctx", *_CONTEXT_KEYS):
            value = source.get(key)
            if isinstance(value, int) and value > 0:
                return value
    return None
