"""Binding base classes: one contract per modality, the streaming machinery and the option helpers.

The managers that list and create bindings (``LollmsLLMBindingManager`` ...) sit above the
registry, in :mod:`lollms_core.discovery`; ``from lollms_core import LollmsLLMBindingManager`` is
the import to use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..types import Modality
from ._checks import ENGINE_THREADS_PER_CPU, max_engine_threads
from .base import LollmsBinding, seed_result
from .llm import LollmsLLMBinding
from .stt import AudioSource, LollmsSTTBinding
from .tools import LollmsToolBinding
from .tti import LollmsTTIBinding
from .ttm import LollmsTTMBinding
from .tts import LollmsTTSBinding
from .ttv import LollmsTTVBinding

if TYPE_CHECKING:
    from ._transcript import Segment, Transcription, Word, format_timestamp, to_srt, to_vtt

__all__ = [
    "BASES",
    "ENGINE_THREADS_PER_CPU",
    "AudioSource",
    "LollmsBinding",
    "LollmsLLMBinding",
    "LollmsSTTBinding",
    "LollmsTTIBinding",
    "LollmsTTMBinding",
    "LollmsTTSBinding",
    "LollmsTTVBinding",
    "LollmsToolBinding",
    "Segment",
    "Transcription",
    "Word",
    "format_timestamp",
    "max_engine_threads",
    "seed_result",
    "to_srt",
    "to_vtt",
]

#: The base class a binding of each modality must derive from.
BASES: dict[Modality, type[LollmsBinding]] = {
    Modality.LLM: LollmsLLMBinding,
    Modality.TTI: LollmsTTIBinding,
    Modality.STT: LollmsSTTBinding,
    Modality.TTS: LollmsTTSBinding,
    Modality.TTV: LollmsTTVBinding,
    Modality.TTM: LollmsTTMBinding,
    Modality.TOOLS: LollmsToolBinding,
}


_TRANSCRIPT = frozenset({"Segment", "Transcription", "Word", "format_timestamp", "to_srt", "to_vtt"})


def __getattr__(name: str) -> Any:
    # The timed-transcript types load on first use: three frozen dataclasses cost ~3 ms at
    # ``import lollms_core``, which every program using lollms pays.
    if name in _TRANSCRIPT:
        from . import _transcript

        value = getattr(_transcript, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lollms_core.bindings' has no attribute {name!r}")
