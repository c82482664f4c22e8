"""The one streaming primitive's machinery: ``model.generate`` in a worker thread, text out as it comes.

``generate`` blocks until the answer is complete, so it runs in a thread that feeds a
:class:`~transformers.TextIteratorStreamer`; the caller reads text from the streamer. Stopping
is a :class:`~transformers.StoppingCriteria` that reads a :class:`threading.Event`: ``generate``
checks it after every token, so setting the event (a callback returning ``False``, ``cancel()``,
a stop sequence, the consumer leaving) ends decoding after the token being computed. Nothing
is drained: the worker is told to stop, then joined.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from lollms_core.errors import ConfigError
from lollms_core.types import GenerationOptions
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

__all__ = [
    "GenerationRun",
    "StopOnEvent",
    "StopScanner",
    "StopSignal",
    "WindowedRepetitionPenalty",
    "generation_config",
    "prompt_budget",
]

# How long the consumer waits for the worker to acknowledge a stop: one token is milliseconds
# on a GPU and well under a second for small models on a CPU; a huge model on a slow CPU may need more.
_JOIN_S = 120.0


class StopSignal(threading.Event):
    """The stop event of one generation; it remembers how long the sequence was when it was set.

    ``tokens_at_stop`` against the final length shows how far decoding ran past the stop (the
    tests hold it to one token).
    """

    def __init__(self) -> None:
        super().__init__()
        #: Sequence length (prompt + answer) at the last stopping check.
        self.seen_tokens = 0
        #: ``seen_tokens`` when :meth:`set` was first called (``None`` until then).
        self.tokens_at_stop: int | None = None

    def set(self) -> None:
        """Ask the generation to stop after the token being computed."""
        if self.tokens_at_stop is None:
            self.tokens_at_stop = self.seen_tokens
        super().set()


class StopOnEvent(StoppingCriteria):  # type: ignore[misc,unused-ignore]  # Any without transformers installed
    """``True`` for every sequence once ``signal`` is set: ``generate`` stops after the current token."""

    def __init__(self, signal: StopSignal) -> None:
        self.signal = signal

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        """Checked by ``generate`` after each new token."""
        self.signal.seen_tokens = int(input_ids.shape[-1])
        stop = torch.full((input_ids.shape[0],), self.signal.is_set(), dtype=torch.bool, device=input_ids.device)
        return stop  # type: ignore[return-value,unused-ignore]


class WindowedRepetitionPenalty(LogitsProcessor):  # type: ignore[misc,unused-ignore]
    """llama.cpp's ``repeat_penalty`` over the last ``window`` tokens (transformers' own covers all of them)."""

    def __init__(self, penalty: float, window: int) -> None:
        self.penalty, self.window = penalty, window

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Divide positive logits (multiply negative ones) of recently seen tokens by the penalty."""
        recent = input_ids[:, -self.window :]
        seen = torch.gather(scores, 1, recent)
        seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return scores.scatter(1, recent, seen)  # type: ignore[return-value,unused-ignore]


def generation_config(
    base: Any, options: GenerationOptions, max_new_tokens: int, pad_token_id: int | None
) -> tuple[Any, list[Any]]:
    """The model's generation config with the lollms options applied, plus extra logits processors.

    ``temperature == 0`` is greedy decoding (``do_sample=False``); a positive temperature samples
    with it and ``top_k``/``top_p``; no temperature keeps the model's own default. ``repeat_penalty``
    maps to ``repetition_penalty`` (``repeat_last_n`` -1 or unset: the whole context; 0: off; N:
    the last N tokens).
    """
    config = copy.deepcopy(base)
    changes: dict[str, Any] = {"max_new_tokens": max_new_tokens, "max_length": None}
    if pad_token_id is not None and config.pad_token_id is None:
        changes["pad_token_id"] = pad_token_id
    temperature = options.temperature
    if temperature is not None:
        if temperature == 0:
            # Greedy: the sampling fields of the model's config would only draw warnings.
            changes.update(do_sample=False, temperature=None, top_k=None, top_p=None)
        else:
            changes.update(do_sample=True, temperature=temperature)
    sampling = changes.get("do_sample", config.do_sample)
    if sampling:
        if options.top_k is not None:
            changes["top_k"] = options.top_k
        if options.top_p is not None:
            changes["top_p"] = options.top_p
    processors: list[Any] = []
    penalty, window = options.repeat_penalty, options.repeat_last_n
    if penalty is not None and penalty != 1.0 and window != 0:
        if window is None or window < 0:
            changes["repetition_penalty"] = penalty
        else:
            processors.append(WindowedRepetitionPenalty(penalty, window))
    config.update(**changes)
    return config, processors


