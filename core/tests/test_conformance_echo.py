"""The conformance kit run against the built-in echo bindings (one suite per modality)."""

from __future__ import annotations

from typing import Any

import pytest
from lollms_core import (
    LollmsLLMBindingManager,
    LollmsSTTBindingManager,
    LollmsTTIBindingManager,
    LollmsTTMBindingManager,
    LollmsTTSBindingManager,
    LollmsTTVBindingManager,
)
from lollms_core.testing import (
    LLMBindingTests,
    STTBindingTests,
    TTIBindingTests,
    TTMBindingTests,
    TTSBindingTests,
    TTVBindingTests,
)


class TestEchoLLM(LLMBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("echo")

    @pytest.fixture
    def tool_prompt(self) -> str:
        return '/call get_weather {"city": "Paris"}'


class TestEchoLLMWithoutToolCalling(LLMBindingTests):
    """The kit's refusal checks: a binding that declares neither capability refuses both."""

    @pytest.fixture
    def binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("echo", tool_calling="none", json_schema=False)

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("echo", fail_with="server", service_key="sk-never-shown")


class TestEchoTTI(TTIBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsTTIBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsTTIBindingManager().create_binding("echo", fail_with="rate_limit")


class TestEchoTTS(TTSBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsTTSBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsTTSBindingManager().create_binding("echo", fail_with="connection")


class TestEchoSTT(STTBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsSTTBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsSTTBindingManager().create_binding("echo", fail_with="timeout")

    @pytest.fixture
    def audio_sample(self) -> bytes:
        # The echo TTS hides the spoken text in its WAV; the echo STT reads it back.
        audio: bytes = LollmsTTSBindingManager().create_binding("echo").generate_audio("Hello, brave new world!")
        return audio

    @pytest.fixture
    def expected_text(self) -> str:
        return "hello brave new world"


class TestEchoTTV(TTVBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsTTVBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsTTVBindingManager().create_binding("echo", fail_with="auth")


class TestEchoTTM(TTMBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsTTMBindingManager().create_binding("echo")

    @pytest.fixture
    def failing_binding(self) -> Any:
        return LollmsTTMBindingManager().create_binding("echo", fail_with="not_found")
