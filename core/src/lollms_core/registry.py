"""The merged registry: ``(modality, name)`` → manifest, class path and status.

One registry serves all six modalities. Plugins that fail (import error, hook error, bad
manifest, duplicate name, other core API) stay in it with ``status="error"`` and a
one-line reason, so ``lollms bindings`` can show them while everything else works.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, Optional

import pluggy

from . import hookspecs
from .errors import BindingLoadError, BindingNotFoundError
from .types import GenerationEvent, Modality

if TYPE_CHECKING:
    from ._config_check import ConfigChecker
    from .bindings.base import LollmsBinding
    from .manifest import Manifest

__all__ = ["BindingSpec", "Registry"]


class BindingSpec:
    """One registry entry. ``status`` is ``"ok"`` or ``"error"`` (then ``error`` says why).

    The validated manifest is kept as plain data and turned into a
    :class:`~lollms_core.manifest.Manifest` on first access, so discovery from the
    manifest cache imports no pydantic.
    """

    __slots__ = (
        "_checker",
        "_cls",
        "_manifest",
        "distribution",
        "error",
        "manifest_data",
        "modality",
        "name",
        "package",
        "registry",
        "status",
        "version",
    )

    def __init__(
        self,
        name: str,
        modality: Optional[Modality],
        distribution: str,
        version: str = "",
        status: Literal["ok", "error"] = "ok",
        error: Optional[str] = None,
        manifest: Optional[Manifest] = None,
        package: Optional[str] = None,
        manifest_data: Optional[dict[str, Any]] = None,
    ) -> None:
        self.name, self.modality, self.distribution, self.version = name, modality, distribution, version
        self.status, self.error, self.package = status, error, package
        self._manifest = manifest
        #: The normalised manifest as JSON-able data (what the cache stores).
        self.manifest_data = manifest_data
        self.registry: Optional[Registry] = None
        self._cls: Optional[type[LollmsBinding]] = None
        self._checker: Optional[ConfigChecker] = None

    @property
    def manifest(self) -> Optional[Manifest]:
        """The validated manifest (built from :attr:`manifest_data` on first use)."""
        if self._manifest is None and self.manifest_data is not None:
            from . import manifest as manifest_module  # pydantic: only when a manifest is really needed

            self._manifest = manifest_module.Manifest.model_validate(self.manifest_data)
        return self._manifest

    @manifest.setter
    def manifest(self, value: Optional[Manifest]) -> None:
        self._manifest = value

    @property
    def checker(self) -> Optional[ConfigChecker]:
        """What creating a binding needs of its manifest (name, class, config checks), without pydantic.

        From the cache's data (validated by pydantic when it was cached) unless the full manifest is
        already built; ``None`` for a broken entry.
        """
        if self._manifest is not None:
            return self._manifest
        if self._checker is None and self.manifest_data is not None:
            from ._config_check import CachedManifest

            self._checker = CachedManifest(self.manifest_data)
        return self._checker

    def __repr__(self) -> str:
        mod = self.modality.value if self.modality else "?"
        tail = f" error={self.error!r}" if self.error else ""
        return f"<BindingSpec {mod}:{self.name} from {self.distribution} {self.version} {self.status}{tail}>"

    @property
    def class_path(self) -> str | None:
        """``module:Class`` from the manifest, or ``package:<BindingName>`` (resolved on load)."""
        data = self.manifest_data or (self._manifest.model_dump(by_alias=True) if self._manifest else {})
        if data.get("class"):
            return str(data["class"])
        return f"{self.package}:<BindingName>" if self.package else None

    def load_class(self) -> type[LollmsBinding]:
        """Import the binding class (first use only) and attach this spec to it.

        :raises BindingLoadError: the plugin is broken, or the class is not a binding of this modality.
        """
        if self._cls is not None:
            return self._cls
        checker = self.checker
        if self.status != "ok" or checker is None:
            raise BindingLoadError(f"binding '{self.name}' from {self.distribution} is broken: {self.error}")
        from .bindings import BASES

        path = checker.class_path or f"{self.package}:"
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
            attr = attr or getattr(module, "BindingName")  # noqa: B009 - the seeds' module constant
            cls = getattr(module, attr)
        except Exception as exc:
            raise BindingLoadError(
                f"cannot import {self.modality.value if self.modality else ''} binding '{self.name}' "
                f"({module_name}:{attr or 'BindingName'}) from {self.distribution}: {type(exc).__name__}: {exc}"
            ) from exc
        base = BASES[checker.modality]
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise BindingLoadError(f"{module_name}:{attr} is not a subclass of {base.__name__}")
        # The full (pydantic) manifest is built only if someone asks for it: see LollmsBinding._resolve_manifest.
        cls.manifest = self._manifest
        cls.spec = self
        self._cls = cls
        return cls

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``lollms bindings --json``."""
        return {
            "name": self.name,
            "modality": self.modality.value if self.modality else None,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
        }


