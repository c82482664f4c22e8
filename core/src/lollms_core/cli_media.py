"""The ``lollms`` media commands: ``transcribe``, ``speak`` and ``image``."""

from __future__ import annotations

import argparse
from typing import Any

from .cli_commands import make_binding, text_arg, write_output
from .errors import NotSupportedError
from .types import Modality

__all__ = ["cmd_image", "cmd_speak", "cmd_transcribe", "format_segments"]


# == media ====================================================================================


def cmd_transcribe(args: argparse.Namespace) -> int:
    """``lollms transcribe -b NAME FILE [--format text|srt|vtt]``."""
    stt = make_binding(Modality.STT, args.binding, args.config, args.model)
    options = {"language": args.language} if args.language else {}
    try:
        if args.format == "text":
            print(stt.transcribe_audio(args.file, **options))
            return 0
        segments_of = getattr(stt, "transcribe_segments", None)
        if segments_of is None:
            raise NotSupportedError(
                f"the {args.binding} binding gives no timings, so it cannot write {args.format}; use --format text"
            )
        result = segments_of(args.file, **options)
        render = getattr(result, f"to_{args.format}", None)
        print(render() if render is not None else format_segments(result, args.format), end="")
    finally:
        stt.close()
    return 0


def format_segments(segments: Any, fmt: str) -> str:
    """SRT or WebVTT text from segments with ``start``, ``end`` (seconds) and ``text`` (objects or dicts)."""

    def get(seg: Any, key: str) -> Any:
        return seg[key] if isinstance(seg, dict) else getattr(seg, key)

    def stamp(seconds: float) -> str:
        ms = round(float(seconds) * 1000)
        h, ms = divmod(ms, 3_600_000)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}{',' if fmt == 'srt' else '.'}{ms:03d}"

    items = list(getattr(segments, "segments", segments))
    lines = [] if fmt == "srt" else ["WEBVTT", ""]
    for i, seg in enumerate(items, 1):
        if fmt == "srt":
            lines.append(str(i))
        lines += [f"{stamp(get(seg, 'start'))} --> {stamp(get(seg, 'end'))}", str(get(seg, "text")).strip(), ""]
    return "\n".join(lines)


def cmd_speak(args: argparse.Namespace) -> int:
    """``lollms speak -b NAME -o FILE TEXT``."""
    tts = make_binding(Modality.TTS, args.binding, args.config, args.model)
    try:
        write_output(args.output, tts.generate_audio(text_arg(args.text), voice=args.voice))
    finally:
        tts.close()
    return 0


def cmd_image(args: argparse.Namespace) -> int:
    """``lollms image -b NAME -o FILE PROMPT``."""
    tti = make_binding(Modality.TTI, args.binding, args.config, args.model)
    try:
        data = tti.generate_image(text_arg(args.prompt), args.negative, args.width, args.height)
        write_output(args.output, data)
    finally:
        tti.close()
    return 0
