"""Crafted GGUF headers end in a GGUFError (a BindingLoadError) naming the file, never a raw exception."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lollms_core.errors import BindingLoadError
from lollms_llamacpp.llm.gguf_header import GGUFError, GGUFHeader, read_gguf_header

U32, STRING, ARRAY, BOOL, F32 = 4, 8, 9, 7, 6


def _str(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", vtype) + payload


def gguf(*kvs: bytes, n_tensors: int = 0, tensors: bytes = b"", version: int = 3) -> bytes:
    """A GGUF file with these metadata entries (and optional raw tensor infos), padded past the minimum size."""
    body = b"GGUF" + struct.pack("<IQQ", version, n_tensors, len(kvs)) + b"".join(kvs) + tensors
    return body + b"\0" * 64


ARCH = _kv("general.architecture", STRING, _str("llama"))


def _nested_arrays(depth: int) -> bytes:
    """An array of arrays of ... of one u32, ``depth`` levels deep."""
    inner = struct.pack("<IQ", U32, 1) + struct.pack("<I", 7)
    for _ in range(depth - 1):
        inner = struct.pack("<IQ", ARRAY, 1) + inner
    return inner


CRAFTED: dict[str, tuple[bytes, str]] = {
    # Each was a raw ValueError, TypeError or RecursionError (or an unbounded walk) before.
    "context_length is a string": (
        gguf(ARCH, _kv("llama.context_length", STRING, _str("lots"))),
        "llama.context_length is 'lots', expected a non-negative integer",
    ),
    "context_length is an array": (
        gguf(ARCH, _kv("llama.context_length", ARRAY, struct.pack("<IQ", U32, 2) + b"\1\0\0\0\2\0\0\0")),
        "llama.context_length is an array of 2",
    ),
    "alignment is a float": (
        gguf(ARCH, _kv("general.alignment", F32, struct.pack("<f", 3.5))),
        "general.alignment is 3.5",
    ),
    "alignment is a bool": (gguf(ARCH, _kv("general.alignment", BOOL, b"\1")), "general.alignment is True"),
    "alignment is huge": (
        gguf(ARCH, _kv("general.alignment", U32, struct.pack("<I", 1 << 30))),
        "general.alignment is 1073741824",
    ),
    "file_type is a string": (gguf(ARCH, _kv("general.file_type", STRING, _str("Q4"))), "general.file_type is 'Q4'"),
    "architecture is a number": (
        gguf(_kv("general.architecture", U32, struct.pack("<I", 1))),
        "general.architecture is not a string",
    ),
    "arrays nested 10000 deep": (gguf(ARCH, _kv("x", ARRAY, _nested_arrays(10_000))), "nested more than 4 deep"),
    "a tensor with 2**31 dimensions": (
        gguf(ARCH, n_tensors=1, tensors=_str("t") + struct.pack("<I", 1 << 31)),
        "a tensor with 2147483648 dimensions",
    ),
    "2**64-1 arrays of strings": (
        gguf(ARCH, _kv("tokens", ARRAY, struct.pack("<IQ", ARRAY, 2**64 - 1) + struct.pack("<IQ", STRING, 1))),
        "truncated GGUF header",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_header_is_a_typed_error_naming_the_file(tmp_path: Path, case: str) -> None:
    data, fragment = CRAFTED[case]
    path = tmp_path / "crafted.gguf"
    path.write_bytes(data)
    with pytest.raises(GGUFError) as caught:
        read_gguf_header(path)
    assert isinstance(caught.value, BindingLoadError)  # typed: a lollms error, and still a ValueError
    assert isinstance(caught.value, ValueError)
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


def test_a_crafted_model_is_refused_by_the_binding_and_listed_with_its_error(tmp_path: Path, make_binding: Any) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(CRAFTED["arrays nested 10000 deep"][0])
    with pytest.raises(BindingLoadError, match=str(bad)):
        make_binding(model_path=str(bad))
    listing = make_binding(models_path=str(tmp_path)).list_models()
    assert [(m["model_name"], "nested more than 4 deep" in m["error"]) for m in listing] == [("bad.gguf", True)]


def _check_outcome(path: Path) -> None:
    """The reader's whole contract: a header whose facts can be read, or a GGUFError naming the file."""
    try:
        header = read_gguf_header(path)
    except GGUFError as exc:
        message = str(exc)
    else:
        assert isinstance(header, GGUFHeader)
        for fact in ("architecture", "context_length", "quantization", "name", "is_projector"):
            getattr(header, fact)
        return
    assert str(path) in message


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(tail=st.binary(max_size=400), n_tensors=st.integers(0, 2**64 - 1), n_kv=st.integers(0, 2**64 - 1))
def test_fuzz_random_bodies_after_a_valid_preamble(tmp_path: Path, tail: bytes, n_tensors: int, n_kv: int) -> None:
    path = tmp_path / "fuzz.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + tail)
    _check_outcome(path)


@FUZZ
@given(data=st.data())
def test_fuzz_mutations_of_a_well_formed_header(tmp_path: Path, data: st.DataObject) -> None:
    base = bytearray(
        gguf(
            ARCH,
            _kv("llama.context_length", U32, struct.pack("<I", 2048)),
            _kv("general.file_type", U32, struct.pack("<I", 3)),
            _kv("tokenizer.tokens", ARRAY, struct.pack("<IQ", STRING, 2) + _str("a") + _str("b")),
            n_tensors=1,
            tensors=_str("w") + struct.pack("<I", 2) + struct.pack("<QQ", 4, 4) + struct.pack("<IQ", 0, 0),
        )
    )
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(4, len(base) - 1))
        base[at] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutated.gguf"
    path.write_bytes(bytes(base))
    _check_outcome(path)
