"""Tool calling and structured output on the wire, with the real ``openai`` SDK (the echo follows a /call script)."""

from __future__ import annotations

import json

import openai
import pytest

from .conftest import Running

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ASK = [{"role": "user", "content": '/call get_weather {"city": "Paris"}'}]


@pytest.fixture
def client(serve) -> openai.OpenAI:  # type: ignore[no-untyped-def]
    server: Running = serve(
        {"models": {"echo": {"binding": "echo"}, "plain": {"binding": "echo", "config": {"tool_calling": "none"}}}}
    )
    return openai.OpenAI(base_url=server.v1, api_key="x", max_retries=0)


def test_a_tool_call_comes_back_as_openai_tool_calls(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model="echo", messages=ASK, tools=[WEATHER])  # type: ignore[list-item]
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = (choice.message.tool_calls or [])[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_streamed_tool_calls_and_the_result_taken_back(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="echo", messages=ASK, tools=[WEATHER], stream=True))  # type: ignore[list-item]
    deltas = [d for c in chunks if c.choices for d in (c.choices[0].delta.tool_calls or [])]
    assert [d.function.name for d in deltas if d.function] == ["get_weather"]
    assert json.loads(deltas[0].function.arguments or "") == {"city": "Paris"}  # type: ignore[union-attr]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [{"id": deltas[0].id, "type": "function",
                                                               "function": {"name": "get_weather",
                                                                            "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": deltas[0].id, "content": "sunny, 21 C"},
    ]  # fmt: skip
    final = client.chat.completions.create(model="echo", messages=history, tools=[WEATHER])  # type: ignore[arg-type,list-item]
    assert final.choices[0].message.content == "sunny, 21 C" and final.choices[0].finish_reason == "stop"


def test_tool_choice_by_name_forces_the_call(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "anything"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert (answer.choices[0].message.tool_calls or [])[0].function.name == "get_weather"


def test_response_format_json_schema_constrains_the_answer(client: openai.OpenAI) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}  # fmt: skip
    answer = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "Describe someone"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    value = json.loads(answer.choices[0].message.content or "")
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)


def test_a_model_without_tool_calling_refuses_tools_with_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="plain", messages=ASK, tools=[WEATHER])  # type: ignore[list-item]
    assert "no native tool calling" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="echo", messages=ASK, response_format={"type": "xml"})  # type: ignore[arg-type,typeddict-item]
    assert info.value.param == "response_format"
