"""The ``lollms`` command line, run as a real subprocess against the echo bindings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _cli_util import clean_env, lollms, one_error_line
from lollms_core import LollmsDiscussion

ENTRY_KEYS = {"name", "modality", "distribution", "version", "status", "error", "warning"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for the subprocess."""
    return clean_env(tmp_path)


# -- bindings ---------------------------------------------------------------------------------


def test_bindings_json_shape(env):
    proc = lollms(env, "bindings", "--json")
    assert proc.returncode == 0
    rows = json.loads(proc.stdout)
    assert all(set(r) == ENTRY_KEYS for r in rows)
    echo = {r["modality"] for r in rows if r["name"] == "echo" and r["status"] == "ok"}
    assert echo == {"llm", "tti", "stt", "tts", "ttv", "ttm"}


def test_bindings_table(env):
    proc = lollms(env, "bindings")
    assert proc.returncode == 0
    assert any(line.split()[:2] == ["echo", "llm"] and line.endswith("ok") for line in proc.stdout.splitlines())


def test_broken_plugin_is_listed_with_its_reason(env, plugin_site):
    dist, _ = plugin_site.add("broken", {"__init__.py": "raise ImportError('this plugin needs torch')\n"})
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site.root), env.get("PYTHONPATH", "")])
    env["LOLLMS_LOAD_PLUGINS"] = ",".join(plugin_site.distributions)
    proc = lollms(env, "bindings", "--json")
    assert proc.returncode == 1, "a broken row makes `lollms bindings` fail (issue 10.6)"
    broken = [r for r in json.loads(proc.stdout) if r["distribution"] == dist]
    assert len(broken) == 1
    assert broken[0]["status"] == "error"
    assert "this plugin needs torch" in broken[0]["error"]
    table = lollms(env, "bindings")
    assert table.returncode == 1
    assert "ERROR" not in table.stdout, "statuses are the documented words"
    [row] = [line for line in table.stdout.splitlines() if dist in line]
    assert row.split()[:4] == ["broken", "-", dist, "0.1.0"]
    assert row.split()[4] == "error"
    assert "needs torch" in table.stdout


def test_bindings_show_lists_settings_and_never_secret_values(env):
    env["LOLLMS_ECHO_KEY"] = "sk-do-not-print-me"
    proc = lollms(env, "bindings", "show", "echo", "--modality", "llm")
    assert proc.returncode == 0
    assert "sk-do-not-print-me" not in proc.stdout + proc.stderr
    assert "service_key (str), secret" in proc.stdout
    assert "env $LOLLMS_ECHO_KEY (set)" in proc.stdout
    assert "delay (float), default=0.0" in proc.stdout
    shown = json.loads(lollms(env, "bindings", "show", "echo", "--modality", "llm", "--json").stdout)
    params = {p["name"]: p for p in shown[0]["parameters"]}
    assert params["service_key"]["secret"] is True
    assert params["delay"]["default"] == 0.0
    assert [p["name"] for p in shown[0]["call_parameters"]["generate_text"]] == ["prefix"]


def test_bindings_show_every_modality_of_a_name(env):
    shown = json.loads(lollms(env, "bindings", "show", "echo", "--json").stdout)
    assert len(shown) == 6


def test_bindings_show_unknown_name(env):
    proc = lollms(env, "bindings", "show", "nothing_like_this")
    assert proc.returncode == 1
    assert "echo" in one_error_line(proc)


# -- models -----------------------------------------------------------------------------------


def test_models(env):
    proc = lollms(env, "models", "-b", "echo")
    assert proc.returncode == 0
    assert proc.stdout.split()[0] == "echo"
    assert json.loads(lollms(env, "models", "-b", "echo", "--json").stdout) == [{"model_name": "echo", "size_gb": 0.0}]
    assert lollms(env, "models", "-b", "echo", "--modality", "tti").stdout.strip() == "echo-png"


