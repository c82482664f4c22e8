"""``LollmsDiscussion.chat(..., tools=...)``: the tool loop over a discussion, every call and result stored.

An assistant turn that called tools is stored as an ``assistant`` message whose metadata holds
its ``tool_calls`` (OpenAI entries); each result is a ``tool`` message whose metadata holds
``tool_call_id`` and ``tool_name``. :func:`to_wire` turns them back into OpenAI-shaped messages,
and the loop (or :func:`~lollms_core.tools.fit_history` for a request without tools) writes the
turns of tools that are no longer offered as text, so a reloaded discussion is always sendable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..types import Message, StreamingCallback

if TYPE_CHECKING:
    from ..tools import ToolRun
    from ._store import DiscussionMessage

__all__ = ["TOOL_OPTIONS", "check_tools", "pop_tool_options", "run_tools", "steps_before", "to_wire", "turn_fields"]

#: ``chat()`` keywords that belong to the tool loop (lollms_client's ``max_nb_rounds`` caps its rounds).
TOOL_OPTIONS = ("tools", "tool_choice", "tool_mode", "before_call", "max_tool_rounds")


def pop_tool_options(options: dict[str, Any]) -> dict[str, Any]:
    """The tool-loop keywords of ``options`` (removed from it); empty when ``tools`` is not given."""
    if options.get("tools") is None:
        for name in TOOL_OPTIONS[1:]:
            if name in options:
                options.pop(name)
        options.pop("tools", None)
        return {}
    tooling = {name: options.pop(name) for name in TOOL_OPTIONS if name in options}
    rounds = options.get("max_nb_rounds")  # lollms_client's name for the same cap
    if rounds is not None and "max_tool_rounds" not in tooling:
        tooling["max_tool_rounds"] = rounds
    return tooling


def check_tools(llm: Any, client: Any, tooling: dict[str, Any]) -> None:
    """Every check of the tool options, before the discussion changes (a bad tool, no tool calling...).

    :raises ConfigError: a bad tool, name or option.
    :raises NotSupportedError: the binding has no native tools and ``tool_mode`` is not ``"prompt"``.
    """
    from ..errors import NotSupportedError
    from ..tools import ToolLoop

    if not (hasattr(llm, "build_request") and hasattr(llm, "run")):
        raise NotSupportedError(f"chat(tools=...) needs a lollms LLM binding, not a {type(llm).__name__}")
    options = dict(tooling)
    ToolLoop(llm, [], options.pop("tools"), resolve=getattr(client, "_resolve_tool_name", None), **options)


def run_tools(
    llm: Any,
    client: Any,
    tooling: dict[str, Any],
    messages: list[Message],
    callback: StreamingCallback | None,
    options: dict[str, Any],
) -> ToolRun:
    """Run the loop from ``messages``; the run's new messages are what the turn adds."""
    from ..tools import run_tool_loop

    loop = dict(tooling)
    tools = loop.pop("tools")
    resolve = getattr(client, "_resolve_tool_name", None)
    return run_tool_loop(llm, messages, tools, streaming_callback=callback, resolve=resolve, **loop, **options)


def steps_before(exc: BaseException, messages: list[Message]) -> list[Message]:
    """The calls and results a run from ``messages`` had made when ``exc`` stopped it (none: not a loop's)."""
    from ..tools import tool_run_of

    run = tool_run_of(exc)
    return run.messages[len(messages) :] if run is not None else []


def turn_fields(turn: Message, ai_name: str) -> tuple[str, str, str, dict[str, Any]]:
    """``(sender, content, role, metadata)`` of one of the loop's new messages, as the discussion stores it."""
    role = str(turn.get("role"))
    metadata: dict[str, Any] = {}
    if turn.get("tool_calls"):
        metadata["tool_calls"] = list(turn["tool_calls"])
    if role == "tool":
        metadata.update(tool_call_id=str(turn.get("tool_call_id", "")), tool_name=str(turn.get("name", "")))
    return ("tool" if role == "tool" else ai_name), str(turn.get("content") or ""), role, metadata


def to_wire(m: DiscussionMessage, item: Message) -> Message:
    """``item`` (the message's OpenAI form) with its tool calls or tool-result fields."""
    calls = m.metadata.get("tool_calls")
    if m.role == "assistant" and calls:
        item["tool_calls"] = list(calls)
        if not item.get("content"):
            item["content"] = None
    elif m.role == "tool":
        item["tool_call_id"] = str(m.metadata.get("tool_call_id", ""))
        item["name"] = str(m.metadata.get("tool_name", ""))
    return item
