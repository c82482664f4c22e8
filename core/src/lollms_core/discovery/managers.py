"""Binding managers: seed 002's per-modality managers, as views over the one registry."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from ..bindings.base import LollmsBinding
from ..registry._table import Registry
from ..types import Modality

__all__ = [
    "BindingManager",
    "LollmsLLMBindingManager",
    "LollmsSTTBindingManager",
    "LollmsTOOLBindingManager",
    "LollmsTTIBindingManager",
    "LollmsTTMBindingManager",
    "LollmsTTSBindingManager",
    "LollmsTTVBindingManager",
    "LollmsToolBindingManager",
]


class BindingManager:
    """Lists and creates the bindings of one modality.

    :param bindings_dir: accepted for compatibility with lollms_client and ignored:
        bindings come from installed packages (entry points), not from folders.
    :param registry: the registry to read (default: the one built at import).
    """

    modality: ClassVar[Modality]

    def __init__(self, bindings_dir: str | None = None, *, registry: Registry | None = None) -> None:
        if bindings_dir is not None:
            warnings.warn(
                "bindings_dir is ignored: lollms finds bindings through installed packages "
                "(entry-point group 'lollms.bindings')",
                DeprecationWarning,
                stacklevel=2,
            )
        if registry is None:
            from ._default_registry import default_registry

            registry = default_registry()
        self.registry = registry

    def get_available_bindings(self) -> list[str]:
        """Names of the working bindings of this modality."""
        return self.registry.available(self.modality)

    def create_binding(self, binding_name: str, **config: Any) -> LollmsBinding:
        """Build a binding; its config is validated against its manifest first.

        ``binding_name`` is a bare name (``openai``) or ``DIST:NAME`` (``lollms-openai:openai``).

        :raises BindingNotFoundError: listing the installed bindings of this modality.
        :raises AmbiguousBindingError: two distributions provide the bare name (see ``docs/plugin-discovery.md``).
        :raises ConfigError: a config value is wrong (named, with what is allowed).
        :raises BindingLoadError: the class failed to import or its constructor failed.
        """
        return self.registry.create(self.modality, binding_name, **config)


class LollmsLLMBindingManager(BindingManager):
    """Manager of text-generation bindings."""

    modality = Modality.LLM


class LollmsTTIBindingManager(BindingManager):
    """Manager of text-to-image bindings."""

    modality = Modality.TTI


class LollmsSTTBindingManager(BindingManager):
    """Manager of speech-to-text bindings."""

    modality = Modality.STT


class LollmsTTSBindingManager(BindingManager):
    """Manager of text-to-speech bindings."""

    modality = Modality.TTS


class LollmsTTVBindingManager(BindingManager):
    """Manager of text-to-video bindings."""

    modality = Modality.TTV


class LollmsTTMBindingManager(BindingManager):
    """Manager of text-to-music bindings."""

    modality = Modality.TTM


class LollmsToolBindingManager(BindingManager):
    """Manager of tools bindings (functions, MCP servers... offered to models)."""

    modality = Modality.TOOLS


#: lollms_client's spelling of :class:`LollmsToolBindingManager`.
LollmsTOOLBindingManager = LollmsToolBindingManager
