"""``LollmsTTVBinding``: text-to-video (seed 001 §7)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..types import Modality
from ._checks import text_input
from .base import LollmsBinding

__all__ = ["LollmsTTVBinding"]


class LollmsTTVBinding(LollmsBinding):
    """Base class of video generators. Implement :meth:`_generate_video`."""

    modality: ClassVar[Modality] = Modality.TTV

    @abstractmethod
    def _generate_video(self, prompt: str, params: dict[str, Any]) -> bytes:
        """Return the encoded video file (MP4 unless the manifest says otherwise)."""

    def generate_video(self, prompt: str, **params: Any) -> bytes:
        """Generate video from ``prompt``; returns the file's bytes."""
        prompt = text_input("generate_video", "prompt", prompt)
        return self._invoke("generate_video", self._generate_video, prompt, params=params)

    async def agenerate_video(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_video` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.generate_video, prompt, **params)

    def list_models(self) -> list[dict[str, Any]]:
        """Video models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()
