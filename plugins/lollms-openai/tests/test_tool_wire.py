"""Native tool calling and json_schema on the OpenAI wire, against a fake built from OpenAI's published examples.

The binding's primitive is checked directly (what it puts on the wire, what it yields back): the
deltas it yields are what the core assembles into ``ToolCall`` objects.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta, ToolDefinition
from lollms_openai.llm.wire import response_format, strict_allowed

WEATHER = ToolDefinition(
    name="get_weather",
    description="Get current temperature for a given location.",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"}},
        "required": ["location"],
        "additionalProperties": False,
    },
)
EMAIL = ToolDefinition(
    name="send_email",
    description="Send an email.",
    parameters={"type": "object", "properties": {"to": {"type": "string"}, "body": {"type": "string"}}},
)
QUESTION = [{"role": "user", "content": "What's the weather like in Paris today?"}]


def _request(model: str, streaming: bool = True, **fields: Any) -> ChatRequest:
    fields.setdefault("tools", (WEATHER, EMAIL))
    return ChatRequest(messages=list(fields.pop("messages", QUESTION)), model=model, streaming=streaming, **fields)


def _collect(llm: Any, request: ChatRequest) -> tuple[list[ToolCallDelta], str, dict[str, Any]]:
    deltas, text, meta = [], "", {}
    for item in llm._stream(request):
        if isinstance(item, ToolCallDelta):
            deltas.append(item)
        else:
            assert isinstance(item, Chunk)
            text += item.text
            meta.update(item.meta or {})
    return deltas, text, meta


def _assemble(deltas: list[ToolCallDelta]) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    """What the documented accumulation gives: fragments joined per index, parsed once at the end."""
    calls: dict[int, list[Any]] = {}
    for d in deltas:
        entry = calls.setdefault(d.index, [None, None, ""])
        entry[0] = entry[0] or d.id
        entry[1] = entry[1] or d.name
        entry[2] += d.arguments
    return [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))]


def _sent(server: Any) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(server.base_url + "/_requests", timeout=5).json()[-1]
    return body


@pytest.fixture
def tools_llm(make_binding: Any, tool_calls_server: Any) -> Any:
    return make_binding("LLM", host_address=tool_calls_server.base_url + "/v1", model_name="weather-one")


def test_streamed_fragments_are_yielded_as_deltas_and_add_up_to_the_documented_call(
    tools_llm: Any, tool_calls_server: Any
) -> None:
    deltas, text, meta = _collect(tools_llm, _request("weather-one"))
    assert text == ""
    assert meta["finish_reason"] == "tool_calls"
    # One delta per documented fragment: id and name only on the first, arguments split as published.
    assert deltas[0] == ToolCallDelta(index=0, id="call_DdmO9pD3xa9XTPNJ32zg2hcA", name="get_weather", arguments="")
    assert [d.arguments for d in deltas[1:]] == ['{"', "location", '":"', "Paris", ",", " France", '"}']
    assert all(d.id is None and d.name is None for d in deltas[1:])
    assert _assemble(deltas) == [("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", {"location": "Paris, France"})]
    sent = _sent(tool_calls_server)
    assert sent["stream"] is True
    assert sent["tools"] == [WEATHER.to_openai(), EMAIL.to_openai()]
    assert "tool_choice" not in sent and "parallel_tool_calls" not in sent


def test_parallel_streamed_calls_are_told_apart_by_index(make_binding: Any, tool_calls_server: Any) -> None:
    llm = make_binding("LLM", host_address=tool_calls_server.base_url + "/v1", model_name="weather-parallel")
    deltas, _, meta = _collect(llm, _request("weather-parallel", parallel_tool_calls=True))
    assert meta["finish_reason"] == "tool_calls"
    assert {d.index for d in deltas} == {0, 1, 2}
    assert _assemble(deltas) == [
        ("call_12345xyz", "get_weather", {"location": "Paris, France"}),
        ("call_67890abc", "get_weather", {"location": "Bogotá, Colombia"}),
        ("call_99999def", "send_email", {"to": "bob@email.com", "body": "Hi bob"}),
    ]
    assert _sent(tool_calls_server)["parallel_tool_calls"] is True


def test_non_streamed_answer_yields_each_call_whole(make_binding: Any, tool_calls_server: Any) -> None:
    llm = make_binding("LLM", host_address=tool_calls_server.base_url + "/v1", model_name="weather-parallel")
    deltas, _, meta = _collect(llm, _request("weather-parallel", streaming=False))
    assert meta["finish_reason"] == "tool_calls"
    assert [(d.index, d.id, d.name) for d in deltas] == [
        (0, "call_12345xyz", "get_weather"),
        (1, "call_67890abc", "get_weather"),
        (2, "call_99999def", "send_email"),
    ]
    assert json.loads(deltas[1].arguments) == {"location": "Bogotá, Colombia"}
    assert "stream" not in _sent(tool_calls_server)


def test_async_primitive_yields_the_same_deltas(tools_llm: Any) -> None:
    async def collect() -> list[ToolCallDelta]:
        return [d async for d in tools_llm._astream(_request("weather-one")) if isinstance(d, ToolCallDelta)]

    assert _assemble(asyncio.run(collect())) == [
        ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", {"location": "Paris, France"})
    ]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_on_the_wire(tools_llm: Any, tool_calls_server: Any, choice: str, wire: Any) -> None:
    _collect(tools_llm, _request("weather-one", tool_choice=choice, parallel_tool_calls=False))
    sent = _sent(tool_calls_server)
    assert sent["tool_choice"] == wire
    assert sent["parallel_tool_calls"] is False


def test_calls_and_results_go_back_in_the_api_shape(tools_llm: Any, tool_calls_server: Any) -> None:
    history = [
        *QUESTION,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                    "type": "function",
                    # a dict here (as a reloaded discussion may hold it) goes out as JSON text
                    "function": {"name": "get_weather", "arguments": {"location": "Paris, France"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "name": "get_weather", "content": "14°C"},
    ]
    deltas, text, meta = _collect(tools_llm, _request("weather-one", messages=history))
    assert deltas == []
    assert text.strip() == "The tools said: call_DdmO9pD3xa9XTPNJ32zg2hcA=14°C"
    assert meta["finish_reason"] == "stop"
    sent = _sent(tool_calls_server)["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"location": "Paris, France"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "content": "14°C"}


def test_broken_argument_json_is_passed_on_for_the_core_to_judge(make_binding: Any, tool_calls_server: Any) -> None:
    llm = make_binding("LLM", host_address=tool_calls_server.base_url + "/v1", model_name="weather-broken")
    deltas, _, _ = _collect(llm, _request("weather-broken"))
    assert "".join(d.arguments for d in deltas) == '{"location": "Par'


def test_json_schema_becomes_response_format(tools_llm: Any, tool_calls_server: Any) -> None:
    schema = {
        "title": "Person card",
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    _collect(tools_llm, _request("weather-one", tools=(), json_schema=schema))
    sent = _sent(tool_calls_server)
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Person_card", "schema": schema, "strict": True},
    }
    assert "tools" not in sent


@pytest.mark.parametrize(
    ("schema", "strict"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, False),
        ({"type": "object", "properties": {"a": {}}, "required": [], "additionalProperties": False}, False),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]}},
                "required": ["a"],
                "additionalProperties": False,
            },
            False,  # the nested object leaves additionalProperties open
        ),
        (
            {
                "type": "object",
                "properties": {"xs": {"type": "array", "items": {"$ref": "#/$defs/x"}}},
                "required": ["xs"],
                "additionalProperties": False,
                "$defs": {"x": {"type": "object", "properties": {}, "additionalProperties": False}},
            },
            True,
        ),
        ({"type": "array", "items": {"type": "string"}}, True),
    ],
)
def test_strict_only_when_the_schema_allows_it(schema: dict[str, Any], strict: bool) -> None:
    assert strict_allowed(schema) is strict
    assert response_format(schema)["json_schema"]["strict"] is strict


def test_capabilities_for_a_server_without_props(tools_llm: Any) -> None:
    # OpenAI-style server: /props is 404, so tools are assumed; the setting overrides.
    assert tools_llm.supports_tools() is True
    assert tools_llm.supports_json_schema() is True
    info = tools_llm.get_model_info()
    assert (info["supports_tools"], info["supports_structured_output"]) == (True, True)


def test_capability_settings_decide_outright(make_binding: Any, tool_calls_server: Any) -> None:
    llm = make_binding(
        "LLM",
        host_address=tool_calls_server.base_url + "/v1",
        model_name="weather-one",
        supports_tools="no",
        supports_json_schema="no",
    )
    assert (llm.supports_tools(), llm.supports_json_schema()) == (False, False)
