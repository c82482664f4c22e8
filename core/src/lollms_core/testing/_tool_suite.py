"""Tool-calling and structured-output checks of the LLM conformance suite.

A binding that says :meth:`~lollms_core.LollmsLLMBinding.supports_tools` must deliver the same
complete calls in every form and take results back; one that says
:meth:`~lollms_core.LollmsLLMBinding.supports_json_schema` must answer JSON that matches the
schema. A binding that says neither must refuse ``tools`` and ``json_schema`` with
:class:`~lollms_core.errors.NotSupportedError`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .._json_schema import schema_errors
from ..errors import NotSupportedError, ToolChoiceError
from ..types import MSG_TYPE, ToolDefinition, ToolResult

__all__ = ["PERSON_SCHEMA", "WEATHER_TOOL", "ToolCallingChecks"]

#: The tool the checks offer.
WEATHER_TOOL = ToolDefinition(
    "get_weather",
    "Get the current weather in a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "the city name, e.g. Paris"}},
        "required": ["city"],
    },
)

#: The schema the structured-output check asks for.
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


class ToolCallingChecks:
    """Mixed into :class:`~lollms_core.testing.LLMBindingTests`.

    Optional fixtures: ``tool_binding`` (default: ``binding``; e.g. a binding on a server that
    really emits tool calls), ``tool_prompt`` (a prompt that makes the model call
    ``get_weather``), ``structured_prompt``, ``generation_kwargs``.
    """

    @pytest.fixture
    def tool_binding(self, binding: Any) -> Any:
        """The binding the tool checks use."""
        return binding

    @pytest.fixture
    def tool_prompt(self) -> str:
        """A prompt the model answers by calling ``get_weather``."""
        return "What is the weather in Paris right now? Call the get_weather tool."

    @pytest.fixture
    def structured_prompt(self) -> str:
        """A prompt the model answers with a person's name and age."""
        return "Describe a person named Ana who is 30 years old, as JSON with her name and age."

    @staticmethod
    def _needs_tools(binding: Any) -> None:
        if not binding.supports_tools():
            pytest.skip("the binding does not declare tool calling")

    def test_model_info_declares_the_capabilities(self, tool_binding: Any) -> None:
        """``get_model_info()`` carries ``supports_tools`` / ``supports_structured_output`` as booleans."""
        info = tool_binding.get_model_info()
        assert isinstance(info.get("supports_tools"), bool), info
        assert isinstance(info.get("supports_structured_output"), bool), info

    def test_undeclared_capabilities_are_refused(self, tool_binding: Any, prompt: str) -> None:
        """``tools`` / ``json_schema`` to a binding that does not declare them: NotSupportedError, not ignored."""
        if not tool_binding.supports_tools():
            with pytest.raises(NotSupportedError, match="tool_mode='prompt'"):
                tool_binding.generate_text(prompt, tools=[WEATHER_TOOL])
        if not tool_binding.supports_json_schema():
            with pytest.raises(NotSupportedError):
                tool_binding.generate_text(prompt, json_schema=PERSON_SCHEMA)

    def test_required_tool_call_in_every_form(
        self, tool_binding: Any, tool_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """``tool_choice="required"``: complete calls, the same in every form (blocking, callback, iterator, async)."""
        self._needs_tools(tool_binding)
        kwargs = {**generation_kwargs, "n_predict": max(64, generation_kwargs.get("n_predict") or 0)}
        kwargs.update(tools=[WEATHER_TOOL], tool_choice="required")
        try:
            result = tool_binding.run(tool_binding.build_request(tool_prompt, **kwargs))
        except ToolChoiceError as exc:  # allowed: said, never a silent prose answer
            pytest.skip(f"the backend answered without a call and said so: {exc}")
        assert result.tool_calls, "tool_choice='required' gave neither a call nor ToolChoiceError"
        for call in result.tool_calls:
            assert call.name == "get_weather"
            assert isinstance(call.id, str)
            assert call.id
            assert isinstance(call.arguments, dict)
        names = [c.name for c in result.tool_calls]
        seen: list[dict[str, Any]] = []

        def callback(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool:
            if msg_type == MSG_TYPE.MSG_TYPE_TOOL_CALL:
                assert meta is not None
                seen.append(meta["tool_call"])
            return True

        tool_binding.generate_text(tool_prompt, streaming_callback=callback, **kwargs)
        assert [c["name"] for c in seen] == names, "the callback saw other calls than the blocking form"
        streamed = [
            c.meta["tool_call"]
            for c in tool_binding.stream(tool_prompt, **kwargs)
            if c.type == MSG_TYPE.MSG_TYPE_TOOL_CALL
        ]
        assert [c["name"] for c in streamed] == names
        again = asyncio.run(tool_binding.arun(tool_binding.build_request(tool_prompt, **kwargs)))
        assert [c.name for c in again.tool_calls] == names

    def test_a_tool_result_goes_back(
        self, tool_binding: Any, tool_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """A conversation holding a call and its result is accepted, and the model answers."""
        self._needs_tools(tool_binding)
        messages = [
            {"role": "user", "content": tool_prompt},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            ToolResult("call_1", "get_weather", "Sunny, 21 degrees.").to_message(),
        ]
        result = tool_binding.run(tool_binding.build_request(messages, tools=[WEATHER_TOOL], **generation_kwargs))
        assert result.text or result.tool_calls, "no answer after the tool result"

    def test_the_tool_loop_runs_end_to_end(
        self, tool_binding: Any, tool_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """The model calls a Python tool, gets its result and answers."""
        self._needs_tools(tool_binding)
        from ..tools import run_tool_loop

        cities: list[str] = []

        def get_weather(city: str) -> str:
            """Get the current weather in a city.

            :param city: the city name, e.g. Paris
            """
            cities.append(city)
            return f"Sunny, 21 degrees in {city}."

        try:
            run = run_tool_loop(
                tool_binding, tool_prompt, [get_weather], tool_choice="required", max_tool_rounds=2, **generation_kwargs
            )
        except ToolChoiceError as exc:
            pytest.skip(f"the backend answered without a call and said so: {exc}")
        assert run.tool_calls, "no call was made"
        assert len(run.tool_results) == len(run.tool_calls)
        assert run.rounds >= 2
        assert isinstance(run.response, str)

    def test_json_schema_constrains_the_answer(
        self, tool_binding: Any, structured_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """With ``json_schema`` the answer is JSON that matches it."""
        if not tool_binding.supports_json_schema():
            pytest.skip("the binding does not declare constrained output")
        kwargs = {**generation_kwargs, "n_predict": max(96, generation_kwargs.get("n_predict") or 0)}
        text = tool_binding.generate_text(structured_prompt, json_schema=PERSON_SCHEMA, **kwargs)
        assert isinstance(text, str), text
        value = json.loads(text)
        assert schema_errors(value, PERSON_SCHEMA) == [], text
