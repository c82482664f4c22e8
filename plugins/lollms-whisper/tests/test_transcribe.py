"""The whisper binding on the real tiny.en model and audio made by the tests."""

from __future__ import annotations

import asyncio
import re
import tempfile
import wave
from pathlib import Path
from typing import Any

import pytest
from lollms_core.bindings import to_vtt
from lollms_core.errors import ConfigError
from lollms_core.testing.suites import loose_match
from lollms_whisper.errors import AudioDecodeError
from whisper_clips import ESPEAK_TEXT, PIPER_TEXT, make_silence_wav, reencode

pytestmark = pytest.mark.engine


def test_piper_speech_is_transcribed_exactly(whisper: Any, piper_wav: Path) -> None:
    assert whisper.transcribe_audio(piper_wav) == PIPER_TEXT


def test_path_given_as_str_works(whisper: Any, piper_wav: Path) -> None:
    assert whisper.transcribe_audio(str(piper_wav)) == PIPER_TEXT


@pytest.mark.parametrize("suffix", ["mp3", "flac", "ogg"])
def test_compressed_formats_are_decoded(whisper: Any, piper_wav: Path, suffix: str) -> None:
    encoded = reencode(piper_wav, suffix)
    assert encoded.read_bytes()[:4] != piper_wav.read_bytes()[:4]  # really another container
    assert whisper.transcribe_audio(encoded) == PIPER_TEXT


def test_espeak_speech_is_roughly_right(whisper: Any, espeak_wav: Path) -> None:
    text = whisper.transcribe_audio(espeak_wav)
    assert loose_match(text, ESPEAK_TEXT, min_ratio=0.7), text


def test_bytes_input_needs_no_temporary_file(
    whisper: Any, piper_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, str(scratch))
    assert whisper.transcribe_audio(piper_wav.read_bytes()) == PIPER_TEXT
    assert whisper.transcribe_audio(bytearray(piper_wav.read_bytes())) == PIPER_TEXT
    assert list(scratch.iterdir()) == []


def test_compressed_bytes_are_decoded_from_memory(whisper: Any, piper_wav: Path) -> None:
    assert whisper.transcribe_audio(reencode(piper_wav, "mp3").read_bytes()) == PIPER_TEXT


def test_silence_gives_empty_text(whisper: Any, silence_wav: Path) -> None:
    assert whisper.transcribe_audio(silence_wav) == ""


def test_silence_without_vad_is_empty_thanks_to_the_no_speech_guard(
    whisper: Any, silence_wav: Path, tiny_en_path: Path
) -> None:
    raw_segments, _ = whisper._engine.transcribe(str(silence_wav), vad_filter=False)
    raw = "".join(s.text for s in raw_segments)
    assert raw.strip(), "raw faster-whisper no longer hallucinates on silence: this test proves nothing now"
    assert whisper.transcribe_audio(silence_wav, vad_filter=False) == ""


def test_audio_without_samples_gives_empty_text(whisper: Any, tmp_path: Path) -> None:
    empty = make_silence_wav(tmp_path / "empty.wav", 0)
    assert whisper.transcribe_audio(empty) == ""
    assert whisper.transcribe_segments(empty.read_bytes()).segments == ()


def test_non_audio_file_is_a_typed_error_naming_it(whisper: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioDecodeError, match=r"notes\.txt"):
        whisper.transcribe_audio(notes)
    with pytest.raises(ConfigError):  # AudioDecodeError is a ConfigError: callers may catch either
        whisper.transcribe_audio(notes)


def test_non_audio_bytes_are_a_typed_error(whisper: Any) -> None:
    with pytest.raises(AudioDecodeError, match=r"audio bytes \(900 bytes"):
        whisper.transcribe_audio(b"not audio" * 100)


def test_missing_file_is_a_config_error_naming_it(whisper: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.wav"):
        whisper.transcribe_audio(tmp_path / "nowhere.wav")


def test_translate_task_is_accepted(whisper: Any, piper_wav: Path) -> None:
    # tiny.en only knows English, so translating English speech gives the same text.
    assert whisper.transcribe_audio(piper_wav, task="translate") == PIPER_TEXT


def test_decoding_options_are_passed_and_accepted(whisper: Any, piper_wav: Path) -> None:
    text = whisper.transcribe_audio(
        piper_wav, language="en", beam_size=1, temperature=0.0, initial_prompt="Hello world.", vad_filter=False
    )
    # The prompt's own punctuation may carry over ("Hello world. This..."): same words either way.
    assert loose_match(text, PIPER_TEXT, min_ratio=1.0), text


def test_initial_prompt_reaches_the_engine(whisper: Any, espeak_wav: Path) -> None:
    plain = whisper.transcribe_segments(espeak_wav)
    primed = whisper.transcribe_segments(espeak_wav, initial_prompt="The quick brown fox jumps over the lazy dog.")
    assert loose_match(primed.text, ESPEAK_TEXT, min_ratio=0.9), primed.text
    assert primed.segments[0].avg_logprob != plain.segments[0].avg_logprob


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("task", "summarize", "task"), ("beam_size", 0, "beam_size"), ("temprature", 0.1, "temperature")],
)
def test_bad_options_are_config_errors(whisper: Any, piper_wav: Path, option: str, value: Any, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        whisper.transcribe_audio(piper_wav, **{option: value})


def test_foreign_language_on_english_only_model_is_refused(whisper: Any, piper_wav: Path) -> None:
    with pytest.raises(ConfigError, match="English-only"):
        whisper.transcribe_audio(piper_wav, language="fr")


def test_segments_carry_timing_and_language(whisper: Any, long_wav: Path) -> None:
    result = whisper.transcribe_segments(long_wav)
    assert result.language == "en"
    assert result.language_probability == pytest.approx(1.0)
    with wave.open(str(long_wav)) as w:
        assert result.duration == pytest.approx(w.getnframes() / w.getframerate(), abs=0.01)
    assert loose_match(result.text, " ".join([PIPER_TEXT] * 3), min_ratio=0.9), result.text
    assert result.segments
    assert result.text == "".join(s.text for s in result.segments).strip()
    for seg in result.segments:
        assert 0.0 <= seg.start < seg.end <= result.duration + 0.5
        assert seg.words == ()  # only filled when asked
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)


