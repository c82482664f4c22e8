"""description.yaml: both schemas normalise, malformed manifests are ManifestErrors, config is validated."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from lollms_core import LollmsLLMBindingManager
from lollms_core.errors import ConfigError, ManifestError
from lollms_core.manifest import BindingConfig, Manifest, parse_manifest
from lollms_core.types import Modality

SEED_001 = """
name: demo
title: Demo binding
author: someone
version: 1.2
description: A demo.
modality: llm
class: demo_pkg.llm:DemoBinding
core_api: 1
input_parameters:
  - {name: host_address, type: str, default: "http://127.0.0.1:9", description: server URL}
  - {name: ctx_size, type: int, default: 4096, min: 256, max: 131072, description: context tokens}
  - {name: service_key, type: str, default: "", is_secret: true, env: DEMO_KEY, description: API key}
  - {name: verify_ssl, type: bool, default: true, description: check certificates}
generate_text_parameters:
  - {name: reasoning_effort, type: str, options: [low, medium, high], description: how hard to think}
"""

CLIENT_1X = """
binding_name: demo
description: A demo.
global_input_parameters:
  - {name: host_address, type: string, value: "http://127.0.0.1:9", help: server URL}
  - {name: ctx_size, type: integer, value: 4096, min: 256, max: 131072, help: context tokens}
  - {name: service_key, type: string, value: "", is_secret: true, env: DEMO_KEY, help: API key}
  - {name: verify_ssl, type: boolean, value: true, help: check certificates}
model_input_parameters:
  - {name: temperature_boost, type: number, value: 0.0, help: added to temperature}
commands:
  - name: pull_model
    description: download a model
    parameters:
      - {name: model_name, type: str, description: the model to pull}
