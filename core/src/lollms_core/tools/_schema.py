"""JSON Schema from a Python signature: what the model is told a tool's arguments are.

Type hints map the way pydantic and the OpenAI Agents SDK map them: ``str``/``int``/``float``/
``bool``, ``list[X]``/``tuple``/``set``, ``dict[str, X]``, ``Optional``/``Union`` (``anyOf``),
``Literal`` and ``Enum`` (``enum``), dataclasses and ``TypedDict`` (objects), pydantic models
(their own ``model_json_schema()``), ``Any`` or no hint (any value). Each parameter also gets a
converter that turns the validated JSON value back into the annotated type (an ``Enum`` member,
a dataclass, a pydantic model) before the call.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from ._docstring import parse_docstring

__all__ = ["Converter", "signature_schema"]

#: Turns a validated JSON value into what the function expects (identity for plain JSON types).
Converter = Callable[[Any], Any]

_PRIMITIVES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def signature_schema(func: Callable[..., Any]) -> tuple[str, dict[str, Any], dict[str, Converter]]:
    """``(description, parameters schema, converters)`` for ``func`` (a bound method skips ``self``).

    :raises ConfigError: a parameter whose type hint cannot be described as JSON (naming both).
    """
    description, docs = parse_docstring(inspect.getdoc(func))
    try:
        hints = typing.get_type_hints(func, include_extras=False)
    except Exception:  # one unresolvable forward reference: resolve the others one by one
        hints = _hints_one_by_one(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    open_ended = False
    signature = list(inspect.signature(func).parameters.values())
    if signature and signature[0].name in ("self", "cls") and inspect.isfunction(func):
        signature = signature[1:]  # a method decorated in its class body: bound when read from an instance
    for param in signature:
        if param.kind is param.VAR_KEYWORD:
            open_ended = True
            continue
        if param.kind is param.VAR_POSITIONAL or param.kind is param.POSITIONAL_ONLY:
            continue  # the call passes keywords only
        hint = hints.get(param.name, Any)
        try:
            schema, convert = type_schema(hint)
        except ConfigError as exc:
            raise ConfigError(f"tool '{func.__name__}' parameter '{param.name}': {exc}") from None
        if docs.get(param.name):
            schema = {**schema, "description": docs[param.name]}
        if param.default is not param.empty:
            if _jsonable(param.default):
                schema = {**schema, "default": _plain(param.default)}
        else:
            required.append(param.name)
        properties[param.name] = schema
        if convert is not None:
            converters[param.name] = convert
    parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if not open_ended:
        parameters["additionalProperties"] = False
    return description, parameters, converters


def _hints_one_by_one(func: Callable[..., Any]) -> dict[str, Any]:
    """Each annotation that resolves; one that names an unknown type describes any value."""
    out: dict[str, Any] = {}
    namespace = getattr(func, "__globals__", {})
    for name, annotation in dict(getattr(func, "__annotations__", {})).items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)
            except Exception:
                annotation = Any
        out[name] = annotation
    return out


def type_schema(hint: Any) -> tuple[dict[str, Any], Converter | None]:
    """The JSON Schema of one type hint, and the converter back to it (``None``: the value as is)."""
    if hint is Any or hint is inspect.Parameter.empty or hint is object:
        return {}, None
    if hint in _PRIMITIVES:
        schema: dict[str, Any] = {"type": _PRIMITIVES[hint]}
        return schema, (float if hint is float else None)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        values = list(args)
        kinds = {_PRIMITIVES.get(type(v)) for v in values}
        schema = {"enum": values}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema, None
    if origin is typing.Union or origin is types.UnionType:
        parts = [type_schema(a) for a in args]
        converters = [(a, c) for a, (_, c) in zip(args, parts, strict=True) if c is not None]
        simple = [p[0] for p in parts]
        if all(set(s) == {"type"} for s in simple):
            return {"type": [s["type"] for s in simple]}, _union_converter(converters)
        return {"anyOf": simple}, _union_converter(converters)
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set, frozenset):
        container = origin or hint
        if container is tuple and args and not (len(args) == 2 and args[1] is ...):
            # a fixed-length tuple: described as an array of its item types
            item_hint = typing.Union[args] if len(set(args)) > 1 else args[0]
        else:
            item_hint = args[0] if args else Any
        items, convert = type_schema(item_hint)
        schema = {"type": "array", "items": items} if items else {"type": "array"}
        if convert is None and container is list:
            return schema, None
        return schema, _sequence_converter(container, convert)
    if origin is dict or hint is dict:
        value_schema, convert = type_schema(args[1]) if len(args) == 2 else ({}, None)
        schema = {"type": "object"}
        if value_schema:
            schema["additionalProperties"] = value_schema
        return schema, None if convert is None else (lambda v: {k: convert(x) for k, x in v.items()})
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        schema = {"enum": values}
        kinds = {_PRIMITIVES.get(type(v)) for v in values}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema, hint
    if isinstance(hint, type) and hasattr(hint, "model_json_schema") and hasattr(hint, "model_validate"):
        return hint.model_json_schema(), hint.model_validate  # a pydantic model describes itself
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_schema(hint)
    if isinstance(hint, type) and typing.is_typeddict(hint):
        return _typeddict_schema(hint), None
    raise ConfigError(
        f"the type {getattr(hint, '__name__', hint)!r} has no JSON form (use str, int, float, bool, list, dict, "
        "Optional, Literal, an Enum, a dataclass, a TypedDict or a pydantic model)"
    )


def _dataclass_schema(cls: type) -> tuple[dict[str, Any], Converter]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    for f in dataclasses.fields(cls):
        schema, convert = type_schema(hints.get(f.name, Any))
        properties[f.name] = schema
        if convert is not None:
            converters[f.name] = convert
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)

    def build(value: Any) -> Any:
        return cls(**{k: converters[k](v) if k in converters else v for k, v in value.items()})

    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return schema, build


def _typeddict_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties = {name: type_schema(h)[0] for name, h in hints.items()}
    required = sorted(getattr(cls, "__required_keys__", hints))
    return {"type": "object", "properties": properties, "required": required}


def _sequence_converter(container: Any, convert: Converter | None) -> Converter:
    make = list if container is list else container
    if convert is None:
        return make
    return lambda value: make(convert(v) for v in value)


def _union_converter(converters: list[tuple[Any, Converter]]) -> Converter | None:
    if not converters:
        return None

    def convert(value: Any) -> Any:
        for _hint, each in converters:
            try:
                return each(value)
            except Exception:  # this member of the union does not take that value: try the next
                continue
        return value

    return convert


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), enum.Enum)) or (
        isinstance(value, (list, tuple)) and all(_jsonable(v) for v in value)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
