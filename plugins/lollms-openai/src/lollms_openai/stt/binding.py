"""``OpenAITranscriptionBinding``: /audio/transcriptions and /audio/translations on OpenAI-compatible servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lollms_core.bindings import LollmsSTTBinding
from lollms_core.errors import ServerError
from lollms_core.media import read_bytes_source

from .._connection import OpenAIConnection

__all__ = ["OpenAITranscriptionBinding"]

_TEXT_FORMATS = ("text", "srt", "vtt")


def _audio_mime(data: bytes) -> str:
    if data.startswith(b"RIFF"):
        return "audio/wav"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3")):
        return "audio/mpeg"
    return "application/octet-stream"


class OpenAITranscriptionBinding(LollmsSTTBinding):
    """Transcribe (or translate to English) a file path or audio bytes; returns the text."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.connection = OpenAIConnection(self.config)
        self.host_address = self.connection.base_url

    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        data = read_bytes_source(audio, "audio file")
        name = (
            audio.name
            if isinstance(audio, Path)
            else "audio"
            + {"audio/wav": ".wav", "audio/flac": ".flac", "audio/ogg": ".ogg", "audio/mpeg": ".mp3"}.get(
                _audio_mime(data), ".wav"
            )
        )
        translate = bool(params.get("translate"))
        fmt = params.get("response_format") or "json"
        form: dict[str, str] = {"model": params.get("model") or self.model_name or "whisper-1", "response_format": fmt}
        for key in ("prompt", "temperature") + (() if translate else ("language",)):
            if params.get(key) not in (None, ""):
                form[key] = str(params[key])
        path = "/audio/translations" if translate else "/audio/transcriptions"
        response = self.connection.post(path, data=form, files={"file": (name, data, _audio_mime(data))})
        if fmt in _TEXT_FORMATS:
            return response.text
        try:
            return str(response.json()["text"]).strip()
        except (ValueError, KeyError, TypeError):
            raise ServerError(
                f"{self.host_address}{path}: expected JSON with a 'text' field, got {response.text[:200]!r}"
            ) from None

    def list_models(self) -> list[dict[str, Any]]:
        """/models as ``model_name`` dicts (the configured model when the server has no /models)."""
        return self.connection.list_models(self.model_name)

    def close(self) -> None:
        """Close the HTTP pools."""
        self.connection.close()
        super().close()
