"""What ``cancel()`` reaches: a per-call flag that also runs abort hooks, and the call it belongs to.

A flag alone is only seen between chunks, so a read blocked on the socket (or a back-off sleep)
would outlive ``cancel()`` by up to the read timeout. The HTTP layer therefore registers an abort
hook on the current call's :class:`CallControl` (shut the socket down; async: cancel the task),
and sleeps on the flag instead of ``time.sleep``. The current call travels in a context variable,
set by the LLM base around its iteration, so no primitive's signature changes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["CallControl", "current_call"]


class CallControl:
    """One generation's cancel flag (``set()`` = cancel) plus the hooks that abort its blocking waits.

    Answers what a :class:`threading.Event` answers (``set``, ``is_set``, ``wait``) without being
    one: every generation makes a flag and almost none waits on it, so the event (a condition
    and two locks) is only made by the first :meth:`wait`.
    """

    __slots__ = ("_event", "_hooks", "_lock", "cancelled")

    def __init__(self) -> None:
        #: ``is_set()`` as a plain attribute: read once per streamed chunk, so no method call.
        self.cancelled = False
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._event: threading.Event | None = None

    def is_set(self) -> bool:
        """Whether ``cancel()`` reached this call."""
        return self.cancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds passed; whether it was cancelled."""
        with self._lock:
            if self.cancelled:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run ``hook`` (from the cancelling thread) when the call is cancelled; now if it already is.

        :returns: a function removing the hook again (call it once the wait it guards is over).
        """
        with self._lock:
            if not self.cancelled:
                self._hooks.append(hook)
                return lambda: self._remove(hook)
        hook()
        return lambda: None

    def _remove(self, hook: Callable[[], None]) -> None:
        with self._lock:
            if hook in self._hooks:
                self._hooks.remove(hook)

    def set(self) -> None:
        """Cancel: raise the flag, wake a :meth:`wait`, then run every registered abort hook once."""
        with self._lock:
            self.cancelled = True
            hooks, self._hooks = self._hooks, []
            event = self._event
        if event is not None:
            event.set()
        for hook in hooks:
            with contextlib.suppress(Exception):  # one failing abort hook must not stop the others
                hook()


#: The call whose primitive is running in this context (``None`` outside a generation).
current_call: ContextVar[CallControl | None] = ContextVar("lollms_current_call", default=None)
