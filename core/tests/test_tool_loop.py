"""The tool loop end to end on the echo binding (its ``/call`` script, see builtin/_echo_tools.py).

Each bad input of issue 21 has its test here: nothing crashes, hangs or loses a message.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from lollms_core import MSG_TYPE, LollmsLLMBindingManager, ToolCall, ToolDefinition, ToolResult
from lollms_core.errors import ConfigError, GenerationCancelled, NotSupportedError
from lollms_core.tools import ToolLoop, ToolRun, arun_tool_loop, run_tool_loop, tool

ADD_CALL = '/call add {"a": 2, "b": 3}'


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first
        b: second
    """
    return a + b


def echo(**config: Any) -> Any:
    return LollmsLLMBindingManager().create_binding("echo", **config)


def both(binding: Any, prompt: Any, tools: Any, **kwargs: Any) -> list[ToolRun]:
    """The same loop, sync and async: one design, the same outcome."""
    return [
        run_tool_loop(binding, prompt, tools, **kwargs),
        asyncio.run(arun_tool_loop(binding, prompt, tools, **kwargs)),
    ]


def test_the_model_calls_a_tool_gets_the_result_and_answers() -> None:
    for run in both(echo(), ADD_CALL, [add]):
        assert run.response == "5"
        assert [(c.name, c.arguments) for c in run.tool_calls] == [("add", {"a": 2, "b": 3})]
        assert [(r.content, r.is_error) for r in run.tool_results] == [("5", False)]
        assert run.rounds == 2
        roles = [m["role"] for m in run.messages]
        assert roles == ["user", "assistant", "tool", "assistant"]
        assert run.messages[1]["tool_calls"][0]["id"] == run.messages[2]["tool_call_id"] == run.tool_calls[0].id


def test_lollms_client_dict_shape() -> None:
    run = run_tool_loop(echo(), ADD_CALL, [add])
    assert set(run) == {"response", "tool_calls", "tool_results", "rounds"}
    assert run["response"] == "5"
    assert run["rounds"] == 2
    assert run["tool_calls"][0]["name"] == "add"
    assert run["tool_calls"][0]["parameters"] == {"a": 2, "b": 3}
    assert run["tool_calls"][0]["round"] == 1
    assert run["tool_results"][0]["result"] == {"output": "5", "success": True}


def test_no_tools_is_plain_generation() -> None:
    run = run_tool_loop(echo(), "hello there", [])
    assert (run.response, run.rounds, run.tool_calls) == ("hello there", 1, [])


def test_callback_receives_tool_call_and_output_events_in_order() -> None:
    events: list[tuple[Any, dict[str, Any]]] = []
    run_tool_loop(echo(), ADD_CALL, [add], streaming_callback=lambda t, ty, meta: events.append((ty, meta)))
    kinds = [ty for ty, _ in events]
    assert kinds[:2] == [MSG_TYPE.MSG_TYPE_TOOL_CALL, MSG_TYPE.MSG_TYPE_TOOL_OUTPUT]
    assert events[0][1]["tool_call"]["arguments"] == {"a": 2, "b": 3}
    assert events[1][1]["tool_result"] == {
        "call_id": events[0][1]["tool_call"]["id"],
        "name": "add",
        "content": "5",
        "is_error": False,
    }
    assert MSG_TYPE.MSG_TYPE_CHUNK in kinds[2:], "then the answer streams"


def test_a_callback_returning_false_on_a_tool_output_stops_the_loop() -> None:
    run = run_tool_loop(
        echo(), ADD_CALL, [add], streaming_callback=lambda t, ty, meta: ty != MSG_TYPE.MSG_TYPE_TOOL_OUTPUT
    )
    assert run.stopped_by == "callback"
    assert run.rounds == 1
    assert [r.content for r in run.tool_results] == ["5"], "the result is kept"


# -- bad input: tools --------------------------------------------------------------------------


def test_a_tool_that_raises_is_reported_to_the_model() -> None:
    def explode(a: int) -> int:
        raise ValueError("the disk is on fire")

    for run in both(echo(), '/call explode {"a": 1}', [explode]):
        (result,) = run.tool_results
        assert result.is_error
        assert "raised ValueError: the disk is on fire" in result.content
        assert "try again" in result.content
        assert "the disk is on fire" in run.response, "the model saw it and answered"


