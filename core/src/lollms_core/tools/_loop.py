"""The tool loop: ask the model, run the calls it makes, give the results back, until it answers.

One design for sync and async (as httpx does it): :class:`ToolLoop` holds every decision (the
request of each round, what a call becomes, when to stop) and the two drivers,
:func:`run_tool_loop` and :func:`arun_tool_loop`, only wait on the model and the tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union

from ..bindings._streaming import Delivery
from ..bindings.options import TOOL_MODES
from ..errors import ConfigError, GenerationCancelled, NotSupportedError
from ..types import MSG_TYPE, Chunk, GenerationResult, Message, StreamingCallback, ToolCall, ToolResult
from ._prompt import fit_history, parse_answer, prompt_schema, render_history, tools_system_text
from ._tool import result_text
from ._toolset import ToolResolver, ToolSet

if TYPE_CHECKING:
    from .._cancel import CallControl
    from ..bindings.llm import LollmsLLMBinding

__all__ = ["BeforeCall", "ToolLoop", "ToolRun", "arun_tool_loop", "run_tool_loop", "tool_run_of"]

ToolMode = Literal["auto", "native", "prompt"]
#: ``before_call(call)``: ``True``/``None`` runs it, ``False`` refuses it, a :class:`ToolCall`
#: runs that call instead (edited arguments), a :class:`ToolResult` is used without running it.
#: May be ``async def`` in the async loop.
BeforeCall = Callable[[ToolCall], Union[bool, ToolCall, ToolResult, Awaitable[Any], None]]

_TOOL_MODES = TOOL_MODES
_CAP_NOTE = "Maximum tool rounds reached: answer now with what you have, without calling tools."


@dataclass
class ToolRun(Mapping[str, Any]):
    """What :func:`run_tool_loop` returns; also readable as lollms_client's dict.

    ``run["response"]``, ``run["tool_calls"]``, ``run["tool_results"]``, ``run["rounds"]``
    give lollms_client's shapes (lists of dicts); the attributes hold the typed objects.
    """

    #: The model's final answer (empty while calls are pending).
    response: str
    #: Every call the model made, in order.
    tool_calls: list[ToolCall] = field(default_factory=list)
    #: Every result given back, in call order.
    tool_results: list[ToolResult] = field(default_factory=list)
    #: How many times the model was asked.
    rounds: int = 0
    #: Calls waiting for their results (``auto_execute=False``, or tools without implementation):
    #: pass this run back with ``tool_results=[...]`` to continue.
    pending_calls: list[ToolCall] = field(default_factory=list)
    #: The whole conversation, OpenAI-shaped, calls and results included.
    messages: list[Message] = field(default_factory=list)
    #: Why the last generation ended (``"stop"``, ``"length"``, ``"tool_calls"``...).
    finish_reason: str | None = None
    #: Set when the streaming callback stopped the loop.
    stopped_by: str | None = None
    _rounds_of: dict[str, int] = field(default_factory=dict, repr=False)

    def _view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "response": self.response,
            "tool_calls": [
                {"round": self._rounds_of.get(c.id, 0), "id": c.id, "name": c.name, "parameters": c.arguments}
                for c in self.tool_calls
            ],
            "tool_results": [
                {
                    "round": self._rounds_of.get(r.call_id, 0),
                    "call_id": r.call_id,
                    "name": r.name,
                    "result": {"error": r.content, "success": False}
                    if r.is_error
                    else {"output": r.content, "success": True},
                }
                for r in self.tool_results
            ],
            "rounds": self.rounds,
        }
        if self.pending_calls:
            out["pending_tool_calls"] = [c.to_dict() for c in self.pending_calls]
        return out

    def __getitem__(self, key: str) -> Any:
        return self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def to_dict(self) -> dict[str, Any]:
        """lollms_client's dict: ``{"response", "tool_calls", "tool_results", "rounds"}`` (+ pending)."""
        return self._view()


