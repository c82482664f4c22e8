"""Token counting for OpenAI-compatible servers: exact where the server can say, tiktoken otherwise.

- api.openai.com (or any model name tiktoken knows): tiktoken's encoding for that model — exact.
- a server with llama.cpp's /tokenize + /detokenize routes: the model's own tokenizer — exact.
- anything else: tiktoken cl100k_base — an approximation for non-OpenAI models (reported as such).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lollms_core.errors import BackendError

if TYPE_CHECKING:
    from .._connection import OpenAIConnection

__all__ = ["TokenCounter"]


def _tiktoken_knows(model: str | None) -> bool:
    if not model:
        return False
    import tiktoken

    try:
        tiktoken.encoding_name_for_model(model)
    except KeyError:
        return False
    return True


class TokenCounter:
    """Picks the tokenizer once (lazily, on first use) and remembers the choice."""

    def __init__(self, connection: OpenAIConnection, model: Callable[[], str | None]) -> None:
        self._conn = connection
        self._model = model
        self._server_tokenizer: bool | None = None  # None = not probed yet

    def _is_openai(self) -> bool:
        return "api.openai.com" in self._conn.base_url or _tiktoken_knows(self._model())

    def _use_server(self) -> bool:
        if self._server_tokenizer is None:
            if self._is_openai():
                self._server_tokenizer = False
            else:
                try:
                    self._server_post("/tokenize", {"content": "probe"})
                    self._server_tokenizer = True
                except BackendError:  # 404 (no such route) or anything else: fall back to tiktoken
                    self._server_tokenizer = False
        return self._server_tokenizer

    def _server_post(self, path: str, body: dict[str, Any]) -> Any:
        from lollms_core import http

        conn = self._conn
        url = conn.server_root + path  # llama.cpp serves these at the root, not under /v1
        # A 200 that is not JSON (a proxy's HTML page) is a typed ServerError, never a raw JSONDecodeError.
        return http.json_body(
            http.request(conn.client, "POST", url, settings=conn.settings, json=body), conn.settings.service
        )

    def _encoding(self) -> Any:
        from lollms_core.tokens import encoding_for_model

        return encoding_for_model(self._model() if self._is_openai() else None)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        if self._use_server():
            return [int(t) for t in self._server_post("/tokenize", {"content": text})["tokens"]]
        return list(self._encoding().encode(text, disallowed_special=()))

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens``."""
        if self._use_server():
            return str(self._server_post("/detokenize", {"tokens": list(tokens)})["content"])
        return str(self._encoding().decode(list(tokens)))

    def exact(self) -> bool:
        """Whether counts are the model's own (server tokenizer, or tiktoken for an OpenAI model)."""
        return self._use_server() or self._is_openai()

    def describe(self) -> str:
        """Which tokenizer is in use, in words."""
        if self._use_server():
            return "server /tokenize (the model's own tokenizer)"
        if self._is_openai():
            return f"tiktoken {self._encoding().name} for {self._model()}"
        return "tiktoken cl100k_base: an approximation, this server has no /tokenize route"
