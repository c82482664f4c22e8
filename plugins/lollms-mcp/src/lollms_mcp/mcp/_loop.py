"""The private event loop a binding's sessions live on, in a daemon thread.

Sync callers submit coroutines and wait for the result; async callers on another loop
await the same future without blocking a thread. Bindings still open when the interpreter
exits are closed by one ``atexit`` hook, so no stdio server outlives its parent.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

__all__ = ["LoopThread", "close_at_exit"]

T = TypeVar("T")


class _Closable(Protocol):
    def close(self) -> None: ...


_open: weakref.WeakSet[Any] = weakref.WeakSet()


def close_at_exit(binding: _Closable) -> None:
    """Close ``binding`` when the interpreter exits, unless it was closed (or collected) before."""
    _open.add(binding)


def _close_all() -> None:
    for binding in list(_open):
        with contextlib.suppress(Exception):  # the interpreter is going away: close what can be closed
            binding.close()


atexit.register(_close_all)


class LoopThread:
    """An asyncio loop running in its own daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the loop, from a coroutine of another loop (no thread blocked)."""
        if asyncio.get_running_loop() is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        """Stop the loop and its thread (after the sessions were closed)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()
