"""Entry-point discovery with real throwaway plugin distributions (dist-info + package on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PluginSite
from lollms_core import LollmsLLMBindingManager, Registry
from lollms_core.discovery import build_registry
from lollms_core.errors import BindingLoadError

HOOK = """
from lollms_core import hookimpl

@hookimpl
def lollms_register_bindings():
    return ["{pkg}.llm"]
"""

SHOUT_BINDING = """
from lollms_core.bindings import LollmsLLMBinding
from lollms_core.types import Chunk

BindingName = "ShoutBinding"


class ShoutBinding(LollmsLLMBinding):
    def _stream(self, request):
        times = self.config["volume"]
        for word in request.messages[-1]["content"].split():
            yield Chunk(word.upper() + "!" * times + " ")
"""

MANIFEST = """
name: {name}
title: Shout
description: Shouts the prompt back.
modality: llm
core_api: {core_api}
input_parameters:
  - {{name: volume, type: int, default: 1, min: 0, max: 5, description: exclamation marks per word}}
"""


def good_files(name: str, core_api: int = 1) -> dict[str, str]:
    return {
        "__init__.py": HOOK,
        "llm/__init__.py": SHOUT_BINDING,
        "llm/description.yaml": MANIFEST.format(name=name, core_api=core_api),
    }


def populate(site: PluginSite) -> dict[str, str]:
    """One good plugin and five broken ones; returns kind -> distribution name."""
    dists = {}
    dists["good"], _ = site.add("good", good_files(f"shout{site.tag}"))
    dists["import"], _ = site.add("import", {"__init__.py": "raise RuntimeError('boom at import')\n"})
    bad_manifest = good_files(f"bad{site.tag}")
    bad_manifest["llm/description.yaml"] = bad_manifest["llm/description.yaml"].replace("type: int", "type: complex")
    dists["manifest"], _ = site.add("manifest", bad_manifest)
    hook_raises = "from lollms_core import hookimpl\n\n@hookimpl\ndef lollms_register_bindings():\n"
    dists["hook"], _ = site.add("hook", {"__init__.py": hook_raises + "    raise ValueError('hook exploded')\n"})
    dists["duplicate"], _ = site.add("duplicate", good_files("echo"))
    dists["api"], _ = site.add("api", good_files(f"future{site.tag}", core_api=2))
    return dists


def entries_of(registry: Registry, dist: str) -> list:  # type: ignore[type-arg]
    return [e for e in registry.entries if e.distribution == dist]


@pytest.fixture
def only_test_plugins(plugin_site: PluginSite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    dists = populate(plugin_site)
    monkeypatch.setenv("LOLLMS_LOAD_PLUGINS", ",".join(dists.values()))
    return dists


@pytest.mark.parametrize("cache", ["on", "off"])
def test_broken_plugins_are_error_entries_and_the_good_one_works(
    only_test_plugins: dict[str, str], plugin_site: PluginSite, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    monkeypatch.setenv("LOLLMS_MANIFEST_CACHE", "1" if cache == "on" else "0")
    dists = only_test_plugins
    # Built twice: with the cache on, the second build is served from the cache and must agree.
    for _ in range(2):
        registry = build_registry()
        expected_reason = {
            "import": "boom at import",
            "manifest": "llm/description.yaml: parameter 'volume' type: Input should be 'str', 'int'",
            "hook": "lollms_register_bindings raised ValueError: hook exploded",
            "api": "built for lollms core API 2",
        }
        for kind, fragment in expected_reason.items():
            entries = entries_of(registry, dists[kind])
            assert len(entries) == 1, (kind, entries)
            assert entries[0].status == "error", (kind, entries[0])
            assert fragment in (entries[0].error or ""), (kind, entries[0].error)
            assert "\n" not in entries[0].error, "the reason must be one line"
            assert entries[0].as_dict()["status"] == "error"
        good = entries_of(registry, dists["good"])
        assert [(e.name, e.status) for e in good] == [(f"shout{plugin_site.tag}", "ok")]
        assert registry.get("llm", "echo").distribution == "lollms-core", "the duplicate must not replace echo"
        # A second distribution offering 'echo' is listed, usable by DIST:NAME, and both rows say so (issue 10.4).
        [dup] = entries_of(registry, dists["duplicate"])
        assert dup.status == "ok"
        assert "ambiguous" in (dup.warning or "") and "lollms-core:echo" in (dup.warning or "")
        assert registry.get("llm", f"{dists['duplicate']}:echo") is dup
        assert f"{dists['duplicate']}:echo" in (registry.get("llm", "lollms-core:echo").warning or "")
        manager = LollmsLLMBindingManager(registry=registry)
        assert f"shout{plugin_site.tag}" in manager.get_available_bindings()
        assert f"future{plugin_site.tag}" not in manager.get_available_bindings()
        shout = manager.create_binding(f"shout{plugin_site.tag}", volume="2")
        assert shout.generate_text("hello there") == "HELLO!! THERE!! "
        with pytest.raises(BindingLoadError, match="core API 2"):
            manager.create_binding(f"future{plugin_site.tag}")


def test_binding_class_is_imported_only_on_create(only_test_plugins: dict[str, str], plugin_site: PluginSite) -> None:
    package = f"lt_good_{plugin_site.tag}"
    registry = build_registry()
    assert package in sys.modules, "the entry-point module is imported at discovery"
    assert f"{package}.llm" not in sys.modules, "the binding package must not be imported at discovery"
    spec = registry.get("llm", f"shout{plugin_site.tag}")
    assert spec.class_path == f"{package}.llm:<BindingName>"
    LollmsLLMBindingManager(registry=registry).create_binding(f"shout{plugin_site.tag}")
    assert f"{package}.llm" in sys.modules


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"good", "import", "manifest", "hook", "duplicate", "api"}),
        ("", set()),
        ("{good}", {"good"}),
        ("{good}, {hook}", {"good", "hook"}),
        ("{GOOD_UNDERSCORED}", {"good"}),
    ],
)
def test_lollms_load_plugins(
    plugin_site: PluginSite, monkeypatch: pytest.MonkeyPatch, value: str | None, expected: set[str]
) -> None:
    dists = populate(plugin_site)
    if value is None:
        monkeypatch.delenv("LOLLMS_LOAD_PLUGINS", raising=False)
    else:
        names = {**dists, "GOOD_UNDERSCORED": dists["good"].upper().replace("-", "_")}
        monkeypatch.setenv("LOLLMS_LOAD_PLUGINS", value.format(**names))
    registry = build_registry()
    seen = {kind for kind, dist in dists.items() if entries_of(registry, dist)}
    assert seen == expected
    # The built-in echo bindings are part of the core, not a plugin: always there.
    assert registry.get("llm", "echo").status == "ok"


def test_import_lollms_core_discovers_plugins_in_a_fresh_process(
    only_test_plugins: dict[str, str], plugin_site: PluginSite, tmp_path: Path
) -> None:
    """The real path: a new interpreter, ``import lollms_core``, nothing registered by hand."""
    script = f"""
