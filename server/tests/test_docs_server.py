"""docs/server.md works as written: its config file is valid, its Python runs against it, its error is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from lollms_core.errors import ConfigError
from lollms_server.config import parse_config

from .conftest import Running

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_config_example_is_valid_and_its_python_runs_against_it(serve) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(blocks("yaml")[0])
    assert parse_config(data).model_ids == ["chat", "chat-2", "painter", "speaker", "listener", "pool"]
    server: Running = serve(data, port=0)
    for code in blocks("python"):
        exec(compile(code, str(DOC), "exec"), {"BASE_URL": server.v1})


def test_the_error_shown_is_the_one_the_server_gives() -> None:
    shown = next(line for block in blocks("text") for line in block.splitlines() if "dleay" in line)
    data = yaml.safe_load(blocks("yaml")[0])
    data["models"]["chat"]["config"] = {"dleay": 0.0}
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert shown.removeprefix("lollms: error: ").rstrip(".") in str(info.value)
