"""The process-wide default registry (built at ``import lollms_core``), and the lookup it answers.

Importing this module fills the bindings' lookup slot (:mod:`lollms_core.bindings._host`):
a binding class constructed directly finds its row and event sink in the default registry.

Re-entrant: a plugin that calls :func:`lollms_core.get_registry` while it is being
imported by discovery gets the registry being built (its own bindings are added once its
import returns), not a deadlock.
"""

from __future__ import annotations

import threading

from ..bindings._host import fill_binding_lookup
from ..registry import BindingSpec, Registry
from ._entry_points import build_registry
from ._manifest_cache import ManifestCache

_registry: Registry | None = None
_building: Registry | None = None
_lock = threading.RLock()


def default_registry() -> Registry:
    """The registry built from installed plugins, created on first use."""
    global _registry, _building
    if _registry is not None:
        return _registry
    with _lock:
        if _registry is not None:
            return _registry
        if _building is not None:  # called from inside discovery (a plugin's import): same thread
            return _building
        cache = ManifestCache()
        _building = Registry(manifest_store=cache)
        try:
            _registry = build_registry(cache=cache, registry=_building)
        finally:
            _building = None
    return _registry


def reset_default_registry() -> None:
    """Forget the default registry so the next use rediscovers plugins (tests, notebooks)."""
    global _registry
    _registry = None


class DefaultRegistryLookup:
    """The default registry's answers to a binding class constructed directly (seed code's way).

    Installed in :mod:`lollms_core.bindings`' lookup slot when this module is imported (at
    ``import lollms_core``): the bindings ask the slot, never this module.
    """

    def row_for(self, cls: type) -> BindingSpec | None:
        """The usable row of ``cls``'s modality whose class path is ``cls`` or whose package holds it."""
        here = f"{cls.__module__}:{cls.__qualname__}"
        modality = getattr(cls, "modality", None)
        for spec in default_registry().entries:
            if not (spec.usable and spec.modality == modality):
                continue
            if spec.class_path == here or (spec.package and cls.__module__.startswith(spec.package)):
                return spec
        return None

    def event_sink(self) -> Registry:
        """The default registry: its plugins observe the events of directly built bindings."""
        return default_registry()


fill_binding_lookup(DefaultRegistryLookup())
