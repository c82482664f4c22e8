"""The test servers themselves answer as the OpenAI API reference says (so binding tests test the binding)."""

from __future__ import annotations

import base64

import httpx
from png import decode_png


def test_llama_server_streams_and_ends_with_done(llama_base_url: str) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "stream": True}
    with httpx.stream("POST", llama_base_url + "/chat/completions", json=body, timeout=30) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


def test_tts_server_speaks_wav(tts_server) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(
        tts_server.base_url + "/v1/audio/speech",
        json={"model": "tts-1", "input": "Hello", "voice": "alloy", "response_format": "wav"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.content[:4] == b"RIFF"


def test_stt_server_transcribes_piper_speech(stt_server, speech_wav) -> None:  # type: ignore[no-untyped-def]
    files = {"file": ("hello.wav", speech_wav.read_bytes(), "audio/wav")}
    response = httpx.post(stt_server.base_url + "/v1/audio/transcriptions", files=files, timeout=60)
    assert response.status_code == 200, response.text
    assert "hello world" in response.json()["text"].lower()


def test_fake_images_server_b64_png(images_server) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(
        images_server.base_url + "/v1/images/generations",
        headers={"Authorization": "Bearer k"},
        json={"prompt": "red", "size": "16x16", "response_format": "b64_json"},
    )
    width, height, _ = decode_png(base64.b64decode(response.json()["data"][0]["b64_json"]))
    assert (width, height) == (16, 16)


def test_misbehaving_server_records_attempts(fault) -> None:  # type: ignore[no-untyped-def]
    scenario = fault("status503-1")
    first = httpx.post(scenario.base_url + "/chat/completions", json={"messages": []})
    second = httpx.post(scenario.base_url + "/chat/completions", json={"messages": []})
    assert (first.status_code, second.status_code) == (503, 200)
    assert scenario.seen()["attempts"] == 2
