"""Discovery with plugins as third parties write them (issue 10.1, 10.6; issue 11's discovery and cache cases).

Each case is a real plugin distribution on ``sys.path`` (dist-info + package), run in a
fresh interpreter where the import order matters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PluginSite
from lollms_core.discovery import ManifestCache, build_registry

# The layout docs/writing-a-binding.md shows: hooks in the package __init__, importing hookimpl from lollms_core.
GUIDE_INIT = """
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
        yield Chunk("squawk " + request.messages[-1]["content"])
"""
MANIFEST = """
name: {name}
modality: llm
class: {{pkg}}.llm:Parrot
core_api: 1
description: repeats
"""


def plugin(site: PluginSite, kind: str, init: str = GUIDE_INIT, manifest: str | None = None) -> tuple[str, str]:
    name = f"{kind}{site.tag}"
    files = {
        "__init__.py": init,
        "llm/__init__.py": BINDING,
        "llm/description.yaml": manifest or MANIFEST.format(name=name),
    }
    dist, package = site.add(kind, files)
    return dist, package


def run(
    site: PluginSite, code: str, tmp_path: Path, *extra_env: tuple[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site.root), *sys.path]),
        "LOLLMS_LOAD_PLUGINS": ",".join(site.distributions),
        "LOLLMS_CACHE_DIR": str(tmp_path / "cache"),
        **dict(extra_env),
    }
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


ROWS = (
    "import json, lollms_core; "
    "print(json.dumps(sorted((e.distribution, e.name, e.status) for e in lollms_core.get_registry().entries)))"
)


# -- 10.1: any import order gives the same registry ------------------------------------------------


@pytest.mark.parametrize("first", ["lollms_core", "{pkg}", "{pkg}.llm", "lollms_core.bindings"])
def test_every_import_order_gives_the_same_registry(plugin_site: PluginSite, tmp_path: Path, first: str) -> None:
    dist, package = plugin(plugin_site, "order")
    code = (
        f"import {first.format(pkg=package)}\n"
        + ROWS
        + f"""
from lollms_core import LollmsLLMBindingManager
print(LollmsLLMBindingManager().create_binding("order{plugin_site.tag}").generate_text("hi"))
"""
    )
    proc = run(plugin_site, code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows, answer = proc.stdout.strip().splitlines()
    assert [dist, f"order{plugin_site.tag}", "ok"] in json.loads(rows), rows
    assert answer == "squawk hi"


def test_a_plugin_calling_get_registry_at_import_does_not_deadlock(plugin_site: PluginSite, tmp_path: Path) -> None:
    init = GUIDE_INIT + "\nimport lollms_core\nSEEN = [e.name for e in lollms_core.get_registry().entries]\n"
    dist, package = plugin(plugin_site, "reentrant", init=init)
    for first in ("lollms_core", package):
        code = f"import {first}\n" + ROWS + f"\nimport {package}; print(len({package}.SEEN) > 0)"
        proc = run(plugin_site, code, tmp_path, timeout=30)
        assert proc.returncode == 0, proc.stderr
        rows, seen_something = proc.stdout.strip().splitlines()
        assert [dist, f"reentrant{plugin_site.tag}", "ok"] in json.loads(rows)
        assert seen_something == "True", "it got the registry being built (with echo in it)"


# -- 11: a plugin that exits, prints, or ships a hostile manifest -----------------------------------


def test_sys_exit_at_import_or_in_the_hook_is_an_error_row(plugin_site: PluginSite, tmp_path: Path) -> None:
    at_import, _ = plugin(plugin_site, "exitimport", init="import sys\nsys.exit(3)\n")
    in_hook, _ = plugin(
        plugin_site,
        "exithook",
        init=(
            "from lollms_core import hookimpl\n\n@hookimpl\ndef lollms_register_bindings():\n    raise SystemExit(4)\n"
        ),
    )
    good, _ = plugin(plugin_site, "survivor")
    proc = run(plugin_site, ROWS, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {d: (n, s) for d, n, s in json.loads(proc.stdout)}
    assert rows[at_import] == ("exitimport", "error")
    assert rows[in_hook] == ("exithook", "error")
    assert rows[good] == (f"survivor{plugin_site.tag}", "ok")
    registry = build_registry()
    reasons = {e.distribution: e.error for e in registry.entries}
    assert "SystemExit: 3" in (reasons[at_import] or "")
    assert "SystemExit: 4" in (reasons[in_hook] or "")


def test_a_plugin_printing_at_import_does_not_corrupt_bindings_json(plugin_site: PluginSite, tmp_path: Path) -> None:
    init = 'print("HELLO FROM A CHATTY PLUGIN")\n' + GUIDE_INIT
    dist, _ = plugin(plugin_site, "chatty", init=init)
    code = "import sys; from lollms_core.cli import main; sys.exit(main(['bindings', '--json']))"
    proc = run(plugin_site, code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)  # the whole of stdout is JSON
    assert any(r["distribution"] == dist and r["status"] == "ok" for r in rows)
    assert "HELLO FROM A CHATTY PLUGIN" in proc.stderr


BOMB = """
name: {name}
modality: llm
core_api: 1
description: boom
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
input_parameters:
  - {{name: x, type: list, default: *i, description: a billion laughs}}
