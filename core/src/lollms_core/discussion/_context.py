"""What a discussion sends to its model: the system prompt, the branch, the budget, the status.

Plain functions over values — a branch (a list of messages), the discussion's
:class:`PromptParts` and a :class:`~lollms_core.discussion._llm.DiscussionLLM` — that return
new values. None of them changes a discussion: :class:`~lollms_core.LollmsDiscussion` calls
them and stores what they return (a summary, a title).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._formats import render
from ._llm import SUMMARY_PREFIX, BudgetPlanner, DiscussionLLM, generate
from ._store import DiscussionMessage

__all__ = [
    "ARTEFACTS_HEADING",
    "ZONE_HEADINGS",
    "PromptParts",
    "auto_title",
    "context_messages",
    "context_status",
    "fit_to_budget",
    "memory_entry",
    "summarize_for_pruning",
]


#: lollms_client's headings of the data zones in the system prompt (its ``get_full_data_zone`` layout).
ZONE_HEADINGS = {
    "memory": "-- Memory --",
    "user_data_zone": "-- User Data Zone --",
    "discussion_data_zone": "-- Discussion Data Zone --",
    "personality_data_zone": "-- Personality Data Zone --",
}
ARTEFACTS_HEADING = "-- Active Artefacts --"


@dataclass(frozen=True)
class PromptParts:
    """The discussion-level content sent before a branch: system prompt, data zones, images, summary.

    :param created_at: the discussion's creation time (stamped on the synthetic messages).
    :param pruning_point_id: the first message still sent verbatim after a summary.
    :param pruning_summary: the text standing for the messages before that point.
    :param zones: lollms_client's data zones by name (:data:`ZONE_HEADINGS`).
    :param artefacts_zone: the active artefacts as text (empty when none is active).
    :param images: the discussion's active images.
    """

    system_prompt: str
    created_at: str
    pruning_point_id: str | None = None
    pruning_summary: str | None = None
    zones: Mapping[str, str] = field(default_factory=dict)
    artefacts_zone: str = ""
    images: tuple[str, ...] = ()

    def data_zone(self) -> str:
        """The data zones and active artefacts under lollms_client's headings, blank-line separated."""
        parts = [f"{heading}\n{self.zones[z].strip()}" for z, heading in ZONE_HEADINGS.items() if self.zone(z)]
        if self.artefacts_zone.strip():
            parts.append(f"{ARTEFACTS_HEADING}\n{self.artefacts_zone.strip()}")
        return "\n\n".join(parts)

    def zone(self, name: str) -> str:
        """One zone's text, stripped (``""`` when unset)."""
        return (self.zones.get(name) or "").strip()

    def system_text(self) -> str:
        """The system message: the system prompt, then the data zone (lollms_client's layout)."""
        return "\n\n".join(p for p in (self.system_prompt.strip(), self.data_zone()) if p)


def context_messages(
    branch: list[DiscussionMessage], parts: PromptParts, llm: DiscussionLLM, *, add_system_prompt: bool = True
) -> list[DiscussionMessage]:
    """``branch`` as sent: cut at the pruning point (its summary first), the system prompt before all.

    The synthetic messages have ``id=""`` (they are not in the tree).
    """
    branch = after_pruning_point(branch, parts)
    text = parts.system_text()
    if not add_system_prompt or not (text or parts.images):
        return branch
    prompt = DiscussionMessage(
        id="", sender="system", role="system", content=text, parent_id=None,
        created_at=parts.created_at, metadata={"system_prompt": True},
        tokens=llm.try_count_tokens(text), images=list(parts.images),
    )  # fmt: skip
    return [prompt, *branch]


def after_pruning_point(branch: list[DiscussionMessage], parts: PromptParts) -> list[DiscussionMessage]:
    """A branch through the pruning point: its summary, then the turns from there (else unchanged)."""
    point, summary = parts.pruning_point_id, parts.pruning_summary
    ids = [m.id for m in branch]
    if point is None or summary is None or point not in ids:
        return branch
    note = DiscussionMessage(
        id="", sender="system", role="system", content=SUMMARY_PREFIX + summary, parent_id=None,
        created_at=parts.created_at, metadata={"summary_of": ids[: ids.index(point)]},
    )  # fmt: skip
    return [note, *branch[ids.index(point) :]]


def fit_to_budget(
    branch: list[DiscussionMessage],
    parts: PromptParts,
    llm: DiscussionLLM,
    overhead: int,
    *,
    max_tokens: int | None,
    n_predict: int | None,
    ctx_size: int | None,
    max_context_size: int | None,
    summarize: bool,
    add_system_prompt: bool = True,
) -> list[DiscussionMessage]:
    """``branch`` as sent (see :func:`context_messages`), cut to fit the context window.

    See :meth:`LollmsDiscussion.get_messages_for_budget`.
    """
    planner = BudgetPlanner(llm, overhead)
    budget = planner.budget(max_tokens, n_predict, ctx_size)
    if budget is None and max_context_size:  # the binding knows no window: lollms_client's setting
        budget = planner.budget(None, n_predict, max_context_size)
    context = context_messages(branch, parts, llm, add_system_prompt=add_system_prompt)
    return planner.fit(context, budget, summarize=summarize)


