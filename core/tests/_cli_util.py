"""Running ``lollms`` as a subprocess for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The test process's environment minus user defaults (no config file, no default model)."""
    out = {k: v for k, v in os.environ.items() if k not in ("LOLLMS_DEFAULT_MODEL", "LOLLMS_ECHO_KEY")}
    out["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return out


def lollms(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", *args],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lollms: error: ")
    return lines[0]
