"""SRT and WebVTT writers of the STT contract (pure functions; lollms-whisper tests them on real speech)."""

from __future__ import annotations

import pytest
from lollms_core.bindings import Segment, Transcription, Word, format_timestamp, to_srt, to_vtt

SEGMENTS = [
    Segment(0.0, 1.5, " Hello world."),
    Segment(1.5, 1.5, "   "),  # empty after stripping: skipped
    Segment(3661.2345, 3725.0, " Second\nline & <b>bold</b> --> here"),
]


@pytest.mark.parametrize(
    ("seconds", "marker", "expected"),
    [
        (0, ".", "00:00:00.000"),
        (1.5, ",", "00:00:01,500"),
        (59.9996, ".", "00:01:00.000"),  # rounds into the next minute
        (3661.2345, ".", "01:01:01.234"),
        (-0.3, ".", "00:00:00.000"),
        (36000, ",", "10:00:00,000"),
    ],
)
def test_format_timestamp(seconds: float, marker: str, expected: str) -> None:
    assert format_timestamp(seconds, marker) == expected


def test_srt_numbers_consecutive_cues_and_skips_empty_text() -> None:
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello world.\n\n"
        "2\n01:01:01,234 --> 01:02:05,000\nSecond line & <b>bold</b> --> here\n"
    )


def test_vtt_has_header_dot_times_and_escaped_text() -> None:
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nHello world.\n\n"
        "01:01:01.234 --> 01:02:05.000\nSecond line &amp; &lt;b&gt;bold&lt;/b&gt; --&gt; here\n"
    )


def test_mappings_and_objects_are_accepted() -> None:
    class Seg:
        start, end, text = 2.0, 3.0, "object"

    srt = to_srt([{"start": 0.0, "end": 1.0, "text": "mapping"}, Seg()])
    assert "1\n00:00:00,000 --> 00:00:01,000\nmapping\n" in srt
    assert "2\n00:00:02,000 --> 00:00:03,000\nobject\n" in srt


def test_end_before_start_is_clamped() -> None:
    assert "00:00:05,000 --> 00:00:05,000" in to_srt([Segment(5.0, 4.0, "x")])


def test_segment_without_times_is_refused() -> None:
    with pytest.raises(ValueError, match=r"segment 0.*start, end and text"):
        to_srt([{"text": "no times"}])


def test_no_segments() -> None:
    assert to_srt([]) == ""
    assert to_vtt(Transcription(text="")) == "WEBVTT\n"


def test_transcription_to_dict_is_plain_data() -> None:
    t = Transcription("hi", (Segment(0.0, 1.0, " hi", (Word(0.0, 1.0, " hi", 0.9),)),), "en", 1.0, 1.0)
    d = t.to_dict()
    assert d["segments"][0]["words"][0] == {"start": 0.0, "end": 1.0, "word": " hi", "probability": 0.9}
    assert d["language"] == "en"
