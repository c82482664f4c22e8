"""Timed transcripts and their subtitle forms (SRT, WebVTT): part of the STT contract.

:meth:`LollmsSTTBinding.transcribe_segments` returns a :class:`Transcription`; its
``to_srt()``/``to_vtt()`` are the one pair of subtitle writers (the CLI and every STT binding
use them). Pure Python. The writers also take any objects with ``start``/``end``/``text``
attributes, or mappings with those keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Union

__all__ = ["Segment", "SegmentLike", "Transcription", "Word", "format_timestamp", "to_srt", "to_vtt"]


@dataclass(frozen=True)
class Word:
    """One word with its time span (seconds) and, when the engine gives it, its confidence (0-1)."""

    start: float
    end: float
    word: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: start/end in seconds from the start of the audio, and its text.

    ``words`` is filled only when the engine gives word timings (and the call asked for them).
    ``no_speech_prob`` and ``avg_logprob`` are Whisper-style confidence figures, ``None``
    when the engine has none.
    """

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    no_speech_prob: float | None = None
    avg_logprob: float | None = None


@dataclass(frozen=True)
class Transcription:
    """A full result: the text, its timed segments, the language and the duration.

    ``language`` is the detected or given one; ``duration`` is in seconds (``0.0`` when unknown).
    """

    text: str
    segments: tuple[Segment, ...] = ()
    language: str | None = None
    language_probability: float | None = None
    duration: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (segments and words as nested dicts)."""
        return asdict(self)

    def to_srt(self) -> str:
        """The segments as SubRip subtitles (see :func:`to_srt`)."""
        return to_srt(self.segments)

    def to_vtt(self) -> str:
        """The segments as WebVTT subtitles (see :func:`to_vtt`)."""
        return to_vtt(self.segments)


#: What the formatters accept for one segment.
SegmentLike = Union[Segment, Mapping[str, Any], Any]


def format_timestamp(seconds: float, decimal_marker: str = ".") -> str:
    """``HH:MM:SS.mmm`` (or ``,mmm`` for SRT) for a time in seconds; negative times clamp to 0."""
    millis = round(max(0.0, float(seconds)) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def _cues(segments: Transcription | Iterable[SegmentLike]) -> list[tuple[float, float, str]]:
    items = segments.segments if isinstance(segments, Transcription) else segments
    cues = []
    for i, seg in enumerate(items):
        if isinstance(seg, Mapping):
            start, end, text = seg.get("start"), seg.get("end"), seg.get("text")
        else:
            start, end, text = (getattr(seg, k, None) for k in ("start", "end", "text"))
        if start is None or end is None or text is None:
            raise ValueError(f"segment {i} ({seg!r}) needs start, end and text")
        text = " ".join(str(text).split())  # one line per cue: players render newlines literally
        if text:  # an empty cue is invalid SRT and shows as a blank flash in players
            cues.append((float(start), max(float(start), float(end)), text))
    return cues


def to_srt(segments: Transcription | Iterable[SegmentLike]) -> str:
    """SubRip text: numbered cues ``1``, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the text, a blank line.

    Segments with empty text are skipped (numbering stays consecutive); ``""`` when none remain.
    """
    blocks = [
        f"{n}\n{format_timestamp(start, ',')} --> {format_timestamp(end, ',')}\n{text}\n"
        for n, (start, end, text) in enumerate(_cues(segments), 1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Transcription | Iterable[SegmentLike]) -> str:
    """WebVTT text: the ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues.

    ``&``, ``<`` and ``>`` are escaped as the WebVTT spec requires for cue text.
    """
    out = ["WEBVTT\n"]
    for start, end, text in _cues(segments):
        safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(f"{format_timestamp(start)} --> {format_timestamp(end)}\n{safe}\n")
    return "\n".join(out)
