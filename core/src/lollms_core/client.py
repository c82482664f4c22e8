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

from ._client_batch import BatchMixin
from ._client_legacy import LegacyArguments
from ._client_lollms import LollmsClientNames
from ._client_media import MediaMixin
from ._client_modalities import missing, require
from .bindings.options import merge_options
from .errors import BindingNotFoundError, ConfigError
from .types import ELF_GENERATION_FORMAT, Chunk, GenerationOptions, ImageInput, Message, Modality, StreamingCallback

if TYPE_CHECKING:
    from .bindings import (
        LollmsBinding,
        LollmsLLMBinding,
        LollmsSTTBinding,
        LollmsTTIBinding,
        LollmsTTMBinding,
        LollmsTTSBinding,
        LollmsTTVBinding,
    )
    from .registry import Registry

__all__ = ["MODALITIES", "LollmsClient"]

#: Modality prefixes of the constructor arguments, in order.
#: The modalities with one binding slot each (``client.llm``...); tools bindings are offered to
#: the tool loop instead (``generate_with_tools``), several at once.
MODALITIES: tuple[str, ...] = tuple(m.value for m in Modality if m is not Modality.TOOLS)

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
# Seed 004 arguments that are also engine settings (llama.cpp's context and threads).
_ENGINE_ARGS = ("ctx_size", "n_threads")


class LollmsClient(LollmsClientNames, MediaMixin, BatchMixin):
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
        user_name: str = "user",
        ai_name: str = "assistant",
        **legacy: Any,
    ) -> None:
        legacy_args = LegacyArguments.parse(legacy)
        llm_binding_name = llm_binding_name or legacy_args.binding_name
        #: Names used by the lollms_client prompt headers (``user_full_header``...).
        self.user_name, self.ai_name = user_name, ai_name
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
        llm_config.update({k: v for k, v in legacy_args.llm_config.items() if k not in llm_config})
        seed_style = host_address is not None or model_name is not None or default_generation_mode is not None
        if names["llm"] is None and (seed_style or not any(names.values())):
            # Seed 004: LollmsClient(host_address=..., default_generation_mode=...), or no argument at all.
            names["llm"], default_host = self._binding_for_format(default_generation_mode)
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
        if not isinstance(mode, ELF_GENERATION_FORMAT):
            # A name ("openai") or the enum's integer value (seed code passes either); anything else is named.
            by_name = {f.name: f for f in ELF_GENERATION_FORMAT}
            by_value = {f.value: f for f in ELF_GENERATION_FORMAT}
            found = by_name.get(mode.upper()) if isinstance(mode, str) else None
            if isinstance(mode, int) and not isinstance(mode, bool):
                found = by_value.get(mode)
            if found is None:
                allowed = ", ".join(f"{f.name} ({f.value})" for f in ELF_GENERATION_FORMAT)
                raise ConfigError(
                    f"default_generation_mode {mode!r} is not one of ELF_GENERATION_FORMAT's members: {allowed}"
                )
            mode = found
        candidates, default_host = _FORMATS[mode]
        installed = self.registry.available(Modality.LLM)
        for name in candidates:
            if name in installed:
                return name, default_host if name == "openai" or name == candidates[0] else None
        from .registry import KNOWN_BINDINGS

        wanted = candidates[-1] if candidates[-1] == "openai" else candidates[0]
        # A pip line only for a binding we publish: never invite installing a guessed package name.
        known = KNOWN_BINDINGS.get(wanted)
        fix = f"Run `pip install {known[0]}`, or pass" if known else "Pass"
        raise BindingNotFoundError(
            f"default_generation_mode=ELF_GENERATION_FORMAT.{mode.name} needs the '{wanted}' llm binding, "
            f"which is not installed (installed llm bindings: {', '.join(installed) or 'none'}). "
            f"{fix} llm_binding_name=... to LollmsClient."
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

    def update_llm_binding(self, binding_name: str, config: dict[str, Any] | None = None) -> bool:
        """Replace the LLM binding by one built from ``binding_name`` and ``config`` (lollms_client); ``True``.

        The old binding is closed once the new one exists; if the new one cannot be built, the
        old one stays and the error is raised (lollms_client returns ``False``).
        """
        from .bindings import LollmsLLMBinding

        new = self._create("llm", binding_name, dict(config or {}))
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

    def _llm(self) -> LollmsLLMBinding:
        return require(self.llm, "llm", self.registry)

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

    # == tokens, embeddings, models ========================================================

    def tokenize(self, text: str | None = None, *, prompt: str | None = None) -> list[int]:
        """Token ids of ``text`` with the LLM's tokenizer (``prompt=`` is seed 004's keyword)."""
        return self._llm().tokenize(_one_argument("tokenize", "text", text, "prompt", prompt) or "")

    def detokenize(self, tokens: list[int] | None = None, *, tokens_list: list[int] | None = None) -> str:
        """Text of a list of token ids (``tokens_list=`` is seed 004's keyword)."""
        return self._llm().detokenize(_one_argument("detokenize", "tokens", tokens, "tokens_list", tokens_list) or [])

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for the LLM."""
        return self._llm().count_tokens(text)

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

    def load_model(self, model_name: str) -> bool:
        """Switch the LLM binding to ``model_name``; ``True`` on success."""
        return self._llm().load_model(model_name)


def _one_argument(method: str, name: str, value: Any, old_name: str, old_value: Any) -> Any:
    """The value of a parameter that has two keyword names (lollms_client's and seed 004's)."""
    if value is not None and old_value is not None:
        raise ConfigError(f"{method}() got {name}= and {old_name}=; give one")
    return value if value is not None else old_value
