"""``lollms bindings [--json] [--check [NAME]]`` and ``-b DIST:NAME`` (issue 10 items 4-6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _cli_util import clean_env, lollms, one_error_line
from conftest import PluginSite

INIT = """
from lollms_core import hookimpl

@hookimpl
def lollms_register_bindings():
    return ["{pkg}.llm"]
"""
BINDING = """
from lollms_core.bindings import LollmsLLMBinding
from lollms_core.types import Chunk


class Parrot(LollmsLLMBinding):
    def _stream(self, request):
        yield Chunk("{tag} " + request.messages[-1]["content"])
"""


def add(site: PluginSite, kind: str, name: str, extra: str = "", core_api: str = "core_api: 1") -> str:
    manifest = f"name: {name}\nmodality: llm\nclass: {{pkg}}.llm:Parrot\n{core_api}\ndescription: parrot\n{extra}"
    dist, _ = site.add(
        kind, {"__init__.py": INIT, "llm/__init__.py": BINDING.replace("{tag}", kind), "llm/description.yaml": manifest}
    )
    return dist


@pytest.fixture
def env(tmp_path: Path, plugin_site: PluginSite) -> dict[str, str]:
    out = clean_env(tmp_path)
    out["PYTHONPATH"] = os.pathsep.join([str(plugin_site.root), out.get("PYTHONPATH", "")])
    return out


def use(env: dict[str, str], site: PluginSite) -> dict[str, str]:
    env["LOLLMS_LOAD_PLUGINS"] = ",".join(site.distributions)
    return env


def test_check_names_a_missing_engine_module_with_its_pip_line(env: dict[str, str], plugin_site: PluginSite) -> None:
    dist = add(
        plugin_site, "noengine", "noengine", extra="engine_modules:\n  no_such_engine_xyz: 'no-such-engine>=1.2'\n"
    )
    use(env, plugin_site)
    listed = lollms(env, "bindings", "--json")
    assert listed.returncode == 0, "without --check the row looks fine: nothing was imported"
    proc = lollms(env, "bindings", "--check", "--json")
    assert proc.returncode == 1
    [row] = [r for r in json.loads(proc.stdout) if r["distribution"] == dist]
    assert row["status"] == "error"
    assert "engine module no_such_engine_xyz is missing: pip install 'no-such-engine>=1.2'" in row["error"]
    table = lollms(env, "bindings", "--check", "noengine")
    assert table.returncode == 1
    assert "pip install 'no-such-engine>=1.2'" in table.stdout
    assert lollms(env, "bindings", "--check", "echo").returncode == 0


def test_check_imports_the_binding_class(env: dict[str, str], plugin_site: PluginSite) -> None:
    dist, _ = plugin_site.add(
        "noclass",
        {
            "__init__.py": INIT,
            "llm/__init__.py": "import this_engine_is_not_installed_abc\n",
            "llm/description.yaml": (
                "name: noclass\nmodality: llm\nclass: {pkg}.llm:Parrot\ncore_api: 1\ndescription: d\n"
            ),
        },
    )
    proc = lollms(use(env, plugin_site), "bindings", "--check", f"{dist}:noclass", "--json")
    assert proc.returncode == 1
    [row] = json.loads(proc.stdout)
    assert "this_engine_is_not_installed_abc" in row["error"]


def test_check_of_an_unknown_name_is_one_error_line(env: dict[str, str]) -> None:
    proc = lollms(env, "bindings", "--check", "nothing_like_this")
    assert proc.returncode == 1
    assert "nothing_like_this" in one_error_line(proc)


def test_a_binding_without_core_api_is_listed_unverified_and_works(
    env: dict[str, str], plugin_site: PluginSite
) -> None:
    dist = add(plugin_site, "loose", "loose", core_api="")
    use(env, plugin_site)
    proc = lollms(env, "bindings")
    assert proc.returncode == 0, "unverified is not an error"
    [line] = [ln for ln in proc.stdout.splitlines() if dist in ln]
    assert line.split()[-1] == "unverified"
    generated = lollms(env, "generate", "-b", "loose", "hi")
    assert generated.returncode == 0, generated.stderr


def test_a_core_api_range_excluding_this_core_exits_1_with_both_versions(
    env: dict[str, str], plugin_site: PluginSite
) -> None:
    dist = add(plugin_site, "future", "future", core_api="core_api: '>=2,<3'")
    proc = lollms(use(env, plugin_site), "bindings", "--json")
    assert proc.returncode == 1
    [row] = [r for r in json.loads(proc.stdout) if r["distribution"] == dist]
    assert "built for lollms core API >=2,<3; this lollms-core implements core API 1" in row["error"]


def test_dist_name_selects_each_of_two_providers_on_the_command_line(
    env: dict[str, str], plugin_site: PluginSite
) -> None:
    first = add(plugin_site, "alpha", "twin")
    second = add(plugin_site, "beta", "twin")
    use(env, plugin_site)
    assert lollms(env, "generate", "-b", f"{first}:twin", "hi").stdout == "alpha hi\n"
    assert lollms(env, "generate", "-b", f"{second}:twin", "hi").stdout == "beta hi\n"
    bare = lollms(env, "generate", "-b", "twin", "hi")
    assert bare.returncode == 1
    line = one_error_line(bare)
    assert f"{first}:twin" in line and f"{second}:twin" in line
    env["LOLLMS_PREFER"] = f"llm:twin={second}"
    assert lollms(env, "generate", "-b", "twin", "hi").stdout == "beta hi\n"
    listing = lollms(env, "bindings")
    assert listing.returncode == 0
    assert listing.stdout.count("warning: ambiguous") == 2
    shown = json.loads(lollms(env, "bindings", "show", f"{first}:twin", "--json").stdout)
    assert [s["distribution"] for s in shown] == [first]