def test_models_without_binding_is_a_usage_error(env):
    proc = lollms(env, "models")
    assert proc.returncode == 2
    assert "-b NAME" in one_error_line(proc)


def test_models_pull_on_a_binding_that_cannot(env):
    proc = lollms(env, "models", "pull", "-b", "echo", "some-model")
    assert proc.returncode == 1
    assert "cannot download models" in one_error_line(proc)


# -- generate ---------------------------------------------------------------------------------


def test_generate_streams_the_answer(env):
    proc = lollms(env, "generate", "-b", "echo", "hello big world")
    assert (proc.returncode, proc.stdout) == (0, "hello big world\n")
    limited = lollms(env, "generate", "-b", "echo", "-n", "2", "-s", "be brief", "hello big world")
    assert limited.stdout == "hello big\n"


def test_generate_reads_stdin_for_dash(env):
    proc = lollms(env, "generate", "-b", "echo", "-", stdin="from the pipe\n")
    assert proc.returncode == 0
    assert proc.stdout == "from the pipe\n\n"


def test_generate_output_arrives_before_the_end(env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "lollms_core.cli", "generate", "-b", "echo", "-c", "delay=0.3", "a b c d e f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        first = proc.stdout.read(1)
        assert first == b"a"
        assert proc.poll() is None  # still generating: the first token was flushed on its own
    finally:
        proc.kill()
        proc.communicate()


def test_generate_ctrl_c_exits_130_with_the_partial_output(env):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lollms_core.cli",
            "generate",
            "-b",
            "echo",
            "-c",
            "delay=0.2",
            "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    # Interrupt once a second word has arrived: the stream is then running, mid-generation.
    first = ""
    while "w2" not in first:
        piece = proc.stdout.read(1)
        assert piece, f"the stream ended before its second word: {first!r}"
        first += piece
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    text = first + out
    assert text.startswith("w1")
    assert "w10" not in text
    assert "Traceback" not in err
    assert "interrupted" in err


def test_generate_bad_config_value(env):
    proc = lollms(env, "generate", "-b", "echo", "-c", "delay=soon", "hi")
    assert proc.returncode == 1
    assert "'delay' expects float" in one_error_line(proc)


def test_generate_malformed_config_pair_is_a_usage_error(env):
    proc = lollms(env, "generate", "-b", "echo", "-c", "delay", "hi")
    assert proc.returncode == 2
    assert "KEY=VALUE" in one_error_line(proc)


def test_generate_unknown_binding(env):
    proc = lollms(env, "generate", "-b", "nope", "hi")
    assert proc.returncode == 1
    assert "installed llm bindings: echo" in one_error_line(proc)


def test_generate_backend_error_is_one_line(env):
    proc = lollms(env, "generate", "-b", "echo", "-c", "fail_with=server", "hi")
    assert proc.returncode == 1
    assert "asked to fail with 'server'" in one_error_line(proc)


def test_generate_without_binding_explains_how_to_configure(env):
    proc = lollms(env, "generate", "hi")
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "-b echo" in line
    assert "LOLLMS_DEFAULT_MODEL" in line


def test_generate_default_model_env_uses_llamacpp(env, tmp_path):
    env["LOLLMS_DEFAULT_MODEL"] = str(tmp_path / "missing.gguf")
    proc = lollms(env, "generate", "hi")
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "llamacpp" in line or "missing.gguf" in line


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the config file needs tomllib (Python 3.11+)")
def test_generate_default_from_the_config_file(env):
    conf = Path(env["XDG_CONFIG_HOME"]) / "lollms" / "config.toml"
    conf.parent.mkdir(parents=True)
    conf.write_text('binding = "echo"\nmodel = "from-config"\n[config]\ndelay = 0.0\n')
    proc = lollms(env, "generate", "configured default")
    assert (proc.returncode, proc.stdout) == (0, "configured default\n")


# -- chat -------------------------------------------------------------------------------------


def test_chat_repl_persists_and_continues(env, tmp_path):
    db = tmp_path / "talk.db"
    first = lollms(env, "chat", "-b", "echo", "--db", str(db), stdin="hello there\n\nsecond turn\n/exit\nnot sent\n")
    assert first.returncode == 0
    assert first.stdout == "hello there\nsecond turn\n"
    discussion_id = first.stderr.split()[1]
    again = lollms(env, "chat", "-b", "echo", "--db", str(db), "--id", discussion_id, stdin="third\n")
    assert again.stdout == "third\n"
    stored = LollmsDiscussion.load(db, discussion_id)
    assert [m.content for m in stored.get_messages()] == [
        "hello there",
        "hello there",
        "second turn",
        "second turn",
        "third",
        "third",
    ]
    assert [m.sender for m in stored.get_messages()][:2] == ["user", "assistant"]
    stored.close()


def test_chat_id_without_db(env):
    proc = lollms(env, "chat", "-b", "echo", "--id", "x", stdin="")
    assert proc.returncode == 2


# -- media ------------------------------------------------------------------------------------


def test_speak_then_transcribe(env, tmp_path):
    wav = tmp_path / "out.wav"
    spoken = lollms(env, "speak", "-b", "echo", "-o", str(wav), "--voice", "echo-low", "say this sentence")
    assert spoken.returncode == 0
    assert wav.read_bytes()[:4] == b"RIFF"
    heard = lollms(env, "transcribe", "-b", "echo", str(wav))
    assert (heard.returncode, heard.stdout) == (0, "say this sentence\n")


def test_speak_unknown_voice(env, tmp_path):
    proc = lollms(env, "speak", "-b", "echo", "-o", str(tmp_path / "x.wav"), "--voice", "robot", "hi")
    assert proc.returncode == 1
    assert "echo-high" in one_error_line(proc)


def test_transcribe_srt_needs_timings(env, tmp_path):
    # A binding without timings (echo) gets one whole-file cue from the STT base when the
    # length is known (a WAV); for other audio it is one error line, not a traceback.
    flac = tmp_path / "a.flac"
    flac.write_bytes(b"fLaC" + bytes(64))
    proc = lollms(env, "transcribe", "-b", "echo", "--format", "srt", str(flac))
    assert proc.returncode == 1
    assert "gives no timings" in one_error_line(proc)


def test_transcribe_srt_and_vtt_from_a_binding_without_timings(env, tmp_path):
    wav = tmp_path / "a.wav"
    lollms(env, "speak", "-b", "echo", "-o", str(wav), "three short words")
    srt = lollms(env, "transcribe", "-b", "echo", "--format", "srt", str(wav))
    assert srt.returncode == 0, srt.stderr
    assert srt.stdout == "1\n00:00:00,000 --> 00:00:00,150\nthree short words\n"
    vtt = lollms(env, "transcribe", "-b", "echo", "--format", "vtt", str(wav))
    assert vtt.stdout == "WEBVTT\n\n00:00:00.000 --> 00:00:00.150\nthree short words\n"


def test_transcribe_missing_file(env, tmp_path):
    proc = lollms(env, "transcribe", "-b", "echo", str(tmp_path / "nope.wav"))
    assert proc.returncode == 1
    assert "nope.wav" in one_error_line(proc)


def test_image(env, tmp_path):
    png = tmp_path / "cat.png"
    proc = lollms(env, "image", "-b", "echo", "-o", str(png), "a cat")
    assert proc.returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_generate_per_call_options(env):
    proc = lollms(env, "generate", "-b", "echo", "-o", "prefix=>> ", "-o", "n_predict=2", "hi there")
    assert (proc.returncode, proc.stdout) == (0, ">> hi\n")
    bad = lollms(env, "generate", "-b", "echo", "-o", "prefx=1", "hi")
    assert bad.returncode == 1
    assert "did you mean 'prefix'" in one_error_line(bad)


def test_no_command_is_a_usage_error(env):
    assert lollms(env).returncode == 2
    assert lollms(env, "generate").returncode == 2
