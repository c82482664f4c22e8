"""LollmsLLMBinding: options, callbacks, stopping, the error rule and seed compatibility (on the echo binding)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lollms_core import MSG_OPERATION_TYPE, MSG_TYPE, LollmsLLMBinding, LollmsLLMBindingManager
from lollms_core._cancel import current_call
from lollms_core.errors import CallbackError, ConfigError, NotSupportedError, ServerError
from lollms_core.testing.echo import EchoLLMBinding
from lollms_core.types import GenerationOptions

PROMPT = "one two three four five six"


def make(**config: Any) -> Any:
    return LollmsLLMBindingManager().create_binding("echo", **config)


# -- sampling options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("temperature", "hot", "option 'temperature' expects float, got 'hot' (str)"),
        ("n_predict", 2.5, "option 'n_predict' expects int, got 2.5 (float)"),
        ("top_k", True, "option 'top_k' expects int, got True (bool)"),
        ("top_p", 1.5, "option 'top_p' is 1.5; allowed range: 0.0 .. 1.0"),
        ("n_predict", 0, "option 'n_predict' is 0; allowed range: 1 .."),
        ("repeat_last_n", -2, "option 'repeat_last_n' is -2; allowed range: -1 .."),
        ("stop", 5, "option 'stop' expects a string or a list of strings, got 5"),
    ],
)
def test_bad_sampling_option_names_option_type_and_range(option: str, value: Any, fragment: str) -> None:
    binding = make()
    with pytest.raises(ConfigError) as caught:
        binding.generate_text(PROMPT, **{option: value})
    assert fragment in str(caught.value)


def test_defaults_merge_with_per_call_options() -> None:
    binding = make()
    binding.default_options = GenerationOptions(temperature=0.3, n_predict=3, stop=["x"])
    request = binding.build_request(PROMPT, n_predict=5, top_p=1, stop="END")
    assert request.options.n_predict == 5
    assert request.options.temperature == 0.3
    assert request.options.top_p == 1.0
    assert isinstance(request.options.top_p, float)
    assert request.options.stop == ["END"]
    assert binding.default_options.n_predict == 3, "per-call values must not change the defaults"
    # None means "not given": the default applies.
    assert binding.generate_text(PROMPT, n_predict=None) == "one two three"


def test_unknown_per_call_option_lists_what_is_known() -> None:
    with pytest.raises(ConfigError, match="unknown option 'prefx'; did you mean 'prefix'") as caught:
        make().generate_text(PROMPT, prefx=">")
    assert "temperature" in str(caught.value)
    assert make().generate_text("hi", prefix=">> ") == ">> hi"


def test_programmer_errors_raise_even_when_not_strict() -> None:
    binding = make()
    assert binding.strict is False
    with pytest.raises(TypeError, match="prompt must be a str or a list"):
        binding.generate_text(123)


# -- discussions, images, thoughts ---------------------------------------------------------------


def test_split_discussion_into_messages() -> None:
    text = "You are terse.\n!@>user: hi\n!@>assistant: hello\n!@>user: bye"
    assert make().split_discussion(text) == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]
    assert make().generate_text(text, split=True) == "bye"


def test_split_discussion_keeps_other_markers_as_user_turns() -> None:
    assert make().split_discussion("!@>user: hi\n!@>lollms: hello") == [
        {"role": "user", "content": "hi"},
        {"role": "user", "content": "lollms: hello"},
    ]


def test_images_and_system_prompt_reach_the_request() -> None:
    binding = make()
    request = binding.build_request("look", images=[b"\x89PNG..."], system_prompt="be brief")
    assert request.messages[0] == {"role": "system", "content": "be brief"}
    assert request.images == [b"\x89PNG..."]
    assert binding.generate_text("look", images=["a.png", "b.png"]) == "[2 image(s)] look"


def test_thought_chunks_are_separated_from_the_answer() -> None:
    binding = make()
    seen: list[tuple[str, MSG_TYPE]] = []
    text = binding.generate_text("<think>plan</think>answer", streaming_callback=lambda c, t: seen.append((c, t)))
    assert text == "answer"
    assert seen[0] == ("plan", MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK)
    result = binding.run(binding.build_request("<think>plan</think>answer now", n_predict=1))
    assert (result.text, result.thoughts, result.finish_reason) == ("answer", "plan", "length")
    assert result.usage == {"completion_tokens": 1}


# -- callbacks ----------------------------------------------------------------------------------


def test_callback_arity_two_and_three() -> None:
    binding = make()
    two: list[tuple[Any, ...]] = []
    three: list[tuple[Any, ...]] = []
    star: list[tuple[Any, ...]] = []

    def cb2(chunk: str, msg_type: MSG_TYPE) -> None:
        two.append((chunk, msg_type))

    def cb3(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any]) -> bool:
        three.append((chunk, msg_type, meta))
        return True

    def cb_star(*args: Any) -> None:
        star.append(args)

    for cb in (cb2, cb3, cb_star):
        assert binding.generate_text("a b", streaming_callback=cb) == "a b"
    assert two == [("a", MSG_TYPE.MSG_TYPE_CHUNK), (" b", MSG_TYPE.MSG_TYPE_CHUNK)]
    assert [c[:2] for c in three] == two
    assert all(isinstance(c[2], dict) for c in three)
    assert [len(a) for a in star] == [3, 3]


def test_only_an_explicit_false_stops() -> None:
    binding = make()
    calls: list[str] = []

    def falsy_but_not_false(chunk: str, msg_type: MSG_TYPE) -> Any:
        calls.append(chunk)
        return 0 if len(calls) == 1 else None

    assert binding.generate_text(PROMPT, streaming_callback=falsy_but_not_false) == PROMPT
    result = binding.run(binding.build_request(PROMPT), lambda c, t: False)
    assert result.text == "one"
    assert result.stopped_by == "callback"
    assert binding.streams_opened == binding.streams_closed == 2


def test_callback_raising_is_a_callback_error_and_closes_the_stream() -> None:
    binding = make()

    def broken(chunk: str, msg_type: MSG_TYPE) -> None:
        raise KeyError("oops")

    with pytest.raises(CallbackError, match="streaming callback raised KeyError") as caught:
        binding.generate_text(PROMPT, streaming_callback=broken)
    assert isinstance(caught.value.__cause__, KeyError)
    assert binding.streams_opened == binding.streams_closed == 1


def test_async_callback_raising_is_a_callback_error_and_closes_the_stream() -> None:
    binding = make()

    def broken(chunk: str, msg_type: MSG_TYPE) -> None:
        raise KeyError("oops")

    with pytest.raises(CallbackError, match="streaming callback raised KeyError") as caught:
        asyncio.run(binding.agenerate_text(PROMPT, streaming_callback=broken))
    assert isinstance(caught.value.__cause__, KeyError)
    assert binding.streams_opened == binding.streams_closed == 1


def test_async_callback_false_closes_the_stream() -> None:
    binding = make()
    result = asyncio.run(binding.arun(binding.build_request(PROMPT), lambda c, t: False))
    assert result.text == "one"
    assert result.stopped_by == "callback"
    assert binding.streams_opened == binding.streams_closed == 1


# -- the error rule -----------------------------------------------------------------------------


def test_backend_error_is_a_dict_for_seed_methods_and_raises_when_strict() -> None:
    lenient, strict = make(fail_with="server"), make(fail_with="server", strict=True)
    out = lenient.generate_text(PROMPT)
    assert out == {"status": False, "error": "echo binding asked to fail with 'server'", "error_type": "ServerError"}
    assert lenient.generate(PROMPT) == out
    assert lenient.generate_from_messages([{"role": "user", "content": PROMPT}]) == out
    assert asyncio.run(lenient.agenerate_text(PROMPT)) == out
    with pytest.raises(ServerError):
        list(lenient.stream(PROMPT))  # modern methods always raise
    with pytest.raises(ServerError):
        strict.generate_text(PROMPT)
    with pytest.raises(ServerError):
        asyncio.run(strict.agenerate_text(PROMPT))


def test_broken_stream_keeps_the_partial_text() -> None:
    out = make(fail_with="cut").generate_text(PROMPT)
    assert out == {
        "status": False,
        "error": "echo stream cut after 2 chunks",
        "error_type": "ServerError",
        "partial_text": "one two",
    }
    with pytest.raises(ServerError) as caught:
        make(fail_with="cut", strict=True).generate_text(PROMPT)
    assert caught.value.partial_text == "one two"


# -- seed 000 compatibility and enums -------------------------------------------------------------


def test_legacy_generate_uses_msg_operation_type_and_n_predict() -> None:
    binding = make()
    seen: list[tuple[str, Any]] = []
    out = binding.generate(PROMPT, 4, lambda chunk, op: seen.append((chunk, op)))
    assert out == "one two three four"
    assert [c for c, _ in seen] == ["one", " two", " three", " four"]
    assert {op for _, op in seen} == {MSG_OPERATION_TYPE.MSG_OPERATION_TYPE_ADD_CHUNK}
    assert binding.generate(PROMPT, n_predict=2, temperature=0.1) == "one two"
    assert binding.generate_with_images("see", ["x.png"], 10) == "[1 image(s)] see"
    with pytest.raises(ConfigError, match="temperature"):
        binding.generate(PROMPT, 4, None, False, temperature="x")


def test_msg_type_numbering_matches_lollms_client() -> None:
    expected = {
        "MSG_TYPE_CHUNK": 0,
        "MSG_TYPE_CONTENT": 1,
        "MSG_TYPE_THOUGHT_CHUNK": 4,
        "MSG_TYPE_EXCEPTION": 6,
        "MSG_TYPE_WARNING": 7,
        "MSG_TYPE_INFO": 8,
        "MSG_TYPE_STEP": 9,
    }
    assert {name: MSG_TYPE[name].value for name in expected} == expected
    assert MSG_TYPE.MSG_TYPE_CHUNK == 0  # IntEnum: callbacks comparing to ints keep working
    assert MSG_OPERATION_TYPE.MSG_OPERATION_TYPE_ADD_CHUNK == 0


def test_model_helpers() -> None:
    binding = make(model_name="echo-x")
    assert binding.model_name == "echo-x"
    assert binding.listModels() == binding.list_models() == [{"model_name": "echo", "size_gb": 0.0}]
    assert binding.load_model("other") is True
    assert binding.model_name == "other"
    assert binding.build_request("x").model == "other"
    assert binding.build_request("x", model="third").model == "third"


class _ShortEmbedder(EchoLLMBinding):
    """A binding whose backend drops an input: the base must notice."""

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        return super()._embed(inputs[:-1])


def test_embed_shapes_and_input_checks_live_in_the_base() -> None:
    binding = make()
    single, batch = binding.embed("a b"), binding.embed(["a b", "c"])
    assert isinstance(single, list)
    assert isinstance(single[0], float)
    assert batch[0] == single
    assert len(batch) == 2
    assert binding.embed([]) == []
    with pytest.raises(TypeError, match="str or a list of str"):
        binding.embed(["ok", 3])  # type: ignore[list-item]


def test_embed_answer_of_the_wrong_length_is_a_server_error() -> None:
    binding = _ShortEmbedder()
    with pytest.raises(ServerError, match="returned 1 vectors for 2 inputs"):
        binding.embed(["a", "b"])


def test_embed_without_the_primitive_is_not_supported() -> None:
    class NoEmbeddings(LollmsLLMBinding):
        manifest = EchoLLMBinding.manifest

        def _stream(self, request: Any) -> Any:
            yield from ()

    with pytest.raises(NotSupportedError):
        NoEmbeddings().embed("x")


# The current call (what HTTP aborts hook onto) belongs to the primitive's steps, never to the consumer.


def test_streams_closed_out_of_order_leave_no_current_call_behind():
    binding = LollmsLLMBindingManager().create_binding("echo")
    first, second = binding.stream("a b c"), binding.stream("d e f")
    next(first)
    next(second)
    assert current_call.get() is None, "the consumer's context must never hold a call"
    binding.cancel()
    first.close()
    second.close()
    assert current_call.get() is None


def test_an_async_stream_leaves_no_current_call_in_its_task():
    async def main():
        binding = LollmsLLMBindingManager().create_binding("echo")
        it = binding.astream("a b c")
        await it.__anext__()
        seen = current_call.get()
        await it.aclose()
        return seen, current_call.get()

    assert asyncio.run(main()) == (None, None)


def test_a_cancellation_that_is_not_ours_is_not_absorbed():
    """Only a cancel() that interrupted the task is turned into GenerationCancelled (a timeout's stays)."""
    from lollms_core._cancel import CallControl
    from lollms_core.bindings._streaming import TaskInterrupt

    async def main() -> int:
        interrupt = TaskInterrupt(CallControl())
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # someone else's cancellation, e.g. asyncio.wait_for's timeout
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError as exc:
            interrupt.absorb(exc)
        finally:
            interrupt.close()
        return task.cancelling()

    assert asyncio.run(main()) == 1
