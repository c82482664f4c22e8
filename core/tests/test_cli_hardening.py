"""Misuse of ``lollms`` ends in one ``lollms: error:`` line and exit 1, never a traceback (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _cli_util import clean_env, lollms, one_error_line


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for the subprocess."""
    return clean_env(tmp_path)


def _shell(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    """Run ``lollms`` through sh, so redirections such as ``>&-`` close its descriptors for real."""
    return subprocess.run(
        ["sh", "-c", f'"$0" -m lollms_core.cli {command}', sys.executable],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_closed_stdout_is_one_error_line(env: dict[str, str]) -> None:
    proc = _shell(env, "generate -b echo hi >&-")
    assert proc.returncode == 1
    assert "standard output is closed" in one_error_line(proc)


def test_closed_stdin_for_dash_is_one_error_line(env: dict[str, str]) -> None:
    proc = _shell(env, "generate -b echo - <&-")
    assert proc.returncode == 1
    assert "standard input is closed" in one_error_line(proc)


def test_chat_with_closed_stdin_is_one_error_line(env: dict[str, str]) -> None:
    proc = _shell(env, "chat -b echo <&-")
    assert proc.returncode == 1
    assert "standard input is closed" in one_error_line(proc)


@pytest.mark.parametrize("option", ["-otemperature=nan", "-otop_p=inf", "-tnan", "-otemperature=-inf"])
def test_non_finite_options_are_one_error_line(env: dict[str, str], option: str) -> None:
    proc = lollms(env, "generate", "-b", "echo", option, "hi")
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "temperature" in line or "top_p" in line
    assert "finite" in line


def test_non_utf8_prompt_in_argv_is_one_error_line(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", "generate", "-b", "echo", b"caf\xe9 au lait"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "command-line text argument" in line
    assert "character 3 is U+DCE9" in line


def test_non_utf8_stdin_is_one_error_line(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", "generate", "-b", "echo", "-"],
        input=b"hello \xff\xfe world",
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lollms: error: "), proc.stderr
    # Strict UTF-8 stdin reports the byte, surrogateescape stdin (C locale) the character: both say where.
    assert (
        "standard input is not UTF-8 text: byte 0xff at offset 6" in lines[0]
        or "standard input is not valid Unicode text: character 6 is U+DCFF" in lines[0]
    )


@pytest.mark.parametrize(
    ("make", "fragment"),
    [(lambda p: p.mkdir(), "is a directory"), (lambda p: p.write_text("notes\n"), "is not a SQLite database")],
)
def test_chat_db_on_an_unusable_path_is_one_error_line(env: dict[str, str], tmp_path: Path, make, fragment) -> None:
    target = tmp_path / "talk.db"
    make(target)
    proc = lollms(env, "chat", "-b", "echo", "--db", str(target), stdin="hello\n")
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert str(target) in line and fragment in line


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the config file needs tomllib (Python 3.11+)")
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('binding = "echo"\nconfig = 3\n', "'config' must be a table ([config]), not 3 (int)"),
        ("binding = 3\n", "'binding' must be a string, not 3 (int)"),
        ('binding = "echo"\nmodel = ["a"]\n', "'model' must be a string, not ['a'] (list)"),
    ],
)
def test_config_file_with_a_wrong_shape_is_one_error_line(env: dict[str, str], text: str, fragment: str) -> None:
    conf = Path(env["XDG_CONFIG_HOME"]) / "lollms" / "config.toml"
    conf.parent.mkdir(parents=True)
    conf.write_text(text)
    proc = lollms(env, "generate", "hi")
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert str(conf) in line and fragment in line
