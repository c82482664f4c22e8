"""``LollmsSTTBinding``: speech-to-text (seed 001 §5), plain or timed."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ..errors import NotSupportedError
from ..types import Modality
from ._checks import audio_input
from .base import LollmsBinding

if TYPE_CHECKING:
    from ._transcript import Transcription

__all__ = ["AudioSource", "LollmsSTTBinding"]

#: Audio given to a transcriber: a path (str or Path) or the file's bytes.
AudioSource = Union[str, Path, bytes]


class LollmsSTTBinding(LollmsBinding):
    """Base class of transcribers.

    Implement :meth:`_transcribe`; implement :meth:`_transcribe_segments` too when the engine gives timings.
    """

    modality: ClassVar[Modality] = Modality.STT

    @abstractmethod
    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        """Return the text spoken in ``audio`` (a file path or the file's bytes); ``""`` for silence."""

    def _transcribe_segments(self, audio: bytes | Path, params: dict[str, Any]) -> Transcription:
        """Return the timed transcription of ``audio``.

        The default, for engines without timings, is one segment spanning the whole audio
        (its length read from a WAV header). Other formats raise :class:`NotSupportedError`.
        """
        from ._transcript import Segment, Transcription

        duration = _wav_seconds(audio)
        if duration is None:
            raise NotSupportedError(
                f"the {self.binding_name} binding gives no timings, and without them only a WAV file's "
                "length is known: give a WAV file, or use transcribe_audio() for the text alone"
            )
        text = self._transcribe(audio, params).strip()
        return Transcription(text=text, segments=(Segment(0.0, duration, text),) if text else (), duration=duration)

    def transcribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Transcribe a file path or audio bytes to text.

        :raises ConfigError: the file does not exist (naming it), the audio is empty or of the wrong type.
        """
        audio = self._audio(audio_source, "transcribe_audio")
        return self._invoke(
            "transcribe_audio", self._transcribe, audio, params=options, known={"model": model}, returns=str
        )

    async def atranscribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Async :meth:`transcribe_audio` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.transcribe_audio, audio_source, model, **options)

    def transcribe_segments(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> Transcription:
        """Transcribe with timings.

        Returns a :class:`Transcription`: ``text``, ``segments`` (``start``, ``end``, ``text``,
        ``words``), ``language``, ``duration``. Takes the same options as :meth:`transcribe_audio`.
        ``result.to_srt()`` and ``result.to_vtt()`` write subtitles.

        :raises NotSupportedError: the binding has no timings and the audio is not WAV.
        """
        from ._transcript import Transcription

        audio = self._audio(audio_source, "transcribe_segments")
        return self._invoke(
            "transcribe_audio",
            self._transcribe_segments,
            audio,
            params=options,
            known={"model": model},
            returns=Transcription,
        )

    async def atranscribe_segments(
        self, audio_source: AudioSource, model: str | None = None, **options: Any
    ) -> Transcription:
        """Async :meth:`transcribe_segments` (runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.transcribe_segments, audio_source, model, **options)

    @staticmethod
    def _audio(source: AudioSource, method: str = "transcribe_audio") -> bytes | Path:
        """The checked audio: non-empty bytes, or the Path of an existing file."""
        return audio_input(method, source)

    def list_models(self) -> list[dict[str, Any]]:
        """Transcription models available: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()


def _wav_seconds(audio: bytes | Path) -> float | None:
    """The length of a WAV file in seconds, or ``None`` when it is not a readable WAV."""
    import io
    import wave

    try:
        with wave.open(io.BytesIO(audio) if isinstance(audio, bytes) else str(audio)) as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else None
    except (wave.Error, EOFError, OSError):
        return None