class StopScanner:
    """Cuts the text at the first stop sequence, holding back only what could begin one.

    ``feed`` returns the text safe to show and whether a stop sequence was found; after a
    find, nothing more is shown.
    """

    def __init__(self, stops: Sequence[str] | None) -> None:
        self.stops = [s for s in stops or () if s]
        self.held = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """The part of ``text`` (with what was held back) that is certainly before any stop sequence."""
        if not self.stops:
            return text
        if self.hit:
            return ""
        buffer = self.held + text
        found = [i for i in (buffer.find(s) for s in self.stops) if i >= 0]
        if found:
            self.hit, self.held = True, ""
            return buffer[: min(found)]
        keep = 0
        for size in range(min(len(buffer), max(len(s) for s in self.stops) - 1), 0, -1):
            tail = buffer[-size:]
            if any(s.startswith(tail) for s in self.stops):
                keep = size
                break
        self.held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What was held back, at the end of the answer (no stop sequence followed)."""
        held, self.held = self.held, ""
        return "" if self.hit else held


@dataclass
class GenerationRun:
    """One ``generate`` call streamed from a worker thread.

    Iterate for the answer text (special tokens skipped); set ``stop`` to end decoding at the
    next token. After iteration, ``prompt_tokens``/``completion_tokens`` count what was run.
    """

    model: Any
    tokenizer: Any
    inputs: dict[str, Any]
    config: Any
    stop: StopSignal
    processors: Sequence[Any] = ()
    completion_tokens: int = 0
    #: Tokens decoded after ``stop`` was set (0 or 1 when stopping works; ``None`` if never stopped early).
    overrun: int | None = None

    @property
    def prompt_tokens(self) -> int:
        """Tokens of the prompt (after the chat template)."""
        return int(self.inputs["input_ids"].shape[-1])

    def __iter__(self) -> Iterator[str]:
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with torch.inference_mode():
                    out = self.model.generate(
                        **self.inputs,
                        generation_config=self.config,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([StopOnEvent(self.stop)]),
                        logits_processor=LogitsProcessorList(self.processors),
                    )
                self.completion_tokens = int(out.shape[-1]) - self.prompt_tokens
                if self.stop.tokens_at_stop is not None:
                    self.overrun = int(out.shape[-1]) - self.stop.tokens_at_stop
            except BaseException as exc:  # raised in the consumer's thread, below
                failure.append(exc)
                streamer.end()  # generate never reached its own end(): unblock the reader

        worker = threading.Thread(target=work, name="lollms-transformers-generate", daemon=True)
        worker.start()
        try:
            for text in streamer:
                if failure:
                    break
                if text:
                    yield text
        finally:
            self.stop.set()
            worker.join(_JOIN_S)
        if failure:
            raise failure[0]


def prompt_budget(prompt_tokens: int, n_ctx: int, n_predict: int | None) -> int:
    """``max_new_tokens``: ``n_predict`` capped by the room left in the context.

    :raises ConfigError: the prompt alone fills the context (the message gives both sizes).
    """
    room = n_ctx - prompt_tokens
    if room <= 0:
        raise ConfigError(
            f"the prompt is {prompt_tokens} tokens but ctx_size is {n_ctx}: shorten the prompt or raise ctx_size "
            "(at most the model's own context length)"
        )
    return room if n_predict is None else min(n_predict, room)
