"""Test support: the conformance kit.

The echo bindings live in :mod:`lollms_core.builtin`; :mod:`.echo` re-exports them.

Importing this package is cheap; the pytest suites load on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "LLMBindingTests",
    "STTBindingTests",
    "TTIBindingTests",
    "TTMBindingTests",
    "TTSBindingTests",
    "TTVBindingTests",
    "ToolBindingTests",
]

_SUITES = {name: "lollms_core.testing.suites" for name in __all__}


def __getattr__(name: str) -> Any:
    if name in _SUITES:
        return getattr(importlib.import_module(_SUITES[name]), name)
    raise AttributeError(f"module 'lollms_core.testing' has no attribute {name!r}")
