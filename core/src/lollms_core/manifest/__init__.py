"""``description.yaml``: the manifest model, its YAML loading, the ``core_api`` check and config checking.

The face of :mod:`lollms_core.manifest`. The pydantic models (``Manifest``, ``Parameter``,
``Command``, ``parse_manifest``) load on first use: discovery reads manifests through the
light modules of this package (``_yaml_file``, ``_core_api``, ``_config_check``) and only
pays for pydantic when a binding is created or inspected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..types import CORE_API_VERSION
from ._config_check import BindingConfig

if TYPE_CHECKING:
    from ._model import Command, Manifest, Parameter, parse_manifest

__all__ = ["CORE_API_VERSION", "BindingConfig", "Command", "Manifest", "Parameter", "parse_manifest"]

_PYDANTIC = frozenset({"Command", "Manifest", "Parameter", "parse_manifest"})


def __getattr__(name: str) -> Any:
    if name in _PYDANTIC:
        from . import _model

        value = getattr(_model, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lollms_core.manifest' has no attribute {name!r}")
