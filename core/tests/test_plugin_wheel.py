"""Third-party plugins as real wheels (hatchling), pip-installed into a fresh venv (issue 10, "Must show").

No network: the wheels are built with ``--no-build-isolation`` from this environment's
hatchling and installed with ``--no-index --no-deps``; the venv sees this environment's
packages (lollms-core and its dependencies) through a ``.pth`` line, as
``--system-site-packages`` would for a non-venv interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("hatchling", reason="building the test wheels needs hatchling (requirements/test.txt)")

BINDING = """
from lollms_core.bindings import LollmsLLMBinding
from lollms_core.types import Chunk


class Bird(LollmsLLMBinding):
    def _stream(self, request):
        yield Chunk("{dist} sings " + request.messages[-1]["content"])
"""
# Laid out as docs/writing-a-binding.md shows: the hook in the package __init__.
INIT = """
from lollms_core import hookimpl


@hookimpl
def lollms_register_bindings():
    return ["{package}.llm"]
"""


# An outsider's tools binding (issue 22): found, listed and callable like any other binding.
TOOLS_BINDING = """
from lollms_core.bindings import LollmsToolBinding


class BirdTools(LollmsToolBinding):
    def _discover_tools(self):
        schema = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
        return [{"name": "chirp", "description": "Chirp a word twice.", "parameters": schema}]

    def _call_tool(self, name, arguments):
        return arguments["word"] + " " + arguments["word"]
