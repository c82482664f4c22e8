"""``LollmsTTSBinding``: text-to-speech (seed 001 §6)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..types import Modality
from ._checks import text_input, voice_input
from .base import LollmsBinding

__all__ = ["LollmsTTSBinding"]


class LollmsTTSBinding(LollmsBinding):
    """Base class of speech synthesisers. Implement :meth:`_generate_audio` and :meth:`list_voices`."""

    modality: ClassVar[Modality] = Modality.TTS

    @abstractmethod
    def _generate_audio(self, text: str, voice: str | None, params: dict[str, Any]) -> bytes:
        """Return the encoded audio file (WAV unless a ``format`` parameter says otherwise).

        ``text`` is a non-empty ``str`` and ``voice`` a non-empty ``str`` or ``None``: the base checked.
        """

    def generate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """Speak ``text`` with ``voice`` (or the default voice); returns the audio file's bytes.

        :raises ConfigError: ``text`` is not a non-empty str, ``voice`` not a str or None.
        """
        text = text_input("generate_audio", "text", text)
        voice = voice_input("generate_audio", voice)
        return self._invoke("generate_audio", self._generate_audio, text, voice, params=params)

    async def agenerate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """Async :meth:`generate_audio` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.generate_audio, text, voice, **params)

    def list_voices(self) -> list[str]:
        """Voice identifiers accepted by :meth:`generate_audio`.

        Plain strings; ``[]`` when the backend cannot list them (any name may then be tried).
        """
        return []

    def list_models(self) -> list[dict[str, Any]]:
        """Synthesis models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()
