"""lollms_client's context helpers on a discussion: a persistent summary, token use, a title.

Plain functions over :class:`~lollms_core.LollmsDiscussion` (its methods of the same names
call them), built on the budget planner of :mod:`lollms_core.discussion._llm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._formats import render
from ._llm import SUMMARY_PREFIX, BudgetPlanner, complete, llm_of

if TYPE_CHECKING:
    from ._discussion import LollmsDiscussion

__all__ = ["auto_title", "context_status", "summarize_and_prune"]


def summarize_and_prune(d: LollmsDiscussion, max_tokens: int | None, preserve_last_n: int) -> None:
    """:meth:`LollmsDiscussion.summarize_and_prune`."""
    branch = d.get_messages()
    if len(branch) <= preserve_last_n or preserve_last_n < 0:
        return
    llm = llm_of(d.lollms_client)
    if max_tokens is not None:
        planner = BudgetPlanner(llm, d.message_overhead_tokens)
        if sum(map(planner.cost, d._with_system_prompt(branch))) <= max_tokens:
            return
    dropped = branch[: len(branch) - preserve_last_n] if preserve_last_n else branch
    point = branch[len(branch) - preserve_last_n].id if preserve_last_n else None
    summary = BudgetPlanner(llm, d.message_overhead_tokens).summarize(dropped, 256)
    text = summary.content.removeprefix(SUMMARY_PREFIX)
    d.set_metadata(pruning_summary=text, pruning_point_id=point)


def context_status(d: LollmsDiscussion, branch_tip_id: str | None) -> dict[str, Any]:
    """:meth:`LollmsDiscussion.get_context_status`."""
    planner = BudgetPlanner(llm_of(d.lollms_client), d.message_overhead_tokens)
    leaf = branch_tip_id if branch_tip_id is not None else d.active_leaf_id
    context = d._with_system_prompt(d.get_branch(leaf) if leaf is not None else [])
    system = [m for m in context if m.role == "system" and m.id in ("", None)]
    history = [m for m in context if m not in system]
    system_tokens = sum(map(planner.cost, system))
    text_tokens = sum(map(planner.cost, history))
    zones: dict[str, Any] = {}
    if system:
        zones["system_context"] = {"tokens": system_tokens}
    if history:
        zones["message_history"] = {
            "tokens": text_tokens,
            "message_count": len(history),
            "breakdown": {"text_tokens": text_tokens, "image_tokens": 0},
        }
    total = system_tokens + text_tokens
    ctx = planner.window(None) or d.max_context_size
    return {
        "max_tokens": ctx,
        "current_tokens": total,
        "percent": round(total / ctx * 100, 2) if ctx else None,
        "zones": zones,
    }


def auto_title(d: LollmsDiscussion) -> str:
    """:meth:`LollmsDiscussion.auto_title`."""
    transcript = render(d.get_messages(), "markdown", "")[:1000]
    prompt = [
        {
            "role": "system",
            "content": "You write titles. Answer with a title of at most eight words, nothing else.",
        },
        {"role": "user", "content": f"Write a title for this conversation:\n{transcript}"},
    ]
    text, _ = complete(llm_of(d.lollms_client), prompt, None, {"n_predict": 24})
    lines = [line.strip().strip("#*\"' ") for line in text.splitlines()]
    title = next((line for line in lines if line), "") or "Untitled discussion"
    title = title.removeprefix("Title:").strip()[:120]
    d.set_metadata(title=title)
    return title
