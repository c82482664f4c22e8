"""The conformance kit run against the built-in echo bindings (one suite per modality)."""

from __future__ import annotations

from typing import Any

import pytest
from lollms_core import LollmsLLMBindingManager
from lollms_core.testing import LLMBindingTests


class TestEchoLLM(LLMBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("echo", fail_with="server", service_key="sk-never-shown")
