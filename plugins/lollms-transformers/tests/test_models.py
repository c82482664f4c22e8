"""Finding, listing, loading and switching models: folders, .gguf files, the hub cache, offline."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from lollms_core.errors import BindingLoadError, ConfigError, NotFoundError
from transformers_probe import switch_models


def _hub_cache_with(root: Path, repo_id: str, checkpoint: Path) -> Path:
    """A hub cache in huggingface_hub's layout holding ``checkpoint`` as ``repo_id`` (refs/main -> snapshot)."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(checkpoint, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return root


def test_a_model_folder_loads_by_name_in_models_path(make_binding: Any, models_dir: Path) -> None:
    """model_name picks a checkpoint folder in models_path; the model answers (random weights: any text)."""
    binding = make_binding(models_path=str(models_dir), model_name="tiny")
    assert binding.model_name == "tiny"
    info = binding.get_model_info()
    assert info["source"] == "folder"
    assert info["n_ctx_train"] == 512
    out = binding.generate_text("Hello", n_predict=3, temperature=0.0)
    assert isinstance(out, str)
    assert binding.run(binding.build_request("Hello", n_predict=3, temperature=0.0)).usage["completion_tokens"] <= 3


def test_list_models_shows_folders_ggufs_and_the_hub_cache(make_binding: Any, models_dir: Path, tmp_path: Path) -> None:
    """Local checkpoints, .gguf files and cached hub repositories; not folders that are not models."""
    cache = _hub_cache_with(tmp_path / "hub", "acme/tiny-chat", models_dir / "tiny")
    binding = make_binding(models_path=str(models_dir), hub_cache=str(cache))
    listed = {m["model_name"]: m for m in binding.list_models()}
    assert {"tiny", "wide", "smollm2.gguf", "acme/tiny-chat"} <= set(listed)
    assert "notes" not in listed
    assert listed["tiny"]["kind"] == "folder"
    assert listed["tiny"]["context_length"] == 512
    assert listed["smollm2.gguf"]["kind"] == "gguf"
    assert listed["acme/tiny-chat"]["kind"] == "hub"


def test_a_cached_hub_id_loads_offline(make_binding: Any, models_dir: Path, tmp_path: Path) -> None:
    """A hub id found in the cache loads from its snapshot folder, with no network."""
    cache = _hub_cache_with(tmp_path / "hub", "acme/tiny-chat", models_dir / "tiny")
    binding = make_binding(model_name="acme/tiny-chat", hub_cache=str(cache))
    info = binding.get_model_info()
    assert info["source"] == "folder"
    assert info["model_name"] == "acme/tiny-chat"
    assert "snapshots" in info["path"]


def test_an_uncached_hub_id_is_not_downloaded_by_default(make_binding: Any, tmp_path: Path) -> None:
    """Offline by default: a hub id missing from the cache is NotFoundError saying how to allow a download."""
    with pytest.raises(NotFoundError, match="allow_download=true"):
        make_binding(model_name="acme/not-here", hub_cache=str(tmp_path / "empty"))


def test_load_model_switches_and_gives_the_memory_back(models_dir: Path) -> None:
    """tiny -> wide -> tiny in a fresh process: resident memory follows the loaded model's size."""
    config = {"models_path": str(models_dir), "n_threads": 1, "show_progress": False}
    result = switch_models(config, "tiny", "wide")
    rss, wide = result["rss"], result["sizes"][1]
    assert result["model"] == "tiny"
    assert wide > 80e6
    assert rss["second"] - rss["first"] > 0.5 * wide, f"loading the wide model did not show in RSS: {rss}"
    assert rss["second"] - rss["back"] > 0.5 * wide, f"switching back did not give the wide model's memory: {rss}"


def test_load_model_of_an_unknown_name_keeps_the_current_model(make_binding: Any, models_dir: Path) -> None:
    """Seed contract: False for a name that does not exist; nothing is unloaded."""
    binding = make_binding(models_path=str(models_dir), model_name="tiny")
    assert binding.load_model("no-such-model") is False
    assert binding.model_name == "tiny"
    assert binding.get_model_info()["model_name"] == "tiny"


def test_a_request_naming_another_model_switches(make_binding: Any, models_dir: Path) -> None:
    """model= on a call loads that model first (the seeds' per-call model)."""
    binding = make_binding(models_path=str(models_dir), model_name="tiny")
    binding.generate_text("Hi", model="wide", n_predict=2, temperature=0.0)
    assert binding.model_name == "wide"


