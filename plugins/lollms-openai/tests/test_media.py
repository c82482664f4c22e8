"""tti (fake images server), tts (real piper server), stt (real faster-whisper server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_images_server import prompt_colour
from lollms_core.errors import ConfigError, NotFoundError
from png import decode_png, encode_png


@pytest.fixture
def tti(make_binding: Any, images_server: Any) -> Any:
    return make_binding("TTI", host_address=images_server.base_url, service_key="k", model_name="dall-e-2")


@pytest.mark.parametrize("response_format", ["b64_json", "url", ""])
def test_generate_image_returns_png_bytes_for_each_response_format(tti: Any, response_format: str) -> None:
    png = tti.generate_image("a red apple", size="16x16", response_format=response_format)
    width, height, pixels = decode_png(png)
    assert (width, height) == (16, 16)
    assert set(pixels) == {prompt_colour("a red apple")}


def test_width_and_height_become_size_and_n_quality_are_sent(tti: Any, images_server: Any) -> None:
    tti.generate_image("sky", width=32, height=32, n=2, quality="standard", response_format="b64_json")
    sent = httpx.get(images_server.base_url + "/_control/requests").json()[-1]["fields"]
    assert (sent["size"], sent["n"], sent["quality"], sent["model"]) == ("32x32", 2, "standard", "dall-e-2")


def test_gpt_image_model_without_response_format_gets_b64(make_binding: Any, images_server: Any) -> None:
    tti = make_binding("TTI", host_address=images_server.base_url, service_key="k", model_name="gpt-image-1")
    assert decode_png(tti.generate_image("cat", size="16x16"))[0] == 16


def test_edit_with_mask_paints_only_the_transparent_area(tti: Any, tmp_path: Path) -> None:
    source = encode_png(2, 1, [(10, 20, 30, 255), (40, 50, 60, 255)])
    mask = encode_png(2, 1, [(0, 0, 0, 255), (0, 0, 0, 0)])  # edit the right pixel only
    path = tmp_path / "source.png"
    path.write_bytes(source)
    edited = tti.edit_image(str(path), "blue sky", mask=mask, response_format="b64_json")
    assert decode_png(edited)[2] == [(10, 20, 30, 255), prompt_colour("blue sky")]


def test_edit_mask_of_another_size_is_the_servers_error(tti: Any) -> None:
    with pytest.raises(Exception, match="must match the image size") as caught:
        tti.edit_image(encode_png(1, 1, [(1, 1, 1, 255)]), "x", mask=encode_png(2, 1, [(0, 0, 0, 0)] * 2))
    assert getattr(caught.value, "status_code", None) == 400


def test_unknown_image_model_is_not_found(make_binding: Any, images_server: Any) -> None:
    tti = make_binding("TTI", host_address=images_server.base_url, service_key="k", model_name="nope")
    with pytest.raises(NotFoundError, match="nope"):
        tti.generate_image("x", size="16x16")


def test_speech_is_a_real_wav_that_whisper_understands(make_binding: Any, tts_server: Any, stt_server: Any) -> None:
    tts = make_binding("TTS", host_address=tts_server.base_url)
    wav = tts.generate_audio("Hello world, this is a test.", "alloy")
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    stt = make_binding("STT", host_address=stt_server.base_url)
    assert "hello world" in stt.transcribe_audio(wav).lower()


def test_speech_pcm_format_is_raw_audio(make_binding: Any, tts_server: Any) -> None:
    tts = make_binding("TTS", host_address=tts_server.base_url + "/v1")
    pcm = tts.generate_audio("Hi.", response_format="pcm")
    assert not pcm.startswith(b"RIFF") and len(pcm) > 1000


def test_unknown_voice_is_refused_before_any_request(make_binding: Any, dead_url: str) -> None:
    tts = make_binding("TTS", host_address=dead_url)
    with pytest.raises(ConfigError, match="nobody"):
        tts.generate_audio("x", "nobody")
    assert "alloy" in tts.list_voices()


def test_configured_voices_replace_openais(make_binding: Any, tts_server: Any) -> None:
    tts = make_binding("TTS", host_address=tts_server.base_url, voices=["en_US-joe-medium"], voice="en_US-joe-medium")
    assert tts.list_voices() == ["en_US-joe-medium"]
    assert tts.generate_audio("Hi.")[:4] == b"RIFF"


def test_transcribe_path_bytes_language_and_verbose(make_binding: Any, stt_server: Any, speech_wav: Path) -> None:
    stt = make_binding("STT", host_address=stt_server.base_url)
    from_path = stt.transcribe_audio(speech_wav, language="en")
    from_bytes = stt.transcribe_audio(speech_wav.read_bytes(), response_format="verbose_json")
    assert "hello world" in from_path.lower()
    assert from_path == from_bytes
    assert "hello world" in stt.transcribe_audio(speech_wav, prompt="Hello world.").lower()


def test_translate_uses_the_translations_route(make_binding: Any, stt_server: Any, speech_wav: Path) -> None:
    stt = make_binding("STT", host_address=stt_server.base_url)
    assert "hello" in stt.transcribe_audio(speech_wav, translate=True).lower()


def test_unsupported_response_format_is_the_servers_400(make_binding: Any, stt_server: Any, speech_wav: Path) -> None:
    stt = make_binding("STT", host_address=stt_server.base_url, strict=True)
    with pytest.raises(Exception, match="Unsupported response_format") as caught:
        stt.transcribe_audio(speech_wav, response_format="srt")
    assert getattr(caught.value, "status_code", None) == 400
