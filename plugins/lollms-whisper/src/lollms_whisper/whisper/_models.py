"""Finding Whisper models: local CTranslate2 folders, faster-whisper's cache, opt-in downloads.

Imported only by the binding (it imports faster-whisper and huggingface_hub).
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lollms_core.bindings import ENGINE_THREADS_PER_CPU, max_engine_threads
from lollms_core.errors import BindingLoadError, ConfigError

from ..errors import WhisperModelNotFoundError

__all__ = [
    "EngineKey",
    "ResolvedModel",
    "check_threads",
    "list_local_models",
    "list_size_names",
    "load_engine",
    "resolve_model",
]

MODEL_FILE = "model.bin"  # what makes a folder a CTranslate2 model
TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model name points: a local folder ready to load, and how it was found."""

    name: str
    path: Path
    source: str  # "local" (a directory) or "cache" (faster-whisper's Hugging Face cache)


def list_size_names() -> list[str]:
    """The size names faster-whisper knows (tiny, tiny.en, base, ..., large-v3, turbo)."""
    from faster_whisper.utils import available_models

    return list(available_models())


def _repo_id(name: str) -> str | None:
    from faster_whisper.utils import _MODELS

    return name if "/" in name else _MODELS.get(name)


def _looks_like_a_path(name: str) -> bool:
    """A repo id is ``owner/name``; a leading ``/``, ``.``, ``~``, a drive or more slashes make a path."""
    return (
        name.startswith(("/", ".", "~", "\\"))
        or name.count("/") > 1
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")
    )


def list_local_models(models_path: str) -> list[Path]:
    """Sub-directories of ``models_path`` that hold a CTranslate2 model (sorted by name)."""
    if not models_path:
        return []
    root = Path(models_path).expanduser()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / MODEL_FILE).is_file())


def cached_path(name: str, download_root: str) -> Path | None:
    """The folder of a size name or repo id in faster-whisper's cache, or ``None`` if not cached."""
    from faster_whisper.utils import download_model
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(download_model(name, local_files_only=True, cache_dir=download_root or None))
    except (LocalEntryNotFoundError, FileNotFoundError):
        return None
    except HFValidationError:
        raise ConfigError(
            f"whisper: model_name '{name}' is neither an existing folder, a size name, nor a valid Hugging Face "
            f"repo id (owner/name). Sizes: {', '.join(list_size_names())}"
        ) from None


def resolve_model(name: str, *, models_path: str, download_root: str, allow_download: bool) -> ResolvedModel:
    """Turn a ``model_name`` into a loadable folder.

    Order: an existing directory path, then ``models_path/<name>``, then a size name or
    Hugging Face repo id from faster-whisper's cache (downloaded only if ``allow_download``).

    :raises ConfigError: a folder without ``model.bin``, or a name that is none of the above.
    :raises WhisperModelNotFoundError: a known size that is not cached while downloads are off.
    :raises BindingLoadError: the download was allowed but failed.
    """
    if not name:
        raise ConfigError("whisper: model_name is empty; give a size name (tiny, base, small...) or a model folder")
    candidates = [Path(name).expanduser()]
    if models_path:
        candidates.append(Path(models_path).expanduser() / name)
    for folder in candidates:
        if folder.is_dir():
            if not (folder / MODEL_FILE).is_file():
                raise ConfigError(
                    f"whisper: model folder '{folder}' has no {MODEL_FILE}; it must be a CTranslate2 Whisper model "
                    "(convert one with ct2-transformers-converter, or use a size name such as 'base')"
                )
            if not (folder / TOKENIZER_FILE).is_file() and not allow_download:
                # faster-whisper would quietly fetch a tokenizer from Hugging Face instead.
                raise ConfigError(
                    f"whisper: model folder '{folder}' has no {TOKENIZER_FILE}: copy the model's tokenizer.json "
                    "into it, or set allow_download=true to let faster-whisper fetch one"
                )
            return ResolvedModel(name, folder, "local")
    if _looks_like_a_path(name):
        # Not a folder (checked above), and too path-like to be a Hugging Face repo id "owner/name".
        raise ConfigError(
            f"whisper: model folder '{name}' does not exist (model_name is a path, not a size name). "
            f"Give an existing CTranslate2 model folder, or one of the sizes: {', '.join(list_size_names())}"
        )
    repo = _repo_id(name)
    if repo is None:
        local = [p.name for p in list_local_models(models_path)]
        raise ConfigError(
            f"whisper: unknown model '{name}': not a folder, not under models_path "
            f"('{models_path or '(unset)'}'), not a size name. Sizes: {', '.join(list_size_names())}"
            + (f"; local models: {', '.join(local)}" if local else "")
        )
    found = cached_path(name, download_root)
    if found is not None:
        return ResolvedModel(name, found, "cache")
    cache = download_root or "the Hugging Face cache (~/.cache/huggingface/hub or $HF_HOME)"
    if not allow_download:
        raise WhisperModelNotFoundError(
            f"whisper model '{name}' ({repo}) is not in {cache} and downloads are off. Either set "
            f"allow_download=true in the whisper binding config to fetch it once, or download it yourself "
            f"(python -c \"from faster_whisper import download_model; download_model('{name}')\"), "
            "or set model_name to a local CTranslate2 model folder"
        )
    from faster_whisper.utils import download_model

    try:
        return ResolvedModel(name, Path(download_model(name, cache_dir=download_root or None)), "cache")
    except Exception as exc:  # network, disk, HF_HUB_OFFLINE: all mean "could not get it"
        raise BindingLoadError(
            f"whisper: downloading model '{name}' ({repo}) into {cache} failed: {type(exc).__name__}: {exc}"
        ) from exc


