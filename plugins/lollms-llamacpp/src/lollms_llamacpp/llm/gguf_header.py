"""Read what lollms needs from a GGUF file's header, with the standard library only.

``gguf.GGUFReader`` decodes every array (a 49k-token vocabulary takes ~1.7 s) and fails with
IndexError/ValueError on a cut file. Listing a models folder must be fast and must name what
is wrong with a bad file, so this reader skips arrays, keeps the scalar metadata, sums tensor
sizes for the parameter count and checks that the tensor data really fits in the file.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lollms_core.errors import BindingLoadError

__all__ = ["GGUFError", "GGUFHeader", "read_gguf_header"]

_MAGIC = b"GGUF"
# GGUF metadata value types: id -> struct format of a scalar (None: string, array).
# fmt: off
_SCALARS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9

# llama_ftype (general.file_type) -> the quantisation name llama.cpp prints.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}

# ggml_type -> (elements per block, bytes per block); used to find where the tensor data ends.
TENSOR_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}
# fmt: on


# Bounds a real file never reaches; a crafted header past them is refused, not followed.
_MAX_ARRAY_NESTING = 4  # GGUF writers emit flat arrays; nesting is allowed by the format, depth is not
_MAX_DIMS = 8  # ggml tensors have at most 4 dimensions (GGML_MAX_DIMS)
_MAX_ALIGNMENT = 1 << 16


class GGUFError(BindingLoadError, ValueError):
    """The file is not a readable GGUF model; the message names the file and says what is wrong and where.

    A :class:`~lollms_core.errors.BindingLoadError` (the model cannot be loaded) and, as before,
    a ``ValueError``.
    """


@dataclass
class GGUFHeader:
    """The facts of one GGUF file that lollms shows and checks."""

    path: Path
    version: int
    size_bytes: int
    metadata: dict[str, Any] = field(repr=False)
    n_tensors: int = 0
    n_params: int = 0

    @property
    def architecture(self) -> str:
        """``general.architecture`` (llama, qwen2, clip...)."""
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        """The training context length, ``<architecture>.context_length``."""
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if value is not None else None

    @property
    def quantization(self) -> str | None:
        """The quantisation name from ``general.file_type`` (Q4_1, Q4_K_M, F16...)."""
        ftype = self.metadata.get("general.file_type")
        if ftype is None:
            return None
        return FILE_TYPES.get(int(ftype), f"type{ftype}")

    @property
    def name(self) -> str | None:
        """``general.name`` when the converter wrote one."""
        value = self.metadata.get("general.name")
        return str(value) if value else None

    @property
    def is_projector(self) -> bool:
        """Whether this is a multimodal projector (mmproj), not a language model."""
        return self.architecture == "clip"


class _Cursor:
    __slots__ = ("buf", "path", "pos")

    def __init__(self, buf: Any, path: Path) -> None:
        self.buf, self.path, self.pos = buf, path, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise GGUFError(
                f"{self.path}: truncated GGUF header (ends at byte {len(self.buf)}, needs {self.pos + size})"
            )
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.take("<Q")
        end = self.pos + length
        if end > len(self.buf):
            raise GGUFError(
                f"{self.path}: truncated GGUF header (a {length}-byte string runs past the end of the file)"
            )
        raw = bytes(self.buf[self.pos : end])
        self.pos = end
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            if depth >= _MAX_ARRAY_NESTING:
                raise GGUFError(
                    f"{self.path}: malformed GGUF header: arrays nested more than {_MAX_ARRAY_NESTING} deep "
                    f"at byte {self.pos}"
                )
            item_type, count = self.take("<I"), self.take("<Q")
            if item_type in _SCALARS:
                self.pos += struct.calcsize(_SCALARS[item_type]) * count
            else:  # arrays of strings (vocabularies) or nested arrays: walk them, keep nothing
                for _ in range(count):
                    self.value(item_type, depth + 1)
                    if self.pos > len(self.buf):
                        break
            if self.pos > len(self.buf):
                raise GGUFError(f"{self.path}: truncated GGUF header (an array runs past the end of the file)")
            return _ArraySummary(item_type, count)
        raise GGUFError(f"{self.path}: unknown GGUF value type {vtype} at byte {self.pos}")


@dataclass(frozen=True)
class _ArraySummary:
    """Arrays are not decoded: only their element type and length are kept."""

    item_type: int
    count: int


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Parse the header of the GGUF file at ``path``.

    :raises FileNotFoundError: no such file.
    :raises GGUFError: not a GGUF file, an unsupported version, or truncated (the message says which).
    """
    path = Path(path)
    with path.open("rb") as f:
        size = path.stat().st_size
        if size < 24:
            raise GGUFError(f"{path}: {size} bytes is too small to be a GGUF model file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            try:
                return _parse(buf, path, size)
            except GGUFError:
                raise
            except (ValueError, TypeError, OverflowError, RecursionError, MemoryError, struct.error) as exc:
                # A crafted header must not surface as a raw exception without the file's name.
                raise GGUFError(f"{path}: malformed GGUF header ({type(exc).__name__}: {exc})") from None


def _parse(buf: Any, path: Path, size: int) -> GGUFHeader:
    if bytes(buf[:4]) != _MAGIC:
        raise GGUFError(f"{path}: not a GGUF file (starts with {bytes(buf[:4])!r}, expected b'GGUF')")
    cur = _Cursor(buf, path)
    cur.pos = 4
    version = cur.take("<I")
    if version not in (2, 3):
        raise GGUFError(f"{path}: GGUF version {version} is not supported (2 or 3 are)")
    n_tensors, n_kv = cur.take("<Q"), cur.take("<Q")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.take("<I"))
    n_params, data_needed = 0, 0
    for _ in range(n_tensors):
        cur.string()  # tensor name
        n_dims = cur.take("<I")
        if n_dims > _MAX_DIMS:
            raise GGUFError(f"{path}: malformed GGUF header: a tensor with {n_dims} dimensions (at most {_MAX_DIMS})")
        elements = 1
        for _ in range(n_dims):
            elements *= cur.take("<Q")
        ggml_type, offset = cur.take("<I"), cur.take("<Q")
        n_params += elements
        block, nbytes = TENSOR_TYPE_SIZES.get(ggml_type, (1, 0))
        data_needed = max(data_needed, offset + elements // block * nbytes)
    _check_integer_keys(metadata, path)
    alignment = metadata.get("general.alignment", 32) or 32
    if not 0 < alignment <= _MAX_ALIGNMENT:
        raise GGUFError(f"{path}: malformed GGUF header: general.alignment is {alignment} (1 .. {_MAX_ALIGNMENT})")
    data_start = -(-cur.pos // alignment) * alignment
    if data_start + data_needed > size:
        raise GGUFError(
            f"{path}: truncated GGUF file: its tensors need {data_start + data_needed} bytes but the file has {size}"
            " (an interrupted download or copy?)"
        )
    return GGUFHeader(
        path=path, version=version, size_bytes=size, metadata=metadata, n_tensors=n_tensors, n_params=n_params
    )


def _check_integer_keys(metadata: dict[str, Any], path: Path) -> None:
    """The keys lollms computes with must hold non-negative integers (a crafted file may put anything there)."""
    arch = metadata.get("general.architecture", "unknown")
    if not isinstance(arch, str):
        raise GGUFError(f"{path}: malformed GGUF header: general.architecture is not a string")
    for key in ("general.alignment", "general.file_type", f"{arch}.context_length"):
        value = metadata.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            shown = f"an array of {value.count}" if isinstance(value, _ArraySummary) else repr(value)[:60]
            raise GGUFError(f"{path}: malformed GGUF header: {key} is {shown}, expected a non-negative integer")
