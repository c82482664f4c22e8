"""What a discussion asks of its LLM: token counts, a context budget, summaries, answers.

Fitting a branch into the context window follows one rule: the pinned head (system prompt
and the branch's leading system messages) always stays; then the newest turns are kept,
walking back from the end, as long as they fit. The kept turns are therefore an unbroken
suffix of the branch: a conversation with a hole in the middle reads as a different
conversation to the model. Optionally, the dropped turns are condensed into one summary
written by the same LLM.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from ..errors import BackendError, ConfigError, ModalityNotConfiguredError
from ..media import image_to_base64
from ..types import ImageInput, Message, StreamingCallback
from ._store import DiscussionMessage

__all__ = [
    "SUMMARY_PREFIX",
    "BudgetPlanner",
    "ClientLLM",
    "DiscussionLLM",
    "generate",
]

#: Tokens counted for an image whose size cannot be read (OpenAI's base cost of one image).
UNREADABLE_IMAGE_TOKENS = 85
#: How a summary message starts, so the model (and a reader) knows what it is.
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
_MIN_SUMMARY_TOKENS = 8
_SUMMARY_INSTRUCTION = "Summarise the conversation below in a few sentences. Keep names, facts, numbers and decisions."


class DiscussionLLM(Protocol):
    """The little a discussion needs from a model; :class:`ClientLLM` gives it from a client or binding."""

    def count_tokens(self, text: str) -> int:
        """``text``'s token count (raises when there is no model or no tokenizer)."""

    def try_count_tokens(self, text: str) -> int | None:
        """``text``'s token count, ``None`` when it cannot be known (yet)."""

    def count_image_tokens(self, image: str) -> int:
        """Prompt tokens an image takes (an estimate when the model does not say)."""

    def window(self, ctx_size: int | None) -> int | None:
        """``ctx_size``, else the model's context window; ``None`` if unknown."""

    def default_n_predict(self) -> int | None:
        """The answer length the model is set to, ``None`` if unset."""

    def check_options(self, user_message: str, images: list[ImageInput] | None, options: dict[str, Any]) -> None:
        """Validate generation options the way generation will (raises :class:`ConfigError`), changing nothing."""

    def complete(
        self, messages: list[Message], callback: StreamingCallback | None, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The answer to ``messages`` and what to keep in its metadata (raises :class:`BackendError`)."""


class ClientLLM:
    """:class:`DiscussionLLM` over what a discussion is given: a client with ``.llm``, a binding, or ``None``.

    Nothing is looked up at creation: a discussion without a client can be built, filled and
    exported; only a call that needs the model raises :class:`ModalityNotConfiguredError`.

    With a client, calls go through it as lollms_client's discussion makes them: answers
    through ``client.generate_from_messages``, one-off texts (summaries, memory, titles)
    through ``client.generate_text``, counts through ``client.count_tokens`` and
    ``client.count_image_tokens``, so a subclass, a patched method or a mock sees them. When
    the client's method is lollms-core's own, the answer is run on its binding directly,
    which is what that method does, keeping the thoughts, finish reason and usage it drops.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def _client_method(self, name: str) -> Any:
        """The client's own ``name`` when a user replaced it (subclass, instance patch, mock), else ``None``."""
        client = self.client
        if client is None or getattr(client, "llm", None) is None or client is getattr(client, "llm", None):
            return None  # no client, or a bare binding
        method = getattr(client, name, None)
        if not callable(method):
            return None
        stock = getattr(type(client), name, None)
        if name not in vars(client) and getattr(stock, "__module__", "").startswith("lollms_core."):
            return None
        return method

    def binding(self) -> Any:
        """The LLM binding (the client's ``.llm``, or the object itself).

        :raises ModalityNotConfiguredError: no client, or a client without an LLM binding.
        """
        if self.client is None:
            raise ModalityNotConfiguredError(
                "this discussion has no client: pass lollms_client= to create_new()/load() or set .lollms_client"
            )
        llm = getattr(self.client, "llm", self.client)
        if llm is None:
            raise ModalityNotConfiguredError("the discussion's client has no LLM binding (llm_binding_name=...)")
        return llm

    def count_tokens(self, text: str) -> int:
        """See :meth:`DiscussionLLM.count_tokens`."""
        counter = self._client_method("count_tokens")
        return int(counter(text) if counter is not None else self.binding().count_tokens(text))

    def try_count_tokens(self, text: str) -> int | None:
        """See :meth:`DiscussionLLM.try_count_tokens`."""
        llm = getattr(self.client, "llm", self.client)
        if llm is None or not hasattr(llm, "count_tokens"):
            return None  # unknown now; budgeting counts it later, once a client is attached
        try:
            return self.count_tokens(text)
        except NotImplementedError:  # NotSupportedError: a binding without a tokenizer
            return None

    def count_image_tokens(self, image: str) -> int:
        """See :meth:`DiscussionLLM.count_image_tokens`: the client's count, else lollms_client's byte estimate."""
        counter = getattr(self.client, "count_image_tokens", None)
        try:
            if callable(counter):
                return int(counter(image))
            # A bare binding: lollms_client's fallback rule (128 tokens per 512x512 pixels' worth of bytes).
            return int(len(base64.b64decode(image_to_base64(image))) * 128 / (512 * 512))
        except ConfigError:
            # An image we cannot read here (a URL the backend fetches, a moved file): its size is unknown, so
            # count OpenAI's base cost of one image rather than fail a budget or a status over an estimate.
            return UNREADABLE_IMAGE_TOKENS

    def window(self, ctx_size: int | None) -> int | None:
        """See :meth:`DiscussionLLM.window`: the binding's option, setting, then model info."""
        llm = self.binding()
        defaults = getattr(llm, "default_options", None)
        ctx = ctx_size or getattr(defaults, "ctx_size", None) or _config_value(llm, "ctx_size")
        if not ctx:
            info = llm.get_model_info() if hasattr(llm, "get_model_info") else {}
            ctx = info.get("ctx_size") if isinstance(info, dict) else None
        return int(ctx) if ctx else None

    def default_n_predict(self) -> int | None:
        """See :meth:`DiscussionLLM.default_n_predict`."""
        value = getattr(getattr(self.binding(), "default_options", None), "n_predict", None)
        return int(value) if value else None

    def check_options(self, user_message: str, images: list[ImageInput] | None, options: dict[str, Any]) -> None:
        """See :meth:`DiscussionLLM.check_options`: the binding builds (and drops) the request."""
        llm = self.binding()
        if hasattr(llm, "build_request"):
            llm.build_request([{"role": "user", "content": user_message}], images=images, **dict(options))

    def facts(self) -> dict[str, str]:
        """``model_name`` and ``binding_name`` of the binding, when it has them (kept on answers)."""
        llm = self.binding()
        found = {key: getattr(llm, key, None) for key in ("model_name", "binding_name")}
        return {k: v for k, v in found.items() if isinstance(v, str) and v}

    def complete(
        self, messages: list[Message], callback: StreamingCallback | None, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """See :meth:`DiscussionLLM.complete`.

        :raises BackendError: the backend failed (also when a seed-style ``chat`` returns an error dict).
        """
        llm = self.binding()
        override = self._client_method("generate_from_messages")
        if override is not None:
            out = override(messages, streaming_callback=callback, **options)
            if isinstance(out, dict):
                raise BackendError(f"{out.get('error_type', 'error')}: {out.get('error', out)}")
            return str(out), {}
        if hasattr(llm, "build_request") and hasattr(llm, "run"):
            # A LollmsLLMBinding: run() raises typed errors and reports thoughts, finish reason, usage.
            result = llm.run(llm.build_request(messages, **options), callback)
            facts = (
                ("thoughts", result.thoughts),
                ("finish_reason", result.finish_reason),
                ("usage", result.usage),
                ("stopped_by", result.stopped_by),
            )
            return result.text, {k: v for k, v in facts if v}
        out = llm.chat(messages, streaming_callback=callback, **options)
        if isinstance(out, dict):
            raise BackendError(f"{out.get('error_type', 'error')}: {out.get('error', out)}")
        return str(out), {}


class BudgetPlanner:
    """Counts message costs with an LLM binding's tokenizer and picks what fits.

    :param llm: the discussion's model (counts tokens, knows the window, writes summaries).
    :param overhead: tokens a chat template adds per message.
    """

    def __init__(self, llm: DiscussionLLM, overhead: int, summary_max_tokens: int = 256) -> None:
        self.llm, self.overhead, self.summary_max_tokens = llm, overhead, summary_max_tokens

    def budget(self, max_tokens: int | None, n_predict: int | None, ctx_size: int | None) -> int | None:
        """``max_tokens``, else ``ctx_size - n_predict``; ``None`` when no context size is known.

        Unset values come from the binding: ``default_options``, then its config, then
        ``get_model_info()["ctx_size"]``. Without any ``n_predict``, a quarter of the window is
        kept for the answer.
        """
        if max_tokens is not None:
            return int(max_tokens)
        ctx = self.llm.window(ctx_size)
        if not ctx:
            return None
        reserve = n_predict or self.llm.default_n_predict() or ctx // 4
        return ctx - int(reserve)

    def window(self, ctx_size: int | None) -> int | None:
        """The context window: ``ctx_size``, else the binding's option, setting or model info; ``None`` if unknown."""
        return self.llm.window(ctx_size)

    def cost(self, msg: DiscussionMessage) -> int:
        """Tokens ``msg`` takes in the prompt: :meth:`text_cost` plus its active images."""
        return self.text_cost(msg) + sum(self.llm.count_image_tokens(i) for i in msg.get_active_images())

    def text_cost(self, msg: DiscussionMessage) -> int:
        """Tokens of ``msg``'s content plus the per-message overhead."""
        if msg.tokens is None:
            msg.tokens = int(self.llm.count_tokens(msg.content))  # cached on the in-memory message
        return msg.tokens + self.overhead

    def fit(
        self, messages: list[DiscussionMessage], budget: int | None, summarize: bool = False
    ) -> list[DiscussionMessage]:
        """The pinned head plus the longest suffix of the rest that fits ``budget``.

        :raises ConfigError: the head plus the newest message alone exceed ``budget``.
        """
        if budget is None:
            return list(messages)
        n_head = 0
        while n_head < len(messages) and messages[n_head].role == "system":
            n_head += 1
        head, turns = messages[:n_head], messages[n_head:]
        kept = self._suffix(head, turns, budget)
        if len(kept) == len(turns) or not summarize:
            return [*head, *kept]
        # Make room for the summary first (at most a quarter of the budget), then condense
        # everything that no longer fits into it.
        summary_tokens = min(self.summary_max_tokens, budget // 4)
        reserve = summary_tokens + int(self.llm.count_tokens(SUMMARY_PREFIX)) + self.overhead
        try:
            if summary_tokens < _MIN_SUMMARY_TOKENS:
                raise ConfigError("no room for a useful summary")
            kept = self._suffix(head, turns, budget - reserve)
        except ConfigError:
            return [*head, *kept]  # no room for a summary: plain trimming still fits
        dropped = turns[: len(turns) - len(kept)]
        summary = self.summarize(dropped, summary_tokens)
        if sum(map(self.cost, [*head, summary, *kept])) > budget:
            return [*head, *self._suffix(head, turns, budget)]  # the model ignored n_predict
        return [*head, summary, *kept]

    def _suffix(
        self, head: list[DiscussionMessage], turns: list[DiscussionMessage], budget: int
    ) -> list[DiscussionMessage]:
        room = budget - sum(map(self.cost, head))
        start = len(turns)
        while start > 0 and self.cost(turns[start - 1]) <= room:
            room -= self.cost(turns[start - 1])
            start -= 1
        if (turns and start == len(turns)) or (not turns and room < 0):
            newest = self.cost(turns[-1]) if turns else 0
            raise ConfigError(
                f"the context budget is {budget} tokens but the system prompt ({budget - room} tokens) and the "
                f"newest message ({newest} tokens) need more: shorten them, raise ctx_size or lower n_predict"
            )
        return turns[start:]

    def summarize(self, dropped: list[DiscussionMessage], max_tokens: int) -> DiscussionMessage:
        """A system message condensing ``dropped`` (at most ``max_tokens``), written by the LLM."""
        transcript = "\n".join(f"{m.sender} ({m.role}): {m.content}" for m in dropped)
        text = generate(self.llm, _SUMMARY_INSTRUCTION, transcript, {"n_predict": max_tokens})
        return DiscussionMessage(
            id="",
            sender="system",
            role="system",
            content=SUMMARY_PREFIX + str(text).strip(),
            parent_id=None,
            created_at=dropped[-1].created_at,
            metadata={"summary_of": [m.id for m in dropped]},
        )


def generate(llm: DiscussionLLM, system: str, prompt: str, options: dict[str, Any]) -> str:
    """A one-off text (summary, memory note, title): the client's ``generate_text`` if replaced, else :meth:`complete`.

    :raises BackendError: the backend failed (an error dict from the client included).
    """
    override = llm._client_method("generate_text") if isinstance(llm, ClientLLM) else None
    if override is not None:
        out = override(prompt, system_prompt=system, **options)
        if isinstance(out, dict):
            raise BackendError(f"{out.get('error_type', 'error')}: {out.get('error', out)}")
        return str(out)
    text, _ = llm.complete([{"role": "system", "content": system}, {"role": "user", "content": prompt}], None, options)
    return text


def _config_value(llm: Any, key: str) -> Any:
    config = getattr(llm, "config", None)
    try:
        return config.get(key) if config is not None else None
    except Exception:  # an odd mapping that refuses unknown keys: same as absent
        return None
