"""``lollms transcribe`` (the core's CLI) with this binding: text, SRT and WebVTT output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from whisper_clips import PIPER_TEXT

pytestmark = pytest.mark.engine


def lollms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_transcribe_command_formats(fmt: str, tiny_en_path: Path, piper_wav: Path) -> None:
    out = lollms("transcribe", "-b", "whisper", "-m", str(tiny_en_path), "--format", fmt, str(piper_wav))
    assert out.returncode == 0, out.stderr
    if fmt == "text":
        assert out.stdout.strip() == PIPER_TEXT
    elif fmt == "srt":
        assert re.fullmatch(rf"1\n00:00:00,000 --> 00:00:0\d,\d\d\d\n{re.escape(PIPER_TEXT)}\n", out.stdout)
    else:
        assert re.fullmatch(rf"WEBVTT\n\n00:00:00.000 --> 00:00:0\d.\d\d\d\n{re.escape(PIPER_TEXT)}\n", out.stdout)


def test_transcribe_command_reports_a_missing_model(tmp_path: Path, piper_wav: Path) -> None:
    out = lollms("transcribe", "-b", "whisper", "-m", "small", "-c", f"download_root={tmp_path}", str(piper_wav))
    assert out.returncode != 0
    assert "allow_download=true" in out.stderr
