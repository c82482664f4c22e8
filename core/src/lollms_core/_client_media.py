"""The client's image, speech, video and music methods: thin delegations to the bindings.

Each method names the constructor argument to set when its modality has no binding
(:class:`~lollms_core.errors.ModalityNotConfiguredError`, raised by ``_need``).
"""

from __future__ import annotations

from typing import Any

from .bindings.stt import AudioSource
from .types import ImageInput

__all__ = ["MediaMixin"]


class MediaMixin:
    """Text-to-image, speech-to-text, text-to-speech, text-to-video and text-to-music on the client."""

    def _need(self, modality: str) -> Any:  # implemented by LollmsClient
        raise NotImplementedError

    # -- images ---------------------------------------------------------------------------

    def generate_image(
        self, prompt: str, negative_prompt: str = "", width: int | None = None, height: int | None = None, **params: Any
    ) -> bytes:
        """An image for ``prompt`` (the file's bytes, PNG unless the binding says otherwise)."""
        return self._need("tti").generate_image(prompt, negative_prompt, width, height, **params)  # type: ignore[no-any-return]

    def edit_image(
        self, images: ImageInput | list[ImageInput], prompt: str, mask: ImageInput | None = None, **params: Any
    ) -> bytes:
        """Edit ``images`` following ``prompt``; with ``mask``, only its transparent area."""
        return self._need("tti").edit_image(images, prompt, mask=mask, **params)  # type: ignore[no-any-return]

    async def agenerate_image(self, prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`generate_image`."""
        return await self._need("tti").agenerate_image(prompt, **kwargs)  # type: ignore[no-any-return]

    async def aedit_image(self, images: ImageInput | list[ImageInput], prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`edit_image`."""
        return await self._need("tti").aedit_image(images, prompt, **kwargs)  # type: ignore[no-any-return]

    # -- speech ---------------------------------------------------------------------------

    def transcribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """The text spoken in an audio file (path or bytes)."""
        return self._need("stt").transcribe_audio(audio_source, model, **options)  # type: ignore[no-any-return]

    async def atranscribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Async :meth:`transcribe_audio`."""
        return await self._need("stt").atranscribe_audio(audio_source, model, **options)  # type: ignore[no-any-return]

    def generate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """``text`` spoken with ``voice`` (the audio file's bytes, WAV unless the binding says otherwise)."""
        return self._need("tts").generate_audio(text, voice, **params)  # type: ignore[no-any-return]

    async def agenerate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """Async :meth:`generate_audio`."""
        return await self._need("tts").agenerate_audio(text, voice, **params)  # type: ignore[no-any-return]

    def list_voices(self) -> list[str]:
        """Voices the text-to-speech binding accepts."""
        return self._need("tts").list_voices()  # type: ignore[no-any-return]

    # -- video and music ------------------------------------------------------------------

    def generate_video(self, prompt: str, **params: Any) -> bytes:
        """A video for ``prompt`` (the file's bytes, MP4 unless the binding says otherwise)."""
        return self._need("ttv").generate_video(prompt, **params)  # type: ignore[no-any-return]

    async def agenerate_video(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_video`."""
        return await self._need("ttv").agenerate_video(prompt, **params)  # type: ignore[no-any-return]

    def generate_music(self, prompt: str, **params: Any) -> bytes:
        """Music for ``prompt`` (the audio file's bytes)."""
        return self._need("ttm").generate_music(prompt, **params)  # type: ignore[no-any-return]

    async def agenerate_music(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_music`."""
        return await self._need("ttm").agenerate_music(prompt, **params)  # type: ignore[no-any-return]
