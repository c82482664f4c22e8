"""Conformance suites of the media modalities: TTI, TTS, STT, TTV, TTM.

Media results are bytes of a declared format (checked by magic bytes), async twins give
the same kind, unknown per-call options and backend failures raise typed errors (media
methods never return error dicts).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..errors import BackendError, ConfigError, LollmsError, NotSupportedError
from ..types import Modality
from ._common import BindingTestsBase, loose_match, sniff_format

__all__ = [
    "STTBindingTests",
    "TTIBindingTests",
    "TTMBindingTests",
    "TTSBindingTests",
    "TTVBindingTests",
    "assert_format",
]


def assert_format(data: Any, expected: str | tuple[str, ...], what: str) -> None:
    """``data`` is non-empty bytes whose magic bytes say one of the ``expected`` formats."""
    wanted = (expected,) if isinstance(expected, str) else tuple(expected)
    assert isinstance(data, bytes), f"{what} returned {type(data).__name__}, expected bytes"
    assert data, f"{what} returned empty bytes"
    found = sniff_format(data)
    assert found in wanted, f"{what} returned {found or 'unknown'} data (first bytes {data[:12]!r}); expected {wanted}"


def _secret_values(binding: Any) -> list[str]:
    secret = {p.name for p in binding._resolve_manifest().parameters if p.is_secret}
    return [str(v) for k, v in dict(binding.config).items() if k in secret and v]


class _MediaTests(BindingTestsBase):
    """Shared by the generating media suites: one method, a prompt, bytes of a format out."""

    #: Public method under test (``generate_image``...) and its async twin.
    method: ClassVar[str]
    amethod: ClassVar[str]
    #: What the suite's ``expected_format`` fixture returns unless overridden.
    default_format: ClassVar[str | tuple[str, ...]]

    @pytest.fixture
    def expected_format(self) -> str | tuple[str, ...]:
        """The format (or formats) results must have: png, jpeg, webp, wav, mp3, ogg, flac, mp4..."""
        return self.default_format

    @pytest.fixture
    def media_prompt(self) -> str:
        """What to ask for."""
        return "a red apple on a wooden table"

    @pytest.fixture
    def call_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for every call (small sizes, few steps...)."""
        return {}

    def _call(self, binding: Any, prompt: str, kwargs: dict[str, Any]) -> Any:
        return getattr(binding, self.method)(prompt, **kwargs)

    def test_result_is_bytes_of_the_declared_format(
        self, binding: Any, media_prompt: str, call_kwargs: dict[str, Any], expected_format: Any
    ) -> None:
        """The result is non-empty bytes of the declared format."""
        assert_format(self._call(binding, media_prompt, call_kwargs), expected_format, self.method)

    def test_async_twin_returns_the_same_kind(
        self, binding: Any, media_prompt: str, call_kwargs: dict[str, Any], expected_format: Any
    ) -> None:
        """The async twin returns bytes of the same format."""
        out = asyncio.run(getattr(binding, self.amethod)(media_prompt, **call_kwargs))
        assert_format(out, expected_format, self.amethod)

    def test_unknown_call_option_is_a_config_error(self, binding: Any, media_prompt: str) -> None:
        """An undeclared per-call option raises ConfigError naming it."""
        with pytest.raises(ConfigError, match="definitely_not_an_option"):
            self._call(binding, media_prompt, {"definitely_not_an_option": 1})

    def test_empty_prompt_is_a_config_error(self, binding: Any) -> None:
        """An empty or blank prompt is refused before the backend is called."""
        for prompt in ("", "   "):
            with pytest.raises(ConfigError, match=rf"{self.method}\(\): \w+ is empty"):
                self._call(binding, prompt, {})

    def test_backend_failure_is_a_typed_error(self, failing_binding: Any, media_prompt: str) -> None:
        """A failing backend raises a BackendError subclass (media methods never return error dicts)."""
        if failing_binding is None:
            pytest.skip("no failing_binding fixture")
        with pytest.raises(BackendError) as caught:
            self._call(failing_binding, media_prompt, {})
        assert str(caught.value), "the error has no message"
        for secret in _secret_values(failing_binding):
            assert secret not in str(caught.value), "a secret leaked into the exception"
        with pytest.raises(BackendError):
            asyncio.run(getattr(failing_binding, self.amethod)(media_prompt))


class TTIBindingTests(_MediaTests):
    """Subclass and provide ``binding`` (a :class:`LollmsTTIBinding`).

    Optional fixtures: ``expected_format`` (default ``"png"``), ``media_prompt``,
    ``call_kwargs`` (e.g. a small ``width``/``height``), ``failing_binding``.
    """

    modality: ClassVar[Modality] = Modality.TTI
    method, amethod, default_format = "generate_image", "agenerate_image", "png"

    def test_edit_image_returns_an_image(
        self, binding: Any, media_prompt: str, call_kwargs: dict[str, Any], expected_format: Any
    ) -> None:
        """``edit_image`` (when supported) turns an image into an image of the same format."""
        source = binding.generate_image(media_prompt, **call_kwargs)
        try:
            edited = binding.edit_image(source, "make it blue", **call_kwargs)
        except NotSupportedError:
            pytest.skip("the binding cannot edit images")
        assert_format(edited, expected_format, "edit_image")