def summarize_for_pruning(
    branch: list[DiscussionMessage],
    parts: PromptParts,
    llm: DiscussionLLM,
    overhead: int,
    max_tokens: int | None,
    preserve_last_n: int,
) -> tuple[str, str | None] | None:
    """``(summary, pruning_point_id)`` for :meth:`LollmsDiscussion.summarize_and_prune`, ``None`` for nothing to do."""
    if len(branch) <= preserve_last_n or preserve_last_n < 0:
        return None
    planner = BudgetPlanner(llm, overhead)
    if max_tokens is not None and sum(map(planner.cost, context_messages(branch, parts, llm))) <= max_tokens:
        return None
    dropped = branch[: len(branch) - preserve_last_n] if preserve_last_n else branch
    point = branch[len(branch) - preserve_last_n].id if preserve_last_n else None
    summary = planner.summarize(dropped, 256)
    return summary.content.removeprefix(SUMMARY_PREFIX), point


def context_status(
    branch: list[DiscussionMessage], parts: PromptParts, llm: DiscussionLLM, overhead: int, max_context_size: int | None
) -> dict[str, Any]:
    """:meth:`LollmsDiscussion.get_context_status` for ``branch``, in lollms_client's shape.

    ``zones``: ``system_context`` (the system message, with a per-zone ``breakdown``),
    ``discussion_images`` (the discussion's active images), ``message_history`` (text and
    active-image tokens of the turns sent).
    """
    planner = BudgetPlanner(llm, overhead)
    context = context_messages(branch, parts, llm)
    system = [m for m in context if m.role == "system" and m.id in ("", None)]
    history = [m for m in context if m not in system]
    system_tokens = sum(map(planner.text_cost, system))
    text_tokens = sum(map(planner.text_cost, history))
    image_tokens = sum(llm.count_image_tokens(i) for m in history for i in m.get_active_images())
    zones: dict[str, Any] = {}
    if system:
        texts = {"system_prompt": parts.system_prompt.strip(), **{z: parts.zone(z) for z in ZONE_HEADINGS}}
        texts["artefacts"] = parts.artefacts_zone.strip()
        if parts.pruning_summary and parts.pruning_point_id:
            texts["pruning_summary"] = parts.pruning_summary.strip()
        breakdown = {name: {"tokens": llm.count_tokens(text)} for name, text in texts.items() if text}
        zones["system_context"] = {"tokens": system_tokens, "breakdown": breakdown}
    if parts.images:
        zones["discussion_images"] = {
            "tokens": sum(llm.count_image_tokens(i) for i in parts.images),
            "count": len(parts.images),
        }
    if history:
        zones["message_history"] = {
            "tokens": text_tokens + image_tokens,
            "message_count": len(history),
            "breakdown": {"text_tokens": text_tokens, "image_tokens": image_tokens, "message_count": len(history)},
        }
    total = sum(int(zone["tokens"]) for zone in zones.values())
    ctx = planner.window(None) or max_context_size
    return {
        "max_tokens": ctx,
        "current_tokens": total,
        "percent": round(total / ctx * 100, 2) if ctx else None,
        "zones": zones,
    }


_MEMORY_INSTRUCTION = (
    "Extract from the conversation below what is worth remembering later: facts about the user, decisions, "
    "results (equations, code, solutions). Write them as short notes, nothing else."
)


def memory_entry(branch: list[DiscussionMessage], llm: DiscussionLLM) -> str:
    """What the model finds worth remembering in ``branch`` (:meth:`LollmsDiscussion.memorize` dates and keeps it)."""
    return generate(llm, _MEMORY_INSTRUCTION, render(branch, "markdown", ""), {"temperature": 0.1}).strip()


def auto_title(branch: list[DiscussionMessage], llm: DiscussionLLM) -> str:
    """A short title for ``branch`` written by the model (:meth:`LollmsDiscussion.auto_title` keeps it)."""
    transcript = render(branch, "markdown", "")[:1000]
    system = "You write titles. Answer with a title of at most eight words, nothing else."
    text = generate(llm, system, f"Write a title for this conversation:\n{transcript}", {"n_predict": 24})
    lines = [line.strip().strip("#*\"' ") for line in text.splitlines()]
    title = next((line for line in lines if line), "") or "Untitled discussion"
    return title.removeprefix("Title:").strip()[:120]
