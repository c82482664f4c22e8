"""What a discussion asks of its LLM: token counts, a context budget, summaries, answers.

Fitting a branch into the context window follows one rule: the pinned head (system prompt
and the branch's leading system messages) always stays; then the newest turns are kept,
walking back from the end, as long as they fit. The kept turns are therefore an unbroken
suffix of the branch: a conversation with a hole in the middle reads as a different
conversation to the model. Optionally, the dropped turns are condensed into one summary
written by the same LLM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BackendError, ConfigError, ModalityNotConfiguredError
from ..types import Message, StreamingCallback
from ._store import DiscussionMessage

if TYPE_CHECKING:
    from ._discussion import LollmsDiscussion

__all__ = [
    "SUMMARY_PREFIX",
    "BudgetPlanner",
    "complete",
    "count_tokens",
    "llm_of",
    "messages_for_budget",
]

#: How a summary message starts, so the model (and a reader) knows what it is.
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
_MIN_SUMMARY_TOKENS = 8
_SUMMARY_INSTRUCTION = "Summarise the conversation below in a few sentences. Keep names, facts, numbers and decisions."


class BudgetPlanner:
    """Counts message costs with an LLM binding's tokenizer and picks what fits.

    :param llm: anything with ``count_tokens(text)``; for summaries also ``generate_from_messages``.
    :param overhead: tokens a chat template adds per message.
    """

    def __init__(self, llm: Any, overhead: int, summary_max_tokens: int = 256) -> None:
        self.llm, self.overhead, self.summary_max_tokens = llm, overhead, summary_max_tokens

    def budget(self, max_tokens: int | None, n_predict: int | None, ctx_size: int | None) -> int | None:
        """``max_tokens``, else ``ctx_size - n_predict``; ``None`` when no context size is known.

        Unset values come from the binding: ``default_options``, then its config, then
        ``get_model_info()["ctx_size"]``. Without any ``n_predict``, a quarter of the window is
        kept for the answer.
        """
        if max_tokens is not None:
            return int(max_tokens)
        ctx = self.window(ctx_size)
        if not ctx:
            return None
        defaults = getattr(self.llm, "default_options", None)
        reserve = n_predict or getattr(defaults, "n_predict", None) or ctx // 4
        return ctx - int(reserve)

    def window(self, ctx_size: int | None) -> int | None:
        """The context window: ``ctx_size``, else the binding's option, setting or model info; ``None`` if unknown."""
        defaults = getattr(self.llm, "default_options", None)
        ctx = ctx_size or getattr(defaults, "ctx_size", None) or _config_value(self.llm, "ctx_size")
        if not ctx:
            info = self.llm.get_model_info() if hasattr(self.llm, "get_model_info") else {}
            ctx = info.get("ctx_size") if isinstance(info, dict) else None
        return int(ctx) if ctx else None

    def cost(self, msg: DiscussionMessage) -> int:
        """Tokens ``msg`` takes in the prompt (content + per-message overhead)."""
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
        prompt = [{"role": "system", "content": _SUMMARY_INSTRUCTION}, {"role": "user", "content": transcript}]
        text, _ = complete(self.llm, prompt, None, {"n_predict": max_tokens})
        return DiscussionMessage(
            id="",
            sender="system",
            role="system",
            content=SUMMARY_PREFIX + str(text).strip(),
            parent_id=None,
            created_at=dropped[-1].created_at,
            metadata={"summary_of": [m.id for m in dropped]},
        )


def llm_of(client: Any) -> Any:
    """The LLM binding behind a discussion's client (a client with ``.llm``, or a binding itself).

    :raises ModalityNotConfiguredError: no client, or a client without an LLM binding.
    """
    if client is None:
        raise ModalityNotConfiguredError(
            "this discussion has no client: pass lollms_client= to create_new()/load() or set .lollms_client"
        )
    llm = getattr(client, "llm", client)
    if llm is None:
        raise ModalityNotConfiguredError("the discussion's client has no LLM binding (llm_binding_name=...)")
    return llm


def count_tokens(client: Any, text: str) -> int | None:
    """``text``'s token count with the client's tokenizer, ``None`` when there is none (yet)."""
    llm = getattr(client, "llm", client)
    if llm is None or not hasattr(llm, "count_tokens"):
        return None  # unknown now; budgeting counts it later, once a client is attached
    try:
        return int(llm.count_tokens(text))
    except NotImplementedError:  # NotSupportedError: a binding without a tokenizer
        return None


def messages_for_budget(
    d: LollmsDiscussion,
    max_tokens: int | None,
    n_predict: int | None,
    ctx_size: int | None,
    summarize: bool,
    leaf_id: str | None,
    add_system_prompt: bool = True,
) -> list[DiscussionMessage]:
    """The branch ending at ``leaf_id`` (system prompt first) cut to fit the context window.

    See :meth:`LollmsDiscussion.get_messages_for_budget`.
    """
    leaf = leaf_id if leaf_id is not None else d.active_leaf_id
    branch = d.get_branch(leaf) if leaf is not None else []
    planner = BudgetPlanner(llm_of(d.lollms_client), d.message_overhead_tokens)
    budget = planner.budget(max_tokens, n_predict, ctx_size)
    if budget is None and d.max_context_size:  # the binding knows no window: lollms_client's setting
        budget = planner.budget(None, n_predict, d.max_context_size)
    context = d._with_system_prompt(branch) if add_system_prompt else branch
    return planner.fit(context, budget, summarize=summarize)


def complete(
    llm: Any, messages: list[Message], callback: StreamingCallback | None, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Run ``messages`` through ``llm``; return the answer and what to keep in its metadata.

    :raises BackendError: the backend failed (also when a seed-style ``chat`` returns an error dict).
    """
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


def _config_value(llm: Any, key: str) -> Any:
    config = getattr(llm, "config", None)
    try:
        return config.get(key) if config is not None else None
    except Exception:  # an odd mapping that refuses unknown keys: same as absent
        return None
