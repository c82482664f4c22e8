"""The warm path: a binding made from a cached manifest is checked without pydantic, with the same messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from lollms_core.errors import ConfigError
from lollms_core.http import parse_retry_after
from lollms_core.manifest import Manifest, parse_manifest
from lollms_core.manifest._config_check import CachedManifest
from test_manifest import SEED_001

PARAMS = [
    {"name": "host_address", "type": "str", "default": "http://127.0.0.1:9"},
    {"name": "ctx_size", "type": "int", "default": 4096, "min": 256, "max": 131072},
    {"name": "service_key", "type": "str", "default": "", "is_secret": True, "env": "DEMO_KEY"},
    {"name": "verify_ssl", "type": "bool", "default": True},
    {"name": "timeout", "type": "float", "default": 30.0, "min": 0.1},
    {"name": "tags", "type": "list", "default": []},
    {"name": "headers", "type": "dict", "default": {}},
    {"name": "device", "type": "str", "options": ["cpu", "cuda"], "default": "cpu"},
    {"name": "api_token", "type": "str", "mandatory": True, "env": "DEMO_API", "is_secret": True},
]
CALLS = [
    {"name": "effort", "type": "str", "options": ["low", "high"], "default": "low"},
    {"name": "steps", "type": "int", "min": 1},
]


def _both() -> tuple[Manifest, CachedManifest]:
    data = yaml.safe_load(SEED_001)
    data.update(input_parameters=PARAMS, generate_text_parameters=CALLS)
    full = parse_manifest(data)
    return full, CachedManifest(full.model_dump(by_alias=True, mode="json"))


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except ConfigError as exc:
        return "error", str(exc)


CONFIGS: list[dict[str, Any]] = [
    {"api_token": "t0123456"},
    {"api_token": "t0123456", "ctx_size": "lots"},
    {"api_token": "t0123456", "ctx_size": True},
    {"api_token": "t0123456", "ctx_size": 4.5},
    {"api_token": "t0123456", "ctx_size": 100},
    {"api_token": "t0123456", "ctx_size": 10**9},
    {"api_token": "t0123456", "ctx_size": "512", "verify_ssl": "no", "tags": "a, b", "headers": '{"x": 1}'},
    {"api_token": "t0123456", "verify_ssl": "maybe"},
    {"api_token": "t0123456", "device": "tpu"},
    {"api_token": "t0123456", "host_adress": "http://x"},
    {},
    {"api_token": "t0123456", "timeout": float("nan")},
    {"api_token": "t0123456", "timeout": "inf"},
    {"api_token": "t0123456", "timeout": 0.0},
    {"api_token": "  secret-with-spaces\n"},
    {"api_token": "secret\nwith-a-newline"},
    {"api_token": "t0123456", "service_key": "k\x00ey-value"},
]


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_cached_checker_gives_exactly_the_manifest_result(config: dict[str, Any]) -> None:
    full, cached = _both()
    for env in ({}, {"DEMO_API": "from-env-123", "DEMO_KEY": "k-env-123"}):
        expected = _outcome(lambda env=env: dict(full.validate_config(config, environ=env)))  # type: ignore[misc]
        assert _outcome(lambda env=env: dict(cached.validate_config(config, environ=env))) == expected  # type: ignore[misc]


@pytest.mark.parametrize("params", [{}, {"effort": "high", "steps": "3"}, {"effort": "max"}, {"steps": 0}, {"nope": 1}])
def test_cached_checker_gives_exactly_the_manifest_result_for_call_options(params: dict[str, Any]) -> None:
    full, cached = _both()
    expected = _outcome(lambda: full.validate_call("generate_text", params, also_known=("temperature",)))
    assert _outcome(lambda: cached.validate_call("generate_text", params, also_known=("temperature",))) == expected


def test_non_finite_and_secret_rules_hold_on_both_paths() -> None:
    for checker in _both():
        with pytest.raises(ConfigError, match="'timeout' is nan; it must be a finite number"):
            checker.validate_config({"api_token": "t0123456", "timeout": float("nan")}, environ={})
        assert checker.validate_config({"api_token": " tok-123456\n"}, environ={})["api_token"] == "tok-123456"
        with pytest.raises(ConfigError, match="'api_token' contains a control character at position 3") as caught:
            checker.validate_config({"api_token": "tok\x07123456"}, environ={})
        assert "tok" not in str(caught.value).replace("api_token", "")
        # Before: accepted, sent as UTF-8 bytes, and surfaced as a 401 from the server.
        for key, position in (("\u201csk-abcdef123\u201d", 0), ("sk-abc\u00a0def123", 6), ("sk-abcdéf123", 7)):
            with pytest.raises(
                ConfigError, match=f"'api_token' contains a non-ASCII character at position {position}"
            ) as caught:
                checker.validate_config({"api_token": key}, environ={})
            assert "abc" not in str(caught.value)


def _run(code: str, cache: Path) -> str:
    env = {**os.environ, "LOLLMS_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return done.stdout.strip()


def test_echo_client_from_a_warm_cache_imports_no_pydantic(tmp_path: Path) -> None:
    code = (
        "import sys; from lollms_core import LollmsClient; c = LollmsClient(llm_binding_name='echo'); "
        "c.generate_text('hi'); import json; print(json.dumps(['pydantic' in sys.modules, 'yaml' in sys.modules]))"
    )
    _run(code, tmp_path)  # cold: manifests validated by pydantic and cached
    assert json.loads(_run(code, tmp_path)) == [False, False]


def test_router_client_from_a_warm_cache_imports_no_pydantic(tmp_path: Path) -> None:
    code = (
        "import sys, json; from lollms_core import LollmsClient; "
        "c = LollmsClient(llm_binding_name='router', llm_binding_config={'members': [{'binding': 'echo'}, "
        "{'binding': 'echo', 'model_name': 'b'}]}); "
        "answers = [c.generate_text('hi there') for _ in range(3)]; "
        "print(json.dumps([answers, 'pydantic' in sys.modules]))"
    )
    _run(code, tmp_path)  # cold: manifests validated by pydantic and cached
    assert json.loads(_run(code, tmp_path)) == [["hi there"] * 3, False]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        *[("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("NaN", None), ("inf", None), ("-5", None), ("1.5", None)],
        *[("garbage", None), ("", None), (None, None), ("١٢", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
    ],
)
def test_retry_after_is_parsed_per_rfc_9110(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date_in_the_future_counts_down() -> None:
    import email.utils
    import time

    wait = parse_retry_after(email.utils.formatdate(time.time() + 100, usegmt=True))
    assert wait is not None and 98 <= wait <= 100.5


def test_redaction_removes_remembered_keys_and_credential_headers() -> None:
    from lollms_core._secrets import Secret, redact

    key = "sk-proj-abcdefghijklmnop"
    assert repr(Secret(key)) == "Secret('********')"  # remembered from now on
    text = f"echo: key={key}; Authorization: Bearer other-token-xyz; api-key: zzz123; authorization=Basic dXNlcg=="
    cleaned = redact(text)
    for leaked in (key, "other-token-xyz", "zzz123", "dXNlcg=="):
        assert leaked not in cleaned
    assert cleaned.startswith("echo: key=********")


def test_a_refused_secret_value_is_not_remembered_for_redaction() -> None:
    # Before: the value was remembered before the options check, so a refused text ("RateLimitError",
    # as hypothesis drew from the code's own constants) masked that word in every later error message
    # of the process (test_router's all-members-down message came out as "********").
    from lollms_core._secrets import redact

    data = yaml.safe_load(SEED_001)
    data.update(
        input_parameters=[
            {"name": "token", "type": "str", "is_secret": True, "options": ["only-this"], "description": "t"}
        ]
    )
    full = parse_manifest(data)
    for n, checker in enumerate((full, CachedManifest(full.model_dump(by_alias=True, mode="json")))):
        refused = f"RefusedSecretValue4{n}"
        with pytest.raises(ConfigError):
            checker.validate_config({"token": refused}, environ={})
        assert redact(f"an error about {refused}") == f"an error about {refused}"
    full.validate_config({"token": "only-this"}, environ={})
    assert redact("said only-this") == "said ********"  # an accepted secret still is
