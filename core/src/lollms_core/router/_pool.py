"""The router's shared state: members, their health, and the one place a member is chosen.

Both faces of the router (``_stream`` and ``_astream``) drive the same :class:`Pool`: it picks
a member for an attempt, counts what happens to it, and cools failing members down. All of it
runs under one lock, so the router can be used from many threads and event loops at once.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._cancel import current_call
from ..errors import (
    MAX_RETRY_AFTER,
    AllMembersFailedError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    EngineError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    from ..bindings._streaming import StreamItem
    from ..bindings.llm import LollmsLLMBinding
    from ..types import Message

__all__ = ["Attempt", "Member", "Pool", "prefix_key", "should_fail_over"]

#: Weight of the newest time-to-first-chunk sample in a member's moving average.
EWMA_ALPHA = 0.3


@dataclass
class Member:
    """One binding of the pool and what the router knows about it (guarded by the pool's lock)."""

    index: int
    binding: LollmsLLMBinding
    label: str
    weight: float = 1.0
    max_concurrency: int = 0  # 0: no limit
    in_flight: int = 0
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    cooling_until: float = 0.0  # time.monotonic(); 0 = healthy
    probing: bool = False  # one request is testing the member after its cooldown
    latency: float | None = None  # EWMA of time-to-first-chunk, seconds
    last_error: str | None = None
    call_options: frozenset[str] = frozenset()  # per-call options the member's manifest declares


def should_fail_over(exc: BaseException) -> bool:
    """Whether another member may take a request that failed this way (before its first chunk).

    Connection errors, timeouts, 5xx and 429 are the member's problem; any other 4xx is the
    request's (another member would refuse it too). An untyped backend failure, an engine crash
    (:class:`EngineError`: the core checked the request before the engine saw it, so a crash is the
    engine's fault) and a member that is itself a pool with every member down count as the member's.
    """
    if not isinstance(exc, BackendError):
        return False
    if isinstance(
        exc,
        (AllMembersFailedError, BackendConnectionError, BackendTimeoutError, EngineError, RateLimitError, ServerError),
    ):
        return True
    code = exc.status_code
    if code is None:
        return type(exc) is BackendError
    return code == 429 or code >= 500


def prefix_key(messages: list[Message]) -> str:
    """What identifies a conversation: its messages up to and including the first user turn.

    Every later turn of the same discussion starts with the same prefix, so it hashes the same.
    """
    end = next((i for i, m in enumerate(messages) if m.get("role") == "user"), len(messages) - 1)
    head = [{"role": m.get("role"), "content": m.get("content")} for m in messages[: end + 1]]
    return hashlib.blake2b(json.dumps(head, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


class Pool:
    """Members plus the strategy that picks among them, their counters and cooldowns."""

    def __init__(self, members: list[Member], strategy: str, cooldown: float, max_cooldown: float) -> None:
        self.members = members
        self.strategy = strategy
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._lock = threading.Lock()
        self._waiters: list[Callable[[], None]] = []
        self._turn = 0  # rotates ties so equal members share the load
        self._wrr = [0.0] * len(members)  # smooth weighted round-robin state

    # -- choosing -----------------------------------------------------------------------

    def choose(
        self, tried: set[int], key: str | None, waiter: Callable[[], None], *, in_order: bool = False
    ) -> Member | float:
        """Reserve a member for one attempt, or say how long to wait for a free slot.

        Returns the member (its ``in_flight`` already counted), or seconds to wait when every
        usable member is at its ``max_concurrency`` (``waiter`` is then called when a slot frees).

        :raises AllMembersFailedError: every member was tried by this request or is cooling down.
        """
        now = time.monotonic()
        with self._lock:
            usable: list[Member] = []
            full = False
            for m in self.members:
                if m.index in tried or m.probing or m.cooling_until > now:
                    continue
                if m.max_concurrency and m.in_flight >= m.max_concurrency:
                    full = True
                    continue
                usable.append(m)
            if not usable:
                if not full:
                    raise self._all_failed(tried, now)
                self._waiters.append(waiter)
                cooling = [m.cooling_until - now for m in self.members if m.cooling_until > now]
                return min([1.0, *cooling])
            member = usable[0] if in_order else self._pick(usable, key)
            if member.cooling_until:  # its cooldown is over: this request is the probe
                member.probing = True
            member.in_flight += 1
            self._turn += 1
            return member

    def _pick(self, usable: list[Member], key: str | None) -> Member:
        n = len(self.members)

        def busy(m: Member) -> tuple[float, int]:
            return (m.in_flight / m.weight, (m.index - self._turn) % n)

        if self.strategy == "round-robin":
            total = sum(m.weight for m in usable)
            for m in usable:
                self._wrr[m.index] += m.weight
            best = max(usable, key=lambda m: (self._wrr[m.index], -m.index))
            self._wrr[best.index] -= total
            return best
        if self.strategy == "latency":
            return min(usable, key=lambda m: ((m.latency or 0.0) * (m.in_flight + 1) / m.weight, *busy(m)))
        if self.strategy == "prefix-affinity" and key is not None:
            home = max(self.members, key=lambda m: _rendezvous(key, m))
            if home in usable:
                return home
        return min(usable, key=busy)

    def _all_failed(self, tried: set[int], now: float) -> AllMembersFailedError:
        lines: list[str] = []
        errors: dict[str, str] = {}
        waits = [m.cooling_until - now for m in self.members if m.cooling_until > now]
        for m in self.members:
            state = f"cooling down {m.cooling_until - now:.1f} s more" if m.cooling_until > now else "failed"
            if m.probing:
                state = "being probed"
            error = m.last_error or "no error recorded"
            errors[m.label] = error
            lines.append(f"#{m.index} {m.label}: {error} ({state})")
        return AllMembersFailedError(
            f"router: no member could take the request: {'; '.join(lines)}",
            member_errors=errors,
            retry_after=min(waits) if waits else None,
        )

    # -- what happened ------------------------------------------------------------------

    def first_chunk(self, member: Member, seconds: float) -> None:
        """The member delivered: record its time-to-first-chunk; a probe succeeded."""
        with self._lock:
            prev = member.latency
            member.latency = seconds if prev is None else EWMA_ALPHA * seconds + (1 - EWMA_ALPHA) * prev
            self._healthy(member)

    def succeeded(self, member: Member) -> None:
        """The attempt ran to the end."""
        with self._lock:
            member.successes += 1
            self._healthy(member)

    def failed(self, member: Member, exc: BaseException, *, cool: bool) -> None:
        """The attempt failed; ``cool`` rests the member (exponential, at least the server's Retry-After)."""
        with self._lock:
            member.failures += 1
            member.last_error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
            if not cool:
                self._healthy(member)  # it answered (a 4xx): the server is up
                return
            member.probing = False
            member.consecutive_failures += 1
            delay = min(self.cooldown * 2 ** (member.consecutive_failures - 1), self.max_cooldown)
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, (int, float)) and retry_after > 0:
                delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))  # finite: the status shows a date
            member.cooling_until = time.monotonic() + delay

    def released(self, member: Member) -> None:
        """The attempt is over (whatever the outcome): free its slot and wake waiting requests."""
        with self._lock:
            member.in_flight -= 1
            member.probing = False  # a probe that ended without a verdict (consumer left early) is retried later
            waiters, self._waiters = self._waiters, []
        for wake in waiters:
            wake()

    @staticmethod
    def _healthy(member: Member) -> None:
        member.consecutive_failures = 0
        member.cooling_until = 0.0
        member.probing = False

    def status(self) -> list[dict[str, Any]]:
        """A snapshot per member (see :meth:`RouterBinding.status`)."""
        now_mono, now_wall = time.monotonic(), time.time()
        with self._lock:
            out = []
            for m in self.members:
                cooling = m.cooling_until > now_mono
                state = "probing" if m.probing else "cooling" if cooling else "ok"
                if not cooling and m.cooling_until and not m.probing:
                    state = "probe-due"  # cooldown over: the next request tests it
                out.append(
                    {
                        "index": m.index,
                        "member": m.label,
                        "state": state,
                        "in_flight": m.in_flight,
                        "successes": m.successes,
                        "failures": m.failures,
                        "cooling_down_until": now_wall + (m.cooling_until - now_mono) if cooling else None,
                        "latency": m.latency,
                        "last_error": m.last_error,
                        "weight": m.weight,
                        "max_concurrency": m.max_concurrency,
                    }
                )
            return out


