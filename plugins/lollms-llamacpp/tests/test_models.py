"""Models, tokens and embeddings on the real SmolLM2 GGUF: load, list, switch, typed load errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lollms_core.errors import BindingLoadError, NotFoundError
from lollms_llamacpp.llm.gguf_header import read_gguf_header

pytestmark = pytest.mark.engine


def test_model_info_comes_from_the_loaded_model(shared_binding: Any, gguf_path: Path) -> None:
    info = shared_binding.get_model_info()
    header = read_gguf_header(gguf_path)
    assert info["path"] == str(gguf_path)
    assert info["architecture"] == header.architecture
    assert info["quantization"] == header.quantization
    assert info["n_params"] == header.n_params  # llama.cpp's own count agrees with the header's
    assert info["n_ctx"] == 4096  # the default, below the model's training context
    assert info["n_ctx_train"] == header.context_length
    assert info["vision"] is False
    assert info["n_parallel"] == 2


def test_tokenize_round_trip_is_exact(shared_binding: Any) -> None:
    text = "Héllo wörld — 🐉 dragons fly; tokens: 12345!"
    tokens = shared_binding.tokenize(text)
    assert all(isinstance(t, int) for t in tokens)
    assert shared_binding.detokenize(tokens) == text
    assert shared_binding.count_tokens(text) == len(tokens)
    # The model's BPE, not a generic one: a leading space changes the first token.
    assert shared_binding.tokenize(" Hello")[0] != shared_binding.tokenize("Hello")[0]
    assert shared_binding.count_tokens("") == 0


def test_embeddings_shape_and_determinism(shared_binding: Any) -> None:
    n_embd = shared_binding.get_model_info()["n_embd"]
    one = shared_binding.embed("The cat sat on the mat.")
    assert len(one) == n_embd
    assert one == shared_binding.embed("The cat sat on the mat.")
    many = shared_binding.embed(["The cat sat on the mat.", "Stock markets fell sharply today."])
    assert [len(v) for v in many] == [n_embd, n_embd]
    assert all(math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-4) for a, b in zip(many[0], one, strict=True))
    assert many[0] != many[1]
    assert shared_binding.embed([]) == []


def test_list_models_reads_gguf_headers(make_binding: Any, models_dir: Path, gguf_path: Path) -> None:
    (models_dir / "broken.gguf").write_bytes(gguf_path.read_bytes()[:1_000_000])
    binding = make_binding(models_path=str(models_dir))
    models = {m["model_name"]: m for m in binding.list_models()}
    assert set(models) == {"smollm2.gguf", "team/smollm2-copy.gguf", "broken.gguf"}
    good = models["smollm2.gguf"]
    assert good["architecture"] == "llama"
    assert good["context_length"] == 8192
    assert good["quantization"] == "Q4_1"
    assert good["size_gb"] == round(gguf_path.stat().st_size / 1e9, 3)
    assert good["loaded"] is False
    assert "truncated" in models["broken.gguf"]["error"]
    assert binding.listModels() == binding.list_models()


def test_load_model_switches_and_frees_the_old_model(make_binding: Any, models_dir: Path) -> None:
    binding = make_binding(models_path=str(models_dir), model_name="smollm2")
    first = binding._engine
    assert binding.model_name == "smollm2.gguf"
    assert binding.load_model("team/smollm2-copy.gguf") is True
    assert binding.model_name == "team/smollm2-copy.gguf"
    assert binding._engine is not first
    assert first._server is None, "the previous model must be freed"
    assert binding.get_model_info()["path"] == str(models_dir / "team" / "smollm2-copy.gguf")
    assert [m["model_name"] for m in binding.list_models() if m["loaded"]] == ["team/smollm2-copy.gguf"]
    assert "Paris" in binding.generate_text("What is the capital of France? Answer in one word.", temperature=0.0)
    # An unknown name keeps the current model (seed contract: False, no exception).
    assert binding.load_model("nope.gguf") is False
    assert binding.model_name == "team/smollm2-copy.gguf"


def test_request_model_and_load_settings_switch_the_engine(make_binding: Any, models_dir: Path) -> None:
    binding = make_binding(models_path=str(models_dir), model_name="smollm2.gguf")
    binding.generate_text("Hi", model="team/smollm2-copy.gguf", n_predict=2)
    assert binding.model_name == "team/smollm2-copy.gguf"
    binding.generate_text("Hi", ctx_size=1024, n_predict=2)
    assert binding.get_model_info()["n_ctx"] == 1024


def test_missing_model_path_is_a_typed_error_naming_it(make_binding: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such-model.gguf"
    with pytest.raises(BindingLoadError, match="not found") as caught:
        make_binding(model_path=str(missing))
    assert str(missing) in str(caught.value)


def test_truncated_model_is_a_typed_error_not_a_crash(make_binding: Any, tmp_path: Path, gguf_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_path.read_bytes()[: gguf_path.stat().st_size // 2])
    with pytest.raises(BindingLoadError, match="truncated") as caught:
        make_binding(model_path=str(cut))
    assert str(cut) in str(caught.value)
    text_file = tmp_path / "notes.gguf"
    text_file.write_text("this is not a model, just text " * 10)
    with pytest.raises(BindingLoadError, match="not a GGUF file"):
        make_binding(model_path=str(text_file))


def test_no_model_is_a_backend_error_that_says_what_to_set(make_binding: Any, tmp_path: Path) -> None:
    binding = make_binding(models_path=str(tmp_path))
    assert binding.list_models() == []
    with pytest.raises(NotFoundError, match="model_path"):
        binding.tokenize("x")
    result = binding.generate_text("Hello")
    assert result["status"] is False
    assert result["error_type"] == "NotFoundError"


def test_default_model_comes_from_lollms_default_model(
    make_binding: Any, gguf_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOLLMS_DEFAULT_MODEL", str(gguf_path))
    binding = make_binding()
    assert binding.get_model_info()["path"] == str(gguf_path)


def test_import_lollms_core_does_not_import_the_engine() -> None:
    code = (
        "import sys, json, lollms_core\n"
        "from lollms_core import LollmsLLMBindingManager\n"
        "names = LollmsLLMBindingManager().get_available_bindings()\n"
        "print(json.dumps(['llamacpp' in names, 'xllamacpp' in sys.modules, 'lollms_llamacpp.llm' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [True, False, False]


def test_loading_progress_goes_to_stderr(gguf_path: Path) -> None:
    code = (
        "from lollms_core import LollmsLLMBindingManager\n"
        f"b = LollmsLLMBindingManager().create_binding('llamacpp', model_path={str(gguf_path)!r}, n_threads=1)\n"
        "b.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout == ""
    assert f"loading {gguf_path.name}" in done.stderr
    assert "ready in" in done.stderr


def test_model_name_wins_over_the_default_model_path(make_binding: Any, models_dir: Path) -> None:
    # `LOLLMS_DEFAULT_MODEL=... lollms generate -m other.gguf`: the CLI passes both.
    binding = make_binding(model_path=str(models_dir / "smollm2.gguf"), model_name="team/smollm2-copy")
    assert binding.get_model_info()["path"] == str(models_dir / "team" / "smollm2-copy.gguf")
    with pytest.raises(BindingLoadError, match=r"absent\.gguf"):
        make_binding(model_path=str(models_dir / "smollm2.gguf"), model_name="absent.gguf")
