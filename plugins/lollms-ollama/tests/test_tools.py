"""Tool calling and json_schema on /api/chat, against the test server's scripted-tools model.

The scripted model replays Ollama's published tool examples (ollama_tool_script.py). The binding's
primitive is checked directly: what it sends, and the deltas it yields for the core to assemble.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from lollms_core.errors import BackendError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta, ToolDefinition
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]
CITY = {
    "type": "object",
    "required": ["city"],
    "properties": {"city": {"type": "string", "description": "The name of the city"}},
}
TEMPERATURE = ToolDefinition("get_temperature", "Get the current temperature for a city", CITY)
CONDITIONS = ToolDefinition("get_conditions", "Get the current weather conditions for a city", CITY)
WEATHER = ToolDefinition(
    "get_current_weather",
    "Get the current weather for a location",
    {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The location to get the weather for, e.g. San Francisco, CA",
            },
            "format": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "format"],
    },
)
TOOLS_MODEL = "scripted-tools"


def _request(*tools: ToolDefinition, streaming: bool = True, **fields: Any) -> ChatRequest:
    messages = fields.pop("messages", [{"role": "user", "content": "What is the temperature in New York?"}])
    return ChatRequest(messages=messages, model=TOOLS_MODEL, tools=tools, streaming=streaming, **fields)


def _collect(binding: Any, request: ChatRequest) -> tuple[list[ToolCallDelta], str, dict[str, Any]]:
    deltas, text, meta = [], "", {}
    for item in binding._stream(request):
        if isinstance(item, ToolCallDelta):
            deltas.append(item)
        else:
            assert isinstance(item, Chunk)
            text += item.text
            meta.update(item.meta or {})
    return deltas, text, meta


def _calls(deltas: list[ToolCallDelta]) -> list[tuple[int, str | None, dict[str, Any]]]:
    return [(d.index, d.name, json.loads(d.arguments)) for d in deltas]


def test_streamed_call_arrives_before_the_separate_done_chunk(
    make_binding: Make, ollama_server: OllamaTestServer
) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)
    deltas, text, meta = _collect(binding, _request(TEMPERATURE))
    assert _calls(deltas) == [(0, "get_temperature", {"city": "New York"})]
    assert deltas[0].id is None  # Ollama gives no id: the core synthesises one
    assert text == ""
    # The done chunk came after, with its statistics; Ollama's "stop" is reported as "tool_calls".
    assert meta["finish_reason"] == "tool_calls"
    assert meta["usage"]["completion_tokens"] == 33
    sent = ollama_server.records.last("/api/chat")["body"]
    assert sent["tools"] == [TEMPERATURE.to_openai()]
    assert sent["stream"] is True


def test_parallel_calls_are_numbered_in_order(make_binding: Make) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)
    deltas, _, _ = _collect(binding, _request(TEMPERATURE, CONDITIONS))
    assert _calls(deltas) == [
        (0, "get_temperature", {"city": "New York"}),
        (1, "get_conditions", {"city": "New York"}),
        (2, "get_temperature", {"city": "London"}),
        (3, "get_conditions", {"city": "London"}),
    ]


def test_non_streamed_answer_is_api_md_s_example(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)
    deltas, _, meta = _collect(binding, _request(WEATHER, streaming=False))
    assert _calls(deltas) == [(0, "get_current_weather", {"format": "celsius", "location": "Paris, FR"})]
    assert meta["finish_reason"] == "tool_calls"
    assert ollama_server.records.last("/api/chat")["body"]["stream"] is False


def test_async_primitive_yields_the_same_calls(make_binding: Make) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)

    async def collect() -> list[ToolCallDelta]:
        return [d async for d in binding._astream(_request(TEMPERATURE, CONDITIONS)) if isinstance(d, ToolCallDelta)]

    assert [d.index for d in asyncio.run(collect())] == [0, 1, 2, 3]


def test_calls_and_results_go_back_as_ollama_wants_them(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)
    history = [
        {"role": "user", "content": "What is the temperature in New York?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_temperature", "arguments": '{"city": "New York"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "get_temperature", "content": "22°C"},
    ]
    deltas, text, meta = _collect(binding, _request(TEMPERATURE, messages=history))
    assert deltas == []
    assert text == "The tools said: get_temperature=22°C"
    assert meta["finish_reason"] == "stop"
    sent = ollama_server.records.last("/api/chat")["body"]["messages"]
    # Published shape: arguments as an object, the result named by tool_name.
    assert sent[1]["tool_calls"] == [
        {"type": "function", "function": {"index": 0, "name": "get_temperature", "arguments": {"city": "New York"}}}
    ]
    assert sent[2] == {"role": "tool", "content": "22°C", "tool_name": "get_temperature"}


@pytest.mark.parametrize(
    ("choice", "sent_names"),
    [("get_conditions", ["get_conditions"]), ("none", None), ("auto", ["get_temperature", "get_conditions"])],
)
def test_tool_choice_without_an_ollama_field(
    make_binding: Make, ollama_server: OllamaTestServer, choice: str, sent_names: list[str] | None
) -> None:
    binding = make_binding(model_name=TOOLS_MODEL)
    _collect(binding, _request(TEMPERATURE, CONDITIONS, tool_choice=choice))
    sent = ollama_server.records.last("/api/chat")["body"]
    names = [t["function"]["name"] for t in sent["tools"]] if "tools" in sent else None
    assert names == sent_names
    assert "tool_choice" not in sent


def test_a_model_without_tools_is_refused_by_the_server_and_known_beforehand(make_binding: Make) -> None:
    binding = make_binding()  # the real SmolLM2 behind the server: capabilities ["completion"]
    assert binding.supports_tools() is False
    assert binding.get_model_info()["supports_tools"] is False
    assert make_binding(model_name=TOOLS_MODEL).supports_tools() is True
    with pytest.raises(BackendError, match="does not support tools"):
        _collect(binding, ChatRequest(messages=[{"role": "user", "content": "hi"}], tools=(TEMPERATURE,)))


def test_json_schema_is_sent_as_format_and_constrains_the_real_engine(
    make_binding: Make, ollama_server: OllamaTestServer
) -> None:
    binding = make_binding()
    assert binding.supports_json_schema() is True
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    request = ChatRequest(
        messages=[{"role": "user", "content": "Invent a person called Echo who is 20 years old."}],
        options=binding.build_request("x", temperature=0, n_predict=60).options,
        json_schema=schema,
    )
    _, text, _ = _collect(binding, request)
    assert ollama_server.records.last("/api/chat")["body"]["format"] == schema
    value = json.loads(text)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