"""


def _manifest(**extra: Any) -> Manifest:
    data = yaml.safe_load(SEED_001)
    data.update(extra)
    return parse_manifest(data)


def test_seed_001_schema_normalises() -> None:
    m = parse_manifest(yaml.safe_load(SEED_001))
    assert (m.name, m.modality, m.class_path, m.core_api, m.version) == (
        "demo",
        Modality.LLM,
        "demo_pkg.llm:DemoBinding",
        1,
        "1.2",
    )
    assert [p.name for p in m.parameters] == ["host_address", "ctx_size", "service_key", "verify_ssl"]
    assert m.parameter("service_key") is not None
    assert m.parameter("service_key").is_secret  # type: ignore[union-attr]
    effort = m.method_parameters["generate_text"][0]
    assert effort.name == "reasoning_effort"
    assert effort.options == ["low", "medium", "high"]


def test_lollms_client_1x_schema_normalises_to_the_same_parameters() -> None:
    old = parse_manifest(yaml.safe_load(CLIENT_1X))
    new = parse_manifest(yaml.safe_load(SEED_001))
    assert old.name == "demo"
    assert old.modality == Modality.LLM
    # type aliases (string/integer/boolean), value -> default and help -> description
    assert [p.model_dump() for p in old.parameters] == [p.model_dump() for p in new.parameters]
    boost = old.method_parameters["model"][0]
    assert (boost.name, boost.type, boost.default) == ("temperature_boost", "float", 0.0)
    assert [c.name for c in old.commands] == ["pull_model"]
    assert old.commands[0].parameters[0].name == "model_name"


@pytest.mark.parametrize("section", ["input_parameters", "generate_text_parameters"])
def test_duplicated_parameter_is_a_manifest_error(section: str) -> None:
    params = [{"name": "size", "type": "int"}, {"name": "size", "type": "int"}]
    with pytest.raises(ManifestError, match="'size' is declared twice"):
        _manifest(**{section: params})


def test_unknown_type_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="type"):
        _manifest(input_parameters=[{"name": "x", "type": "complex"}])


def test_unknown_type_error_names_the_parameter_and_the_value() -> None:
    with pytest.raises(ManifestError) as caught:
        _manifest(input_parameters=[{"name": "volume", "type": "complex"}])
    assert "volume" in str(caught.value)
    assert "complex" in str(caught.value)


def test_default_of_the_wrong_type_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="ctx"):
        _manifest(input_parameters=[{"name": "ctx", "type": "int", "default": "lots"}])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([1, 2], "mapping"),
        ({"name": "bad name!", "modality": "llm"}, "bad name!"),
        ({"name": "x", "modality": "smell"}, "modality"),
    ],
)
def test_malformed_manifest_is_a_one_line_manifest_error(data: Any, fragment: str) -> None:
    with pytest.raises(ManifestError, match=fragment) as caught:
        parse_manifest(data)
    assert "\n" not in str(caught.value)


# -- config validation ------------------------------------------------------------------------


def test_config_defaults_and_coercion_from_text() -> None:
    m = _manifest(
        input_parameters=[
            {"name": "n", "type": "int", "default": 1},
            {"name": "f", "type": "float", "default": 0.5},
            {"name": "b", "type": "bool", "default": False},
            {"name": "tags", "type": "list", "default": []},
            {"name": "headers", "type": "dict", "default": {}},
        ]
    )
    cfg = m.validate_config({"n": "3", "f": "2", "b": "yes", "tags": "a, b,c", "headers": '{"x": 1}'}, environ={})
    assert dict(cfg) == {"n": 3, "f": 2.0, "b": True, "tags": ["a", "b", "c"], "headers": {"x": 1}}
    assert isinstance(cfg["f"], float)
    assert m.validate_config({"tags": '["p", "q"]', "n": 4.0}, environ={})["tags"] == ["p", "q"]
    assert m.validate_config({"n": 4.0}, environ={})["n"] == 4
    assert dict(m.validate_config({}, environ={})) == {"n": 1, "f": 0.5, "b": False, "tags": [], "headers": {}}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("lots", "'ctx_size' expects int"),
        (True, "'ctx_size' expects int"),
        (4.5, "'ctx_size' expects int"),
        (100, "must be >= 256"),
        (10**9, "must be <= 131072"),
    ],
)
def test_config_type_and_range_errors_name_the_parameter(value: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        _manifest().validate_config({"ctx_size": value}, environ={})


def test_bool_text_that_is_not_a_bool_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'verify_ssl' expects bool \(true/false\)"):
        _manifest().validate_config({"verify_ssl": "maybe"}, environ={})


def test_options_error_lists_the_allowed_values() -> None:
    m = _manifest(input_parameters=[{"name": "device", "type": "str", "options": ["cpu", "cuda"]}])
    with pytest.raises(ConfigError, match="allowed values: 'cpu', 'cuda'"):
        m.validate_config({"device": "tpu"}, environ={})


def test_unknown_key_suggests_the_close_match() -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter 'host_adress'; did you mean 'host_address'") as e:
        _manifest().validate_config({"host_adress": "http://x"}, environ={})
    assert "known: ctx_size, host_address, service_key, verify_ssl" in str(e.value)


def test_mandatory_parameter_missing_names_it_and_its_env_var() -> None:
    m = _manifest(input_parameters=[{"name": "api_key", "type": "str", "mandatory": True, "env": "DEMO_API"}])
    with pytest.raises(ConfigError, match=r"'api_key' is mandatory \(or set \$DEMO_API\)"):
        m.validate_config({}, environ={})
    assert m.validate_config({}, environ={"DEMO_API": "from-env"})["api_key"] == "from-env"


def test_env_fallback_only_when_the_value_is_not_given() -> None:
    m = _manifest()
    assert m.validate_config({}, environ={"DEMO_KEY": "k-env"})["service_key"] == "k-env"
    assert m.validate_config({"service_key": "k-given"}, environ={"DEMO_KEY": "k-env"})["service_key"] == "k-given"
    assert m.validate_config({}, environ={})["service_key"] == ""


def test_per_call_options_are_validated_and_defaulted() -> None:
    m = _manifest(
        generate_text_parameters=[
            {"name": "effort", "type": "str", "options": ["low", "high"], "default": "low"},
            {"name": "steps", "type": "int", "min": 1},
        ]
    )
    assert m.validate_call("generate_text", {}) == {"effort": "low"}
    assert m.validate_call("generate_text", {"steps": "3"}) == {"effort": "low", "steps": 3}
    with pytest.raises(ConfigError, match=r"demo.generate_text\(\): unknown option 'stpes'; did you mean 'steps'"):
        m.validate_call("generate_text", {"stpes": 2})
    with pytest.raises(ConfigError, match="must be >= 1"):
        m.validate_call("generate_text", {"steps": 0})


# -- secrets ----------------------------------------------------------------------------------

SECRET = "sk-test-THIS-MUST-NEVER-APPEAR-1234"


def test_secret_never_appears_in_config_errors() -> None:
    m = _manifest(
        input_parameters=[
            {"name": "token", "type": "str", "is_secret": True, "options": ["a", "b"], "description": "t"},
            {"name": "pin", "type": "int", "is_secret": True, "description": "p"},
        ]
    )
    messages = []
    for config in ({"token": SECRET}, {"pin": SECRET}, {"pin": [SECRET]}):
        with pytest.raises(ConfigError) as caught:
            m.validate_config(config, environ={})
        messages.append(str(caught.value))
    assert all(SECRET not in msg for msg in messages), messages
    assert all("********" in msg for msg in messages), messages


def test_binding_config_masks_secrets_but_gives_the_real_value() -> None:
    cfg = _manifest().validate_config({"service_key": SECRET}, environ={})
    assert isinstance(cfg, BindingConfig)
    assert cfg["service_key"] == SECRET
    for text in (repr(cfg), str(cfg), str(cfg.masked()), f"{cfg}"):
        assert SECRET not in text
    assert cfg.masked()["service_key"] == "********"
    assert cfg.masked()["host_address"] == "http://127.0.0.1:9"


def test_binding_repr_and_config_hide_secrets_from_env_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOLLMS_ECHO_KEY", SECRET)
    binding = LollmsLLMBindingManager().create_binding("echo")
    assert binding.config["service_key"] == SECRET
    for text in (repr(binding), str(binding), repr(binding.config), str(vars(binding).get("config"))):
        assert SECRET not in text
    given = LollmsLLMBindingManager().create_binding("echo", service_key=SECRET + "-given")
    assert SECRET not in repr(given.config)
    assert given.config["service_key"] == SECRET + "-given"


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(value=st.integers(min_value=-(10**7), max_value=10**7), as_text=st.booleans())
def test_int_config_is_accepted_exactly_inside_its_range(value: int, as_text: bool) -> None:
    given_value: Any = str(value) if as_text else value
    if 256 <= value <= 131072:
        assert _manifest().validate_config({"ctx_size": given_value}, environ={})["ctx_size"] == value
    else:
        with pytest.raises(ConfigError, match="ctx_size"):
            _manifest().validate_config({"ctx_size": given_value}, environ={})


SECRET_MANIFEST = _manifest(
    input_parameters=[
        {"name": "token", "type": "str", "is_secret": True, "options": ["x"], "description": "t"},
        {"name": "pin", "type": "int", "is_secret": True, "min": 0, "max": 9, "description": "p"},
        {"name": "blob", "type": "dict", "is_secret": True, "description": "b"},
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=12),
    key=st.sampled_from(["token", "pin", "blob"]),
)
def test_no_secret_value_ever_reaches_an_error_message(secret: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SECRET_MANIFEST.validate_config({key: secret}, environ={})
    assert secret not in str(caught.value)
    assert key in str(caught.value)
