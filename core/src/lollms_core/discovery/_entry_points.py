"""Entry-point discovery of the ``lollms.bindings`` group, one plugin at a time.

This is the only module that knows where bindings come from; it fills a
:class:`~lollms_core.registry.Registry` (which knows nothing of entry points).

pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin; here each
plugin is loaded inside its own ``try`` (``SystemExit`` included) so one broken package
never hides the others nor ends the host process. A plugin module that is still being
imported when discovery runs (``import myplugin`` before ``lollms_core``) is registered
once its import has finished, never dropped. What plugins print while they are imported
goes to stderr, so ``lollms bindings --json`` stays parseable. Nothing heavy is imported:
manifests are served from a content-keyed cache, classes are imported when a binding is
first created.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, Optional, TypeVar

from ..registry._sources import specs_from_sources
from ..registry._spec import normalise_distribution
from ..registry._table import Registry
from ._manifest_cache import ManifestCache

__all__ = ["ENTRY_POINT_GROUP", "ManifestCache", "build_registry", "specs_from_sources"]

#: The pinned entry-point group a plugin distribution declares.
ENTRY_POINT_GROUP = "lollms.bindings"

T = TypeVar("T")


def _allowed(distribution: str) -> bool:
    """``LOLLMS_LOAD_PLUGINS``: unset = all, empty = none, comma list = only these distributions."""
    raw = os.environ.get("LOLLMS_LOAD_PLUGINS")
    if raw is None:
        return True
    wanted = {normalise_distribution(x) for x in raw.split(",") if x.strip()}
    return normalise_distribution(distribution) in wanted


def build_registry(
    group: str = ENTRY_POINT_GROUP, cache: Optional[ManifestCache] = None, registry: Optional[Registry] = None
) -> Registry:
    """Fill ``registry`` with the core's built-in bindings plus every installed plugin.

    :param cache: the entry-point list and manifests on disk (default: a new :class:`ManifestCache`).
    :param registry: the object to fill (default: a new one, with ``cache`` as its manifest
        store); :func:`default_registry` passes the registry it hands
        to plugins that ask for it while discovery runs (built with the same cache).
    """
    from ..builtin import echo_plugin

    cache = cache if cache is not None else ManifestCache()
    registry = registry if registry is not None else Registry(manifest_store=cache)
    items = cache.entry_points(group)  # first: it also learns lollms-core's version (no importlib.metadata when warm)
    registry.register_plugin(echo_plugin, "lollms-core", cache.core_version(), name="lollms-core:echo", row_name="echo")
    for name, value, dist, version in items:
        if not _allowed(dist):
            continue
        if _still_importing(value):
            registry.defer(_retry(registry, cache, name, value, dist, version))
            continue
        _load_plugin(registry, name, value, dist, version)
    cache.save()
    return registry


def _load_plugin(registry: Registry, name: str, value: str, dist: str, version: str) -> None:
    """Import one entry point and register it; every failure is an error row."""
    try:
        module = _to_stderr(lambda: _load_entry_point(value))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit at a plugin's import must not end the host process
        registry.add_error(name, dist, version, f"import of {value} failed: {type(exc).__name__}: {exc}")
        return
    _to_stderr(lambda: registry.register_plugin(module, dist, version, name=f"{dist}:{name}", row_name=name))


def _retry(
    registry: Registry, cache: ManifestCache, name: str, value: str, dist: str, version: str
) -> Callable[[], bool]:
    def retry() -> bool:
        if _still_importing(value):
            return False
        _load_plugin(registry, name, value, dist, version)
        cache.save()
        return True

    return retry


def _still_importing(value: str) -> bool:
    """Whether the entry point's module (or a package above it) is half-way through its import."""
    parts = value.partition(":")[0].strip().split(".")
    for i in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False):
            return True
    return False


def _to_stderr(fn: Callable[[], T]) -> T:
    """Run ``fn`` with ``sys.stdout`` pointing at stderr (plugins that print must not corrupt our output)."""
    with contextlib.redirect_stdout(sys.stderr):
        return fn()


def _load_entry_point(value: str) -> Any:
    """What ``EntryPoint.load()`` does, without needing importlib.metadata."""
    module_name, _, attrs = value.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj
