"""Old home of the timed-transcript types and SRT/VTT writers.

They are part of the core's STT contract now: re-exported from :mod:`lollms_core.bindings` (same objects).
"""

from __future__ import annotations

from lollms_core.bindings import Segment, Transcription, Word, format_timestamp, to_srt, to_vtt

__all__ = ["Segment", "Transcription", "Word", "format_timestamp", "to_srt", "to_vtt"]
