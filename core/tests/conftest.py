"""Shared setup for the core's tests: an isolated manifest cache and echo bindings."""

from __future__ import annotations

import os
import tempfile

# Discovery writes a manifest cache; keep the tests' cache out of the user's ~/.cache.
# Set before lollms_core is imported (importing it builds the registry).
os.environ.setdefault("LOLLMS_CACHE_DIR", tempfile.mkdtemp(prefix="lollms-test-cache-"))

from typing import Any

import pytest
from lollms_core import LollmsLLMBindingManager


@pytest.fixture
def echo_llm() -> Any:
    """A fresh echo LLM binding from the default registry."""
    return LollmsLLMBindingManager().create_binding("echo")
