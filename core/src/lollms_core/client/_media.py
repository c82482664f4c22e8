"""The client's image, speech, video and music methods: thin delegations to the bindings.

Each method names the constructor argument to set when its modality has no binding
(:class:`~lollms_core.errors.ModalityNotConfiguredError`, raised by ``require``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..bindings.stt import AudioSource
from ..types import ImageInput
from ._modalities import require

if TYPE_CHECKING:
    from ..bindings import LollmsSTTBinding, LollmsTTIBinding, LollmsTTMBinding, LollmsTTSBinding, LollmsTTVBinding
    from ..registry._table import Registry

__all__ = ["MediaMixin"]


class MediaMixin:
    """Text-to-image, speech-to-text, text-to-speech, text-to-video and text-to-music on the client."""

    # Set by LollmsClient.__init__ (declared here so these methods type-check against the real bases).
    registry: Registry
    tti: LollmsTTIBinding | None
    stt: LollmsSTTBinding | None
    tts: LollmsTTSBinding | None
    ttv: LollmsTTVBinding | None
    ttm: LollmsTTMBinding | None

    # -- images ---------------------------------------------------------------------------

    def generate_image(
        self, prompt: str, negative_prompt: str = "", width: int | None = None, height: int | None = None, **params: Any
    ) -> bytes:
        """An image for ``prompt`` (the file's bytes, PNG unless the binding says otherwise)."""
        return require(self.tti, "tti", self.registry).generate_image(prompt, negative_prompt, width, height, **params)

    def edit_image(
        self, images: ImageInput | list[ImageInput], prompt: str, mask: ImageInput | None = None, **params: Any
    ) -> bytes:
        """Edit ``images`` following ``prompt``; with ``mask``, only its transparent area."""
        return require(self.tti, "tti", self.registry).edit_image(images, prompt, mask=mask, **params)

    async def agenerate_image(self, prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`generate_image`."""
        return await require(self.tti, "tti", self.registry).agenerate_image(prompt, **kwargs)

    async def aedit_image(self, images: ImageInput | list[ImageInput], prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`edit_image`."""
        return await require(self.tti, "tti", self.registry).aedit_image(images, prompt, **kwargs)

    # -- speech ---------------------------------------------------------------------------

    def transcribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """The text spoken in an audio file (path or bytes)."""
        return require(self.stt, "stt", self.registry).transcribe_audio(audio_source, model, **options)

    async def atranscribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Async :meth:`transcribe_audio`."""
        return await require(self.stt, "stt", self.registry).atranscribe_audio(audio_source, model, **options)

    def generate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """``text`` spoken with ``voice`` (the audio file's bytes, WAV unless the binding says otherwise)."""
        return require(self.tts, "tts", self.registry).generate_audio(text, voice, **params)

    async def agenerate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """Async :meth:`generate_audio`."""
        return await require(self.tts, "tts", self.registry).agenerate_audio(text, voice, **params)

    def list_voices(self) -> list[str]:
        """Voices the text-to-speech binding accepts."""
        return require(self.tts, "tts", self.registry).list_voices()

    # -- video and music ------------------------------------------------------------------

    def generate_video(self, prompt: str, **params: Any) -> bytes:
        """A video for ``prompt`` (the file's bytes, MP4 unless the binding says otherwise)."""
        return require(self.ttv, "ttv", self.registry).generate_video(prompt, **params)

    async def agenerate_video(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_video`."""
        return await require(self.ttv, "ttv", self.registry).agenerate_video(prompt, **params)

    def generate_music(self, prompt: str, **params: Any) -> bytes:
        """Music for ``prompt`` (the audio file's bytes)."""
        return require(self.ttm, "ttm", self.registry).generate_music(prompt, **params)

    async def agenerate_music(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_music`."""
        return await require(self.ttm, "ttm", self.registry).agenerate_music(prompt, **params)
