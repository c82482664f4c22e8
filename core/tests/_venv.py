"""A fresh virtualenv that sees the test venv's packages, for installing built distributions offline.

``python -m venv --system-site-packages`` would see the *base* interpreter's packages, not
the test venv's; a ``.pth`` line calling ``site.addsitedir`` on the test venv's
site-packages makes them (and their editable installs) importable instead. Distributions
are then built and installed with ``pip --no-deps --no-build-isolation --no-index``:
no network, real wheels, real entry points.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path


class LayeredVenv:
    """A venv under ``root`` layered on the running interpreter's environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        self.python = root / "bin" / "python"
        purelib = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        parent = sysconfig.get_paths()["purelib"]
        Path(purelib, "_lollms_test_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")

    def env(self, cache: Path) -> dict[str, str]:
        """An environment for subprocesses of this venv (own manifest cache, no PYTHONPATH leaks)."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOLLMS_LOAD_PLUGINS")}
        env["LOLLMS_CACHE_DIR"] = str(cache)
        return env

    def install(self, *folders: Path) -> subprocess.CompletedProcess[str]:
        """Build and install distribution folders (the parent's pip, targeting this venv)."""
        cmd = [str(self.python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        return subprocess.run([*cmd, *map(str, folders)], capture_output=True, text=True, timeout=600, check=False)

    def run(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run this venv's python with ``args``."""
        return subprocess.run(
            [str(self.python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
