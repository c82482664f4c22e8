"""The core's conformance kit against the ollama binding and the Ollama-API test server (real llama.cpp)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lollms_core.testing import LLMBindingTests


class TestOllamaConformance(LLMBindingTests):
    """Every LLM contract test, on SmolLM2 behind the Ollama API."""

    @pytest.fixture
    def binding(self, make_binding: Callable[..., Any]) -> Any:
        return make_binding()

    @pytest.fixture
    def failing_binding(self, make_binding: Callable[..., Any], dead_url: str) -> Any:
        return make_binding(host_address=dead_url, max_retries=0, service_key="k-conformance-secret")
