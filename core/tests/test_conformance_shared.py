"""The kit with one binding per class (``scope="class"``): how a plugin shares an expensive engine.

Each suite runs against a single binding; at the end of the class that binding must still work
(no kit test closed, reconfigured or broke it) and must be the only one the fixture made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lollms_core import LollmsLLMBindingManager, LollmsSTTBindingManager, LollmsTTSBindingManager
from lollms_core.testing import LLMBindingTests, STTBindingTests, TTSBindingTests

MADE: dict[str, int] = {}


def _shared(modality: str, manager: Any, check: Any) -> Any:
    @pytest.fixture(scope="class")
    @classmethod
    def binding(cls: type) -> Iterator[Any]:
        MADE[modality] = MADE.get(modality, 0) + 1
        made = manager().create_binding("echo")
        yield made
        assert check(made), "the shared binding no longer works after the suite"
        assert MADE[modality] == 1, f"the class-scoped {modality} binding was built {MADE[modality]} times"
        made.close()

    return binding


class TestSharedLLM(LLMBindingTests):
    binding = _shared("llm", LollmsLLMBindingManager, lambda b: b.generate_text("still here") == "still here")


class TestSharedTTS(TTSBindingTests):
    binding = _shared("tts", LollmsTTSBindingManager, lambda b: b.generate_audio("still here")[:4] == b"RIFF")


class TestSharedSTT(STTBindingTests):
    binding = _shared("stt", LollmsSTTBindingManager, lambda b: b.transcribe_audio(b"RIFF\x04\x00\x00\x00WAVE") == "")

    @pytest.fixture
    def audio_sample(self) -> bytes:
        return LollmsTTSBindingManager().create_binding("echo").generate_audio("shared engines load once")

    @pytest.fixture
    def expected_text(self) -> str:
        return "shared engines load once"
