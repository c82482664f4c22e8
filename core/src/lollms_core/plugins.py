"""Entry-point discovery of the ``lollms.bindings`` group, one plugin at a time.

pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin; here each
plugin is loaded inside its own ``try`` so one broken package never hides the others.
Nothing heavy is imported: manifests are read as package data (and, once validated,
served from a small cache keyed by distribution, version and file stamp), classes are
imported when a binding is first created.
"""

from __future__ import annotations

import binascii
import importlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Optional

from .errors import ManifestError
from .registry import BindingSpec, Registry
from .types import CORE_API_VERSION, Modality

__all__ = ["ENTRY_POINT_GROUP", "ManifestCache", "build_registry", "specs_from_sources"]

#: The pinned entry-point group a plugin distribution declares.
ENTRY_POINT_GROUP = "lollms.bindings"


def _allowed(distribution: str) -> bool:
    """``LOLLMS_LOAD_PLUGINS``: unset = all, empty = none, comma list = only these distributions."""
    raw = os.environ.get("LOLLMS_LOAD_PLUGINS")
    if raw is None:
        return True
    wanted = {_norm(x) for x in raw.split(",") if x.strip()}
    return _norm(distribution) in wanted


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


class ManifestCache:
    """Validated manifests on disk, so ``import lollms_core`` need not load YAML or pydantic.

    Keys hold the distribution, its version and the manifest file's size and mtime: any
    upgrade or edit misses the cache and is validated again. ``LOLLMS_CACHE_DIR`` moves
    it, ``LOLLMS_MANIFEST_CACHE=0`` turns it off; an unwritable folder just means no cache.
    """

    FORMAT = 1

    def __init__(self, path: Path | None = None) -> None:
        enabled = os.environ.get("LOLLMS_MANIFEST_CACHE", "1") not in ("0", "false", "no")
        self.path = path if path is not None else (_cache_dir() / "manifests.json" if enabled else None)
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("format") == self.FORMAT and data.get("core_api") == CORE_API_VERSION:
                    self.entries = data["entries"]
            except (OSError, ValueError, KeyError, AttributeError):
                pass

    def get(self, key: str | None) -> dict[str, Any] | None:
        """The cached normalised manifest for ``key``, if any."""
        return self.entries.get(key) if key else None

    def put(self, key: str | None, data: dict[str, Any]) -> None:
        """Remember a validated manifest."""
        if key and self.entries.get(key) != data:
            self.entries[key] = data
            self.dirty = True

    def entry_points(self, group: str) -> list[list[str]]:
        """``[name, value, distribution, version]`` of every entry point in ``group``.

        importlib.metadata costs ~20 ms to import and scan; its answer is reused while no
        folder on ``sys.path`` has changed.
        """
        stamp = _path_stamp()
        cached = self.entries.get(f"entry-points|{group}")
        if cached and cached.get("stamp") == stamp:
            return cached["items"]  # type: ignore[no-any-return]
        from importlib import metadata

        items = [
            [ep.name, ep.value, ep.dist.name if ep.dist else ep.name, ep.dist.version if ep.dist else ""]
            for ep in metadata.entry_points(group=group)
        ]
        core = metadata.version("lollms-core") if _installed("lollms-core") else "0+unknown"
        self.put(f"entry-points|{group}", {"stamp": stamp, "items": items, "core_version": core})
        return items

    def core_version(self) -> str:
        """lollms-core's installed version (cached with the entry points)."""
        for key, value in self.entries.items():
            if key.startswith("entry-points|") and value.get("stamp") == _path_stamp():
                return str(value.get("core_version", "0+unknown"))
        from importlib import metadata

        return metadata.version("lollms-core") if _installed("lollms-core") else "0+unknown"

    def save(self) -> None:
        """Write the cache atomically if it changed; failures are ignored (it is only a cache)."""
        if not (self.dirty and self.path):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            payload = {"format": self.FORMAT, "core_api": CORE_API_VERSION, "entries": self.entries}
            tmp.write_text(json.dumps(payload), encoding="utf-8")
            tmp.replace(self.path)
            self.dirty = False
        except OSError:
            pass


