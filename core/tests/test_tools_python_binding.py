"""The built-in ``python`` tools binding, the conformance kit's tools suite on it, and tools bindings in the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from lollms_core import LollmsLLMBindingManager, LollmsToolBindingManager
from lollms_core.errors import ConfigError
from lollms_core.testing import ToolBindingTests
from lollms_core.tools import run_tool_loop
from lollms_core.tools._binding_tools import BindingTool, ToolBindings


def python_tools(*functions: str) -> Any:
    return LollmsToolBindingManager().create_binding("python", functions=list(functions))


class TestPythonTools(ToolBindingTests):
    @pytest.fixture(scope="class")
    @classmethod
    def binding(cls) -> Iterator[Any]:
        made = python_tools("_tools_sample:*")
        yield made
        made.close()

    @pytest.fixture
    def tool_call(self) -> tuple[str, dict[str, Any], str]:
        return "add", {"a": 40, "b": 2}, "42"

    @pytest.fixture
    def failing_binding(self) -> Any:
        """Its ``add`` raises: the call is an error result (500), never an exception."""
        return python_tools("_tools_broken:add")

    @pytest.fixture
    def config_for_validation(self) -> dict[str, Any]:
        return {"functions": ["_tools_sample:add"]}


def test_star_offers_the_public_functions_the_module_defines() -> None:
    names = [t["name"] for t in python_tools("_tools_sample:*").list_tools()]
    assert names == ["add", "shout", "slow_echo", "explode"]


def test_one_function_with_its_schema_from_the_docstring() -> None:
    (listed,) = python_tools("_tools_sample:add").list_tools()
    assert listed["description"] == "Add two integers."
    assert listed["parameters"]["properties"]["a"] == {"type": "integer", "description": "the first number"}
    assert listed["parameters"]["required"] == ["a", "b"]


def test_arguments_are_checked_against_the_schema() -> None:
    out = python_tools("_tools_sample:add").execute_tool("add", {"a": 1, "b": "two"})
    assert out["status_code"] == 500
    assert "expected integer" in out["error"]


def test_async_functions_run_natively() -> None:
    binding = python_tools("_tools_sample:slow_echo")
    assert asyncio.run(binding.aexecute_tool("slow_echo", {"text": "hi"})) == {"output": "hi", "status_code": 200}
    assert binding.execute_tool("slow_echo", {"text": "hi"})["output"] == "hi"


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        (["_tools_sample"], "not MODULE:FUNCTION or MODULE:\\*"),
        (["no_such_module_xyz:f"], "cannot import module 'no_such_module_xyz'"),
        (["_tools_sample:nope"], "has no 'nope'; it has: add, explode, shout, slow_echo"),
        (["_tools_sample:add", "_tools_broken:add"], "two tools are named 'add'"),
        (["_tools_sample:add", "_tools_sample:*"], "two tools are named 'add'"),
    ],
)
def test_bad_function_paths_are_config_errors(functions: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        python_tools(*functions)


def test_a_function_whose_types_have_no_json_form_is_a_config_error(tmp_path: Any) -> None:
    (tmp_path / "_tools_paths.py").write_text("from pathlib import Path\n\ndef size(p: Path) -> int:\n    return 0\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ConfigError, match="'Path' has no JSON form"):
            python_tools("_tools_paths:*")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_bad_path_never_suggests_pip_install() -> None:
    with pytest.raises(ConfigError) as info:
        python_tools("no_such_module_xyz:f")
    assert "pip" not in str(info.value)


# -- several tools bindings at once, namespaced by alias, in the tool loop -----------------


@pytest.fixture
def several() -> Iterator[ToolBindings]:
    made = ToolBindings.create(
        {"math": "python", "words": "python"},
        {
            "math": {"functions": ["_tools_sample:add"]},
            "words": {"functions": ["_tools_sample:shout", "_tools_sample:add"]},
        },
    )
    yield made
    made.close()


def test_each_binding_is_namespaced_by_its_alias(several: ToolBindings) -> None:
    assert [(t["name"], t["binding"]) for t in several.list_tools()] == [
        ("math::add", "math"),
        ("words::shout", "words"),
        ("words::add", "words"),
    ]


def test_names_resolve_qualified_bare_or_by_alias(several: ToolBindings) -> None:
    assert [t.name for t in several.resolve("math::add")] == ["math::add"]
    assert [t.name for t in several.resolve("shout")] == ["words::shout"]  # one binding has it
    assert [t.name for t in several.resolve("words::*")] == ["words::shout", "words::add"]
    with pytest.raises(ConfigError, match="several tools bindings: say which, math::add or words::add"):
        several.resolve("add")
    with pytest.raises(ConfigError, match="did you mean words::shout"):
        several.resolve("words::shuot")


def test_a_binding_tool_runs_through_its_binding(several: ToolBindings) -> None:
    (tool,) = several.resolve("math::add")
    assert isinstance(tool, BindingTool)
    result = tool.invoke({"a": 2, "b": 3}, "call_7")
    assert (result.call_id, result.name, result.content, result.is_error) == ("call_7", "math::add", "5", False)
    bad = tool.invoke({"a": "x", "b": 3}, "call_8")
    assert bad.is_error
    assert "Invalid arguments for tool 'math::add'" in bad.content
    assert asyncio.run(tool.ainvoke({"a": 1, "b": 1}, "c")).content == "2"


def test_the_loop_calls_a_tools_binding_tool_by_name(several: ToolBindings) -> None:
    """The echo LLM follows a /call script: the model calls math::add (mapped on the wire), gets 5, answers."""
    llm = LollmsLLMBindingManager().create_binding("echo")
    run = run_tool_loop(
        llm, '/call math::add {"a": 2, "b": 3}', ["math::add", "shout"], resolve=several.resolve, tool_mode="native"
    )
    view = run.as_dict() if hasattr(run, "as_dict") else run
    assert [r.content for r in run.tool_results] == ["5"]
    assert [c.name for c in run.tool_calls] == ["math::add"]
    assert "5" in run.response, view


def test_configs_are_checked_before_anything_is_built() -> None:
    with pytest.raises(ConfigError, match="not aliases"):
        ToolBindings.create({"a": "python"}, {"b": {}})
    with pytest.raises(ConfigError, match="must be a binding name"):
        ToolBindings.create(42)


# -- LollmsClient(tools_binding_name=..., tools_binding_config=...) -------------------------------


def test_the_client_builds_its_tools_binding_as_lollms_client_does() -> None:
    from lollms_core import LollmsClient

    client = LollmsClient(
        llm_binding_name="echo", tools_binding_name="python", tools_binding_config={"functions": ["_tools_sample:add"]}
    )
    assert client.tools is not None
    assert client.tools.execute_tool("add", {"a": 1, "b": 2}) == {"output": 3, "status_code": 200}
    assert client.tools_bindings is not None
    assert [t["name"] for t in client.tools_bindings.list_tools()] == ["python::add"]
    assert client.llm is not None
    run = run_tool_loop(
        client.llm, '/call python::add {"a": 20, "b": 22}', ["add"], resolve=client.tools_bindings.resolve
    )
    assert [r.content for r in run.tool_results] == ["42"]
    client.close()


def test_the_client_takes_several_tools_bindings_under_aliases() -> None:
    from lollms_core import LollmsClient

    client = LollmsClient(
        llm_binding_name="echo",
        tools_binding_name={"math": "python", "words": "python"},
        tools_binding_config={
            "math": {"functions": ["_tools_sample:add"]},
            "words": {"functions": ["_tools_sample:shout"]},
        },
    )
    assert client.tools is None, "several: use client.tools_bindings"
    assert client.tools_bindings is not None
    assert [t.name for t in client.tools_bindings.tools()] == ["math::add", "words::shout"]
    client.close()


def test_the_client_checks_its_tools_arguments() -> None:
    from lollms_core import LollmsClient
    from lollms_core.errors import NotSupportedError

    with pytest.raises(ConfigError, match="tools_binding_config was given without tools_binding_name"):
        LollmsClient(llm_binding_name="echo", tools_binding_config={"functions": []})
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module_xyz'"):
        LollmsClient(
            llm_binding_name="echo",
            tools_binding_name="python",
            tools_binding_config={"functions": ["no_such_module_xyz:f"]},
        )
    with pytest.raises(NotSupportedError, match="rag bindings are not offered"):
        LollmsClient(llm_binding_name="echo", rag_binding_name="x")
