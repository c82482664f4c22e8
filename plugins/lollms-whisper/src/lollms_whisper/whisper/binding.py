"""``WhisperBinding``: speech-to-text on faster-whisper.

The core gives ``transcribe_audio`` and ``transcribe_segments`` (validation, events, async
twins, SRT/VTT writers); this module implements the engine primitives behind them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lollms_core.bindings import LollmsSTTBinding, Segment, Transcription, Word
from lollms_core.errors import ConfigError, GenerationCancelled

from ._audio import decode_limited
from ._models import (
    EngineKey,
    check_threads,
    effective_compute_type,
    list_local_models,
    list_size_names,
    load_engine,
    resolve_model,
)

__all__ = ["WhisperBinding"]


class WhisperBinding(LollmsSTTBinding):
    """Local transcription with faster-whisper; the model is loaded once, when the binding is made.

    :raises WhisperModelNotFoundError: ``model_name`` is a size not cached and downloads are off.
    :raises BindingLoadError: the engine refused the model, device or compute type.
    """

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._engine: Any = None
        self.load_model(str(self.config["model_name"]))

    # -- models -----------------------------------------------------------------------------

    def load_model(self, model_name: str) -> bool:
        """Load (or reuse) ``model_name``: a size name, a folder under ``models_path`` or a folder path."""
        resolved = resolve_model(
            model_name,
            models_path=self.config["models_path"],
            download_root=self.config["download_root"],
            allow_download=self.config["allow_download"],
        )
        check_threads(self.config["cpu_threads"], self.config["num_workers"])  # before the engine starts
        device = self.config["device"]
        key = EngineKey(
            path=str(resolved.path),
            device=device,
            compute_type=effective_compute_type(device, self.config["compute_type"]),
            cpu_threads=self.config["cpu_threads"],
            num_workers=self.config["num_workers"],
        )
        self._engine = load_engine(key)
        self._engine_key = key
        self.model_name = model_name
        return True

    def list_models(self) -> list[dict[str, Any]]:
        """Size names (``cached`` says whether they load offline) then local folders under ``models_path``."""
        from ._models import cached_path

        download_root = self.config["download_root"]
        sizes = [
            {"model_name": name, "source": "faster-whisper", "cached": cached_path(name, download_root) is not None}
            for name in list_size_names()
        ]
        local = [
            {"model_name": p.name, "source": "local", "path": str(p)}
            for p in list_local_models(self.config["models_path"])
        ]
        return sizes + local

    def get_model_info(self) -> dict[str, Any]:
        """The loaded model: name, folder, device, compute type, languages it knows."""
        key = self._engine_key
        engine = self._require_engine()
        return {
            "model_name": self.model_name,
            "path": key.path,
            "device": key.device,
            "compute_type": key.compute_type,
            "multilingual": bool(engine.model.is_multilingual),
            "languages": list(engine.supported_languages),
        }

    def close(self) -> None:
        """Drop this binding's hold on the model (freed once no binding uses it)."""
        self._engine = None

    def _require_engine(self) -> Any:
        if self._engine is None:
            raise ConfigError(f"whisper binding is closed; create a new one (model was {self.model_name!r})")
        return self._engine

    # -- transcription ----------------------------------------------------------------------

    def _transcribe(self, audio: bytes | Path, params: dict[str, Any]) -> str:
        return self._transcribe_segments(audio, params).text

    def _transcribe_segments(self, audio: bytes | Path, params: dict[str, Any]) -> Transcription:
        """Segments with times (and words when ``word_timestamps``), detected language and probability."""
        params = dict(params)
        model = params.pop("model", None)
        if model and model != self.model_name:
            self.load_model(model)
        engine = self._require_engine()
        samples = self._decode(engine, audio)
        rate = engine.feature_extractor.sampling_rate
        duration = len(samples) / rate
        if not len(samples):
            return Transcription(text="", duration=0.0)
        threshold = params.get("no_speech_threshold", 0.6)
        language = self._language(engine, params.get("language") or None)
        segments_iter, info = engine.transcribe(
            samples,
            language=language,
            task=params.get("task", "transcribe"),
            beam_size=params.get("beam_size", 5),
            vad_filter=params.get("vad_filter", True),
            initial_prompt=params.get("initial_prompt") or None,
            word_timestamps=params.get("word_timestamps", False),
            temperature=self._temperatures(params.get("temperature", 0.0)),
            no_speech_threshold=threshold,
        )
        flag = self._start_call()
        segments: list[Segment] = []
        try:
            for seg in segments_iter:  # the engine decodes lazily: cancel() takes effect between segments
                if flag.is_set():
                    raise GenerationCancelled(partial_text="".join(s.text for s in segments).strip())
                if seg.no_speech_prob > threshold and _is_quiet(samples, seg.start, seg.end, rate):
                    continue  # the " You" whisper invents for silence when the VAD is off
                segments.append(_segment(seg))
        finally:
            segments_iter.close()
            self._end_call(flag)
        return Transcription(
            text="".join(s.text for s in segments).strip(),
            segments=tuple(segments),
            language=info.language,
            language_probability=float(info.language_probability),
            duration=duration,
        )

    def _decode(self, engine: Any, audio: bytes | Path) -> Any:
        """PCM samples at the model's rate; bytes are read from memory (no temporary file).

        Absurd headers and audio beyond ``max_audio_seconds`` are refused while decoding
        (:class:`~lollms_whisper.errors.AudioLimitError`), before they cost memory.
        """
        rate = engine.feature_extractor.sampling_rate
        return decode_limited(audio, rate, float(self.config["max_audio_seconds"]))

    @staticmethod
    def _language(engine: Any, language: str | None) -> str | None:
        if language is None:
            return None
        known = engine.supported_languages
        if language not in known:
            if not engine.model.is_multilingual:
                raise ConfigError(
                    f"whisper: language '{language}' was asked of an English-only model; "
                    "use language 'en' or a multilingual model (tiny, base, small, ...)"
                )
            examples = ", ".join(known[:12])
            raise ConfigError(f"whisper: unknown language '{language}'; use an ISO code such as {examples}")
        return language

    @staticmethod
    def _temperatures(first: float) -> list[float]:
        # faster-whisper falls back to hotter decoding when a window looks wrong; keep that,
        # starting from the temperature the caller chose.
        steps = [first + 0.2 * i for i in range(6)]
        return [round(t, 2) for t in steps if t <= 1.0 + 1e-9]


#: RMS below which a stretch counts as silence (-60 dBFS): speech sits far above, around -20 dBFS.
QUIET_RMS = 1e-3


def _is_quiet(samples: Any, start: float, end: float, rate: int) -> bool:
    """Whether the audio under a segment is near-silent.

    A high no-speech probability alone is not enough to drop a segment: whisper also gives it
    to real speech late in a 30 s window. Together with silent samples it is a hallucination.
    """
    span = samples[max(0, int(start * rate)) : max(0, int(end * rate))]
    if not len(span):
        return True
    return float((span.astype("float64") ** 2).mean() ** 0.5) < QUIET_RMS


def _segment(seg: Any) -> Segment:
    words = tuple(Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in seg.words or ())
    return Segment(
        start=float(seg.start),
        end=float(seg.end),
        text=seg.text,
        words=words,
        no_speech_prob=float(seg.no_speech_prob),
        avg_logprob=float(seg.avg_logprob),
    )