class ToolLoop:
    """Every decision of the loop; the drivers only run what it asks for.

    :param binding: the LLM binding asked each round.
    :param prompt: a question, a list of messages, or a :class:`ToolRun` with pending calls to resume.
    :param tools: what :class:`ToolSet` accepts.
    :param tool_results: results for a resumed run's pending calls (in their order, or
        :class:`ToolResult` objects with their ``call_id``).
    :param options: what each round's ``build_request`` gets: sampling options, ``images``,
        ``parallel_tool_calls``, the binding's per-call parameters.
    """

    def __init__(
        self,
        binding: LollmsLLMBinding,
        prompt: str | list[Message] | ToolRun,
        tools: Any,
        *,
        system_prompt: str = "",
        max_tool_rounds: int = 10,
        streaming_callback: StreamingCallback | None = None,
        auto_execute: bool = True,
        tool_choice: str = "auto",
        tool_mode: str = "auto",
        before_call: BeforeCall | None = None,
        tool_results: Sequence[Any] | None = None,
        resolve: ToolResolver | None = None,
        **options: Any,
    ) -> None:
        if isinstance(max_tool_rounds, bool) or not isinstance(max_tool_rounds, int) or max_tool_rounds < 0:
            raise ConfigError(f"max_tool_rounds must be an int >= 0, not {max_tool_rounds!r}")
        if tool_mode not in _TOOL_MODES:
            raise ConfigError(f"tool_mode '{tool_mode}' is none of: {', '.join(_TOOL_MODES)}")
        self.binding = binding
        self.toolset = tools if isinstance(tools, ToolSet) else ToolSet(tools or (), resolve)
        self.max_tool_rounds = max_tool_rounds
        self.deliver = Delivery(streaming_callback) if streaming_callback is not None else None
        self.callback = streaming_callback
        self.auto_execute = auto_execute
        self.before_call = before_call
        self.options = options
        self.images = self.options.pop("images", None)
        model = self.options.get("model") or self.options.get("model_name") or binding.model_name
        self.mode = self._decide_mode(tool_mode, model)
        self.constrained = self.mode == "prompt" and binding.supports_json_schema(model)
        self.run = ToolRun(response="")
        self.tool_choice: str | None = tool_choice
        #: The model is told to answer now (the rounds are used up): no tools offered any more.
        self.capped = max_tool_rounds == 0
        #: The model gave its answer.
        self.over = False
        if isinstance(prompt, ToolRun):
            self._resume(prompt, tool_results)
        else:
            if tool_results:
                raise ConfigError("tool_results are for resuming: pass the ToolRun with pending calls as the prompt")
            self.run.messages = _messages(prompt, system_prompt)
        if self.toolset and tool_choice not in ("auto", "none", "required") and tool_choice not in self.toolset:
            allowed = ", ".join(["auto", "none", "required", *self.toolset.tools])
            raise ConfigError(f"tool_choice '{tool_choice}' is none of: {allowed}")

    # -- setup ------------------------------------------------------------------------------

    def _decide_mode(self, tool_mode: str, model: str | None) -> str:
        if not self.toolset:
            return "none"
        if tool_mode == "auto":  # the binding's config may set the default (a call's explicit mode wins)
            configured = self.binding.config.get("tool_mode")
            if configured in TOOL_MODES:
                tool_mode = configured
        if tool_mode == "prompt":
            return "prompt"
        if not self.binding.supports_tools(model):
            raise NotSupportedError(
                f"the {self.binding.binding_name} binding (model '{model}') has no native tool calling; "
                "pass tool_mode='prompt' to describe the tools in the prompt instead"
                + (
                    " (its answers will be constrained to a JSON Schema)"
                    if self.binding.supports_json_schema(model)
                    else ""
                )
            )
        return "native"

    def _resume(self, previous: ToolRun, results: Sequence[Any] | None) -> None:
        run = self.run
        run.messages = list(previous.messages)
        run.tool_calls, run.tool_results = list(previous.tool_calls), list(previous.tool_results)
        run.rounds, run._rounds_of = previous.rounds, dict(previous._rounds_of)
        pending = list(previous.pending_calls)
        if not pending:
            raise ConfigError("this run has no pending tool calls to resume")
        given = list(results or ())
        by_id = {r.call_id: r for r in given if isinstance(r, ToolResult)}
        if by_id:
            missing = [c.id for c in pending if c.id not in by_id]
            if missing:
                raise ConfigError(f"tool_results lack the pending call(s) {', '.join(missing)}")
            out = [by_id[c.id] for c in pending]
        else:
            if len(given) != len(pending):
                names = ", ".join(f"{c.name} ({c.id})" for c in pending)
                raise ConfigError(f"tool_results needs {len(pending)} result(s), one per pending call: {names}")
            out = [ToolResult(c.id, c.name, result_text(v)) for c, v in zip(pending, given, strict=True)]
        self.record(out)
        self.tool_choice = "auto"

    # -- one round ---------------------------------------------------------------------------

    def request_args(self) -> tuple[list[Message], dict[str, Any]]:
        """The messages and ``build_request`` keywords of the next round."""
        messages = list(self.run.messages)
        kwargs: dict[str, Any] = dict(self.options)
        if self.images:
            kwargs["images"] = self.images
        if self.capped and self.run.rounds:
            messages.append({"role": "user", "content": _CAP_NOTE})
        definitions = self.toolset.definitions()
        if self.mode == "native":
            messages = fit_history(messages, frozenset(self.toolset.tools), native=True)
            kwargs["tools"] = definitions
            kwargs["tool_choice"] = "none" if self.capped else self.tool_choice
        elif self.mode == "none":
            messages = fit_history(messages, frozenset(), native=False)
        elif self.mode == "prompt":
            required = self.tool_choice not in ("auto", "none") and not self.capped
            text = tools_system_text(definitions, constrained=self.constrained, required=required)
            messages = render_history(messages, constrained=self.constrained)
            if messages and messages[0].get("role") == "system":
                messages[0] = {**messages[0], "content": f"{messages[0].get('content') or ''}\n\n{text}".strip()}
            else:
                messages.insert(0, {"role": "system", "content": text})
            if self.constrained:
                only = self.tool_choice if self.tool_choice in self.toolset and not self.capped else None
                kwargs["json_schema"] = (
                    {"type": "object", "properties": {"response": {"type": "string"}}, "required": ["response"]}
                    if self.capped or self.tool_choice == "none"
                    else prompt_schema(definitions, allow_reply=not required, only=only)
                )
        return messages, kwargs

    def round_callback(self) -> StreamingCallback | None:
        """The callback the binding gets: the user's (native), or one that keeps prompt mode streamed."""
        if self.mode == "prompt":
            return _keep_streaming  # the JSON or tags are not for the user: the reply is delivered after
        return self.callback

    def take(self, result: GenerationResult) -> list[ToolCall]:
        """Record the model's turn; the calls to answer (empty: the loop is over)."""
        run = self.run
        run.rounds += 1
        run.finish_reason = result.finish_reason
        if result.stopped_by == "callback":
            run.stopped_by = "callback"
            run.response = result.text
            run.messages.append({"role": "assistant", "content": result.text})  # what was said is kept
            return []
        if self.mode == "prompt":
            text, calls = parse_answer(result.text, constrained=self.constrained)
            if self.capped or self.tool_choice == "none":
                text, calls = (text or result.text), []
            if calls and self.deliver is not None:
                for call in calls:
                    self._event(Chunk("", MSG_TYPE.MSG_TYPE_TOOL_CALL, {"tool_call": call.to_dict()}))
        else:
            text, calls = result.text, list(result.tool_calls)
        if self.capped:
            calls = []  # told to answer: a call made anyway is not run (the rounds are capped)
        if not calls:
            run.response = text
            run.messages.append({"role": "assistant", "content": text})
            if self.mode == "prompt" and self.deliver is not None and text:
                self._event(Chunk(text))
            return []
        run.messages.append(
            {"role": "assistant", "content": text or None, "tool_calls": [c.to_openai() for c in calls]}
        )
        run.tool_calls.extend(calls)
        for call in calls:
            run._rounds_of[call.id] = run.rounds
        if self.tool_choice not in ("none",):
            self.tool_choice = "auto"  # after a round with calls: "required" must not loop forever
        return calls

    def plan(self, call: ToolCall) -> ToolResult | None:
        """The result a call gets without running anything (a problem, or pending), else ``None``."""
        if call.error is not None:
            return ToolResult(
                call.id,
                call.name,
                f"Your call to '{call.name}' could not be read: {call.error}. "
                "Send the arguments as one JSON object and try again.",
                is_error=True,
            )
        known = self.toolset.get(call.name)
        if known is None:
            names = ", ".join(self.toolset.tools) or "none"
            return ToolResult(
                call.id,
                call.name,
                f"Unknown tool '{call.name}'. Available tools: {names}. Call one of these, or answer without tools.",
                is_error=True,
            )
        return None

    def going(self) -> bool:
        """Whether to ask the model (again): not after its answer, a pause for the caller, or a stop."""
        run = self.run
        if self.over or run.pending_calls or run.stopped_by is not None:
            return False
        if not run.rounds:
            return True
        return self.next_round()

    def answer(self, result: GenerationResult) -> list[ToolCall]:
        """Take the model's turn; the calls to run now (none: the loop ends or waits for the caller)."""
        calls = self.take(result)
        if not calls:
            self.over = True
            return []
        if self.needs_caller(calls):
            self.pend(calls)
            return []
        return calls

    def needs_caller(self, calls: list[ToolCall]) -> bool:
        """Whether the loop stops here and hands the calls to the caller (``auto_execute=False``...)."""
        if not self.auto_execute:
            return True
        return any(self.plan(c) is None and self.toolset.tools[c.name].func is None for c in calls)

    def pend(self, calls: list[ToolCall]) -> ToolRun:
        """Stop with ``calls`` pending."""
        self.run.pending_calls = list(calls)
        return self.run

    def decided(self, call: ToolCall, verdict: Any) -> tuple[ToolCall, ToolResult | None]:
        """What ``before_call``'s answer means for ``call``: the call to run, or the result it gets."""
        if verdict is None or verdict is True:
            return call, None
        if verdict is False:
            return call, ToolResult(
                call.id,
                call.name,
                f"The user refused to run '{call.name}'. Do not call it again; answer without it.",
                is_error=True,
            )
        if isinstance(verdict, ToolResult):
            return call, verdict
        if isinstance(verdict, ToolCall):
            edited = ToolCall(call.id, verdict.name, verdict.arguments, verdict.raw_arguments, verdict.error)
            return edited, self.plan(edited)
        raise ConfigError(
            f"before_call returned a {type(verdict).__name__}: expected True/None (run), False (refuse), "
            "a ToolCall (run this instead) or a ToolResult (use this result)"
        )

    def record(self, results: list[ToolResult]) -> bool:
        """Give the results back to the model; ``False`` when the streaming callback asked to stop."""
        go_on = True
        for r in results:
            self.run.tool_results.append(r)
            self.run.messages.append(r.to_message())
            if self.deliver is not None and go_on:
                go_on = self._event(Chunk(r.content, MSG_TYPE.MSG_TYPE_TOOL_OUTPUT, {"tool_result": r.to_dict()}))
        self.run.pending_calls = []
        if not go_on:
            self.run.stopped_by = "callback"
        return go_on

    def next_round(self) -> bool:
        """Whether to ask the model again (after a round of calls); the last one is told to answer."""
        if self.capped:
            return False
        calls_rounds = len(set(self.run._rounds_of.values()))
        if calls_rounds >= self.max_tool_rounds:
            self.capped = True
        return True

    def interrupted(self, results: list[ToolResult], exc: BaseException) -> ToolRun:
        """Close the run an exception stopped: a round's calls all get a result, the run rides on ``exc``.

        The calls of the last round that have no result yet (the exception came while they ran,
        or before) get an error result that says so: a stored conversation with a call and no
        result is one every backend refuses. ``results`` are the ones that arrived, in call
        order. Nothing is sent to the streaming callback (it may be what raised).
        """
        run = self.run
        asked = next((i for i in range(len(run.messages) - 1, -1, -1) if run.messages[i].get("tool_calls")), None)
        if asked is not None and not run.pending_calls:
            answered = {str(m.get("tool_call_id")) for m in run.messages[asked + 1 :] if m.get("role") == "tool"}
            arrived = {r.call_id: r for r in results}
            by_id = {c.id: c for c in run.tool_calls}
            for entry in run.messages[asked]["tool_calls"]:
                call = by_id.get(str(entry.get("id")))
                if call is None or call.id in answered:
                    continue
                result = arrived.get(call.id) or ToolResult(
                    call.id,
                    call.name,
                    f"No result: the tool loop stopped ({type(exc).__name__}) before this call's result arrived.",
                    is_error=True,
                )
                if result not in run.tool_results:
                    run.tool_results.append(result)
                run.messages.append(result.to_message())
        with contextlib.suppress(AttributeError):  # an exception type with __slots__ cannot carry it
            exc.tool_run = run  # type: ignore[attr-defined]
        return run

    def _event(self, chunk: Chunk) -> bool:
        assert self.deliver is not None
        return self.deliver(chunk)


