"""The process-wide default registry (built at ``import lollms_core``).

Re-entrant: a plugin that calls :func:`lollms_core.get_registry` while it is being
imported by discovery gets the registry being built (its own bindings are added once its
import returns), not a deadlock.
"""

from __future__ import annotations

import threading

from ..registry import Registry
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
