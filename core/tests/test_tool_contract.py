"""The tool-calling contract of the LLM base: request fields, capability, stream assembly, every form alike.

A binding written for these tests yields raw deltas (fragmented, interleaved, without ids,
with bad JSON, as whole calls): what the base makes of them is what every binding gets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from lollms_core import (
    MSG_TYPE,
    ChatRequest,
    Chunk,
    GenerationEvent,
    LollmsLLMBindingManager,
    Registry,
    ToolCall,
    ToolCallDelta,
    ToolChoiceError,
    ToolDefinition,
    ToolResult,
    hookimpl,
)
from lollms_core.bindings._tool_stream import WIRE_NAME, wire_name
from lollms_core.errors import ConfigError, EngineError, NotSupportedError
from lollms_core.testing.echo import EchoLLMBinding
from lollms_core.testing.echo_plugin import MANIFESTS

WEATHER = ToolDefinition(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
ALIASED = ToolDefinition("files::read file", "Read a file.", {"type": "object", "properties": {}})


class ScriptedLLM(EchoLLMBinding):
    """Yields ``SCRIPT`` (set per test) as is: what a backend's deltas look like after a binding's parsing."""

    script: list[Any] = []
    seen: list[ChatRequest] = []

    def supports_tools(self, model: str | None = None) -> bool:
        return True

    def _stream(self, request: ChatRequest) -> Iterator[Any]:
        type(self).seen.append(request)
        yield from type(self).script


class NoToolsLLM(EchoLLMBinding):
    def supports_tools(self, model: str | None = None) -> bool:
        return False

    def supports_json_schema(self, model: str | None = None) -> bool:
        return False

    def get_model_info(self) -> dict[str, Any]:  # an override written before the capability keys existed
        return {"binding": "old", "model_name": self.model_name}


class Plugin:
    @hookimpl
    def lollms_register_bindings(self) -> list[dict[str, Any]]:
        scripted, old = dict(MANIFESTS[0]), dict(MANIFESTS[0])
        scripted.update(name="scripted", **{"class": f"{__name__}:ScriptedLLM"})
        old.update(name="notools", **{"class": f"{__name__}:NoToolsLLM"})
        return [scripted, old]


class Recorder:
    def __init__(self) -> None:
        self.events: list[GenerationEvent] = []

    @hookimpl
    def lollms_on_generation_event(self, event: GenerationEvent) -> None:
        self.events.append(event)


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    reg.register_plugin(Plugin(), "test-tools", "1.0")
    return reg


def scripted(registry: Registry, script: list[Any]) -> Any:
    ScriptedLLM.script, ScriptedLLM.seen = script, []
    return LollmsLLMBindingManager(registry=registry).create_binding("scripted")


FRAGMENTED = [
    Chunk("Let me check. "),
    ToolCallDelta(0, id="call_a", name="get_weather"),
    ToolCallDelta(1, name="get_weather"),  # no id: the base makes one
    ToolCallDelta(0, arguments='{"ci'),
    ToolCallDelta(1, arguments='{"city": '),
    ToolCallDelta(0, arguments='ty": "Paris"}'),
    ToolCallDelta(1, arguments='"Oslo"}'),
    Chunk("", meta={"finish_reason": "stop"}),  # a server that says "stop" although it called tools
]


def test_fragments_are_assembled_by_index_and_parsed_once(registry: Registry) -> None:
    binding = scripted(registry, FRAGMENTED)
    result = binding.run(binding.build_request("weather?", tools=[WEATHER]))
    assert result.text == "Let me check. "
    assert [c.name for c in result.tool_calls] == ["get_weather", "get_weather"]
    assert [c.arguments for c in result.tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert result.tool_calls[0].id == "call_a"
    assert result.tool_calls[1].id.startswith("call_") and len(result.tool_calls[1].id) > 10
    assert result.tool_calls[0].raw_arguments == '{"city": "Paris"}'
    assert result.finish_reason == "tool_calls", "never trust finish_reason alone"


def test_every_form_sees_the_same_complete_calls(registry: Registry) -> None:
    binding = scripted(registry, FRAGMENTED[:2] + FRAGMENTED[3:4] + FRAGMENTED[5:6])
    expected = {"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris"}}
    blocking = binding.run(binding.build_request("q", tools=[WEATHER]))
    assert [c.to_dict() for c in blocking.tool_calls] == [expected]

    events: list[tuple[str, Any, Any]] = []
    binding.generate_text("q", tools=[WEATHER], streaming_callback=lambda t, ty, meta: events.append((t, ty, meta)))
    calls = [meta["tool_call"] for _, ty, meta in events if ty == MSG_TYPE.MSG_TYPE_TOOL_CALL]
    assert calls == [expected]
    assert MSG_TYPE.MSG_TYPE_TOOL_CALL == 19

    chunks = list(binding.stream("q", tools=[WEATHER]))
    assert [c.meta["tool_call"] for c in chunks if c.type == MSG_TYPE.MSG_TYPE_TOOL_CALL] == [expected]
    assert all(isinstance(c, Chunk) for c in chunks), "deltas never leak to consumers"

    async def both() -> tuple[Any, list[Chunk]]:
        result = await binding.arun(binding.build_request("q", tools=[WEATHER]))
        return result, [c async for c in binding.astream("q", tools=[WEATHER])]

    result, achunks = asyncio.run(both())
    assert [c.to_dict() for c in result.tool_calls] == [expected]
    assert [c.meta["tool_call"] for c in achunks if c.type == MSG_TYPE.MSG_TYPE_TOOL_CALL] == [expected]


def test_observers_see_complete_calls(registry: Registry) -> None:
    recorder = Recorder()
    registry.register_observer(recorder, name="recorder")
    binding = scripted(registry, FRAGMENTED)
    binding.generate_text("q", tools=[WEATHER])
    kinds = [(e.kind, e.chunk.type if e.chunk else None) for e in recorder.events]
    assert kinds.count(("chunk", MSG_TYPE.MSG_TYPE_TOOL_CALL)) == 2
    end = recorder.events[-1]
    assert end.kind == "end"
    assert [c.arguments for c in end.result.tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]


def test_whole_calls_are_accepted_beside_deltas(registry: Registry) -> None:
    binding = scripted(
        registry, [ToolCall("", "get_weather", {"city": "Rome"}), ToolCallDelta(0, name="get_weather", arguments="{}")]
    )
    result = binding.run(binding.build_request("q", tools=[WEATHER]))
    got = [(c.name, c.arguments) for c in result.tool_calls]
    assert got == [("get_weather", {"city": "Rome"}), ("get_weather", {})]
    assert result.tool_calls[0].id.startswith("call_"), "a whole call without id gets one too"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [('{"city": "Par', "not valid JSON"), ("[1, 2]", "must be a JSON object"), ("null", "must be a JSON object")],
)
def test_malformed_arguments_are_a_result_not_an_exception(registry: Registry, raw: str, fragment: str) -> None:
    binding = scripted(registry, [ToolCallDelta(0, name="get_weather", arguments=raw)])
    (call,) = binding.run(binding.build_request("q", tools=[WEATHER])).tool_calls
    assert call.arguments == {}
    assert call.error is not None and fragment in call.error
    assert call.raw_arguments == raw
    assert call.to_openai()["function"]["arguments"] == raw, "re-sent as the model wrote it"


def test_empty_arguments_mean_no_arguments(registry: Registry) -> None:
    binding = scripted(registry, [ToolCallDelta(0, name="get_weather")])
    (call,) = binding.run(binding.build_request("q", tools=[WEATHER])).tool_calls
    assert (call.arguments, call.error) == ({}, None)


def test_names_are_mapped_on_the_wire_and_back(registry: Registry) -> None:
    wire = wire_name(ALIASED.name)
    assert WIRE_NAME.fullmatch(wire) and wire != ALIASED.name
    assert wire_name(ALIASED.name) == wire, "the same name maps the same way every time"
    assert wire_name("a::b") != wire_name("a..b")
    assert WIRE_NAME.fullmatch(wire_name("x" * 200))
    history = [
        {"role": "user", "content": "read it"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": ALIASED.name, "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "name": ALIASED.name, "content": "text"},
    ]
    binding = scripted(registry, [ToolCallDelta(0, name=wire, arguments="{}")])
    result = binding.run(binding.build_request(history, tools=[WEATHER, ALIASED], tool_choice=ALIASED.name))
    sent = ScriptedLLM.seen[-1]
    assert [t.name for t in sent.tools] == ["get_weather", wire], "the binding never sees an invalid name"
    assert sent.tool_choice == wire
    assert sent.messages[1]["tool_calls"][0]["function"]["name"] == wire
    assert sent.messages[2]["name"] == wire
    assert history[1]["tool_calls"][0]["function"]["name"] == ALIASED.name, "the caller's list is not changed"
    assert result.tool_calls[0].name == ALIASED.name


def test_tools_given_as_dicts_and_tool_objects(registry: Registry) -> None:
    from lollms_core.tools import tool

    @tool
    def ping(host: str) -> str:
        """Ping a host."""
        return host

    binding = scripted(registry, [])
    request = binding.build_request("q", tools=[WEATHER.to_openai(), ping, {"name": "flat", "description": "d"}])
    assert [t.name for t in request.tools] == ["get_weather", "ping", "flat"]
    assert request.tools[1].parameters["required"] == ["host"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "none of: auto, none, required, get_weather"),
        ({"tool_choice": "required"}, "needs tools"),
        ({"tools": [WEATHER, WEATHER]}, "offered more than once: get_weather"),
        ({"tools": [ToolDefinition("bad\x00name", "d")]}, "control character"),
        ({"tools": [ToolDefinition("ok", "line\x1bescape")]}, "control character '\\x1b' at position 4"),
        ({"tools": [42]}, "expected a ToolDefinition"),
        ({"tools": "get_weather"}, "must be a list"),
        ({"tools": [WEATHER], "parallel_tool_calls": "yes"}, "parallel_tool_calls must be a bool"),
        ({"json_schema": "object"}, "json_schema must be a JSON Schema dict"),
    ],
)
def test_bad_tool_parameters_are_named(registry: Registry, kwargs: dict[str, Any], fragment: str) -> None:
    binding = scripted(registry, [])
    with pytest.raises(ConfigError) as caught:
        binding.build_request("q", **kwargs)
    assert fragment in str(caught.value)


def test_tools_to_a_binding_without_the_capability_name_the_fix(registry: Registry) -> None:
    binding = LollmsLLMBindingManager(registry=registry).create_binding("notools")
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        binding.generate_text("q", tools=[WEATHER])
    with pytest.raises(NotSupportedError, match="generate_structured_content"):
        binding.generate_text("q", json_schema={"type": "object"})
    # without tools nothing changes
    assert binding.generate_text("plain words") == "plain words"


def test_model_info_always_carries_the_capability_keys(registry: Registry) -> None:
    old = LollmsLLMBindingManager(registry=registry).create_binding("notools")
    assert old.get_model_info() == {
        "binding": "old",
        "model_name": "echo",
        "supports_tools": False,
        "supports_structured_output": False,
    }
    echo = LollmsLLMBindingManager().create_binding("echo")
    assert echo.get_model_info()["supports_tools"] is True
    assert echo.get_model_info()["supports_structured_output"] is True
    off = LollmsLLMBindingManager().create_binding("echo", tool_calling="none", json_schema=False)
    assert (off.supports_tools(), off.supports_json_schema()) == (False, False)


def test_required_answered_without_a_call_is_a_typed_error(registry: Registry) -> None:
    binding = scripted(registry, [Chunk("Sunny, probably.")])
    with pytest.raises(ToolChoiceError, match="answered without one") as caught:
        binding.run(binding.build_request("q", tools=[WEATHER], tool_choice="required"))
    assert caught.value.partial_text == "Sunny, probably."
    with pytest.raises(ToolChoiceError):
        binding.run(binding.build_request("q", tools=[WEATHER], tool_choice="get_weather"))
    # "auto" may answer in prose
    assert binding.run(binding.build_request("q", tools=[WEATHER], tool_choice="auto")).text == "Sunny, probably."


def test_echo_that_ignores_tools_is_reported_under_required() -> None:
    binding = LollmsLLMBindingManager().create_binding("echo", tool_calling="ignore", strict=True)
    with pytest.raises(ToolChoiceError):
        binding.generate_text("/call get_weather {}", tools=[WEATHER], tool_choice="required")


def test_a_binding_yielding_something_else_is_an_engine_error(registry: Registry) -> None:
    binding = scripted(registry, [Chunk("a"), 42])
    with pytest.raises(EngineError, match="expected Chunk, ToolCallDelta or ToolCall"):
        binding.run(binding.build_request("q"))


def test_plain_requests_are_unchanged(registry: Registry) -> None:
    binding = scripted(registry, [Chunk("just text")])
    result = binding.run(binding.build_request("q"))
    sent = ScriptedLLM.seen[-1]
    assert (sent.tools, sent.tool_choice, sent.json_schema, sent.wire_names) == ((), None, None, {})
    assert (result.text, result.tool_calls) == ("just text", ())


def test_value_types_have_the_openai_shapes() -> None:
    assert WEATHER.to_openai() == {
        "type": "function",
        "function": {"name": "get_weather", "description": "The weather in a city.", "parameters": WEATHER.parameters},
    }
    call = ToolCall("c1", "get_weather", {"city": "Paris"})
    assert call.to_openai() == {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
    }
    result = ToolResult("c1", "get_weather", "sunny")
    assert result.to_message() == {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"}
    with pytest.raises(AttributeError):
        call.name = "other"  # type: ignore[misc]


def test_echo_calls_tools_natively_with_fragmented_interleaved_deltas() -> None:
    binding = LollmsLLMBindingManager().create_binding("echo")
    script = '/call get_weather {"city": "Paris"}\n/call get_weather {"city": "Oslo"}'
    result = binding.run(binding.build_request(script, tools=[WEATHER]))
    assert [c.arguments["city"] for c in result.tool_calls] == ["Paris", "Oslo"]
    # with the results in the conversation, the echo answers with them instead of calling again
    messages = [
        {"role": "user", "content": '/call get_weather {"city": "Paris"}'},
        {"role": "assistant", "content": None, "tool_calls": [result.tool_calls[0].to_openai()]},
        ToolResult(result.tool_calls[0].id, "get_weather", "sunny in Paris").to_message(),
    ]
    again = binding.run(binding.build_request(messages, tools=[WEATHER]))
    assert (again.text, again.tool_calls) == ("sunny in Paris", ())
