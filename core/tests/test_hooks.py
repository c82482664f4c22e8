"""The ``lollms_on_generation_event`` hook: observers on a fresh Registry see start/chunk/end/error."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from lollms_core import (
    GenerationCancelled,
    GenerationEvent,
    LollmsLLMBindingManager,
    LollmsTTIBindingManager,
    Registry,
    hookimpl,
)
from lollms_core.errors import CallbackError, ServerError
from lollms_core.testing.echo import EchoLLMBinding, EchoTTIBinding
from lollms_core.testing.echo_plugin import MANIFESTS


class ObservedEchoLLM(EchoLLMBinding):
    """Its own class, so loading it into a test registry leaves the real echo binding alone."""


class ObservedEchoTTI(EchoTTIBinding):
    """Same, for images."""


class BindingsPlugin:
    @hookimpl
    def lollms_register_bindings(self) -> list[dict[str, Any]]:
        llm, tti = dict(MANIFESTS[0]), dict(MANIFESTS[1])
        llm.update(name="observed", **{"class": f"{__name__}:ObservedEchoLLM"})
        tti.update(name="observed", **{"class": f"{__name__}:ObservedEchoTTI"})
        return [llm, tti]


class Recorder:
    def __init__(self) -> None:
        self.events: list[GenerationEvent] = []

    @hookimpl
    def lollms_on_generation_event(self, event: GenerationEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class Exploding:
    @hookimpl
    def lollms_on_generation_event(self, event: GenerationEvent) -> None:
        raise RuntimeError("observer exploded")


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    added = reg.register_plugin(BindingsPlugin(), "test-observed", "1.0")
    assert [e.status for e in added] == ["ok", "ok"]
    return reg


@pytest.fixture
def recorder(registry: Registry) -> Recorder:
    rec = Recorder()
    registry.register_observer(rec, name="recorder")
    return rec


def llm(registry: Registry, **config: Any) -> Any:
    return LollmsLLMBindingManager(registry=registry).create_binding("observed", **config)


def test_events_of_a_generation_in_order(registry: Registry, recorder: Recorder) -> None:
    binding = llm(registry)
    assert binding.generate_text("a b c") == "a b c"
    assert recorder.kinds() == ["start", "chunk", "chunk", "chunk", "end"]
    first = recorder.events[0]
    assert (first.binding, first.modality, first.method, first.model) == ("observed", "llm", "generate_text", "echo")
    assert {e.call_id for e in recorder.events} == {first.call_id}
    assert [e.chunk.text for e in recorder.events if e.chunk] == ["a", " b", " c"]
    assert recorder.events[-1].result.text == "a b c"
    elapsed = [e.elapsed for e in recorder.events]
    assert elapsed == sorted(elapsed)
    recorder.events.clear()
    assert [c.text for c in binding.stream("x")] == ["x"]
    assert recorder.kinds() == ["start", "chunk", "end"]
    assert recorder.events[0].method == "stream"
    assert recorder.events[0].call_id != first.call_id


def test_error_event_carries_the_exception(registry: Registry, recorder: Recorder) -> None:
    out = llm(registry, fail_with="server").generate_text("a b")
    assert out["error_type"] == "ServerError"
    assert recorder.kinds() == ["start", "error"]
    assert isinstance(recorder.events[-1].error, ServerError)


def test_cancel_and_callback_errors_are_error_events(registry: Registry, recorder: Recorder) -> None:
    binding = llm(registry)

    def cancel(chunk: str, msg_type: Any) -> None:
        binding.cancel()

    with pytest.raises(GenerationCancelled):
        binding.generate_text("a b c", streaming_callback=cancel)
    assert recorder.kinds() == ["start", "chunk", "error"]
    assert isinstance(recorder.events[-1].error, GenerationCancelled)
    recorder.events.clear()

    def broken(chunk: str, msg_type: Any) -> None:
        raise ValueError("bad callback")

    with pytest.raises(CallbackError):
        binding.generate_text("a b c", streaming_callback=broken)
    assert recorder.kinds() == ["start", "chunk", "error"]
    assert isinstance(recorder.events[-1].error, CallbackError)


def test_callback_stop_still_ends_the_call(registry: Registry, recorder: Recorder) -> None:
    """An observer that opened a span on start must see the call end when a callback stops it."""
    assert llm(registry).generate_text("a b c", streaming_callback=lambda c, t: False) == "a"
    assert recorder.kinds() == ["start", "chunk", "end"]
    assert recorder.events[-1].result.stopped_by == "callback"
    assert recorder.events[-1].result.text == "a"


def test_async_generation_events(registry: Registry, recorder: Recorder) -> None:
    assert asyncio.run(llm(registry).agenerate_text("a b")) == "a b"
    assert recorder.kinds() == ["start", "chunk", "chunk", "end"]
    assert recorder.events[0].method == "agenerate_text"
    recorder.events.clear()
    assert asyncio.run(llm(registry).agenerate_text("a b c", streaming_callback=lambda c, t: False)) == "a"
    assert recorder.kinds() == ["start", "chunk", "end"]
    recorder.events.clear()

    def broken(chunk: str, msg_type: Any) -> None:
        raise ValueError("bad callback")

    with pytest.raises(CallbackError):
        asyncio.run(llm(registry).agenerate_text("a b c", streaming_callback=broken))
    assert recorder.kinds() == ["start", "chunk", "error"]
    assert isinstance(recorder.events[-1].error, CallbackError)


def test_a_raising_observer_never_breaks_generation(
    registry: Registry, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register_observer(Exploding(), name="exploding")
    with caplog.at_level(logging.WARNING, logger="lollms"):
        assert llm(registry).generate_text("a b") == "a b"
    assert recorder.kinds() == ["start", "chunk", "chunk", "end"]
    assert "observer exploded" in caplog.text


def test_media_calls_emit_start_and_end(registry: Registry, recorder: Recorder) -> None:
    tti = LollmsTTIBindingManager(registry=registry).create_binding("observed")
    image = tti.generate_image("red", size=4)
    assert recorder.kinds() == ["start", "end"]
    assert recorder.events[0].method == "generate_image"
    assert recorder.events[0].modality == "tti"
    assert recorder.events[-1].result == image
    recorder.events.clear()
    failing = LollmsTTIBindingManager(registry=registry).create_binding("observed", fail_with="auth")
    with pytest.raises(Exception, match="auth"):
        failing.generate_image("red")
    assert recorder.kinds() == ["start", "error"]


def test_no_observer_means_no_events_are_built(registry: Registry) -> None:
    binding = llm(registry)
    assert binding._events("generate_text") is None
    assert binding.generate_text("a") == "a"


def test_the_real_echo_binding_is_untouched_by_the_test_registry(registry: Registry, recorder: Recorder) -> None:
    llm(registry)
    echo = LollmsLLMBindingManager().create_binding("echo")
    assert type(echo) is EchoLLMBinding
    assert echo.registry is not registry
    echo.generate_text("a b")
    assert recorder.events == []
