"""Config checking against a manifest's parameters, with no pydantic: the warm path of creating a binding.

pydantic validates every ``description.yaml`` once (on first sight, or when the manifest cache
misses); the cache then holds the normalised manifest as plain data, and :class:`CachedManifest`
serves a binding's creation from that data. The pydantic :class:`~lollms_core.manifest.Manifest`
calls the same functions, so the error messages are the same whichever path ran.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from .._secrets import clean_secret, remember_secret
from ..errors import ConfigError
from ..types import Modality

__all__ = [
    "BindingConfig",
    "CachedManifest",
    "ConfigChecker",
    "ParamSpec",
    "ParameterLike",
    "check_call",
    "check_config",
    "coerce",
]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (dict,),
}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
MASK = "********"


class ParameterLike(Protocol):
    """What checking needs of a parameter (the pydantic ``Parameter`` and :class:`ParamSpec` both have it)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def default(self) -> Any: ...
    @property
    def options(self) -> list[Any] | None: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...
    @property
    def mandatory(self) -> bool: ...
    @property
    def is_secret(self) -> bool: ...
    @property
    def env(self) -> str | None: ...


class ConfigChecker(Protocol):
    """What creating and calling a binding needs of its manifest (``Manifest`` and :class:`CachedManifest`)."""

    @property
    def name(self) -> str: ...
    @property
    def modality(self) -> Modality: ...
    @property
    def class_path(self) -> str | None: ...
    @property
    def parameters(self) -> Sequence[ParameterLike]: ...
    @property
    def method_parameters(self) -> Mapping[str, Sequence[ParameterLike]]: ...

    def parameter(self, name: str) -> ParameterLike | None:
        """The config parameter called ``name``, if declared."""
        ...

    def validate_config(self, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> BindingConfig:
        """Check and coerce a binding's config."""
        ...

    def validate_call(self, method: str, params: Mapping[str, Any], also_known: tuple[str, ...] = ()) -> dict[str, Any]:
        """Check a call's options."""
        ...


def coerce(p: ParameterLike, value: Any, where: str = "config") -> Any:
    """``value`` converted to ``p``'s type, or :class:`ConfigError` (secrets never shown).

    Strings are parsed (``"3"`` → 3, ``"true"`` → True, JSON for lists and dicts) because command
    lines and environment variables only carry text. Non-finite floats are refused; secrets lose
    surrounding whitespace (keys read from files end in a newline) and may hold no control character.
    """
    shown = MASK if p.is_secret else repr(value)
    kind = p.type
    if isinstance(value, str) and kind != "str":
        value = _parse_text(p, value, shown, where)
    ok = isinstance(value, _PY_TYPES[kind]) and not (kind in ("int", "float") and isinstance(value, bool))
    if not ok and kind == "int" and isinstance(value, float) and value.is_integer():
        value, ok = int(value), True
    if not ok:
        raise ConfigError(f"{where}: parameter '{p.name}' expects {kind}, got {shown} ({type(value).__name__})")
    if kind == "float":
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: parameter '{p.name}' is {shown}; it must be a finite number")
    elif kind == "list":
        value = list(value)
    elif kind == "str" and p.is_secret and value:
        try:
            value = clean_secret(value, p.name)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if p.options and value not in p.options:
        allowed = "<hidden>" if p.is_secret else ", ".join(map(repr, p.options))
        raise ConfigError(f"{where}: parameter '{p.name}' is {shown}; allowed values: {allowed}")
    if p.min is not None and value < p.min:
        raise ConfigError(f"{where}: parameter '{p.name}' is {shown}; it must be >= {p.min:g}")
    if p.max is not None and value > p.max:
        raise ConfigError(f"{where}: parameter '{p.name}' is {shown}; it must be <= {p.max:g}")
    if p.is_secret and isinstance(value, str) and value:
        # Only an accepted value is a secret in use: remembering a refused one (any text a caller
        # tried) would mask that text in every later message of the process, for good.
        remember_secret(value)  # from now on, error messages have it redacted
    return value


def _parse_text(p: ParameterLike, text: str, shown: str, where: str) -> Any:
    s = text.strip()
    try:
        if p.type == "int":
            return int(s)
        if p.type == "float":
            return float(s)
        if p.type == "bool":
            if s.lower() in _TRUE | _FALSE:
                return s.lower() in _TRUE
            raise ValueError(s)
        if p.type == "list":
            return json.loads(s) if s.startswith("[") else [x.strip() for x in s.split(",") if x.strip()]
        return json.loads(s)
    except ValueError:
        hint = {"bool": " (true/false)", "list": " (JSON list or a,b,c)", "dict": " (a JSON object)"}
        raise ConfigError(
            f"{where}: parameter '{p.name}' expects {p.type}{hint.get(p.type, '')}, got {shown}"
        ) from None


def check_config(
    parameters: Sequence[ParameterLike],
    config: Mapping[str, Any],
    where: str,
    environ: Mapping[str, str] | None = None,
) -> BindingConfig:
    """Check and coerce a user's binding config; fill defaults and ``env`` fallbacks.

    :raises ConfigError: unknown key (with close matches), wrong type, value not allowed,
        or a mandatory value missing.
    """
    env = os.environ if environ is None else environ
    known = {p.name: p for p in parameters}
    for key in config:
        if key not in known:
            raise ConfigError(unknown(key, list(known), where))
    values: dict[str, Any] = {}
    for p in parameters:
        raw = config.get(p.name)
        if (raw is None or raw == "") and p.env and env.get(p.env):
            raw = env[p.env]
        if raw is None or (raw == "" and p.type != "str"):
            if p.mandatory and (p.default is None or p.default == ""):
                how = f" (or set ${p.env})" if p.env else ""
                raise ConfigError(f"{where}: parameter '{p.name}' is mandatory{how}: {p.description}".rstrip(": "))
            values[p.name] = coerce(p, p.default, where) if p.default not in (None, "") else p.default
        else:
            values[p.name] = coerce(p, raw, where)
    return BindingConfig(values, frozenset(p.name for p in parameters if p.is_secret))


def check_call(
    declared: Mapping[str, ParameterLike], params: Mapping[str, Any], where: str, also_known: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check per-call options against the declared ones; fill their defaults."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        p = declared.get(key)
        if p is None:
            raise ConfigError(unknown(key, [*also_known, *declared], where, kind="option"))
        if value is not None:
            out[key] = coerce(p, value, where)
    for p in declared.values():
        if p.name not in out and p.default not in (None, ""):
            out[p.name] = p.default
    return out


def unknown(key: str, known: list[str], where: str, kind: str = "parameter") -> str:
    """The message for an unknown key: close matches first, then everything known."""
    import difflib  # only on this error path: it costs more to import than the checks to run

    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    listing = ", ".join(sorted(known)) or "none"
    return f"{where}: unknown {kind} '{key}'{hint} (known: {listing})"


class BindingConfig(Mapping[str, Any]):
    """A binding's validated configuration: read like a dict; secrets masked in every repr."""

    __slots__ = ("_secret", "_values")

    def __init__(self, values: Mapping[str, Any], secret: frozenset[str] = frozenset()) -> None:
        self._values = dict(values)
        self._secret = secret

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def masked(self) -> dict[str, Any]:
        """A plain dict safe to log: secret values replaced by ``********``."""
        return {k: (MASK if k in self._secret and v else v) for k, v in self._values.items()}

    def __repr__(self) -> str:
        return f"BindingConfig({self.masked()!r})"

    __str__ = __repr__


class ParamSpec:
    """A parameter read back from the manifest cache (already validated by pydantic when cached)."""

    __slots__ = ("default", "description", "env", "is_secret", "mandatory", "max", "min", "name", "options", "type")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.name: str = data["name"]
        self.type: str = data.get("type", "str")
        self.description: str = data.get("description", "")
        self.default: Any = data.get("default")
        self.options: list[Any] | None = data.get("options")
        self.min: float | None = data.get("min")
        self.max: float | None = data.get("max")
        self.mandatory: bool = bool(data.get("mandatory", False))
        self.is_secret: bool = bool(data.get("is_secret", False))
        self.env: str | None = data.get("env")

    def coerce(self, value: Any, *, where: str = "config") -> Any:
        """See :func:`coerce`."""
        return coerce(self, value, where)

    def __repr__(self) -> str:
        return f"ParamSpec(name={self.name!r}, type={self.type!r})"


class CachedManifest:
    """The part of a manifest that creating and calling a binding needs, from cached (validated) data.

    Read-only; anything else (listing, ``lollms bindings show``) uses the full pydantic manifest.
    """

    __slots__ = ("_calls", "class_path", "method_parameters", "modality", "name", "parameters")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.name: str = data["name"]
        self.modality = Modality(data["modality"])
        self.class_path: str | None = data.get("class")
        self.parameters = [ParamSpec(p) for p in data.get("parameters") or ()]
        self.method_parameters = {
            m: [ParamSpec(p) for p in ps or ()] for m, ps in (data.get("method_parameters") or {}).items()
        }
        self._calls: dict[str, dict[str, ParamSpec]] = {}

    def parameter(self, name: str) -> ParamSpec | None:
        """The ``__init__`` parameter called ``name``, if declared."""
        return next((p for p in self.parameters if p.name == name), None)

    def validate_config(self, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> BindingConfig:
        """Same as :meth:`lollms_core.manifest.Manifest.validate_config`."""
        return check_config(self.parameters, config, f"{self.modality.value} binding '{self.name}'", environ)

    def validate_call(self, method: str, params: Mapping[str, Any], also_known: tuple[str, ...] = ()) -> dict[str, Any]:
        """Same as :meth:`lollms_core.manifest.Manifest.validate_call`."""
        declared = self._calls.get(method)
        if declared is None:
            declared = {
                p.name: p for p in (*self.method_parameters.get(method, ()), *self.method_parameters.get("model", ()))
            }
            self._calls[method] = declared
        return check_call(declared, params, f"{self.name}.{method}()", also_known)