#: More threads than this many per logical CPU only adds contention (CTranslate2 spawns them all).
THREADS_PER_CPU = ENGINE_THREADS_PER_CPU  # the core's limit for every local engine


def check_threads(cpu_threads: int, num_workers: int) -> None:
    """Refuse thread counts beyond :data:`THREADS_PER_CPU` x this machine's CPUs, before the engine starts.

    The manifest's ``max`` is static; CTranslate2 starts ``cpu_threads`` x ``num_workers``
    threads, so the product is what is bounded.

    :raises ConfigError: naming the values and the limit.
    """
    limit = max_engine_threads()
    threads = max(cpu_threads, 1) * num_workers
    if threads > limit:
        raise ConfigError(
            f"whisper: cpu_threads={cpu_threads} x num_workers={num_workers} = {threads} threads is more than "
            f"this machine can use: at most {limit} ({THREADS_PER_CPU} x {os.cpu_count() or 1} CPUs; "
            "cpu_threads=0 lets the engine choose)"
        )


@dataclass(frozen=True)
class EngineKey:
    """What makes two loaded models interchangeable."""

    path: str
    device: str
    compute_type: str
    cpu_threads: int
    num_workers: int


# Bindings with the same settings share one loaded model; it is freed when the last one closes.
_ENGINES: weakref.WeakValueDictionary[EngineKey, Any] = weakref.WeakValueDictionary()
_ENGINES_LOCK = threading.Lock()


def effective_compute_type(device: str, compute_type: str) -> str:
    """``auto`` → int8 on CPU (fastest there), float16 on CUDA, the engine's choice for device=auto."""
    if compute_type != "auto":
        return compute_type
    return {"cpu": "int8", "cuda": "float16"}.get(device, "default")


def load_engine(key: EngineKey) -> Any:
    """The ``faster_whisper.WhisperModel`` for ``key``, loaded once and shared.

    :raises BindingLoadError: CTranslate2 refused the folder or the device/compute type.
    """
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is not None:
            return engine
        from faster_whisper import WhisperModel

        try:
            engine = WhisperModel(
                key.path,  # a str: CTranslate2 rejects Path objects
                device=key.device,
                compute_type=key.compute_type,
                cpu_threads=key.cpu_threads,
                num_workers=key.num_workers,
                local_files_only=True,
            )
        except Exception as exc:
            raise BindingLoadError(
                f"whisper: cannot load model folder '{key.path}' on device={key.device} "
                f"compute_type={key.compute_type}: {type(exc).__name__}: {exc}"
            ) from exc
        _ENGINES[key] = engine
        return engine
