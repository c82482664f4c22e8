"""The Registry and the managers: lookup errors, broken entries, class loading, construction failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lollms_core import (
    BindingLoadError,
    BindingNotFoundError,
    ConfigError,
    LollmsLLMBinding,
    LollmsLLMBindingManager,
    LollmsTTIBindingManager,
    Registry,
    get_registry,
    hookimpl,
)
from lollms_core.manifest import parse_manifest
from lollms_core.types import Chunk, Modality


class Upper(LollmsLLMBinding):
    def _stream(self, request: Any) -> Any:
        yield Chunk(request.messages[-1]["content"].upper())


class ExplodingConstructor(Upper):
    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        raise RuntimeError("engine missing")


class NotABinding:
    pass


def manifest(name: str, cls: str, modality: str = "llm", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "modality": modality,
        "class": f"{__name__}:{cls}",
        "description": "test binding",
        "input_parameters": [{"name": "level", "type": "int", "default": 1, "description": "a level"}],
        "core_api": 1,
        **extra,
    }


class Plugin:
    def __init__(self, *sources: Any) -> None:
        self.sources = list(sources)

    @hookimpl
    def lollms_register_bindings(self) -> list[Any]:
        return self.sources


def registry_with(*sources: Any) -> Registry:
    reg = Registry()
    reg.register_plugin(Plugin(*sources), "test-dist", "9.9")
    return reg


def test_lookup_lists_what_is_installed() -> None:
    reg = registry_with(manifest("zeta", "Upper"), manifest("alpha", "Upper"), manifest("pic", "Upper", "tti"))
    assert reg.available(Modality.LLM) == ["alpha", "zeta"]
    with pytest.raises(BindingNotFoundError, match="no llm binding named 'nope'; installed llm bindings: alpha, zeta"):
        reg.get("llm", "nope")
    with pytest.raises(BindingNotFoundError, match="installed ttv bindings: none"):
        reg.get("ttv", "alpha")


def test_broken_entry_explains_itself_on_lookup() -> None:
    reg = registry_with(manifest("future", "Upper", core_api=7))
    assert reg.available(Modality.LLM) == []
    with pytest.raises(BindingLoadError, match="llm binding 'future' is broken: built for lollms core API 7"):
        reg.get("llm", "future")


def test_duplicate_within_one_registry_is_an_error_entry() -> None:
    reg = registry_with(manifest("same", "Upper"), manifest("same", "Upper"), manifest("same", "Upper", "tti"))
    statuses = [(e.modality.value if e.modality else None, e.status) for e in reg.entries]
    assert statuses == [("llm", "ok"), ("llm", "error"), ("tti", "ok")]
    assert "duplicate llm binding 'same': already provided by test-dist 9.9" in (reg.entries[1].error or "")


def test_every_kind_of_source_is_accepted(tmp_path: Path) -> None:
    yaml_file = tmp_path / "pathbound" / "description.yaml"
    yaml_file.parent.mkdir()
    yaml_file.write_text(f"name: frompath\nmodality: llm\nclass: {__name__}:Upper\ndescription: d\n")
    reg = registry_with(manifest("fromdict", "Upper"), yaml_file, parse_manifest(manifest("frommodel", "Upper")))
    assert reg.available(Modality.LLM) == ["fromdict", "frommodel", "frompath"]
    manager = LollmsLLMBindingManager(registry=reg)
    for name in reg.available(Modality.LLM):
        assert manager.create_binding(name).generate_text("hi") == "HI"


def test_bad_sources_become_error_entries() -> None:
    reg = registry_with(42, "no_such_top_package_xyz.llm", manifest("ok", "Upper"))
    errors = [e.error or "" for e in reg.entries if e.status == "error"]
    assert len(errors) == 2
    assert errors[0].startswith("bad description.yaml for 42")
    assert "no_such_top_package_xyz" in errors[1]
    assert reg.available(Modality.LLM) == ["ok"]


def test_source_of_the_wrong_type_says_what_is_accepted() -> None:
    [entry] = registry_with(42).entries
    assert "a binding source must be a package name, Path, dict or Manifest, not int" in (entry.error or "")


def test_invalid_plugin_object_is_an_error_entry() -> None:
    class WrongSignature:
        @hookimpl
        def lollms_register_bindings(self, unexpected_argument: Any) -> list[Any]:
            return []

    reg = Registry()
    [entry] = reg.register_plugin(WrongSignature(), "bad-dist", "1")
    assert entry.status == "error"
    assert "invalid plugin" in (entry.error or "")
    assert "unexpected_argument" in (entry.error or "")


@pytest.mark.parametrize(
    ("cls", "fragment"),
    [
        ("Missing", f"cannot import llm binding 'b' ({__name__}:Missing) from test-dist: AttributeError"),
        ("NotABinding", f"{__name__}:NotABinding is not a subclass of LollmsLLMBinding"),
    ],
)
def test_load_class_errors_name_the_class(cls: str, fragment: str) -> None:
    reg = registry_with(manifest("b", cls))
    with pytest.raises(BindingLoadError) as caught:
        LollmsLLMBindingManager(registry=reg).create_binding("b")
    assert fragment in str(caught.value)


def test_binding_of_the_wrong_modality_is_refused() -> None:
    reg = registry_with(manifest("pic", "Upper", "tti"))
    with pytest.raises(BindingLoadError, match="is not a subclass of LollmsTTIBinding"):
        LollmsTTIBindingManager(registry=reg).create_binding("pic")


def test_manager_errors() -> None:
    reg = registry_with(manifest("up", "Upper"), manifest("boom", "ExplodingConstructor"))
    manager = LollmsLLMBindingManager(registry=reg)
    with pytest.raises(ConfigError, match="unknown parameter 'levle'; did you mean 'level'"):
        manager.create_binding("up", levle=3)
    with pytest.raises(BindingLoadError, match="llm binding 'boom' failed to start: RuntimeError: engine missing"):
        manager.create_binding("boom")
    up = manager.create_binding("up", level="4")
    assert up.config["level"] == 4
    # The row is the instance's (issue 10.2): nothing is written onto the class.
    assert up.spec is reg.get("llm", "up")
    assert type(up).spec is None
    assert up.registry is reg


def test_bindings_dir_is_ignored_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="bindings_dir is ignored"):
        manager = LollmsLLMBindingManager("/some/old/bindings")
    assert "echo" in manager.get_available_bindings()


def test_default_registry_has_the_six_echo_bindings() -> None:
    echo = [e for e in get_registry().entries if e.name == "echo" and e.distribution == "lollms-core"]
    assert sorted(e.modality.value for e in echo if e.modality) == ["llm", "stt", "tti", "ttm", "tts", "ttv"]
    assert all(e.status == "ok" for e in echo)
    row = echo[0].as_dict()
    assert set(row) == {"name", "modality", "distribution", "version", "status", "error", "warning"}
    assert row["error"] is None