def tool_run_of(exc: BaseException) -> ToolRun | None:
    """The run so far of the tool loop that ``exc`` stopped (``None``: it did not come from one).

    Whatever stops the loop (the backend failing in a later round, ``cancel()``, a
    ``before_call`` that raises) leaves on the exception the calls already made and the results
    already given back, each call answered (see :meth:`ToolLoop.interrupted`), so a caller that
    keeps the conversation (``LollmsDiscussion.chat(tools=...)``) loses nothing.
    """
    run = getattr(exc, "tool_run", None)
    return run if isinstance(run, ToolRun) else None


def _keep_streaming(*_args: Any) -> bool:
    return True


def _messages(prompt: str | list[Message], system_prompt: str) -> list[Message]:
    if isinstance(prompt, str):
        messages: list[Message] = [{"role": "user", "content": prompt}]
    elif isinstance(prompt, list):
        messages = [dict(m) for m in prompt]
    else:
        raise ConfigError(f"prompt must be a str, a list of messages or a ToolRun, not {type(prompt).__name__}")
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


# == the two drivers =========================================================================


class _Watch:
    """The loop's own cancel flag on the binding, so ``cancel()`` between rounds is not lost."""

    def __init__(self, binding: LollmsLLMBinding) -> None:
        self.binding = binding
        self.flag: CallControl = binding._start_call()

    def check(self, run: ToolRun) -> None:
        if self.flag.is_set():
            raise GenerationCancelled(partial_text=run.response)

    def close(self) -> None:
        self.binding._end_call(self.flag)


