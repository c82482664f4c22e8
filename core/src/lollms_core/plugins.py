"""Entry-point discovery of the ``lollms.bindings`` group, one plugin at a time.

pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin; here each
plugin is loaded inside its own ``try`` so one broken package never hides the others.
Nothing heavy is imported: manifests are read as package data, classes are imported
when a binding is first created.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml

from .errors import ManifestError
from .manifest import CORE_API_VERSION, Manifest, parse_manifest
from .registry import BindingSpec, Registry

__all__ = ["ENTRY_POINT_GROUP", "build_registry", "specs_from_sources"]

#: The pinned entry-point group a plugin distribution declares.
ENTRY_POINT_GROUP = "lollms.bindings"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _allowed(distribution: str) -> bool:
    """``LOLLMS_LOAD_PLUGINS``: unset = all, empty = none, comma list = only these distributions."""
    raw = os.environ.get("LOLLMS_LOAD_PLUGINS")
    if raw is None:
        return True
    wanted = {_norm(x) for x in raw.split(",") if x.strip()}
    return _norm(distribution) in wanted


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def build_registry(group: str = ENTRY_POINT_GROUP) -> Registry:
    """Build a registry from the core's built-in bindings plus every installed plugin."""
    from .testing import echo_plugin

    registry = Registry()
    registry.register_plugin(echo_plugin, "lollms-core", _core_version(), name="lollms-core:echo")
    for ep in metadata.entry_points(group=group):
        dist = ep.dist.name if ep.dist else ep.name
        version = ep.dist.version if ep.dist else ""
        if not _allowed(dist):
            continue
        try:
            module = ep.load()
        except Exception as exc:
            registry.add_error(ep.name, dist, version, f"import of {ep.value} failed: {type(exc).__name__}: {exc}")
            continue
        registry.register_plugin(module, dist, version, name=f"{dist}:{ep.name}")
    return registry


def _core_version() -> str:
    try:
        return metadata.version("lollms-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def specs_from_sources(sources: Iterable[Any], distribution: str, version: str) -> Iterator[BindingSpec]:
    """Turn what ``lollms_register_bindings`` returned into registry entries (errors included)."""
    for source in sources:
        package: str | None = source if isinstance(source, str) else None
        fallback = package.rsplit(".", 1)[-1] if package else str(source)
        try:
            manifest = _load_manifest(source)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, ManifestError) else f"{type(exc).__name__}: {exc}"
            yield BindingSpec(
                fallback,
                None,
                distribution,
                version,
                status="error",
                error=f"bad description.yaml for {fallback}: {' '.join(reason.split())}",
                package=package,
            )
            continue
        if manifest.core_api != CORE_API_VERSION:
            yield BindingSpec(
                manifest.name,
                manifest.modality,
                distribution,
                version,
                status="error",
                error=f"built for lollms core API {manifest.core_api}; this lollms-core implements "
                f"{CORE_API_VERSION} (upgrade or downgrade one of them)",
                manifest=manifest,
                package=package,
            )
            continue
        yield BindingSpec(manifest.name, manifest.modality, distribution, version, manifest=manifest, package=package)


def _load_manifest(source: Any) -> Manifest:
    if isinstance(source, Manifest):
        return source
    if isinstance(source, dict):
        return parse_manifest(source)
    if isinstance(source, Path):
        return parse_manifest(yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader), source.parent.name)
    if isinstance(source, str):
        top, *rest = source.split(".")
        text = resources.files(top).joinpath(*rest, "description.yaml").read_text(encoding="utf-8")
        return parse_manifest(yaml.load(text, Loader=_Loader), rest[-1] if rest else top)
    raise ManifestError(f"a binding source must be a package name, Path, dict or Manifest, not {type(source).__name__}")