def test_a_tool_that_hangs_past_its_timeout() -> None:
    release = threading.Event()

    @tool(timeout=0.2)
    def hang() -> str:
        release.wait(30)
        return "late"

    async def ahang_impl() -> str:
        await asyncio.sleep(30)
        return "late"

    ahang = tool(name="ahang", timeout=0.2)(ahang_impl)
    try:
        for run in both(echo(), "/call hang {}\n/call ahang {}", [hang, ahang]):
            assert [r.is_error for r in run.tool_results] == [True, True]
            assert "did not finish within 0.2 seconds" in run.tool_results[0].content
            assert "did not finish within 0.2 seconds" in run.tool_results[1].content
            assert run.rounds == 2
    finally:
        release.set()


def test_non_serialisable_and_huge_results() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "<opaque thing>"

    def opaque() -> Any:
        return {"thing": Opaque()}

    def huge() -> str:
        return "x" * 3_000_000

    def data() -> Any:
        return {"a": [1, 2], "b": None}

    run = run_tool_loop(echo(), "/call opaque {}\n/call huge {}\n/call data {}", [opaque, huge, data])
    first, second, third = run.tool_results
    assert first.content.startswith("{'thing': <") and "Opaque object" in first.content, "its str()"
    assert not first.is_error
    assert len(second.content) < 20_200
    assert "truncated: the result is 3,000,000 characters; the first 20,000 are shown" in second.content
    assert third.content == '{"a": [1, 2], "b": null}'


# -- bad input: the model ----------------------------------------------------------------------


def test_unknown_tool_bad_json_and_schema_violations_go_back_to_the_model() -> None:
    script = '/call nope {}\n/call add {"a": 1,\n/call add {"a": "one", "b": 2}\n/call add {"a": 1, "b": 2, "c": 3}'
    for run in both(echo(), script, [add]):
        unknown, broken, wrong_type, extra = run.tool_results
        assert all(r.is_error for r in run.tool_results)
        assert "Unknown tool 'nope'. Available tools: add" in unknown.content
        assert "not valid JSON" in broken.content and "try again" in broken.content
        assert "$.a: expected integer, got string 'one'" in wrong_type.content
        assert "unexpected property 'c'" in extra.content
        assert "Fix the call and try again" in wrong_type.content
        assert len(run.messages) == 1 + 1 + 4 + 1, "every call and result is kept"


def test_a_model_that_never_stops_calling_is_capped() -> None:
    calls = 0

    def ping() -> str:
        nonlocal calls
        calls += 1
        return "pong"

    run = run_tool_loop(echo(), "/loop ping {}", [ping], max_tool_rounds=3)
    assert calls == 3
    assert run.rounds == 4, "three rounds of calls, then one told to answer"
    assert run.response.startswith("Maximum tool rounds reached")
    arun = asyncio.run(arun_tool_loop(echo(), "/loop ping {}", [ping], max_tool_rounds=0))
    assert (arun.rounds, arun.tool_calls) == (1, []), "0 rounds: the model is never offered a call"


def test_required_applies_to_the_first_round_only() -> None:
    def status() -> str:
        return "all good"

    for run in both(echo(), "how are things?", [status], tool_choice="required"):
        assert [c.name for c in run.tool_calls] == ["status"]
        assert run.response == "all good"
        assert run.rounds == 2


# -- control ----------------------------------------------------------------------------------------


def test_before_call_approves_edits_or_refuses() -> None:
    def verdict(call: ToolCall) -> Any:
        if call.arguments.get("a") == 1:
            return False
        if call.arguments.get("a") == 2:
            return ToolCall("ignored", "add", {"a": 20, "b": 3})
        if call.arguments.get("a") == 3:
            return ToolResult(call.id, call.name, "cached: 7")
        return True

    script = "\n".join(f'/call add {{"a": {a}, "b": 1}}' for a in (1, 2, 3, 4))
    for run in both(echo(), script, [add], before_call=verdict):
        refused, edited, given, approved = run.tool_results
        assert refused.is_error and "refused" in refused.content
        assert edited.content == "23"
        assert edited.call_id == run.tool_calls[1].id, "an edited call keeps the model's id"
        assert given.content == "cached: 7"
        assert approved.content == "5"