"""


def write_distribution(root: Path, dist: str, name: str, core_api: str, modality: str = "llm") -> Path:
    package = dist.replace("-", "_")
    src = root / dist
    (src / "src" / package / modality).mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "{dist}"
        version = "0.3.0"
        dependencies = ["lollms-core"]

        [project.entry-points."lollms.bindings"]
        {name} = "{package}"

        [tool.hatch.build.targets.wheel]
        packages = ["src/{package}"]
        """)
    )
    (src / "src" / package / "__init__.py").write_text(INIT.format(package=package).replace(".llm", f".{modality}"))
    code, cls = (TOOLS_BINDING, "BirdTools") if modality == "tools" else (BINDING.replace("{dist}", dist), "Bird")
    (src / "src" / package / modality / "__init__.py").write_text(code)
    (src / "src" / package / modality / "description.yaml").write_text(
        f"name: {name}\nmodality: {modality}\nclass: {package}.{modality}:{cls}\ncore_api: {core_api}\n"
        "description: a bird\n"
    )
    return src


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with three plugin wheels installed by pip: two claim ``bird``, one needs core API 2."""
    root = tmp_path_factory.mktemp("wheels")
    sources = [
        write_distribution(root, "lt-bird-a", "bird", "1"),
        write_distribution(root, "lt-bird-b", "bird", "'>=1,<2'"),
        write_distribution(root, "lt-bird-future", "futurebird", "'>=2,<3'"),
        write_distribution(root, "lt-bird-tools", "birdtools", "1", modality="tools"),
    ]
    wheels = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels)]
    subprocess.run([*build, *map(str, sources)], check=True, capture_output=True, timeout=300)
    built = sorted(wheels.glob("*.whl"))
    assert [w.name.split("-")[0] for w in built] == ["lt_bird_a", "lt_bird_b", "lt_bird_future", "lt_bird_tools"]
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # This environment's packages (lollms-core, pydantic...) behind the venv's own, like --system-site-packages.
    here = sysconfig.get_paths()["purelib"]
    Path(target, "zz_outer_site.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    install = [*pip, "--python", str(python), "install", "--no-index", "--no-deps", *map(str, built)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    assert Path(target, "lt_bird_a", "llm", "description.yaml").is_file(), "installed from the wheel"
    return python


def run_in(python: Path, code: str, tmp_path: Path) -> str:
    env = {
        "LOLLMS_LOAD_PLUGINS": "lt-bird-a,lt-bird-b,lt-bird-future,lt-bird-tools",
        "LOLLMS_CACHE_DIR": str(tmp_path / "cache"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


LISTING = """
import json
import lollms_core
from lollms_core import LollmsLLMBindingManager
rows = sorted([e.distribution, e.name, e.status, e.error or ""] for e in lollms_core.get_registry().entries)
manager = LollmsLLMBindingManager()
answers = [manager.create_binding(f"{d}:bird").generate_text("la") for d in ("lt-bird-a", "lt-bird-b")]
print(json.dumps({"rows": rows, "answers": answers}))
"""


@pytest.mark.parametrize("first", ["", "import lollms_core", "import lt_bird_a", "import lt_bird_b.llm"])
def test_wheel_plugins_are_found_in_every_import_order(venv: Path, tmp_path: Path, first: str) -> None:
    for _ in range(2):  # cold cache, then warm
        out = json.loads(run_in(venv, f"{first}\n{LISTING}", tmp_path))
        rows = {(d, n): (s, e) for d, n, s, e in out["rows"]}
        assert rows[("lt-bird-a", "bird")][0] == "ok"
        assert rows[("lt-bird-b", "bird")][0] == "ok", "a second distribution claiming the name is listed too"
        status, error = rows[("lt-bird-future", "futurebird")]
        assert status == "error"
        assert "built for lollms core API >=2,<3; this lollms-core implements core API 1 (lollms-core " in error
        assert out["answers"] == ["lt-bird-a sings la", "lt-bird-b sings la"], "DIST:NAME selects each"


def test_wheel_plugins_on_the_command_line(venv: Path, tmp_path: Path) -> None:
    code = "import sys; from lollms_core.cli import main; sys.exit(main(sys.argv[1:]))"
    env_code = (
        f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', {code!r}, 'bindings', '--json']))"
    )
    env = {
        "LOLLMS_LOAD_PLUGINS": "lt-bird-a,lt-bird-b,lt-bird-future,lt-bird-tools",
        "LOLLMS_CACHE_DIR": str(tmp_path / "c"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [str(venv), "-c", env_code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 1, "the core_api row is an error: lollms bindings exits 1"
    rows = json.loads(proc.stdout)
    birds = sorted((r["distribution"], r["status"]) for r in rows if r["name"] == "bird")
    assert birds == [("lt-bird-a", "ok"), ("lt-bird-b", "ok")]
    assert all("ambiguous" in (r["warning"] or "") for r in rows if r["name"] == "bird")
    gen = [str(venv), "-c", code, "generate", "-b", "lt-bird-b:bird", "tweet"]
    out = subprocess.run(gen, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (out.returncode, out.stdout) == (0, "lt-bird-b sings tweet\n"), out.stderr


TOOLS_LISTING = """
import json
import lollms_core
from lollms_core import LollmsToolBindingManager
rows = sorted([e.distribution, e.name, e.modality.value, e.status] for e in lollms_core.get_registry().entries)
tools = LollmsToolBindingManager().create_binding("lt-bird-tools:birdtools")
called = tools.execute_tool("chirp", {"word": "tweet"})
print(json.dumps({"rows": rows, "listed": tools.list_tools(), "called": called}))
"""


@pytest.mark.parametrize("first", ["", "import lollms_core", "import lt_bird_tools", "import lt_bird_tools.tools"])
def test_a_wheel_tools_binding_is_found_listed_and_callable_in_every_import_order(
    venv: Path, tmp_path: Path, first: str
) -> None:
    for _ in range(2):  # cold cache, then warm
        out = json.loads(run_in(venv, f"{first}\n{TOOLS_LISTING}", tmp_path))
        assert ["lt-bird-tools", "birdtools", "tools", "ok"] in out["rows"]
        assert [t["name"] for t in out["listed"]] == ["chirp"]
        assert out["listed"][0]["parameters"]["required"] == ["word"]
        assert out["called"] == {"output": "tweet tweet", "status_code": 200}


def test_a_wheel_tools_binding_on_the_command_line(venv: Path, tmp_path: Path) -> None:
    code = "import sys; from lollms_core.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {
        "LOLLMS_LOAD_PLUGINS": "lt-bird-tools",
        "LOLLMS_CACHE_DIR": str(tmp_path / "c"),
        "PATH": "/usr/bin:/bin",
    }
    listing = [str(venv), "-c", code, "tools", "list", "--json"]
    out = subprocess.run(listing, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert [(t["name"], t["binding"]) for t in json.loads(out.stdout)] == [("chirp", "birdtools")]
    call = [str(venv), "-c", code, "tools", "call", "chirp", "--args", '{"word": "hi"}']
    out = subprocess.run(call, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (out.returncode, out.stdout) == (0, "hi hi\n"), out.stderr
