"""The machinery behind the derived forms: callback arity, chunk bookkeeping, closing, threads.

Private to the LLM base; kept apart so ``llm.py`` reads as the contract it implements.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any, TypeGuard, TypeVar, Union

from .._cancel import CallControl, current_call
from ..errors import BackendError, CallbackError, GenerationCancelled, ToolChoiceError
from ..types import MSG_TYPE, ChatRequest, Chunk, GenerationResult, StreamingCallback, ToolCall, ToolCallDelta
from ._tool_stream import ToolAssembler

T = TypeVar("T")
#: What a binding's primitive yields: answer/thought chunks, tool-call fragments, whole calls.
StreamItem = Union[Chunk, ToolCallDelta, ToolCall]
_THOUGHT = MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK  # module constant: no enum-class lookup per chunk
_TOOL_CALL = MSG_TYPE.MSG_TYPE_TOOL_CALL


async def stream_in_thread(it: Iterator[T]) -> AsyncIterator[T]:
    """Run a blocking chunk iterator in a worker thread, one ``next()`` at a time.

    The worker runs in a copy of this context, so the sync HTTP layer sees the current call and
    ``cancel()`` can shut a read blocked in the worker down.
    """
    import asyncio
    import threading

    gen = closable(it)
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
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

    run_step = functools.partial(ctx.run, step)  # built once: this runs per chunk
    try:
        while True:
            pending = loop.run_in_executor(None, run_step)
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


def closable(it: Iterator[T]) -> Generator[T, None, None]:
    """The primitive's iterator as a generator, so ``close()`` always exists (and reaches it)."""
    if isinstance(it, Generator):
        return it

    def wrap() -> Generator[T, None, None]:
        try:
            yield from it
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    return wrap()


class Tally:
    """Bookkeeping shared by the sync and async loops: accumulate, check cancel, fill the result."""

    __slots__ = ("flag", "parts", "result", "thoughts", "tools")

    def __init__(self, flag: CallControl, result: GenerationResult) -> None:
        self.flag, self.result = flag, result
        self.parts: list[str] = []
        self.thoughts: list[str] = []
        self.tools: ToolAssembler | None = None  # made at the first tool-call delta

    def take(self, chunk: StreamItem) -> TypeGuard[Chunk]:
        """Record a chunk; return whether it carries text to deliver. Raises if cancelled.

        A tool-call delta (or whole call) is recorded for assembly and never delivered as is.
        """
        if self.flag.cancelled:
            self.check_cancel()
        if chunk.__class__ is not Chunk and not isinstance(chunk, Chunk):  # one class test per chunk
            if self.tools is None:
                self.tools = ToolAssembler()
            self.tools.add(chunk)
            return False
        if chunk.meta:
            self.result.finish_reason = chunk.meta.get("finish_reason", self.result.finish_reason)
            self.result.usage.update(chunk.meta.get("usage") or {})
        text = chunk.text
        if not text:
            return False
        (self.thoughts if chunk.type == _THOUGHT else self.parts).append(text)
        return True

    def check_cancel(self) -> None:
        """Raise :class:`GenerationCancelled` (with the partial text) once ``cancel()`` was called."""
        if self.flag.is_set():
            self.result.stopped_by = "cancel"
            raise GenerationCancelled(partial_text="".join(self.parts))

    def failed(self, exc: BaseException) -> BaseException:
        """The exception to raise for ``exc``: with the partial text; a cancel's aftermath is the cancel.

        Once ``cancel()`` aborted a blocked read or a back-off, the error that produced (a broken
        connection, a cancelled task, an unfinished stream) is :class:`GenerationCancelled`.
        """
        if self.flag.is_set() and isinstance(exc, (BackendError, _cancelled_error())):
            self.result.stopped_by = "cancel"
            cancelled = GenerationCancelled(partial_text="".join(self.parts))
            cancelled.__cause__ = exc
            return cancelled
        if isinstance(exc, GenerationCancelled) and not exc.partial_text:
            exc.partial_text = "".join(self.parts)
            self.result.stopped_by = "cancel"
        if isinstance(exc, BackendError) and not exc.partial_text:
            exc.partial_text = "".join(self.parts)
        return exc

    def finish(self) -> None:
        """Write the accumulated text into the result."""
        self.result.text, self.result.thoughts = "".join(self.parts), "".join(self.thoughts)


def _cancelled_error() -> type[BaseException]:
    import asyncio

    return asyncio.CancelledError


