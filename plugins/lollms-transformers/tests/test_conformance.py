"""The core's conformance kit against the transformers binding on the real SmolLM2 GGUF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lollms_core.testing import LLMBindingTests


class TestTransformersConformance(LLMBindingTests):
    """Every LLM contract test, on SmolLM2 dequantized by transformers, in this process."""

    @pytest.fixture
    def binding(self, shared_binding: Any) -> Any:
        return shared_binding

    @pytest.fixture
    def tool_binding(self, tools_binding: Any) -> Any:
        # SmolLM2's template has no tools: the tool checks run on a checkpoint whose template has them
        # (random weights; tool_choice="required" is constrained to well-formed calls by llguidance).
        return tools_binding

    @pytest.fixture
    def failing_binding(self, make_binding: Any, tmp_path: Path) -> Any:
        # An empty models folder: the binding exists but has no model to answer with.
        return make_binding(models_path=str(tmp_path), hub_cache=str(tmp_path / "hub"))
