"""The merged registry: ``(modality, name)`` → manifest, class path and status.

One registry serves all six modalities. It knows nothing of how it was filled (entry
points, a test, a notebook): it receives plugin objects and rows. Plugins that fail
(import error, hook error, bad manifest, other core API) stay in it with
``status="error"`` and a one-line reason, so ``lollms bindings`` can show them while
everything else works.

Names: a bare name (``openai``) or a qualified one (``lollms-openai:openai``, ``DIST:NAME``).
When two distributions provide the same name, both rows stay usable and carry an
ambiguity warning; a bare name then resolves by ``LOLLMS_PREFER``, else to the one
published by the lollms project (never displaced silently by a third party), else it is
an :class:`~lollms_core.errors.AmbiguousBindingError` listing the ``DIST:NAME`` choices.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from .. import hookspecs
from ..errors import AmbiguousBindingError, BindingLoadError, BindingNotFoundError, LollmsError
from ..types import GenerationEvent, Modality
from ._manifest_store import ManifestStore
from ._sources import specs_from_sources
from ._spec import BindingSpec, normalise_distribution

if TYPE_CHECKING:
    from ..bindings.base import LollmsBinding

__all__ = ["FIRST_PARTY", "KNOWN_BINDINGS", "BindingSpec", "Registry", "parse_preferences"]

#: Distributions published by the lollms project: a third party claiming one of their names never wins silently.
FIRST_PARTY = frozenset(
    {"lollms-core", "lollms-openai", "lollms-ollama", "lollms-llamacpp", "lollms-whisper", "lollms-transformers"}
)
#: Names of published bindings and the distribution providing them: the only names an error suggests installing.
KNOWN_BINDINGS: Mapping[str, tuple[str, frozenset[Modality]]] = {
    "openai": ("lollms-openai", frozenset({Modality.LLM, Modality.TTI, Modality.TTS, Modality.STT})),
    "ollama": ("lollms-ollama", frozenset({Modality.LLM})),
    "llamacpp": ("lollms-llamacpp", frozenset({Modality.LLM})),
    "whisper": ("lollms-whisper", frozenset({Modality.STT})),
    "transformers": ("lollms-transformers", frozenset({Modality.LLM})),
}


def parse_preferences(text: str) -> dict[tuple[str | None, str], str]:
    """``LOLLMS_PREFER``: ``"piper=lollms-piper, tts:openai=my-openai"`` → ``{(modality|None, name): dist}``.

    Entries without ``=`` are ignored (a typo there must not break every import).
    """
    out: dict[tuple[str | None, str], str] = {}
    for item in text.split(","):
        target, sep, dist = item.partition("=")
        if not sep or not target.strip() or not dist.strip():
            continue
        modality, _, name = target.strip().rpartition(":")
        out[(modality.strip().lower() or None, name.strip())] = normalise_distribution(dist)
    return out


class Registry:
    """All known bindings plus the pluggy manager whose hooks observe them.

    :param prefer: which distribution a bare ambiguous name means, as :func:`parse_preferences`
        returns; default: read ``LOLLMS_PREFER`` at each lookup.
    :param manifest_store: where validated manifests are kept between runs (discovery passes its
        on-disk cache); default: none, every manifest is read and validated.
    """

    def __init__(
        self,
        prefer: Mapping[tuple[str | None, str], str] | None = None,
        manifest_store: ManifestStore | None = None,
    ) -> None:
        self._entries: list[BindingSpec] = []
        self.plugin_manager = pluggy.PluginManager("lollms")
        self.plugin_manager.add_hookspecs(hookspecs)
        self._observers: list[tuple[str, Any]] | None = None
        self._pending: list[Callable[[], bool]] = []
        self._settling = threading.RLock()
        self.prefer = prefer
        #: Where validated manifests are kept between runs (discovery's cache); ``None``: parse each time.
        self.manifest_store = manifest_store

    # -- rows ---------------------------------------------------------------------------

    @property
    def entries(self) -> list[BindingSpec]:
        """Every row, working or not, in the order added (deferred plugins are finished first)."""
        if self._pending:
            self.settle()
        return self._entries

    def defer(self, retry: Callable[[], bool]) -> None:
        """Keep ``retry`` to run at the next lookup; it returns ``True`` once it has done its work.

        Discovery uses this for a plugin module that was still being imported when the
        registry was built: it is registered when its import has finished, never dropped.
        """
        self._pending.append(retry)

    def settle(self) -> None:
        """Run the deferred work that can run now (once, even when several threads look at once)."""
        with self._settling:
            pending, self._pending = self._pending, []
            for retry in pending:
                if not retry():
                    self._pending.append(retry)

    # -- lookup -------------------------------------------------------------------------

    def available(self, modality: Modality | str) -> list[str]:
        """Names of the usable bindings of one modality, sorted (a name provided twice is listed once)."""
        modality = Modality(modality)
        return sorted({e.name for e in self.entries if e.modality == modality and e.usable})

    def candidates(self, modality: Modality | str, name: str) -> list[BindingSpec]:
        """The usable rows ``name`` (bare or ``DIST:NAME``) may mean, sorted by distribution."""
        modality = Modality(modality)
        dist, _, bare = name.rpartition(":")
        return sorted(
            (
                e
                for e in self.entries
                if e.modality == modality
                and e.name == bare
                and e.usable
                and (not dist or normalise_distribution(e.distribution) == normalise_distribution(dist))
            ),
            key=lambda e: normalise_distribution(e.distribution),
        )

    def get(self, modality: Modality | str, name: str) -> BindingSpec:
        """The usable row for ``(modality, name)``; ``name`` may be ``DIST:NAME``.

        :raises BindingNotFoundError: listing the installed bindings of that modality and close matches.
        :raises AmbiguousBindingError: several distributions provide the bare name and none is preferred.
        :raises BindingLoadError: the entry exists but is broken (with its reason).
        """
        modality = Modality(modality)
        found = self.candidates(modality, name)
        if len(found) == 1:
            return found[0]
        if found:
            return self._choose(modality, name, found)
        broken = [e for e in self.entries if not e.usable and e.modality in (modality, None) and e.answers_to(name)]
        if broken:
            raise BindingLoadError(f"{modality.value} binding '{name}' is broken: {broken[0].error}")
        raise BindingNotFoundError(self._not_found(modality, name))

    def _choose(self, modality: Modality, name: str, found: list[BindingSpec]) -> BindingSpec:
        prefer = self.prefer if self.prefer is not None else parse_preferences(os.environ.get("LOLLMS_PREFER", ""))
        wanted = prefer.get((modality.value, name)) or prefer.get((None, name))
        for e in found:
            if wanted and normalise_distribution(e.distribution) == wanted:
                return e
        ours = [e for e in found if normalise_distribution(e.distribution) in FIRST_PARTY]
        if len(ours) == 1:
            import logging  # rare path: keeps logging out of import time

            others = ", ".join(e.distribution for e in found if e is not ours[0])
            logging.getLogger("lollms").warning(
                "%s binding '%s' is also provided by %s; using %s (select another with DIST:NAME or LOLLMS_PREFER)",
                modality.value,
                name,
                others,
                ours[0].qualified_name,
            )
            return ours[0]
        choices = ", ".join(e.qualified_name for e in found)
        raise AmbiguousBindingError(
            f"{modality.value} binding '{name}' is provided by several distributions: {choices}. "
            f"Name one (e.g. '{found[0].qualified_name}') or set "
            f"LOLLMS_PREFER={modality.value}:{name}={found[0].distribution}"
        )

    def _not_found(self, modality: Modality, name: str) -> str:
        import difflib

        dist, _, bare = name.rpartition(":")
        have = self.available(modality)
        kind = modality.value
        msg = f"no {kind} binding named '{name}'; installed {kind} bindings: {', '.join(have) or 'none'}."
        elsewhere = sorted({e.modality.value for e in self.entries if e.name == bare and e.modality and e.usable})
        if dist and any(e.name == bare for e in self.entries if e.modality == modality and e.usable):
            providers = ", ".join(e.qualified_name for e in self.candidates(modality, bare))
            msg += f" '{bare}' is provided by: {providers}."
        elif elsewhere:
            msg += f" '{bare}' is a {'/'.join(elsewhere)} binding."
        close = difflib.get_close_matches(bare, have, n=3, cutoff=0.6)
        if close:
            msg += f" Did you mean {' or '.join(repr(c) for c in close)}?"
        known = KNOWN_BINDINGS.get(bare)
        if known and modality in known[1] and not dist:
            msg += f" Install it with `pip install {known[0]}`."
        return msg + " Run `lollms bindings` to see everything installed."

    # -- building -----------------------------------------------------------------------

    def create(self, modality: Modality | str, name: str, **config: Any) -> LollmsBinding:
        """A new binding of ``modality`` named ``name``, its config validated against its manifest first.

        :raises BindingNotFoundError: listing the installed bindings of this modality.
        :raises AmbiguousBindingError: two distributions provide the bare name.
        :raises ConfigError: a config value is wrong (named, with what is allowed).
        :raises BindingLoadError: the class failed to import or its constructor failed.
        """
        spec = self.get(modality, name)
        spec.load_class()  # its BindingLoadError passes through unchanged
        try:
            return spec.create(**config)
        except LollmsError:
            raise
        except Exception as exc:
            raise BindingLoadError(
                f"{Modality(modality).value} binding '{name}' failed to start: {type(exc).__name__}: {exc}"
            ) from exc

    def add(self, spec: BindingSpec) -> BindingSpec:
        """Add a row; a name offered twice is an error row or an ambiguity.

        The same ``(modality, name)`` twice from ONE distribution is an error row; from two
        distributions both stay usable and are marked ambiguous.
        """
        spec.registry = self
        if spec.usable and spec.modality is not None:
            same = [e for e in self._entries if e.usable and e.modality == spec.modality and e.name == spec.name]
            mine = [
                e for e in same if normalise_distribution(e.distribution) == normalise_distribution(spec.distribution)
            ]
            if mine:
                spec.status = "error"
                spec.error = (
                    f"duplicate {spec.modality.value} binding '{spec.name}': "
                    f"already provided by {mine[0].distribution} {mine[0].version}".strip()
                )
            elif same:
                group = [*same, spec]
                for e in group:
                    e.ambiguous_with = tuple(o.qualified_name for o in group if o is not e)
        self._entries.append(spec)
        return spec

    def add_error(self, name: str, distribution: str, version: str, reason: str) -> BindingSpec:
        """Record a plugin that could not contribute bindings, with a one-line reason."""
        reason = " ".join(reason.split())
        return self.add(BindingSpec(name, None, distribution, version, status="error", error=reason))

    def register_plugin(
        self, plugin: object, distribution: str, version: str = "", name: str | None = None, row_name: str | None = None
    ) -> list[BindingSpec]:
        """Register one plugin object (module) and add the bindings it declares.

        Its ``lollms_register_bindings`` implementations are called through pluggy (so
        partial arguments, ``tryfirst``/``trylast`` and wrappers work) but apart from every
        other plugin's. Everything that can go wrong, ``SystemExit`` included, becomes an
        error row named ``row_name`` (default: the pluggy name).

        :param name: the plugin's pluggy name (default: ``distribution``).
        """
        label = name or distribution
        row = row_name or label
        try:
            self.plugin_manager.register(plugin, name=label)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # pluggy validation: a hookimpl that matches no spec
            return [self.add_error(row, distribution, version, f"invalid plugin: {type(exc).__name__}: {exc}")]
        self._observers = None
        sources: list[Any] = []
        try:
            if self._implements(plugin, "lollms_register_bindings"):
                for returned in self.call_one(plugin, "lollms_register_bindings"):
                    sources.extend(returned or ())
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from a plugin must not end the host process
            return [
                self.add_error(
                    row, distribution, version, f"lollms_register_bindings raised {type(exc).__name__}: {exc}"
                )
            ]
        specs = specs_from_sources(sources, distribution, version, self.manifest_store, row_name)
        return [self.add(s) for s in specs]

    # -- calling hooks, one plugin at a time ----------------------------------------------

    def _implements(self, plugin: object, hook: str) -> bool:
        return any(caller.name == hook for caller in self.plugin_manager.get_hookcallers(plugin) or ())

    def call_one(self, plugin: object, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` through pluggy with only ``plugin``'s implementations (what pluggy returns)."""
        others = [p for p in self.plugin_manager.get_plugins() if p is not plugin]
        return self.plugin_manager.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    def per_plugin(self, hook: str) -> list[tuple[str, Callable[..., Any]]]:
        """``(plugin name, caller)`` for each plugin implementing ``hook``, in pluggy's call order.

        Each caller runs one plugin's implementations through pluggy; calling them one by
        one keeps a failing plugin from hiding the others.
        """
        if self._pending:
            self.settle()
        pm = self.plugin_manager
        order: list[object] = []
        for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):  # pluggy calls the list backwards
            if impl.plugin not in order:
                order.append(impl.plugin)
        callers: list[tuple[str, Callable[..., Any]]] = []
        for plugin in order:
            others = [p for p in pm.get_plugins() if p is not plugin]
            callers.append((pm.get_name(plugin) or repr(plugin), pm.subset_hook_caller(hook, remove_plugins=others)))
        return callers

    # -- observing ----------------------------------------------------------------------

    def emit(self, event: GenerationEvent) -> None:
        """Send an event to every observer; an observer that raises is logged and skipped."""
        for plugin_name, caller in self.observers():
            try:
                caller(event=event)
            except (Exception, SystemExit) as exc:  # sys.exit() in an observer must not end the call
                import logging  # only on this rare path: keeps logging out of import time

                logging.getLogger("lollms").warning(
                    "lollms_on_generation_event in %s raised %s: %s", plugin_name, type(exc).__name__, exc
                )

    def observers(self) -> list[tuple[str, Any]]:
        """``(plugin name, caller)`` of the event observers (cached: empty means no events are built)."""
        if self._observers is None:
            self._observers = self.per_plugin("lollms_on_generation_event")
        return self._observers

    def register_observer(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object that only observes (or adds commands), with no bindings."""
        self.plugin_manager.register(plugin, name=name)
        self._observers = None

    def unregister_observer(self, plugin: object) -> None:
        """Remove a plugin object registered with :meth:`register_observer`."""
        self.plugin_manager.unregister(plugin)
        self._observers = None
