"""``OpenAISpeechBinding``: /audio/speech on OpenAI-compatible servers."""

from __future__ import annotations

from typing import Any

from lollms_core.bindings import LollmsTTSBinding
from lollms_core.errors import ConfigError

from .._connection import OpenAIConnection

__all__ = ["OPENAI_VOICES", "OpenAISpeechBinding"]

#: The voices OpenAI's speech models accept (API reference, audio/createSpeech).
OPENAI_VOICES = [
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
]


class OpenAISpeechBinding(LollmsTTSBinding):
    """Speak text with /audio/speech; the answer is the audio file's bytes in ``response_format``."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.connection = OpenAIConnection(self.config)
        self.host_address = self.connection.base_url

    def list_voices(self) -> list[str]:
        """The configured ``voices`` (for servers with their own), else OpenAI's voice list.

        OpenAI has no endpoint that lists voices, so this is the documented list, not a server query.
        """
        configured = [str(v) for v in self.config.get("voices") or [] if str(v)]
        return configured or list(OPENAI_VOICES)

    def _generate_audio(self, text: str, voice: str | None, params: dict[str, Any]) -> bytes:
        voice = voice or str(self.config.get("voice") or "alloy")
        voices = self.list_voices()
        if voice not in voices:
            raise ConfigError(
                f"unknown voice '{voice}' for {self.host_address}; known voices: {', '.join(voices)} "
                "(set the `voices` config parameter if this server has others)"
            )
        body: dict[str, Any] = {
            "model": params.get("model") or self.model_name or "tts-1",
            "input": text,
            "voice": voice,
            "response_format": params.get("response_format") or "wav",
        }
        if params.get("speed") is not None:
            body["speed"] = params["speed"]
        if params.get("instructions"):
            body["instructions"] = params["instructions"]
        return self.connection.post("/audio/speech", json=body).content

    def list_models(self) -> list[dict[str, Any]]:
        """/models as ``model_name`` dicts (the configured model when the server has no /models)."""
        return self.connection.list_models(self.model_name)

    def close(self) -> None:
        """Close the HTTP pools."""
        self.connection.close()
        super().close()
