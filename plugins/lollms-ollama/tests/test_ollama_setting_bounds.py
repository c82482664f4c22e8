"""Numeric settings have upper bounds: an absurd timeout is a ConfigError at construction."""

from __future__ import annotations

import pytest
from lollms_core import ConfigError, LollmsLLMBindingManager


@pytest.mark.parametrize(("setting", "value"), [("timeout", 1e9), ("max_retries", 1000)])
def test_absurd_numbers_are_refused_naming_the_setting(setting: str, value: float) -> None:
    with pytest.raises(ConfigError, match=setting):
        LollmsLLMBindingManager().create_binding("ollama", host_address="http://127.0.0.1:9", **{setting: value})
