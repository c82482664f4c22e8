"""``LollmsLLMBinding``: one streaming primitive in, every seed and modern form out.

A binding author writes ``_stream(request) -> Iterator[Chunk]`` (and, if the backend has
a native async client, ``_astream``). This class derives the blocking string, the seeds'
callback, the Python iterator and the async twins, and applies cancel, events and the
error rule the same way for every binding.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, ClassVar, Union

from ..errors import BackendError, CallbackError, GenerationCancelled, NotSupportedError, error_dict
from ..text import split_discussion as _split_discussion
from ..types import (
    MSG_OPERATION_TYPE,
    MSG_TYPE,
    ChatRequest,
    Chunk,
    GenerationOptions,
    GenerationResult,
    ImageInput,
    Message,
    Modality,
    StreamingCallback,
)
from .base import LollmsBinding, seed_result
from .options import SAMPLING_OPTIONS, merge_options

__all__ = ["LollmsLLMBinding"]

Prompt = Union[str, list[Message]]


class LollmsLLMBinding(LollmsBinding):
    """Base class of text-generation bindings (seed 002's contract)."""

    modality: ClassVar[Modality] = Modality.LLM

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        #: Sampling defaults applied to every call (the client sets these); per-call values win.
        self.default_options = GenerationOptions()

    # == the primitive a binding implements ===========================================

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        """Yield the answer as :class:`Chunk` objects.

        Clean up in ``finally``: the base calls ``close()`` on this generator to stop
        early, and that must close the upstream.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _stream()")

    async def _astream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Async form of :meth:`_stream`. The default runs ``_stream`` in a worker thread."""
        import asyncio

        gen = _closable(self._stream(request))
        loop = asyncio.get_running_loop()
        done = object()
        pending: Any = None
        try:
            while True:
                pending = loop.run_in_executor(None, next, gen, done)
                chunk = await pending
                pending = None
                if chunk is done:
                    return
                yield chunk
        finally:
            if pending is not None and not pending.done():
                # The worker is still inside next(); close the generator once it returns.
                pending.add_done_callback(lambda _f: gen.close())
            else:
                await loop.run_in_executor(None, gen.close)

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

        :raises ConfigError: a sampling option of the wrong type or range, or an unknown option.
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
        model = params.pop("model", None) or params.pop("model_name", None)
        sampling = {k: params.pop(k) for k in list(params) if k in SAMPLING_OPTIONS}
        options = merge_options(self.default_options, sampling)
        extra = type(self)._resolve_manifest().validate_call(method, params, also_known=SAMPLING_OPTIONS)
        return ChatRequest(messages=messages, model=model or self.model_name, options=options, extra=extra)

    # == the derived forms ==============================================================

    def run(
        self, request: ChatRequest, callback: StreamingCallback | None = None, method: str = "generate_text"
    ) -> GenerationResult:
        """Run a request to the end (or until ``callback`` returns ``False``)."""
        result = GenerationResult(text="")
        deliver = _adapt_callback(callback) if callback is not None else None
        it = self._iterate(request, result, method)
        try:
            for chunk in it:
                if deliver is None:
                    continue
                try:
                    go_on = deliver(chunk)
                except Exception as exc:
                    error = CallbackError(f"streaming callback raised {type(exc).__name__}: {exc}")
                    error.__cause__ = exc
                    # Raised inside the stream, so it closes upstream and observers see an "error".
                    it.throw(error)
                    raise error from exc  # not reached: throw() re-raises it
                if go_on is False:
                    result.stopped_by = "callback"
                    break
        finally:
            it.close()
        return result

    def _iterate(self, request: ChatRequest, result: GenerationResult, method: str) -> Generator[Chunk, None, None]:
        flag, emit = self._start_call(), self._events(method)
        tally = _Tally(flag, result)
        gen = _closable(self._stream(request))
        stopped = False
        if emit:
            emit("start")
        try:
            for chunk in gen:
                if tally.take(chunk):
                    if emit:
                        emit("chunk", chunk=chunk)
                    yield chunk
            tally.check_cancel()
        except GeneratorExit:
            # The consumer stopped (callback returned False, or it left the stream): a normal end.
            stopped = True
            raise
        except BaseException as exc:
            tally.failed(exc)
            if emit:
                emit("error", error=exc)
            raise
        finally:
            gen.close()
            self._end_call(flag)
            tally.finish()
            if emit and stopped:
                emit("end", result=result)
        if emit:
            emit("end", result=result)

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
        messages = discussion if isinstance(discussion, list) else discussion.export("openai_chat")
        kwargs.pop("stream", None)
        return self.run(self.build_request(messages, **kwargs), streaming_callback).text

    # -- async twins ----------------------------------------------------------------------

    async def arun(
        self, request: ChatRequest, callback: StreamingCallback | None = None, method: str = "agenerate_text"
    ) -> GenerationResult:
        """Async :meth:`run`."""
        result = GenerationResult(text="")
        deliver = _adapt_callback(callback) if callback is not None else None
        it = self._aiterate(request, result, method)
        try:
            async for chunk in it:
                if deliver is None:
                    continue
                try:
                    go_on = deliver(chunk)
                except Exception as exc:
                    error = CallbackError(f"streaming callback raised {type(exc).__name__}: {exc}")
                    error.__cause__ = exc
                    # Raised inside the stream, so it closes upstream and observers see an "error".
                    await it.athrow(error)
                    raise error from exc  # not reached: athrow() re-raises it
                if go_on is False:
                    result.stopped_by = "callback"
                    break
        finally:
            await it.aclose()
        return result

    async def _aiterate(
        self, request: ChatRequest, result: GenerationResult, method: str
    ) -> AsyncGenerator[Chunk, None]:
        flag, emit = self._start_call(), self._events(method)
        tally = _Tally(flag, result)
        gen = self._astream(request)
        stopped = False
        if emit:
            emit("start")
        try:
            async for chunk in gen:
                if tally.take(chunk):
                    if emit:
                        emit("chunk", chunk=chunk)
                    yield chunk
            tally.check_cancel()
        except GeneratorExit:
            # The consumer stopped (callback returned False, or it left the stream): a normal end.
            stopped = True
            raise
        except BaseException as exc:
            tally.failed(exc)
            if emit:
                emit("error", error=exc)
            raise
        finally:
            aclose = getattr(gen, "aclose", None)
            if aclose is not None:
                await aclose()
            self._end_call(flag)
            tally.finish()
            if emit and stopped:
                emit("end", result=result)
        if emit:
            emit("end", result=result)

    async def astream(self, prompt: Prompt, **kwargs: Any) -> AsyncIterator[Chunk]:
        """Async :meth:`stream`."""
        request = self.build_request(prompt, method="generate_text", **kwargs)
        it = self._aiterate(request, GenerationResult(text=""), "astream")
        try:
            async for chunk in it:
                yield chunk
        finally:
            # ``async for`` does not close the inner generator when this one is closed early
            # (there is no async ``yield from``): close it here, inside the running loop, so the
            # upstream connection closes now and not in a garbage-collector finalizer later.
            await it.aclose()

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
        try:
            return (await self.arun(request, streaming_callback)).text
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)

    async def agenerate_from_messages(
        self, messages: list[Message], streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Async :meth:`generate_from_messages`."""
        return await self.agenerate_text(messages, streaming_callback=streaming_callback, **kwargs)  # type: ignore[arg-type]

    async def achat(
        self, discussion: Any, streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Async :meth:`chat`."""
        messages = discussion if isinstance(discussion, list) else discussion.export("openai_chat")
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
        """One vector for a string, a list of vectors for a list of strings."""
        raise NotSupportedError(f"the {self.binding_name} binding has no embeddings")

    def get_model_info(self) -> dict[str, Any]:
        """Details of the active model (name, context size, capabilities...)."""
        return {"binding": self.binding_name, "model_name": self.model_name}

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

    # -- seed 000 compatibility ----------------------------------------------------------

    @seed_result
    def generate(
        self,
        prompt: str,
        n_predict: int = 128,
        callback: Callable[..., Any] | None = None,
        verbose: bool = False,
        **gpt_params: Any,
    ) -> str | dict[str, Any]:
        """Seed 000's ``generate``: ``callback(chunk, MSG_OPERATION_TYPE)``; ``gpt_params`` are sampling options."""
        return self._legacy(prompt, None, n_predict, callback, gpt_params)

    @seed_result
    def generate_with_images(
        self,
        prompt: str,
        images: list[ImageInput],
        n_predict: int = 128,
        callback: Callable[..., Any] | None = None,
        verbose: bool = False,
        **gpt_params: Any,
    ) -> str | dict[str, Any]:
        """Seed 000's ``generate_with_images``."""
        return self._legacy(prompt, images, n_predict, callback, gpt_params)

    def _legacy(
        self,
        prompt: str,
        images: list[ImageInput] | None,
        n_predict: int,
        callback: Callable[..., Any] | None,
        gpt_params: dict[str, Any],
    ) -> str:
        cb = None
        if callback is not None:

            def cb(chunk: str, msg_type: MSG_TYPE, meta: dict[str, Any] | None = None) -> bool | None:
                return callback(chunk, MSG_OPERATION_TYPE.MSG_OPERATION_TYPE_ADD_CHUNK)  # type: ignore[no-any-return]

        request = self.build_request(prompt, images=images, n_predict=n_predict, **gpt_params)
        return self.run(request, cb).text


def _adapt_callback(callback: StreamingCallback) -> Callable[[Chunk], bool | None]:
    """Call seed callbacks with the arity they accept: ``(chunk, type)`` or ``(chunk, type, meta)``."""
    import inspect

    try:
        params = inspect.signature(callback).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        three = any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) >= 3
    except (TypeError, ValueError):
        three = True
    if three:
        return lambda c: callback(c.text, c.type, c.meta or {})
    return lambda c: callback(c.text, c.type)