class Call:
    """One generation's bookkeeping: every decision the sync and async loops share.

    Events (start, chunk, end, error) when someone listens, the tally, cancel-to-exception
    mapping, and the current-call context the HTTP layer hooks its aborts onto. The loops in
    ``llm.py`` only iterate and call these.
    """

    __slots__ = ("_emit", "_end", "completed", "context", "flag", "result", "stopped", "take", "tally")

    def __init__(
        self,
        flag: CallControl,
        emit: Callable[..., None] | None,
        result: GenerationResult,
        end: Callable[[CallControl], None],
    ) -> None:
        self.flag, self.result, self._emit, self._end = flag, result, emit, end
        self.tally = Tally(flag, result)
        #: ``take(chunk)`` records a chunk and says whether to deliver it (emitting it if observed).
        self.take: Callable[[StreamItem], TypeGuard[Chunk]] = self.tally.take if emit is None else self._take_and_emit
        #: The context the sync primitive runs in: this call is its ``current_call``. Only the
        #: primitive's own steps run in it, so the consumer's context never holds a call (two
        #: streams closed in any order leave nothing behind for later HTTP requests to abort on).
        self.context = contextvars.copy_context()
        self.context.run(current_call.set, flag)
        self.stopped = self.completed = False
        if emit is not None:
            emit("start")

    def _take_and_emit(self, chunk: StreamItem) -> TypeGuard[Chunk]:
        if not self.tally.take(chunk):
            return False
        assert self._emit is not None
        self._emit("chunk", chunk=chunk)
        return True

    def finish_tools(self, request: ChatRequest) -> list[Chunk]:
        """Assemble the stream's tool calls (once) into the result; one ``MSG_TYPE_TOOL_CALL`` chunk each.

        :raises ToolChoiceError: the request required a call and the model made none.
        """
        assembler = self.tally.tools
        if assembler is None and not request.tools:
            return []  # the common case: no tools asked for, none given
        calls = assembler.calls(request.wire_names) if assembler is not None else ()
        result = self.result
        result.tool_calls = calls
        if calls and result.finish_reason in (None, "stop"):
            result.finish_reason = "tool_calls"
        if not calls and request.tools and request.tool_choice not in (None, "auto", "none"):
            prose = "".join(self.tally.parts)
            raise ToolChoiceError(
                f"tool_choice '{request.wire_names.get(request.tool_choice, request.tool_choice)}' asked for a "
                "tool call and the model answered without one (the server or the model's chat template "
                "ignored the tools); use tool_mode='prompt' to have lollms constrain the answer instead",
                partial_text=prose,
            )
        chunks = [Chunk("", _TOOL_CALL, {"tool_call": call.to_dict()}) for call in calls]
        if self._emit is not None:
            for chunk in chunks:
                self._emit("chunk", chunk=chunk)
        return chunks

    def done(self) -> None:
        """The primitive ended normally (a cancel that came in the meantime still wins)."""
        self.tally.check_cancel()
        self.completed = True

    def fail(self, exc: BaseException) -> BaseException:
        """The exception to raise for ``exc`` (see :meth:`Tally.failed`), reported to observers."""
        error = self.tally.failed(exc)
        if self._emit is not None:
            self._emit("error", error=error)
        return error

    def close(self) -> None:
        """Leave the call: fill the result, and tell observers it ended (unless it failed)."""
        self._end(self.flag)
        self.tally.finish()
        if self._emit is not None and (self.stopped or self.completed):
            self._emit("end", result=self.result)


class Delivery:
    """A user callback as the run loops call it: arity adapted, exceptions as :class:`CallbackError`."""

    __slots__ = ("_call",)

    def __init__(self, callback: StreamingCallback) -> None:
        self._call = adapt_callback(callback)

    def __call__(self, chunk: Chunk) -> bool:
        """Deliver one chunk; ``True`` to go on. A raising callback becomes a :class:`CallbackError`."""
        try:
            return self._call(chunk) is not False
        except Exception as exc:
            error = CallbackError(f"streaming callback raised {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            raise error from exc


class TaskInterrupt:
    """Lets ``cancel()`` (from any thread) cancel the running task, only while it waits for the primitive.

    A blocked read or a back-off sleep ends at once; the consumer's own awaits are never hit.
    """

    __slots__ = ("_task", "_unhook", "fired", "waiting")

    def __init__(self, flag: CallControl) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self.waiting = False
        #: Whether this interrupt cancelled the task (only then is a CancelledError ours to absorb).
        self.fired = False

        def hook() -> None:
            loop.call_soon_threadsafe(self._interrupt)

        self._unhook = flag.on_cancel(hook)

    def _interrupt(self) -> None:
        if self.waiting and self._task is not None and not self._task.done():
            self.fired = True
            self._task.cancel()

    def absorb(self, exc: BaseException) -> None:
        """``exc`` was our cancel, answered by :class:`GenerationCancelled`: the task is not cancelled."""
        if self.fired and isinstance(exc, _cancelled_error()) and self._task is not None:
            uncancel = getattr(self._task, "uncancel", None)  # Python 3.11+; 3.10 keeps no cancel count
            if uncancel is not None:
                uncancel()

    def close(self) -> None:
        """Stop listening for ``cancel()``."""
        self._unhook()


def enter_call(flag: CallControl) -> contextvars.Token[CallControl | None]:
    """Make ``flag`` the current call (what the HTTP layer hooks its aborts onto), until :func:`leave_call`.

    The async loop brackets each wait on its primitive with these, within one step of its task.
    """
    return current_call.set(flag)


def leave_call(token: contextvars.Token[CallControl | None]) -> None:
    """Undo :func:`enter_call`."""
    with contextlib.suppress(ValueError):
        current_call.reset(token)