"""


def test_a_yaml_bomb_is_an_error_row_at_once(plugin_site: PluginSite) -> None:
    dist, _ = plugin(plugin_site, "bomb", manifest=BOMB.format(name=f"bomb{plugin_site.tag}"))
    huge, _ = plugin(plugin_site, "huge", manifest=MANIFEST.format(name="huge") + "# " + "x" * 300_000 + "\n")
    t0 = time.monotonic()
    registry = build_registry()
    assert time.monotonic() - t0 < 20, "the bomb must be refused, not expanded"
    rows = {e.distribution: e for e in registry.entries}
    assert rows[dist].status == "error"
    assert "anchors/aliases" in (rows[dist].error or "")
    assert rows[dist].name == "bomb", "named by its entry point: the manifest could not be read"
    assert rows[huge].status == "error" and "at most" in (rows[huge].error or "")


def test_a_broken_manifest_is_listed_under_its_distribution_and_name_with_the_file(plugin_site: PluginSite) -> None:
    bad_yaml, package = plugin(plugin_site, "badyaml", manifest="name: [unclosed\nmodality: llm\n")
    bad_field, _ = plugin(
        plugin_site, "badfield", manifest=MANIFEST.format(name="fieldy").replace("core_api: 1", "core_api: banana")
    )
    registry = build_registry()
    rows = {e.distribution: e for e in registry.entries}
    assert rows[bad_yaml].status == "error"
    assert rows[bad_yaml].name == "badyaml", "named by its entry point, not by its modality folder"
    assert str(plugin_site.root / package / "llm" / "description.yaml") in (rows[bad_yaml].error or "")
    assert "not valid YAML" in (rows[bad_yaml].error or "")
    assert (rows[bad_field].name, rows[bad_field].modality and rows[bad_field].modality.value) == ("fieldy", "llm")


# -- 11: the manifest cache is validated and keyed on content ----------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        '{"format": FMT, "core_api": 1, "entries": []}',
        '{"format": FMT, "core_api": 1, "entries": null}',
        '{"format": FMT, "core_api": 1, "entries": {"entry-points|lollms.bindings": "a string"}}',
        '{"format": FMT, "core_api": 1, "entries": {"entry-points|lollms.bindings": {"stamp": 1, "items": "x"}}}',
        "[1, 2]",
        "not json",
    ],
)
def test_a_cache_of_the_wrong_shape_is_discarded_and_rebuilt(
    plugin_site: PluginSite, tmp_path: Path, content: str
) -> None:
    dist, _ = plugin(plugin_site, "cached")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "manifests.json").write_text(content.replace("FMT", str(ManifestCache.FORMAT)))
    registry = build_registry(cache=ManifestCache(cache_dir / "manifests.json"))
    assert [e.status for e in registry.entries if e.distribution == dist] == ["ok"]
    assert json.loads((cache_dir / "manifests.json").read_text())["format"] == ManifestCache.FORMAT, "rebuilt"


def _rewrite_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    assert len(old) == len(new)
    st = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


def test_cache_sees_a_manifest_rewritten_with_the_same_size_and_mtime(plugin_site: PluginSite, tmp_path: Path) -> None:
    dist, package = plugin(plugin_site, "stale", manifest=MANIFEST.format(name="aaaa"))
    cache = tmp_path / "c.json"
    assert [e.name for e in build_registry(cache=ManifestCache(cache)).entries if e.distribution == dist] == ["aaaa"]
    _rewrite_keeping_size_and_mtime(plugin_site.root / package / "llm" / "description.yaml", "name: aaaa", "name: bbbb")
    names = [e.name for e in build_registry(cache=ManifestCache(cache)).entries if e.distribution == dist]
    assert names == ["bbbb"]


def test_cache_sees_entry_points_rewritten_with_the_same_size_and_mtime(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    dist, package = plugin(plugin_site, "epstale")
    cache = tmp_path / "c.json"
    first = build_registry(cache=ManifestCache(cache))
    assert [e.status for e in first.entries if e.distribution == dist] == ["ok"]
    info = next(plugin_site.root.glob(f"{package}-*.dist-info"))
    # Point the entry point at a module that does not exist: same length, same mtime.
    _rewrite_keeping_size_and_mtime(info / "entry_points.txt", f"= {package}", f"= {package[:-1]}Z")
    second = build_registry(cache=ManifestCache(cache))
    rows = [e for e in second.entries if e.distribution == dist]
    assert [e.status for e in rows] == ["error"], rows
