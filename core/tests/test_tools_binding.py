"""The tools modality's base (issue 22): one primitive, everything else derived, failures typed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lollms_core import (
    LollmsToolBinding,
    LollmsToolBindingManager,
    Modality,
    ToolDefinition,
    ToolNotFoundError,
    ToolResult,
    hookimpl,
)
from lollms_core.errors import BackendError, ConfigError, ToolServerError
from lollms_core.manifest import parse_manifest

SECRET = "sk-tools-test-SECRET-8b2c"
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}


class Calc(LollmsToolBinding):
    """A tools binding whose listing and tools a test can change."""

    manifest = parse_manifest(
        {
            "name": "calc",
            "modality": "tools",
            "description": "test tools",
            "input_parameters": [{"name": "key", "type": "str", "default": "", "is_secret": True, "description": "k"}],
        }
    )

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.listing: list[Any] = [
            {"name": "add", "description": "Add.", "parameters": SCHEMA},
            ToolDefinition("echo", "Echo the text.", {"type": "object", "properties": {"text": {"type": "string"}}}),
            {"name": "flat", "description": "lollms_client's flat list", "parameters": [
                {"name": "x", "type": "int", "description": "a number"},
                {"name": "y", "type": "str", "optional": True, "default": "d"},
            ]},
            {"name": "raw", "input_schema": {"type": "object", "properties": {}}},
        ]  # fmt: skip
        self.discoveries = 0

    def _discover_tools(self) -> list[Any]:
        self.discoveries += 1
        return self.listing

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        if name == "add":
            return {"sum": arguments["a"] + arguments["b"]}
        if name == "echo":
            if arguments.get("text") == "boom":
                raise ValueError(f"exploded with {SECRET}")
            if arguments.get("text") == "slow":
                time.sleep(2)
            if arguments.get("text") == "down":
                raise ToolServerError("the backend 'calc' is down", server="calc")
            return arguments.get("text", "")
        if name == "raw":
            return ToolResult("ignored", "ignored", "[image]", parts=({"type": "image", "mimeType": "image/png"},))
        return "ok"


@pytest.fixture
def calc() -> Calc:
    return Calc(key=SECRET)


def test_a_tools_binding_needs_both_primitives() -> None:
    manifest = parse_manifest({"name": "half", "modality": "tools", "description": "x"})
    half = type("Half", (LollmsToolBinding,), {"manifest": manifest, "_discover_tools": lambda self: []})
    with pytest.raises(TypeError, match=r"Half cannot be created: it does not implement _call_tool\(\)"):
        half()


def test_listing_shapes(calc: Calc) -> None:
    listed = calc.list_tools()
    assert [t["name"] for t in listed] == ["add", "echo", "flat", "raw"]
    assert listed[0] == {"name": "add", "description": "Add.", "parameters": SCHEMA}
    assert listed[2]["parameters"] == {
        "type": "object",
        "properties": {"x": {"type": "integer", "description": "a number"}, "y": {"type": "string", "default": "d"}},
        "required": ["x"],
    }
    raw = calc.discover_tools()
    assert raw[0]["input_schema"] == raw[0]["parameters"] == SCHEMA
    assert all(isinstance(d, ToolDefinition) for d in calc.definitions())
    assert calc.discoveries == 1, "the listing is cached"
    calc.list_tools(force_refresh=True)
    assert calc.discoveries == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"name": "t", "parameters": {"type": "array"}}, '\'t\' with an invalid schema: .*"type": "object"'),
        ({"name": "t", "parameters": {"type": "object", "properties": {"a": {"type": "strnig"}}}}, "unknown type"),
        ({"name": "t", "parameters": {"type": "object", "properties": {}, "required": ["z"]}}, "not in properties"),
        ({"name": "t", "parameters": "nope"}, "must be a JSON Schema object"),
        ({"name": "bad\nname"}, "printable"),
        ({"name": ""}, "printable"),
        (42, "not a tool definition"),
    ],
)
def test_an_invalid_listing_is_a_backend_error_naming_the_tool(calc: Calc, bad: Any, message: str) -> None:
    calc.listing = [bad]
    with pytest.raises(BackendError, match=message):
        calc.list_tools()


def test_a_tool_listed_twice_is_refused(calc: Calc) -> None:
    calc.listing = [{"name": "a"}, {"name": "a"}]
    with pytest.raises(BackendError, match="twice"):
        calc.list_tools()


def test_execute_tool_gives_lollms_clients_dicts(calc: Calc) -> None:
    assert calc.execute_tool("add", {"a": 2, "b": 3}) == {
        "output": {"sum": 5},
        "structured": {"sum": 5},
        "status_code": 200,
    }
    assert calc.execute_tool("echo", {"text": "[1, 2]"}) == {"output": [1, 2], "status_code": 200}
    assert calc.execute_tool("echo", {"text": "plain"}) == {"output": "plain", "status_code": 200}
    assert calc.execute_tool("raw", {})["parts"] == [{"type": "image", "mimeType": "image/png"}]


def test_call_tool_is_typed_and_keeps_the_call_id(calc: Calc) -> None:
    result = calc.call_tool("raw", {}, call_id="call_1")
    assert (result.call_id, result.name, result.content) == ("call_1", "raw", "[image]")
    assert calc.call_tool("add", {"a": 1, "b": 1}).call_id.startswith("call_")


def test_a_failing_tool_is_an_error_result_without_secrets(calc: Calc) -> None:
    result = calc.call_tool("echo", {"text": "boom"})
    assert result.is_error
    assert "ValueError: exploded with" in result.content
    assert SECRET not in result.content
    out = calc.execute_tool("echo", {"text": "boom"})
    assert out["status_code"] == 500
    assert SECRET not in out["error"]


def test_a_broken_backend_raises_from_call_tool_and_is_a_dict_from_execute_tool(calc: Calc) -> None:
    with pytest.raises(ToolServerError, match="'calc' is down"):
        calc.call_tool("echo", {"text": "down"})
    assert calc.execute_tool("echo", {"text": "down"}) == {"error": "the backend 'calc' is down", "status_code": 503}


def test_unknown_tools_are_named_with_close_matches(calc: Calc) -> None:
    with pytest.raises(
        ToolNotFoundError, match=r"no tool 'ad'; did you mean add\? \(it offers: add, echo, flat, raw\)"
    ):
        calc.call_tool("ad", {})
    assert calc.execute_tool("nope", {})["status_code"] == 404


def test_a_tool_that_appeared_is_found_after_one_refresh(calc: Calc) -> None:
    calc.list_tools()
    calc.listing = [*calc.listing, {"name": "new"}]
    assert calc.call_tool("new", {}).content == "ok"
    assert calc.discoveries == 2


@pytest.mark.parametrize("arguments", [["a"], "text", 3])
def test_arguments_must_be_a_dict(calc: Calc, arguments: Any) -> None:
    with pytest.raises(ConfigError, match="must be a dict"):
        calc.call_tool("add", arguments)
    assert calc.execute_tool("add", arguments)["status_code"] == 400


def test_a_timeout_bounds_the_call(calc: Calc) -> None:
    t0 = time.monotonic()
    out = calc.execute_tool("echo", {"text": "slow"}, timeout=0.2)
    assert time.monotonic() - t0 < 1.5
    assert out["status_code"] == 504
    assert "within 0.2 s" in out["error"]
    assert asyncio.run(calc.aexecute_tool("echo", {"text": "slow"}, timeout=0.2))["status_code"] == 504
    assert calc.execute_tool("echo", {"text": "x"}, timeout=-1)["status_code"] == 400


def test_async_twins_agree(calc: Calc) -> None:
    assert asyncio.run(calc.alist_tools()) == calc.list_tools()
    assert asyncio.run(calc.adiscover_tools()) == calc.discover_tools()
    assert asyncio.run(calc.aexecute_tool("add", {"a": 1, "b": 2})) == calc.execute_tool("add", {"a": 1, "b": 2})
    assert asyncio.run(calc.acall_tool("echo", {"text": "boom"})).is_error


def test_secrets_stay_masked(calc: Calc) -> None:
    for text in (repr(calc), repr(calc.config), str(calc.get_binding_config())):
        assert SECRET not in text


def test_the_modality_is_everywhere_a_modality_is_listed() -> None:
    import lollms_core.lollms_tools_binding as alias
    from lollms_core.bindings import BASES
    from lollms_core.discovery import LollmsTOOLBindingManager
    from lollms_core.scaffold import MODALITIES

    assert Modality("tools") is Modality.TOOLS
    assert BASES[Modality.TOOLS] is LollmsToolBinding
    assert LollmsTOOLBindingManager is LollmsToolBindingManager is alias.LollmsToolBindingManager
    assert alias.LollmsToolBinding is LollmsToolBinding
    assert "tools" in MODALITIES
    assert LollmsToolBindingManager().modality is Modality.TOOLS


# -- the registry path: no special case for tools ---------------------------------------------


class _Plugin:
    def __init__(self, *manifests: dict[str, Any]) -> None:
        self.manifests = list(manifests)

    @hookimpl
    def lollms_register_bindings(self) -> list[dict[str, Any]]:
        return self.manifests


def _tools_manifest(name: str, cls: str = "Calc", **extra: Any) -> dict[str, Any]:
    return {"name": name, "modality": "tools", "class": f"{__name__}:{cls}", "description": "t", "core_api": 1, **extra}


def test_tools_plugins_get_dist_name_core_api_and_isolation_like_any_binding() -> None:
    from lollms_core.errors import AmbiguousBindingError, BindingLoadError
    from lollms_core.registry import Registry

    registry = Registry()
    for dist, manifests in {
        "lt-tools-a": [_tools_manifest("calc")],
        "lt-tools-b": [_tools_manifest("calc"), _tools_manifest("gone", cls="NoSuchClass")],
        "lt-tools-future": [_tools_manifest("future", core_api=">=2,<3")],
    }.items():
        registry.register_plugin(_Plugin(*manifests), dist, "0.1.0")
    manager = LollmsToolBindingManager(registry=registry)
    assert manager.get_available_bindings() == ["calc", "gone"]
    with pytest.raises(AmbiguousBindingError, match="lt-tools-a:calc"):
        manager.create_binding("calc")
    made = manager.create_binding("lt-tools-b:calc")
    assert made.execute_tool("add", {"a": 1, "b": 1})["output"] == {"sum": 2}
    with pytest.raises(BindingLoadError, match="NoSuchClass"):
        manager.create_binding("gone")
    (future,) = [e for e in registry.entries if e.name == "future"]
    assert future.status == "error"
    assert "core API" in (future.error or "")
