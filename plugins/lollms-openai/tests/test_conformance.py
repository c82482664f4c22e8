"""The core's conformance kit against each of the four openai bindings, each on its real (or documented fake) server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lollms_core.testing import LLMBindingTests, STTBindingTests, TTIBindingTests, TTSBindingTests


class TestOpenAILLMConformance(LLMBindingTests):
    """Every LLM contract test on SmolLM2 behind llama.cpp's OpenAI API."""

    @pytest.fixture
    def binding(self, make_llm: Any) -> Any:
        return make_llm()

    @pytest.fixture
    def failing_binding(self, make_llm: Any, dead_url: str) -> Any:
        return make_llm(host_address=dead_url, max_retries=0, service_key="k-conformance-secret")


class TestOpenAITTIConformance(TTIBindingTests):
    """TTI contract on the documented fake images server (no image model runs offline)."""

    @pytest.fixture
    def binding(self, make_binding: Any, images_server: Any) -> Any:
        return make_binding("TTI", host_address=images_server.base_url, service_key="k", model_name="dall-e-2")

    @pytest.fixture
    def call_kwargs(self) -> dict[str, Any]:
        return {"width": 16, "height": 16}

    @pytest.fixture
    def failing_binding(self, make_binding: Any, dead_url: str) -> Any:
        return make_binding("TTI", host_address=dead_url, max_retries=0)


class TestOpenAITTSConformance(TTSBindingTests):
    """TTS contract on local-tts-studio (real piper speech)."""

    @pytest.fixture
    def binding(self, make_binding: Any, tts_server: Any) -> Any:
        return make_binding("TTS", host_address=tts_server.base_url)

    @pytest.fixture
    def failing_binding(self, make_binding: Any, dead_url: str) -> Any:
        return make_binding("TTS", host_address=dead_url, max_retries=0)


class TestOpenAISTTConformance(STTBindingTests):
    """STT contract on faster-whisper-server (tiny.en) with real piper speech."""

    @pytest.fixture
    def binding(self, make_binding: Any, stt_server: Any) -> Any:
        return make_binding("STT", host_address=stt_server.base_url)

    @pytest.fixture
    def audio_sample(self, speech_wav: Path) -> Path:
        return speech_wav

    @pytest.fixture
    def expected_text(self) -> str:
        return "Hello world, this is a test."

    @pytest.fixture
    def failing_binding(self, make_binding: Any, dead_url: str) -> Any:
        return make_binding("STT", host_address=dead_url, max_retries=0)
