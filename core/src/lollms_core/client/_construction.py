"""How ``LollmsClient(...)`` becomes bindings: seed 004's arguments mapped onto each binding's config.

Functions over the registry, so the class shows its methods and not its plumbing:
``binding_for_format`` (seed 004's ``default_generation_mode``), ``seed_config`` (host, model
and engine arguments into the LLM config where its manifest declares them), ``create`` (one
binding through its modality's manager).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..errors import BindingLoadError, BindingNotFoundError, ConfigError
from ..types import ELF_GENERATION_FORMAT, Modality

if TYPE_CHECKING:
    from ..bindings import LollmsBinding, LollmsLLMBinding
    from ..bindings.tools import LollmsToolBinding
    from ..registry._table import Registry
    from ..tools._binding_tools import ToolBindings

__all__ = ["ENGINE_ARGS", "binding_for_format", "create", "load_model", "seed_config", "tools"]

# Seed 004's generation formats → (binding names to try, default base URL or None = the binding's default).
# OpenAI-compatible servers (vLLM, the LiteLLM proxy, the lollms server) go through `openai`.
_FORMATS: dict[ELF_GENERATION_FORMAT, tuple[tuple[str, ...], str | None]] = {
    ELF_GENERATION_FORMAT.LOLLMS: (("lollms", "openai"), "http://localhost:9600/v1"),
    ELF_GENERATION_FORMAT.OPENAI: (("openai",), None),
    ELF_GENERATION_FORMAT.OLLAMA: (("ollama",), None),
    ELF_GENERATION_FORMAT.LITELLM: (("litellm", "openai"), "http://localhost:4000/v1"),
    ELF_GENERATION_FORMAT.TRANSFORMERS: (("transformers",), None),
    ELF_GENERATION_FORMAT.VLLM: (("vllm", "openai"), "http://localhost:8000/v1"),
}
#: Seed 004 arguments that are also engine settings (llama.cpp's context and threads).
ENGINE_ARGS = ("ctx_size", "n_threads")


def binding_for_format(registry: Registry, mode: ELF_GENERATION_FORMAT | str | int | None) -> tuple[str, str | None]:
    """The installed LLM binding for seed 004's ``default_generation_mode``, and its default host.

    :raises ConfigError: ``mode`` is not a member of ``ELF_GENERATION_FORMAT`` (named, with the members).
    :raises BindingNotFoundError: no binding for that format is installed.
    """
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
    installed = registry.available(Modality.LLM)
    for name in candidates:
        if name in installed:
            return name, default_host if name == "openai" or name == candidates[0] else None
    from ..registry._table import KNOWN_BINDINGS

    wanted = candidates[-1] if candidates[-1] == "openai" else candidates[0]
    # A pip line only for a binding we publish: never invite installing a guessed package name.
    known = KNOWN_BINDINGS.get(wanted)
    fix = f"Run `pip install {known[0]}`, or pass" if known else "Pass"
    raise BindingNotFoundError(
        f"default_generation_mode=ELF_GENERATION_FORMAT.{mode.name} needs the '{wanted}' llm binding, "
        f"which is not installed (installed llm bindings: {', '.join(installed) or 'none'}). "
        f"{fix} llm_binding_name=... to LollmsClient."
    )


def seed_config(
    registry: Registry,
    name: str,
    config: dict[str, Any],
    host: str | None,
    model: str | None,
    sampling: dict[str, Any],
) -> bool:
    """Put seed 004's host/model/engine arguments into the LLM config where its manifest declares them.

    Returns whether the manifest has a ``model_name`` setting (else the model is set with ``load_model``).
    """
    manifest = registry.get(Modality.LLM, name).checker  # no pydantic on the warm path
    declared = {p.name for p in manifest.parameters} if manifest is not None else set()
    if host is not None:
        if "host_address" in declared:
            config.setdefault("host_address", host)
        else:
            # stacklevel 3: this line <- LollmsClient.__init__ <- the caller's line.
            warnings.warn(
                f"host_address is ignored: the llm binding '{name}' has no host_address setting", stacklevel=3
            )
    if model is not None and "model_name" in declared:
        config.setdefault("model_name", model)
    for key in ENGINE_ARGS:
        if sampling.get(key) is not None and key in declared:
            config.setdefault(key, sampling[key])
    return "model_name" in declared


def create(registry: Registry, modality: str, name: str, config: dict[str, Any], strict: bool) -> LollmsBinding:
    """One binding of ``modality`` built through its manager (config validated against its manifest)."""
    from ..discovery import managers

    manager_class = {
        "llm": managers.LollmsLLMBindingManager, "tti": managers.LollmsTTIBindingManager,
        "stt": managers.LollmsSTTBindingManager, "tts": managers.LollmsTTSBindingManager,
        "ttv": managers.LollmsTTVBindingManager, "ttm": managers.LollmsTTMBindingManager,
    }[modality]  # fmt: skip
    return manager_class(registry=registry).create_binding(name, strict=strict, **config)


def load_model(llm: LollmsLLMBinding, model_name: str) -> None:
    """Switch ``llm`` to ``model_name`` the way the seeds do, or raise naming both.

    :raises BindingLoadError: the binding refused the model.
    """
    if not llm.load_model(model_name):
        raise BindingLoadError(f"llm binding '{llm.binding_name}' could not load model '{model_name}'")


def tools(registry: Registry, names: Any, config: Any) -> tuple[ToolBindings | None, LollmsToolBinding | None]:
    """``tools_binding_name`` / ``tools_binding_config`` as the tool loop's bindings, and the one binding if one.

    :raises ConfigError: a config without a name, or what :meth:`ToolBindings.create` refuses.
    """
    if names is None:
        if config:
            raise ConfigError("tools_binding_config was given without tools_binding_name")
        return None, None
    from ..tools._binding_tools import ToolBindings  # the loop's machinery: loaded when asked for

    made = ToolBindings.create(names, config, registry)
    single = next(iter(made.bindings.values())) if len(made.bindings) == 1 else None
    return made, single
