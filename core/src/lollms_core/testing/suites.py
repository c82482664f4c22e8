"""The conformance kit: pytest class suites a plugin subclasses to get the standard tests.

Example (``tests/test_conformance.py`` of a plugin)::

    import pytest
    from lollms_core import LollmsLLMBindingManager
    from lollms_core.testing import LLMBindingTests

    class TestMyLLM(LLMBindingTests):
        @pytest.fixture
        def binding(self):
            return LollmsLLMBindingManager().create_binding("mybinding", host_address="http://127.0.0.1:8080")

Every suite needs a ``binding`` fixture; the optional fixtures are listed in each suite's
docstring. Async forms are run with :func:`asyncio.run`, so no pytest-asyncio mode is needed.
"""

from __future__ import annotations

from ._common import BindingTestsBase, loose_match, sniff_format
from ._llm_suite import LLMBindingTests, StreamWatch, watch_stream
from ._media_suites import (
    STTBindingTests,
    TTIBindingTests,
    TTMBindingTests,
    TTSBindingTests,
    TTVBindingTests,
    assert_format,
)
from ._tools_binding_suite import ToolBindingTests

__all__ = [
    "BindingTestsBase",
    "LLMBindingTests",
    "STTBindingTests",
    "StreamWatch",
    "TTIBindingTests",
    "TTMBindingTests",
    "TTSBindingTests",
    "TTVBindingTests",
    "ToolBindingTests",
    "assert_format",
    "loose_match",
    "sniff_format",
    "watch_stream",
]
