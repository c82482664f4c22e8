"""A chat turn's parts: which options ``LollmsDiscussion.chat()`` takes, the reply, what it returns.

Functions over values: :func:`prepare_options` checks options before the discussion changes
(so a refused call leaves nothing behind), :func:`reply` turns a fitted context into the
answer's text and metadata. :class:`~lollms_core.LollmsDiscussion` stores the turns.

lollms_client 1.21's ``chat()`` returns a dict (``user_message``, ``ai_message``, ``sources``,
``artefacts``...). Ours returns the answer message itself (so ``answer.content`` works, and the
object is the one stored in the discussion) which also answers those dict keys.

Its ``chat()`` takes some sixty options, most of them about its agent platform (tools, memory,
artefacts, web search). Each is accepted when passed with lollms_client's default value (it
changes nothing), and refused by name otherwise: silently ignoring ``web_search=True`` would
let a migrated script believe it searched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, NotSupportedError
from ..types import StreamingCallback
from ._formats import to_openai_messages
from ._llm import ClientLLM
from ._store import DiscussionMessage

__all__ = [
    "LOLLMS_CLIENT_CHAT_DEFAULTS",
    "ChatResult",
    "check_lollms_client_options",
    "check_rounds",
    "prepare_options",
    "reply",
]

_DEFAULT_EVENT_MODE = object()  # lollms_client's EventMode.PROCESSING_TAG_MODE: any value is "not ours"

#: lollms_client 1.21.1 ``LollmsDiscussion.chat`` options we do not implement, with their defaults.
LOLLMS_CLIENT_CHAT_DEFAULTS: dict[str, Any] = {
    "personality": None, "tools": None, "fast_artefact_replicas": None, "tolerance_level": "strict",
    "memory_manager": None, "context_compaction_threshold": 0.85, "think": None, "reasoning_effort": None,
    "reasoning_summary": None, "shell_autonomy_level": "safe", "python_autonomy_level": "safe",
    "confirm_handler": None, "enable_inline_widgets": False, "enable_forms": False,
    "enable_image_generation": True, "enable_image_editing": True, "auto_activate_artefacts": True,
    "enable_notes": True, "enable_skills": True, "enable_books": False, "enable_powerpoint": False,
    "enable_word": False, "enable_excel": False, "enable_artefacts": True, "enable_memory": False,
    "enable_episodic_memory": False, "enable_auto_dream": False, "enable_deep_memory_pulling": False,
    "web_search": False, "internet_search": False, "enable_in_message_status": False,
    "forward_artefact_chunks": False, "prehydrate_rag": True, "allow_dynamic_tools": False,
    "enable_data_tools": True, "suppress_images": False, "orchestrator_mode": False,
    "orchestrator_persona": False, "debug_export": False, "debug": False, "verbose": False,
    "enable_vlm_query": False, "enable_computer_use": False, "allow_computer_use": False,
    "enable_code_execution": False, "auto_approve_python": False, "dynamic_effort": False,
    "enforce_end_tag": False, "event_mode": _DEFAULT_EVENT_MODE,
}  # fmt: skip


def check_lollms_client_options(options: dict[str, Any]) -> None:
    """Remove lollms_client chat options given at their default; refuse any other value, by name.

    Runs before the discussion changes, so a refused option leaves no user turn behind.

    :raises NotSupportedError: a lollms_client agent option with a non-default value.
    """
    refused = []
    for name in [n for n in options if n in LOLLMS_CLIENT_CHAT_DEFAULTS]:
        value = options.pop(name)
        if value != LOLLMS_CLIENT_CHAT_DEFAULTS[name]:
            refused.append(f"{name}={value!r}")
    if refused:
        raise NotSupportedError(
            f"LollmsDiscussion.chat() does not offer lollms_client's {', '.join(refused)}: lollms-core has no "
            "agent layer (tools, personalities, memory, artefacts, web search). Drop the option, or build that "
            "step yourself around client.generate_text(); see docs/migrating-from-lollms-client.md"
        )


def check_rounds(options: dict[str, Any]) -> None:
    """``max_nb_rounds``/``max_reasoning_steps``: one generation round is all ``chat()`` makes.

    :raises ConfigError: a value that is not a positive int (or ``None``).
    """
    for name in ("max_nb_rounds", "max_reasoning_steps"):
        value = options.pop(name, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a positive int or None, not {value!r}")


@dataclass(eq=False, repr=False)
class ChatResult(DiscussionMessage):
    """The answer :meth:`~lollms_core.LollmsDiscussion.chat` added, answering lollms_client's result keys too.

    It is the :class:`DiscussionMessage` stored in the discussion (``answer.content`` works).

    ``result["ai_message"]`` is the result itself, ``result["user_message"]`` the user turn
    (``None`` when regenerating), ``result["sources"]`` and ``result["artefacts"]`` are
    always empty lists, ``result["was_cancelled"]`` says whether the callback stopped it.
    """

    user_message: DiscussionMessage | None = field(default=None, compare=False)
    was_cancelled: bool = False

    def _result(self) -> dict[str, Any]:
        return {
            "user_message": self.user_message,
            "ai_message": self,
            "sources": [],
            "artefacts": [],
            "memory_report": {},
            "dream_report": None,
            "was_cancelled": self.was_cancelled,
            "tti_available": False,
        }

    def __getitem__(self, key: str) -> Any:
        try:
            return self._result()[key]
        except KeyError:
            raise KeyError(f"{key!r}; a chat result has {', '.join(self._result())}") from None

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get`` over the lollms_client result keys."""
        return self._result().get(key, default)

    def keys(self) -> list[str]:
        """The lollms_client result keys."""
        return list(self._result())

    def __contains__(self, key: object) -> bool:
        return key in self._result()

    def __iter__(self) -> Iterator[str]:
        return iter(self._result())

    def __eq__(self, other: object) -> bool:
        # Equal to the same message however it was obtained (reloaded messages are plain DiscussionMessages).
        if isinstance(other, DiscussionMessage):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    __hash__ = DiscussionMessage.__hash__  # unhashable, like the message it is

    def __repr__(self) -> str:
        return f"ChatResult(id={self.id!r}, content={self.content[:40]!r}, was_cancelled={self.was_cancelled})"

    @classmethod
    def of(cls, msg: DiscussionMessage, user: DiscussionMessage | None, cancelled: bool) -> ChatResult:
        """The result wrapping a freshly built answer message (not yet stored)."""
        return cls(**vars(msg), user_message=user, was_cancelled=cancelled)


def prepare_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The generation options of a ``chat()`` call, lollms_client's agent options checked and removed.

    :raises NotSupportedError: a lollms_client agent option with a non-default value.
    :raises ConfigError: a bad ``max_nb_rounds``/``max_reasoning_steps``.
    """
    options = dict(kwargs)
    check_lollms_client_options(options)
    check_rounds(options)
    return options


def reply(
    context: list[DiscussionMessage],
    llm: ClientLLM,
    callback: StreamingCallback | None,
    options: dict[str, Any],
    *,
    keep_thinking: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The answer to ``context`` and its metadata (thoughts, finish reason, usage, model and binding).

    ``keep_thinking`` puts the model's thinking back in the text as ``<think>...</think>``.

    :raises BackendError: the backend failed.
    """
    text, meta = llm.complete(to_openai_messages(context), callback, options)
    meta.update(llm.facts())
    if keep_thinking and meta.get("thoughts"):
        text = f"<think>\n{meta['thoughts']}\n</think>\n{text}"
    return text, meta
