"""``lollms batch`` and ``lollms router status``: the command-line faces of batch jobs and the router.

``tqdm`` (the progress bar) is imported here, inside the command, only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..types import Modality

__all__ = ["add_commands", "cmd_batch", "cmd_router_status"]


def add_commands(sub: Any, binding_args: Callable[..., None]) -> None:
    """Add ``batch`` and ``router status`` to the ``lollms`` parser."""
    p = sub.add_parser("batch", help="run a JSONL file of prompts; rerunning resumes where it stopped")
    binding_args(p)
    p.add_argument("input", metavar="IN.jsonl", help='lines {"id": ..., "prompt": ...} or {"id", "messages": [...]}')
    p.add_argument("-o", "--output", required=True, metavar="OUT.jsonl", help="results, appended as they come")
    p.add_argument("--concurrency", type=int, default=4, metavar="N", help="items in flight at once (default 4)")
    p.add_argument("-n", "--n-predict", type=int, help="maximum tokens per answer (an item's own value wins)")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument("--retry-errors", action="store_true", help="run again the items whose row is an error")
    p.add_argument("--fsync-every", type=int, default=16, metavar="N", help="force results to disk every N lines")
    p.add_argument(
        "--progress-every", type=float, default=10.0, metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal",
    )  # fmt: skip
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("router", help="the router binding's pool (see `router status`)")
    rsub = p.add_subparsers(dest="router_command", metavar="status")
    status = rsub.add_parser("status", help="check every member of a pool and show its state")
    status.add_argument(
        "-c", "--config", action="append", default=[], metavar="KEY=VALUE",
        help="router setting, e.g. -c members=@pool.yaml (repeatable)",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_router_status)


class _Progress:
    """A tqdm bar on a terminal; otherwise a plain line every ``every`` seconds."""

    def __init__(self, every: float) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self.bar: Any = None
        self.last = time.monotonic()

    def update(self, row: dict[str, Any], summary: Any) -> None:
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs shipped

                self.bar = tqdm(total=summary.total, initial=summary.skipped, unit="item", file=sys.stderr)
            self.bar.update(1)
            self.bar.set_postfix(failed=summary.failed_in_output, refresh=False)
            return
        now = time.monotonic()
        if now - self.last >= self.every or summary.remaining == 0:
            self.last = now
            rate = summary.done / summary.elapsed if summary.elapsed > 0 else 0.0
            eta = f", ETA {summary.remaining / rate:.0f} s" if rate > 0 and summary.remaining else ""
            print(
                f"batch: {summary.skipped + summary.done}/{summary.total} done ({summary.failed_in_output} failed), "
                f"{rate:.2f} items/s{eta}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_batch(args: argparse.Namespace) -> int:
    """``lollms batch IN -o OUT -b NAME``: exit 0 when every item has an answer, 1 if some failed, 130 if stopped.

    Ctrl-C once: no new items, the ones in flight finish and are written. Twice: those are cancelled.
    Either way the output is whole lines only; the same command resumes.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from ..batch._jobs import BatchControl, abatch
    from ..batch._jsonl import check_output_path, read_input
    from ._commands import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, make_binding

    if args.concurrency < 1:
        print("lollms: error: --concurrency must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    check_output_path(args.output, args.input)  # a pipe or the input itself: refused before anything runs
    items = read_input(args.input)
    llm = make_binding(Modality.LLM, args.binding, args.config, args.model)
    options = {k: v for k, v in (("n_predict", args.n_predict), ("temperature", args.temperature)) if v is not None}
    control, progress = BatchControl(), _Progress(args.progress_every)

    def on_sigint() -> None:
        if control.stopping:
            print("\nlollms: cancelling the items in flight", file=sys.stderr, flush=True)
            control.cancel()
        else:
            print("\nlollms: finishing the items in flight (Ctrl-C again to cancel them)", file=sys.stderr, flush=True)
            control.stop()

    async def run() -> Any:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=args.concurrency + 1))
        # Not the main thread, or Windows: Ctrl-C stays a plain KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            return await abatch(
                llm,
                items,
                output=args.output,
                concurrency=args.concurrency,
                control=control,
                on_result=progress.update,
                collect=False,
                fsync_every=args.fsync_every,
                retry_errors=args.retry_errors,
                **options,
            )
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    try:
        results = asyncio.run(run())
    finally:
        progress.close()
        llm.close()
    summary = results.summary
    print(str(summary), file=sys.stderr, flush=True)
    if summary.interrupted:
        return EXIT_INTERRUPTED
    # The file's state, not only this run's work: an error row left by an earlier run is still a failure.
    return 0 if summary.all_answered else EXIT_ERROR


def cmd_router_status(args: argparse.Namespace) -> int:
    """``lollms router status -c members=@pool.yaml``: ask every member, print the table; exit 1 if one is down."""
    from ._commands import make_binding

    if getattr(args, "router_command", None) != "status":
        print("usage: lollms router status -c members=@pool.yaml [--json]", file=sys.stderr)
        return 2
    router = make_binding(Modality.LLM, "router", args.config)
    try:
        rows = router.check()
    finally:
        router.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            latency = f"{r['latency'] * 1000:.0f} ms" if r["latency"] is not None else "-"
            until = r["cooling_down_until"]
            cooling = f" until {_local_time(until)}" if until else ""
            error = f"  last error: {r['last_error']}" if r["last_error"] else ""
            print(
                f"#{r['index']} {r['member']}  {r['state']}{cooling}  in-flight {r['in_flight']}  "
                f"ok {r['successes']}  failed {r['failures']}  latency {latency}{error}"
            )
    return 0 if all(r["state"] == "ok" for r in rows) else 1


def _local_time(epoch: float) -> str:
    """``HH:MM:SS`` today, a full date beyond; never a traceback for a date past year 9999."""
    try:
        when = datetime.fromtimestamp(epoch)
    except (OverflowError, ValueError, OSError):
        return "a date too far to show"
    return when.strftime("%H:%M:%S" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M:%S")