def run_tool_loop(binding: LollmsLLMBinding, prompt: Any, tools: Any, **kwargs: Any) -> ToolRun:
    """Run the loop (see :class:`ToolLoop` for the arguments) to the model's answer."""
    loop = ToolLoop(binding, prompt, tools, **kwargs)
    watch = _Watch(binding)
    results: list[ToolResult] = []
    try:
        while loop.going():
            watch.check(loop.run)
            messages, options = loop.request_args()
            results = []
            calls = loop.answer(binding.run(binding.build_request(messages, **options), loop.round_callback()))
            for call in calls:
                watch.check(loop.run)
                verdict = loop.before_call(call) if loop.before_call is not None and loop.plan(call) is None else None
                if inspect.isawaitable(verdict):
                    raise ConfigError("an async before_call needs the async loop (agenerate_with_tools)")
                call, ready = loop.decided(call, verdict)
                results.append(
                    ready or loop.plan(call) or loop.toolset.tools[call.name].invoke(call.arguments, call.id)
                )
            watch.check(loop.run)
            if calls:
                loop.record(results)
        return loop.run
    except BaseException as exc:
        loop.interrupted(results, exc)
        raise
    finally:
        watch.close()


async def arun_tool_loop(binding: LollmsLLMBinding, prompt: Any, tools: Any, **kwargs: Any) -> ToolRun:
    """Async :func:`run_tool_loop`: the independent calls of one turn run concurrently."""
    loop = ToolLoop(binding, prompt, tools, **kwargs)
    watch = _Watch(binding)
    arrived: list[ToolResult] = []  # this round's results as they come, for an interruption
    try:
        while loop.going():
            watch.check(loop.run)
            messages, options = loop.request_args()
            arrived = []
            calls = loop.answer(await binding.arun(binding.build_request(messages, **options), loop.round_callback()))
            prepared: list[tuple[ToolCall, ToolResult | None]] = []
            for call in calls:
                verdict: Any = None
                if loop.before_call is not None and loop.plan(call) is None:
                    verdict = loop.before_call(call)
                    if inspect.isawaitable(verdict):
                        verdict = await verdict
                checked, ready = loop.decided(call, verdict)
                prepared.append((checked, ready or loop.plan(checked)))
            results = await _run_concurrently(loop, prepared, arrived)
            watch.check(loop.run)
            if calls:
                loop.record(results)
        return loop.run
    except BaseException as exc:
        loop.interrupted(arrived, exc)
        raise
    finally:
        watch.close()


async def _run_concurrently(
    loop: ToolLoop, prepared: list[tuple[ToolCall, ToolResult | None]], arrived: list[ToolResult]
) -> list[ToolResult]:
    """Results in call order; calls run together, except a ``run_alone`` tool, which runs by itself.

    ``arrived`` gets each result as it is known, so an interruption keeps the finished ones.
    """
    results: list[ToolResult | None] = [ready for _, ready in prepared]
    arrived.extend(ready for _, ready in prepared if ready is not None)
    batch: list[int] = []

    async def one(i: int) -> None:
        call = prepared[i][0]
        results[i] = outcome = await loop.toolset.tools[call.name].ainvoke(call.arguments, call.id)
        arrived.append(outcome)  # as soon as it is known: a cancel while the others run keeps it

    async def flush() -> None:
        await asyncio.gather(*(one(i) for i in batch))
        batch.clear()

    for index, (call, ready) in enumerate(prepared):
        if ready is not None:
            continue
        if loop.toolset.tools[call.name].run_alone:
            await flush()
            batch.append(index)
            await flush()
        else:
            batch.append(index)
    await flush()
    return [r for r in results if r is not None]
