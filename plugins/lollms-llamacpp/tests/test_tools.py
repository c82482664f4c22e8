"""Tools and structured output on the in-process engine (SmolLM2: its template has no tool support).

Measured: llama.cpp then evaluates the prompt without the tools and answers in prose, silently, even
with ``tool_choice: "required"``. The binding reads the template's capabilities from the engine and
refuses instead; ``json_schema`` does constrain decoding.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from lollms_core.errors import NotSupportedError
from lollms_core.types import ChatRequest, Chunk, ToolCallDelta, ToolDefinition
from lollms_llamacpp.llm.wire import chat_body, chunks_from_frame

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TEMPERATURE = ToolDefinition("get_temperature", "Get the current temperature for a city", CITY)
CONDITIONS = ToolDefinition("get_conditions", "Get the current weather conditions for a city", CITY)
ASK = [{"role": "user", "content": "What is the temperature in New York?"}]


def test_template_caps_are_read_from_the_engine(shared_binding: Any) -> None:
    assert shared_binding.supports_tools() is False
    assert shared_binding.supports_json_schema() is True
    info = shared_binding.get_model_info()
    assert (info["supports_tools"], info["supports_structured_output"]) == (False, True)


@pytest.mark.parametrize("choice", [None, "auto", "required", "get_temperature"])
def test_tools_on_a_template_without_them_is_refused_naming_the_fix(shared_binding: Any, choice: str | None) -> None:
    request = ChatRequest(messages=ASK, tools=(TEMPERATURE,), tool_choice=choice)
    with pytest.raises(NotSupportedError, match=r"no tool support.*tool_mode='prompt'"):
        list(shared_binding._stream(request))


def test_tool_choice_none_is_a_plain_answer(shared_binding: Any) -> None:
    request = ChatRequest(
        messages=ASK,
        tools=(TEMPERATURE,),
        tool_choice="none",
        options=shared_binding.build_request("x", n_predict=4, temperature=0).options,
    )
    assert "".join(c.text for c in shared_binding._stream(request) if isinstance(c, Chunk))


def test_json_schema_constrains_the_engine(shared_binding: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    request = ChatRequest(
        messages=[{"role": "user", "content": "Invent a person named Echo aged 20."}],
        options=shared_binding.build_request("x", n_predict=60, temperature=0).options,
        json_schema=schema,
    )
    value = json.loads("".join(c.text for c in shared_binding._stream(request) if isinstance(c, Chunk)))
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


def test_named_choice_is_sent_as_that_one_tool_and_required() -> None:
    body = chat_body(ChatRequest(messages=ASK, tools=(TEMPERATURE, CONDITIONS), tool_choice="get_conditions"))
    assert body["tools"] == [CONDITIONS.to_openai()]
    assert body["tool_choice"] == "required"
    body = chat_body(ChatRequest(messages=ASK, tools=(TEMPERATURE, CONDITIONS), parallel_tool_calls=False))
    assert [t["function"]["name"] for t in body["tools"]] == ["get_temperature", "get_conditions"]
    assert "tool_choice" not in body and body["parallel_tool_calls"] is False
    assert "tools" not in chat_body(ChatRequest(messages=ASK, tools=(TEMPERATURE,), tool_choice="none"))


def test_history_calls_go_to_the_engine_as_json_text() -> None:
    history = [
        *ASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_temperature", "arguments": {"city": "NY"}}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "get_temperature", "content": "22°C"},
    ]
    sent = chat_body(ChatRequest(messages=history))["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "NY"}'
    assert sent[2]["role"] == "tool" and sent[2]["tool_call_id"] == "c1"


def test_streamed_call_fragments_become_deltas() -> None:
    # llama.cpp streams calls in OpenAI's shape: id/name in the first fragment, arguments split after.
    frames = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "x1",
                                "type": "function",
                                "function": {"name": "get_temperature", "arguments": ""},
                            }
                        ]
                    },
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"NY"}'}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    out = [item for frame in frames for item in chunks_from_frame(frame)]
    deltas = [d for d in out if isinstance(d, ToolCallDelta)]
    assert deltas[0] == ToolCallDelta(0, "x1", "get_temperature", "")
    assert json.loads("".join(d.arguments for d in deltas)) == {"city": "NY"}
    assert out[-1].meta == {"finish_reason": "tool_calls"}  # type: ignore[union-attr]


def test_structured_output_uses_the_engine_s_constrained_decoding(shared_binding: Any) -> None:
    from lollms_core.tools.structured import generate_structured

    value = generate_structured(
        shared_binding,
        [{"role": "user", "content": "Invent a person named Echo aged 20."}],
        {"name": "string", "age": "integer"},  # lollms_client's template style
        n_predict=60,
        temperature=0,
    )
    assert isinstance(value["name"], str) and isinstance(value["age"], int)
