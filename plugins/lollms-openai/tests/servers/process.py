"""Start a server in a child process on a free 127.0.0.1 port, wait for its health route, stop it by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SERVERS_DIR = Path(__file__).resolve().parent


def free_port() -> int:
    """Ask the kernel for a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server running in its own process group, with its output kept in a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        health_path: str,
        log_dir: Path,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self._argv = argv
        self._health_url = self.base_url + health_path
        self._env = {**os.environ, **(env or {})}
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        """Launch the process and block until its health route answers 200."""
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self._argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env,
            start_new_session=True,  # its own process group, so stop() reaches its children too
        )
        log.close()
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self._health_url, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not healthy after {self._startup_timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after 10 s)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"


def python_argv(*args: str) -> list[str]:
    """Argv running this interpreter (so servers use the same venv as the tests)."""
    return [sys.executable, *args]


def uvicorn_argv(module_attr: str, port: int) -> list[str]:
    """Argv serving an ASGI app from this directory with uvicorn."""
    return python_argv(
        "-m",
        "uvicorn",
        module_attr,
        "--app-dir",
        str(SERVERS_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    )
