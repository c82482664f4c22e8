"""``description.yaml``: one pydantic model for both schemas seen in the wild, and config validation.

Seed 001 writes ``input_parameters`` plus ``<method>_parameters``; lollms_client 1.x writes
``global_input_parameters``, ``model_input_parameters`` and ``commands``. Both become a
:class:`Manifest`. The manifest is the single source of truth for configuration: a user's
config is checked and coerced against it before a binding is constructed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ManifestError
from ..types import CORE_API_VERSION, Modality
from ._config_check import BindingConfig, check_call, check_config
from ._config_check import coerce as _coerce

__all__ = ["CORE_API_VERSION", "BindingConfig", "Command", "Manifest", "Parameter", "parse_manifest"]

ParamType = Literal["str", "int", "float", "bool", "list", "dict"]
_TYPE_ALIASES = {
    "string": "str",
    "text": "str",
    "integer": "int",
    "number": "float",
    "double": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
    "json": "dict",
}


class Parameter(BaseModel):
    """One configurable value: an ``__init__`` setting or a per-call option."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    type: ParamType = "str"
    description: str = ""
    default: Any = None
    options: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    mandatory: bool = False
    is_secret: bool = False
    env: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_old_keys(cls, data: Any) -> Any:
        # Older manifests say ``value`` for the default and ``help`` for the description.
        if isinstance(data, dict):
            data = dict(data)
            if "default" not in data and "value" in data:
                data["default"] = data["value"]
            if not data.get("description") and "help" in data:
                data["description"] = data["help"]
            t = data.get("type")
            if isinstance(t, str):
                data["type"] = _TYPE_ALIASES.get(t.strip().lower(), t.strip().lower())
        return data

    @model_validator(mode="after")
    def _default_fits(self) -> Parameter:
        if self.default is not None and self.default != "":
            self.coerce(self.default, where="default")
        return self

    def coerce(self, value: Any, *, where: str = "config") -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`ConfigError`.

        Strings are parsed (``"3"`` → 3, ``"true"`` → True, JSON for lists and dicts) because
        command lines and environment variables only carry text; non-finite floats are refused;
        secrets are stripped and may not hold control characters (see :func:`_config_check.coerce`).
        """
        return _coerce(self, value, where)


class Command(BaseModel):
    """A lollms_client 1.x ``commands`` entry: a named extra action with its own parameters."""

    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    parameters: list[Parameter] = Field(default_factory=list)
    output: Any = None


class Manifest(BaseModel):
    """A binding's validated ``description.yaml`` (both schemas, normalised)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    modality: Modality
    title: str = ""
    author: str = ""
    version: str = ""
    description: str = ""
    class_path: str | None = Field(default=None, alias="class")
    #: Core API versions this binding was built for: an integer (``==``) or a PEP 440 specifier; ``None`` = unverified.
    core_api: int | str | None = None
    #: Modules the engine needs, mapped to the pip requirement providing them (``lollms bindings --check``).
    engine_modules: dict[str, str] = Field(default_factory=dict)
    parameters: list[Parameter] = Field(default_factory=list)
    method_parameters: dict[str, list[Parameter]] = Field(default_factory=dict)
    commands: list[Command] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_simple(cls, v: str) -> str:
        if not v or not v.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"binding name {v!r} must be letters, digits, '_' or '-'")
        return v

    @field_validator("core_api", mode="before")
    @classmethod
    def _core_api_form(cls, v: Any) -> Any:
        from ._core_api import normalise_core_api

        try:
            return normalise_core_api(v)
        except ManifestError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("engine_modules", mode="before")
    @classmethod
    def _engine_modules_form(cls, v: Any) -> Any:
        # A list of module names is enough when the pip name is the module name with '-' for '_'.
        if v is None:
            return {}
        if isinstance(v, list) and all(isinstance(m, str) for m in v):
            return {m: m.split(".")[0].replace("_", "-") for m in v}
        return v

    @model_validator(mode="after")
    def _no_duplicates(self) -> Manifest:
        for where, params in [("input_parameters", self.parameters), *self.method_parameters.items()]:
            seen: set[str] = set()
            for p in params:
                if p.name in seen:
                    raise ValueError(f"parameter '{p.name}' is declared twice in {where}")
                seen.add(p.name)
        return self

    def parameter(self, name: str) -> Parameter | None:
        """The ``__init__`` parameter called ``name``, if declared."""
        return next((p for p in self.parameters if p.name == name), None)

    def validate_config(self, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> BindingConfig:
        """Check and coerce a user's binding config; fill defaults and ``env`` fallbacks.

        :raises ConfigError: unknown key (with close matches), wrong type, value not allowed,
            or a mandatory value missing.
        """
        return check_config(self.parameters, config, f"{self.modality.value} binding '{self.name}'", environ)

    def validate_call(self, method: str, params: Mapping[str, Any], also_known: tuple[str, ...] = ()) -> dict[str, Any]:
        """Check per-call options against ``<method>_parameters`` (and ``model_input_parameters``).

        ``also_known`` are names the caller handles itself (sampling options), listed in errors.
        """
        declared = {
            p.name: p for p in (*self.method_parameters.get(method, ()), *self.method_parameters.get("model", ()))
        }
        return check_call(declared, params, f"{self.name}.{method}()", also_known)


_SECTION_KEYS = ("input_parameters", "global_input_parameters")


def parse_manifest(data: Any, default_name: str = "") -> Manifest:
    """Normalise a parsed ``description.yaml`` (either schema) into a :class:`Manifest`.

    :raises ManifestError: with a one-line reason.
    """
    if not isinstance(data, dict):
        raise ManifestError(f"description.yaml must be a mapping, got {type(data).__name__}")
    d = dict(data)
    norm: dict[str, Any] = {
        k: d[k] for k in ("title", "author", "version", "description", "class", "core_api", "engine_modules") if k in d
    }
    norm["name"] = d.get("name") or d.get("binding_name") or default_name
    norm["modality"] = d.get("modality") or d.get("binding_type") or "llm"
    params: list[Any] = []
    for key in _SECTION_KEYS:
        params.extend(d.get(key) or [])
    methods: dict[str, Any] = {}
    if d.get("model_input_parameters"):
        methods["model"] = d["model_input_parameters"]
    for key, value in d.items():
        if key.endswith("_parameters") and key not in (*_SECTION_KEYS, "model_input_parameters"):
            methods[key[: -len("_parameters")]] = value or []
    norm.update(parameters=params, method_parameters=methods, commands=d.get("commands") or [])
    for k in ("version", "title", "author"):
        if k in norm and not isinstance(norm[k], str):
            norm[k] = str(norm[k])
    try:
        return Manifest.model_validate(norm)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        where = ".".join(str(x) for x in loc) or "manifest"
        # Name the parameter, not its index: "parameters.0.type" -> "parameter 'volume' type".
        if len(loc) >= 2 and loc[0] in ("parameters", "method_parameters"):
            seq = norm["parameters"] if loc[0] == "parameters" else norm["method_parameters"].get(loc[1], [])
            idx = loc[1] if loc[0] == "parameters" else (loc[2] if len(loc) > 2 else None)
            if isinstance(idx, int) and idx < len(seq) and isinstance(seq[idx], dict) and seq[idx].get("name"):
                field = ".".join(str(x) for x in loc[2 if loc[0] == "parameters" else 3 :])
                where = f"parameter '{seq[idx]['name']}'" + (f" {field}" if field else "")
        bad = f" (got {err['input']!r})" if err.get("type") in ("literal_error", "enum") else ""
        raise ManifestError(f"{where}: {err['msg']}{bad}") from None