def _installed(distribution: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _cache_dir() -> Path:
    if os.environ.get("LOLLMS_CACHE_DIR"):
        return Path(os.environ["LOLLMS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lollms"


def build_registry(group: str = ENTRY_POINT_GROUP, cache: Optional[ManifestCache] = None) -> Registry:
    """Build a registry from the core's built-in bindings plus every installed plugin."""
    from .builtin import echo_plugin

    cache = cache if cache is not None else ManifestCache()
    registry = Registry()
    registry.manifest_cache = cache
    registry.register_plugin(echo_plugin, "lollms-core", cache.core_version(), name="lollms-core:echo")
    for name, value, dist, version in cache.entry_points(group):
        if not _allowed(dist):
            continue
        try:
            module = _load_entry_point(value)
        except Exception as exc:
            registry.add_error(name, dist, version, f"import of {value} failed: {type(exc).__name__}: {exc}")
            continue
        registry.register_plugin(module, dist, version, name=f"{dist}:{name}")
    cache.save()
    return registry


def _load_entry_point(value: str) -> Any:
    """What ``EntryPoint.load()`` does, without needing importlib.metadata."""
    module_name, _, attrs = value.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def _path_stamp() -> str:
    """Modification times of the import path's folders: pip installing or removing anything changes one."""
    parts = []
    for entry in sys.path:
        try:
            parts.append(f"{entry}@{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return f"{binascii.crc32(chr(0).join(parts).encode()):08x}:{len(parts)}"


def specs_from_sources(
    sources: Iterable[Any], distribution: str, version: str, cache: ManifestCache | None = None
) -> Iterator[BindingSpec]:
    """Turn what ``lollms_register_bindings`` returned into registry entries (errors included)."""
    for source in sources:
        package: str | None = source if isinstance(source, str) else None
        fallback = package.rsplit(".", 1)[-1] if package else str(source)
        try:
            data = _manifest_data(source, distribution, version, cache)
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
        name, modality = data["name"], Modality(data["modality"])
        if data.get("core_api", CORE_API_VERSION) != CORE_API_VERSION:
            yield BindingSpec(
                name,
                modality,
                distribution,
                version,
                status="error",
                error=f"built for lollms core API {data['core_api']}; this lollms-core implements "
                f"{CORE_API_VERSION} (upgrade or downgrade one of them)",
                manifest_data=data,
                package=package,
            )
            continue
        yield BindingSpec(name, modality, distribution, version, manifest_data=data, package=package)


def _manifest_data(source: Any, distribution: str, version: str, cache: ManifestCache | None) -> dict[str, Any]:
    """Normalised manifest data for a source: from the cache, else parsed and validated."""
    if not isinstance(source, (str, Path, dict)):
        from .manifest import Manifest

        if not isinstance(source, Manifest):
            kind = type(source).__name__
            raise ManifestError(f"a binding source must be a package name, Path, dict or Manifest, not {kind}")
        return source.model_dump(by_alias=True, mode="json")
    text: str | None = None
    key: str | None
    if isinstance(source, dict):
        digest = f"{binascii.crc32(json.dumps(source, sort_keys=True, default=str).encode()):08x}"
        key = f"{distribution}|{version}|dict|{digest}"
    else:
        resource = _resource(source)
        stamp = _stamp(resource)
        key = f"{distribution}|{version}|{source}|{stamp}" if stamp else None
        cached = cache.get(key) if cache else None
        if cached is not None:
            return cached
        text = resource.read_text(encoding="utf-8")
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    from .manifest import parse_manifest

    if text is None:
        manifest = parse_manifest(source)
    else:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        default_name = source.parent.name if isinstance(source, Path) else str(source).rsplit(".", 1)[-1]
        manifest = parse_manifest(yaml.load(text, Loader=loader), default_name)
    data = manifest.model_dump(by_alias=True, mode="json")
    if cache:
        cache.put(key, data)
    return data


def _resource(source: Any) -> Any:
    if isinstance(source, Path):
        return source
    if not isinstance(source, str):
        raise ManifestError(
            f"a binding source must be a package name, Path, dict or Manifest, not {type(source).__name__}"
        )
    top, *rest = source.split(".")
    file = getattr(sys.modules.get(top), "__file__", None)
    if file and os.path.isfile(file):
        # The plugin package is already imported (it is the entry point): importlib.resources
        # (5 ms to import) is only needed for packages living in zip files.
        return Path(file).parent.joinpath(*rest, "description.yaml")
    from importlib import resources

    return resources.files(top).joinpath(*rest, "description.yaml")


def _stamp(resource: Any) -> str | None:
    """Size and mtime of a manifest file, when it is a real file (zip imports are not cached)."""
    try:
        st = os.stat(os.fspath(resource))
    except (TypeError, OSError):
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"
