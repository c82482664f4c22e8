"""``@tool`` and plain functions: JSON Schema from type hints, descriptions from docstrings, toolboxes."""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass
from typing import Any, Literal, Optional, TypedDict

import pytest
from lollms_core.errors import ConfigError
from lollms_core.tools import Tool, ToolSet, signature_schema, tool
from lollms_core.tools._docstring import parse_docstring


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


@dataclass
class Point:
    x: int
    y: int = 0


class Box(TypedDict):
    w: int
    h: float


def test_types_map_to_json_schema() -> None:
    def f(
        s: str,
        i: int,
        x: float,
        b: bool,
        names: list[str],
        pairs: dict[str, int],
        maybe: Optional[int] = None,
        either: int | str = 1,
        kind: Literal["a", "b"] = "a",
        unit: Unit = Unit.C,
        point: Point | None = None,
        box: Box | None = None,
        anything: Any = None,
        fixed: tuple[int, int] = (0, 0),
        **extra: Any,
    ) -> None:
        pass

    _, schema, _ = signature_schema(f)
    props = schema["properties"]
    assert props["s"] == {"type": "string"}
    assert props["i"] == {"type": "integer"}
    assert props["x"] == {"type": "number"}
    assert props["b"] == {"type": "boolean"}
    assert props["names"] == {"type": "array", "items": {"type": "string"}}
    assert props["pairs"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["maybe"] == {"type": ["integer", "null"], "default": None}
    assert props["either"] == {"type": ["integer", "string"], "default": 1}
    assert props["kind"] == {"enum": ["a", "b"], "type": "string", "default": "a"}
    assert props["unit"] == {"enum": ["celsius", "fahrenheit"], "type": "string", "default": "celsius"}
    assert props["point"]["anyOf"][0]["properties"] == {"x": {"type": "integer"}, "y": {"type": "integer"}}
    assert props["point"]["anyOf"][0]["required"] == ["x"]
    assert props["box"]["anyOf"][0] == {
        "type": "object",
        "properties": {"w": {"type": "integer"}, "h": {"type": "number"}},
        "required": ["h", "w"],
    }
    assert props["anything"] == {"default": None}
    assert props["fixed"] == {"type": "array", "items": {"type": "integer"}, "default": [0, 0]}
    assert schema["required"] == ["s", "i", "x", "b", "names", "pairs"]
    assert "additionalProperties" not in schema, "**extra accepts more"


def test_no_kwargs_means_no_extra_arguments() -> None:
    def f(a: int) -> int:
        return a

    assert signature_schema(f)[1]["additionalProperties"] is False


def test_pydantic_models_describe_themselves() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Address(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        street: str
        number: int = 1

    def ship(to: Address) -> str:
        return f"{to.street} {to.number}"

    ship.__annotations__["to"] = Address  # a local class: a string annotation would not resolve

    shipping = tool(ship)
    assert shipping.parameters["properties"]["to"]["properties"]["street"] == {"title": "Street", "type": "string"}
    result = shipping.invoke({"to": {"street": "Main"}}, "c1")
    assert (result.content, result.is_error) == ("Main 1", False), "the dict became the model before the call"


def test_values_are_converted_back_to_the_annotated_types() -> None:
    seen: dict[str, Any] = {}

    def f(unit: Unit, point: Point, points: list[Point], x: float, tags: set[str] | None = None) -> str:
        seen.update(unit=unit, point=point, points=points, x=x, tags=tags)
        return "ok"

    result = tool(f).invoke(
        {"unit": "fahrenheit", "point": {"x": 1}, "points": [{"x": 2, "y": 3}], "x": 2, "tags": ["a", "a"]}
    )
    assert result.content == "ok", result.content
    assert seen == {"unit": Unit.F, "point": Point(1, 0), "points": [Point(2, 3)], "x": 2.0, "tags": {"a"}}
    assert isinstance(seen["x"], float)


GOOGLE = """Find a city's weather.

    Looks it up online.

    Args:
        city: the city,
            in English
        days (int): how many days
    Returns:
        the forecast
    """

NUMPY = """Find a city's weather.

    Parameters
    ----------
    city : str
        the city
    days, hours : int
        how long

    Returns
    -------
    str
    """

SPHINX = """Find a city's weather.

    :param city: the city
    :param int days: how many
        days
    :returns: the forecast
    """


@pytest.mark.parametrize(
    ("doc", "params"),
    [
        (GOOGLE, {"city": "the city, in English", "days": "how many days"}),
        (NUMPY, {"city": "the city", "days": "how long", "hours": "how long"}),
        (SPHINX, {"city": "the city", "days": "how many days"}),
    ],
)
def test_docstring_styles(doc: str, params: dict[str, str]) -> None:
    description, found = parse_docstring(doc)
    assert description.startswith("Find a city's weather.")
    assert "forecast" not in description and "Args" not in description
    assert found == params


def test_descriptions_reach_the_schema() -> None:
    @tool
    def weather(city: str, days: int = 1) -> str:
        """The weather.

        Args:
            city: which city
            days: how many days
        """
        return city

    assert weather.description == "The weather."
    assert weather.parameters["properties"]["city"] == {"type": "string", "description": "which city"}
    assert weather("Oslo") == "Oslo", "a decorated function is still a function"


def test_decorator_options() -> None:
    @tool(name="lookup.city", description="Look a city up.", timeout=2, run_alone=True)
    def f(city: str) -> str:
        return city

    assert isinstance(f, Tool)
    assert (f.name, f.description, f.timeout, f.run_alone) == ("lookup.city", "Look a city up.", 2.0, True)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "bad\nname"}, "control character '\\n'"),
        ({"name": "bell\x07"}, "control character '\\x07' at position 4"),
        ({"description": "a\x00b"}, "description contains the control character"),
        ({"name": ""}, "cannot be empty"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": "5"}, "timeout must be a positive number"),
    ],
)
def test_bad_names_descriptions_and_options_are_refused(kwargs: dict[str, Any], fragment: str) -> None:
    def f(x: int) -> int:
        return x

    with pytest.raises(ConfigError) as caught:
        tool(**kwargs)(f)
    assert fragment in str(caught.value)


