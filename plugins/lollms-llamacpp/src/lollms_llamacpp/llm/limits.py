"""Bounds on the load settings, checked before llama.cpp sees them.

llama.cpp trusts its parameters: ``n_threads=1000000`` aborts the whole process
(``std::bad_alloc``), 100000 fails inside libgomp, 10000 runs for minutes; a context of
millions of tokens asks for a KV cache larger than any machine. The manifest's ``max`` is
static, so what depends on this machine (CPU count) or this model (its training context,
read from the GGUF header) is checked here, on every load: at construction, on
``load_model`` and when a request's ``n_threads``/``ctx_size`` asks for a reload.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from lollms_core.bindings import ENGINE_THREADS_PER_CPU, max_engine_threads
from lollms_core.errors import ConfigError

if TYPE_CHECKING:
    from .gguf_header import GGUFHeader


__all__ = ["MAX_CONTEXT", "THREADS_PER_CPU", "check_load_settings", "effective_context", "max_threads"]


class LoadSettings(Protocol):
    """The load settings checked here (``engine.EngineSettings``; engine.py imports this module)."""

    @property
    def n_threads(self) -> int: ...
    @property
    def ctx_size(self) -> int: ...


#: The core's limit for every local engine (kept under this name for this module's readers).
THREADS_PER_CPU = ENGINE_THREADS_PER_CPU
#: The largest context any GGUF model is trained for today (1M tokens); also the cap when a
#: header does not say (or claims something absurd).
MAX_CONTEXT = 1 << 20


def max_threads() -> int:
    """The most threads a load may ask for on this machine (the core's :func:`max_engine_threads`)."""
    return max_engine_threads()


def effective_context(header: GGUFHeader, requested: int) -> int:
    """The context llama.cpp gets: ``requested`` capped at the model's training context.

    ``requested=0`` means the training context. A header that does not say gives 4096 (or
    ``requested``); nothing ever exceeds :data:`MAX_CONTEXT`.
    """
    trained = header.context_length
    if trained is None or trained <= 0:
        return min(requested, MAX_CONTEXT) if requested > 0 else 4096
    cap = min(trained, MAX_CONTEXT)
    return min(requested, cap) if requested > 0 else cap


def check_load_settings(settings: LoadSettings, header: GGUFHeader) -> None:
    """Refuse settings llama.cpp would crash or stall on, naming the value and the limit.

    ``ctx_size`` above the model's training context is not an error: the engine caps it
    there (:func:`effective_context`, as the manifest documents).

    :raises ConfigError: ``n_threads`` above :func:`max_threads`, or a negative ``n_threads``/``ctx_size``.
    """
    limit = max_threads()
    if settings.n_threads < 0 or settings.n_threads > limit:
        raise ConfigError(
            f"llamacpp: n_threads={settings.n_threads} is out of range for this machine: allowed 0 .. {limit} "
            f"({THREADS_PER_CPU} x {os.cpu_count() or 1} CPUs; 0 lets llama.cpp choose)"
        )
    if settings.ctx_size < 0:
        raise ConfigError(
            f"llamacpp: ctx_size={settings.ctx_size} is negative; give 0 (the model's training context, "
            f"{effective_context(header, 0)} tokens) or a positive size"
        )
