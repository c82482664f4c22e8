"""Hostile values where they enter: non-finite sampling numbers and text that is not valid Unicode."""

from __future__ import annotations

import math
from typing import Any

import pytest
from lollms_core import ConfigError, LollmsClient, LollmsLLMBindingManager

FLOAT_OPTIONS = ["temperature", "top_p", "repeat_penalty"]


@pytest.mark.parametrize("option", FLOAT_OPTIONS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_sampling_values_are_refused_naming_the_option(option: str, value: float) -> None:
    binding = LollmsLLMBindingManager().create_binding("echo")
    with pytest.raises(ConfigError) as caught:
        binding.generate_text("hi", **{option: value})
    assert f"option '{option}' is {value!r}; a finite number in" in str(caught.value)


def test_non_finite_client_defaults_are_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match="option 'temperature' is nan"):
        LollmsClient(llm_binding_name="echo", temperature=math.nan)


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda b: b.generate_text("ok \ud800 no"), "message 0 (user) content"),
        (lambda b: b.generate_text("fine", system_prompt="sys \udcff"), "message 0 (system) content"),
        (
            lambda b: b.generate_from_messages(
                [{"role": "user", "content": "a"}, {"role": "user", "content": "\udfff"}]
            ),
            "message 1 (user) content",
        ),
        (lambda b: list(b.stream([{"role": "user", "content": [{"type": "text", "text": "x\ud83d"}]}])), "message 0"),
    ],
)
def test_lone_surrogates_in_prompts_are_a_config_error_naming_the_position(call: Any, where: str) -> None:
    binding = LollmsLLMBindingManager().create_binding("echo", strict=True)
    with pytest.raises(ConfigError) as caught:
        call(binding)
    message = str(caught.value)
    assert where in message
    assert "is not valid Unicode text: character" in message
    assert "\ud800" not in message and "\udcff" not in message  # never echoed: it could not be printed


def test_valid_non_ascii_text_passes_untouched() -> None:
    binding = LollmsLLMBindingManager().create_binding("echo")
    text = "café 東京 🐉 \u200d"
    assert binding.generate_text(text) == text


def test_lone_surrogates_in_embedding_inputs_are_named() -> None:
    from lollms_core.bindings.llm import LollmsLLMBinding

    class Embedder(LollmsLLMBinding):
        def _stream(self, request: Any) -> Any:
            yield from ()

        def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
            return [[float(len(t.encode()))] for t in inputs]

    binding = Embedder()
    assert binding.embed(["ok", "é"]) == [[2.0], [2.0]]
    with pytest.raises(ConfigError, match="embed input 1 is not valid Unicode text: character 0 is U\\+D800"):
        binding.embed(["ok", "\ud800"])
