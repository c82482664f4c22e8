"""The on-disk cache that lets ``import lollms_core`` skip importlib.metadata, YAML and pydantic.

Entries are keyed on CONTENT: a manifest by the hash of its bytes, the entry-point list by
the import path's folders plus the hash of every plugin distribution's ``entry_points.txt``
and ``METADATA`` (a file rewritten in place with the same size and mtime is still seen).
A cache file that does not have the expected shape is discarded and rebuilt, never trusted.
"""

from __future__ import annotations

import binascii
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..registry._manifest_store import content_hash
from ..types import CORE_API_VERSION

__all__ = ["ManifestCache", "content_hash"]  # content_hash: re-exported, it lives with the store protocol

#: Files of a distribution whose content decides what discovery sees.
_DIST_FILES = ("entry_points.txt", "METADATA")


class ManifestCache:
    """Validated manifests and the entry-point list, on disk.

    ``LOLLMS_CACHE_DIR`` moves it, ``LOLLMS_MANIFEST_CACHE=0`` turns it off; an unwritable
    folder just means no cache.
    """

    FORMAT = 2

    def __init__(self, path: Path | None = None) -> None:
        enabled = os.environ.get("LOLLMS_MANIFEST_CACHE", "1") not in ("0", "false", "no")
        self.path = path if path is not None else (_cache_dir() / "manifests.json" if enabled else None)
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self._core_version: str | None = None
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return
            self.entries = _valid_entries(data)

    def get(self, key: str | None) -> dict[str, Any] | None:
        """The cached normalised manifest for ``key``, if any (and if it looks like one)."""
        value = self.entries.get(key) if key else None
        if value is None or not (isinstance(value.get("name"), str) and isinstance(value.get("modality"), str)):
            return None
        return value

    def put(self, key: str | None, data: dict[str, Any]) -> None:
        """Remember a validated manifest."""
        if key and self.entries.get(key) != data:
            self.entries[key] = data
            self.dirty = True

    def entry_points(self, group: str) -> list[list[str]]:
        """``[name, value, distribution, version]`` of every entry point in ``group``.

        importlib.metadata costs ~20 ms to import and scan; its answer is reused while the
        import path's folders and the plugin distributions' metadata files are unchanged.
        """
        stamp = _path_stamp()
        cached = self.entries.get(f"entry-points|{group}")
        if cached and cached.get("stamp") == stamp and _files_unchanged(cached.get("files")):
            items = cached.get("items")
            if isinstance(items, list) and all(_is_row(i) for i in items):
                self._core_version = str(cached.get("core_version", "0+unknown"))
                return items
        from importlib import metadata

        items, files = [], {}
        for ep in metadata.entry_points(group=group):
            dist = ep.dist
            items.append([ep.name, ep.value, dist.name if dist else ep.name, dist.version if dist else ""])
            files.update(_dist_files(dist))
        core = _distribution("lollms-core")
        files.update(_dist_files(core))
        version = self._core_version = core.version if core is not None else "0+unknown"
        self.put(f"entry-points|{group}", {"stamp": stamp, "items": items, "files": files, "core_version": version})
        return items

    def core_version(self) -> str:
        """lollms-core's installed version (found with the entry points)."""
        if self._core_version is not None:
            return self._core_version
        core = _distribution("lollms-core")
        return core.version if core is not None else "0+unknown"

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


def _valid_entries(data: Any) -> dict[str, dict[str, Any]]:
    """The cache's entries if the file has the expected shape, else nothing (it is rebuilt)."""
    if not isinstance(data, dict) or data.get("format") != ManifestCache.FORMAT:
        return {}
    if data.get("core_api") != CORE_API_VERSION:
        return {}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, dict)}


def _is_row(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 4 and all(isinstance(x, str) for x in item)


def _distribution(name: str) -> Any:
    from importlib import metadata

    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _dist_files(dist: Any) -> dict[str, str]:
    """``{path: content hash}`` of a distribution's entry_points.txt and METADATA (when on disk)."""
    folder = getattr(dist, "_path", None)  # PathDistribution's folder; other kinds are not hashed
    if folder is None:
        return {}
    out = {}
    for name in _DIST_FILES:
        path = os.path.join(os.fspath(folder), name)
        out[path] = _file_hash(path)
    return out


def _file_hash(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return content_hash(f.read())
    except OSError:
        return "missing"


def _files_unchanged(files: Any) -> bool:
    if not isinstance(files, dict):
        return False
    return all(isinstance(h, str) and _file_hash(str(p)) == h for p, h in files.items())


def _cache_dir() -> Path:
    if os.environ.get("LOLLMS_CACHE_DIR"):
        return Path(os.environ["LOLLMS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lollms"


def _path_stamp() -> str:
    """Modification times of the import path's folders: pip installing or removing anything changes one."""
    parts = []
    for entry in sys.path:
        try:
            parts.append(f"{entry}@{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return f"{binascii.crc32(chr(0).join(parts).encode()):08x}:{len(parts)}"
