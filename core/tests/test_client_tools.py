"""``LollmsClient.generate_with_tools`` / ``agenerate_with_tools``: thin doors onto the tool loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lollms_core import LollmsClient, ToolCall
from lollms_core.errors import ConfigError, GenerationCancelled


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture
def client() -> Any:
    with LollmsClient(llm_binding_name="echo") as made:
        yield made


def test_lollms_client_shape(client: Any) -> None:
    out = client.generate_with_tools('/call add {"a": 2, "b": 3}', [add], system_prompt="be exact")
    assert out["response"] == "5"
    assert out["rounds"] == 2
    assert out["tool_calls"][0]["parameters"] == {"a": 2, "b": 3}
    assert out["tool_results"][0]["result"] == {"output": "5", "success": True}
    assert out.messages[0] == {"role": "system", "content": "be exact"}


def test_async_twin(client: Any) -> None:
    out = asyncio.run(client.agenerate_with_tools('/call add {"a": 1, "b": 1}', [add]))
    assert out.response == "2"


def test_a_tool_name_without_a_tools_binding(client: Any) -> None:
    with pytest.raises(ConfigError, match="unknown tool 'files::read'"):
        client.generate_with_tools("hi", ["files::read"])


def test_cancel_stops_the_loop_between_rounds(client: Any) -> None:
    def cancel(call: ToolCall) -> bool:
        client.cancel()
        return True

    with pytest.raises(GenerationCancelled):
        client.generate_with_tools('/call add {"a": 2, "b": 3}', [add], before_call=cancel)
    assert client.generate_with_tools('/call add {"a": 2, "b": 3}', [add]).response == "5"


def test_pending_calls_resume_through_the_client(client: Any) -> None:
    first = client.generate_with_tools('/call add {"a": 2, "b": 3}', [add], auto_execute=False)
    assert first.pending_calls
    assert client.generate_with_tools(first, [add], tool_results=[5]).response == "5"


def test_tools_of_a_tools_binding_are_offered_by_alias_and_called_through_it() -> None:
    # Issue 22: generate_with_tools accepts "alias::tool" names served by a tools binding (here the
    # built-in python binding); the wire gets a valid mapped name and the call reaches execute_tool.
    from lollms_core.bindings._tool_stream import wire_name

    config = {"functions": ["test_client_tools:add"]}
    with LollmsClient(llm_binding_name="echo", tools_binding_name="python", tools_binding_config=config) as client:
        wire = wire_name("python::add")
        assert wire != "python::add" and all(c.isalnum() or c in "_-" for c in wire)
        out = client.generate_with_tools(f'/call {wire} {{"a": 20, "b": 22}}', ["python::add"])
        assert out["response"] == "42"
        assert out["tool_calls"][0]["name"] == "python::add"
        assert out["tool_calls"][0]["parameters"] == {"a": 20, "b": 22}


def test_the_binding_config_sets_the_default_tool_mode_and_a_call_overrides_it() -> None:
    # Issue 21: tool_mode per call and per binding config. An echo without native tools refuses
    # tool_mode='auto'; configured tool_mode=prompt it runs the loop through the prompt protocol.
    from lollms_core.errors import NotSupportedError

    plain = LollmsClient(llm_binding_name="echo", llm_binding_config={"tool_calling": "none"})
    with plain, pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
        plain.generate_with_tools('/call add {"a": 1, "b": 2}', [add])
    config = {"tool_calling": "none", "tool_mode": "prompt"}
    with LollmsClient(llm_binding_name="echo", llm_binding_config=config) as client:
        out = client.generate_with_tools('/call add {"a": 1, "b": 2}', [add])
        assert out["tool_calls"][0]["parameters"] == {"a": 1, "b": 2}
        assert out["tool_results"][0]["result"] == {"output": "3", "success": True}  # the tool ran
        with pytest.raises(NotSupportedError):
            client.generate_with_tools('/call add {"a": 1, "b": 2}', [add], tool_mode="native")
    with pytest.raises(ConfigError, match="tool_mode"):
        LollmsClient(llm_binding_name="echo", llm_binding_config={"tool_mode": "sometimes"})
