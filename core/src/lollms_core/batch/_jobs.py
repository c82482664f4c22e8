"""Batch jobs: many prompts through one LLM binding with bounded concurrency, resumable from a JSONL file.

``run_batch`` is the one implementation (async); :meth:`LollmsClient.batch` runs it in its own
event loop, :meth:`LollmsClient.abatch` in yours, ``lollms batch`` from the command line.
Output lines are ``{"id", "text", "finish_reason", "usage"}`` or ``{"id", "error": {"type", "message"}}``;
see :mod:`lollms_core.batch._jsonl` for how the file stays exactly-once across crashes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, GenerationCancelled, LollmsError
from ._jsonl import (
    OutputLock,
    ResultWriter,
    check_output_path,
    cut_torn_tail,
    drop_error_rows,
    id_key,
    parse_items,
    read_output,
)

if TYPE_CHECKING:
    from ..bindings.llm import LollmsLLMBinding
    from ..types import ChatRequest

__all__ = ["BatchControl", "BatchResults", "BatchSummary", "abatch", "batch"]

_ITEM_KEYS = ("id", "prompt", "messages")


@dataclass
class BatchSummary:
    """Counters of one batch run (updated as results arrive; final when the run returns)."""

    total: int = 0
    skipped: int = 0  # already in the output file before this run
    skipped_failed: int = 0  # of those, error rows (``retry_errors`` runs them again)
    completed: int = 0  # answered in this run
    failed: int = 0  # error rows written in this run
    errors_by_type: Counter[str] = field(default_factory=Counter)
    completion_tokens: int = 0
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def done(self) -> int:
        """Items with a result in this run (answers and errors)."""
        return self.completed + self.failed

    @property
    def remaining(self) -> int:
        """Items without a result yet."""
        return self.total - self.skipped - self.done

    @property
    def failed_in_output(self) -> int:
        """Error rows in the output after this run: this run's failures and earlier ones not retried."""
        return self.failed + self.skipped_failed

    @property
    def all_answered(self) -> bool:
        """Every item has an answer (no error row, nothing left): what exit status 0 means."""
        return self.remaining == 0 and self.failed_in_output == 0

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of this run (from the bindings' ``usage``)."""
        return self.completion_tokens / self.elapsed if self.elapsed > 0 else 0.0

    def __str__(self) -> str:
        failures = ", ".join(f"{name} x{n}" for name, n in self.errors_by_type.most_common()) or "none"
        state = "interrupted (rerun to resume)" if self.interrupted else "finished"
        earlier = (
            f" ({self.skipped_failed} of them errors: retry_errors / --retry-errors runs them again)"
            if self.skipped_failed
            else ""
        )
        return (
            f"batch {state}: {self.total} items, {self.skipped} already done{earlier}, {self.completed} answered, "
            f"{self.failed} failed ({failures}), {self.remaining} left; {self.elapsed:.1f} s, "
            f"{self.completion_tokens} tokens ({self.tokens_per_second:.1f} tokens/s)"
        )


class BatchResults(list[dict[str, Any]]):
    """The result rows in input order (items not run, when interrupted, are absent), plus ``summary``."""

    summary: BatchSummary


class BatchControl:
    """Stop a running batch: :meth:`stop` takes no new items, :meth:`cancel` also cancels those in flight.

    Both are safe from a signal handler or another thread. What was written stays; rerun to resume.
    """

    def __init__(self) -> None:
        self.stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def stop(self) -> None:
        """Take no new items; let the ones in flight finish."""
        self.stopping = True

    def cancel(self) -> None:
        """Stop, and cancel the items in flight (they are not written, so a rerun redoes them)."""
        self.stopping = True
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._cancel_tasks()
        else:
            loop.call_soon_threadsafe(self._cancel_tasks)

    def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()


def _prepare(
    llm: LollmsLLMBinding, items: Iterable[Any], options: dict[str, Any], where: str
) -> list[tuple[Any, ChatRequest]]:
    """Every item as a validated request, before any work (bad options fail the whole batch up front)."""
    prepared: list[tuple[Any, ChatRequest]] = []
    problems: list[str] = []
    for item_id, item in parse_items(items, where):
        prompt = item["prompt"] if "prompt" in item else item["messages"]
        per_item = {**options, **{k: v for k, v in item.items() if k not in _ITEM_KEYS}}
        try:
            prepared.append((item_id, llm.build_request(prompt, **per_item)))
        except (LollmsError, TypeError, ValueError) as exc:
            problems.append(f"id {item_id!r}: {exc}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ConfigError(f"{where}: {'; '.join(problems[:5])}{more}; nothing was run")
    return prepared


async def abatch(
    llm: LollmsLLMBinding,
    items: Iterable[Any],
    *,
    output: str | Path | None = None,
    concurrency: int = 4,
    control: BatchControl | None = None,
    on_result: Callable[[dict[str, Any], BatchSummary], None] | None = None,
    collect: bool = True,
    fsync_every: int = 16,
    retry_errors: bool = False,
    **options: Any,
) -> BatchResults:
    """Run every item through ``llm`` with at most ``concurrency`` in flight.

    :param items: dicts ``{"id", "prompt"|"messages", ...per-item options}`` (or plain prompt strings).
    :param output: a JSONL file: ids already in it are skipped, each new result is appended as it comes.
    :param control: a :class:`BatchControl` to stop or cancel the run from outside.
    :param on_result: called with each new row and the running summary (progress displays).
    :param collect: keep the rows in memory and return them (``False`` for huge runs with ``output``).
    :param retry_errors: first drop the error rows from ``output``, so those items run again.
    :param options: options for every item (``n_predict``, ``temperature``...); an item's own win.
    :raises ConfigError: duplicate or missing ids, bad items or options, an output file that is
        not a batch output, is not a regular file, is used by another run (an exclusive lock is held on
        ``OUT.lock`` for the whole run), or holds ids not in the input: all before any work starts.
    """
    for name, value in (("concurrency", concurrency), ("fsync_every", fsync_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:  # before any file changes
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    where = f"batch input{f' for {output}' if output else ''}"
    prepared = _prepare(llm, items, options, where)
    lock = OutputLock(output) if output is not None else None
    if output is not None and lock is not None:
        check_output_path(output)
        lock.acquire()  # held for the whole run: two runs on one file would write every id twice
    try:
        return await _run(llm, prepared, output, concurrency, control, on_result, collect, fsync_every, retry_errors)
    finally:
        if lock is not None:
            lock.release()


async def _run(
    llm: LollmsLLMBinding,
    prepared: list[tuple[Any, ChatRequest]],
    output: str | Path | None,
    concurrency: int,
    control: BatchControl | None,
    on_result: Callable[[dict[str, Any], BatchSummary], None] | None,
    collect: bool,
    fsync_every: int,
    retry_errors: bool,
) -> BatchResults:
    """The run itself, with the output (if any) checked and locked."""
    done = read_output(output) if output is not None else {}
    known = {id_key(item_id) for item_id, _ in prepared}
    strangers = [row["id"] for key, row in done.items() if key not in known]
    if strangers:
        raise ConfigError(
            f"{output} holds results for ids that are not in the input ({', '.join(map(repr, strangers[:5]))}"
            f"{', ...' if len(strangers) > 5 else ''}); is it the output of another batch? Choose another -o file"
        )
    if output is not None:  # the file is ours and fits this input: now it may be changed
        if retry_errors and any("error" in row for row in done.values()):
            drop_error_rows(output)
            done = read_output(output)
        cut_torn_tail(output)
    summary = BatchSummary(
        total=len(prepared), skipped=len(done), skipped_failed=sum("error" in row for row in done.values())
    )
    rows: dict[str, dict[str, Any]] = dict(done) if collect else {}
    todo = iter([(item_id, request) for item_id, request in prepared if id_key(item_id) not in done])
    control = control or BatchControl()
    control._loop = asyncio.get_running_loop()
    writer = ResultWriter(output, fsync_every) if output is not None else None

    def record(row: dict[str, Any]) -> None:
        if writer is not None:
            writer.write(row)
        if collect:
            rows[id_key(row["id"])] = row
        summary.elapsed = time.perf_counter() - summary.started
        if on_result is not None:
            on_result(row, summary)

    async def worker() -> None:
        while not control.stopping:
            nxt = next(todo, None)
            if nxt is None:
                return
            record(await _run_one(llm, nxt[0], nxt[1], summary))

    try:
        control._tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, summary.remaining))]
        outcomes = await asyncio.gather(*control._tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome
    finally:
        if writer is not None:
            writer.close()
        summary.elapsed = time.perf_counter() - summary.started
    summary.interrupted = summary.remaining > 0
    results = BatchResults(rows[id_key(item_id)] for item_id, _ in prepared if id_key(item_id) in rows)
    results.summary = summary
    return results


async def _run_one(llm: LollmsLLMBinding, item_id: Any, request: ChatRequest, summary: BatchSummary) -> dict[str, Any]:
    """One item's row. Any failure but a cancellation becomes an error row (one bad item never stops the run)."""
    try:
        result = await llm.arun(request, method="abatch")
    except (GenerationCancelled, asyncio.CancelledError):
        raise asyncio.CancelledError from None
    except Exception as exc:
        summary.failed += 1
        summary.errors_by_type[type(exc).__name__] += 1
        return {"id": item_id, "error": {"type": type(exc).__name__, "message": " ".join(str(exc).split())}}
    summary.completed += 1
    tokens = result.usage.get("completion_tokens")
    if isinstance(tokens, int):
        summary.completion_tokens += tokens
    return {"id": item_id, "text": result.text, "finish_reason": result.finish_reason, "usage": result.usage}


def batch(llm: LollmsLLMBinding, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
    """Blocking :func:`abatch`, in an event loop of its own.

    The loop gets ``concurrency`` worker threads, for bindings whose streams are blocking.

    :raises RuntimeError: called from a running event loop (use ``await abatch(...)`` there).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("batch() cannot run inside an event loop; use `await client.abatch(...)` there")

    async def main() -> BatchResults:
        from concurrent.futures import ThreadPoolExecutor

        # Blocking bindings stream through the default executor: give every item in flight a thread.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=concurrency + 1, thread_name_prefix="lollms-batch")
        )
        return await abatch(llm, items, concurrency=concurrency, **kwargs)

    return asyncio.run(main())
