"""Media bases (TTI, STT, TTS, TTV, TTM): per-call params, result checks, inputs, errors, async twins."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import wave
from pathlib import Path
from typing import Any

import pytest
from lollms_core import (
    LollmsSTTBinding,
    LollmsSTTBindingManager,
    LollmsTTIBinding,
    LollmsTTIBindingManager,
    LollmsTTMBindingManager,
    LollmsTTSBindingManager,
    LollmsTTVBindingManager,
)
from lollms_core.errors import AuthenticationError, ConfigError, NotSupportedError, RateLimitError
from lollms_core.manifest import parse_manifest
from lollms_core.testing.suites import sniff_format


def png_size(data: bytes) -> tuple[int, int]:
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


class Recording(LollmsTTIBinding):
    """Returns whatever ``reply`` says and remembers the params it was given."""

    manifest = parse_manifest(
        {
            "name": "recording",
            "modality": "tti",
            "description": "test",
            "generate_image_parameters": [
                {"name": "steps", "type": "int", "default": 4, "min": 1, "max": 50, "description": "steps"}
            ],
        }
    )
    reply: Any = b"\x89PNG\r\n\x1a\nfake"

    def _generate_image(self, prompt: str, params: dict[str, Any]) -> bytes:
        self.seen = params
        return self.reply  # type: ignore[no-any-return]


def test_tti_params_are_validated_defaulted_and_passed() -> None:
    binding = Recording()
    binding.generate_image("cat", negative_prompt="dog", width=64)
    assert binding.seen == {"steps": 4, "negative_prompt": "dog", "width": 64}
    binding.generate_image("cat", steps="7")
    assert binding.seen == {"steps": 7}
    with pytest.raises(ConfigError, match=r"recording.generate_image\(\): parameter 'steps' is 99; it must be <= 50"):
        binding.generate_image("cat", steps=99)
    with pytest.raises(ConfigError, match="unknown option 'step'; did you mean 'steps'"):
        binding.generate_image("cat", step=3)


@pytest.mark.parametrize(("reply", "fragment"), [("not bytes", "returned str"), (b"", "returned bytes (empty)")])
def test_media_result_must_be_non_empty_bytes(reply: Any, fragment: str) -> None:
    binding = Recording()
    binding.reply = reply
    with pytest.raises(TypeError, match=re.escape(f"Recording._generate_image {fragment}; expected bytes")):
        binding.generate_image("cat")


def test_edit_image_is_not_supported_unless_implemented() -> None:
    with pytest.raises(NotSupportedError, match="the recording binding cannot edit images"):
        Recording().edit_image(b"img", "make it blue")


def test_echo_tti_size_mask_and_async() -> None:
    tti = LollmsTTIBindingManager().create_binding("echo")
    image = tti.generate_image("red", size=5)
    assert sniff_format(image) == "png"
    assert png_size(image) == (5, 5)
    assert tti.generate_image("red", size=5) == image, "same prompt, same image"
    assert tti.generate_image("blue", size=5) != image
    with pytest.raises(ConfigError, match="'size' is 0; it must be >= 1"):
        tti.generate_image("red", size=0)
    edited = tti.edit_image(image, "blue")
    assert edited == tti.edit_image([image], "blue"), "one image or a list of one is the same call"
    assert tti.edit_image(image, "blue", mask=image) != edited, "the mask reaches the binding"
    assert asyncio.run(tti.agenerate_image("red", size=5)) == image
    assert asyncio.run(tti.aedit_image(image, "blue")) == edited
    assert tti.set_settings({"model_name": "other"}) is True
    assert tti.model_name == "other"


def test_media_backend_errors_raise_typed() -> None:
    with pytest.raises(RateLimitError, match="rate_limit"):
        LollmsTTIBindingManager().create_binding("echo", fail_with="rate_limit").generate_image("x")
    with pytest.raises(AuthenticationError):
        asyncio.run(LollmsTTSBindingManager().create_binding("echo", fail_with="auth").agenerate_audio("x"))


def test_tts_voices_and_audio() -> None:
    tts = LollmsTTSBindingManager().create_binding("echo")
    assert tts.list_voices() == ["echo-high", "echo-low"]
    four_words = tts.generate_audio("one two three four")
    assert sniff_format(four_words) == "wav"
    assert wav_seconds(four_words) == pytest.approx(0.2)
    assert tts.generate_audio("one two three four", "echo-low") != four_words
    with pytest.raises(ConfigError, match="unknown voice 'robot'; available: echo-high, echo-low"):
        tts.generate_audio("hi", "robot")
    assert asyncio.run(tts.agenerate_audio("one two three four")) == four_words


def test_stt_accepts_paths_and_bytes(tmp_path: Path) -> None:
    speech = LollmsTTSBindingManager().create_binding("echo").generate_audio("round trip works")
    stt = LollmsSTTBindingManager().create_binding("echo")
    path = tmp_path / "speech.wav"
    path.write_bytes(speech)
    for source in (speech, bytearray(speech), path, str(path)):
        assert stt.transcribe_audio(source) == "round trip works"
    assert stt.transcribe_audio(speech, language="en") == "round trip works"
    assert asyncio.run(stt.atranscribe_audio(path)) == "round trip works"
    silence = LollmsTTMBindingManager().create_binding("echo").generate_music("calm")
    assert stt.transcribe_audio(silence) == ""


def test_stt_input_errors_name_the_file(tmp_path: Path) -> None:
    stt = LollmsSTTBindingManager().create_binding("echo")
    with pytest.raises(ConfigError, match=r"audio file '.*missing\.wav' does not exist"):
        stt.transcribe_audio(tmp_path / "missing.wav")
    with pytest.raises(ConfigError, match=r"audio file '.*' does not exist or is not a file"):
        stt.transcribe_audio(tmp_path)
    not_wav = tmp_path / "notes.txt"
    not_wav.write_text("hello")
    with pytest.raises(ConfigError, match=r"notes\.txt' is not a WAV file"):
        stt.transcribe_audio(not_wav)


def test_stt_must_return_text() -> None:
    class Bytesy(LollmsSTTBinding):
        manifest = parse_manifest({"name": "bytesy", "modality": "stt", "description": "d"})

        def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
            return b"oops"  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"Bytesy\._transcribe returned bytes; expected str"):
        Bytesy().transcribe_audio(b"RIFF")


def test_ttv_and_ttm_formats() -> None:
    video = LollmsTTVBindingManager().create_binding("echo").generate_video("waves")
    assert sniff_format(video) == "mp4"
    music = LollmsTTMBindingManager().create_binding("echo")
    tune = music.generate_music("jazz")
    assert sniff_format(tune) == "wav"
    assert wav_seconds(tune) == pytest.approx(0.25)
    assert asyncio.run(music.agenerate_music("jazz")) == tune
    assert music.listModels() == music.list_models() == []


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\x89PNG\r\n\x1a\n....", "png"),
        (b"\xff\xd8\xff\xe0....", "jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"ID3\x04\x00.....", "mp3"),
        (b"\xff\xfb\x90\x00....", "mp3"),
        (b"OggS\x00\x02....", "ogg"),
        (b"fLaC\x00\x00", "flac"),
        (b"\x00\x00\x00\x18ftypmp42", "mp4"),
        (b"hello world", None),
    ],
)
def test_sniff_format(data: bytes, fmt: str | None) -> None:
    assert sniff_format(data) == fmt
