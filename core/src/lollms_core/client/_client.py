"""``LollmsClient``: one object holding a binding per modality, with seed 004's and lollms_client's surface.

Every public method is here, each a thin delegation: generation and tokens to the LLM
binding (whose base applies callbacks, cancel, events and the error-dict rule), media to
their bindings, the text helpers to :mod:`lollms_core.text_processing` (the same functions
``binding.tp`` uses), batches to :mod:`lollms_core.batch`. Where lollms_client answers a
failure with a value, ``@seed_rule(value)`` on the method says which: the default mode
returns it, ``strict=True`` raises the typed error instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import text as _text
from .._seed_rule import NOT_AVAILABLE, seed_rule
from ..bindings.options import merge_options
from ..bindings.stt import AudioSource
from ..compat._client_arguments import LegacyArguments
from ..errors import BindingLoadError, BindingNotFoundError, ConfigError, NotSupportedError, error_dict
from ..text_processing import code, long_text, questions
from ..text_processing.structured import generate_structured
from ..types import ELF_GENERATION_FORMAT, Chunk, GenerationOptions, ImageInput, Message, Modality, StreamingCallback
from . import _construction
from ._images import image_tokens
from ._modalities import missing, require

if TYPE_CHECKING:
    from ..batch._jobs import BatchResults
    from ..bindings import (
        LollmsBinding,
        LollmsLLMBinding,
        LollmsSTTBinding,
        LollmsTTIBinding,
        LollmsTTMBinding,
        LollmsTTSBinding,
        LollmsTTVBinding,
    )
    from ..bindings.tools import LollmsToolBinding
    from ..registry._table import Registry
    from ..tools._binding_tools import ToolBindings

__all__ = ["MODALITIES", "LollmsClient"]

#: The modalities with one binding slot each (``client.llm``...); tools bindings are offered to
#: the tool loop instead (``generate_with_tools``), several at once.
MODALITIES: tuple[str, ...] = tuple(m.value for m in Modality if m is not Modality.TOOLS)
#: lollms_client's context size when nothing says (``get_ctx_size``).
GUESSED_CTX_SIZE = 32000
_SWITCH_FAILURES = (BindingNotFoundError, BindingLoadError, ConfigError)


class LollmsClient:
    """A binding per modality behind seed 004's and lollms_client's methods.

    :param llm_binding_name: the text binding (``lollms bindings`` lists them); likewise
        ``tti_``, ``stt_``, ``tts_``, ``ttv_``, ``ttm_binding_name``. A modality whose name is
        not given has no binding (its attribute is ``None`` and its methods raise
        :class:`ModalityNotConfiguredError`).
    :param llm_binding_config: that binding's config, validated against its manifest
        (likewise for every modality).
    :param host_address: seed 004: the server's base URL (goes into the LLM binding's
        config when its manifest declares ``host_address``).
    :param model_name: seed 004: the model (config ``model_name`` when declared, else ``load_model``).
    :param default_generation_mode: seed 004: picks the LLM binding when
        ``llm_binding_name`` is not given (OPENAI, VLLM, LITELLM → ``openai``; OLLAMA → ``ollama``).
    :param n_predict: sampling defaults (also ``temperature``, ``top_k``, ``top_p``,
        ``repeat_penalty``, ``repeat_last_n``, ``seed``, ``ctx_size``, ``n_threads``):
        applied to every call, overridable per call; ``None`` keeps the backend's default.
    :param strict: raise the typed errors (:class:`BackendError`, :class:`StructuredContentError`,
        :class:`NotSupportedError`...) where lollms_client returns a value (an error dict,
        ``None``, ``False``, ``{}``...); the table is in docs/migrating-from-lollms-client.md.
    :param user_name: lollms_client: the user's name in prompt headers (``user_full_header``).
    :param ai_name: lollms_client: the assistant's name in prompt headers (``ai_full_header``).
    :param legacy: lollms_client's other keywords: ``binding_name``, ``service_key``,
        ``models_path`` and ``debug`` are mapped (with a :class:`DeprecationWarning` naming
        the preferred form); the rest (``callback``, ``*_bindings_dir``, profiles, tools/RAG
        bindings...) raise :class:`NotSupportedError` saying what to do instead.
    :raises BindingNotFoundError: an unknown binding name (the message lists installed ones).
    :raises ConfigError: a bad config or sampling value (named, with what is allowed).
    :raises BindingLoadError: a binding's class could not be imported or constructed.
    """

    #: lollms text format: opens a header (``"!@>"``).
    start_header_id_template = "!@>"
    #: Closes a header.
    end_header_id_template = ": "
    #: The system sender's name.
    system_message_template = "system"
    #: Between two messages.
    separator_template = "\n"

    def __init__(
        self,
        llm_binding_name: str | None = None,
        llm_binding_config: dict[str, Any] | None = None,
        tti_binding_name: str | None = None,
        tti_binding_config: dict[str, Any] | None = None,
        stt_binding_name: str | None = None,
        stt_binding_config: dict[str, Any] | None = None,
        tts_binding_name: str | None = None,
        tts_binding_config: dict[str, Any] | None = None,
        ttv_binding_name: str | None = None,
        ttv_binding_config: dict[str, Any] | None = None,
        ttm_binding_name: str | None = None,
        ttm_binding_config: dict[str, Any] | None = None,
        *,
        tools_binding_name: str | list[str] | dict[str, str] | None = None,
        tools_binding_config: dict[str, Any] | None = None,
        host_address: str | None = None,
        model_name: str | None = None,
        default_generation_mode: ELF_GENERATION_FORMAT | str | None = None,
        ctx_size: int | None = None,
        n_predict: int | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        repeat_penalty: float | None = None,
        repeat_last_n: int | None = None,
        seed: int | None = None,
        n_threads: int | None = None,
        strict: bool = False,
        registry: Registry | None = None,
        user_name: str = "user",
        ai_name: str = "assistant",
        **legacy: Any,
    ) -> None:
        legacy_args = LegacyArguments.parse(legacy)
        llm_binding_name = llm_binding_name or legacy_args.binding_name
        #: Names used by the lollms_client prompt headers (``user_full_header``...).
        self.user_name, self.ai_name = user_name, ai_name
        if registry is None:
            from ..discovery._default_registry import default_registry

            registry = default_registry()
        self.registry = registry
        #: Raise typed errors instead of returning lollms_client's values.
        self.strict = strict
        sampling = {
            "n_predict": n_predict, "temperature": temperature, "top_k": top_k, "top_p": top_p,
            "repeat_penalty": repeat_penalty, "repeat_last_n": repeat_last_n, "seed": seed,
            "ctx_size": ctx_size, "n_threads": n_threads,
        }  # fmt: skip
        #: Sampling defaults given to the LLM binding (checked now so a typo fails here, not at the first call).
        self.default_options: GenerationOptions = merge_options(GenerationOptions(), sampling)
        names = {
            "llm": llm_binding_name, "tti": tti_binding_name, "stt": stt_binding_name,
            "tts": tts_binding_name, "ttv": ttv_binding_name, "ttm": ttm_binding_name,
        }  # fmt: skip
        configs = {
            "llm": llm_binding_config, "tti": tti_binding_config, "stt": stt_binding_config,
            "tts": tts_binding_config, "ttv": ttv_binding_config, "ttm": ttm_binding_config,
        }  # fmt: skip
        for modality, config in configs.items():
            if config is not None and not isinstance(config, dict):
                raise ConfigError(f"{modality}_binding_config must be a dict, not {type(config).__name__}")
            if config and names[modality] is None:
                raise ConfigError(f"{modality}_binding_config was given without {modality}_binding_name")
        llm_config = dict(llm_binding_config or {})
        llm_config.update({k: v for k, v in legacy_args.llm_config.items() if k not in llm_config})
        seed_style = host_address is not None or model_name is not None or default_generation_mode is not None
        if names["llm"] is None and (seed_style or not any(names.values())):
            # Seed 004: LollmsClient(host_address=..., default_generation_mode=...), or no argument at all.
            names["llm"], default_host = _construction.binding_for_format(registry, default_generation_mode)
            host_address = host_address or default_host
        self.llm: LollmsLLMBinding | None = None
        self.tti: LollmsTTIBinding | None = None
        self.stt: LollmsSTTBinding | None = None
        self.tts: LollmsTTSBinding | None = None
        self.ttv: LollmsTTVBinding | None = None
        self.ttm: LollmsTTMBinding | None = None
        built: list[LollmsBinding] = []
        model_in_config = False
        try:
            for modality in MODALITIES:
                name = names[modality]
                if name is None:
                    continue
                config = llm_config if modality == "llm" else dict(configs[modality] or {})
                if modality == "llm":
                    model_in_config = _construction.seed_config(
                        registry, name, config, host_address, model_name, sampling
                    )
                binding = _construction.create(registry, modality, name, config, strict)
                built.append(binding)
                setattr(self, modality, binding)
            if self.llm is not None:
                self.llm.default_options = merge_options(self.llm.default_options, self.default_options.set_fields())
                if model_name and not model_in_config:  # no model_name setting: switch the way the seeds do
                    _construction.load_model(self.llm, model_name)
            #: The tools bindings offered to the tool loop, by alias (``None`` without ``tools_binding_name``),
            #: and lollms_client's ``client.tools``: the tools binding, when one was named.
            self.tools_bindings: ToolBindings | None
            self.tools: LollmsToolBinding | None
            self.tools_bindings, self.tools = _construction.tools(registry, tools_binding_name, tools_binding_config)
        except BaseException:
            for binding in built:  # no half-built client: free what was already started
                binding.close()
            raise

    # == the client's bindings ===============================================================

    @property
    def bindings(self) -> dict[str, LollmsBinding]:
        """The bindings this client holds, by modality."""
        return {m: b for m in MODALITIES if (b := getattr(self, m)) is not None}

    @seed_rule(False, on=_SWITCH_FAILURES)
    def update_llm_binding(self, binding_name: str, config: dict[str, Any] | None = None) -> bool:
        """Replace the LLM binding by one built from ``binding_name`` and ``config`` (lollms_client).

        ``True`` once the new binding is in place (the old one closed). When it cannot be built,
        the old one stays and the answer is ``False``, as lollms_client's (``strict=True``: the
        :class:`BindingNotFoundError` / :class:`ConfigError` / :class:`BindingLoadError`).
        """
        from ..bindings import LollmsLLMBinding

        new = _construction.create(self.registry, "llm", binding_name, dict(config or {}), self.strict)
        if not isinstance(new, LollmsLLMBinding):  # pragma: no cover - the LLM manager builds LLM bindings
            raise ConfigError(f"'{binding_name}' is not an llm binding")
        new.default_options = merge_options(new.default_options, self.default_options.set_fields())
        old, self.llm = self.llm, new
        if old is not None:
            old.close()
        return True

    def switch_llm_model(self, model_name: str) -> bool:
        """Make ``model_name`` the LLM binding's active model (lollms_client); ``True`` on success."""
        return self._llm().load_model(model_name)

    def load_model(self, model_name: str) -> bool:
        """Switch the LLM binding to ``model_name``; ``True`` on success."""
        return self._llm().load_model(model_name)

    def close(self) -> None:
        """Release every binding's resources (models, connection pools, tool servers)."""
        for binding in self.bindings.values():
            binding.close()
        if getattr(self, "tools_bindings", None) is not None:
            self.tools_bindings.close()  # type: ignore[union-attr]

    def __enter__(self) -> LollmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        held = " ".join(f"{m}={b.binding_name}" for m, b in self.bindings.items())
        return f"<LollmsClient {held or 'empty'}>"

    def cancel(self) -> None:
        """Stop every generation in progress on any of this client's bindings (from any thread)."""
        for binding in self.bindings.values():
            binding.cancel()

    def _llm(self) -> LollmsLLMBinding:
        return require(self.llm, "llm", self.registry)

    # == text generation (the binding applies the error-dict rule) ==============================

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
        """Answer ``prompt`` (seed 002/004): the text, or the seeds' error dict on a backend failure.

        ``kwargs`` are sampling options (``temperature``, ``top_k``...) and the binding's
        declared per-call parameters. A ``streaming_callback(chunk, msg_type[, meta])``
        receives chunks as they come; returning ``False`` stops the generation.
        """
        out: str | dict[str, Any] = self._llm().generate_text(
            prompt, images, system_prompt, n_predict, stream, streaming_callback, **kwargs
        )
        return out

    def generate(
        self,
        prompt: str,
        n_predict: int | None = None,
        stream: bool = False,
        streaming_callback: StreamingCallback | None = None,
        callback: StreamingCallback | None = None,
        **kwargs: Any,
    ) -> str | dict[str, Any]:
        """Seed 004's ``generate``: :meth:`generate_text` (``callback`` is an alias of ``streaming_callback``)."""
        return self.generate_text(
            prompt, n_predict=n_predict, stream=stream, streaming_callback=streaming_callback or callback, **kwargs
        )

    def generate_with_images(
        self, prompt: str, images: list[ImageInput], n_predict: int | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """Seed 004: answer ``prompt`` about ``images`` (paths, URLs, bytes or base64)."""
        return self.generate_text(prompt, images=images, n_predict=n_predict, **kwargs)

    def generate_from_messages(
        self, messages: list[Message], streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """The next assistant turn for OpenAI-style ``messages``."""
        out: str | dict[str, Any] = self._llm().generate_from_messages(messages, streaming_callback, **kwargs)
        return out

    def chat(
        self, discussion: Any, streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """The next turn of a :class:`~lollms_core.LollmsDiscussion` (its ``openai_chat`` export)."""
        out: str | dict[str, Any] = self._llm().chat(discussion, streaming_callback, **kwargs)
        return out

    def stream(self, prompt: str | list[Message], **kwargs: Any) -> Iterator[Chunk]:
        """Iterate over the answer's chunks; leaving the loop early closes the upstream. Raises on errors."""
        return self._llm().stream(prompt, **kwargs)

    def astream(self, prompt: str | list[Message], **kwargs: Any) -> AsyncIterator[Chunk]:
        """Async :meth:`stream`."""
        return self._llm().astream(prompt, **kwargs)

    async def agenerate_text(self, prompt: str, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate_text` (same error rule)."""
        out: str | dict[str, Any] = await self._llm().agenerate_text(prompt, **kwargs)
        return out

    async def agenerate(self, prompt: str, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate`."""
        if "callback" in kwargs:
            kwargs["streaming_callback"] = kwargs.pop("callback")
        return await self.agenerate_text(prompt, **kwargs)

    async def agenerate_from_messages(self, messages: list[Message], **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate_from_messages`."""
        out: str | dict[str, Any] = await self._llm().agenerate_from_messages(messages, **kwargs)
        return out

    async def achat(self, discussion: Any, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`chat`."""
        out: str | dict[str, Any] = await self._llm().achat(discussion, **kwargs)
        return out

    # == tokens, embeddings, models, context ====================================================

    def tokenize(self, text: str | None = None, *, prompt: str | None = None) -> list[int]:
        """Token ids of ``text`` with the LLM's tokenizer (``prompt=`` is seed 004's keyword)."""
        return self._llm().tokenize(_one_argument("tokenize", "text", text, "prompt", prompt) or "")

    def detokenize(self, tokens: list[int] | None = None, *, tokens_list: list[int] | None = None) -> str:
        """Text of a list of token ids (``tokens_list=`` is seed 004's keyword)."""
        return self._llm().detokenize(_one_argument("detokenize", "tokens", tokens, "tokens_list", tokens_list) or [])

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for the LLM."""
        return self._llm().count_tokens(text)

    def count_image_tokens(self, image: ImageInput) -> int:
        """Estimated prompt tokens for ``image`` (path, bytes, base64 or data URL).

        OpenAI's tile rule from the size in the image's header, else lollms_client's byte-size estimate.

        :raises ConfigError: the image cannot be read.
        """
        return image_tokens(image)

    def embed(self, text: str | list[str], **kwargs: Any) -> list[float] | list[list[float]]:
        """One embedding vector for a string, a list of vectors for a list of strings."""
        return self._llm().embed(text, **kwargs)

    def list_models(self, modality: str = "llm") -> list[dict[str, Any]]:
        """Models available to the binding of ``modality`` (default: the LLM)."""
        if modality == "llm":
            return self._llm().list_models()
        holders: dict[
            str, LollmsTTIBinding | LollmsSTTBinding | LollmsTTSBinding | LollmsTTVBinding | LollmsTTMBinding | None
        ]
        holders = {"tti": self.tti, "stt": self.stt, "tts": self.tts, "ttv": self.ttv, "ttm": self.ttm}
        if modality not in holders:
            raise ConfigError(f"modality {modality!r} is not one of llm, {', '.join(holders)}")
        binding = holders[modality]
        if binding is None:
            missing(modality, self.registry)
        return binding.list_models()

    def listModels(self, modality: str = "llm") -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models(modality)

    def get_model_info(self) -> dict[str, Any]:
        """Details of the LLM's active model."""
        return self._llm().get_model_info()

    @seed_rule(GUESSED_CTX_SIZE, on=(NotSupportedError,))
    def get_ctx_size(self, model_name: str | None = None) -> int:
        """The LLM's context window in tokens: the ``ctx_size`` option or setting, else the model's.

        When nothing says (or ``model_name`` is not the active model), lollms_client's guess,
        32000; with ``strict=True`` a :class:`NotSupportedError` instead (a wrong guess overflows
        silently).
        """
        llm = self._llm()
        if model_name is not None and model_name != llm.model_name:
            raise NotSupportedError(
                f"get_ctx_size({model_name!r}): only the active model's context is known ({llm.model_name!r})"
            )
        size = long_text.context_size(llm)
        if size is None:
            raise NotSupportedError(
                f"the context size of the {llm.binding_name} binding's model is unknown: set ctx_size on the client "
                "or the binding"
            )
        return size

    @seed_rule(NOT_AVAILABLE, on=(NotSupportedError,))
    def listMountedPersonalities(self) -> list[Any] | dict[str, Any]:
        """Personalities mounted on a lollms server (seed 004): a list.

        Off a lollms server binding (none of lollms-core's bindings is one; lollms-core has no
        personality layer: put the persona in the system prompt) lollms_client's
        ``{"status": False, "error": "Functionality not available for the current binding"}``,
        or :class:`NotSupportedError` with ``strict=True``.
        """
        llm = self._llm()
        method = getattr(llm, "lollms_listMountedPersonalities", None)
        if not callable(method):
            raise NotSupportedError(
                f"listMountedPersonalities needs a lollms server binding; the '{llm.binding_name}' binding has no "
                "personalities (lollms-core has no personality layer: put the persona in the system prompt)"
            )
        return list(method())

    # == prompt-format headers (lollms text format: "!@>name: ") ================================

    @property
    def system_full_header(self) -> str:
        """``"!@>system: "``."""
        return self._header(self.system_message_template)

    @property
    def user_full_header(self) -> str:
        """``"!@>{user_name}: "``."""
        return self._header(self.user_name)

    @property
    def ai_full_header(self) -> str:
        """``"!@>{ai_name}: "``."""
        return self._header(self.ai_name)

    def system_custom_header(self, name: str) -> str:
        """A system-style header with another name: ``"!@>{name}: "``."""
        return self._header(name)

    def user_custom_header(self, name: str = "user") -> str:
        """A user header with another name."""
        return self._header(name)

    def ai_custom_header(self, name: str = "assistant") -> str:
        """An assistant header with another name."""
        return self._header(name)

    def _header(self, name: str) -> str:
        return f"{self.start_header_id_template}{name}{self.end_header_id_template}"

    # == text helpers: lollms_core.text_processing, lollms_client's client values ===============

    @staticmethod
    def extract_code_blocks(text: str, format: str = "markdown") -> list[dict[str, Any]]:
        """See :func:`lollms_core.text.extract_code_blocks` (``format="markdown"`` or ``"html"``)."""
        return _text.extract_code_blocks(text, format)

    @staticmethod
    def extract_thinking_blocks(text: str) -> list[str]:
        """See :func:`lollms_core.text.extract_thinking_blocks`."""
        return _text.extract_thinking_blocks(text)

    @staticmethod
    def remove_thinking_blocks(text: str) -> str:
        """See :func:`lollms_core.text.remove_thinking_blocks`."""
        return _text.remove_thinking_blocks(text)

    @seed_rule(None)
    def generate_code(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        template: str | None = None,
        language: str | None = None,
        max_continuations: int = 3,
        **kwargs: Any,
    ) -> str | None:
        """One code block for ``prompt`` (seed 004): its content; ``None`` if the answer had no code.

        A block cut off (by ``n_predict`` or the model) is continued, at most
        ``max_continuations`` times; if it is still unfinished, the partial code is returned.
        ``language`` picks the block of that language when the model wrote several.
        ``None`` on a backend failure too, as lollms_client (``strict=True``: the :class:`BackendError`).
        """
        return code.generate_code(self._llm(), prompt, images, system_prompt, template, language, max_continuations,
                                  **kwargs)  # fmt: skip

    @seed_rule([])
    def generate_codes(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_continuations: int = 3,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Every code block of the answer to ``prompt`` (seed 004), in order.

        Items are :func:`extract_code_blocks` dicts plus lollms_client's ``language``, with a
        ``file_name`` that is never empty. A last block cut off is continued, at most
        ``max_continuations`` times. ``[]`` on a backend failure (``strict=True``: raises).
        """
        return code.generate_codes(self._llm(), prompt, images, system_prompt, max_continuations, **kwargs)

    @seed_rule({})
    def generate_structured_content(
        self,
        prompt: str,
        schema: Any,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_retries: int = 2,
        **kwargs: Any,
    ) -> Any:
        """A JSON answer to ``prompt`` that follows ``schema``, parsed (an instance for a pydantic model).

        ``schema`` is a JSON-schema dict, its JSON text, or a pydantic model class; the
        positional order is lollms_client's ``(prompt, schema, images, system_prompt, ...)``.
        The answer is validated; on failure the model is shown the problems and asked again,
        at most ``max_retries`` times. When it never gives valid JSON, or the backend fails,
        the answer is lollms_client's ``{}`` (so ``if data:`` is false); ``strict=True``
        raises :class:`StructuredContentError` (``last_answer``, ``errors``) or the :class:`BackendError`.

        :raises TypeError: ``schema`` is none of those kinds (always).
        """
        return generate_structured(self._llm(), prompt, schema, images, system_prompt, max_retries, **kwargs)

    @seed_rule(None)
    def generate_structured_content_pydantic(
        self,
        prompt: str,
        pydantic_model: Any,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_retries: int = 2,
        **kwargs: Any,
    ) -> Any:
        """An instance of ``pydantic_model`` answering ``prompt``; ``None`` on failure (``strict=True``: raises).

        :raises TypeError: ``pydantic_model`` is not a pydantic model class (always).
        """
        if isinstance(pydantic_model, (dict, str)):
            raise TypeError(
                "pydantic_model must be a pydantic model class; for a JSON schema use generate_structured_content"
            )
        return generate_structured(self._llm(), prompt, pydantic_model, images, system_prompt, max_retries, **kwargs)

    @seed_rule(False, explained={"answer": False, "explanation": "Failed"})
    def yes_no(
        self,
        question: str,
        context: str = "",
        system_prompt: str = "",
        return_explanation: bool = False,
        images: list[ImageInput] | None = None,
        **kwargs: Any,
    ) -> bool | dict[str, Any]:
        """Ask a yes/no question (about ``context``); ``True`` for yes.

        With ``return_explanation=True``: ``{"answer": bool, "explanation": str}``. On a backend
        failure or an answer that is neither yes nor no: ``False`` (``{"answer": False,
        "explanation": "Failed"}``), as lollms_client; ``strict=True`` raises. Older keywords
        ``max_answer_length=`` and ``conditionning=`` are accepted.
        """
        return questions.yes_no(self._llm(), question, context, system_prompt, return_explanation, images, **kwargs)

    @seed_rule(-1, explained={"index": -1, "explanation": "Failed"})
    def multichoice_question(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        return_explanation: bool = False,
        **kwargs: Any,
    ) -> int | dict[str, Any]:
        """Pick one of ``possible_answers``: its index (``{"index", "explanation"}`` with ``return_explanation``).

        ``-1`` when the model chose none or the backend failed, as lollms_client; ``strict=True`` raises.
        """
        return questions.multichoice_question(self._llm(), question, possible_answers, context, return_explanation,
                                              **kwargs)  # fmt: skip

    @seed_rule([], explained={"ranking": [], "explanation": "Failed"})
    def multichoice_ranking(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        return_explanation: bool = False,
        **kwargs: Any,
    ) -> list[int] | dict[str, Any]:
        """Rank ``possible_answers`` from best to worst: a list of their indices.

        ``[]`` (or ``{"ranking": [], "explanation": "Failed"}``) when the model gives no valid
        ranking or the backend fails, as lollms_client; ``strict=True`` raises.
        """
        return questions.multichoice_ranking(self._llm(), question, possible_answers, context, return_explanation,
                                             **kwargs)  # fmt: skip

    @seed_rule(error_dict)
    def long_context_processing(
        self,
        text_to_process: str,
        contextual_prompt: str,
        processing_type: str = "text",
        chunk_size_ratio: float = 0.5,
        overlap_ratio: float = 0.1,
        synthesis_prompt: str | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Do ``contextual_prompt`` on a text that may exceed the context window (map-reduce).

        If the text fits in 70 % of the window it is used whole; otherwise notes are taken chunk
        by chunk and the task is done on them, by ``processing_type`` as lollms_client routes it:
        ``"text"``, ``"code"`` (``language=``), ``"structured"`` (``schema=``), ``"yes_no"``,
        ``"multichoice"`` (``possible_answers=``)
        (:func:`lollms_core.text_processing.long_text.long_context_processing`). The seeds'
        error dict on a backend failure or an unusable answer (``strict=True``: raises).

        :raises NotSupportedError: another ``processing_type``.
        :raises ConfigError: ratios out of range, no context size known (set ``ctx_size``), or
            the argument the type needs missing.
        """
        return long_text.long_context_processing(
            self._llm(), text_to_process, contextual_prompt, processing_type, chunk_size_ratio, overlap_ratio,
            synthesis_prompt, system_prompt, **kwargs,
        )  # fmt: skip

    @seed_rule(error_dict)
    def generate_with_tag(
        self, prompt: str, tag: str, images: list[ImageInput] | None = None, system_prompt: str = "", **kwargs: Any
    ) -> str | dict[str, Any]:
        """What the model put inside ``<tag>...</tag>`` (its whole answer without one); the error dict on failure."""
        return long_text.generate_with_tag(self._llm(), prompt, tag, images, system_prompt, **kwargs)

    @seed_rule({})
    def generate_with_tags(
        self, prompt: str, images: list[ImageInput] | None = None, system_prompt: str = "", **kwargs: Any
    ) -> dict[str, str]:
        """Named outputs, ``{name: content}``, from the answer's ``<tag name="...">`` elements; ``{}`` on failure."""
        return long_text.generate_with_tags(self._llm(), prompt, images, system_prompt, **kwargs)

    # == images, speech, video, music =========================================================

    def generate_image(
        self, prompt: str, negative_prompt: str = "", width: int | None = None, height: int | None = None, **params: Any
    ) -> bytes:
        """An image for ``prompt`` (the file's bytes, PNG unless the binding says otherwise)."""
        return require(self.tti, "tti", self.registry).generate_image(prompt, negative_prompt, width, height, **params)

    def edit_image(
        self, images: ImageInput | list[ImageInput], prompt: str, mask: ImageInput | None = None, **params: Any
    ) -> bytes:
        """Edit ``images`` following ``prompt``; with ``mask``, only its transparent area."""
        return require(self.tti, "tti", self.registry).edit_image(images, prompt, mask=mask, **params)

    async def agenerate_image(self, prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`generate_image`."""
        return await require(self.tti, "tti", self.registry).agenerate_image(prompt, **kwargs)

    async def aedit_image(self, images: ImageInput | list[ImageInput], prompt: str, **kwargs: Any) -> bytes:
        """Async :meth:`edit_image`."""
        return await require(self.tti, "tti", self.registry).aedit_image(images, prompt, **kwargs)

    def transcribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """The text spoken in an audio file (path or bytes)."""
        return require(self.stt, "stt", self.registry).transcribe_audio(audio_source, model, **options)

    async def atranscribe_audio(self, audio_source: AudioSource, model: str | None = None, **options: Any) -> str:
        """Async :meth:`transcribe_audio`."""
        return await require(self.stt, "stt", self.registry).atranscribe_audio(audio_source, model, **options)

    def generate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """``text`` spoken with ``voice`` (the audio file's bytes, WAV unless the binding says otherwise)."""
        return require(self.tts, "tts", self.registry).generate_audio(text, voice, **params)

    async def agenerate_audio(self, text: str, voice: str | None = None, **params: Any) -> bytes:
        """Async :meth:`generate_audio`."""
        return await require(self.tts, "tts", self.registry).agenerate_audio(text, voice, **params)

    def list_voices(self) -> list[str]:
        """Voices the text-to-speech binding accepts."""
        return require(self.tts, "tts", self.registry).list_voices()

    def generate_video(self, prompt: str, **params: Any) -> bytes:
        """A video for ``prompt`` (the file's bytes, MP4 unless the binding says otherwise)."""
        return require(self.ttv, "ttv", self.registry).generate_video(prompt, **params)

    async def agenerate_video(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_video`."""
        return await require(self.ttv, "ttv", self.registry).agenerate_video(prompt, **params)

    def generate_music(self, prompt: str, **params: Any) -> bytes:
        """Music for ``prompt`` (the audio file's bytes)."""
        return require(self.ttm, "ttm", self.registry).generate_music(prompt, **params)

    async def agenerate_music(self, prompt: str, **params: Any) -> bytes:
        """Async :meth:`generate_music`."""
        return await require(self.ttm, "ttm", self.registry).agenerate_music(prompt, **params)

    # == batches ==================================================================================

    def batch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Run many prompts, at most ``concurrency`` at a time; rows come back in input order.

        ``items`` are ``{"id", "prompt"|"messages", ...options}`` dicts or plain prompt strings.
        With ``output="results.jsonl"`` each result is appended as it comes and a rerun skips the
        ids already there. Rows are ``{"id", "text", "finish_reason", "usage"}`` or
        ``{"id", "error": {"type", "message"}}``; ``.summary`` has the counts. Other keyword
        arguments are those of :func:`lollms_core.batch.abatch` and options for every item.
        """
        from ..batch._jobs import batch

        return batch(self._llm(), items, concurrency=concurrency, **kwargs)

    async def abatch(self, items: Iterable[Any], *, concurrency: int = 4, **kwargs: Any) -> BatchResults:
        """Async :meth:`batch`, in the running event loop."""
        from ..batch._jobs import abatch

        return await abatch(self._llm(), items, concurrency=concurrency, **kwargs)


def _one_argument(method: str, name: str, value: Any, old_name: str, old_value: Any) -> Any:
    """The value of a parameter that has two keyword names (lollms_client's and seed 004's)."""
    if value is not None and old_value is not None:
        raise ConfigError(f"{method}() got {name}= and {old_name}=; give one")
    return value if value is not None else old_value
