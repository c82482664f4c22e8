"""docs/writing-a-binding.md is executed: its files become a real plugin, built and pip-installed
into a fresh venv, whose tests pass; its other Python blocks run (the HTTP one against a real
server-sent-events server on 127.0.0.1)."""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _docs_blocks import DOCS, blocks, python_blocks
from _venv import LayeredVenv

DOC = DOCS / "writing-a-binding.md"
TITLE = re.compile(r'title="(?P<path>[^"]+)"')

FILES = {
    "pyproject.toml",
    "README.md",
    "src/lollms_parrot/__init__.py",
    "src/lollms_parrot/llm/description.yaml",
    "src/lollms_parrot/llm/binding.py",
    "src/lollms_parrot/llm/__init__.py",
    "tests/test_conformance.py",
}


def files() -> dict[str, str]:
    out = {}
    for info, code in blocks(DOC):
        title = TITLE.search(info)
        if title:
            out[title["path"]] = code
    return out


def loose_python() -> list[str]:
    return python_blocks(DOC)


def test_the_guide_writes_every_file_of_the_plugin() -> None:
    assert set(files()) == FILES


def test_the_guide_names_the_supported_modules_and_the_contract() -> None:
    text = DOC.read_text()
    for module in ("lollms_core", "bindings", "errors", "http", "media", "tokens", "testing"):
        assert f"`lollms_core.{module}`" in text or f"`{module}`" in text
    for fact in ("core_api", "list_voices()", "EngineError", "failing_binding", "plugin-discovery.md", 'scope="class"'):
        assert fact in text, fact
    for method in ("generate_image", "edit_image", "generate_audio", "transcribe_audio", "generate_video"):
        assert f"`{method}_parameters`" in text
    assert "`generate_music_parameters`" in text


@pytest.fixture(scope="module")
def parrot(tmp_path_factory: pytest.TempPathFactory) -> tuple[LayeredVenv, dict[str, str], Path]:
    """The guide's plugin, written from its blocks and pip-installed into a fresh venv."""
    work = tmp_path_factory.mktemp("guide")
    root = work / "lollms-parrot"
    for rel, code in files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    venv = LayeredVenv(work / "venv")
    done = venv.install(root)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv, venv.env(work / "cache"), root


def test_the_guides_plugin_passes_its_conformance_tests(parrot: Any) -> None:
    venv, env, root = parrot
    run = venv.run("-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", cwd=root, env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert "Class-scoped fixtures defined as instance methods" not in run.stdout


def test_the_guides_console_session(parrot: Any) -> None:
    venv, env, _ = parrot
    listing = venv.run("-m", "lollms_core.cli", "bindings", "--json", env=env)
    rows = [r for r in json.loads(listing.stdout) if r["name"] == "parrot"]
    assert [(r["modality"], r["distribution"], r["status"]) for r in rows] == [("llm", "lollms-parrot", "ok")]
    said = venv.run("-m", "lollms_core.cli", "generate", "-b", "parrot", "-c", "volume=2", "hello there", env=env)
    assert said.returncode == 0, said.stderr
    assert said.stdout.strip() == "hello!! there!!"


def test_the_python_examples_using_the_plugin_run(parrot: Any) -> None:
    venv, env, _ = parrot
    examples = [code for code in loose_python() if '"parrot"' in code]
    assert len(examples) == 1
    run = venv.run("-c", examples[0], env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "PIECES! OF! EIGHT!\nhello! there!"


def test_the_standalone_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    examples = [code for code in loose_python() if '"parrot"' not in code and "class ServerBinding" not in code]
    assert examples, "the guide lost its standalone examples"
    for number, code in enumerate(examples, 1):
        exec(compile(code, f"{DOC.name} standalone block {number}", "exec"), {"__name__": "guide_example"})
    assert "1\n00:00:00,000 --> 00:00:01,200\nHello world." in capsys.readouterr().out


# -- the HTTP example, against a real SSE server ------------------------------------------------


class _SSE(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.headers.get("Authorization") == "Bearer wrong":
            out = b'{"error": {"message": "bad key"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        words = re.findall(r"\s*\S+", body["messages"][-1]["content"])[: body.get("n_predict")]
        events = "".join(f"data: {json.dumps({'delta': w.upper()})}\n\n" for w in words).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(events)))
        self.end_headers()
        self.wfile.write(events)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sse_server() -> Iterator[str]:
    _SSE.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SSE)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_example_streams_from_a_real_server(
    sse_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lollms_core import LollmsLLMBindingManager, Registry, hookimpl

    (code,) = [c for c in loose_python() if "class ServerBinding" in c]
    module = f"guide_http_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))

    class Plugin:
        @staticmethod
        @hookimpl
        def lollms_register_bindings() -> list[dict[str, Any]]:
            return [
                {
                    "name": "server",
                    "modality": "llm",
                    "class": f"{module}:ServerBinding",
                    "core_api": 1,
                    "description": "the guide's HTTP example",
                    "input_parameters": [
                        {"name": "host_address", "type": "str", "default": "", "description": "base URL"},
                        {"name": "service_key", "type": "str", "default": "", "is_secret": True, "description": "key"},
                    ],
                }
            ]

    registry = Registry()
    registry.register_plugin(Plugin, "lt-guide-http", "0.1.0")
    manager = LollmsLLMBindingManager(registry=registry)
    try:
        binding = manager.create_binding("server", host_address=sse_server, service_key="good")
        assert binding.generate_text("make some noise", n_predict=2) == "MAKE SOME"
        assert _SSE.seen[-1]["path"] == "/api/chat"
        assert _SSE.seen[-1]["auth"] == "Bearer good"
        assert _SSE.seen[-1]["body"]["n_predict"] == 2
        binding.close()
        wrong = manager.create_binding("server", host_address=sse_server, service_key="wrong")
        result = wrong.generate_text("hi")
        assert result["error_type"] == "AuthenticationError", result
        assert "wrong" not in result["error"]
        wrong.close()
    finally:
        sys.modules.pop(module, None)
