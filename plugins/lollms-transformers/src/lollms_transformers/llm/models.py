"""Where a model name points (a folder, a .gguf file, a cached hub id) and what models exist here.

Pure file-system work: nothing here imports torch or transformers, so resolving and listing
models is instant and cannot start a download. The hub cache is read in its documented layout
(``models--ORG--NAME/refs/main`` naming a ``snapshots/<commit>`` folder).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lollms_core.errors import BindingLoadError, NotFoundError

__all__ = ["ModelSource", "default_hub_cache", "list_local_models", "resolve_model"]

# A hub id as the hub spells it: ORG/NAME (letters, digits, '-', '_', '.').
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# A .gguf file inside a cached hub repository, as list_models names it: ORG/NAME/FILE.gguf.
_HUB_GGUF = re.compile(r"^([A-Za-z0-9][\w.-]*/[\w.-]+)/([^/]+\.gguf)$")
# Files that make a folder a transformers checkpoint.
_WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth")


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: what ``from_pretrained`` receives and how to show it.

    :param kind: ``"folder"`` (a local checkpoint folder), ``"gguf"`` (a .gguf file, dequantized on
        load), ``"hub"`` (a hub id: its cached snapshot folder, or the id itself when downloading).
    :param location: the folder path or hub id passed to ``from_pretrained``.
    :param gguf_file: the .gguf file name inside ``location`` (``gguf_file=``), if any.
    :param name: what ``model_name`` shows (a hub id, a name in ``models_path``, or the path).
    :param download: ``True`` when ``location`` is a hub id that is not cached (``allow_download``).
    """

    kind: str
    location: str
    gguf_file: str | None
    name: str
    download: bool = False

    @property
    def path(self) -> Path | None:
        """The file or folder on disk (``None`` for a hub id still to download)."""
        if self.download:
            return None
        folder = Path(self.location)
        return folder / self.gguf_file if self.gguf_file else folder


def default_hub_cache() -> Path:
    """The hub cache huggingface_hub uses: ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _is_checkpoint(folder: Path) -> bool:
    return (folder / "config.json").is_file()


def _ggufs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.gguf") if p.is_file() and "mmproj" not in p.name.lower())


def _cached_snapshot(cache: Path, repo_id: str) -> Path | None:
    """The snapshot folder of ``repo_id`` in the hub cache (the ``main`` ref, else the newest one)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / "main"
    if ref.is_file():
        snapshot = snapshots / ref.read_text(encoding="utf-8").strip()
        if snapshot.is_dir():
            return snapshot
    candidates = sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def _from_folder(folder: Path, name: str, gguf_file: str) -> ModelSource:
    """A folder holding a checkpoint or .gguf files, as a source (``gguf_file`` picks among several)."""
    if gguf_file:
        if not (folder / gguf_file).is_file():
            have = ", ".join(p.name for p in _ggufs(folder)) or "none"
            raise BindingLoadError(f"gguf_file '{gguf_file}' is not in {folder} (.gguf files there: {have})")
        return ModelSource("gguf", str(folder), gguf_file, name)
    if _is_checkpoint(folder):
        return ModelSource("folder", str(folder), None, name)
    ggufs = _ggufs(folder)
    if len(ggufs) == 1:
        return ModelSource("gguf", str(folder), ggufs[0].name, name)
    if ggufs:
        listed = ", ".join(p.name for p in ggufs)
        raise BindingLoadError(f"{folder} holds several .gguf files ({listed}): set gguf_file to the one to load")
    raise BindingLoadError(
        f"{folder} is not a model folder: it has no config.json (a transformers checkpoint) and no .gguf file"
    )


