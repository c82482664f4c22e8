"""What the text helpers need from an LLM: the typed ``TextLLM`` protocol and one call over it.

Every helper is a prompt recipe over ``build_request`` + ``run`` (so options, callbacks,
cancel and events behave as in ``generate_text``); none of them knows the client, the
discussion or a concrete binding class.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..types import ChatRequest, GenerationOptions, GenerationResult, ImageInput, Message, StreamingCallback

__all__ = ["TextLLM", "complete", "messages"]


class TextLLM(Protocol):
    """The part of :class:`~lollms_core.LollmsLLMBinding` the text helpers use."""

    @property
    def binding_name(self) -> str:
        """The binding's registry name."""

    @property
    def model_name(self) -> str | None:
        """The active model."""

    @property
    def strict(self) -> bool:
        """Raise typed errors instead of returning the seeds' values."""

    @property
    def default_options(self) -> GenerationOptions:
        """Sampling defaults (``ctx_size`` among them)."""

    def build_request(self, prompt: str | list[Message], **params: Any) -> ChatRequest:
        """A validated request for ``prompt`` (messages) and options."""

    def run(
        self, request: ChatRequest, callback: StreamingCallback | None = None, method: str = "generate_text"
    ) -> GenerationResult:
        """Run ``request`` to the end; raises :class:`~lollms_core.errors.BackendError` on failure."""

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is."""

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text``."""

    def detokenize(self, tokens: list[int]) -> str:
        """Text of token ids."""

    def get_model_info(self) -> dict[str, Any]:
        """Details of the active model (``ctx_size`` when known)."""

    def supports_json_schema(self, model: str | None = None) -> bool:
        """Whether the backend can constrain its answer to a JSON Schema (``ChatRequest.json_schema``)."""


def complete(llm: TextLLM, conversation: list[Message], **options: Any) -> str:
    """The answer to ``conversation``; raises on a backend error (callers apply the seeds' rule).

    ``callback=`` (lollms_client's name) is taken as ``streaming_callback=``; ``stream`` and
    ``debug`` are accepted and change nothing.
    """
    callback = options.pop("streaming_callback", None) or options.pop("callback", None)
    options.pop("callback", None)
    for ignored in ("stream", "debug"):
        options.pop(ignored, None)
    return llm.run(llm.build_request(conversation, **options), callback).text


def messages(prompt: str, system_prompt: str | None, images: list[ImageInput] | None) -> list[Message]:
    """``[system, user]`` for one question (the user turn carries the images)."""
    if isinstance(images, str):
        raise TypeError(
            "images must be a list of images (paths, URLs, bytes or base64), not a str "
            "(lollms_client's positional order puts images before system_prompt)"
        )
    user: Message = {"role": "user", "content": prompt}
    if images:
        user["images"] = list(images)
    return [{"role": "system", "content": system_prompt or ""}, user] if system_prompt else [user]
