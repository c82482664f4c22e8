"""Conformance suite of tools bindings: listing shapes, the dict surface, typed results, errors, async twins."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from ..errors import ConfigError, ToolNotFoundError
from ..types import Modality, ToolDefinition, ToolResult
from ._common import BindingTestsBase

__all__ = ["ToolBindingTests"]


class ToolBindingTests(BindingTestsBase):
    """The standard tests of a tools binding (``LollmsToolBinding``).

    Fixtures to provide besides ``binding``:

    * ``tool_call`` — ``(tool_name, arguments, expected)``: a call that succeeds and whose
      result text contains ``expected``;
    * optional ``failing_binding`` — a binding whose backend is broken: its calls must come
      back as error dicts (status >= 500) from ``execute_tool`` and never raise.
    """

    modality: ClassVar[Modality] = Modality.TOOLS

    @pytest.fixture
    def tool_call(self) -> tuple[str, dict[str, Any], str]:
        """``(tool_name, arguments, expected text in the result)``; a plugin must override it."""
        pytest.skip("provide a tool_call fixture: (tool_name, arguments, expected substring)")

    # -- listing ----------------------------------------------------------------------------

    def test_list_tools_shape(self, binding: Any) -> None:
        """``list_tools()``: dicts with a unique str ``name``, str ``description`` and an object schema."""
        tools = binding.list_tools()
        assert isinstance(tools, list)
        assert tools, "list_tools() must list at least one tool"
        names = [t["name"] for t in tools]
        assert len(names) == len(set(names)), f"tool names repeat: {names}"
        for t in tools:
            assert set(t) >= {"name", "description", "parameters"}, f"{t!r} misses keys"
            assert isinstance(t["name"], str)
            assert t["name"]
            assert isinstance(t["description"], str)
            assert isinstance(t["parameters"], dict)
            assert t["parameters"].get("type", "object") == "object"

    def test_discover_tools_and_definitions_agree(self, binding: Any) -> None:
        """``discover_tools()`` (lollms_client's raw form, with ``input_schema``) and ``definitions()`` agree."""
        raw = binding.discover_tools()
        typed = binding.definitions()
        assert all(isinstance(d, ToolDefinition) for d in typed)
        assert [r["name"] for r in raw] == [d.name for d in typed] == [t["name"] for t in binding.list_tools()]
        for r, d in zip(raw, typed, strict=True):
            assert r["input_schema"] == r["parameters"] == d.parameters

    def test_async_listing_is_the_same(self, binding: Any) -> None:
        """``alist_tools()`` gives what ``list_tools()`` gives."""
        assert asyncio.run(binding.alist_tools()) == binding.list_tools()

    # -- calling ----------------------------------------------------------------------------

    def test_execute_tool_returns_output(self, binding: Any, tool_call: tuple[str, dict[str, Any], str]) -> None:
        """A good call: ``{"output": ..., "status_code": 200}`` whose output carries the expected text."""
        name, args, expected = tool_call
        out = binding.execute_tool(name, args)
        assert out.get("status_code") == 200, out
        assert "error" not in out, out
        assert expected in str(out["output"]), f"{expected!r} not in {out['output']!r}"

    def test_call_tool_is_typed(self, binding: Any, tool_call: tuple[str, dict[str, Any], str]) -> None:
        """``call_tool()`` returns a ToolResult with the given call id, not an error, with the expected text."""
        name, args, expected = tool_call
        result = binding.call_tool(name, args, call_id="call_conformance")
        assert isinstance(result, ToolResult)
        assert (result.call_id, result.name, result.is_error) == ("call_conformance", name, False)
        assert expected in result.content

    def test_async_call_is_the_same(self, binding: Any, tool_call: tuple[str, dict[str, Any], str]) -> None:
        """``aexecute_tool()`` gives what ``execute_tool()`` gives."""
        name, args, _ = tool_call
        assert asyncio.run(binding.aexecute_tool(name, args)) == binding.execute_tool(name, args)

    def test_unknown_tool(self, binding: Any) -> None:
        """An unknown name: 404 from ``execute_tool``; ``call_tool`` raises ToolNotFoundError listing the tools."""
        out = binding.execute_tool("no_such_tool_anywhere", {})
        assert out.get("status_code") == 404, out
        assert "no_such_tool_anywhere" in out["error"]
        with pytest.raises(ToolNotFoundError) as info:
            binding.call_tool("no_such_tool_anywhere", {})
        assert binding.list_tools()[0]["name"] in str(info.value)

    def test_arguments_must_be_a_dict(self, binding: Any, tool_call: tuple[str, dict[str, Any], str]) -> None:
        """Arguments that are not a dict: a 400 dict, a ConfigError from ``call_tool``."""
        name = tool_call[0]
        assert binding.execute_tool(name, ["not", "a", "dict"]).get("status_code") == 400
        with pytest.raises(ConfigError, match="dict"):
            binding.call_tool(name, "text")

    def test_broken_backend_is_an_error_dict(
        self, failing_binding: Any, tool_call: tuple[str, dict[str, Any], str]
    ) -> None:
        """A broken backend never raises from ``execute_tool``: an error dict with a 5xx status."""
        if failing_binding is None:
            pytest.skip("no failing_binding fixture")
        out = failing_binding.execute_tool(tool_call[0], tool_call[1])
        assert "error" in out, out
        assert out.get("status_code", 0) >= 500, out