import json, sys
import lollms_core
reg = lollms_core.get_registry()
imported_before = {f"lt_good_{plugin_site.tag}.llm"!r} in sys.modules
shout = lollms_core.LollmsLLMBindingManager().create_binding("shout{plugin_site.tag}")
print(json.dumps({{
    "entries": [e.as_dict() for e in reg.entries],
    "binding_imported_before_create": imported_before,
    "answer": shout.generate_text("quiet please"),
}}))
"""
    # Run twice: the first run fills the manifest cache, the second starts from it.
    binding_imported = []
    for _ in range(2):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_site.root), *sys.path])}
        cmd = [sys.executable, "-c", script]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        by_dist = {e["distribution"]: e for e in out["entries"]}
        assert by_dist[only_test_plugins["good"]]["status"] == "ok"
        assert by_dist[only_test_plugins["import"]]["status"] == "error"
        assert out["answer"] == "QUIET! PLEASE! "
        binding_imported.append(out["binding_imported_before_create"])
    assert binding_imported == [False, False]


def test_warm_import_loads_no_pydantic_yaml_or_engines(plugin_site: PluginSite, tmp_path: Path) -> None:
    """With the manifest cache warm, ``import lollms_core`` (discovering a plugin) stays light."""
    dist, package = plugin_site.add("light", good_files(f"light{plugin_site.tag}"))
    watched = ["pydantic", "yaml", "asyncio", "httpx", "tiktoken", "lollms_core.manifest._model", f"{package}.llm"]
    script = f"""
import json, sys, lollms_core
names = [e.name for e in lollms_core.get_registry().entries if e.status == "ok"]
print(json.dumps({{"ok": names, "loaded": [m for m in {watched!r} if m in sys.modules]}}))
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_site.root), *sys.path]),
        "LOLLMS_LOAD_PLUGINS": dist,
        "LOLLMS_CACHE_DIR": str(tmp_path / "warm-cache"),
        "LOLLMS_MANIFEST_CACHE": "1",
    }
    runs = []
    for _ in range(2):  # cold (fills the cache), then warm
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        runs.append(json.loads(run.stdout))
    assert f"light{plugin_site.tag}" in runs[1]["ok"]
    assert f"{package}.llm" not in runs[0]["loaded"]
    assert runs[1]["loaded"] == []
