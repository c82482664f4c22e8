"""Binding base classes (one per modality) and their managers."""

from __future__ import annotations

from ..types import Modality
from ._transcript import Segment, Transcription, Word, format_timestamp, to_srt, to_vtt
from .base import LollmsBinding, seed_result
from .llm import LollmsLLMBinding
from .managers import (
    BindingManager,
    LollmsLLMBindingManager,
    LollmsSTTBindingManager,
    LollmsTTIBindingManager,
    LollmsTTMBindingManager,
    LollmsTTSBindingManager,
    LollmsTTVBindingManager,
)
from .stt import AudioSource, LollmsSTTBinding
from .tti import LollmsTTIBinding
from .ttm import LollmsTTMBinding
from .tts import LollmsTTSBinding
from .ttv import LollmsTTVBinding

__all__ = [
    "BASES",
    "AudioSource",
    "BindingManager",
    "LollmsBinding",
    "LollmsLLMBinding",
    "LollmsLLMBindingManager",
    "LollmsSTTBinding",
    "LollmsSTTBindingManager",
    "LollmsTTIBinding",
    "LollmsTTIBindingManager",
    "LollmsTTMBinding",
    "LollmsTTMBindingManager",
    "LollmsTTSBinding",
    "LollmsTTSBindingManager",
    "LollmsTTVBinding",
    "LollmsTTVBindingManager",
    "Segment",
    "Transcription",
    "Word",
    "format_timestamp",
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
}
