"""``LollmsLLMBinding``: one streaming primitive in, every seed and modern form out.

A binding author writes ``_stream(request) -> Iterator[Chunk]`` (and, if the backend has
a native async client, ``_astream``). This class derives the blocking string, the seeds'
callback, the Python iterator and the async twins, and applies cancel, events and the
error rule the same way for every binding.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ..errors import CallbackError, ConfigError, NotSupportedError, ServerError
from ..text import split_discussion as _split_discussion
from ..types import (
    ChatRequest,
    Chunk,
    GenerationOptions,
    GenerationResult,
    ImageInput,
    Message,
    Modality,
    StreamingCallback,
    ToolCall,
    ToolCallDelta,
)
from ._seed000 import Seed000Generate
from ._streaming import Call, Delivery, TaskInterrupt, closable, enter_call, leave_call, stream_in_thread
from ._text_check import check_encodable, check_messages_encodable
from ._tool_stream import prepare_tools
from .base import LollmsBinding, seed_result
from .options import SAMPLING_OPTIONS, merge_options

if TYPE_CHECKING:
    from ..text_processing import LollmsTextProcessor

__all__ = ["LollmsLLMBinding"]

#: ``build_request`` keywords for tool calling and constrained output (never sent as ``extra``).
_TOOL_PARAMS = ("tools", "tool_choice", "parallel_tool_calls", "json_schema")

Prompt = Union[str, list[Message]]
_END: Any = object()  # what next() gives when the primitive is exhausted


class LollmsLLMBinding(Seed000Generate, LollmsBinding):
    """Base class of text-generation bindings (seed 002's contract)."""

    modality: ClassVar[Modality] = Modality.LLM

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        #: Sampling defaults applied to every call (the client sets these); per-call values win.
        self.default_options = GenerationOptions()

    @functools.cached_property
    def tp(self) -> LollmsTextProcessor:
        """lollms_client's text processor of this binding: ``generate_code``, ``yes_no``... (built on first use)."""
        from ..text_processing import LollmsTextProcessor

        return LollmsTextProcessor(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every binding's get_model_info() carries the two capability keys, also a third-party
        # override written before they existed: its dict gains them unless it set them itself.
        own = cls.__dict__.get("get_model_info")
        if own is not None and not getattr(own, "_with_capabilities", False):
            cls.get_model_info = _with_capabilities(own)  # type: ignore[method-assign,assignment]

    # == capabilities ===================================================================

    def supports_tools(self, model: str | None = None) -> bool:
        """Whether ``model`` (default: the current one) does native tool calling through this binding.

        ``False`` here; a binding that passes ``ChatRequest.tools`` to its backend (and yields
        :class:`~lollms_core.types.ToolCallDelta`) overrides it. Passing ``tools`` to a binding
        that says ``False`` raises :class:`~lollms_core.errors.NotSupportedError`.
        """
        return False

    def supports_json_schema(self, model: str | None = None) -> bool:
        """Whether the backend can constrain the answer to ``ChatRequest.json_schema`` (``False`` here)."""
        return False

    # == the primitive a binding implements ===========================================

    @abstractmethod
    def _stream(self, request: ChatRequest) -> Iterator[Chunk | ToolCallDelta | ToolCall]:
        """Yield the answer as :class:`Chunk` objects.

        Clean up in ``finally``: the base calls ``close()`` on this generator to stop
        early, and that must close the upstream. What it raises that is not a lollms error
        reaches callers as an :class:`~lollms_core.errors.EngineError`.
        """

    async def _astream(self, request: ChatRequest) -> AsyncIterator[Chunk | ToolCallDelta | ToolCall]:
        """Async form of :meth:`_stream`. The default runs ``_stream`` in a worker thread."""
        async for chunk in stream_in_thread(self._stream(request)):
            yield chunk

    # == request building ===============================================================

    def build_request(
        self,
        prompt: Prompt,
        *,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        split: bool = False,
        user_keyword: str = "!@>user:",
        ai_keyword: str = "!@>assistant:",
        method: str = "generate_text",
        **params: Any,
    ) -> ChatRequest:
        """Turn the seeds' arguments into a validated :class:`ChatRequest`.

        :raises ConfigError: a sampling option of the wrong type or range, an unknown option, or
            text that is not valid Unicode (a lone surrogate; the message names its position).
        """
        if isinstance(prompt, str):
            messages = (
                _split_discussion(prompt, user_keyword=user_keyword, ai_keyword=ai_keyword)
                if split
                else [{"role": "user", "content": prompt}]
            )
        elif isinstance(prompt, list):
            messages = [dict(m) for m in prompt]
        else:
            raise TypeError(f"prompt must be a str or a list of message dicts, not {type(prompt).__name__}")
        if system_prompt:
            messages.insert(0, {"role": "system", "content": system_prompt})
        if images:
            last_user: Message | None = next((m for m in reversed(messages) if m.get("role") == "user"), None)
            if last_user is None:
                messages.append(last_user := {"role": "user", "content": ""})
            last_user["images"] = [*(last_user.get("images") or ()), *images]
        check_messages_encodable(messages)  # a lone surrogate fails here, named, not in the engine
        model = params.pop("model", None) or params.pop("model_name", None) or self.model_name
        tooling = {k: params.pop(k) for k in _TOOL_PARAMS if k in params}
        sampling = {k: params.pop(k) for k in list(params) if k in SAMPLING_OPTIONS}
        options = merge_options(self.default_options, sampling)
        extra = self._checker().validate_call(method, params, also_known=SAMPLING_OPTIONS)
        request = ChatRequest(messages=messages, model=model, options=options, extra=extra)
        if tooling:
            self._add_tooling(request, **tooling)
        return request

    def _add_tooling(
        self,
        request: ChatRequest,
        tools: Any = None,
        tool_choice: str | None = None,
        parallel_tool_calls: bool | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> None:
        """Check the tool-calling and constrained-output parameters and put them in ``request``."""
        where = f"the {self.binding_name} binding" + (f" (model '{request.model}')" if request.model else "")
        if tools:
            if isinstance(tools, (str, bytes, dict)) or not hasattr(tools, "__iter__"):
                raise ConfigError(f"tools must be a list of tool definitions, not {type(tools).__name__}")
            if not self.supports_tools(request.model):
                raise NotSupportedError(
                    f"{where} has no native tool calling; use client.generate_with_tools(..., "
                    "tool_mode='prompt') to describe the tools in the prompt instead"
                )
        request.tools, request.tool_choice, request.wire_names = prepare_tools(
            list(tools or ()), tool_choice, request.messages
        )
        if parallel_tool_calls is not None and not isinstance(parallel_tool_calls, bool):
            raise ConfigError(f"parallel_tool_calls must be a bool, not {type(parallel_tool_calls).__name__}")
        request.parallel_tool_calls = parallel_tool_calls
        if json_schema is not None:
            if not isinstance(json_schema, dict):
                raise ConfigError(f"json_schema must be a JSON Schema dict, not {type(json_schema).__name__}")
            if not self.supports_json_schema(request.model):
                raise NotSupportedError(
                    f"{where} cannot constrain its answer to a JSON Schema; use "
                    "client.generate_structured_content(...), which validates and retries instead"
                )
            request.json_schema = json_schema

    # == the derived forms ==============================================================

    def _for_consumer(self, request: ChatRequest, callback: StreamingCallback | None) -> ChatRequest:
        """``request`` as the primitive should see it: not streamed when nobody consumes chunks.

        With no callback and no observer, only the final text matters, so an HTTP binding may ask
        for one JSON body instead of an event stream (``ChatRequest.streaming``).
        """
        if callback is None and request.streaming and not self.registry.observers():
            return replace(request, streaming=False)
        return request

    def run(
        self, request: ChatRequest, callback: StreamingCallback | None = None, method: str = "generate_text"
    ) -> GenerationResult:
        """Run a request to the end (or until ``callback`` returns ``False``)."""
        result = GenerationResult(text="")
        deliver = Delivery(callback) if callback is not None else None
        it = self._iterate(self._for_consumer(request, callback), result, method)
        try:
            if deliver is None:
                for _chunk in it:
                    pass
                return result
            for chunk in it:
                try:
                    go_on = deliver(chunk)
                except CallbackError as error:
                    # Raised inside the stream, so it closes upstream and observers see an "error".
                    it.throw(error)
                    raise  # not reached: throw() re-raises it
                if not go_on:
                    result.stopped_by = "callback"
                    break
        finally:
            it.close()
        return result

    def _call(self, result: GenerationResult, method: str) -> Call:
        return Call(self._start_call(), self._events(method), result, self._end_call)

    def _iterate(self, request: ChatRequest, result: GenerationResult, method: str) -> Generator[Chunk, None, None]:
        call = self._call(result, method)
        gen = closable(self._stream(request))
        take = call.take
        step = functools.partial(call.context.run, next, gen, _END)  # the primitive runs as this call
        try:
            while (chunk := step()) is not _END:
                if take(chunk):
                    yield chunk
            yield from call.finish_tools(request)  # complete tool calls, parsed once, as chunks
            call.done()
        except GeneratorExit:
            call.stopped = True  # the consumer stopped (callback returned False, or it left): a normal end
            raise
        except BaseException as exc:
            error = call.fail(self._engine_error("_stream", exc))  # an engine's own exception: EngineError
            if error is exc:
                raise
            raise error from exc
        finally:
            call.context.run(gen.close)
            call.close()

    def stream(self, prompt: Prompt, **kwargs: Any) -> Iterator[Chunk]:
        """Iterate over the answer's chunks (``str(chunk)`` is its text). Breaking out closes the upstream."""
        request = self.build_request(prompt, method="generate_text", **kwargs)
        yield from self._iterate(request, GenerationResult(text=""), "stream")

    @seed_result
    def generate_text(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str = "",
        n_predict: int | None = None,
        stream: bool = False,
        streaming_callback: StreamingCallback | None = None,
        **kwargs: Any,
    ) -> str | dict[str, Any]:
        """Generate an answer to ``prompt`` (seed 002). Returns the text, or the seeds' error dict.

        ``stream`` is accepted for compatibility: with a ``streaming_callback`` chunks are
        always delivered as they come. ``split=True`` reads ``prompt`` as a ``!@>role:`` discussion.
        """
        request = self.build_request(prompt, images=images, system_prompt=system_prompt, n_predict=n_predict, **kwargs)
        return self.run(request, streaming_callback).text

    @seed_result
    def generate_from_messages(
        self, messages: list[Message], streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Generate the next assistant turn for OpenAI-style ``messages``."""
        kwargs.pop("stream", None)
        request = self.build_request(messages, **kwargs)
        return self.run(request, streaming_callback).text

    @seed_result
    def chat(
        self, discussion: Any, streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Generate the next turn of a :class:`~lollms_core.LollmsDiscussion` (or a message list)."""
        messages = discussion if isinstance(discussion, list) else discussion.export("messages")
        kwargs.pop("stream", None)
        return self.run(self.build_request(messages, **kwargs), streaming_callback).text

    # -- async twins ----------------------------------------------------------------------

    async def arun(
        self, request: ChatRequest, callback: StreamingCallback | None = None, method: str = "agenerate_text"
    ) -> GenerationResult:
        """Async :meth:`run`."""
        result = GenerationResult(text="")
        deliver = Delivery(callback) if callback is not None else None
        it = self._aiterate(self._for_consumer(request, callback), result, method)
        try:
            if deliver is None:
                async for _chunk in it:
                    pass
                return result
            async for chunk in it:
                try:
                    go_on = deliver(chunk)
                except CallbackError as error:
                    # Raised inside the stream, so it closes upstream and observers see an "error".
                    await it.athrow(error)
                    raise  # not reached: athrow() re-raises it
                if not go_on:
                    result.stopped_by = "callback"
                    break
        finally:
            await it.aclose()
        return result

    async def _aiterate(
        self,
        request: ChatRequest | Callable[[], ChatRequest],
        result: GenerationResult | None,
        method: str,
    ) -> AsyncGenerator[Chunk, None]:
        if callable(request):  # astream(): build (and check) the request on first iteration
            request = request()
        call = self._call(result if result is not None else GenerationResult(text=""), method)
        interrupt = TaskInterrupt(call.flag)
        gen = self._astream(request)
        take = call.take
        # The primitive's first step runs as this call: a sync primitive run in a worker
        # (stream_in_thread) copies that context then, for good; native async HTTP is stopped by
        # cancelling the task, so later steps need no context switch (this runs per chunk).
        token: Any = enter_call(call.flag)
        try:
            while True:
                interrupt.waiting = True  # only now may cancel() cancel this task
                try:
                    chunk = await gen.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    interrupt.waiting = False
                    if token is not None:
                        leave_call(token)
                        token = None
                if take(chunk):
                    yield chunk
            for chunk in call.finish_tools(request):  # complete tool calls, parsed once, as chunks
                yield chunk
            call.done()
        except GeneratorExit:
            call.stopped = True
            raise
        except BaseException as exc:
            error = call.fail(self._engine_error("_astream", exc))  # an engine's own exception: EngineError
            if error is not exc:
                interrupt.absorb(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            interrupt.close()
            aclose = getattr(gen, "aclose", None)
            if aclose is not None:
                await aclose()
            call.close()

    def astream(self, prompt: Prompt, **kwargs: Any) -> AsyncIterator[Chunk]:
        """Async :meth:`stream`: an async generator; closing it (``aclose``) closes the upstream now.

        The loop's own generator is returned, not wrapped: one async-generator layer less per chunk.
        Arguments are still checked on first iteration, as for a generator function.
        """
        return self._aiterate(lambda: self.build_request(prompt, method="generate_text", **kwargs), None, "astream")

    @seed_result
    async def agenerate_text(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str = "",
        n_predict: int | None = None,
        streaming_callback: StreamingCallback | None = None,
        **kwargs: Any,
    ) -> str | dict[str, Any]:
        """Async :meth:`generate_text` (same error rule)."""
        kwargs.pop("stream", None)
        request = self.build_request(prompt, images=images, system_prompt=system_prompt, n_predict=n_predict, **kwargs)
        return (await self.arun(request, streaming_callback)).text

    async def agenerate_from_messages(
        self, messages: list[Message], streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Async :meth:`generate_from_messages`."""
        out: str | dict[str, Any] = await self.agenerate_text(messages, streaming_callback=streaming_callback, **kwargs)
        return out

    async def achat(
        self, discussion: Any, streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Async :meth:`chat`."""
        messages = discussion if isinstance(discussion, list) else discussion.export("messages")
        return await self.agenerate_from_messages(messages, streaming_callback, **kwargs)

    # == the rest of seed 002's contract ================================================

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with the model's tokenizer."""
        raise NotSupportedError(f"the {self.binding_name} binding cannot tokenize")

    def detokenize(self, tokens: list[int]) -> str:
        """Text of a list of token ids."""
        raise NotSupportedError(f"the {self.binding_name} binding cannot detokenize")

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is (default: ``len(tokenize(text))``)."""
        return len(self.tokenize(text))

    def embed(self, text: str | list[str], **kwargs: Any) -> list[float] | list[list[float]]:
        """One vector for a string, a list of vectors (one batch) for a list of strings.

        Bindings implement :meth:`_embed`; this checks the input and the answer's length once for all.
        """
        if isinstance(text, str):
            inputs = [text]
        elif isinstance(text, list) and all(isinstance(t, str) for t in text):
            inputs = list(text)
        else:
            raise TypeError(f"embed() takes a str or a list of str, not {type(text).__name__}")
        if not inputs:
            return []
        for index, item in enumerate(inputs):
            check_encodable(item, f"embed input {index}")
        vectors = self._observed("embed", lambda: self._guarded(self._embed, inputs, **kwargs))
        if len(vectors) != len(inputs):
            raise ServerError(f"{self.binding_name} returned {len(vectors)} vectors for {len(inputs)} inputs")
        return vectors[0] if isinstance(text, str) else vectors

    def _embed(self, inputs: list[str], **kwargs: Any) -> list[list[float]]:
        """One vector per input, in order (the embeddings primitive)."""
        raise NotSupportedError(f"the {self.binding_name} binding has no embeddings")

    def get_model_info(self) -> dict[str, Any]:
        """Details of the active model (name, context size, capabilities...).

        Always carries ``supports_tools`` and ``supports_structured_output`` (added to a
        subclass's dict when it does not set them).
        """
        return {
            "binding": self.binding_name,
            "model_name": self.model_name,
            "supports_tools": self.supports_tools(),
            "supports_structured_output": self.supports_json_schema(),
        }

    def list_models(self) -> list[dict[str, Any]]:
        """Models this binding can use: dicts with at least ``model_name``."""
        return []

    def listModels(self) -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models()

    def load_model(self, model_name: str) -> bool:
        """Switch to ``model_name``; return ``True`` on success (seed contract)."""
        self.model_name = model_name
        return True

    def split_discussion(
        self,
        lollms_prompt_string: str,
        system_keyword: str = "!@>system:",
        user_keyword: str = "!@>user:",
        ai_keyword: str = "!@>assistant:",
    ) -> list[Message]:
        """Split a ``!@>role:`` discussion string into OpenAI-style messages (seed 002)."""
        return _split_discussion(lollms_prompt_string, system_keyword, user_keyword, ai_keyword)


def _with_capabilities(get_model_info: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(get_model_info)
    def wrapped(self: LollmsLLMBinding) -> Any:
        info = get_model_info(self)
        if isinstance(info, dict):
            if "supports_tools" not in info:
                info["supports_tools"] = self.supports_tools()
            if "supports_structured_output" not in info:
                info["supports_structured_output"] = self.supports_json_schema()
        return info

    wrapped._with_capabilities = True  # type: ignore[attr-defined]
    return wrapped