def test_word_timestamps(whisper: Any, piper_wav: Path) -> None:
    result = whisper.transcribe_segments(piper_wav, word_timestamps=True)
    words = [w for seg in result.segments for w in seg.words]
    assert "".join(w.word for w in words).strip() == PIPER_TEXT
    for seg in result.segments:
        for w in seg.words:
            assert seg.start - 0.05 <= w.start <= w.end <= seg.end + 0.05
            assert 0.0 < w.probability <= 1.0
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_async_twins(whisper: Any, piper_wav: Path) -> None:
    assert asyncio.run(whisper.atranscribe_audio(piper_wav)) == PIPER_TEXT
    result = asyncio.run(whisper.atranscribe_segments(piper_wav.read_bytes()))
    assert result.text == PIPER_TEXT


def test_events_report_the_transcription(whisper: Any, piper_wav: Path) -> None:
    from lollms_core import hookimpl

    seen: list[Any] = []

    class Observer:
        @hookimpl
        def lollms_on_generation_event(self, event: Any) -> None:
            seen.append(event)

    registry = whisper.registry
    observer = Observer()
    registry.register_observer(observer)
    try:
        whisper.transcribe_audio(piper_wav)
    finally:
        registry.unregister_observer(observer)
    kinds = [e.kind for e in seen]
    assert kinds[0] == "start", kinds
    assert kinds[-1] == "end", kinds
    assert seen[-1].result == PIPER_TEXT
    assert seen[-1].binding == "whisper"


def test_speech_after_long_silence_survives_without_vad(whisper: Any, piper_wav: Path, clips: Path) -> None:
    # Whisper gives real speech late in a 30 s window a high no-speech probability too: the
    # guard must only drop segments over silent audio.
    from whisper_clips import concat_wavs

    pause = make_silence_wav(clips / "pause-22k.wav", 20.0, rate=22050)
    late = concat_wavs([pause, piper_wav], clips / "late.wav", gap_seconds=0.0)
    result = whisper.transcribe_segments(late, vad_filter=False)
    assert loose_match(result.text, PIPER_TEXT, min_ratio=1.0), result.text
    assert result.segments[-1].end > 19.0


def test_quiet_detection() -> None:
    import numpy as np
    from lollms_whisper.whisper.binding import _is_quiet

    rate = 16000
    audio = np.zeros(rate * 3, dtype=np.float32)
    audio[rate : 2 * rate] = 0.1 * np.sin(np.arange(rate) / 10.0)  # a loud middle second
    assert _is_quiet(audio, 0.0, 1.0, rate)
    assert not _is_quiet(audio, 0.5, 1.5, rate)
    assert _is_quiet(audio, 2.0, 2.9, rate)
    assert _is_quiet(audio, 5.0, 6.0, rate)  # past the end: nothing there


def test_cancel_stops_a_transcription(whisper: Any, long_wav: Path) -> None:
    import threading

    from lollms_core.errors import GenerationCancelled

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["text"] = whisper.transcribe_audio(long_wav, vad_filter=False)
        except GenerationCancelled as exc:
            outcome["cancelled"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    # cancel() only reaches calls in progress: keep asking until the worker is done. The
    # first segment needs a whole decoded window, so a request always lands before it.
    while worker.is_alive():
        whisper.cancel()
        worker.join(0.02)
    assert "cancelled" in outcome, f"transcription finished uncancelled: {outcome.get('text')!r}"
    assert whisper.transcribe_audio(long_wav)  # the binding still works afterwards


@pytest.mark.engine
def test_real_transcription_as_subtitles(whisper: Any, piper_wav: Path) -> None:
    result = whisper.transcribe_segments(piper_wav)
    srt = result.to_srt()
    cues = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+)\n", srt)
    assert [c[0] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
    assert " ".join(c[3] for c in cues) == PIPER_TEXT
    vtt = to_vtt(result)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert PIPER_TEXT in vtt
