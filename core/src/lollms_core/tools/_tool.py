"""``Tool``: a callable the model may call, with its definition derived once from the function.

``tool(func)`` (or ``@tool``, or ``@tool(timeout=5)``) returns a :class:`Tool`; a plain function
passed where tools are expected is turned into one the same way, and the derivation is cached
per function, so offering the same functions on every call costs a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, overload

from .._json_schema import schema_errors
from ..bindings._tool_stream import check_tool_text
from ..errors import ConfigError
from ..types import ToolDefinition, ToolResult
from ._schema import Converter, signature_schema

__all__ = ["DEFAULT_MAX_RESULT_CHARS", "Tool", "result_text", "tool"]

#: Longest result text the model is shown (longer ones are cut with a note saying so).
DEFAULT_MAX_RESULT_CHARS = 20_000

_FIX = "Fix the call and try again, or answer without this tool."


class Tool:
    """A tool the model may call: its :class:`~lollms_core.types.ToolDefinition` and what runs it.

    :param func: the implementation (sync or ``async def``); ``None`` for a tool the caller runs
        (the loop returns its calls as pending, as with ``auto_execute=False``).
    :param timeout: seconds a call may take before the model is told it timed out (``None``: no limit).
        A sync function that overruns keeps running in its worker thread: Python cannot stop it.
    :param run_alone: never run concurrently with the other calls of the same turn.
    :param max_result_chars: longer result texts are cut, with a note saying how much was left out.
    """

    __slots__ = ("_converters", "definition", "func", "max_result_chars", "run_alone", "timeout")

    def __init__(
        self,
        definition: ToolDefinition,
        func: Callable[..., Any] | None = None,
        *,
        timeout: float | None = None,
        run_alone: bool = False,
        max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
        converters: dict[str, Converter] | None = None,
    ) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ConfigError(f"tool '{definition.name}' timeout must be a positive number of seconds, not {timeout!r}")
        self.definition = definition
        self.func = func
        self.timeout = None if timeout is None else float(timeout)
        self.run_alone = bool(run_alone)
        self.max_result_chars = max_result_chars
        self._converters = converters or {}

    @property
    def name(self) -> str:
        """The tool's name as the caller gave it (mapped on the wire when a backend would refuse it)."""
        return self.definition.name

    @property
    def description(self) -> str:
        """What the tool does, as the model reads it."""
        return self.definition.description

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the tool's arguments."""
        return self.definition.parameters

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, timeout={self.timeout}, run_alone={self.run_alone})"

    def __get__(self, obj: Any, objtype: type | None = None) -> Tool:
        """``@tool`` on a method: reading it from an instance gives that instance's tool (``self`` bound)."""
        if obj is None or self.func is None or not inspect.isfunction(self.func):
            return self
        return Tool(
            self.definition,
            self.func.__get__(obj),
            timeout=self.timeout,
            run_alone=self.run_alone,
            max_result_chars=self.max_result_chars,
            converters=self._converters,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly (a decorated function stays usable as a function)."""
        if self.func is None:
            raise TypeError(f"tool '{self.name}' has no implementation to call")
        return self.func(*args, **kwargs)

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        run_alone: bool = False,
        max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
    ) -> Tool:
        """A tool from ``func``'s signature and docstring (derived once per function, then cached).

        :raises ConfigError: a name or description with control characters, or a parameter whose
            type has no JSON form.
        """
        doc, parameters, converters = _derive(func)
        tool_name = check_tool_text("tool name", name if name is not None else func.__name__, multiline=False)
        if not tool_name:
            raise ConfigError("a tool name cannot be empty")
        text = check_tool_text(
            f"tool '{tool_name}' description", doc if description is None else description, multiline=True
        )
        definition = ToolDefinition(tool_name, text, parameters)
        return cls(
            definition,
            func,
            timeout=timeout,
            run_alone=run_alone,
            max_result_chars=max_result_chars,
            converters=converters,
        )

    # == running ===========================================================================

    def check(self, arguments: dict[str, Any]) -> str | None:
        """What is wrong with ``arguments`` for this tool, worded for the model; ``None`` if they are valid."""
        problems = schema_errors(arguments, self.parameters)
        if not problems:
            return None
        return (
            f"Invalid arguments for tool '{self.name}': {'; '.join(problems[:10])}. "
            f"Expected arguments matching this JSON Schema: {json.dumps(self.parameters, ensure_ascii=False)}. {_FIX}"
        )

    def _prepare(self, call_id: str, arguments: Any) -> tuple[Callable[..., Any], dict[str, Any]] | ToolResult:
        """The function and its keyword arguments, converted; or the error result that answers the call."""
        func = self.func
        if func is None:
            return self._error(call_id, f"Tool '{self.name}' cannot be run here (no implementation).")
        if not isinstance(arguments, dict):
            return self._error(call_id, f"Arguments for tool '{self.name}' must be a JSON object. {_FIX}")
        problem = self.check(arguments)
        if problem is not None:
            return self._error(call_id, problem)
        converters = self._converters
        try:
            return func, {k: converters[k](v) if k in converters else v for k, v in arguments.items()}
        except Exception as exc:
            return self._error(call_id, f"Invalid arguments for tool '{self.name}': {exc}. {_FIX}")

    def _error(self, call_id: str, text: str) -> ToolResult:
        return ToolResult(call_id, self.name, text, is_error=True)

    def _raised(self, call_id: str, exc: BaseException) -> ToolResult:
        return self._error(call_id, f"Tool '{self.name}' raised {type(exc).__name__}: {exc}. {_FIX}")

    def _timed_out(self, call_id: str) -> ToolResult:
        return self._error(
            call_id, f"Tool '{self.name}' did not finish within {self.timeout:g} seconds and was abandoned. {_FIX}"
        )

    def result(self, call_id: str, value: Any) -> ToolResult:
        """``value`` (what the function returned) as the result the model sees."""
        if isinstance(value, ToolResult):
            return value
        return ToolResult(call_id, self.name, result_text(value, self.max_result_chars))

    def invoke(self, arguments: dict[str, Any], call_id: str = "") -> ToolResult:
        """Run the tool; every failure (bad arguments, exception, timeout) is an error result, never raised."""
        prepared = self._prepare(call_id, arguments)
        if isinstance(prepared, ToolResult):
            return prepared
        func, kwargs = prepared
        if inspect.iscoroutinefunction(func):
            return _run_coroutine_sync(lambda: self.ainvoke(arguments, call_id))
        if self.timeout is None:
            try:
                return self.result(call_id, func(**kwargs))
            except Exception as exc:
                return self._raised(call_id, exc)
        box: list[Any] = []
        done = threading.Event()

        def work() -> None:
            try:
                box.append(("ok", func(**kwargs)))
            except BaseException as exc:  # reported to the model, never raised into the loop
                box.append(("error", exc))
            done.set()

        threading.Thread(target=work, name=f"lollms-tool-{self.name}", daemon=True).start()
        if not done.wait(self.timeout):
            return self._timed_out(call_id)
        kind, value = box[0]
        return self._raised(call_id, value) if kind == "error" else self.result(call_id, value)

    async def ainvoke(self, arguments: dict[str, Any], call_id: str = "") -> ToolResult:
        """Async :meth:`invoke`: ``async def`` tools are awaited, sync ones run in a worker thread."""
        prepared = self._prepare(call_id, arguments)
        if isinstance(prepared, ToolResult):
            return prepared
        func, kwargs = prepared
        if inspect.iscoroutinefunction(func):
            work: Awaitable[Any] = func(**kwargs)
        elif self.timeout is None:
            work = asyncio.get_running_loop().run_in_executor(None, functools.partial(func, **kwargs))
        else:
            work = _in_daemon_thread(self.name, functools.partial(func, **kwargs))
        try:
            value = await asyncio.wait_for(work, self.timeout)
        except asyncio.TimeoutError:
            return self._timed_out(call_id)
        except Exception as exc:
            return self._raised(call_id, exc)
        return self.result(call_id, value)


def result_text(value: Any, limit: int = DEFAULT_MAX_RESULT_CHARS) -> str:
    """What the model reads for a returned value: text as is, JSON for data, ``str()`` for the rest.

    Longer than ``limit`` characters: cut, with a note saying how much was left out.
    """
    if isinstance(value, str):
        text = value
    elif value is None:
        text = ""
    elif isinstance(value, bytes):
        text = f"<{len(value)} bytes>"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):  # not JSON serialisable (or circular): its str()
            try:
                text = str(value)
            except Exception as exc:
                text = f"<a {type(value).__name__} that cannot be shown: {type(exc).__name__}>"
    if len(text) > limit:
        text = (
            text[:limit] + f"\n[... truncated: the result is {len(text):,} characters; the first {limit:,} are shown]"
        )
    return text


def _in_daemon_thread(name: str, work: Callable[[], Any]) -> asyncio.Future[Any]:
    """``work()`` in its own daemon thread, as a future of the running loop.

    A tool that overruns its timeout must not hold up the event loop's shutdown, as a thread of
    the default executor would (``asyncio.run`` waits for those).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            (future.set_result if ok else future.set_exception)(value)

    def run() -> None:
        try:
            value, ok = work(), True
        except BaseException as exc:  # handed to the awaiting loop
            value, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(settle, ok, value)

    threading.Thread(target=run, name=f"lollms-tool-{name}", daemon=True).start()
    return future


def _run_coroutine_sync(make: Callable[[], Awaitable[ToolResult]]) -> ToolResult:
    """Run an async tool from sync code (in a fresh loop; in a thread when a loop already runs here)."""

    async def main() -> ToolResult:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    box: list[ToolResult] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(main())), daemon=True)
    thread.start()
    thread.join()
    return box[0]


