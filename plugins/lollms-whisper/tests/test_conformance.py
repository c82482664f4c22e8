"""The core's STT conformance kit on the real tiny.en model and piper speech."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lollms_core.testing import STTBindingTests
from whisper_clips import PIPER_TEXT

pytestmark = pytest.mark.engine


class TestWhisperConformance(STTBindingTests):
    """Every standard STT check; the backend-failure one is skipped: a local engine has no server to fail."""

    @pytest.fixture
    def binding(self, whisper: Any) -> Any:
        return whisper

    @pytest.fixture
    def audio_sample(self, piper_wav: Path) -> Path:
        return piper_wav

    @pytest.fixture
    def expected_text(self) -> str:
        return PIPER_TEXT