class Attempt:
    """One try of a request on one member: the part of routing both stream loops share.

    Text-less chunks (metadata) are held until the first text chunk, so a failure before it can
    still move the request elsewhere; the outcome is recorded in the pool.
    """

    __slots__ = ("delivered", "held", "member", "pool", "t0")

    def __init__(self, pool: Pool, member: Member) -> None:
        self.pool, self.member = pool, member
        self.t0 = time.perf_counter()
        self.delivered = False
        self.held: list[StreamItem] = []

    def feed(self, chunk: StreamItem) -> list[StreamItem]:
        """The chunks to pass on now that ``chunk`` arrived (a tool-call delta counts as delivered output)."""
        if self.delivered:
            return [chunk]
        if not getattr(chunk, "text", True):  # a ToolCallDelta has no text attribute: it is output
            self.held.append(chunk)
            return []
        self.pool.first_chunk(self.member, time.perf_counter() - self.t0)
        self.delivered = True
        out, self.held = [*self.held, chunk], []
        return out

    def failed(self, exc: BaseException) -> bool:
        """Record the failure; return whether the request may move to another member.

        After ``cancel()`` the member's read was aborted on purpose: nothing is recorded against
        the member (no failure, no cooldown) and the request goes nowhere else.
        """
        call = current_call.get()
        if call is not None and call.is_set():
            return False
        fail_over = should_fail_over(exc)
        self.pool.failed(self.member, exc, cool=fail_over)
        return fail_over and not self.delivered

    def finished(self) -> list[StreamItem]:
        """Record the success; return the chunks still held (an answer without text)."""
        if not self.delivered:
            self.pool.first_chunk(self.member, time.perf_counter() - self.t0)
        self.pool.succeeded(self.member)
        out, self.held = self.held, []
        return out


def _rendezvous(key: str, member: Member) -> float:
    """Highest-random-weight hashing: each key has a stable favourite member, weighted."""
    digest = hashlib.blake2b(f"{key}|{member.index}|{member.label}".encode(), digest_size=8).digest()
    u = (int.from_bytes(digest, "big") + 1) / (2**64 + 2)  # in (0, 1)
    return member.weight / -math.log(u)
