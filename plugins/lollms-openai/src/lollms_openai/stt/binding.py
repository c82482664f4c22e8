"""``OpenAITranscriptionBinding``: /audio/transcriptions and /audio/translations on OpenAI-compatible servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lollms_core.bindings import LollmsSTTBinding, Segment, Transcription, Word
from lollms_core.errors import ServerError
from lollms_core.media import read_bytes_source, sniff_format, sniff_mime

from .._connection import OpenAIConnection

__all__ = ["OpenAITranscriptionBinding"]

_TEXT_FORMATS = ("text", "srt", "vtt")


class OpenAITranscriptionBinding(LollmsSTTBinding):
    """Transcribe (or translate to English) a file path or audio bytes; returns the text."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.connection = OpenAIConnection(self.config)
        self.host_address = self.connection.base_url

    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        fmt = params.get("response_format") or "json"
        response, path = self._post(audio, params, fmt)
        if fmt in _TEXT_FORMATS:
            return str(response.text)
        return str(self._json(response, path).get("text") or "").strip()

    def _transcribe_segments(self, audio: bytes | Path, params: dict[str, Any]) -> Transcription:
        """Timed transcription from the server's ``verbose_json`` segments.

        When the server sends none: one whole-audio segment timed by the reported ``duration``.
        """
        response, path = self._post(audio, params, "verbose_json")
        body = self._json(response, path)
        text = str(body.get("text") or "").strip()
        duration = _float(body.get("duration")) or 0.0
        raw = body.get("segments")
        if isinstance(raw, list) and raw:
            try:
                segments = tuple(_segment(seg) for seg in raw)
            except (KeyError, TypeError, ValueError):
                raise ServerError(f"{self.host_address}{path}: malformed segments in {response.text[:200]!r}") from None
        else:
            segments = (Segment(0.0, duration, text),) if text and duration else ()
        language = body.get("language")
        return Transcription(
            text=text,
            segments=segments,
            language=str(language) if language else None,
            duration=duration or (segments[-1].end if segments else 0.0),
        )

    def _post(self, audio: bytes | Path, params: dict[str, Any], fmt: str) -> tuple[Any, str]:
        data = read_bytes_source(audio, "audio file")
        # Servers pick the decoder from the file name and type: use the real ones (sniffed).
        name = audio.name if isinstance(audio, Path) else f"audio.{sniff_format(data) or 'wav'}"
        translate = bool(params.get("translate"))
        form: dict[str, str] = {"model": params.get("model") or self.model_name or "whisper-1", "response_format": fmt}
        for key in ("prompt", "temperature") + (() if translate else ("language",)):
            if params.get(key) not in (None, ""):
                form[key] = str(params[key])
        path = "/audio/translations" if translate else "/audio/transcriptions"
        upload = (name, data, sniff_mime(data) or "application/octet-stream")
        return self.connection.post(path, data=form, files={"file": upload}), path

    def _json(self, response: Any, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "text" not in body:
            got = response.text[:200]
            raise ServerError(f"{self.host_address}{path}: expected JSON with a 'text' field, got {got!r}")
        return body

    def list_models(self) -> list[dict[str, Any]]:
        """/models as ``model_name`` dicts (the configured model when the server has no /models)."""
        return self.connection.list_models(self.model_name)

    def close(self) -> None:
        """Close the HTTP pools."""
        self.connection.close()
        super().close()


def _float(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when absent or not a number."""
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _segment(seg: dict[str, Any]) -> Segment:
    """One verbose_json segment (OpenAI's field names; faster-whisper-server uses the same)."""
    words = tuple(
        Word(float(w["start"]), float(w["end"]), str(w["word"]), _float(w.get("probability")))
        for w in seg.get("words") or ()
    )
    return Segment(
        start=float(seg["start"]),
        end=float(seg["end"]),
        text=str(seg["text"]),
        words=words,
        no_speech_prob=_float(seg.get("no_speech_prob")),
        avg_logprob=_float(seg.get("avg_logprob")),
    )
