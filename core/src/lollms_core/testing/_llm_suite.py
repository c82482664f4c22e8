"""``LLMBindingTests``: the conformance suite every text-generation binding runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from .. import errors
from ..errors import BackendError, ConfigError, GenerationCancelled, NotSupportedError
from ..types import MSG_TYPE, Chunk, Modality
from ._common import BindingTestsBase
from ._tool_suite import ToolCallingChecks

__all__ = ["LLMBindingTests", "StreamWatch", "watch_stream"]


@dataclass
class StreamWatch:
    """What the binding's ``_stream`` primitive did during one call: chunks pulled, closed or not."""

    pulled: int = 0
    opened: int = 0
    closed: int = 0


@contextmanager
def watch_stream(binding: Any) -> Iterator[StreamWatch]:
    """Wrap ``binding._stream`` to count the chunks the base pulls and see that it closes the generator."""
    watch = StreamWatch()
    original = binding._stream

    def counting(request: Any) -> Iterator[Chunk]:
        watch.opened += 1
        gen = original(request)
        try:
            for chunk in gen:
                watch.pulled += 1
                yield chunk
        finally:
            gen.close()
            watch.closed += 1

    binding._stream = counting
    try:
        yield watch
    finally:
        del binding._stream


def _answer_text(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks if c.type != MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK)


async def _collect_astream(binding: Any, prompt: str, kwargs: dict[str, Any]) -> list[Chunk]:
    return [c async for c in binding.astream(prompt, **kwargs)]


