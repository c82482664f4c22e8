"""A ready openai client from a warm manifest cache: no pydantic, no YAML (issue 13, item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CODE = """
import json, sys
from lollms_core import LollmsClient
client = LollmsClient(
    llm_binding_name="openai",
    llm_binding_config={"host_address": "http://127.0.0.1:9/v1", "model_name": "m", "service_key": "sk-abcdef0123"},
)
try:
    LollmsClient(llm_binding_name="openai", llm_binding_config={"host_adress": "x"})
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"pydantic": "pydantic" in sys.modules, "yaml": "yaml" in sys.modules, "error": error}))
"""


def _run(cache: Path) -> dict[str, object]:
    env = {**os.environ, "LOLLMS_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_openai_client_from_a_warm_cache_leaves_pydantic_out(tmp_path: Path) -> None:
    cold = _run(tmp_path)  # first sight: every manifest validated by pydantic, then cached
    assert cold["pydantic"] is True
    warm = _run(tmp_path)
    assert warm["pydantic"] is False and warm["yaml"] is False
    # Same config error on both paths, word for word.
    assert warm["error"] == cold["error"]
    assert "unknown parameter 'host_adress'; did you mean 'host_address'" in str(warm["error"])
