"""Batch jobs over echo bindings: input checks before work, exactly-once output, resume, stop/cancel, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lollms_core import ConfigError, LollmsClient, hookimpl
from lollms_core.batch import BatchControl


def client(**config: Any) -> LollmsClient:
    return LollmsClient(llm_binding_name="echo", llm_binding_config=config or None)


def items(n: int, prefix: str = "item") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "prompt": f"answer {i}"} for i in range(n)]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_come_back_in_input_order_with_the_pinned_shape() -> None:
    work = [*items(3), {"id": 7, "messages": [{"role": "user", "content": "from messages"}]}, "a plain string"]
    rows = client().batch(work, concurrency=2)
    assert [r["id"] for r in rows] == ["item0", "item1", "item2", 7, 4]
    assert rows[0] == {"id": "item0", "text": "answer 0", "finish_reason": "stop", "usage": rows[0]["usage"]}
    assert rows[3]["text"] == "from messages" and rows[4]["text"] == "a plain string"
    assert rows.summary.completed == 5 and rows.summary.failed == 0


def test_per_item_options_win_over_batch_options() -> None:
    rows = client().batch(
        [{"id": 1, "prompt": "one two three four"}, {"id": 2, "prompt": "one two three four", "n_predict": 3}],
        n_predict=1,
    )
    assert [r["text"] for r in rows] == ["one", "one two three"]


@pytest.mark.parametrize(
    ("work", "expected"),
    [
        ([{"id": 1, "prompt": "a"}, {"id": 1, "prompt": "b"}], "id 1 appears twice (items 2 and 3)"),
        ([{"prompt": "a"}], "item 2: missing 'id'"),
        ([{"id": True, "prompt": "a"}], "'id' must be a string or an integer"),
        ([{"id": "x"}], "give exactly one of 'prompt' or 'messages'"),
        ([{"id": "x", "prompt": "a", "temprature": 1}], "id 'x': echo.generate_text(): unknown option 'temprature'"),
    ],
)
def test_bad_input_fails_before_any_work(tmp_path: Path, work: list[Any], expected: str) -> None:
    out = tmp_path / "out.jsonl"
    llm_client = client()
    with pytest.raises(ConfigError) as info:
        llm_client.batch([{"id": "ok", "prompt": "fine"}, *work], output=out)
    assert expected in str(info.value) and "nothing was run" in str(info.value)
    assert not out.exists()
    assert llm_client.llm.streams_opened == 0  # type: ignore[union-attr]


def test_rerun_skips_ids_already_written(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    llm_client = client()
    first = llm_client.batch(items(4), output=out)
    opened = llm_client.llm.streams_opened  # type: ignore[union-attr]
    second = llm_client.batch(items(6), output=out)
    assert llm_client.llm.streams_opened - opened == 2  # type: ignore[union-attr]
    assert second.summary.skipped == 4 and second.summary.completed == 2
    assert [r["id"] for r in second] == [f"item{i}" for i in range(6)] and second[:4] == list(first)
    assert sorted(r["id"] for r in lines(out)) == sorted(f"item{i}" for i in range(6))


def test_a_torn_last_line_is_cut_and_its_item_redone(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    client().batch(items(3), output=out)
    whole = out.read_bytes()
    out.write_bytes(whole + b'{"id": "item3", "te')  # a process killed in the middle of a write
    rows = client().batch(items(5), output=out)
    assert rows.summary.skipped == 3 and rows.summary.completed == 2
    ids = [r["id"] for r in lines(out)]
    assert sorted(ids) == [f"item{i}" for i in range(5)]


def test_an_output_that_is_not_a_batch_output_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "notes.jsonl"
    out.write_text("hello\n")
    with pytest.raises(ConfigError, match="line 1 is not a batch result"):
        client().batch(items(2), output=out)
    assert out.read_text() == "hello\n"
    out.write_text(json.dumps({"id": "other", "text": "x"}) + "\n" + '{"id": "item1", "te')
    with pytest.raises(ConfigError, match="ids that are not in the input \\('other'\\)"):
        client().batch(items(2), output=out, retry_errors=True)
    assert out.read_text().endswith('{"id": "item1", "te')  # untouched, torn tail included


def test_failures_become_error_rows_and_retry_errors_runs_them_again(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    rows = client(fail_with="server").batch(items(3), output=out)
    assert rows[0]["error"] == {"type": "ServerError", "message": "echo binding asked to fail with 'server'"}
    assert rows.summary.failed == 3 and rows.summary.errors_by_type == {"ServerError": 3}
    again = client().batch(items(3), output=out)
    assert again.summary.skipped == 3 and again.summary.completed == 0  # error rows count as done...
    fixed = client().batch(items(3), output=out, retry_errors=True)  # ...unless asked
    assert fixed.summary.completed == 3 and all("text" in r for r in lines(out)) and len(lines(out)) == 3


def test_a_bad_fsync_every_changes_nothing_in_the_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    client(fail_with="server").batch(items(2), output=out)
    before = out.read_bytes()
    with pytest.raises(ConfigError, match="fsync_every must be an integer >= 1, got 0"):
        client().batch(items(2), output=out, retry_errors=True, fsync_every=0)
    assert out.read_bytes() == before  # the error rows were not dropped by a call that then failed


def test_concurrency_is_bounded() -> None:
    llm_client = client(delay=0.01)
    state = {"now": 0, "max": 0}

    class Watcher:
        @hookimpl
        def lollms_on_generation_event(self, event: Any) -> None:
            if event.method != "abatch":
                return
            if event.kind == "start":
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            elif event.kind in ("end", "error"):
                state["now"] -= 1

    watcher = Watcher()
    llm_client.registry.register_observer(watcher)
    try:
        llm_client.batch(items(12), concurrency=3)
    finally:
        llm_client.registry.unregister_observer(watcher)
    assert state["max"] == 3


def test_abatch_runs_in_your_loop_and_batch_refuses_to() -> None:
    llm_client = client()

    async def main() -> Any:
        with pytest.raises(RuntimeError, match="abatch"):
            llm_client.batch(items(1))
        return await llm_client.abatch(items(2))

    assert [r["text"] for r in asyncio.run(main())] == ["answer 0", "answer 1"]


def test_stop_takes_no_new_items_and_cancel_drops_those_in_flight(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    control = BatchControl()

    def stop_after_two(row: dict[str, Any], summary: Any) -> None:
        if summary.done == 2:
            control.stop()

    rows = client(delay=0.01).batch(items(20), output=out, concurrency=2, control=control, on_result=stop_after_two)
    assert rows.summary.interrupted and 2 <= rows.summary.done <= 3  # the other in-flight item finishes
    assert len(lines(out)) == rows.summary.done

    control = BatchControl()

    async def cancel_soon() -> Any:
        task = asyncio.ensure_future(
            client(delay=0.2).abatch(items(4, "c"), output=out2, concurrency=2, control=control)
        )
        await asyncio.sleep(0.3)
        control.cancel()
        return await task

    out2 = tmp_path / "out2.jsonl"
    cancelled = asyncio.run(cancel_soon())
    assert cancelled.summary.interrupted and cancelled.summary.done == 0 and out2.read_text() == ""


# -- command line -------------------------------------------------------------------------


def cli(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", *args], check=False, capture_output=True, text=True, timeout=120, **kw
    )


def write_input(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items(n)))
    return path


def test_cli_batch_writes_progress_lines_and_a_summary(tmp_path: Path) -> None:
    src, out = write_input(tmp_path / "in.jsonl", 8), tmp_path / "out.jsonl"
    proc = cli("batch", str(src), "-o", str(out), "-b", "echo", "--concurrency", "2", "--progress-every", "0")
    assert proc.returncode == 0, proc.stderr
    assert "batch: 8/8 done (0 failed)" in proc.stderr
    assert "batch finished: 8 items, 0 already done, 8 answered, 0 failed (none)" in proc.stderr
    assert "tokens/s" in proc.stderr and len(lines(out)) == 8
    failing = cli("batch", str(src), "-o", str(tmp_path / "f.jsonl"), "-b", "echo", "-c", "fail_with=auth")
    assert failing.returncode == 1 and "8 failed (AuthenticationError x8)" in failing.stderr
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": 1, "prompt": "a"}\n{"id": 1, "prompt": "b"}\n')
    bad = cli("batch", str(dup), "-o", str(tmp_path / "d.jsonl"), "-b", "echo")
    assert bad.returncode == 1 and "id 1 appears twice" in bad.stderr and not (tmp_path / "d.jsonl").exists()


def test_cli_batch_kill_9_then_rerun_has_each_id_exactly_once(tmp_path: Path) -> None:
    src, out = write_input(tmp_path / "in.jsonl", 40), tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "lollms_core.cli", "batch", str(src), "-o", str(out), "-b", "echo"]
    argv += ["-c", "delay=0.01", "--concurrency", "4", "--fsync-every", "3"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = random.randint(1, 30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and out.read_bytes().count(b"\n") >= target):
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = out.read_bytes().count(b"\n")
    rerun = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{written} already done, {40 - written} answered" in rerun.stderr
    ids = [r["id"] for r in lines(out)]
    assert sorted(ids) == sorted(f"item{i}" for i in range(40))


def test_cli_batch_ctrl_c_finishes_in_flight_then_a_second_cancels(tmp_path: Path) -> None:
    src, out = write_input(tmp_path / "in.jsonl", 40), tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "lollms_core.cli", "batch", str(src), "-o", str(out), "-b", "echo"]
    argv += ["-c", "delay=0.1", "--concurrency", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not (out.exists() and out.read_bytes().count(b"\n") >= 2):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "finishing the items in flight" in err and "interrupted (rerun to resume)" in err
    done = len(lines(out))
    assert 2 <= done < 40 and out.read_bytes().endswith(b"\n")

    out2 = tmp_path / "out2.jsonl"
    slow = [*argv[:6], str(out2), "-b", "echo", "-c", "delay=2", "--concurrency", "2"]
    proc = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not out2.exists() and time.monotonic() < deadline:  # opened once the Ctrl-C handler is in place
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "cancelling the items in flight" in err, err
    assert out2.read_text() == ""  # the in-flight items (4 s each) were dropped, not finished and written
    rerun = cli(*argv[3:])
    assert rerun.returncode == 0 and sorted(r["id"] for r in lines(out)) == sorted(f"item{i}" for i in range(40))


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_cli_batch_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    src, out = write_input(tmp_path / "in.jsonl", 6), tmp_path / "out.jsonl"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    argv = [sys.executable, "-m", "lollms_core.cli", "batch", str(src), "-o", str(out), "-b", "echo"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        seen += data
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = seen.decode(errors="replace")
    assert "6/6" in text and "item/s" in text and "failed=0" in text  # tqdm's bar, not the plain lines
    assert "batch: 6/6 done" not in text
