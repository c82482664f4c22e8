"""Seed 004's arguments on a registry of test bindings that declare host/model/engine settings.

The bindings are registered through the real hook path into a private ``Registry`` (named
``openai``/``ollama`` here on purpose), so the mapping of ``default_generation_mode``,
``host_address``, ``model_name``, ``ctx_size`` and ``n_threads`` is checked whatever
plugins happen to be installed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from lollms_core import (
    ELF_GENERATION_FORMAT,
    BindingLoadError,
    BindingNotFoundError,
    ChatRequest,
    Chunk,
    LollmsClient,
    LollmsLLMBinding,
    Registry,
    hookimpl,
)


class ConfiguredLLM(LollmsLLMBinding):
    """Answers with its own config, so a test can see what reached it."""

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        yield Chunk(f"{self.config['host_address']}|{self.model_name}|{request.options.n_predict}")

    def load_model(self, model_name: str) -> bool:
        if model_name == "unloadable":
            return False
        self.model_name = model_name
        return True


class NoModelSettingLLM(ConfiguredLLM):
    """Same, with no ``model_name`` setting: the client must use ``load_model``."""


def _manifest(name: str, cls: str, params: list[dict]) -> dict:
    return {"name": name, "modality": "llm", "core_api": 1, "class": f"{__name__}:{cls}", "input_parameters": params}


HOST = {"name": "host_address", "type": "str", "default": "http://default.invalid/v1"}
MODEL = {"name": "model_name", "type": "str", "default": ""}
ENGINE = [{"name": "ctx_size", "type": "int", "default": 4096}, {"name": "n_threads", "type": "int", "default": 4}]


class Plugin:
    """A plugin object registering three LLM bindings."""

    @hookimpl
    def lollms_register_bindings(self) -> list[dict]:
        return [
            _manifest("openai", "ConfiguredLLM", [HOST, MODEL]),
            _manifest("ollama", "ConfiguredLLM", [HOST, MODEL, *ENGINE]),
            _manifest("bare", "NoModelSettingLLM", [HOST]),
        ]


@pytest.fixture
def registry() -> Registry:
    assert sys.modules[__name__]  # the manifests' class paths point at this module
    reg = Registry()
    specs = reg.register_plugin(Plugin(), "lt-modes", "0.1.0")
    assert [s.status for s in specs] == ["ok", "ok", "ok"], [s.error for s in specs]
    return reg


@pytest.mark.parametrize(
    ("mode", "host"),
    [
        (ELF_GENERATION_FORMAT.LOLLMS, "http://localhost:9600/v1"),
        (ELF_GENERATION_FORMAT.VLLM, "http://localhost:8000/v1"),
        (ELF_GENERATION_FORMAT.LITELLM, "http://localhost:4000/v1"),
        (ELF_GENERATION_FORMAT.OPENAI, "http://default.invalid/v1"),
    ],
)
def test_openai_compatible_formats_pick_the_openai_binding_and_its_base_url(registry, mode, host):
    client = LollmsClient(default_generation_mode=mode, model_name="m", registry=registry)
    assert client.llm.binding_name == "openai"
    assert client.llm.config["host_address"] == host


def test_no_argument_at_all_is_the_seeds_lollms_server(registry):
    client = LollmsClient(registry=registry)
    assert client.llm.config["host_address"] == "http://localhost:9600/v1"


def test_host_model_and_sampling_reach_the_binding(registry):
    client = LollmsClient(
        host_address="http://127.0.0.1:11434",
        model_name="qwen3",
        default_generation_mode=ELF_GENERATION_FORMAT.OLLAMA,
        n_predict=9,
        ctx_size=1024,
        n_threads=2,
        registry=registry,
    )
    assert client.llm.binding_name == "ollama"
    assert (client.llm.config["ctx_size"], client.llm.config["n_threads"]) == (1024, 2)
    assert client.generate("x") == "http://127.0.0.1:11434|qwen3|9"
    assert client.generate("x", n_predict=3) == "http://127.0.0.1:11434|qwen3|3"


def test_mode_given_as_a_string(registry):
    assert LollmsClient(default_generation_mode="ollama", registry=registry).llm.binding_name == "ollama"


def test_model_without_a_model_setting_goes_through_load_model(registry):
    client = LollmsClient(llm_binding_name="bare", model_name="tiny", registry=registry)
    assert client.llm.model_name == "tiny"
    with pytest.raises(BindingLoadError, match="could not load model 'unloadable'"):
        LollmsClient(llm_binding_name="bare", model_name="unloadable", registry=registry)


def test_only_other_modalities_means_no_llm(registry):
    with pytest.raises(BindingNotFoundError, match="installed tts bindings: none"):
        LollmsClient(tts_binding_name="echo", registry=registry)


def test_explicit_config_model_beats_the_seed_argument(registry):
    client = LollmsClient(
        llm_binding_name="openai",
        llm_binding_config={"model_name": "from-config"},
        model_name="seed",
        registry=registry,
    )
    assert client.llm.model_name == "from-config"


def test_generation_mode_as_the_enums_integer_value_is_that_member(registry):
    # Seed code passes ELF_GENERATION_FORMAT.VLLM.value as often as the member (was a KeyError).
    client = LollmsClient(default_generation_mode=5, registry=registry)
    assert client.llm.binding_name == "openai"
    assert client.llm.config["host_address"] == "http://localhost:8000/v1"


@pytest.mark.parametrize("mode", [99, -1, 2.0, True, "gpt", ["OPENAI"]])
def test_unknown_generation_mode_is_a_config_error_naming_it_and_the_allowed_ones(registry, mode):
    from lollms_core import ConfigError

    with pytest.raises(ConfigError) as caught:
        LollmsClient(default_generation_mode=mode, registry=registry)
    message = str(caught.value)
    assert f"default_generation_mode {mode!r}" in message
    assert "LOLLMS (0)" in message and "VLLM (5)" in message
