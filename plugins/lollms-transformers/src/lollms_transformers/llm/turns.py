"""One model, one generation at a time: later callers queue, in arrival order.

A transformers model is not safe to run from two threads at once (its cache and the tokenizer's
padding state are shared), and on one device two generations only slow each other down. So
each binding serves callers one after another. A waiting caller gives up its place when its
stop event is set (``cancel()``), and raises :class:`GenerationCancelled` without having run.
"""

from __future__ import annotations

import threading
from collections import deque

from lollms_core.errors import GenerationCancelled

__all__ = ["Turns"]


class Turns:
    """A first-come, first-served lock whose waiters can be woken to check their stop event."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        """Callers queued behind the running one."""
        with self._cond:
            return len(self._queue)

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Wait for this caller's turn.

        :raises GenerationCancelled: ``stop`` was set while waiting (the turn is not taken).
        """
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                while self._busy or self._queue[0] is not ticket:
                    if stop is not None and stop.is_set():
                        raise GenerationCancelled("cancelled while waiting for the model (another generation ran)")
                    self._cond.wait()
                self._busy = True
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()  # the next in line re-checks (also after a waiter left)

    def release(self) -> None:
        """End this caller's turn; the next one in line starts."""
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def wake(self) -> None:
        """Make every waiter look at its stop event now (called by ``cancel()``)."""
        with self._cond:
            self._cond.notify_all()
