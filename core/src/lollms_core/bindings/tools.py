"""``LollmsToolBinding``: tools a model can call, served by a plugin (Python functions, MCP servers...).

A tools binding implements what it offers, :meth:`~LollmsToolBinding._discover_tools`, and
ONE call primitive, :meth:`~LollmsToolBinding._call_tool` (plus ``_acall_tool`` when its
backend is natively async). The base derives everything else, once for every plugin:
lollms_client's dict surface (``discover_tools``, ``list_tools``, ``execute_tool``), the
typed one (``definitions``, ``call_tool`` -> :class:`~lollms_core.types.ToolResult`), async
twins, the cached listing, name and schema checks, timeouts, observer events and the
error rule (tool failures are error results; a broken backend is a typed error).

``asyncio`` and ``concurrent.futures`` are imported where used: this module loads with
``import lollms_core``, which must stay light.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import threading
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .._secrets import redact
from ..errors import BackendError, BackendTimeoutError, ConfigError, LollmsError, ToolNotFoundError
from ..types import Modality, ToolDefinition, ToolResult, new_call_id
from .base import LollmsBinding

__all__ = ["LollmsToolBinding", "ToolOutput", "result_from_value", "tool_schema_problem"]

#: What ``_call_tool`` may return: a finished result, text, or any JSON-able value.
ToolOutput = Any
# lollms_client's flat parameter types -> JSON Schema types.
_FLAT_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}
_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "null"})
_MAX_NAME = 128


def tool_schema_problem(parameters: Any) -> str | None:
    """What is wrong with a tool's ``parameters`` JSON Schema, or ``None`` when it is usable.

    A usable schema is an object schema (``"type": "object"``) whose ``properties`` map names
    to schemas and whose ``required`` lists some of those names. Deeper keywords are the
    backend's business and are passed through untouched.
    """
    if not isinstance(parameters, Mapping):
        return f"parameters must be a JSON Schema object (a dict), not {type(parameters).__name__}"
    if parameters.get("type", "object") != "object":
        return f'parameters must have "type": "object", not {parameters.get("type")!r}'
    properties = parameters.get("properties", {})
    if not isinstance(properties, Mapping) or not all(isinstance(v, Mapping) for v in properties.values()):
        return "parameters.properties must map each argument name to a schema (a dict)"
    for name, schema in properties.items():
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        unknown = [k for k in kinds if k not in _JSON_TYPES]
        if unknown:
            return f"argument {name!r} has unknown type {unknown[0]!r}; JSON Schema types are {sorted(_JSON_TYPES)}"
    required = parameters.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return "parameters.required must be a list of argument names"
    missing = [r for r in required if r not in properties]
    if missing:
        return f"parameters.required names {missing} that are not in properties"
    return None


def _flat_to_schema(params: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """lollms_client's flat list (``[{"name", "type", "description", "optional", "default"}]``) as JSON Schema."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for p in params:
        name = str(p.get("name", ""))
        schema: dict[str, Any] = {"type": _FLAT_TYPES.get(str(p.get("type", "str")), str(p.get("type", "string")))}
        if p.get("description"):
            schema["description"] = str(p["description"])
        if "default" in p:
            schema["default"] = p["default"]
        properties[name] = schema
        if not p.get("optional", "default" in p):
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _definition(item: Any, owner: str) -> ToolDefinition:
    """One entry of ``_discover_tools()`` as a checked :class:`ToolDefinition`.

    :raises BackendError: naming the tool and what is wrong with it.
    """
    name: Any
    description: Any
    parameters: Any
    if isinstance(item, ToolDefinition):
        name, description, parameters = item.name, item.description, item.parameters
    elif isinstance(item, Mapping):
        name, description = item.get("name"), item.get("description") or ""
        parameters = item.get("parameters", item.get("input_schema", item.get("inputSchema")))
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        elif isinstance(parameters, list):
            parameters = _flat_to_schema(parameters)
    else:
        raise BackendError(f"the {owner} tools binding listed {type(item).__name__}, not a tool definition")
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME or any(ord(c) < 32 for c in name):
        raise BackendError(
            f"the {owner} tools binding listed a tool named {name!r}: names are 1-{_MAX_NAME} printable characters"
        )
    problem = tool_schema_problem(parameters)
    if problem is not None:
        raise BackendError(f"the {owner} tools binding lists tool {name!r} with an invalid schema: {problem}")
    return ToolDefinition(name=name, description=str(description), parameters=dict(parameters))


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def result_from_value(value: ToolOutput, name: str, call_id: str) -> ToolResult:
    """What a ``_call_tool`` returned, as the result of call ``call_id`` of tool ``name``.

    A :class:`ToolResult` keeps its content, parts and flags (its id and name are set to
    this call's); a string is the content; any other value is shown to the model as JSON
    text and kept as ``structured``.
    """
    if isinstance(value, ToolResult):
        return dataclasses.replace(value, call_id=call_id, name=name)
    if isinstance(value, str):
        return ToolResult(call_id=call_id, name=name, content=value)
    return ToolResult(call_id=call_id, name=name, content=_as_text(value), structured=value)