class Registry:
    """All known bindings plus the pluggy manager whose hooks observe them."""

    def __init__(self) -> None:
        self.entries: list[BindingSpec] = []
        self.plugin_manager = pluggy.PluginManager("lollms")
        self.plugin_manager.add_hookspecs(hookspecs)
        self._observers: list[Any] | None = None
        #: Set by :func:`~lollms_core.plugins.build_registry`; ``None`` means no manifest caching.
        self.manifest_cache: Any = None

    # -- lookup -------------------------------------------------------------------------

    def available(self, modality: Modality) -> list[str]:
        """Names of the working bindings of one modality, sorted."""
        return sorted(e.name for e in self.entries if e.modality == modality and e.status == "ok")

    def get(self, modality: Modality | str, name: str) -> BindingSpec:
        """The working entry for ``(modality, name)``.

        :raises BindingNotFoundError: listing the installed bindings of that modality.
        :raises BindingLoadError: the entry exists but is broken (with its reason).
        """
        modality = Modality(modality)
        for e in self.entries:
            if e.modality == modality and e.name == name and e.status == "ok":
                return e
        broken = [e for e in self.entries if e.name == name and e.status == "error"]
        if broken:
            raise BindingLoadError(f"{modality.value} binding '{name}' is broken: {broken[0].error}")
        have = ", ".join(self.available(modality)) or "none"
        raise BindingNotFoundError(
            f"no {modality.value} binding named '{name}'; installed {modality.value} bindings: {have}. "
            f"Install one with pip (e.g. `pip install lollms-{name}`) or run `lollms bindings`."
        )

    # -- building -----------------------------------------------------------------------

    def add(self, spec: BindingSpec) -> BindingSpec:
        """Add an entry; a second ``(modality, name)`` becomes an error entry."""
        spec.registry = self
        if spec.status == "ok":
            for e in self.entries:
                if e.status == "ok" and e.modality == spec.modality and e.name == spec.name:
                    spec.status = "error"
                    spec.error = (
                        f"duplicate {spec.modality.value if spec.modality else ''} binding '{spec.name}': "
                        f"already provided by {e.distribution} {e.version}".strip()
                    )
        self.entries.append(spec)
        return spec

    def add_error(self, name: str, distribution: str, version: str, reason: str) -> BindingSpec:
        """Record a plugin that could not contribute bindings, with a one-line reason."""
        reason = " ".join(reason.split())
        return self.add(BindingSpec(name, None, distribution, version, status="error", error=reason))

    def register_plugin(
        self, plugin: object, distribution: str, version: str = "", name: str | None = None
    ) -> list[BindingSpec]:
        """Register one plugin object (module) and add the bindings it declares.

        Everything that can go wrong is caught and turned into error entries.
        """
        from .plugins import specs_from_sources

        label = name or distribution
        try:
            self.plugin_manager.register(plugin, name=label)
        except Exception as exc:  # pluggy validation: a hookimpl that matches no spec
            return [self.add_error(label, distribution, version, f"invalid plugin: {exc}")]
        self._observers = None
        impls = [i for i in self.plugin_manager.hook.lollms_register_bindings.get_hookimpls() if i.plugin is plugin]
        added: list[BindingSpec] = []
        for impl in impls:
            try:
                returned: Any = impl.function()
                sources = list(returned or ())
            except Exception as exc:
                added.append(
                    self.add_error(
                        label,
                        distribution,
                        version,
                        f"lollms_register_bindings raised {type(exc).__name__}: {exc}",
                    )
                )
                continue
            added.extend(self.add(s) for s in specs_from_sources(sources, distribution, version, self.manifest_cache))
        return added

    # -- observing ----------------------------------------------------------------------

    def emit(self, event: GenerationEvent) -> None:
        """Send an event to every observer; an observer that raises is logged and skipped."""
        for impl in self.observers():
            try:
                impl.function(event=event)
            except Exception as exc:
                import logging  # only on this rare path: keeps logging out of import time

                logging.getLogger("lollms").warning(
                    "lollms_on_generation_event in %s raised %s: %s",
                    impl.plugin_name,
                    type(exc).__name__,
                    exc,
                )

    def observers(self) -> list[Any]:
        """The ``lollms_on_generation_event`` implementations (cached: empty means no events are built)."""
        if self._observers is None:
            self._observers = list(self.plugin_manager.hook.lollms_on_generation_event.get_hookimpls())
        return self._observers

    def register_observer(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object that only observes (or adds commands), with no bindings."""
        self.plugin_manager.register(plugin, name=name)
        self._observers = None

    def unregister_observer(self, plugin: object) -> None:
        """Remove a plugin object registered with :meth:`register_observer`."""
        self.plugin_manager.unregister(plugin)
        self._observers = None
