"""The tool loop end to end on the in-process engine: SmolLM2 calls a Python tool in prompt mode."""

from __future__ import annotations

from typing import Any

import pytest
from lollms_core.errors import NotSupportedError
from lollms_core.tools import run_tool_loop

CALLED: list[str] = []


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city name, e.g. Paris
    """
    CALLED.append(city)
    return f"It is sunny and 21°C in {city}."


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLED.clear()


def test_prompt_mode_required_gives_real_calls_and_an_answer(shared_binding: Any) -> None:
    run = run_tool_loop(
        shared_binding,
        "What is the weather in Paris? Use the tool.",
        [get_weather],
        tool_mode="prompt",
        tool_choice="required",
        max_tool_rounds=2,
        temperature=0,
        n_predict=80,
    )
    assert run.tool_calls and run.tool_calls[0].name == "get_weather"
    assert CALLED and isinstance(CALLED[0], str)  # the Python function ran with the model's argument
    assert run.tool_results[0].content.startswith("It is sunny")
    assert run.rounds >= 2 and isinstance(run.response, str)


def test_native_auto_is_refused_naming_the_fix(shared_binding: Any) -> None:
    with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        run_tool_loop(shared_binding, "What is the weather in Paris?", [get_weather])
    assert CALLED == []
