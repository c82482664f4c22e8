"""Model resolution, loading once, list_models, and the lazy import of the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lollms_core import LollmsSTTBindingManager
from lollms_core.errors import BindingLoadError, ConfigError
from lollms_whisper.errors import WhisperModelNotFoundError
from whisper_clips import PIPER_TEXT

pytestmark = pytest.mark.engine


def make(**config: Any) -> Any:
    return LollmsSTTBindingManager().create_binding("whisper", **config)


@pytest.fixture
def models_dir(tmp_path: Path, tiny_en_path: Path) -> Path:
    """A models_path holding tiny.en (symlinked) under the name 'tiny-en-local', and a non-model folder."""
    root = tmp_path / "models"
    root.mkdir()
    (root / "tiny-en-local").symlink_to(tiny_en_path, target_is_directory=True)
    (root / "not-a-model").mkdir()
    return root


def test_local_folder_under_models_path_loads_by_name(models_dir: Path, piper_wav: Path, whisper: Any) -> None:
    binding = make(model_name="tiny-en-local", models_path=str(models_dir))
    assert binding.model_name == "tiny-en-local"
    assert binding.transcribe_audio(piper_wav) == PIPER_TEXT


def test_list_models_has_sizes_and_local_folders(models_dir: Path, tiny_en_path: Path, whisper: Any) -> None:
    binding = make(model_name=str(tiny_en_path), models_path=str(models_dir))
    models = binding.list_models()
    names = [m["model_name"] for m in models]
    for size in ("tiny", "tiny.en", "base", "small", "large-v3"):
        assert size in names
    local = [m for m in models if m["source"] == "local"]
    assert [m["model_name"] for m in local] == ["tiny-en-local"]  # the folder without model.bin is not a model
    assert all(isinstance(m["cached"], bool) for m in models if m["source"] == "faster-whisper")


def test_folder_without_model_bin_is_a_config_error(models_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"not-a-model.*model\.bin"):
        make(model_name=str(models_dir / "not-a-model"))


def test_folder_without_tokenizer_is_refused_while_downloads_are_off(tmp_path: Path, tiny_en_path: Path) -> None:
    folder = tmp_path / "no-tokenizer"
    folder.mkdir()
    (folder / "model.bin").symlink_to(tiny_en_path / "model.bin")
    with pytest.raises(ConfigError, match=r"no-tokenizer.*tokenizer\.json.*allow_download"):
        make(model_name=str(folder))


def test_unknown_model_name_lists_the_sizes(models_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'tiny-eng'.*tiny\.en.*local models: tiny-en-local"):
        make(model_name="tiny-eng", models_path=str(models_dir))


def test_uncached_size_without_download_permission_says_how_to_get_it(tmp_path: Path) -> None:
    empty_cache = tmp_path / "hf-cache"
    empty_cache.mkdir()
    with pytest.raises(WhisperModelNotFoundError, match=r"'base'.*allow_download=true.*download_model\('base'\)"):
        make(model_name="base", download_root=str(empty_cache))
    assert list(empty_cache.iterdir()) == []  # nothing was fetched or created


def test_allowed_download_that_cannot_happen_is_a_load_error(tmp_path: Path) -> None:
    from huggingface_hub import constants

    if not constants.HF_HUB_OFFLINE:
        pytest.skip("needs HF_HUB_OFFLINE=1 so the attempt fails without touching the network")
    with pytest.raises(BindingLoadError, match=r"downloading model 'base'.*failed") as info:
        make(model_name="base", download_root=str(tmp_path), allow_download=True)
    assert not isinstance(info.value, WhisperModelNotFoundError)


def test_same_settings_share_one_loaded_model(whisper: Any, tiny_en_path: Path, piper_wav: Path) -> None:
    other = make(model_name=str(tiny_en_path), cpu_threads=2)
    assert other._engine is whisper._engine
    engine = whisper._engine
    whisper.transcribe_audio(piper_wav)
    whisper.transcribe_audio(piper_wav.read_bytes())
    assert whisper._engine is engine  # loaded once, reused by every call
    different = make(model_name=str(tiny_en_path), cpu_threads=1)
    assert different._engine is not whisper._engine


def test_model_info(whisper: Any, tiny_en_path: Path) -> None:
    info = whisper.get_model_info()
    assert info["path"] == str(tiny_en_path)
    assert info["device"] == "cpu"
    assert info["compute_type"] == "int8"  # compute_type=auto means int8 on CPU
    assert info["multilingual"] is False
    assert info["languages"] == ["en"]


def test_model_can_be_chosen_per_call(models_dir: Path, tiny_en_path: Path, piper_wav: Path, whisper: Any) -> None:
    binding = make(model_name=str(tiny_en_path), models_path=str(models_dir))
    assert binding.transcribe_audio(piper_wav, model="tiny-en-local") == PIPER_TEXT
    assert binding.model_name == "tiny-en-local"
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        binding.transcribe_audio(piper_wav, model="nope")


def test_closed_binding_refuses_politely(tiny_en_path: Path, piper_wav: Path, whisper: Any) -> None:
    binding = make(model_name=str(tiny_en_path))
    binding.close()
    binding.close()  # twice is fine
    with pytest.raises(ConfigError, match="closed"):
        binding.transcribe_audio(piper_wav)


@pytest.mark.parametrize(("key", "value"), [("device", "tpu"), ("compute_type", "int4"), ("cpu_threads", -1)])
def test_bad_engine_settings_are_config_errors(tiny_en_path: Path, key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        make(model_name=str(tiny_en_path), **{key: value})


def test_engine_is_imported_only_when_a_binding_is_created(tiny_en_path: Path) -> None:
    script = f"""
import json, sys
from lollms_core import LollmsSTTBindingManager
import lollms_whisper, lollms_whisper.transcript
manager = LollmsSTTBindingManager()
before = [m for m in ("faster_whisper", "ctranslate2", "av", "numpy") if m in sys.modules]
names = manager.get_available_bindings()
manager.create_binding("whisper", model_name={str(tiny_en_path)!r})
print(json.dumps({{"before": before, "names": names, "after": "faster_whisper" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == []
    assert "whisper" in report["names"]
    assert report["after"] is True
