"""Numeric settings have upper bounds: an absurd timeout or pool size is a ConfigError at construction."""

from __future__ import annotations

import pytest
from lollms_core import (
    ConfigError,
    LollmsLLMBindingManager,
    LollmsSTTBindingManager,
    LollmsTTIBindingManager,
    LollmsTTSBindingManager,
)

MANAGERS = [LollmsLLMBindingManager, LollmsSTTBindingManager, LollmsTTIBindingManager, LollmsTTSBindingManager]


@pytest.mark.parametrize("manager", MANAGERS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(("setting", "value"), [("timeout", 1e9), ("connect_timeout", 1e6), ("max_connections", 10**6)])
def test_absurd_numbers_are_refused_naming_the_setting(manager, setting: str, value: float) -> None:
    with pytest.raises(ConfigError, match=setting):
        manager().create_binding("openai", host_address="http://127.0.0.1:9/v1", **{setting: value})


def test_sane_values_at_the_bounds_are_accepted() -> None:
    binding = LollmsLLMBindingManager().create_binding(
        "openai", host_address="http://127.0.0.1:9/v1", timeout=86400.0, connect_timeout=3600.0, max_connections=1000
    )
    binding.close()
