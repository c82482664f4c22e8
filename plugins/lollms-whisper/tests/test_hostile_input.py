"""Hostile audio headers, oversized audio, absurd thread counts and path-like model names: typed errors, early."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest
from lollms_core import LollmsSTTBindingManager
from lollms_core.errors import ConfigError
from lollms_whisper.errors import AudioDecodeError, AudioLimitError
from lollms_whisper.whisper import _audio
from lollms_whisper.whisper import _models as models_module
from whisper_clips import make_silence_wav

pytestmark = pytest.mark.engine


def make(**config: Any) -> Any:
    return LollmsSTTBindingManager().create_binding("whisper", **config)


def crafted_wav(rate: int, data: bytes, channels: int = 1, bits: int = 16) -> bytes:
    """A PCM WAV whose header claims ``rate`` Hz (the ``wave`` module would not write an absurd one)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("rate", [1, 100, 3_999, 384_001, 4_000_000])
def test_a_header_claiming_an_absurd_sample_rate_is_refused(whisper: Any, rate: int) -> None:
    # 8 KB claiming 1 Hz took 11 s and 1.5 GB before: 64 million resampled samples from 4,000.
    audio = crafted_wav(rate, os.urandom(8192))
    with pytest.raises(AudioLimitError) as caught:
        whisper.transcribe_audio(audio)
    assert f"claims a sample rate of {rate} Hz; real audio is between 4000 and 384000 Hz" in str(caught.value)
    assert "audio bytes (8236 bytes" in str(caught.value)
    assert isinstance(caught.value, AudioDecodeError) and isinstance(caught.value, ConfigError)


def test_the_limit_rates_themselves_decode(whisper: Any) -> None:
    assert whisper.transcribe_audio(crafted_wav(4_000, b"\0\0" * 4_000)) == ""
    assert whisper.transcribe_audio(crafted_wav(384_000, b"\0\0" * 38_400)) == ""


def test_audio_longer_than_max_audio_seconds_is_refused_while_decoding(
    whisper: Any, tiny_en_path: Path, tmp_path: Path
) -> None:
    three_seconds = make_silence_wav(tmp_path / "three.wav", 3.0)
    short = make(model_name=str(tiny_en_path), cpu_threads=2, max_audio_seconds=2)
    assert short._engine is whisper._engine  # the limit is a decoding setting: the loaded model is shared
    with pytest.raises(AudioLimitError, match=r"three\.wav' is longer than max_audio_seconds=2;"):
        short.transcribe_audio(three_seconds)
    assert whisper.transcribe_audio(three_seconds) == ""  # the default (two hours) takes it


def test_max_audio_seconds_is_bounded_by_the_manifest(tiny_en_path: Path) -> None:
    for bad in (0, -1, 1e9):
        with pytest.raises(ConfigError, match="max_audio_seconds"):
            make(model_name=str(tiny_en_path), max_audio_seconds=bad)


def test_more_audio_than_the_bytes_can_hold_is_refused(
    whisper: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real codec packs a second into fewer than 16 bytes; prove the check with a stricter floor on real audio.
    clip = make_silence_wav(tmp_path / "clip.wav", 2.0)
    monkeypatch.setattr(_audio, "MIN_BYTES_PER_SECOND", 64_000)
    monkeypatch.setattr(_audio, "_GRACE_SECONDS", 0.5)
    with pytest.raises(AudioLimitError, match=r"decodes to more than 1 s of audio from 64044 bytes"):
        whisper.transcribe_audio(clip)


def test_real_espeak_speech_still_transcribes_from_a_path_and_from_bytes(whisper: Any, espeak_wav: Path) -> None:
    for source in (espeak_wav, espeak_wav.read_bytes()):
        text = whisper.transcribe_audio(source).lower()
        assert sum(word in text for word in ("quick", "brown", "fox", "lazy", "dog")) >= 3, text


@pytest.mark.parametrize("name", ["/missing/dir", "./models/tiny", "~/nowhere/whisper", "a/b/c"])
def test_a_missing_model_folder_is_named_as_a_folder_with_the_sizes(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make(model_name=name)
    message = str(caught.value)
    assert f"model folder '{name}' does not exist (model_name is a path, not a size name)" in message
    assert "tiny.en" in message and "large-v3" in message


def test_an_invalid_repo_id_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"model_name 'bad name/with spaces' is neither .* Sizes: tiny"):
        make(model_name="bad name/with spaces")


def test_too_many_threads_are_refused_before_the_engine_starts(
    tiny_en_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tripwire(key: Any) -> Any:
        raise AssertionError(f"the engine was started with {key}")

    monkeypatch.setattr("lollms_whisper.whisper.binding.load_engine", tripwire)  # where the binding looks it up
    limit = models_module.THREADS_PER_CPU * (os.cpu_count() or 1)
    with pytest.raises(ConfigError) as caught:
        make(model_name=str(tiny_en_path), cpu_threads=limit + 1)
    assert f"cpu_threads={limit + 1} x num_workers=1 = {limit + 1} threads" in str(caught.value)
    assert f"at most {limit}" in str(caught.value)
    with pytest.raises(ConfigError, match="num_workers=64"):
        make(model_name=str(tiny_en_path), cpu_threads=2, num_workers=64)
