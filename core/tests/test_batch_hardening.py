"""Hostile input for ``lollms batch`` (issue 23): line separators inside JSON, outputs that are pipes or
the input itself, two runs on one file, and error rows left by an earlier run. Each test fails on the
code before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli_util import clean_env, lollms, one_error_line
from lollms_core import ConfigError, LollmsClient

SEPARATORS = ["\u2028", "\u2029", "\u0085"]


def write_items(path: Path, prompts: list[str]) -> Path:
    path.write_text(
        "".join(json.dumps({"id": i, "prompt": p}, ensure_ascii=False) + "\n" for i, p in enumerate(prompts)),
        encoding="utf-8",
    )
    return path


def test_json_strings_holding_unicode_line_separators_are_one_line_each(tmp_path: Path) -> None:
    # Before: str.splitlines() cut these valid JSON lines in two: "line 1 is not JSON".
    prompts = [f"before{sep}after" for sep in SEPARATORS]
    src, out = write_items(tmp_path / "in.jsonl", prompts), tmp_path / "out.jsonl"
    proc = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]
    assert sorted((r["id"], r["text"]) for r in rows) == list(enumerate(prompts))
    # Reading the output back (a rerun) sees the same three rows, none "not a batch result".
    again = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    assert again.returncode == 0 and "3 already done, 0 answered" in again.stderr, again.stderr


def test_a_crlf_input_still_reads() -> None:
    from lollms_core.batch._jsonl import read_input

    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"crlf-{os.getpid()}.jsonl"
    path.write_bytes(b'{"id": 1, "prompt": "a"}\r\n{"id": 2, "prompt": "b"}\r\n')
    try:
        assert read_input(path) == [{"id": 1, "prompt": "a"}, {"id": 2, "prompt": "b"}]
    finally:
        path.unlink()


@pytest.mark.timeout(60)
def test_an_output_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    # Before: -o /dev/stdout (or a FIFO) hung forever reading its own output.
    src = write_items(tmp_path / "in.jsonl", ["a", "b"])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (str(fifo), "/dev/null"):
        proc = lollms(clean_env(tmp_path), "batch", str(src), "-o", target, "-b", "echo", timeout=30)
        assert proc.returncode == 1
        assert "is not a regular file" in one_error_line(proc)
    with pytest.raises(ConfigError, match="not a regular file"):
        LollmsClient(llm_binding_name="echo").batch(["x"], output=str(fifo))


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
def test_the_input_as_output_is_refused_and_left_untouched(tmp_path: Path, how: str) -> None:
    # Before: exit 0, "3 already done", nothing run (the input's lines were taken for results).
    src = write_items(tmp_path / "in.jsonl", ["a", "b", "c"])
    before = src.read_bytes()
    out = src
    if how == "symlink":
        out = tmp_path / "link.jsonl"
        out.symlink_to(src)
    elif how == "hard link":
        out = tmp_path / "hard.jsonl"
        os.link(src, out)
    proc = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    assert proc.returncode == 1
    assert "is the input file" in one_error_line(proc)
    assert src.read_bytes() == before


def test_a_second_run_on_the_same_output_refuses_naming_the_first(tmp_path: Path) -> None:
    # Before: both ran, every id was written twice, and the next rerun called the file foreign.
    src, out = write_items(tmp_path / "in.jsonl", [f"item {i}" for i in range(12)]), tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "lollms_core.cli", "batch", str(src), "-o", str(out), "-b", "echo"]
    first = subprocess.Popen(
        [*argv, "-c", "delay=0.1", "--concurrency", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and out.read_bytes().count(b"\n") >= 1):
        time.sleep(0.01)
    second = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    assert f"in use by another lollms batch (PID {first.pid})" in one_error_line(second)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == list(range(12))  # each id exactly once
    assert not Path(f"{out}.lock").exists()  # the lock goes with its run
    rerun = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    assert rerun.returncode == 0 and "12 already done" in rerun.stderr


def test_a_rerun_that_leaves_error_rows_exits_1_and_says_so(tmp_path: Path) -> None:
    # Before: exit 0 and "0 failed" although every row of the file was an error.
    src, out = write_items(tmp_path / "in.jsonl", ["a", "b", "c"]), tmp_path / "out.jsonl"
    failing = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo", "-c", "fail_with=server")
    assert failing.returncode == 1
    rerun = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo")
    assert rerun.returncode == 1, rerun.stderr
    assert "3 already done (3 of them errors" in rerun.stderr
    fixed = lollms(clean_env(tmp_path), "batch", str(src), "-o", str(out), "-b", "echo", "--retry-errors")
    assert fixed.returncode == 0, fixed.stderr
    assert "3 answered, 0 failed" in fixed.stderr


def test_the_summary_counts_error_rows_of_earlier_runs(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}).batch(["x", "y"], output=str(out))
    rows = LollmsClient(llm_binding_name="echo").batch(["x", "y"], output=str(out))
    assert rows.summary.skipped_failed == 2 and rows.summary.failed_in_output == 2
    assert not rows.summary.all_answered
