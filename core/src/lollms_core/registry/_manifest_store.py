"""Where the registry keeps validated manifests between runs: a protocol, filled by discovery.

The registry is handed a store when it is built (``Registry(manifest_store=...)``);
:class:`lollms_core.discovery.ManifestCache` is the on-disk one. Keys are built here, on
content, so any store serves the same rows for the same bytes.
"""

from __future__ import annotations

from typing import Any, Protocol

try:  # 0.5 ms to import, where hashlib (OpenSSL) costs 3 ms of the warm import
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - Python builds without the module
    from hashlib import blake2b

__all__ = ["ManifestStore", "content_hash"]


def content_hash(data: bytes) -> str:
    """A short hash of ``data`` (cache keys only: collisions cost a stale cache, not security)."""
    return blake2b(data, digest_size=12).hexdigest()


class ManifestStore(Protocol):
    """Validated manifest data by content key, and the installed lollms-core version."""

    def get(self, key: str | None) -> dict[str, Any] | None:
        """The normalised manifest stored under ``key``, or ``None``."""

    def put(self, key: str | None, data: dict[str, Any]) -> None:
        """Remember ``data`` (a validated, normalised manifest) under ``key``."""

    def core_version(self) -> str:
        """The installed lollms-core version (named in core-API mismatch errors)."""

    def save(self) -> None:
        """Write what was learnt since the last save (a no-op for a store that keeps nothing)."""
