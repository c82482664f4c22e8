"""The machinery behind the derived forms: callback arity, chunk bookkeeping, closing, threads.

Private to the LLM base; kept apart so ``llm.py`` reads as the contract it implements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

from ..errors import BackendError, GenerationCancelled
from ..types import MSG_TYPE, Chunk, GenerationResult, StreamingCallback


async def stream_in_thread(it: Iterator[Chunk]) -> AsyncIterator[Chunk]:
    """Run a blocking chunk iterator in a worker thread, one ``next()`` at a time."""
    import asyncio
    import threading

    gen = closable(it)
    loop = asyncio.get_running_loop()
    done = object()
    pending: Any = None
    # A cancelled await does not stop the worker inside next(): closing the generator then would
    # raise "generator already executing". The lock makes close() wait for that next() to return.
    lock = threading.Lock()

    def step() -> Any:
        with lock:
            return next(gen, done)

    def close() -> None:
        with lock:
            gen.close()

    try:
        while True:
            pending = loop.run_in_executor(None, step)
            chunk = await pending
            pending = None
            if chunk is done:
                return
            yield chunk
    finally:
        if pending is not None:
            # Interrupted (cancelled) while a worker may still be inside next(): close once it returns,
            # without making the cancellation wait for it.
            loop.run_in_executor(None, close)
        else:
            await loop.run_in_executor(None, close)


def adapt_callback(callback: StreamingCallback) -> Callable[[Chunk], bool | None]:
    """Call seed callbacks with the arity they accept: ``(chunk, type)`` or ``(chunk, type, meta)``."""
    import inspect

    try:
        params = inspect.signature(callback).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        three = any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) >= 3
    except (TypeError, ValueError):
        three = True
    if three:
        return lambda c: callback(c.text, c.type, c.meta or {})
    return lambda c: callback(c.text, c.type)


def closable(it: Iterator[Chunk]) -> Generator[Chunk, None, None]:
    """The primitive's iterator as a generator, so ``close()`` always exists (and reaches it)."""
    if isinstance(it, Generator):
        return it

    def wrap() -> Generator[Chunk, None, None]:
        try:
            yield from it
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    return wrap()


class Tally:
    """Bookkeeping shared by the sync and async loops: accumulate, check cancel, fill the result."""

    __slots__ = ("flag", "parts", "result", "thoughts")

    def __init__(self, flag: Any, result: GenerationResult) -> None:
        self.flag, self.result = flag, result
        self.parts: list[str] = []
        self.thoughts: list[str] = []

    def take(self, chunk: Chunk) -> bool:
        """Record a chunk; return whether it carries text to deliver. Raises if cancelled."""
        self.check_cancel()
        if chunk.meta:
            self.result.finish_reason = chunk.meta.get("finish_reason", self.result.finish_reason)
            self.result.usage.update(chunk.meta.get("usage") or {})
        if not chunk.text:
            return False
        (self.thoughts if chunk.type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK else self.parts).append(chunk.text)
        return True

    def check_cancel(self) -> None:
        """Raise :class:`GenerationCancelled` (with the partial text) once ``cancel()`` was called."""
        if self.flag.is_set():
            self.result.stopped_by = "cancel"
            raise GenerationCancelled(partial_text="".join(self.parts))

    def failed(self, exc: BaseException) -> None:
        """Attach the text received so far to a backend error."""
        if isinstance(exc, BackendError) and not exc.partial_text:
            exc.partial_text = "".join(self.parts)

    def finish(self) -> None:
        """Write the accumulated text into the result."""
        self.result.text, self.result.thoughts = "".join(self.parts), "".join(self.thoughts)
