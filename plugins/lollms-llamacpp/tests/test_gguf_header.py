"""The stdlib GGUF header reader: facts of the real SmolLM2 file, and precise errors on broken files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lollms_llamacpp.llm.gguf_header import FILE_TYPES, TENSOR_TYPE_SIZES, GGUFError, read_gguf_header


def test_reads_the_facts_the_gguf_package_reads(gguf_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    header = read_gguf_header(gguf_path)
    reference = gguf.GGUFReader(gguf_path)
    arch = reference.fields["general.architecture"].contents()
    assert header.architecture == arch == "llama"
    assert header.context_length == reference.fields[f"{arch}.context_length"].contents()
    assert header.quantization == gguf.LlamaFileType(reference.fields["general.file_type"].contents()).name.replace(
        "MOSTLY_", ""
    )
    assert header.n_params == sum(int(t.n_elements) for t in reference.tensors)
    assert header.n_tensors == len(reference.tensors)
    assert header.size_bytes == gguf_path.stat().st_size
    assert not header.is_projector


def test_is_fast_enough_to_list_a_folder(gguf_path: Path) -> None:
    t0 = time.perf_counter()
    read_gguf_header(gguf_path)
    # gguf.GGUFReader needs ~1.7 s on this file; listing a folder of models must not.
    assert time.perf_counter() - t0 < 1.0


def test_type_tables_match_the_gguf_package() -> None:
    constants = pytest.importorskip("gguf.constants")
    for ggml_type, sizes in constants.GGML_QUANT_SIZES.items():
        assert TENSOR_TYPE_SIZES[int(ggml_type)] == tuple(sizes), ggml_type.name
    for ftype in constants.LlamaFileType:
        if ftype.name != "GUESSED":
            assert FILE_TYPES[int(ftype)] == ftype.name.replace("MOSTLY_", "").replace("ALL_", ""), ftype.name


def test_truncated_copy_is_named_as_truncated(gguf_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_path.read_bytes()[:40_000_000])
    with pytest.raises(GGUFError, match="truncated") as caught:
        read_gguf_header(cut)
    assert str(cut) in str(caught.value)


def test_header_cut_inside_metadata(gguf_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "head.gguf"
    with gguf_path.open("rb") as f:
        cut.write_bytes(f.read(5000))
    with pytest.raises(GGUFError, match="truncated GGUF header"):
        read_gguf_header(cut)


def test_not_a_gguf_file(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(GGUFError, match="not a GGUF file"):
        read_gguf_header(fake)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_gguf_header(tmp_path / "nope.gguf")
