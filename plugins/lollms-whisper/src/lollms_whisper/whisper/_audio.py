"""Decoding audio with limits: what a header claims is checked before it costs memory.

faster-whisper's ``decode_audio`` trusts the container: a WAV header claiming a 1 Hz
sample rate makes 8 KB of input decode to 64 million resampled samples (11 s and 1.5 GB),
and any long recording is held in memory whole. Here the same PyAV pipeline (s16 mono at
the model's rate, invalid frames skipped) runs frame by frame, refusing

- a sample rate outside 4 kHz .. 384 kHz (no real recording is outside it),
- more decoded audio than the input's size can hold (``MIN_BYTES_PER_SECOND``),
- more than ``max_audio_seconds`` (a binding setting), counted while decoding.
"""

from __future__ import annotations

import gc
import io
from pathlib import Path
from typing import Any

from ..errors import AudioDecodeError, AudioLimitError

__all__ = ["MAX_SAMPLE_RATE", "MIN_BYTES_PER_SECOND", "MIN_SAMPLE_RATE", "decode_limited"]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4_000, 384_000
#: Below any real codec: the lowest-rate speech codecs (codec2 at 450 bit/s) need ~56 bytes per
#: second, so a file decoding to more than one second per 16 bytes is lying in its header.
MIN_BYTES_PER_SECOND = 16
#: Short inputs get this much audio whatever their size (a header plus a few packets).
_GRACE_SECONDS = 30.0
#: Input samples resampled at a time: the same batching faster-whisper uses, for speed.
_GROUP_SAMPLES = 500_000


def _describe(audio: bytes | Path) -> str:
    if isinstance(audio, bytes):
        return f"audio bytes ({len(audio)} bytes starting {audio[:12]!r})"
    return f"audio file '{audio}'"


def decode_limited(audio: bytes | Path, sampling_rate: int, max_seconds: float) -> Any:
    """Float32 mono samples at ``sampling_rate`` (a numpy array), decoded under the limits above.

    :raises AudioLimitError: the sample rate is absurd, or the audio is longer than
        ``max_seconds`` or than its byte size allows (the message names the input and the limit).
    :raises AudioDecodeError: PyAV/FFmpeg cannot read it.
    """
    import av
    import numpy as np

    source: Any = io.BytesIO(audio) if isinstance(audio, bytes) else str(audio)
    chunks: list[Any] = []
    try:
        size = len(audio) if isinstance(audio, bytes) else audio.stat().st_size
        plausible = max(_GRACE_SECONDS, size / MIN_BYTES_PER_SECOND)
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=sampling_rate)
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            _check_rate(stream.codec_context.sample_rate, audio)
            fifo = av.audio.fifo.AudioFifo()
            seconds = 0.0
            for frame in _valid_frames(container.decode(stream)):
                _check_rate(frame.sample_rate, audio)
                seconds += frame.samples / frame.sample_rate
                _check_duration(seconds, max_seconds, plausible, size, audio)
                frame.pts = None  # timestamps are not needed, and broken ones make the FIFO refuse frames
                fifo.write(frame)
                if fifo.samples >= _GROUP_SAMPLES:
                    chunks += [f.to_ndarray() for f in resampler.resample(fifo.read())]
            if fifo.samples:
                chunks += [f.to_ndarray() for f in resampler.resample(fifo.read())]
            chunks += [f.to_ndarray() for f in resampler.resample(None)]
    except AudioLimitError:
        raise
    except Exception as exc:  # PyAV raises FFmpegError subclasses, and IndexError for no audio stream
        raise AudioDecodeError(
            f"whisper: cannot decode {_describe(audio)}: {type(exc).__name__}: {exc}. "
            "Give a wav, mp3, flac, ogg or other file FFmpeg can read"
        ) from exc
    finally:
        # PyAV keeps resampler graphs alive in reference cycles (faster-whisper issue 390).
        gc.collect()
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([c.reshape(-1) for c in chunks]).astype(np.float32) / 32768.0


def _valid_frames(frames: Any) -> Any:
    """Skip frames FFmpeg reports as invalid data, as faster-whisper does."""
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _check_rate(rate: int | None, audio: bytes | Path) -> None:
    if rate is not None and not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioLimitError(
            f"whisper: {_describe(audio)} claims a sample rate of {rate} Hz; real audio is between "
            f"{MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz (a damaged or crafted header?)"
        )


def _check_duration(seconds: float, max_seconds: float, plausible: float, size: int, audio: bytes | Path) -> None:
    if seconds > max_seconds:
        raise AudioLimitError(
            f"whisper: {_describe(audio)} is longer than max_audio_seconds={max_seconds:g}; "
            "raise that setting to transcribe longer recordings, or split the audio"
        )
    if seconds > plausible:
        raise AudioLimitError(
            f"whisper: {_describe(audio)} decodes to more than {plausible:.0f} s of audio from {size} bytes "
            f"(fewer than {MIN_BYTES_PER_SECOND} bytes per second: a damaged or crafted header?)"
        )