class LLMBindingTests(ToolCallingChecks, BindingTestsBase):
    """Subclass and provide a ``binding`` fixture (a ready :class:`LollmsLLMBinding`).

    Optional fixtures to override: ``prompt`` and ``long_prompt`` (deterministic prompts),
    ``generation_kwargs`` (temperature 0, a fixed seed, a small ``n_predict``),
    ``failing_binding`` (backend down or answering errors), ``config_for_validation``;
    for the tool-calling and structured-output checks (run when the binding declares the
    capability): ``tool_binding``, ``tool_prompt``, ``structured_prompt``.
    """

    modality: ClassVar[Modality] = Modality.LLM
    #: Tokens an output may exceed ``n_predict`` by when re-tokenized (detokenize/tokenize drift).
    n_predict_slack: ClassVar[int] = 3

    @pytest.fixture
    def prompt(self) -> str:
        """A prompt with one obvious, short answer."""
        return "Count from one to ten in words, separated by spaces."

    @pytest.fixture
    def long_prompt(self) -> str:
        """A prompt whose answer is longer than ``n_predict``."""
        return "Write a long story about a small dragon who learns to fly over the misty mountains at night."

    @pytest.fixture
    def generation_kwargs(self) -> dict[str, Any]:
        """Sampling options that make two runs give the same text."""
        return {"temperature": 0.0, "seed": 42, "n_predict": 16}

    # -- the derived forms agree ------------------------------------------------------------

    def test_blocking_stream_callback_and_async_agree(
        self, binding: Any, prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """generate_text, stream, the callback, agenerate_text and astream give the same text."""
        text = binding.generate_text(prompt, **generation_kwargs)
        assert isinstance(text, str), f"generate_text returned {text!r}"
        assert text.strip(), "generate_text returned no text"
        streamed = list(binding.stream(prompt, **generation_kwargs))
        assert all(isinstance(c, Chunk) for c in streamed)
        assert _answer_text(streamed) == text
        seen: list[tuple[str, Any, Any]] = []

        def callback(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool:
            seen.append((chunk, msg_type, meta))
            return True

        assert binding.generate_text(prompt, streaming_callback=callback, **generation_kwargs) == text
        assert "".join(c for c, t, _ in seen if t != MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK) == text
        assert all(isinstance(t, MSG_TYPE) for _, t, _ in seen)
        assert asyncio.run(binding.agenerate_text(prompt, **generation_kwargs)) == text
        assert _answer_text(asyncio.run(_collect_astream(binding, prompt, generation_kwargs))) == text

    def test_generate_from_messages_matches_generate_text(
        self, binding: Any, prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """A one-message chat is the same request as a plain prompt."""
        text = binding.generate_text(prompt, **generation_kwargs)
        messages = [{"role": "user", "content": prompt}]
        assert binding.generate_from_messages(messages, **generation_kwargs) == text

    # -- stopping ---------------------------------------------------------------------------

    def test_callback_false_stops_early_and_closes_the_stream(
        self, binding: Any, long_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """A callback returning ``False`` stops delivery and the base closes the primitive's generator."""
        with watch_stream(binding) as full:
            pieces: list[str] = []
            full_text = binding.generate_text(
                long_prompt, streaming_callback=lambda chunk, msg_type: pieces.append(chunk), **generation_kwargs
            )
        if len(pieces) < 3:
            pytest.skip(f"the answer has only {len(pieces)} chunks; cannot stop in the middle")
        calls: list[str] = []

        def stop_after_two(chunk: str, msg_type: MSG_TYPE) -> bool:
            calls.append(chunk)
            return len(calls) < 2

        with watch_stream(binding) as stopped:
            out = binding.generate_text(long_prompt, streaming_callback=stop_after_two, **generation_kwargs)
        assert len(calls) == 2, f"the callback was called {len(calls)} times after returning False"
        assert isinstance(out, str)
        assert full_text.startswith(out)
        assert stopped.closed == stopped.opened == 1, "the _stream generator was not closed after the stop"
        assert stopped.pulled < full.pulled, "the base kept pulling chunks after the callback said stop"

    def test_breaking_out_of_stream_closes_the_generator(
        self, binding: Any, long_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """Closing the ``stream()`` iterator early closes the binding's generator at once."""
        with watch_stream(binding) as watch:
            it = binding.stream(long_prompt, **generation_kwargs)
            first = next(it)
            assert isinstance(first, Chunk)
            it.close()
            assert watch.closed == 1

    def test_cancel_from_another_thread(
        self, binding: Any, long_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """``cancel()`` from another thread ends the stream with GenerationCancelled and the partial text."""
        received: list[Chunk] = []
        with watch_stream(binding) as watch:
            it = binding.stream(long_prompt, **generation_kwargs)
            for chunk in it:
                received.append(chunk)
                if chunk.text:
                    break
            canceller = threading.Thread(target=binding.cancel)
            canceller.start()
            canceller.join(timeout=10)
            with pytest.raises(GenerationCancelled) as caught:
                received.extend(it)
        assert caught.value.partial_text == _answer_text(received)
        assert watch.closed == 1, "cancel() did not close the _stream generator"
        # A cancel ends one call, not the binding: the next call runs normally.
        again = binding.generate_text(long_prompt, **{**generation_kwargs, "n_predict": 4})
        assert isinstance(again, str)
        assert again

    def test_cancel_during_blocking_generate(
        self, binding: Any, long_prompt: str, generation_kwargs: dict[str, Any]
    ) -> None:
        """``cancel()`` while ``generate_text`` runs raises GenerationCancelled (not an error dict)."""

        def cancel_on_first(chunk: str, msg_type: MSG_TYPE) -> bool:
            t = threading.Thread(target=binding.cancel)
            t.start()
            t.join(timeout=10)
            return True

        with pytest.raises(GenerationCancelled):
            binding.generate_text(long_prompt, streaming_callback=cancel_on_first, **generation_kwargs)

    # -- options ----------------------------------------------------------------------------

    def test_n_predict_is_honoured(self, binding: Any, long_prompt: str, generation_kwargs: dict[str, Any]) -> None:
        """``n_predict`` counts tokens: the output is at most that many (plus re-tokenizing slack)."""
        n = 8
        out = binding.generate_text(long_prompt, **{**generation_kwargs, "n_predict": n})
        assert isinstance(out, str), f"generate_text returned {out!r}"
        assert out, "generate_text returned no text"
        try:
            count = binding.count_tokens(out)
        except NotSupportedError:
            pytest.skip("the binding cannot count tokens")
        assert count <= n + self.n_predict_slack, f"n_predict={n} but the output is {count} tokens: {out!r}"

    def test_unknown_call_option_is_a_config_error(self, binding: Any, prompt: str) -> None:
        """An option nobody declared raises ConfigError naming it (never an error dict)."""
        with pytest.raises(ConfigError, match="definitely_not_an_option"):
            binding.generate_text(prompt, definitely_not_an_option=1)
        with pytest.raises(ConfigError, match="definitely_not_an_option"):
            list(binding.stream(prompt, definitely_not_an_option=1))

    def test_bad_sampling_values_are_config_errors(self, binding: Any, prompt: str) -> None:
        """Wrong type or out-of-range sampling values raise ConfigError naming the option."""
        with pytest.raises(ConfigError, match="temperature"):
            binding.generate_text(prompt, temperature="hot")
        with pytest.raises(ConfigError, match="top_p"):
            binding.generate_text(prompt, top_p=5.0)
        with pytest.raises(ConfigError, match="n_predict"):
            binding.generate_text(prompt, n_predict=0)

    # -- tokens and embeddings --------------------------------------------------------------

    def test_tokenize_round_trip(self, binding: Any) -> None:
        """``detokenize(tokenize(text))`` gives the text back (up to surrounding spaces)."""
        text = "Hello world, this is a tokenizer test."
        try:
            tokens = binding.tokenize(text)
            back = binding.detokenize(tokens)
        except NotSupportedError:
            pytest.skip("the binding cannot tokenize")
        assert isinstance(tokens, list)
        assert tokens
        assert all(isinstance(t, int) for t in tokens)
        assert back.strip() == text

    def test_count_tokens_matches_tokenize(self, binding: Any) -> None:
        """``count_tokens(text) == len(tokenize(text))``."""
        text = "The quick brown fox jumps over the lazy dog."
        try:
            tokens = binding.tokenize(text)
        except NotSupportedError:
            pytest.skip("the binding cannot tokenize")
        assert binding.count_tokens(text) == len(tokens)

    def test_embed_shape(self, binding: Any) -> None:
        """A string gives one vector of floats; a list gives one vector per string, all the same size."""
        try:
            one = binding.embed("hello world")
        except NotSupportedError:
            pytest.skip("the binding has no embeddings")
        assert isinstance(one, list)
        assert one
        assert all(isinstance(x, float) for x in one)
        many = binding.embed(["hello world", "a different sentence"])
        assert isinstance(many, list)
        assert len(many) == 2
        assert all(isinstance(v, list) and len(v) == len(one) for v in many)

    def test_model_info_is_a_dict(self, binding: Any) -> None:
        """``get_model_info()`` returns a dict."""
        assert isinstance(binding.get_model_info(), dict)

    # -- errors -----------------------------------------------------------------------------

    def test_backend_error_becomes_the_seed_error_dict(self, failing_binding: Any, prompt: str) -> None:
        """Seed methods return ``{"status": False, "error", "error_type"}``; modern ones and strict raise."""
        if failing_binding is None:
            pytest.skip("no failing_binding fixture")
        result = failing_binding.generate_text(prompt, n_predict=4)
        assert isinstance(result, dict), f"generate_text should return the error dict, got {result!r}"
        assert result["status"] is False
        assert isinstance(result["error"], str)
        assert result["error"]
        error_type = getattr(errors, result["error_type"], None)
        assert isinstance(error_type, type), f"error_type {result['error_type']!r} is not a lollms_core.errors class"
        assert issubclass(error_type, BackendError), result
        async_result = asyncio.run(failing_binding.agenerate_text(prompt, n_predict=4))
        assert isinstance(async_result, dict)
        assert async_result["error_type"] == result["error_type"]
        with pytest.raises(BackendError) as caught:
            list(failing_binding.stream(prompt, n_predict=4))
        assert type(caught.value).__name__ == result["error_type"]
        strict_before = failing_binding.strict
        failing_binding.strict = True
        try:
            with pytest.raises(BackendError):
                failing_binding.generate_text(prompt, n_predict=4)
        finally:
            failing_binding.strict = strict_before
        secrets = [v for k, v in dict(failing_binding.config).items() if k in _secret_names(failing_binding) and v]
        for secret in secrets:
            assert secret not in result["error"], "a secret leaked into the error dict"
            assert secret not in str(caught.value), "a secret leaked into the exception"


def _secret_names(binding: Any) -> set[str]:
    return {p.name for p in binding._resolve_manifest().parameters if p.is_secret}
