"""Issue 20's knots, cut by design: what a binding is handed, what it asks, what the registry is built with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lollms_core
import pytest
from lollms_core import Registry
from lollms_core.bindings import _host
from lollms_core.builtin import echo_plugin
from lollms_core.builtin.echo import EchoLLMBinding
from lollms_core.types import GenerationEvent


@pytest.fixture
def empty_slot() -> Iterator[None]:
    """No lookup installed, as if discovery had never run; restored afterwards."""
    saved = _host.binding_lookup()
    _host.fill_binding_lookup(None)
    try:
        yield
    finally:
        _host.fill_binding_lookup(saved)


class Observer:
    def __init__(self) -> None:
        self.events: list[GenerationEvent] = []

    @lollms_core.hookimpl
    def lollms_on_generation_event(self, event: GenerationEvent) -> None:
        self.events.append(event)


def test_a_binding_made_by_a_registry_is_handed_its_row_and_sink_and_looks_nothing_up(empty_slot: None) -> None:
    registry = Registry(prefer={})
    registry.register_plugin(echo_plugin, "lollms-core", "0.1.0", row_name="echo")
    observer = Observer()
    registry.register_observer(observer)
    spec = registry.get("llm", "echo")

    binding = registry.create("llm", "echo", model_name="echo")  # the slot is empty: nothing to ask

    assert binding.spec is spec and binding.event_sink is registry and binding.registry is registry
    assert binding.generate_text("knot") == "knot"
    assert observer.events and {e.binding for e in observer.events} == {"echo"}  # delivered to this registry


def test_a_directly_built_binding_asks_the_slot_discovery_filled() -> None:
    lookup = _host.binding_lookup()
    assert lookup is not None, "import lollms_core fills the slot"
    direct = EchoLLMBinding(model_name="echo")
    assert direct.spec is lollms_core.get_registry().get("llm", "lollms-core:echo")
    assert direct.registry is lollms_core.get_registry()


def test_without_the_slot_a_direct_binding_has_no_row_and_nobody_listens(empty_slot: None) -> None:
    direct = EchoLLMBinding()  # no row: no manifest to check a config against either
    assert direct.spec is None
    assert list(direct.registry.observers()) == []
    assert direct.generate_text("alone") == "alone"


class CountingStore:
    """A manifest store that is not discovery's cache: the registry only needs the protocol."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.gets = self.puts = 0

    def get(self, key: str | None) -> dict[str, Any] | None:
        self.gets += 1
        return self.data.get(key or "")

    def put(self, key: str | None, data: dict[str, Any]) -> None:
        self.puts += 1
        self.data[key or ""] = data

    def core_version(self) -> str:
        return "0.1.0"

    def save(self) -> None:
        return None


def test_the_registry_is_built_with_its_manifest_store() -> None:
    store = CountingStore()
    first = Registry(prefer={}, manifest_store=store)
    first.register_plugin(echo_plugin, "lollms-core", "0.1.0", row_name="echo")
    assert store.puts >= 7 and len(store.data) == store.puts  # six echo rows and the router, stored by content

    second = Registry(prefer={}, manifest_store=store)
    second.register_plugin(echo_plugin, "lollms-core", "0.1.0", row_name="echo")
    assert store.puts == len(store.data)  # served from the store: nothing validated twice
    assert second.get("llm", "echo").create(model_name="echo").generate_text("stored") == "stored"
    assert Registry().manifest_store is None  # a bare registry keeps nothing
