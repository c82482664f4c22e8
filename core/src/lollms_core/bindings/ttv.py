"""``LollmsTTVBinding``: text-to-video (seed 001 §7)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..types import Modality
from .base import LollmsBinding

__all__ = ["LollmsTTVBinding"]


class LollmsTTVBinding(LollmsBinding):
    """Base class of video generators. Implement :meth:`_generate_video`."""

    modality: ClassVar[Modality] = Modality.TTV

    def _generate_video(self, prompt: str, params: dict[str, Any]) -> bytes:
        """Return the encoded video file (MP4 unless the manifest says otherwise)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _generate_video()")

    def generate_video(self, prompt: str, **params: Any) -> bytes:
        """Generate video from ``prompt``; returns the file's bytes."""
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
