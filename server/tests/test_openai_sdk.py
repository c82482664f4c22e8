"""The OpenAI wire, checked with the real ``openai`` SDK (sync and async, streamed and not) on echo bindings."""

from __future__ import annotations

import asyncio
import base64
import io
import wave

import httpx
import openai
import pytest

from .conftest import Running

ALL_ECHO = {
    "models": {
        "echo": {"binding": "echo"},
        "echo-cut": {"binding": "echo", "config": {"fail_with": "cut"}},
        "echo-limited": {"binding": "echo", "config": {"fail_with": "rate_limit"}},
        "painter": {"binding": "echo", "modality": "tti"},
        "speaker": {"binding": "echo", "modality": "tts"},
        "listener": {"binding": "echo", "modality": "stt"},
    }
}


@pytest.fixture
def server(serve) -> Running:  # type: ignore[no-untyped-def]
    return serve(ALL_ECHO, max_tokens=64)


@pytest.fixture
def client(server: Running) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key="unused", max_retries=0)


def test_models_lists_every_alias_with_its_modality(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert set(models) == set(ALL_ECHO["models"])
    assert models["painter"].model_extra["lollms"]["modality"] == "tti"  # type: ignore[index]


def test_chat_blocking_answer_and_usage(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hello there world"}])
    assert answer.choices[0].message.content == "hello there world"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 3
    assert answer.usage.prompt_tokens > 0  # counted with the binding's tokenizer when it reports none


def test_chat_stream_with_usage_ends_with_empty_choices_then_done(client: openai.OpenAI, server: Running) -> None:
    chunks = list(
        client.chat.completions.create(
            model="echo",
            messages=[{"role": "user", "content": "one two three four"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])
    with httpx.stream(
        "POST",
        f"{server.v1}/chat/completions",
        json={"model": "echo", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    ) as raw:
        lines = [line for line in raw.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


def test_max_tokens_counts_tokens_and_reports_length(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "a b c d e f"}], max_tokens=2
    )
    assert answer.choices[0].message.content == "a b"
    assert answer.choices[0].finish_reason == "length"


def test_async_sdk(server: Running) -> None:
    async def run() -> tuple[str, str]:
        client = openai.AsyncOpenAI(base_url=server.v1, api_key="unused", max_retries=0)
        whole = await client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "async hi"}])
        stream = await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "async stream"}], stream=True
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await client.close()
        return whole.choices[0].message.content or "", "".join(parts)

    assert asyncio.run(run()) == ("async hi", "async stream")


def test_completions_blocking_and_streamed(client: openai.OpenAI) -> None:
    whole = client.completions.create(model="echo", prompt="say this back")
    assert whole.choices[0].text == "say this back"
    parts = [
        c.choices[0].text for c in client.completions.create(model="echo", prompt="x y z", stream=True) if c.choices
    ]
    assert "".join(parts) == "x y z"


def test_embeddings_float_and_base64_agree(client: openai.OpenAI) -> None:
    floats = client.embeddings.create(model="echo", input=["red apple", "green pear"], encoding_format="float")
    packed = client.embeddings.create(model="echo", input=["red apple", "green pear"])  # the SDK asks base64
    assert len(floats.data) == 2 and len(floats.data[0].embedding) == 16
    for a, b in zip(floats.data, packed.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert floats.data[0].embedding != floats.data[1].embedding


def test_unknown_model_is_404_listing_the_ones_served(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert info.value.code == "model_not_found"
    assert "echo" in info.value.message and "painter" not in info.value.message


def test_bad_parameter_is_400_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}], temperature=7)
    assert info.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}], max_tokens=65)
    assert info.value.param == "max_tokens" and "64" in info.value.message


def test_backend_rate_limit_is_429(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="echo-limited", messages=[{"role": "user", "content": "x"}])
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "rate_limit_exceeded" and body["type"] == "rate_limit_error"