def test_async_before_call() -> None:
    async def verdict(call: ToolCall) -> bool:
        await asyncio.sleep(0)
        return False

    run = asyncio.run(arun_tool_loop(echo(), ADD_CALL, [add], before_call=verdict))
    assert run.tool_results[0].is_error


def test_auto_execute_false_returns_pending_calls_and_resumes() -> None:
    ran: list[int] = []

    def record(a: int, b: int) -> int:
        ran.append(a)
        return a + b

    binding = echo()
    first = run_tool_loop(binding, '/call record {"a": 2, "b": 3}', [record], auto_execute=False)
    assert ran == [], "nothing ran"
    assert [c.name for c in first.pending_calls] == ["record"]
    assert first.response == ""
    assert first["pending_tool_calls"][0]["arguments"] == {"a": 2, "b": 3}
    resumed = run_tool_loop(binding, first, [record], tool_results=["five"])
    assert resumed.response == "five"
    assert resumed.pending_calls == []
    assert [m["role"] for m in resumed.messages] == ["user", "assistant", "tool", "assistant"]
    again = asyncio.run(
        arun_tool_loop(binding, first, [record], tool_results=[ToolResult(first.pending_calls[0].id, "record", "5!")])
    )
    assert again.response == "5!"
    with pytest.raises(ConfigError, match="needs 1 result"):
        run_tool_loop(binding, first, [record], tool_results=[])
    with pytest.raises(ConfigError, match="no pending tool calls"):
        run_tool_loop(binding, resumed, [record], tool_results=["x"])


def test_a_tool_without_implementation_is_handed_to_the_caller() -> None:
    remote = ToolDefinition("remote", "Runs elsewhere.", {"type": "object", "properties": {}})
    run = run_tool_loop(echo(), "/call remote {}", [remote, add])
    assert [c.name for c in run.pending_calls] == ["remote"]


def test_independent_calls_run_concurrently_in_async_and_results_keep_call_order() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def left() -> str:
        barrier.wait()  # only passes when the other call runs at the same time
        return "left"

    async def right_impl() -> str:
        await asyncio.to_thread(barrier.wait)
        return "right"

    right = tool(name="right")(right_impl)
    run = asyncio.run(arun_tool_loop(echo(), "/call left {}\n/call right {}", [left, right]))
    assert [(r.name, r.content, r.is_error) for r in run.tool_results] == [
        ("left", "left", False),
        ("right", "right", False),
    ]


def test_a_run_alone_tool_is_not_run_beside_the_others() -> None:
    barrier = threading.Barrier(2, timeout=0.5)

    @tool(run_alone=True)
    def alone() -> str:
        barrier.wait()
        return "met"

    def other() -> str:
        barrier.wait()
        return "met"

    run = asyncio.run(arun_tool_loop(echo(), "/call alone {}\n/call other {}", [alone, other]))
    assert [r.is_error for r in run.tool_results] == [True, True], "never together: the barrier breaks"
    assert "BrokenBarrierError" in run.tool_results[0].content


def test_cancel_between_rounds() -> None:
    binding = echo()

    def cancel_then_go(call: ToolCall) -> bool:
        binding.cancel()
        return True

    with pytest.raises(GenerationCancelled):
        run_tool_loop(binding, ADD_CALL, [add], before_call=cancel_then_go)
    with pytest.raises(GenerationCancelled):
        asyncio.run(arun_tool_loop(binding, ADD_CALL, [add], before_call=cancel_then_go))
    assert run_tool_loop(binding, ADD_CALL, [add]).response == "5", "the next loop is not cancelled"


def test_cancel_inside_a_round() -> None:
    binding = echo(delay=0.05)
    threading.Timer(0.2, binding.cancel).start()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled):
        run_tool_loop(binding, "one two three four five six seven eight nine ten eleven twelve", [add])
    assert time.monotonic() - started < 5


