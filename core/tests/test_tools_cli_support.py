"""``--tool`` values, tool events on the terminal, and approval (the command line only wires these)."""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import pytest
from lollms_core import MSG_TYPE, ToolCall
from lollms_core.errors import ConfigError
from lollms_core.tools import Tool, ToolSet
from lollms_core.tools._cli_support import ask_before_call, load_tool_specs, show_tool_event


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "cli_tools_mod.py").write_text(
        textwrap.dedent(
            '''
            def shout(text: str) -> str:
                """Upper-case a text."""
                return text.upper()

            class Box:
                def put(self, item: str) -> str:
                    """Put an item in the box."""
                    return f"put {item}"
            '''
        )
    )
    (tmp_path / "cli_tools_broken.py").write_text("raise RuntimeError('broken at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "cli_tools_mod"
    for name in ("cli_tools_mod", "cli_tools_broken"):
        sys.modules.pop(name, None)


def test_module_function_class_and_names(module: str) -> None:
    found = load_tool_specs([f"{module}:shout", f"{module}:Box", "files::read"])
    assert found[0].__name__ == "shout"
    assert type(found[1]).__name__ == "Box"
    assert found[2] == "files::read", "a bare name is left to the tools binding"
    tools = ToolSet(found[:2])
    assert sorted(tools.tools) == ["put", "shout"]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("cli_tools_mod:nope", "module 'cli_tools_mod' has no 'nope'; it has: Box, shout"),
        ("cli_tools_broken:f", "cannot import module 'cli_tools_broken': RuntimeError: broken at import"),
        ("no_such_module_here:f", "cannot import module 'no_such_module_here': ModuleNotFoundError"),
        (":f", "expected MODULE:FUNCTION"),
        ("cli_tools_mod:", "expected MODULE:FUNCTION"),
    ],
)
def test_bad_specs_are_named(module: str, spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_tool_specs([spec])
    assert fragment in str(caught.value)
    assert "pip install" not in str(caught.value), "never suggest installing a name the user typed"


def test_events_are_shown_one_line_each() -> None:
    out = io.StringIO()
    call = {"tool_call": {"id": "c1", "name": "shout", "arguments": {"text": "hi"}}}
    result = {"tool_result": {"call_id": "c1", "name": "shout", "content": "HI\nTHERE", "is_error": False}}
    assert show_tool_event(MSG_TYPE.MSG_TYPE_TOOL_CALL, call, out)
    assert show_tool_event(MSG_TYPE.MSG_TYPE_TOOL_OUTPUT, result, out)
    assert not show_tool_event(MSG_TYPE.MSG_TYPE_CHUNK, {}, out)
    assert out.getvalue() == '\n[tool call] shout({"text": "hi"})\n[tool result] shout: HI THERE\n'


def test_approval_runs_only_on_yes() -> None:
    answers = iter(["y\n", "n\n", "\n"])
    out = io.StringIO()
    ask = ask_before_call(lambda: next(answers), out)
    call = ToolCall("c1", "shout", {"text": "hi"})
    assert [ask(call), ask(call), ask(call)] == [True, False, False]
    assert out.getvalue().count('run shout({"text": "hi"})? [y/N] ') == 3
    assert isinstance(Tool, type)