def test_error_after_text_arrives_as_an_error_event(client: openai.OpenAI, server: Running) -> None:
    got: list[str] = []
    stream = client.chat.completions.create(
        model="echo-cut", messages=[{"role": "user", "content": "a b c d e"}], stream=True
    )
    with pytest.raises(openai.APIError) as info:
        got.extend(chunk.choices[0].delta.content or "" for chunk in stream)
    assert "".join(got) == "a b"
    assert "cut after 2 chunks" in info.value.message
    with httpx.stream(
        "POST",
        f"{server.v1}/chat/completions",
        json={"model": "echo-cut", "messages": [{"role": "user", "content": "a b c d"}], "stream": True},
    ) as raw:
        lines = [line for line in raw.iter_lines() if line]
    assert lines[-1].startswith('data: {"error": {"message"') and "[DONE]" not in lines[-1]


def test_wrong_modality_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="painter", messages=[{"role": "user", "content": "x"}])
    assert "tti model" in info.value.message


def test_image_generation_b64_and_data_url(client: openai.OpenAI) -> None:
    b64 = client.images.generate(model="painter", prompt="a red square", size="16x16", response_format="b64_json")
    png = base64.b64decode(b64.data[0].b64_json or "")
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == 16
    url = client.images.generate(model="painter", prompt="a red square", n=2)
    assert len(url.data) == 2 and (url.data[0].url or "").startswith("data:image/png;base64,")


def test_speech_then_transcription_round_trip(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(model="speaker", input="hello from the speaker", voice="echo-low")
    wav = audio.read()
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnframes() > 0
    text = client.audio.transcriptions.create(model="listener", file=("speech.wav", wav, "audio/wav"))
    assert text.text == "hello from the speaker"
    srt = client.audio.transcriptions.create(
        model="listener", file=("speech.wav", wav, "audio/wav"), response_format="srt"
    )
    assert "00:00:00,000 -->" in str(srt) and "hello from the speaker" in str(srt)
    pcm = client.audio.speech.create(model="speaker", input="two words", voice="echo-low", response_format="pcm")
    assert len(pcm.read()) == len(wav_frames(client))


def wav_frames(client: openai.OpenAI) -> bytes:
    data = client.audio.speech.create(
        model="speaker", input="two words", voice="echo-low", response_format="wav"
    ).read()
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes())


def test_lollms_extras_tokens_context_info_and_voices(server: Running) -> None:
    base = f"{server.url}/lollms/v1"
    tokens = httpx.post(f"{base}/tokenize", json={"model": "echo", "text": "round trip text"}).json()
    assert tokens["count"] == len(tokens["tokens"]) == 3
    back = httpx.post(f"{base}/detokenize", json={"model": "echo", "tokens": tokens["tokens"]}).json()
    assert back == {"text": "round trip text"}
    assert httpx.post(f"{base}/count_tokens", json={"model": "echo", "text": "a b"}).json() == {"count": 2}
    assert httpx.post(f"{base}/context_size", json={"model": "echo"}).json() == {"context_size": 4096}
    info = httpx.get(f"{base}/models/echo").json()
    assert info["info"]["model_name"] == "echo" and info["modality"] == "llm"
    bad = httpx.post(f"{base}/detokenize", json={"model": "echo", "tokens": ["x"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "tokens"
    voices = httpx.get(f"{base}/audio/voices").json()["data"]
    assert {"id": "echo-low", "model": "speaker"} in voices
    spoken = httpx.post(f"{base}/audio/speech", json={"model": "speaker", "input": "hi there", "voice": "echo-high"})
    assert spoken.content[:4] == b"RIFF"


def test_speech_format_the_model_cannot_make_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.speech.create(model="speaker", input="hi", voice="echo-low", response_format="mp3")
    assert "produces wav" in info.value.message


def test_routes_of_unconfigured_modalities_are_absent(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve({"models": {"echo": {"binding": "echo"}}})
    client = openai.OpenAI(base_url=server.v1, api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.images.generate(model="echo", prompt="x")
    assert "no route POST /v1/images/generations" in info.value.message