def test_a_folder_that_is_not_a_model_is_a_load_error(make_binding: Any, models_dir: Path) -> None:
    """The message says what a model folder needs."""
    with pytest.raises(BindingLoadError, match=r"no config\.json"):
        make_binding(models_path=str(models_dir), model_name="notes")


def test_a_non_gguf_file_is_a_load_error(make_binding: Any, models_dir: Path) -> None:
    """A stray file is refused before transformers sees it."""
    with pytest.raises(BindingLoadError, match=r"not a \.gguf model"):
        make_binding(model_path=str(models_dir / "notes" / "readme.txt"))


def test_several_ggufs_need_gguf_file(make_binding: Any, tmp_path: Path, gguf_path: Path) -> None:
    """A folder of several .gguf files names them and asks for gguf_file."""
    (tmp_path / "a.gguf").symlink_to(gguf_path)
    (tmp_path / "b.gguf").symlink_to(gguf_path)
    with pytest.raises(BindingLoadError, match=r"several \.gguf files \(a\.gguf, b\.gguf\)"):
        make_binding(model_path=str(tmp_path))
    with pytest.raises(BindingLoadError, match=r"gguf_file 'c\.gguf' is not in"):
        make_binding(model_path=str(tmp_path), gguf_file="c.gguf")


def test_device_values_are_checked_before_loading(make_binding: Any, models_dir: Path) -> None:
    """A malformed device is a ConfigError; a GPU this machine lacks is a BindingLoadError naming what is there."""
    with pytest.raises(ConfigError, match="cuda:N"):
        make_binding(models_path=str(models_dir), model_name="tiny", device="gpu0")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(BindingLoadError, match="available: cpu"):
        make_binding(models_path=str(models_dir), model_name="tiny", device="cuda:0")


def test_dtype_is_applied(make_binding: Any, models_dir: Path) -> None:
    """dtype=bfloat16 loads the weights in bfloat16 (auto on a CPU is float32)."""
    binding = make_binding(models_path=str(models_dir), model_name="tiny", dtype="bfloat16")
    assert binding.get_model_info()["dtype"] == "bfloat16"
    assert isinstance(binding.generate_text("Hi", n_predict=2, temperature=0.0), str)


def test_n_threads_out_of_range_is_a_config_error(make_binding: Any) -> None:
    """More threads than this machine can run (4 per logical CPU) is refused before anything loads."""
    from lollms_core.bindings import max_engine_threads

    too_many = max_engine_threads() + 1
    with pytest.raises(ConfigError, match=f"n_threads={too_many} is out of range for this machine"):
        make_binding(n_threads=too_many)


def test_trust_remote_code_is_off_by_default(make_binding: Any, models_dir: Path) -> None:
    """Code shipped with a model never runs unless the user says so."""
    binding = make_binding(models_path=str(models_dir), model_name="tiny")
    assert binding.config["trust_remote_code"] is False
    assert binding.get_model_info()["trust_remote_code"] is False


def test_no_model_is_a_clear_not_found(make_binding: Any, models_dir: Path) -> None:
    """Without a model, calls name what is available."""
    binding = make_binding(models_path=str(models_dir))
    with pytest.raises(NotFoundError, match=r"no model is loaded.*tiny"):
        binding.get_model_info()


def test_a_vision_model_reads_images_through_its_processor(make_binding: Any, vision_dir: Path, tmp_path: Path) -> None:
    """A folder with a processor loads as image-text-to-text; an image becomes pixel values and image tokens."""
    from PIL import Image

    binding = make_binding(model_path=str(vision_dir))
    info = binding.get_model_info()
    assert info["vision"] is True
    assert info["architecture"] == "llava"
    image = tmp_path / "red.png"
    Image.new("RGB", (20, 20), "red").save(image)
    out = binding.generate_text("What colour is this?", images=[str(image)], n_predict=3, temperature=0.0)
    assert isinstance(out, str), out
    run = binding._last_run
    assert tuple(run.inputs["pixel_values"].shape) == (1, 3, 16, 16)
    image_token = binding._loaded.model.config.image_token_index
    assert int((run.inputs["input_ids"] == image_token).sum()) == 5  # 4 patches + CLS
    text_only = binding.generate_text("What colour is this?", n_predict=3, temperature=0.0)
    assert isinstance(text_only, str)
    assert "pixel_values" not in binding._last_run.inputs