class FailsSecondRound:
    """Wraps a binding's ``run``/``arun``: the second request fails as a dead server would."""

    def __init__(self, binding: Any) -> None:
        self.asked = 0
        self.real_run, self.real_arun = binding.run, binding.arun
        binding.run, binding.arun = self.run, self.arun

    def _count(self) -> None:
        from lollms_core.errors import BackendError

        self.asked += 1
        if self.asked == 2:
            raise BackendError("the server went away", status_code=502)

    def run(self, request: Any, callback: Any = None) -> Any:
        self._count()
        return self.real_run(request, callback)

    async def arun(self, request: Any, callback: Any = None) -> Any:
        self._count()
        return await self.real_arun(request, callback)


def test_an_exception_in_a_later_round_carries_the_run_so_far() -> None:
    """The backend failing in round 2: the exception holds round 1's calls and results (issue 21)."""
    from lollms_core.errors import BackendError
    from lollms_core.tools import tool_run_of

    sync_binding, async_binding = echo(), echo()
    FailsSecondRound(sync_binding), FailsSecondRound(async_binding)
    with pytest.raises(BackendError) as in_sync:
        run_tool_loop(sync_binding, ADD_CALL, [add])
    with pytest.raises(BackendError) as in_async:
        asyncio.run(arun_tool_loop(async_binding, ADD_CALL, [add]))
    for caught in (in_sync, in_async):
        run = tool_run_of(caught.value)
        assert run is not None
        assert [m["role"] for m in run.messages] == ["user", "assistant", "tool"]
        assert [(r.content, r.is_error) for r in run.tool_results] == [("5", False)]
        assert run.rounds == 1
    assert tool_run_of(ValueError("not from a loop")) is None


def test_an_interrupted_round_answers_every_call_it_made() -> None:
    """A before_call that raises on the second call: the first result is kept, the second says why it has none."""
    from lollms_core.tools import tool_run_of

    def mul(a: int, b: int) -> int:
        """Multiply."""
        return a * b

    def refuse_mul(call: ToolCall) -> bool:
        if call.name == "mul":
            raise RuntimeError("the approval window was closed")
        return True

    script = '/call add {"a": 2, "b": 3}\n/call mul {"a": 2, "b": 4}'
    # sync asks before each call and runs it; async asks about every call first, then runs them together
    for go, add_ran in (
        (lambda: run_tool_loop(echo(), script, [add, mul], before_call=refuse_mul), True),
        (lambda: asyncio.run(arun_tool_loop(echo(), script, [add, mul], before_call=refuse_mul)), False),
    ):
        with pytest.raises(RuntimeError, match="approval window") as caught:
            go()
        run = tool_run_of(caught.value)
        assert run is not None
        calls = run.messages[1]["tool_calls"]
        results = [m for m in run.messages[2:] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls], "every call answered, in order"
        assert [(r.name, r.is_error) for r in run.tool_results] == [("add", not add_ran), ("mul", True)]
        assert (run.tool_results[0].content == "5") is add_ran
        assert "RuntimeError" in run.tool_results[1].content and "No result" in run.tool_results[1].content


def test_a_cancelled_async_loop_keeps_the_results_that_arrived() -> None:
    """The task cancelled while a slow tool runs beside a fast one: the fast result is on the exception."""
    from lollms_core.tools import tool_run_of

    async def slow() -> str:
        """Take forever."""
        await asyncio.sleep(30)
        return "late"

    async def main() -> BaseException:
        task = asyncio.ensure_future(arun_tool_loop(echo(), ADD_CALL + "\n/call slow {}", [add, tool(slow)]))
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            return exc
        raise AssertionError("the loop was not cancelled")

    started = time.monotonic()
    run = tool_run_of(asyncio.run(main()))
    assert time.monotonic() - started < 10
    assert run is not None
    assert [(r.name, r.content, r.is_error) for r in run.tool_results][:1] == [("add", "5", False)]
    assert run.tool_results[1].name == "slow" and run.tool_results[1].is_error
    assert "CancelledError" in run.tool_results[1].content


# -- tool_mode ------------------------------------------------------------------------------------


def test_auto_mode_without_native_tools_names_the_fix() -> None:
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        run_tool_loop(echo(tool_calling="none"), ADD_CALL, [add])


def test_prompt_mode_with_constrained_decoding() -> None:
    binding = echo(tool_calling="none")
    for run in both(binding, ADD_CALL, [add], tool_mode="prompt"):
        assert [(c.name, c.arguments) for c in run.tool_calls] == [("add", {"a": 2, "b": 3})]
        assert run.tool_results[0].content == "5"
        assert "5" in run.response
        assert run.messages[1]["tool_calls"][0]["function"]["name"] == "add", "stored in the canonical shape"