def _closable(it: Iterator[Chunk]) -> Generator[Chunk, None, None]:
    """The primitive's iterator as a generator, so ``close()`` always exists (and reaches it)."""
    if isinstance(it, Generator):
        return it

    def wrap() -> Generator[Chunk, None, None]:
        try:
            yield from it
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    return wrap()


class _Tally:
    """Bookkeeping shared by the sync and async loops: accumulate, check cancel, fill the result."""

    __slots__ = ("flag", "parts", "result", "thoughts")

    def __init__(self, flag: Any, result: GenerationResult) -> None:
        self.flag, self.result = flag, result
        self.parts: list[str] = []
        self.thoughts: list[str] = []

    def take(self, chunk: Chunk) -> bool:
        """Record a chunk; return whether it carries text to deliver. Raises if cancelled."""
        self.check_cancel()
        if chunk.meta:
            self.result.finish_reason = chunk.meta.get("finish_reason", self.result.finish_reason)
            self.result.usage.update(chunk.meta.get("usage") or {})
        if not chunk.text:
            return False
        (self.thoughts if chunk.type == MSG_TYPE.MSG_TYPE_THOUGHT_CHUNK else self.parts).append(chunk.text)
        return True

    def check_cancel(self) -> None:
        """Raise :class:`GenerationCancelled` (with the partial text) once ``cancel()`` was called."""
        if self.flag.is_set():
            self.result.stopped_by = "cancel"
            raise GenerationCancelled(partial_text="".join(self.parts))

    def failed(self, exc: BaseException) -> None:
        """Attach the text received so far to a backend error."""
        if isinstance(exc, BackendError) and not exc.partial_text:
            exc.partial_text = "".join(self.parts)

    def finish(self) -> None:
        """Write the accumulated text into the result."""
        self.result.text, self.result.thoughts = "".join(self.parts), "".join(self.thoughts)
