"""Load settings llama.cpp would crash or stall on are refused before the engine is touched.

``n_threads=1000000`` aborts the process inside llama.cpp (``std::bad_alloc``): these tests
replace the engine class with a tripwire, so a missing check fails the test instead of
killing the test process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lollms_core.errors import ConfigError
from lollms_llamacpp.llm import binding as binding_module
from lollms_llamacpp.llm.gguf_header import read_gguf_header
from lollms_llamacpp.llm.limits import MAX_CONTEXT, THREADS_PER_CPU, effective_context, max_threads


class Tripwire:
    """Stands in for LlamaEngine: constructing it means a bad setting reached the engine."""

    def __init__(self, settings: Any, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"the engine was started with {settings}")


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binding_module, "LlamaEngine", Tripwire)


def test_thread_limit_is_a_multiple_of_this_machines_cpus() -> None:
    assert max_threads() == THREADS_PER_CPU * (os.cpu_count() or 1)


@pytest.mark.parametrize("n_threads", [1_000_000, 100_000, 10_000, 1025])
def test_absurd_thread_counts_are_refused_by_the_manifest(gguf_path: Path, no_engine: None, n_threads: int) -> None:
    from lollms_core import LollmsLLMBindingManager

    with pytest.raises(ConfigError, match="n_threads"):
        LollmsLLMBindingManager().create_binding("llamacpp", model_path=str(gguf_path), n_threads=n_threads)


def test_threads_above_the_cpu_multiple_are_refused_naming_value_and_limit(gguf_path: Path, no_engine: None) -> None:
    from lollms_core import LollmsLLMBindingManager

    too_many = max_threads() + 1
    with pytest.raises(ConfigError) as caught:
        LollmsLLMBindingManager().create_binding(
            "llamacpp", model_path=str(gguf_path), n_threads=too_many, show_progress=False
        )
    assert f"n_threads={too_many} is out of range for this machine: allowed 0 .. {max_threads()}" in str(caught.value)


def test_a_per_call_thread_count_is_checked_before_the_reload(
    shared_binding: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = shared_binding._engine
    monkeypatch.setattr(binding_module, "LlamaEngine", Tripwire)
    for n_threads in (1_000_000, max_threads() + 1):
        with pytest.raises(ConfigError, match=f"n_threads={n_threads} is out of range"):
            shared_binding.generate_text("Hi", n_threads=n_threads, n_predict=2)
    monkeypatch.undo()
    assert shared_binding._engine is engine  # the loaded model was not freed by the refused reload
    assert shared_binding.generate_text("Hi", n_predict=2, temperature=0.0)


def test_context_sizes_are_capped_at_the_training_context_from_the_header(gguf_path: Path) -> None:
    header = read_gguf_header(gguf_path)
    trained = header.context_length
    assert trained is not None
    assert effective_context(header, 0) == trained
    assert effective_context(header, 1024) == 1024
    assert effective_context(header, MAX_CONTEXT) == trained
    header.metadata[f"{header.architecture}.context_length"] = 1 << 40  # a crafted header
    assert effective_context(header, 0) == MAX_CONTEXT


def test_context_size_beyond_any_model_is_refused_by_the_manifest(gguf_path: Path, no_engine: None) -> None:
    from lollms_core import LollmsLLMBindingManager

    with pytest.raises(ConfigError, match="ctx_size"):
        LollmsLLMBindingManager().create_binding("llamacpp", model_path=str(gguf_path), ctx_size=1 << 40)


def test_an_oversized_context_reaches_the_engine_capped(make_binding: Any, gguf_path: Path) -> None:
    binding = make_binding(model_path=str(gguf_path), ctx_size=MAX_CONTEXT, embeddings=False)
    assert binding.get_model_info()["n_ctx"] == read_gguf_header(gguf_path).context_length
