"""The plugin contract for bindings we did not write (issue 10 items 2-5, 9; issue 11's duplicates).

Private registries only: nothing here depends on which plugins are installed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from lollms_core import (
    AmbiguousBindingError,
    BindingLoadError,
    BindingNotFoundError,
    GenerationEvent,
    LollmsClient,
    LollmsLLMBinding,
    LollmsLLMBindingManager,
    Registry,
    hookimpl,
)
from lollms_core.errors import ManifestError
from lollms_core.manifest._core_api import core_api_mismatch, normalise_core_api
from lollms_core.types import Chunk


class Echoish(LollmsLLMBinding):
    """One class that two rows will share."""

    def _stream(self, request: Any) -> Any:
        yield Chunk(f"{self.binding_name}:{self.config.get('level', self.config.get('speed'))}")


def manifest(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "modality": "llm",
        "class": f"{__name__}:Echoish",
        "description": "test binding",
        "core_api": 1,
        "input_parameters": [{"name": "level", "type": "int", "default": 1, "description": "a level"}],
        **extra,
    }


class Plugin:
    def __init__(self, *sources: Any) -> None:
        self.sources = list(sources)

    @hookimpl
    def lollms_register_bindings(self) -> list[Any]:
        return self.sources


# -- 10.2: a binding's spec and manifest belong to the instance ----------------------------------


def test_one_class_under_two_names_answers_with_each_name_and_manifest() -> None:
    reg = Registry()
    fast = manifest("fast")
    fast["input_parameters"] = [{"name": "speed", "type": "int", "default": 9, "description": "speed"}]
    reg.register_plugin(Plugin(manifest("slow"), fast), "two-names", "1.0")
    manager = LollmsLLMBindingManager(registry=reg)
    slow_binding = manager.create_binding("slow", level=3)
    fast_binding = manager.create_binding("fast", speed=7)
    # Created in this order, the old class-level state made 'slow' answer as 'fast'.
    assert (slow_binding.binding_name, fast_binding.binding_name) == ("slow", "fast")
    assert slow_binding.generate_text("x") == "slow:3"
    assert fast_binding.generate_text("x") == "fast:7"
    assert slow_binding.spec is reg.get("llm", "slow") and fast_binding.spec is reg.get("llm", "fast")
    assert manager.create_binding("slow").config["level"] == 1, "validated against slow's own manifest"
    assert Echoish.spec is None and Echoish.manifest is None, "nothing is written onto the class"


def test_one_class_in_two_registries_reports_to_its_own_registry() -> None:
    first, second = Registry(), Registry()
    first.register_plugin(Plugin(manifest("shared")), "dist-a", "1.0")
    second.register_plugin(Plugin(manifest("shared", title="second")), "dist-b", "2.0")
    seen: list[str] = []

    class Recorder:
        @hookimpl
        def lollms_on_generation_event(self, event: GenerationEvent) -> None:
            seen.append(event.kind)

    second.register_observer(Recorder())
    a = LollmsLLMBindingManager(registry=first).create_binding("shared")
    b = LollmsLLMBindingManager(registry=second).create_binding("shared")
    assert a.registry is first and b.registry is second
    assert a.spec is not None and a.spec.distribution == "dist-a"
    assert b.manifest is not None and b.manifest.title == "second"
    a.generate_text("quiet")
    assert seen == [], "the first registry has no observer"
    b.generate_text("loud")
    assert seen and seen[0] == "start"


# -- 10.3: hooks are called through pluggy -------------------------------------------------------


def test_a_wrapper_around_a_plugins_own_registration_runs() -> None:
    class Wrapped:
        @hookimpl
        def lollms_register_bindings(self) -> list[Any]:
            return [manifest("inner")]

        @hookimpl(wrapper=True, specname="lollms_register_bindings")
        def add_more(self) -> Any:
            result = yield
            return [*result, [manifest("added_by_wrapper")]]

    reg = Registry()
    added = reg.register_plugin(Wrapped(), "wrapper-dist", "1.0")
    assert [(e.name, e.status) for e in added] == [("inner", "ok"), ("added_by_wrapper", "ok")]


def test_wrapper_and_tryfirst_semantics_hold_within_one_plugin() -> None:
    order: list[str] = []

    class Ordered:
        @hookimpl(trylast=True)
        def lollms_on_generation_event(self, event: GenerationEvent) -> None:
            order.append("last")

    class First:
        @hookimpl(tryfirst=True)
        def lollms_on_generation_event(self, event: GenerationEvent) -> None:
            order.append("first")

    class Wrapping:
        @hookimpl(wrapper=True)
        def lollms_on_generation_event(self, event: GenerationEvent) -> Any:
            order.append("wrap-in")
            result = yield
            order.append("wrap-out")
            return result

    reg = Registry()
    reg.register_plugin(Plugin(manifest("o")), "o-dist", "1.0")
    reg.register_observer(Ordered(), name="ordered")
    reg.register_observer(First(), name="first")
    reg.register_observer(Wrapping(), name="wrapping")
    LollmsLLMBindingManager(registry=reg).create_binding("o").generate_text("x")
    per_event = order[: order.index("last") + 1]
    assert per_event.index("first") < per_event.index("last"), per_event
    assert per_event[0] == "wrap-in" and "wrap-out" in order, "the wrapper ran (it was ignored before)"


def test_a_hook_implementation_may_declare_fewer_arguments() -> None:
    calls: list[str] = []

    class CountsOnly:
        @hookimpl
        def lollms_on_generation_event(self) -> None:  # pluggy passes only what is declared
            calls.append("called")

    reg = Registry()
    reg.register_plugin(Plugin(manifest("p")), "p-dist", "1.0")
    reg.register_observer(CountsOnly(), name="counts")
    with_caplog_errors: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = with_caplog_errors.append  # type: ignore[method-assign]
    logging.getLogger("lollms").addHandler(handler)
    try:
        LollmsLLMBindingManager(registry=reg).create_binding("p").generate_text("a b")
    finally:
        logging.getLogger("lollms").removeHandler(handler)
    assert calls, "the implementation must be called"
    assert not with_caplog_errors, [r.getMessage() for r in with_caplog_errors]


def test_a_register_hook_that_exits_is_an_error_row() -> None:
    class Exits:
        @hookimpl
        def lollms_register_bindings(self) -> list[Any]:
            raise SystemExit(3)

    reg = Registry()
    [row] = reg.register_plugin(Exits(), "exit-dist", "1.0", row_name="exits")
    assert (row.name, row.status) == ("exits", "error")
    assert "SystemExit: 3" in (row.error or "")


# -- 10.4 / 11: duplicate names ------------------------------------------------------------------


def two_providers(first: str, second: str, name: str = "piper") -> Registry:
    reg = Registry(prefer={})
    reg.register_plugin(Plugin(manifest(name, title=first)), first, "1.0")
    reg.register_plugin(Plugin(manifest(name, title=second)), second, "2.0")
    return reg


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_two_third_party_providers_make_a_bare_name_ambiguous(order: str) -> None:
    dists = ["piper-a", "piper-b"] if order == "ab" else ["piper-b", "piper-a"]
    reg = two_providers(*dists)
    rows = [e for e in reg.entries if e.name == "piper"]
    assert sorted(e.distribution for e in rows) == ["piper-a", "piper-b"]
    assert all(e.status == "ok" for e in rows)
    assert all("ambiguous" in (e.warning or "") for e in rows)
    with pytest.raises(AmbiguousBindingError, match=r"piper-a:piper, piper-b:piper") as caught:
        reg.get("llm", "piper")
    assert isinstance(caught.value, BindingNotFoundError)
    manager = LollmsLLMBindingManager(registry=reg)
    for dist in ("piper-a", "piper-b"):
        binding = manager.create_binding(f"{dist}:piper")
        assert binding.manifest is not None and binding.manifest.title == dist
        assert binding.binding_name == "piper"


def test_lollms_prefer_picks_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = two_providers("piper-a", "piper-b")
    reg.prefer = None  # read the environment
    monkeypatch.setenv("LOLLMS_PREFER", "tts:other=x, llm:piper=piper_B")
    assert reg.get("llm", "piper").distribution == "piper-b"
    monkeypatch.setenv("LOLLMS_PREFER", "piper=piper-a")
    assert reg.get("llm", "piper").distribution == "piper-a"


def test_a_third_party_openai_never_displaces_ours_silently(caplog: pytest.LogCaptureFixture) -> None:
    for order in (["evil-openai", "lollms-openai"], ["lollms-openai", "evil-openai"]):
        reg = two_providers(*order, name="openai")
        with caplog.at_level(logging.WARNING, logger="lollms"):
            chosen = reg.get("llm", "openai")
        assert chosen.distribution == "lollms-openai"
        assert "also provided by evil-openai" in caplog.text
        assert "evil-openai:openai" in (chosen.warning or "")
        assert reg.get("llm", "evil-openai:openai").distribution == "evil-openai"
        caplog.clear()


def test_qualified_names_work_in_the_client_and_the_manager() -> None:
    reg = two_providers("piper-a", "piper-b")
    client = LollmsClient(llm_binding_name="piper-b:piper", registry=reg)
    assert client.llm is not None and client.llm.spec is not None
    assert client.llm.spec.distribution == "piper-b"
    with pytest.raises(BindingNotFoundError, match="'piper' is provided by: piper-a:piper, piper-b:piper"):
        reg.get("llm", "piper-c:piper")


def test_one_distribution_declaring_a_name_twice_is_still_an_error() -> None:
    reg = Registry()
    rows = reg.register_plugin(Plugin(manifest("twice"), manifest("twice")), "same-dist", "1")
    assert [r.status for r in rows] == ["ok", "error"]


# -- 10.5: core_api and version ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "ok"),
    [(1, True), (2, False), ("1", True), (">=1,<2", True), (">=2,<3", False), ("~=1.0", True), ("==1.*", True),
     ("!=1", False), ("<1", False), (">0", True)],
)  # fmt: skip
def test_core_api_accepts_integers_and_pep440_specifiers(declared: Any, ok: bool) -> None:
    normalised = normalise_core_api(declared)
    assert (core_api_mismatch(normalised, 1) is None) is ok


@pytest.mark.parametrize("bad", ["banana", ">=x", "~=1", True, -1, [1]])
def test_a_malformed_core_api_is_a_manifest_error(bad: Any) -> None:
    with pytest.raises(ManifestError, match="core_api"):
        normalise_core_api(bad)


def test_core_api_rows_ok_unverified_and_error_with_both_versions() -> None:
    reg = Registry()
    undeclared = manifest("nodecl")
    del undeclared["core_api"]
    reg.register_plugin(
        Plugin(manifest("inrange", core_api=">=1,<2"), manifest("outofrange", core_api=">=2,<3"), undeclared),
        "api-dist",
        "1.0",
    )
    rows = {e.name: e for e in reg.entries}
    assert rows["inrange"].status == "ok"
    assert rows["nodecl"].status == "unverified"
    assert "nodecl" in reg.available("llm"), "unverified bindings work"
    assert rows["outofrange"].status == "error"
    assert "built for lollms core API >=2,<3; this lollms-core implements core API 1" in (
        rows["outofrange"].error or ""
    )
    row = reg.register_plugin(Plugin(manifest("bad_api", core_api="banana")), "api-dist-2", "1.0")[0]
    assert row.status == "error" and "core_api" in (row.error or "") and row.name == "bad_api"


def test_manifest_version_disagreeing_with_the_distribution_is_a_warning() -> None:
    reg = Registry()
    reg.register_plugin(
        Plugin(manifest("v_same", version="1.0"), manifest("v_other", version="0.9"), manifest("v_none")),
        "v-dist",
        "1.0",
    )
    rows = {e.name: e for e in reg.entries}
    assert rows["v_other"].version == "1.0", "the distribution's version is the truth"
    assert "description.yaml says version 0.9; v-dist is 1.0" in (rows["v_other"].warning or "")
    assert rows["v_same"].warning is None and rows["v_none"].warning is None


# -- 10.9: unknown names -------------------------------------------------------------------------


def test_a_typo_suggests_installed_names_and_no_pip_line() -> None:
    reg = Registry()
    reg.register_plugin(Plugin(manifest("openai_like")), "x", "1")
    with pytest.raises(BindingNotFoundError) as caught:
        reg.get("llm", "openai_lik")
    message = str(caught.value)
    assert "Did you mean 'openai_like'?" in message
    assert "pip install" not in message, message


def test_a_published_binding_name_gets_its_pip_line_and_nothing_else_does() -> None:
    reg = Registry()
    with pytest.raises(BindingNotFoundError, match=r"`pip install lollms-whisper`"):
        reg.get("stt", "whisper")
    with pytest.raises(BindingNotFoundError) as caught:
        reg.get("llm", "whisper")  # not an llm binding: no pip line
    assert "pip install" not in str(caught.value)
    with pytest.raises(BindingNotFoundError) as caught:
        reg.get("llm", "totally-made-up")
    assert "pip install" not in str(caught.value)


def test_a_broken_row_explains_itself_under_its_qualified_name() -> None:
    reg = Registry()
    reg.register_plugin(Plugin(manifest("future", core_api=9)), "future-dist", "1")
    with pytest.raises(BindingLoadError, match="core API 9"):
        reg.get("llm", "future-dist:future")


def test_command_hooks_run_through_pluggy_one_plugin_at_a_time() -> None:
    import argparse

    seen: list[str] = []

    class NoArgs:
        @hookimpl
        def lollms_register_commands(self) -> None:  # declares none of the spec's arguments
            seen.append("no-args")

    class Adds:
        @hookimpl(tryfirst=True)
        def lollms_register_commands(self, subparsers: Any) -> None:
            subparsers.add_parser("added-by-plugin")
            seen.append("adds")

    class Raises:
        @hookimpl
        def lollms_register_commands(self, subparsers: Any) -> None:
            raise RuntimeError("no commands today")

    reg = Registry()
    for plugin, name in ((NoArgs(), "no-args"), (Raises(), "raises"), (Adds(), "adds")):
        reg.register_observer(plugin, name=name)
    sub = argparse.ArgumentParser(prog="x").add_subparsers()
    failures = []
    for plugin_name, caller in reg.per_plugin("lollms_register_commands"):
        try:
            caller(subparsers=sub)
        except RuntimeError:
            failures.append(plugin_name)
    assert seen == ["adds", "no-args"], "tryfirst first; an implementation without arguments is called"
    assert failures == ["raises"], "one raising plugin does not stop the others"
    assert "added-by-plugin" in sub.choices


def test_an_observer_calling_sys_exit_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    class Exits:
        @hookimpl
        def lollms_on_generation_event(self, event: GenerationEvent) -> None:
            raise SystemExit(5)

    reg = Registry()
    reg.register_plugin(Plugin(manifest("calm")), "calm-dist", "1.0")
    reg.register_observer(Exits(), name="exits")
    with caplog.at_level(logging.WARNING, logger="lollms"):
        assert LollmsLLMBindingManager(registry=reg).create_binding("calm").generate_text("x") == "calm:1"
    assert "lollms_on_generation_event in exits raised SystemExit: 5" in caplog.text
