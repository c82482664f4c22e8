"""The process-wide default registry (built at ``import lollms_core``)."""

from __future__ import annotations

import threading

from .registry import Registry

_registry: Registry | None = None
_lock = threading.Lock()


def default_registry() -> Registry:
    """The registry built from installed plugins, created on first use."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                from .plugins import build_registry

                _registry = build_registry()
    return _registry


def reset_default_registry() -> None:
    """Forget the default registry so the next use rediscovers plugins (tests, notebooks)."""
    global _registry
    _registry = None
