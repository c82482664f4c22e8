"""The tool loop end to end through the openai binding: a model calls a Python tool, gets the result, answers.

Native calls: the fake built from OpenAI's published examples (tests/servers/tool_calls_server.py),
whose second answer quotes the tool results it was sent. Prompt mode: the real llama.cpp server with
SmolLM2 (no native tools), its answers constrained by the JSON Schema of the calls.
"""

from __future__ import annotations

from typing import Any

import pytest
from lollms_core.errors import NotSupportedError
from lollms_core.tools import run_tool_loop
from lollms_core.types import MSG_TYPE

CALLED: list[tuple[str, dict[str, Any]]] = []


def get_weather(location: str) -> str:
    """Get current temperature for a given location.

    Args:
        location: City and country e.g. Bogotá, Colombia
    """
    CALLED.append(("get_weather", {"location": location}))
    return f"14°C in {location}"


def send_email(to: str, body: str) -> str:
    """Send an email.

    Args:
        to: the address
        body: the text
    """
    CALLED.append(("send_email", {"to": to, "body": body}))
    return "sent"


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLED.clear()


def _fake(make_binding: Any, server: Any, model: str) -> Any:
    return make_binding("LLM", host_address=server.base_url + "/v1", model_name=model)


@pytest.mark.parametrize("streamed", [False, True])
def test_native_round_trip_on_the_documented_wire(make_binding: Any, tool_calls_server: Any, streamed: bool) -> None:
    llm = _fake(make_binding, tool_calls_server, "weather-one")
    events: list[tuple[MSG_TYPE, dict[str, Any]]] = []

    def callback(chunk: str, kind: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool:
        events.append((kind, dict(meta or {})))
        return True

    run = run_tool_loop(
        llm, "What's the weather like in Paris today?", [get_weather], streaming_callback=callback if streamed else None
    )
    assert CALLED == [("get_weather", {"location": "Paris, France"})]
    assert run.tool_calls[0].id == "call_DdmO9pD3xa9XTPNJ32zg2hcA"
    # The second request carried the result back; the fake's answer quotes it.
    assert run.response.strip() == "The tools said: call_DdmO9pD3xa9XTPNJ32zg2hcA=14°C in Paris, France"
    assert run.rounds == 2
    if streamed:
        kinds = [k for k, _ in events]
        assert MSG_TYPE.MSG_TYPE_TOOL_CALL in kinds and MSG_TYPE.MSG_TYPE_TOOL_OUTPUT in kinds


def test_parallel_calls_each_run_and_return_in_call_order(make_binding: Any, tool_calls_server: Any) -> None:
    llm = _fake(make_binding, tool_calls_server, "weather-parallel")
    run = run_tool_loop(llm, "Weather in Paris and Bogotá, and mail bob", [get_weather, send_email])
    assert [name for name, _ in CALLED] == ["get_weather", "get_weather", "send_email"]
    assert [r.call_id for r in run.tool_results] == ["call_12345xyz", "call_67890abc", "call_99999def"]
    assert "call_99999def=sent" in run.response


def test_broken_arguments_go_back_to_the_model_as_an_error(make_binding: Any, tool_calls_server: Any) -> None:
    llm = _fake(make_binding, tool_calls_server, "weather-broken")
    run = run_tool_loop(llm, "Weather?", [get_weather], max_tool_rounds=1)
    assert CALLED == []
    assert run.tool_results[0].is_error


def test_prompt_mode_required_makes_real_calls_on_llama_cpp(make_llm: Any) -> None:
    llm = make_llm()
    run = run_tool_loop(
        llm,
        "What is the weather in Paris? Use the tool.",
        [get_weather],
        tool_mode="prompt",
        tool_choice="required",
        max_tool_rounds=2,
        temperature=0,
        n_predict=80,
    )
    assert run.tool_calls and run.tool_calls[0].name == "get_weather"
    assert CALLED and isinstance(CALLED[0][1]["location"], str)  # the Python function really ran
    assert run.tool_results[0].content.startswith("14°C in ")


def test_native_auto_on_llama_cpp_is_refused_naming_the_fix(make_llm: Any) -> None:
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        run_tool_loop(make_llm(), "What is the weather in Paris?", [get_weather])
    assert CALLED == []
