"""Shared setup for the core's tests: an isolated manifest cache and echo bindings."""

from __future__ import annotations

import os
import tempfile

# Discovery writes a manifest cache; keep the tests' cache out of the user's ~/.cache.
# Set before lollms_core is imported (importing it builds the registry).
os.environ.setdefault("LOLLMS_CACHE_DIR", tempfile.mkdtemp(prefix="lollms-test-cache-"))
# The core's tests must not depend on which plugins happen to be installed: the default
# registry holds only the built-in echo bindings; a test that needs a plugin names it.
os.environ["LOLLMS_LOAD_PLUGINS"] = ""

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lollms_core import LollmsLLMBindingManager


def registry_of(*distributions: str) -> Any:
    """A private registry with the echo bindings plus only these installed distributions.

    For the few core tests that exercise a real plugin: they name it instead of depending
    on whatever happens to be installed.
    """
    from lollms_core.discovery import build_registry

    saved = os.environ.get("LOLLMS_LOAD_PLUGINS")
    os.environ["LOLLMS_LOAD_PLUGINS"] = ",".join(distributions)
    try:
        return build_registry()
    finally:
        os.environ["LOLLMS_LOAD_PLUGINS"] = saved if saved is not None else ""


@pytest.fixture
def echo_llm() -> Any:
    """A fresh echo LLM binding from the default registry."""
    return LollmsLLMBindingManager().create_binding("echo")


class PluginSite:
    """A folder on ``sys.path`` where tests create real plugin distributions (dist-info + package).

    ``importlib.metadata`` finds them exactly as it finds pip-installed plugins, so discovery
    runs its real path with no change to the core.
    """

    def __init__(self, root: Path, tag: str, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.root, self.tag = root, tag
        self.distributions: list[str] = []
        self._monkeypatch = monkeypatch

    def add(self, kind: str, files: dict[str, str], entry_point: str | None = None) -> tuple[str, str]:
        """Create distribution ``lt-<kind>-<tag>`` with package ``lt_<kind>_<tag>``; return (dist, package).

        ``files`` maps paths inside the package to their text; ``{pkg}`` is replaced by the package name.
        """
        package = f"lt_{kind}_{self.tag}"
        dist = f"lt-{kind}-{self.tag}"
        info = self.root / f"{package}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[lollms.bindings]\n{entry_point or kind} = {package}\n")
        for rel, text in files.items():
            path = self.root / package / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).replace("{pkg}", package).replace("{tag}", self.tag))
        self.distributions.append(dist)
        if self._monkeypatch is not None:  # the suite loads no installed plugin; load the ones made here
            self._monkeypatch.setenv("LOLLMS_LOAD_PLUGINS", ",".join(self.distributions))
        return dist, package


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    """An empty plugin folder on sys.path; its modules are forgotten afterwards."""
    tag = uuid.uuid4().hex[:8]
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LOLLMS_CACHE_DIR", str(tmp_path / "cache"))
    yield PluginSite(site, tag, monkeypatch)
    for name in [m for m in sys.modules if m.startswith("lt_") and m.split(".")[0].endswith(tag)]:
        del sys.modules[name]
    importlib.invalidate_caches()
