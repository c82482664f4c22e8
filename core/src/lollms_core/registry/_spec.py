"""``BindingSpec``: one registry row — a binding's name, modality, distribution, manifest and status.

A spec never writes anything onto the binding class: :meth:`BindingSpec.create` hands the
spec to the new instance, so one class registered under two names, or in two registries,
answers with each one's own name and manifest.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, Literal, Optional, cast

from ..errors import BindingLoadError
from ..types import Modality

if TYPE_CHECKING:
    from ..bindings._host import EventSink
    from ..bindings.base import LollmsBinding
    from ..manifest._config_check import ConfigChecker
    from ..manifest._model import Manifest

__all__ = ["BindingSpec", "Status", "normalise_distribution"]

#: Where each modality's base class lives (see :meth:`BindingSpec.load_class`).
_BASES = {
    Modality.LLM: ("lollms_core.bindings.llm", "LollmsLLMBinding"),
    Modality.TTI: ("lollms_core.bindings.tti", "LollmsTTIBinding"),
    Modality.STT: ("lollms_core.bindings.stt", "LollmsSTTBinding"),
    Modality.TTS: ("lollms_core.bindings.tts", "LollmsTTSBinding"),
    Modality.TTV: ("lollms_core.bindings.ttv", "LollmsTTVBinding"),
    Modality.TTM: ("lollms_core.bindings.ttm", "LollmsTTMBinding"),
    Modality.TOOLS: ("lollms_core.bindings.tools", "LollmsToolBinding"),
}

#: The three documented statuses (``lollms bindings``): ``unverified`` works but declares no ``core_api``.
Status = Literal["ok", "error", "unverified"]


def normalise_distribution(name: str) -> str:
    """A distribution name as pip compares them: ``Lollms_Piper`` and ``lollms-piper`` are one."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


class BindingSpec:
    """One registry entry. ``status`` is ``"ok"``, ``"unverified"`` (usable; no ``core_api``) or ``"error"``.

    ``error`` says why a row is broken; ``warning`` carries what a user should know about a
    working row (an ambiguous name, a manifest version that disagrees with the distribution).
    The validated manifest is kept as plain data and turned into a
    :class:`~lollms_core.manifest.Manifest` on first access, so discovery from the manifest
    cache imports no pydantic.
    """

    __slots__ = (
        "_checker",
        "_cls",
        "_manifest",
        "_warning",
        "ambiguous_with",
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
        status: Status = "ok",
        error: Optional[str] = None,
        manifest: Optional[Manifest] = None,
        package: Optional[str] = None,
        manifest_data: Optional[dict[str, Any]] = None,
        warning: Optional[str] = None,
    ) -> None:
        self.name, self.modality, self.distribution, self.version = name, modality, distribution, version
        self.status: Status = status
        self.error, self.package, self._warning = error, package, warning
        #: ``DIST:NAME`` of the other rows offering the same (modality, name).
        self.ambiguous_with: tuple[str, ...] = ()
        self._manifest = manifest
        #: The normalised manifest as JSON-able data (what the cache stores).
        self.manifest_data = manifest_data
        #: The registry holding this row (set when it is added): where its bindings' events go.
        self.registry: Optional[EventSink] = None
        self._cls: Optional[type[LollmsBinding]] = None
        self._checker: Optional[ConfigChecker] = None

    @property
    def warning(self) -> str | None:
        """What a user should know about this row (ambiguous name, manifest version), or ``None``."""
        notes = []
        if self.ambiguous_with:
            notes.append(
                f"ambiguous: '{self.name}' is also provided by {', '.join(self.ambiguous_with)}; "
                f"select one with DIST:NAME (e.g. {self.qualified_name}) or LOLLMS_PREFER"
            )
        if self._warning:
            notes.append(self._warning)
        return "; ".join(notes) or None

    @property
    def usable(self) -> bool:
        """Whether the binding can be created (``ok`` or ``unverified``)."""
        return self.status != "error"

    @property
    def qualified_name(self) -> str:
        """``DIST:NAME``, the unambiguous way to name this binding."""
        return f"{self.distribution}:{self.name}"

    def answers_to(self, name: str) -> bool:
        """Whether ``name`` (bare ``NAME`` or qualified ``DIST:NAME``) designates this row."""
        dist, _, bare = name.rpartition(":")
        return self.name == bare and (
            not dist or normalise_distribution(self.distribution) == normalise_distribution(dist)
        )

    @property
    def manifest(self) -> Optional[Manifest]:
        """The validated manifest (built from :attr:`manifest_data` on first use)."""
        if self._manifest is None and self.manifest_data is not None:
            from ..manifest import _model as manifest_module  # pydantic: only when a manifest is really needed

            self._manifest = manifest_module.Manifest.model_validate(self.manifest_data)
        return self._manifest

    @manifest.setter
    def manifest(self, value: Optional[Manifest]) -> None:
        self._manifest = value

    @property
    def checker(self) -> Optional[ConfigChecker]:
        """What creating a binding needs of its manifest (name, class, config checks), without pydantic.

        From the cache's data (validated by pydantic when it was cached) unless the full
        manifest is already built; ``None`` for a broken row.
        """
        if self._manifest is not None:
            return self._manifest
        if self._checker is None and self.manifest_data is not None:
            from ..manifest._config_check import CachedManifest

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
        """Import the binding class (first use only). Nothing is written onto the class.

        :raises BindingLoadError: the plugin is broken, or the class is not a binding of this modality.
        """
        if self._cls is not None:
            return self._cls
        checker = self.checker
        if not self.usable or checker is None:
            raise BindingLoadError(f"binding '{self.name}' from {self.distribution} is broken: {self.error}")
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
        base_module, base_name = _BASES[Modality(checker.modality)]
        # Read from sys.modules, not imported: a class that subclasses the base has imported it
        # already, and the registry layer keeps no import edge towards the bindings.
        base = getattr(sys.modules.get(base_module), base_name, None)
        if not (isinstance(cls, type) and isinstance(base, type) and issubclass(cls, base)):
            raise BindingLoadError(f"{module_name}:{attr} is not a subclass of {base_name}")
        self._cls = cast("type[LollmsBinding]", cls)
        return self._cls

    def create(self, **config: Any) -> LollmsBinding:
        """A new binding instance that knows this spec and its event sink (this row's registry) from birth.

        The spec is set on the instance before ``__init__`` runs, so the base validates
        ``config`` against THIS row's manifest even when the class serves several rows (with
        the cached manifest's checker: no pydantic on the warm path).
        """
        cls = self.load_class()
        binding = cls.__new__(cls)
        binding.spec = self
        binding.event_sink = self.registry  # None for a row outside any registry: the lookup's sink then
        binding.__init__(**config)  # two-step construction, see docstring
        return cast("LollmsBinding", binding)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``lollms bindings --json``."""
        return {
            "name": self.name,
            "modality": self.modality.value if self.modality else None,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "warning": self.warning,
        }
