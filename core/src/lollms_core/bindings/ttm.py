"""``LollmsTTMBinding``: text-to-music (seed 001 §8)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..types import Modality
from ._checks import text_input
from .base import LollmsBinding

__all__ = ["LollmsTTMBinding"]


class LollmsTTMBinding(LollmsBinding):
    """Base class of music generators. Implement :meth:`_generate_music`."""

    modality: ClassVar[Modality] = Modality.TTM

    @abstractmethod
    def _generate_music(self, prompt: str, params: dict[str, Any]) -> bytes:
        """Return the encoded music file (WAV unless the manifest says otherwise)."""

    def generate_music(self, prompt: str, **params: Any) -> bytes:
        """Generate music from ``prompt``; returns the file's bytes."""
        prompt = text_input("generate_music", "prompt", prompt)
        return self._invoke("generate_music", self._generate_music, prompt, params=params)

    async def agenerate_music(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_music` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.generate_music, prompt, **params)

    def list_models(self) -> list[dict[str, Any]]:
        """Music models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()