# == derivation cache ======================================================================

_CACHE: weakref.WeakKeyDictionary[Any, tuple[str, dict[str, Any], dict[str, Converter]]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _derive(func: Callable[..., Any]) -> tuple[str, dict[str, Any], dict[str, Converter]]:
    """Description, schema and converters of ``func``; bound methods share their function's entry."""
    key = getattr(func, "__func__", func)
    try:
        cached = _CACHE.get(key)
    except TypeError:  # not weak-referenceable (a builtin): derive every time
        return signature_schema(func)
    if cached is None:
        cached = signature_schema(func)
        with _CACHE_LOCK:
            _CACHE[key] = cached
    return cached


_TOOLS: weakref.WeakKeyDictionary[Any, Tool] = weakref.WeakKeyDictionary()


def function_tool(func: Callable[..., Any]) -> Tool:
    """The :class:`Tool` for a plain function, made once and reused (the warm path of the loop)."""
    if getattr(func, "__self__", None) is not None:
        return Tool.from_function(func)  # a bound method: its schema is cached, the Tool is per instance
    try:
        made = _TOOLS.get(func)
    except TypeError:
        return Tool.from_function(func)
    if made is None:
        made = Tool.from_function(func)
        with _CACHE_LOCK:
            _TOOLS[func] = made
    return made


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    run_alone: bool = False,
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    run_alone: bool = False,
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a function a :class:`Tool`: ``@tool``, ``@tool(timeout=5)`` or ``tool(func)``.

    The description is the docstring's first paragraph, each parameter's description comes from
    its ``Args:`` / ``Parameters`` / ``:param:`` entry, and the JSON Schema from the type hints.
    The decorated object is still callable as the function.
    """

    def make(f: Callable[..., Any]) -> Tool:
        if not callable(f):
            raise ConfigError(f"tool() takes a function, not {type(f).__name__}")
        return Tool.from_function(
            f,
            name=name,
            description=description,
            timeout=timeout,
            run_alone=run_alone,
            max_result_chars=max_result_chars,
        )

    return make(func) if func is not None else make
