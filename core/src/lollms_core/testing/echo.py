"""Old home of the echo bindings: re-exports :mod:`lollms_core.builtin.echo` (same classes).

``class: lollms_core.testing.echo:EchoLLMBinding`` in a manifest keeps working.
"""

from __future__ import annotations

from ..builtin.echo import (
    EchoLLMBinding,
    EchoSTTBinding,
    EchoTTIBinding,
    EchoTTMBinding,
    EchoTTSBinding,
    EchoTTVBinding,
)

__all__ = [
    "EchoLLMBinding",
    "EchoSTTBinding",
    "EchoTTIBinding",
    "EchoTTMBinding",
    "EchoTTSBinding",
    "EchoTTVBinding",
]
