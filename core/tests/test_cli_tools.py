"""``lollms generate/chat --tool``: Python functions offered to the model from the command line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from _cli_util import clean_env, lollms, one_error_line

TOOLS = '''
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def ping() -> str:
    """Answer pong."""
    return "pong"
'''


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "cli_tool_funcs.py").write_text(textwrap.dedent(TOOLS))
    out = clean_env(tmp_path)
    out["PYTHONPATH"] = str(tmp_path) + (":" + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
    return out


def test_generate_runs_a_tool_and_shows_the_call(env: dict[str, str]) -> None:
    proc = lollms(env, "generate", "-b", "echo", "--tool", "cli_tool_funcs:add", '/call add {"a": 2, "b": 3}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "5"
    assert '[tool call] add({"a": 2, "b": 3})' in proc.stderr
    assert "[tool result] add: 5" in proc.stderr


def test_several_tools_and_the_chain_limit(env: dict[str, str]) -> None:
    proc = lollms(
        env, "generate", "-b", "echo", "--tool", "cli_tool_funcs:add", "--tool", "cli_tool_funcs:ping",
        "--chain-limit", "2", "/loop ping {}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("[tool call] ping") == 2
    assert proc.stdout.startswith("Maximum tool rounds reached")


def test_tools_approve_asks_and_a_refusal_goes_to_the_model(env: dict[str, str]) -> None:
    proc = lollms(
        env, "generate", "-b", "echo", "--tool", "cli_tool_funcs:add", "--tools-approve",
        '/call add {"a": 2, "b": 3}', stdin="n\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert 'run add({"a": 2, "b": 3})? [y/N]' in proc.stderr
    assert "refused" in proc.stdout
    approved = lollms(
        env, "generate", "-b", "echo", "--tool", "cli_tool_funcs:add", "--tools-approve",
        '/call add {"a": 2, "b": 3}', stdin="y\n",
    )  # fmt: skip
    assert approved.stdout.strip() == "5"


def test_a_bad_tool_spec_is_one_error_line(env: dict[str, str]) -> None:
    proc = lollms(env, "generate", "-b", "echo", "--tool", "cli_tool_funcs:nope", "hi")
    assert proc.returncode == 1
    assert "module 'cli_tool_funcs' has no 'nope'; it has: add, ping" in one_error_line(proc)


def test_tools_on_a_binding_without_tool_calling_name_the_fix(env: dict[str, str]) -> None:
    proc = lollms(env, "generate", "-b", "echo", "-c", "tool_calling=none", "--tool", "cli_tool_funcs:add", "hi")
    assert proc.returncode == 1
    assert "--tool-mode prompt" in one_error_line(proc) or "tool_mode='prompt'" in one_error_line(proc)
    prompt = lollms(
        env, "generate", "-b", "echo", "-c", "tool_calling=none", "--tool-mode", "prompt",
        "--tool", "cli_tool_funcs:add", '/call add {"a": 1, "b": 1}',
    )  # fmt: skip
    assert prompt.returncode == 0, prompt.stderr
    assert "[tool result] add: 2" in prompt.stderr


def test_chat_with_a_tool_keeps_the_calls_in_the_discussion(env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite"
    proc = lollms(
        env, "chat", "-b", "echo", "--db", str(db), "--tool", "cli_tool_funcs:add",
        stdin='/call add {"a": 4, "b": 5}\n/exit\n',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "9"
    assert "[tool result] add: 9" in proc.stderr
    import sqlite3

    con = sqlite3.connect(db)
    roles = [r[0] for r in con.execute("SELECT role FROM messages ORDER BY seq")]
    con.close()
    assert roles == ["user", "assistant", "tool", "assistant"]


def _in_new_session(env: dict[str, str], *args: str, stdin: str, tty: int | None = None) -> Any:
    """The CLI in a session of its own: no controlling terminal, or the pty ``tty`` as its terminal."""
    import os
    import subprocess
    import sys

    def become_leader() -> None:
        os.setsid()
        if tty is not None:
            os.close(os.open(os.ttyname(tty), os.O_RDWR))  # a session leader's first tty becomes its terminal

    return subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False,
        preexec_fn=become_leader,  # the child in its own session, with or without a terminal
    )  # fmt: skip


def test_tools_approve_with_the_prompt_on_stdin_asks_on_the_terminal(env: dict[str, str]) -> None:
    """Regression (issue 21): the prompt read from stdin left the approval reading an empty stdin,
    so every call was refused without the user ever being asked."""
    import os
    import pty

    args = ("generate", "-b", "echo", "--tool", "cli_tool_funcs:add", "--tools-approve", "-")
    no_terminal = _in_new_session(env, *args, stdin='/call add {"a": 2, "b": 3}')
    assert no_terminal.returncode == 2, no_terminal.stderr
    line = one_error_line(no_terminal)
    assert "--tools-approve" in line and "no terminal to ask on" in line and "pass the prompt as an argument" in line

    master, slave = pty.openpty()
    try:
        os.write(master, b"y\n")  # the user's answer, typed on the terminal
        asked = _in_new_session(env, *args, stdin='/call add {"a": 2, "b": 3}', tty=slave)
    finally:
        os.close(master)
        os.close(slave)
    assert asked.returncode == 0, asked.stderr
    assert 'run add({"a": 2, "b": 3})? [y/N]' in asked.stderr
    assert asked.stdout.strip() == "5", "approved on the terminal: the tool ran"