def test_prompt_mode_schema_required_drops_the_reply_branch() -> None:
    binding = echo(tool_calling="none")
    _, auto = ToolLoop(binding, "q", [add], tool_mode="prompt").request_args()
    _, required = ToolLoop(binding, "q", [add], tool_mode="prompt", tool_choice="required").request_args()
    assert len(auto["json_schema"]["anyOf"]) == 2
    assert "anyOf" not in required["json_schema"]
    assert required["json_schema"]["required"] == ["tool_calls"]
    assert "tools" not in auto, "the binding is not asked for native tools"
    run = run_tool_loop(binding, "no script here", [add], tool_mode="prompt", tool_choice="required")
    assert [c.name for c in run.tool_calls] == ["add"], "the schema forced a call"


def test_prompt_mode_text_protocol_without_constrained_decoding() -> None:
    binding = echo(tool_calling="none", json_schema=False)
    messages, kwargs = ToolLoop(binding, "q", [add], tool_mode="prompt").request_args()
    assert "json_schema" not in kwargs
    assert '<tool>{"name": "<tool name>", "parameters": {...}}</tool>' in messages[0]["content"]
    for run in both(binding, '/call add {"a": 2, "b": 3}\n/call add {"a": "x"', [add], tool_mode="prompt"):
        ok, broken = run.tool_results
        assert ok.content == "5"
        assert broken.is_error, "a malformed tag is answered, not fatal"
        assert "<tool_result" in run.response


def test_bad_loop_arguments() -> None:
    with pytest.raises(ConfigError, match="tool_mode 'sometimes'"):
        run_tool_loop(echo(), "q", [add], tool_mode="sometimes")
    with pytest.raises(ConfigError, match="max_tool_rounds must be an int"):
        run_tool_loop(echo(), "q", [add], max_tool_rounds=-1)
    with pytest.raises(ConfigError, match="tool_choice 'sub' is none of: auto, none, required, add"):
        run_tool_loop(echo(), "q", [add], tool_choice="sub")


# -- a conversation whose tools are gone ---------------------------------------------------------

OLD_TURNS = [
    {"role": "user", "content": "what is in the file?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "read_file", "arguments": '{"p": 1}'}}],
    },
    {"role": "tool", "tool_call_id": "c9", "name": "read_file", "content": "hello from the file"},
    {"role": "assistant", "content": "It says hello."},
]


def test_history_with_calls_of_a_tool_no_longer_offered_is_sent_as_text() -> None:
    from lollms_core.tools import fit_history

    sent = fit_history(OLD_TURNS, frozenset({"add"}), native=True)
    assert all("tool_calls" not in m and m["role"] != "tool" for m in sent)
    assert '<tool>{"name": "read_file", "parameters": {"p": 1}}</tool>' in sent[1]["content"]
    assert sent[2] == {"role": "user", "content": '<tool_result name="read_file">\nhello from the file\n</tool_result>'}
    kept = fit_history(OLD_TURNS, frozenset({"read_file"}), native=True)
    assert kept == OLD_TURNS, "calls of tools still offered stay native"
    assert fit_history(OLD_TURNS[:1], frozenset(), native=False) == OLD_TURNS[:1]
    assert len(fit_history(OLD_TURNS, frozenset(), native=False)) == len(OLD_TURNS), "nothing is dropped"


def test_the_loop_continues_a_conversation_whose_tool_is_gone() -> None:
    seen: list[Any] = []
    binding = echo()
    original = binding.build_request

    def spy(messages: Any, **kwargs: Any) -> Any:
        seen.append(messages)
        return original(messages, **kwargs)

    binding.build_request = spy
    messages = [*OLD_TURNS, {"role": "user", "content": ADD_CALL}]
    for run in both(binding, messages, [add]):
        assert run.response == "5"
        assert run.messages[: len(OLD_TURNS)] == OLD_TURNS, "the stored turns are kept as they were"
    assert all(m.get("role") != "tool" for m in seen[0]), "the gone tool's turns went as text"
    assert any("hello from the file" in str(m.get("content")) for m in seen[0]), "and were not dropped"