def test_a_docstring_with_control_characters_is_refused_naming_the_tool() -> None:
    def noisy() -> None:
        """Beeps\x07 loudly."""

    with pytest.raises(ConfigError, match="tool 'noisy' description contains the control character"):
        tool(noisy)


def test_a_type_without_json_form_is_named() -> None:
    def f(when: complex) -> None:
        pass

    with pytest.raises(ConfigError, match="tool 'f' parameter 'when': the type 'complex' has no JSON form"):
        tool(f)


def test_derivation_is_cached_per_function() -> None:
    def f(a: int) -> int:
        return a

    first = ToolSet([f]).get("f")
    again = ToolSet([f]).get("f")
    assert first is again, "the same function gives the same Tool: no second derivation"


class Calculator:
    """A toolbox: its public methods are tools."""

    def __init__(self, base: int) -> None:
        self.base = base

    def add(self, x: int) -> int:
        """Add x to the base."""
        return self.base + x

    @tool(timeout=1)
    def times(self, x: int) -> int:
        """Multiply the base by x."""
        return self.base * x

    def _hidden(self) -> None:
        pass


def test_a_class_instance_is_a_toolbox() -> None:
    tools = ToolSet([Calculator(10)])
    assert sorted(tools.tools) == ["add", "times"]
    assert tools.tools["add"].parameters["properties"] == {"x": {"type": "integer"}}
    assert "self" not in tools.tools["times"].parameters["properties"]
    assert tools.tools["add"].invoke({"x": 5}).content == "15"
    assert tools.tools["times"].invoke({"x": 5}).content == "50"
    assert tools.tools["times"].timeout == 1.0
    other = ToolSet([Calculator(2)])
    assert other.tools["add"].invoke({"x": 5}).content == "7", "each instance answers for itself"


def test_toolset_refuses_what_is_not_a_tool() -> None:
    with pytest.raises(ConfigError, match="tools\\[0\\] is a int"):
        ToolSet([3])
    with pytest.raises(ConfigError, match="tools binding and none is configured"):
        ToolSet(["files::read"])

    def f() -> None:
        pass

    with pytest.raises(ConfigError, match="two tools are named 'f'"):
        ToolSet([f, tool(f)])


def test_lollms_client_inline_dicts_with_a_callable() -> None:
    inline = {"name": "double", "description": "x2", "parameters": {"type": "object"}, "callable": lambda x: 2 * x}
    tools = ToolSet([inline])
    assert tools.tools["double"].invoke({"x": 4}).content == "8"


def test_string_names_go_through_the_resolver() -> None:
    def f() -> str:
        return "resolved"

    made = tool(name="files::read")(f)
    tools = ToolSet(["files::read"], resolve=lambda name: [made] if name == "files::read" else [])
    assert tools.get("files::read") is made


def test_get_type_hints_failure_falls_back_to_annotations() -> None:
    def f(x: int) -> None:
        pass

    f.__annotations__["y"] = "NoSuchType"
    assert typing.get_type_hints is not None
    assert signature_schema(f)[1]["properties"]["x"] == {"type": "integer"}
