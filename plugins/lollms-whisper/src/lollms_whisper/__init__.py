"""lollms-whisper: local speech-to-text on faster-whisper.

Importing this package is cheap: faster-whisper (CTranslate2, PyAV, onnxruntime) is
imported only when a ``whisper`` binding is created. :mod:`lollms_whisper.transcript`
re-exports the core's timed-transcript types and SRT/VTT writers.
"""

from __future__ import annotations

from lollms_core import hookimpl

#: The distribution version: the one source hatch reads at build time (pyproject ``dynamic``).
__version__ = "0.1.0"

__all__ = ["lollms_register_bindings"]


@hookimpl
def lollms_register_bindings() -> list[str]:
    """The ``whisper`` speech-to-text binding (manifest read without importing the engine)."""
    return ["lollms_whisper.whisper"]
