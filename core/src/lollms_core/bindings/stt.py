"""``LollmsSTTBinding``: speech-to-text (seed 001 §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Union

from ..errors import ConfigError
from ..types import Modality
from .base import LollmsBinding

__all__ = ["AudioSource", "LollmsSTTBinding"]

#: Audio given to a transcriber: a path (str or Path) or the file's bytes.
AudioSource = Union[str, Path, bytes]


class LollmsSTTBinding(LollmsBinding):
    """Base class of transcribers. Implement :meth:`_transcribe`."""

    modality: ClassVar[Modality] = Modality.STT

    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        """Return the text spoken in ``audio`` (a file path or the file's bytes); ``""`` for silence."""
        raise NotImplementedError(f"{type(self).__name__} must implement _transcribe()")

    def transcribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Transcribe a file path or audio bytes to text.

        :raises ConfigError: the file does not exist (naming it).
        """
        audio = self._audio(audio_source)
        return self._invoke(
            "transcribe_audio", self._transcribe, audio, params=options, known={"model": model}, returns=str
        )

    async def atranscribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Async :meth:`transcribe_audio` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.transcribe_audio, audio_source, model, **options)

    @staticmethod
    def _audio(source: AudioSource) -> bytes | Path:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return bytes(source)
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"audio file '{path}' does not exist or is not a file")
        return path

    def list_models(self) -> list[dict[str, Any]]:
        """Transcription models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()
