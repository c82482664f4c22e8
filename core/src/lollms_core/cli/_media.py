"""The ``lollms`` media commands: ``transcribe``, ``speak`` and ``image``."""

from __future__ import annotations

import argparse
from typing import Any

from ..bindings import to_srt, to_vtt
from ..types import Modality
from ._commands import make_binding, text_arg, write_output

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
        result = stt.transcribe_segments(args.file, **options)
        print(result.to_srt() if args.format == "srt" else result.to_vtt(), end="")
    finally:
        stt.close()
    return 0


def format_segments(segments: Any, fmt: str) -> str:
    """SRT or WebVTT text from segments with ``start``, ``end`` (seconds) and ``text`` (objects or dicts).

    Kept for callers of earlier versions: the writers are :func:`lollms_core.bindings.to_srt`/``to_vtt``.
    """
    return to_srt(segments) if fmt == "srt" else to_vtt(segments)


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