def resolve_model(
    name: str,
    *,
    models_dir: Path | None,
    hub_cache: Path,
    gguf_file: str = "",
    allow_download: bool = False,
) -> ModelSource:
    """Turn a model name into a :class:`ModelSource`, looking on disk only.

    Tried in order: ``name`` as a path (folder or .gguf file); ``models_dir/name`` (``.gguf``
    optional); ``name`` as a hub id in ``hub_cache``; with ``allow_download``, the hub id as is.

    :raises NotFoundError: nothing matches (the message lists what is available and how to allow a download).
    :raises BindingLoadError: the name points at something that is not a loadable model.
    """
    candidates = [Path(name).expanduser()]
    if models_dir is not None:
        candidates += [models_dir / name, models_dir / f"{name}.gguf"]
    for path in candidates:
        if path.is_dir():
            return _from_folder(path, name, gguf_file)
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise BindingLoadError(
                    f"{path} is a file but not a .gguf model; give a model folder (with config.json) or a .gguf file"
                )
            return ModelSource("gguf", str(path.parent), path.name, name)
    hub_gguf = _HUB_GGUF.match(name)
    if hub_gguf:
        snapshot = _cached_snapshot(hub_cache, hub_gguf.group(1))
        if snapshot is not None and (snapshot / hub_gguf.group(2)).is_file():
            return ModelSource("gguf", str(snapshot), hub_gguf.group(2), name)
    if _HUB_ID.match(name):
        snapshot = _cached_snapshot(hub_cache, name)
        if snapshot is not None:
            return _from_folder(snapshot, name, gguf_file)
        if allow_download:
            return ModelSource("hub", name, gguf_file or None, name, download=True)
    where = [f"models_path {models_dir}" if models_dir is not None else "no models_path set", f"hub cache {hub_cache}"]
    known = ", ".join(m["model_name"] for m in list_local_models(models_dir, hub_cache)) or "none"
    hint = (
        " It looks like a hub id: set allow_download=true to let transformers download it."
        if _HUB_ID.match(name) and not allow_download
        else ""
    )
    raise NotFoundError(f"no model '{name}' ({'; '.join(where)}); available: {known}.{hint}")


def _checkpoint_facts(folder: Path) -> dict[str, Any]:
    """Architecture and context length from config.json, and the size of the weights."""
    facts: dict[str, Any] = {}
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"unreadable config.json: {exc}"}
    if isinstance(config, dict):
        nested = config.get("text_config")
        text: dict[str, Any] = nested if isinstance(nested, dict) else config
        facts["architecture"] = config.get("model_type")
        facts["context_length"] = text.get("max_position_embeddings")
        facts["vision"] = "vision_config" in config
    size = sum(p.stat().st_size for pattern in _WEIGHTS for p in folder.glob(pattern) if p.is_file())
    facts["size_gb"] = round(size / 1e9, 3)
    return facts


def _entries_in(folder: Path, name: str, kind: str) -> list[dict[str, Any]]:
    """The models one folder offers: itself when it is a checkpoint, and each of its .gguf files."""
    entries: list[dict[str, Any]] = []
    if _is_checkpoint(folder):
        entries.append({"model_name": name, "path": str(folder), "kind": kind, **_checkpoint_facts(folder)})
    for gguf in _ggufs(folder):
        entry_name = f"{name}/{gguf.name}" if name else gguf.name
        size = round(gguf.stat().st_size / 1e9, 3)
        entries.append({"model_name": entry_name, "path": str(gguf), "kind": "gguf", "size_gb": size})
    return entries


def list_local_models(models_dir: Path | None, hub_cache: Path) -> list[dict[str, Any]]:
    """Checkpoint folders and .gguf files in ``models_dir`` (one level down too), then cached hub models."""
    models: list[dict[str, Any]] = []
    if models_dir is not None and models_dir.is_dir():
        models += _entries_in(models_dir, "", "folder")
        for sub in sorted(p for p in models_dir.iterdir() if p.is_dir()):
            models += _entries_in(sub, sub.name, "folder")
    if hub_cache.is_dir():
        for repo in sorted(hub_cache.glob("models--*")):
            repo_id = repo.name.removeprefix("models--").replace("--", "/", 1)
            snapshot = _cached_snapshot(hub_cache, repo_id)
            if snapshot is not None:
                models += _entries_in(snapshot, repo_id, "hub")
    return models
