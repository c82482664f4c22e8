"""From what ``lollms_register_bindings`` returned to registry rows: manifests read, checked and cached.

A source is a dotted package name (its ``description.yaml`` is read without importing it),
a path to a ``description.yaml``, a parsed mapping or a ready
:class:`~lollms_core.manifest.Manifest`. Every failure becomes an error row that names the
distribution, the binding (as far as the manifest says) and the file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..manifest._core_api import core_api_mismatch
from ..manifest._yaml_file import load_manifest_yaml
from ..types import CORE_API_VERSION, Modality
from ._manifest_store import ManifestStore, content_hash
from ._spec import BindingSpec, Status

__all__ = ["specs_from_sources"]


class _BadManifest(Exception):
    """A manifest that failed: where it is, what it said of itself, and why it failed."""

    def __init__(self, where: str, raw: Any, reason: str) -> None:
        super().__init__(reason)
        self.where, self.raw, self.reason = where, raw, reason


def specs_from_sources(
    sources: Iterable[Any],
    distribution: str,
    version: str,
    cache: ManifestStore | None = None,
    plugin_name: str | None = None,
) -> Iterator[BindingSpec]:
    """Turn what ``lollms_register_bindings`` returned into registry rows (errors included).

    :param plugin_name: the entry-point name, used for a broken manifest that does not even say its own name.
    """
    for source in sources:
        package: str | None = source if isinstance(source, str) else None
        try:
            data = _manifest_data(source, distribution, version, cache)
        except _BadManifest as bad:
            name, modality = _self_description(bad.raw, plugin_name or _last(package) or str(source))
            reason = " ".join(bad.reason.split())
            yield BindingSpec(
                name,
                modality,
                distribution,
                version,
                status="error",
                error=f"bad description.yaml {bad.where}: {reason}",
                package=package,
            )
            continue
        except Exception as exc:  # a source nobody anticipated: still one row, never a crash
            yield BindingSpec(
                plugin_name or _last(package) or str(source)[:40],
                None,
                distribution,
                version,
                status="error",
                error=f"bad binding source {str(source)[:80]!r}: {type(exc).__name__}: {' '.join(str(exc).split())}",
                package=package,
            )
            continue
        name, modality = data["name"], Modality(data["modality"])
        mismatch = core_api_mismatch(data.get("core_api"), CORE_API_VERSION)
        if mismatch:
            yield BindingSpec(
                name,
                modality,
                distribution,
                version,
                status="error",
                error=f"{mismatch} (lollms-core {_core_version(cache)}); upgrade or downgrade one of them",
                manifest_data=data,
                package=package,
            )
            continue
        status: Status = "unverified" if data.get("core_api") is None else "ok"
        yield BindingSpec(
            name,
            modality,
            distribution,
            version,
            status=status,
            manifest_data=data,
            package=package,
            warning=_version_warning(data.get("version"), distribution, version),
        )


def _version_warning(declared: Any, distribution: str, version: str) -> str | None:
    """The distribution's version is the truth; say so when the manifest claims another."""
    if not declared or not version or str(declared).strip() == version:
        return None
    return f"description.yaml says version {declared}; {distribution} is {version} (the distribution's version is used)"


def _core_version(cache: ManifestStore | None) -> str:
    return cache.core_version() if cache is not None else _installed_core_version()


def _installed_core_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("lollms-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _last(package: str | None) -> str | None:
    return package.rsplit(".", 1)[-1] if package else None


def _self_description(raw: Any, fallback: str) -> tuple[str, Modality | None]:
    """The name and modality a broken manifest gives itself, when it gives them at all."""
    name, modality = fallback, None
    if isinstance(raw, dict):
        claimed = raw.get("name") or raw.get("binding_name")
        if isinstance(claimed, str) and claimed.strip():
            name = claimed.strip()
        try:
            modality = Modality(raw.get("modality") or raw.get("binding_type"))
        except ValueError:
            modality = None
    return name, modality


def _manifest_data(source: Any, distribution: str, version: str, cache: ManifestStore | None) -> dict[str, Any]:
    """Normalised manifest data for a source: from the cache (keyed on content), else parsed and validated."""
    from_model = _from_manifest_object(source)
    if from_model is not None:
        return from_model
    if isinstance(source, dict):
        raw: Any = source
        where = f"(mapping from {distribution})"
        blob = json.dumps(source, sort_keys=True, default=str).encode()
        key = f"{distribution}|{version}|dict|{content_hash(blob)}"
        cached = cache.get(key) if cache else None
        if cached is not None:
            return cached
        default_name = ""
    else:
        resource = _resource(source)
        where = str(resource)
        try:
            blob = resource.read_bytes()
        except OSError as exc:
            raise _BadManifest(where, None, f"cannot read it: {exc.strerror or exc}") from None
        key = f"{distribution}|{version}|{source}|{content_hash(blob)}"
        cached = cache.get(key) if cache else None
        if cached is not None:
            return cached
        try:
            raw = load_manifest_yaml(blob, where)
        except ManifestError as exc:
            raise _BadManifest(where, None, str(exc).removeprefix(f"{where}: ")) from None
        default_name = source.parent.name if isinstance(source, Path) else str(source).rsplit(".", 1)[-1]
    from ..manifest._model import parse_manifest

    try:
        manifest = parse_manifest(raw, default_name)
    except ManifestError as exc:
        raise _BadManifest(where, raw, str(exc)) from None
    data = manifest.model_dump(by_alias=True, mode="json")
    if cache:
        cache.put(key, data)
    return data


def _from_manifest_object(source: Any) -> dict[str, Any] | None:
    if isinstance(source, (str, Path, dict)):
        return None
    from ..manifest._model import Manifest

    if not isinstance(source, Manifest):
        kind = type(source).__name__
        raise _BadManifest(
            f"for {source!r}"[:80], None, f"a binding source must be a package name, Path, dict or Manifest, not {kind}"
        )
    return source.model_dump(by_alias=True, mode="json")


def _resource(source: Any) -> Any:
    if isinstance(source, Path):
        return source
    top, *rest = source.split(".")
    file = getattr(sys.modules.get(top), "__file__", None)
    if file and os.path.isfile(file):
        # The plugin package is already imported (it is the entry point): importlib.resources
        # (5 ms to import) is only needed for packages living in zip files.
        return Path(file).parent.joinpath(*rest, "description.yaml")
    from importlib import resources

    try:
        return resources.files(top).joinpath(*rest, "description.yaml")
    except ModuleNotFoundError as exc:
        raise _BadManifest(f"of {source}", None, f"no package {exc.name!r}") from None
