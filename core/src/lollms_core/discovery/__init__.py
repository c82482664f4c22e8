"""Where bindings come from: entry points, the manifest cache, the default registry and the managers.

The face of :mod:`lollms_core.discovery`. :func:`build_registry` loads the plugins of the
``lollms.bindings`` entry-point group one by one into a :class:`~lollms_core.registry.Registry`;
:func:`default_registry` is the process-wide one built at ``import lollms_core``; the
``*BindingManager`` classes (seed 002) list and create bindings of one modality over a registry.
"""

from __future__ import annotations

from ._default_registry import default_registry, reset_default_registry
from ._entry_points import ENTRY_POINT_GROUP, build_registry
from ._manifest_cache import ManifestCache
from .managers import (
    BindingManager,
    LollmsLLMBindingManager,
    LollmsSTTBindingManager,
    LollmsTOOLBindingManager,
    LollmsToolBindingManager,
    LollmsTTIBindingManager,
    LollmsTTMBindingManager,
    LollmsTTSBindingManager,
    LollmsTTVBindingManager,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "BindingManager",
    "LollmsLLMBindingManager",
    "LollmsSTTBindingManager",
    "LollmsTOOLBindingManager",
    "LollmsTTIBindingManager",
    "LollmsTTMBindingManager",
    "LollmsTTSBindingManager",
    "LollmsTTVBindingManager",
    "LollmsToolBindingManager",
    "ManifestCache",
    "build_registry",
    "default_registry",
    "reset_default_registry",
]
