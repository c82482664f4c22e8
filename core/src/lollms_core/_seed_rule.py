"""The one strict / return-value rule, as a decorator.

The seeds and lollms_client answer a failed call with a value the caller checks (the
error dict of ``generate_text``, ``None`` from ``generate_code``, ``False`` from ``yes_no``,
``{}`` from the client's ``generate_structured_content``...). lollms-core raises typed
errors; an object made with ``strict=False`` (the default) turns the failures it lists into
that value, one made with ``strict=True`` lets them through. Every seed-named method of the
bindings, the client and the text processor states its value here, once, on its ``def``.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import BackendError, StructuredContentError

__all__ = ["NOT_AVAILABLE", "seed_rule"]

F = TypeVar("F", bound=Callable[..., Any])

#: lollms_client's answer to a call the current binding has no such thing for.
NOT_AVAILABLE: dict[str, Any] = {"status": False, "error": "Functionality not available for the current binding"}

#: What a helper catches by default: the backend failed, or the model's answer could not be used.
FAILURES: tuple[type[BaseException], ...] = (BackendError, StructuredContentError)

_UNSET: Any = object()


def seed_rule(
    fallback: Any,
    *,
    explained: Any = _UNSET,
    on: tuple[type[BaseException], ...] = FAILURES,
) -> Callable[[F], F]:
    """Make a method return ``fallback`` instead of raising one of ``on``, unless ``self.strict``.

    :param fallback: the value returned (a fresh copy each time, so a caller may change it),
        or a callable taking the exception and returning the value (``error_dict``).
    :param explained: the value when the call was made with ``return_explanation=True``
        (lollms_client's ``{"answer": False, "explanation": "Failed"}`` shapes).
    :param on: the exceptions turned into the value; anything else always propagates
        (a bad argument is the caller's bug, not a result).
    """

    def decorate(method: F) -> F:
        if explained is not _UNSET:
            _position(method, "return_explanation")  # a typo in the parameter's name fails at definition

        def value_for(self: Any, exc: BaseException, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if self.strict:
                raise exc
            value = fallback
            if explained is not _UNSET and _explaining(method, args, kwargs):
                value = explained
            return value(exc) if callable(value) else copy.deepcopy(value)

        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def awrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await method(self, *args, **kwargs)
                except on as exc:
                    return value_for(self, exc, args, kwargs)

            return awrapper  # type: ignore[return-value]

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except on as exc:
                return value_for(self, exc, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _position(method: Callable[..., Any], name: str) -> int | None:
    """Index of parameter ``name`` among the positional arguments after ``self`` (``None``: keyword-only).

    Read from the code object (no ``inspect.signature``: decorating stays cheap at import).
    """
    code = method.__code__
    positional = code.co_varnames[1 : code.co_argcount]
    if name in positional:
        return positional.index(name)
    if name in code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]:
        return None
    raise TypeError(f"{method.__qualname__} has no parameter {name!r}")


def _explaining(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether the failed call asked for ``return_explanation``."""
    if "return_explanation" in kwargs:
        return bool(kwargs["return_explanation"])
    position = _position(method, "return_explanation")
    return position is not None and position < len(args) and bool(args[position])