class TTSBindingTests(_MediaTests):
    """Subclass and provide ``binding`` (a :class:`LollmsTTSBinding`).

    Optional fixtures: ``expected_format`` (default ``"wav"``), ``media_prompt`` (the text to
    speak), ``call_kwargs``, ``failing_binding``. Set ``validates_voices = False`` on the
    subclass if the backend accepts any voice name.
    """

    modality: ClassVar[Modality] = Modality.TTS
    method, amethod, default_format = "generate_audio", "agenerate_audio", "wav"
    #: Whether an unknown voice must raise a typed error.
    validates_voices: ClassVar[bool] = True

    @pytest.fixture
    def media_prompt(self) -> str:
        """The sentence to speak."""
        return "Hello from the conformance test."

    def test_list_voices_returns_strings(self, binding: Any) -> None:
        """``list_voices()`` is a list of non-empty strings."""
        voices = binding.list_voices()
        assert isinstance(voices, list)
        assert all(isinstance(v, str) and v for v in voices), voices

    def test_each_listed_voice_speaks(
        self, binding: Any, media_prompt: str, call_kwargs: dict[str, Any], expected_format: Any
    ) -> None:
        """The first listed voice is accepted by ``generate_audio``."""
        voices = binding.list_voices()
        if not voices:
            pytest.skip("the binding lists no voices")
        assert_format(binding.generate_audio(media_prompt, voices[0], **call_kwargs), expected_format, "voice")

    def test_unknown_voice_is_a_typed_error(self, binding: Any, media_prompt: str) -> None:
        """An unknown voice raises a LollmsError subclass naming the voice."""
        if not self.validates_voices:
            pytest.skip("the binding accepts any voice name (validates_voices = False)")
        with pytest.raises(LollmsError, match="no-such-voice-xyz"):
            binding.generate_audio(media_prompt, "no-such-voice-xyz")


class TTVBindingTests(_MediaTests):
    """Subclass and provide ``binding`` (a :class:`LollmsTTVBinding`); ``expected_format`` defaults to mp4."""

    modality: ClassVar[Modality] = Modality.TTV
    method, amethod, default_format = "generate_video", "agenerate_video", "mp4"


class TTMBindingTests(_MediaTests):
    """Subclass and provide ``binding`` (a :class:`LollmsTTMBinding`); ``expected_format`` defaults to wav."""

    modality: ClassVar[Modality] = Modality.TTM
    method, amethod, default_format = "generate_music", "agenerate_music", ("wav", "mp3", "ogg", "flac")


class STTBindingTests(BindingTestsBase):
    """Subclass and provide ``binding`` (a :class:`LollmsSTTBinding`).

    Optional fixtures: ``audio_sample`` (a path or bytes of speech; default ``None`` skips
    the transcription tests) and ``expected_text`` (what is said in it), ``failing_binding``.
    """

    modality: ClassVar[Modality] = Modality.STT

    @pytest.fixture
    def audio_sample(self) -> str | Path | bytes | None:
        """Speech to transcribe (a file path or its bytes); ``None`` skips the transcription tests."""
        return None

    @pytest.fixture
    def expected_text(self) -> str:
        """What ``audio_sample`` says (compared loosely: case, punctuation, a few words may differ)."""
        return ""

    def _sample(self, audio_sample: Any) -> Any:
        if audio_sample is None:
            pytest.skip("no audio_sample fixture")
        return audio_sample

    def test_transcribes_the_sample(self, binding: Any, audio_sample: Any, expected_text: str) -> None:
        """``transcribe_audio`` returns a str that says roughly ``expected_text``."""
        text = binding.transcribe_audio(self._sample(audio_sample))
        assert isinstance(text, str), f"transcribe_audio returned {type(text).__name__}"
        assert loose_match(text, expected_text), f"transcript {text!r} does not match {expected_text!r}"

    def test_path_and_bytes_give_the_same_text(self, binding: Any, audio_sample: Any, tmp_path: Path) -> None:
        """A file path and the file's bytes are the same input."""
        sample = self._sample(audio_sample)
        data = sample if isinstance(sample, bytes) else Path(sample).read_bytes()
        # Keep a real extension: some APIs pick the decoder from the file name.
        suffix = Path(sample).suffix if not isinstance(sample, bytes) else f".{sniff_format(data) or 'wav'}"
        path = tmp_path / f"sample{suffix}"
        path.write_bytes(data)
        assert binding.transcribe_audio(data) == binding.transcribe_audio(str(path))

    def test_async_twin_returns_the_same_text(self, binding: Any, audio_sample: Any) -> None:
        """``atranscribe_audio`` gives the same text."""
        sample = self._sample(audio_sample)
        assert asyncio.run(binding.atranscribe_audio(sample)) == binding.transcribe_audio(sample)

    def test_empty_or_wrong_audio_is_a_config_error(self, binding: Any) -> None:
        """Empty bytes and what is neither bytes nor a path are refused before the backend is called."""
        with pytest.raises(ConfigError, match="audio is empty"):
            binding.transcribe_audio(b"")
        with pytest.raises(ConfigError, match="audio must be a file path or bytes"):
            binding.transcribe_audio(12345)

    def test_missing_file_is_a_config_error(self, binding: Any, tmp_path: Path) -> None:
        """A path that does not exist raises ConfigError naming it."""
        missing = tmp_path / "no-such-recording.wav"
        with pytest.raises(ConfigError, match="no-such-recording"):
            binding.transcribe_audio(missing)

    def test_unknown_call_option_is_a_config_error(self, binding: Any, audio_sample: Any) -> None:
        """An undeclared per-call option raises ConfigError naming it."""
        with pytest.raises(ConfigError, match="definitely_not_an_option"):
            binding.transcribe_audio(self._sample(audio_sample), definitely_not_an_option=1)

    def test_backend_failure_is_a_typed_error(self, failing_binding: Any, audio_sample: Any) -> None:
        """A failing backend raises a BackendError subclass."""
        if failing_binding is None:
            pytest.skip("no failing_binding fixture")
        with pytest.raises(BackendError) as caught:
            failing_binding.transcribe_audio(self._sample(audio_sample))
        for secret in _secret_values(failing_binding):
            assert secret not in str(caught.value), "a secret leaked into the exception"
