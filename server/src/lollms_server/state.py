"""The running server's state: its config, one :class:`ModelHost` per model id, model-id lookup."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from lollms_core.bindings import LollmsBinding
from lollms_core.errors import ConfigError
from lollms_core.types import Modality

from .config import ModelAlias, RouterGroup, ServerConfig, router_config
from .errors import ApiError
from .hosts import ModelHost

__all__ = ["ServerState", "alias_factory"]

log = logging.getLogger("lollms.server")


def alias_factory(alias: ModelAlias) -> Callable[[], LollmsBinding]:
    """What builds ``alias``'s binding: its manifest-checked config, its model, ``strict=True``."""

    def make() -> LollmsBinding:
        from lollms_core import get_registry

        spec = get_registry().get(alias.modality, alias.binding)
        manifest = spec.manifest
        declared = manifest is not None and manifest.parameter("model_name") is not None
        config = dict(alias.config)
        if alias.model and declared:
            config.setdefault("model_name", alias.model)
        binding = spec.create(strict=True, **config)
        load = getattr(binding, "load_model", None)
        if alias.model and not declared and callable(load) and not load(alias.model):
            raise ConfigError(f"model alias '{alias.name}': {alias.binding} could not load model '{alias.model}'")
        return binding

    return make


def router_factory(group: RouterGroup, aliases: dict[str, ModelAlias]) -> Callable[[], LollmsBinding]:
    """What builds a router group's ``router`` binding over its member aliases' configs."""

    def make() -> LollmsBinding:
        from lollms_core import get_registry

        return get_registry().get(Modality.LLM, "router").create(strict=True, **router_config(group, aliases))

    return make


class ServerState:
    """Config and hosts of one server; routes reach it as ``request.app.state.lollms``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.lock = threading.Lock()  # config edits from the page
        self.hosts: dict[str, ModelHost] = {}
        aliases = dict(config.aliases)
        for alias in aliases.values():
            self.hosts[alias.name] = ModelHost(
                alias.name, alias.modality, alias.binding, alias_factory(alias), alias.concurrency
            )
        for group in config.routers.values():
            self.hosts[group.name] = ModelHost(
                group.name, Modality.LLM, "router", router_factory(group, aliases), members=group.members
            )
        self.observers: list[Any] = []

    def start(self) -> None:
        """Register the configured observer plugins, then start creating every binding."""
        from lollms_core import get_registry

        for dotted in self.config.plugins:
            try:
                module = importlib.import_module(dotted)
                get_registry().register_observer(module, name=f"lollms-server:{dotted}")
                self.observers.append(module)
            except Exception as exc:  # a broken plugin never stops the server: reported, others keep working
                log.warning("server plugin %s not loaded: %s: %s", dotted, type(exc).__name__, exc)
        for host in self.hosts.values():
            host.start()

    def close(self) -> None:
        """Release every binding and unregister the observers."""
        from lollms_core import get_registry

        for module in self.observers:
            get_registry().unregister_observer(module)
        for host in self.hosts.values():
            host.close()

    def of(self, modality: Modality) -> list[ModelHost]:
        """The hosts serving ``modality``."""
        return [h for h in self.hosts.values() if h.modality is modality]

    def host(self, model: Any, modality: Modality) -> ModelHost:
        """The host for a request's ``model``; with no model, the only one of that modality.

        :raises ApiError: 404 naming the model ids that would work.
        """
        choices = [h.name for h in self.of(modality)]
        if model is None or model == "":
            if len(choices) == 1:
                return self.hosts[choices[0]]
            raise ApiError(400, f"'model' is required; choose from {', '.join(choices)}", param="model")
        if not isinstance(model, str):
            raise ApiError(400, "'model' must be a string", param="model")
        host = self.hosts.get(model)
        if host is None or host.modality is not modality:
            what = f"a {host.modality.value} model, not {modality.value}" if host else "not served here"
            raise ApiError(
                404,
                f"model '{model}' is {what}; {modality.value} models: {', '.join(choices) or 'none configured'}",
                param="model",
                code="model_not_found",
            )
        return host
