"""One :class:`ModelHost` per model id: its binding, its state and the only way calls reach it.

Blocking bindings (a ``_stream`` that blocks, an engine call) run in the host's own bounded
thread pool, so they never block the event loop and one busy alias cannot take every thread;
bindings with a native ``_astream`` run on the loop, bounded by a semaphore of the same size.
A stream whose consumer goes away stops upstream: the blocking form's callback answers
``False`` at the next chunk (the base then closes the primitive, which closes the engine's
stream), the async form's task is cancelled (the base closes the HTTP stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from lollms_core.bindings import LollmsBinding, LollmsLLMBinding
from lollms_core.errors import LollmsError
from lollms_core.types import ChatRequest, Chunk, GenerationResult, Modality

__all__ = ["BLOCKING_CONCURRENCY", "NATIVE_ASYNC_CONCURRENCY", "ModelHost", "ModelUnavailable"]

T = TypeVar("T")
State = Literal["loading", "ready", "failing"]
#: Default pool size of a blocking binding (an in-process engine: more threads only queue in it).
BLOCKING_CONCURRENCY = 4
#: Default number of concurrent calls on a binding with native async I/O (an HTTP backend).
NATIVE_ASYNC_CONCURRENCY = 64
_DONE: Any = object()


class ModelUnavailable(LollmsError):
    """The model id exists but its binding is not usable (it failed to load); HTTP 503."""


class ModelHost:
    """A model id's binding, created in the background, with its calls bounded and counted.

    :param make: builds the binding (imports the engine, loads the model); run in a worker.
    :param concurrency: most calls at once; default :data:`BLOCKING_CONCURRENCY` for blocking
        bindings, :data:`NATIVE_ASYNC_CONCURRENCY` for natively async ones.
    """

    def __init__(
        self,
        name: str,
        modality: Modality,
        binding_name: str,
        make: Callable[[], LollmsBinding],
        concurrency: int | None = None,
        members: tuple[str, ...] = (),
    ) -> None:
        self.name, self.modality, self.binding_name, self.members = name, modality, binding_name, members
        self._make = make
        self._concurrency = concurrency
        self.state: State = "loading"
        #: Why loading failed (a lollms error message: secrets already redacted by the core).
        self.error: str | None = None
        self.binding: LollmsBinding | None = None
        #: Calls admitted and not yet finished upstream (queued ones included).
        self.active = 0
        self._active_lock = threading.Lock()
        self._loaded: Future[LollmsBinding] | None = None
        self.executor = ThreadPoolExecutor(max_workers=concurrency or BLOCKING_CONCURRENCY, thread_name_prefix="lollms")
        self._semaphore: asyncio.Semaphore | None = None

    # -- life -------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin creating the binding in the pool (the server answers ``/health`` meanwhile)."""
        if self._loaded is None:
            self._loaded = self.executor.submit(self._load)

    def _load(self) -> LollmsBinding:
        try:
            binding = self._make()
        except BaseException as exc:
            self.state, self.error = "failing", _message(exc)
            raise
        self.binding, self.state = binding, "ready"
        return binding

    async def ready(self) -> LollmsBinding:
        """The binding, once created.

        :raises ModelUnavailable: it could not be created (the message says why).
        """
        self.start()
        assert self._loaded is not None
        try:
            return await asyncio.wrap_future(self._loaded)
        except Exception:
            raise ModelUnavailable(f"model '{self.name}' is not available: {self.error}") from None

    def close(self) -> None:
        """Stop what still runs on the binding, release it (frees an in-process model), end the pool.

        Generations still running are cancelled first: the pool's threads are joined when the
        process exits, so a long answer would otherwise hold up ``lollms serve``'s shutdown.
        """
        self.executor.shutdown(wait=False, cancel_futures=True)
        binding = self.binding
        if binding is not None:
            with contextlib.suppress(Exception):
                binding.cancel()
            with contextlib.suppress(Exception):
                binding.close()

    @property
    def native_async(self) -> bool:
        """Whether the binding streams with its own async I/O (it overrides ``_astream``)."""
        binding = self.binding
        return isinstance(binding, LollmsLLMBinding) and type(binding)._astream is not LollmsLLMBinding._astream

    def health(self) -> dict[str, Any]:
        """The line of ``GET /health`` for this model id."""
        out: dict[str, Any] = {
            "state": self.state,
            "modality": self.modality.value,
            "binding": self.binding_name,
            "active": self.active,
        }
        if self.error:
            out["error"] = self.error
        status = getattr(self.binding, "status", None)
        if self.members and callable(status):
            out["members"] = [
                {"alias": alias, **row} for alias, row in zip(self.members, _safe(status) or [], strict=False)
            ]
        return out

    # -- counting -----------------------------------------------------------------------------

    def _enter(self) -> None:
        with self._active_lock:
            self.active += 1

    def _leave(self) -> None:
        with self._active_lock:
            self.active -= 1

    def _limit(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._concurrency or NATIVE_ASYNC_CONCURRENCY)
        return self._semaphore

    # -- calls --------------------------------------------------------------------------------

    async def call(self, fn: Callable[[LollmsBinding], T]) -> T:
        """Run a blocking binding method in this host's pool (embed, tokenize, transcribe, speak...)."""
        binding = await self.ready()
        loop = asyncio.get_running_loop()
        self._enter()
        try:
            return await loop.run_in_executor(self.executor, fn, binding)
        finally:
            self._leave()

    async def generate(self, request: ChatRequest, method: str = "generate_text") -> GenerationResult:
        """One whole answer (no callback: an HTTP binding may ask its backend for one JSON body)."""
        binding = await self._llm()
        if self.native_async:
            self._enter()
            try:
                async with self._limit():
                    return await binding.arun(request, None, method)
            finally:
                self._leave()
        return await self.call(lambda b: binding.run(request, None, method))

    async def stream(
        self, request: ChatRequest, method: str = "generate_text"
    ) -> AsyncGenerator[Chunk | GenerationResult, None]:
        """Yield the answer's chunks, then its :class:`GenerationResult`; closing this stops upstream."""
        binding = await self._llm()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        self._enter()
        if self.native_async:

            def take(text: str, kind: Any, meta: Any = None) -> bool:
                queue.put_nowait(Chunk(text, kind, meta or None))
                return True

            async def produce() -> GenerationResult:
                try:
                    async with self._limit():
                        return await binding.arun(request, take, method)
                finally:
                    self._leave()

            work: asyncio.Future[GenerationResult] = asyncio.ensure_future(produce())
        else:

            def deliver(text: str, kind: Any, meta: Any = None) -> bool:
                loop.call_soon_threadsafe(queue.put_nowait, Chunk(text, kind, meta or None))
                return not stop.is_set()  # False: the base closes the primitive, which closes the engine

            def job() -> GenerationResult | None:
                try:
                    if stop.is_set():  # the client left while this waited for a worker
                        return None
                    return binding.run(request, deliver, method)
                finally:
                    self._leave()

            work = loop.run_in_executor(self.executor, job)  # type: ignore[arg-type]
        work.add_done_callback(lambda _f: queue.put_nowait(_DONE))
        try:
            while (item := await queue.get()) is not _DONE:
                yield item
            yield work.result()
        finally:
            if not work.done():
                if self.native_async:
                    work.cancel()
                    with contextlib.suppress(BaseException):
                        await work
                else:
                    stop.set()

    async def _llm(self) -> LollmsLLMBinding:
        binding = await self.ready()
        if not isinstance(binding, LollmsLLMBinding):
            raise ModelUnavailable(f"model '{self.name}' is a {self.modality.value} model, not a text model")
        return binding


def _message(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split()) if not isinstance(exc, LollmsError) else str(exc)


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None