def _output_of(result: ToolResult) -> Any:
    """lollms_client's ``output``: the text parsed as JSON, else the text (the structured value if no text)."""
    if not result.content and result.structured is not None:
        return result.structured
    try:
        return json.loads(result.content)
    except (TypeError, ValueError):
        return result.content


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, ToolNotFoundError):
        return 404
    if isinstance(exc, ConfigError):
        return 400
    if isinstance(exc, BackendTimeoutError):
        return 504
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else 503


class LollmsToolBinding(LollmsBinding):
    """Base class of tools bindings. Implement :meth:`_discover_tools` and :meth:`_call_tool`.

    The listing is cached after the first call (``force_refresh=True`` reads it again);
    a tool the cache does not know triggers one refresh before it is refused.
    """

    modality: ClassVar[Modality] = Modality.TOOLS

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._tools: dict[str, ToolDefinition] | None = None
        self._tools_lock = threading.Lock()

    # == the primitives a binding implements ===========================================

    @abstractmethod
    def _discover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        """The tools this binding offers right now.

        :class:`ToolDefinition` objects or dicts with ``name``, ``description`` and
        ``parameters`` (a JSON Schema object; ``input_schema`` and lollms_client's flat
        parameter list are accepted too). The base checks names and schemas.
        """

    @abstractmethod
    def _call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Run tool ``name`` with ``arguments``; return a :class:`ToolResult`, text, or a JSON-able value.

        ``name`` is one of the discovered names and ``arguments`` a dict: the base checked.
        Raise a lollms error for a broken backend (e.g. :class:`~lollms_core.errors.ToolServerError`);
        any other exception is the tool failing, and reaches the caller as an error result.
        """

    async def _acall_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Async form of :meth:`_call_tool`. The default runs ``_call_tool`` in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self._call_tool, name, arguments)

    async def _adiscover_tools(self) -> Sequence[ToolDefinition | Mapping[str, Any]]:
        """Async form of :meth:`_discover_tools`. The default runs it in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self._discover_tools)

    def _unknown_tool(self, name: str) -> LollmsError:
        """The error for a name no discovered tool has (a binding may name a broken server instead)."""
        have = sorted(self._tools or {})
        close = difflib.get_close_matches(name, have, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return ToolNotFoundError(
            f"the {self.binding_name} tools binding has no tool {name!r}{hint} "
            f"(it offers: {', '.join(have) if have else 'no tools'})"
        )

    # == listing ======================================================================

    def _store(self, items: Sequence[Any]) -> dict[str, ToolDefinition]:
        found: dict[str, ToolDefinition] = {}
        for item in items:
            definition = _definition(item, self.binding_name)
            if definition.name in found:
                raise BackendError(f"the {self.binding_name} tools binding lists tool {definition.name!r} twice")
            found[definition.name] = definition
        with self._tools_lock:
            self._tools = found
        return found

    def definitions(self, force_refresh: bool = False) -> list[ToolDefinition]:
        """The tools as :class:`ToolDefinition` objects (cached; ``force_refresh`` reads them again)."""
        tools = self._tools
        if tools is None or force_refresh:
            tools = self._observed("discover_tools", lambda: self._store(self._guarded(self._discover_tools)))
        return list(tools.values())

    async def adefinitions(self, force_refresh: bool = False) -> list[ToolDefinition]:
        """Async :meth:`definitions`."""
        tools = self._tools
        if tools is None or force_refresh:
            try:
                items = await self._adiscover_tools()
            except Exception as exc:
                raise self._engine_error("_adiscover_tools", exc) from exc
            tools = self._store(items)
        return list(tools.values())

    def discover_tools(self, force_refresh: bool = False, **kwargs: Any) -> list[dict[str, Any]]:
        """lollms_client's raw listing: dicts with ``name``, ``description``, ``parameters`` and ``input_schema``.

        ``input_schema`` repeats ``parameters`` (the JSON Schema), as lollms_client's MCP binding
        names it. Extra keyword arguments are accepted for compatibility and ignored.
        """
        return [_raw(d) for d in self.definitions(force_refresh)]

    async def adiscover_tools(self, force_refresh: bool = False, **kwargs: Any) -> list[dict[str, Any]]:
        """Async :meth:`discover_tools`."""
        return [_raw(d) for d in await self.adefinitions(force_refresh)]

    def list_tools(self, **kwargs: Any) -> list[dict[str, Any]]:
        """The tools as dicts with ``name``, ``description`` and ``parameters`` (a JSON Schema object)."""
        return [_listed(d) for d in self.definitions(bool(kwargs.get("force_refresh")))]

    async def alist_tools(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Async :meth:`list_tools`."""
        return [_listed(d) for d in await self.adefinitions(bool(kwargs.get("force_refresh")))]

    def _known(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"tool_name must be a non-empty str, not {name!r}")
        if self._tools is None or name not in self._tools:
            self.definitions(force_refresh=self._tools is not None)  # a new tool may have appeared: one refresh
        if name not in (self._tools or {}):
            raise self._unknown_tool(name)
        return name

    async def _aknown(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"tool_name must be a non-empty str, not {name!r}")
        if self._tools is None or name not in self._tools:
            await self.adefinitions(force_refresh=self._tools is not None)
        if name not in (self._tools or {}):
            raise self._unknown_tool(name)
        return name

    # == calling ======================================================================

    def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        call_id: str | None = None,
        timeout: float | None = None,
    ) -> ToolResult:
        """Run tool ``name``; returns a :class:`ToolResult` (``is_error`` when the tool failed).

        :param timeout: seconds to wait for the result (``None``: the binding's own limits).
        :raises ToolNotFoundError: no such tool (the message lists the ones there are).
        :raises ConfigError: ``arguments`` is not a dict.
        :raises ToolServerError: the backend serving the tool is broken (named).
        :raises BackendTimeoutError: no result within ``timeout``.
        """
        name, args, call_id = self._known(name), _arguments(arguments), call_id or new_call_id()

        def run() -> ToolResult:
            try:
                if timeout is None:
                    value = self._call_tool(name, args)
                else:
                    value = _run_with_timeout(self._call_tool, name, args, timeout, self.binding_name)
            except LollmsError:
                raise
            except Exception as exc:  # the tool itself failed: the model sees why and may retry
                return self._failure(name, call_id, exc)
            return result_from_value(value, name, call_id)

        return self._observed("call_tool", run)

    async def acall_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        call_id: str | None = None,
        timeout: float | None = None,
    ) -> ToolResult:
        """Async :meth:`call_tool` (a binding with a native async backend runs no thread)."""
        import asyncio

        name, args, call_id = await self._aknown(name), _arguments(arguments), call_id or new_call_id()
        try:
            if timeout is None:
                value = await self._acall_tool(name, args)
            else:
                value = await asyncio.wait_for(self._acall_tool(name, args), timeout)
        except LollmsError:
            raise
        except (asyncio.TimeoutError, TimeoutError):  # one class from Python 3.11; two before
            raise BackendTimeoutError(
                f"tool {name!r} of the {self.binding_name} tools binding gave no result within {timeout} s"
            ) from None
        except Exception as exc:
            return self._failure(name, call_id, exc)
        return result_from_value(value, name, call_id)

    def _failure(self, name: str, call_id: str, exc: BaseException) -> ToolResult:
        text = redact(f"tool {name!r} failed: {type(exc).__name__}: {exc}")
        for secret in self._secret_values():
            text = text.replace(secret, "********")
        return ToolResult(call_id=call_id, name=name, content=text, is_error=True)

    def _secret_values(self) -> list[str]:
        masked = self.config.masked()
        return [str(v) for k, v in self.config.items() if masked.get(k) != v and v]

    def execute_tool(self, tool_name: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """lollms_client's call: ``{"output": ..., "status_code": 200}`` or ``{"error": ..., "status_code": N}``.

        Never raises for a tool or backend failure: 404 unknown tool, 400 bad parameters,
        500 the tool reported an error, 503 the backend is broken, 504 timeout. ``output`` is
        the tool's text parsed as JSON, else the text (the structured value when it gave no
        text); rich blocks (images, audio, resources) are under ``parts``, a structured value
        under ``structured``. ``timeout=`` is honoured; other keyword arguments (lollms_client's
        ``discussion_instance``...) are accepted and ignored.
        """
        try:
            timeout = _timeout_arg(kwargs)
            result = self.call_tool(tool_name, params, timeout=timeout)
        except LollmsError as exc:
            return {"error": redact(str(exc)), "status_code": _status_of(exc)}
        return _as_dict(result)

    async def aexecute_tool(
        self, tool_name: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Async :meth:`execute_tool`."""
        try:
            timeout = _timeout_arg(kwargs)
            result = await self.acall_tool(tool_name, params, timeout=timeout)
        except LollmsError as exc:
            return {"error": redact(str(exc)), "status_code": _status_of(exc)}
        return _as_dict(result)

    # == lollms_client compatibility ==================================================

    def get_binding_config(self) -> dict[str, Any]:
        """The binding's configuration, secrets masked."""
        return dict(self.config.masked())

    def list_models(self) -> list[dict[str, Any]]:
        """Tools bindings have no models: ``[]`` (lollms_client's answer too)."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()


def _raw(d: ToolDefinition) -> dict[str, Any]:
    return {"name": d.name, "description": d.description, "parameters": d.parameters, "input_schema": d.parameters}


def _listed(d: ToolDefinition) -> dict[str, Any]:
    return {"name": d.name, "description": d.description, "parameters": d.parameters}


def _arguments(arguments: Any) -> dict[str, Any]:
    if arguments is None:
        return {}
    if not isinstance(arguments, Mapping):
        raise ConfigError(f"tool arguments must be a dict (a JSON object), not {type(arguments).__name__}")
    return dict(arguments)


def _timeout_arg(kwargs: Mapping[str, Any]) -> float | None:
    timeout = kwargs.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def _as_dict(result: ToolResult) -> dict[str, Any]:
    if result.is_error:
        out: dict[str, Any] = {"error": result.content, "status_code": 500}
    else:
        out = {"output": _output_of(result), "status_code": 200}
    if result.structured is not None:
        out["structured"] = result.structured
    if result.parts:
        out["parts"] = [dict(p) for p in result.parts]
    return out


def _run_with_timeout(fn: Any, name: str, args: dict[str, Any], timeout: float, owner: str) -> Any:
    """``fn(name, args)`` in a worker thread, given up on after ``timeout`` seconds (the thread finishes alone)."""
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lollms-tool")
    try:
        return pool.submit(fn, name, args).result(timeout)
    except concurrent.futures.TimeoutError:
        raise BackendTimeoutError(
            f"tool {name!r} of the {owner} tools binding gave no result within {timeout} s"
        ) from None
    finally:
        pool.shutdown(wait=False)
