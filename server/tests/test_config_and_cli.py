"""The config file and ``lollms serve``: checked against the manifests, one-model mode, the default port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from lollms_core import LollmsClient
from lollms_core.errors import BindingNotFoundError, ConfigError
from lollms_server.config import config_to_yaml_data, load_config, one_model_config, parse_config

from .conftest import Running, free_port


def test_unknown_binding_lists_the_installed_ones() -> None:
    with pytest.raises(BindingNotFoundError) as info:
        parse_config({"models": {"x": {"binding": "ecko"}}})
    assert str(info.value).startswith("models.x.binding:") and "echo" in str(info.value)


def test_config_key_checked_against_the_manifest_with_close_matches() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"models": {"x": {"binding": "echo", "config": {"dleay": 1}}}})
    assert str(info.value).startswith("models.x.config:") and "delay" in str(info.value)
    with pytest.raises(ConfigError, match=r"models\.x\.config: .*'delay' .*float"):
        parse_config({"models": {"x": {"binding": "echo", "config": {"delay": "slow"}}}})
    with pytest.raises(ConfigError, match=r"models\.x\.config: .*fail_with.*auth"):
        parse_config({"models": {"x": {"binding": "echo", "config": {"fail_with": "everything"}}}})


def test_unknown_keys_and_modalities_are_named() -> None:
    with pytest.raises(ConfigError, match=r"config: unknown key 'model'; did you mean 'models'"):
        parse_config({"model": {}})
    with pytest.raises(ConfigError, match=r"models\.x: unknown key 'bindng'"):
        parse_config({"models": {"x": {"bindng": "echo"}}})
    with pytest.raises(ConfigError, match=r"models\.x\.modality: 'speech' is not a modality; choose from llm, tti"):
        parse_config({"models": {"x": {"binding": "echo", "modality": "speech"}}})
    with pytest.raises(ConfigError, match=r"alias 'a/b' is not a valid model id"):
        parse_config({"models": {"a/b": {"binding": "echo"}}})


def test_router_groups_name_llm_aliases() -> None:
    ok = parse_config(
        {
            "models": {
                "a": {"binding": "echo"},
                "b": {"binding": "echo"},
                "img": {"binding": "echo", "modality": "tti"},
            },
            "routers": {"pool": {"members": ["a", "b"], "strategy": "round-robin"}},
        }
    )
    assert ok.model_ids == ["a", "b", "img", "pool"]
    with pytest.raises(ConfigError, match=r"routers\.pool\.members: 'img' is a tti alias, not llm"):
        parse_config(
            {"models": {"img": {"binding": "echo", "modality": "tti"}}, "routers": {"pool": {"members": ["img"]}}}
        )
    with pytest.raises(ConfigError, match=r"unknown alias 'c'"):
        parse_config({"models": {"a": {"binding": "echo"}}, "routers": {"pool": {"members": ["c"]}}})
    with pytest.raises(ConfigError, match=r"routers\.pool: .*strategy"):
        parse_config({"models": {"a": {"binding": "echo"}}, "routers": {"pool": {"members": ["a"], "strategy": "x"}}})


def test_one_model_mode_names_the_model_binding_slash_model() -> None:
    assert list(one_model_config("echo", {}).aliases) == ["echo"]
    assert list(one_model_config("echo", {"model_name": "big"}).aliases) == ["echo/big"]
    assert list(one_model_config("lollms-core:echo", {}, model="m").aliases) == ["echo/m"]
    with pytest.raises(ConfigError, match=r"^-c: .*'delay'"):
        one_model_config("echo", {"delay": "x"})


def test_yaml_round_trip(tmp_path: Path) -> None:
    data = {
        "server": {"port": 9700, "max_tokens": 100},
        "models": {"a": {"binding": "echo", "config": {"delay": 0.1}, "concurrency": 2}},
        "routers": {"pool": {"members": ["a"], "strategy": "round-robin"}},
    }
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_config(path)
    again = parse_config(config_to_yaml_data(config))
    assert again.aliases == config.aliases and again.routers == config.routers
    assert (again.port, again.max_tokens) == (9700, 100)


def test_router_group_serves_and_health_shows_members(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(
        {
            "models": {"a": {"binding": "echo"}, "b": {"binding": "echo", "config": {"fail_with": "server"}}},
            "routers": {"pool": {"members": ["a", "b"], "strategy": "round-robin"}},
        }
    )
    for _ in range(3):  # b fails before its first chunk: the router moves the request to a
        answer = httpx.post(
            f"{server.v1}/chat/completions", json={"model": "pool", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert answer.json()["choices"][0]["message"]["content"] == "hi"
    health = httpx.get(f"{server.url}/health").json()
    members = health["models"]["pool"]["members"]
    assert [m["alias"] for m in members] == ["a", "b"]
    assert health["models"]["a"]["state"] == "ready"


def test_a_model_that_cannot_load_is_failing_and_answers_503(serve) -> None:  # type: ignore[no-untyped-def]
    server: Running = serve(
        {
            "models": {
                "ok": {"binding": "echo"},
                "broken": {"binding": "llamacpp", "config": {"model_path": "/no/such.gguf"}},
            }
        }
    )
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "degraded" and health["models"]["broken"]["state"] == "failing"
    assert "/no/such.gguf" in health["models"]["broken"]["error"]
    answer = httpx.post(
        f"{server.v1}/chat/completions", json={"model": "broken", "messages": [{"role": "user", "content": "x"}]}
    )
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "model_unavailable"
    assert httpx.post(
        f"{server.v1}/chat/completions", json={"model": "ok", "messages": [{"role": "user", "content": "x"}]}
    ).status_code == 200  # fmt: skip


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_lollms_serve_on_the_default_port_answers_a_bare_lollmsclient() -> None:
    """``lollms serve -b echo`` then ``LollmsClient()`` with no arguments: seed 004's default address."""
    default = _port_free(9600)
    port = 9600 if default else free_port()
    cmd = [sys.executable, "-m", "lollms_core.cli", "serve", "-b", "echo"] + ([] if default else ["--port", str(port)])
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        client = LollmsClient() if default else LollmsClient(host_address=f"http://localhost:{port}")
        assert client.generate_text("hello from seed four") == "hello from seed four"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/v1  models: echo" in err
    assert '"POST /v1/chat/completions" 200 model=echo' in err  # the access log line


def test_lollms_serve_reports_a_bad_config_file_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text("models:\n  a:\n    binding: echo\n    config: {delay: fast}\n")
    done = subprocess.run(
        [sys.executable, "-m", "lollms_core.cli", "serve", "--config", str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "lollms: error: models.a.config:" in done.stderr and "'delay' expects float" in done.stderr
