"""The tool loop end to end through the ollama binding, against the scripted-tools model of the test server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lollms_core.errors import NotSupportedError
from lollms_core.tools import run_tool_loop
from ollama_test_server import OllamaTestServer

Make = Callable[..., Any]
TEMPERATURES = {"New York": "22°C", "London": "15°C"}
CONDITIONS = {"New York": "Partly cloudy", "London": "Rainy"}
CALLED: list[tuple[str, str]] = []


def get_temperature(city: str) -> str:
    """Get the current temperature for a city.

    Args:
        city: The name of the city
    """
    CALLED.append(("get_temperature", city))
    return TEMPERATURES.get(city, "Unknown")


def get_conditions(city: str) -> str:
    """Get the current weather conditions for a city.

    Args:
        city: The name of the city
    """
    CALLED.append(("get_conditions", city))
    return CONDITIONS.get(city, "Unknown")


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLED.clear()


def test_single_call_round_trip(make_binding: Make, ollama_server: OllamaTestServer) -> None:
    run = run_tool_loop(
        make_binding(model_name="scripted-tools"), "What is the temperature in New York?", [get_temperature]
    )
    assert CALLED == [("get_temperature", "New York")]
    assert run.tool_calls[0].id.startswith("call_")  # synthesised: Ollama gives none
    assert run.response == "The tools said: get_temperature=22°C"
    sent = ollama_server.records.last("/api/chat")["body"]["messages"]
    assert sent[-1] == {"role": "tool", "content": "22°C", "tool_name": "get_temperature"}
    assert sent[-2]["tool_calls"][0]["function"]["arguments"] == {"city": "New York"}


def test_parallel_calls_round_trip(make_binding: Make) -> None:
    run = run_tool_loop(
        make_binding(model_name="scripted-tools"),
        "What are the current weather conditions and temperature in New York and London?",
        [get_temperature, get_conditions],
    )
    assert CALLED == [
        ("get_temperature", "New York"),
        ("get_conditions", "New York"),
        ("get_temperature", "London"),
        ("get_conditions", "London"),
    ]
    assert run.response == (
        "The tools said: get_temperature=22°C; get_conditions=Partly cloudy; get_temperature=15°C; get_conditions=Rainy"
    )


def test_a_model_without_tools_is_refused_before_any_request(
    make_binding: Make, ollama_server: OllamaTestServer
) -> None:
    before = ollama_server.records.hits["/api/chat"]
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        run_tool_loop(make_binding(), "What is the temperature in New York?", [get_temperature])
    assert ollama_server.records.hits["/api/chat"] == before
