"""``LollmsClient``: one object holding a binding per modality, with seed 004's surface.

The client builds its bindings through the registry (config validated against each
manifest), refuses to exist half-built (a requested binding that cannot be made raises
at construction), and delegates every call to the binding, whose base class already
applies callbacks, cancellation, events and the error-dict rule.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ._client_media import MediaMixin
from ._client_text import TextMixin
from .bindings.options import merge_options
from .errors import BindingNotFoundError, ConfigError, ModalityNotConfiguredError
from .types import ELF_GENERATION_FORMAT, Chunk, GenerationOptions, ImageInput, Message, Modality, StreamingCallback

if TYPE_CHECKING:
    from .bindings import LollmsBinding, LollmsLLMBinding
    from .registry import Registry

__all__ = ["MODALITIES", "LollmsClient"]

#: Modality prefixes of the constructor arguments, in order.
MODALITIES: tuple[str, ...] = tuple(m.value for m in Modality)

# Seed 004's generation formats → (binding name, default base URL or None = the binding's default).
# OpenAI-compatible servers (vLLM, the LiteLLM proxy, the lollms server) go through `openai`.
_FORMATS: dict[ELF_GENERATION_FORMAT, tuple[tuple[str, ...], str | None]] = {
    ELF_GENERATION_FORMAT.LOLLMS: (("lollms", "openai"), "http://localhost:9600/v1"),
    ELF_GENERATION_FORMAT.OPENAI: (("openai",), None),
    ELF_GENERATION_FORMAT.OLLAMA: (("ollama",), None),
    ELF_GENERATION_FORMAT.LITELLM: (("litellm", "openai"), "http://localhost:4000/v1"),
    ELF_GENERATION_FORMAT.TRANSFORMERS: (("transformers",), None),
    ELF_GENERATION_FORMAT.VLLM: (("vllm", "openai"), "http://localhost:8000/v1"),
}
_SAMPLING_ARGS = ("n_predict", "temperature", "top_k", "top_p", "repeat_penalty", "repeat_last_n", "seed")
# Seed 004 arguments that are also engine settings (llama.cpp's context and threads).
_ENGINE_ARGS = ("ctx_size", "n_threads")


class LollmsClient(TextMixin, MediaMixin):
    """A binding per modality behind seed 004's methods.

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
    :param strict: seed-named methods raise :class:`BackendError` instead of returning
        the seeds' error dict.
    :raises BindingNotFoundError: an unknown binding name (the message lists installed ones).
    :raises ConfigError: a bad config or sampling value (named, with what is allowed).
    :raises BindingLoadError: a binding's class could not be imported or constructed.
    """

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
    ) -> None:
        if registry is None:
            from ._state import default_registry

            registry = default_registry()
        self.registry = registry
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
        seed_style = host_address is not None or model_name is not None or default_generation_mode is not None
        if names["llm"] is None and (seed_style or not any(names.values())):
            # Seed 004: LollmsClient(host_address=..., default_generation_mode=...), or no argument at all.
            names["llm"], default_host = self._binding_for_format(default_generation_mode)
            host_address = host_address or default_host
        self.llm: LollmsLLMBinding | None = None
        self.tti: Any = None
        self.stt: Any = None
        self.tts: Any = None
        self.ttv: Any = None
        self.ttm: Any = None
        built: list[LollmsBinding] = []
        model_in_config = False
        try:
            for modality in MODALITIES:
                name = names[modality]
                if name is None:
                    continue
                config = llm_config if modality == "llm" else dict(configs[modality] or {})
                if modality == "llm":
                    model_in_config = self._seed_config(name, config, host_address, model_name, sampling)
                binding = self._create(modality, name, config)
                built.append(binding)
                setattr(self, modality, binding)
            if self.llm is not None:
                self.llm.default_options = merge_options(self.llm.default_options, self.default_options.set_fields())
                if model_name and not model_in_config:  # no model_name setting: switch the way the seeds do
                    self._load_model(self.llm, model_name)
        except BaseException:
            for binding in built:  # no half-built client: free what was already started
                binding.close()
            raise

    # == construction helpers ============================================================

    def _binding_for_format(self, mode: ELF_GENERATION_FORMAT | str | None) -> tuple[str, str | None]:
        if mode is None:
            mode = ELF_GENERATION_FORMAT.LOLLMS
        if isinstance(mode, str):
            try:
                mode = ELF_GENERATION_FORMAT[mode.upper()]
            except KeyError:
                allowed = ", ".join(f.name for f in ELF_GENERATION_FORMAT)
                raise ConfigError(f"default_generation_mode {mode!r} is not one of {allowed}") from None
        candidates, default_host = _FORMATS[mode]
        installed = self.registry.available(Modality.LLM)
        for name in candidates:
            if name in installed:
                return name, default_host if name == "openai" or name == candidates[0] else None
        wanted = candidates[-1] if candidates[-1] == "openai" else candidates[0]
        raise BindingNotFoundError(
            f"default_generation_mode=ELF_GENERATION_FORMAT.{mode.name} needs the '{wanted}' llm binding, "
            f"which is not installed (installed llm bindings: {', '.join(installed) or 'none'}). "
            f"Run `pip install lollms-{wanted}`, or pass llm_binding_name=... to LollmsClient."
        )

    def _seed_config(
        self, name: str, config: dict[str, Any], host: str | None, model: str | None, sampling: dict[str, Any]
    ) -> bool:
        """Put seed 004's host/model/engine arguments into the LLM config where its manifest declares them.

        Returns whether the manifest has a ``model_name`` setting (else the model is set with ``load_model``).
        """
        manifest = self.registry.get(Modality.LLM, name).checker  # no pydantic on the warm path
        declared = {p.name for p in manifest.parameters} if manifest is not None else set()
        if host is not None:
            if "host_address" in declared:
                config.setdefault("host_address", host)
            else:
                warnings.warn(
                    f"host_address is ignored: the llm binding '{name}' has no host_address setting",
                    stacklevel=4,
                )
        if model is not None and "model_name" in declared:
            config.setdefault("model_name", model)
        for key in _ENGINE_ARGS:
            if sampling.get(key) is not None and key in declared:
                config.setdefault(key, sampling[key])
        return "model_name" in declared

    def _create(self, modality: str, name: str, config: dict[str, Any]) -> LollmsBinding:
        from .bindings import managers

        manager_class = {
            "llm": managers.LollmsLLMBindingManager, "tti": managers.LollmsTTIBindingManager,
            "stt": managers.LollmsSTTBindingManager, "tts": managers.LollmsTTSBindingManager,
            "ttv": managers.LollmsTTVBindingManager, "ttm": managers.LollmsTTMBindingManager,
        }[modality]  # fmt: skip
        return manager_class(registry=self.registry).create_binding(name, strict=self.strict, **config)

    @staticmethod
    def _load_model(llm: LollmsLLMBinding, model_name: str) -> None:
        from .errors import BindingLoadError

        if not llm.load_model(model_name):
            raise BindingLoadError(f"llm binding '{llm.binding_name}' could not load model '{model_name}'")

    def _need(self, modality: str) -> Any:
        binding = getattr(self, modality)
        if binding is None:
            raise ModalityNotConfiguredError(
                f"this client has no {modality} binding: set {modality}_binding_name=... in LollmsClient(...) "
                f"(installed {modality} bindings: {', '.join(self.registry.available(Modality(modality))) or 'none'})"
            )
        return binding

    @property
    def bindings(self) -> dict[str, LollmsBinding]:
        """The bindings this client holds, by modality."""
        return {m: b for m in MODALITIES if (b := getattr(self, m)) is not None}

    def close(self) -> None:
        """Release every binding's resources (models, connection pools)."""
        for binding in self.bindings.values():
            binding.close()

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

    # == text generation ===================================================================

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
        return self._need("llm").generate_text(  # type: ignore[no-any-return]
            prompt, images, system_prompt, n_predict, stream, streaming_callback, **kwargs
        )

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
        return self._need("llm").generate_from_messages(messages, streaming_callback, **kwargs)  # type: ignore[no-any-return]

    def chat(
        self, discussion: Any, streaming_callback: StreamingCallback | None = None, **kwargs: Any
    ) -> str | dict[str, Any]:
        """The next turn of a :class:`~lollms_core.LollmsDiscussion` (its ``openai_chat`` export)."""
        return self._need("llm").chat(discussion, streaming_callback, **kwargs)  # type: ignore[no-any-return]

    def stream(self, prompt: str | list[Message], **kwargs: Any) -> Iterator[Chunk]:
        """Iterate over the answer's chunks; leaving the loop early closes the upstream. Raises on errors."""
        return self._need("llm").stream(prompt, **kwargs)  # type: ignore[no-any-return]

    def astream(self, prompt: str | list[Message], **kwargs: Any) -> AsyncIterator[Chunk]:
        """Async :meth:`stream`."""
        return self._need("llm").astream(prompt, **kwargs)  # type: ignore[no-any-return]

    async def agenerate_text(self, prompt: str, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate_text` (same error rule)."""
        return await self._need("llm").agenerate_text(prompt, **kwargs)  # type: ignore[no-any-return]

    async def agenerate(self, prompt: str, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate`."""
        if "callback" in kwargs:
            kwargs["streaming_callback"] = kwargs.pop("callback")
        return await self.agenerate_text(prompt, **kwargs)

    async def agenerate_from_messages(self, messages: list[Message], **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`generate_from_messages`."""
        return await self._need("llm").agenerate_from_messages(messages, **kwargs)  # type: ignore[no-any-return]

    async def achat(self, discussion: Any, **kwargs: Any) -> str | dict[str, Any]:
        """Async :meth:`chat`."""
        return await self._need("llm").achat(discussion, **kwargs)  # type: ignore[no-any-return]

    # == tokens, embeddings, models ========================================================

    def tokenize(self, prompt: str) -> list[int]:
        """Token ids of ``prompt`` with the LLM's tokenizer."""
        return self._need("llm").tokenize(prompt)  # type: ignore[no-any-return]

    def detokenize(self, tokens_list: list[int]) -> str:
        """Text of a list of token ids."""
        return self._need("llm").detokenize(tokens_list)  # type: ignore[no-any-return]

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for the LLM."""
        return self._need("llm").count_tokens(text)  # type: ignore[no-any-return]

    def embed(self, text: str | list[str], **kwargs: Any) -> list[float] | list[list[float]]:
        """One embedding vector for a string, a list of vectors for a list of strings."""
        return self._need("llm").embed(text, **kwargs)  # type: ignore[no-any-return]

    def list_models(self, modality: str = "llm") -> list[dict[str, Any]]:
        """Models available to the binding of ``modality`` (default: the LLM)."""
        return self._need(modality).list_models()  # type: ignore[no-any-return]

    def listModels(self, modality: str = "llm") -> list[dict[str, Any]]:
        """Seed alias of :meth:`list_models`."""
        return self.list_models(modality)

    def get_model_info(self) -> dict[str, Any]:
        """Details of the LLM's active model."""
        return self._need("llm").get_model_info()  # type: ignore[no-any-return]

    def load_model(self, model_name: str) -> bool:
        """Switch the LLM binding to ``model_name``; ``True`` on success."""
        return self._need("llm").load_model(model_name)  # type: ignore[no-any-return]
