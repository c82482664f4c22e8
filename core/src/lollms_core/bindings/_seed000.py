"""Seed 000's ``generate(prompt, n_predict, callback, verbose, **gpt_params)``, as a thin adapter.

Compatibility only: the older LoLLMs callback receives ``MSG_OPERATION_TYPE`` values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from ..types import MSG_OPERATION_TYPE, MSG_TYPE, ChatRequest, GenerationResult, ImageInput, StreamingCallback
from .base import seed_result


class _Generates(Protocol):
    """What this mixin needs of the LLM base it is mixed into (and no import of it: llm.py imports this)."""

    def build_request(
        self, prompt: str, *, images: list[ImageInput] | None = ..., n_predict: int = ..., **params: Any
    ) -> ChatRequest: ...

    def run(self, request: ChatRequest, callback: StreamingCallback | None = ...) -> GenerationResult: ...


class Seed000Generate:
    """Mixin giving LLM bindings seed 000's ``generate`` and ``generate_with_images``."""

    @seed_result
    def generate(
        self,
        prompt: str,
        n_predict: int = 128,
        callback: Callable[..., Any] | None = None,
        verbose: bool = False,
        **gpt_params: Any,
    ) -> str | dict[str, Any]:
        """Seed 000's ``generate``: ``callback(chunk, MSG_OPERATION_TYPE)``; ``gpt_params`` are sampling options."""
        return self._legacy(prompt, None, n_predict, callback, gpt_params)

    @seed_result
    def generate_with_images(
        self,
        prompt: str,
        images: list[ImageInput],
        n_predict: int = 128,
        callback: Callable[..., Any] | None = None,
        verbose: bool = False,
        **gpt_params: Any,
    ) -> str | dict[str, Any]:
        """Seed 000's ``generate_with_images``."""
        return self._legacy(prompt, images, n_predict, callback, gpt_params)

    def _legacy(
        self,
        prompt: str,
        images: list[ImageInput] | None,
        n_predict: int,
        callback: Callable[..., Any] | None,
        gpt_params: dict[str, Any],
    ) -> str:
        cb = None
        if callback is not None:

            def cb(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool | None:
                return callback(chunk, MSG_OPERATION_TYPE.MSG_OPERATION_TYPE_ADD_CHUNK)  # type: ignore[no-any-return]

        binding = cast("_Generates", self)  # this mixin is only ever mixed into LollmsLLMBinding
        request = binding.build_request(prompt, images=images, n_predict=n_predict, **gpt_params)
        return binding.run(request, cb).text
