"""``LollmsBinding``: what every modality shares — config from the manifest, events, cancel, errors.

Written once here so no plugin can get validation, secret masking, the error-dict rule
or event emission wrong.
"""

from __future__ import annotations

import itertools
import threading
import time
from abc import ABC
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from .._cancel import CallControl
from .._seed_rule import seed_rule
from ..errors import BackendError, error_dict
from ..types import Chunk, GenerationEvent, Modality
from ._checks import engine_error
from ._host import NO_OBSERVERS, BindingRow, EventSink, binding_lookup

if TYPE_CHECKING:
    from ..manifest._config_check import ConfigChecker
    from ..manifest._model import BindingConfig, Manifest

__all__ = ["LollmsBinding", "seed_result"]

T = TypeVar("T")
_call_ids = itertools.count(1)


class _InstanceManifest:
    """``binding.manifest``: resolved per instance and lazily (pydantic only when asked for).

    Read on the class it is ``None``: nothing about a registry row is ever stored on a class,
    so one class can serve several rows (or registries), each instance answering with its own.
    """

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> None: ...
    @overload
    def __get__(self, obj: LollmsBinding, objtype: type | None = None) -> Manifest: ...
    def __get__(self, obj: LollmsBinding | None, objtype: type | None = None) -> Manifest | None:
        return None if obj is None else obj._resolve_manifest()

    def __set__(self, obj: LollmsBinding, value: Manifest) -> None:
        obj.__dict__["_own_manifest"] = value


class LollmsBinding(ABC):
    """Base of every binding.

    Subclasses are constructed with keyword config (``cls(**config)``); the base checks it
    against the binding's ``description.yaml`` and exposes it as :attr:`config`. Each
    modality base marks its one required primitive ``@abstractmethod``: a class missing
    it cannot be created (a ``TypeError`` naming the method), instead of failing at first use.

    :param strict: raise :class:`~lollms_core.errors.BackendError` from seed-named
        generation methods instead of returning the seeds' error dict.
    """

    modality: ClassVar[Modality]
    #: The binding's validated manifest: on an instance, its own row's (built on first access);
    #: on the class, ``None`` unless the class declares ``manifest = Manifest(...)`` itself.
    manifest = _InstanceManifest()
    #: The registry row this binding was created from (set on the instance before ``__init__``
    #: by ``BindingSpec.create``; for a class built directly, asked of the lookup discovery fills).
    spec: BindingRow | None = None
    #: Where this binding's generation events go: the registry it was created from, handed
    #: over with :attr:`spec` (``None`` until then: see :attr:`registry`).
    event_sink: EventSink | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Refuse, with a message a binding author understands, a class missing its primitive."""
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            modality = getattr(cls, "modality", None)
            kind = f"a {modality.value} binding" if isinstance(modality, Modality) else "this binding"
            raise TypeError(
                f"{cls.__name__} cannot be created: it does not implement {', '.join(m + '()' for m in missing)}, "
                f"the primitive {kind} must define (see docs/writing-a-binding.md)"
            )
        return super().__new__(cls)

    def __init__(self, *, strict: bool = False, **config: Any) -> None:
        checker = self._checker()
        #: Validated configuration (secrets masked in repr).
        self.config: BindingConfig = checker.validate_config(config)
        #: The binding's registry name (seed attribute).
        self.binding_name: str = checker.name
        #: The active model (seed attribute); subclasses update it in ``load_model``.
        self.model_name: str | None = self.config.get("model_name") or None
        self.strict = strict
        self._active: set[CallControl] = set()
        self._lock = threading.Lock()

    def _declared_manifest(self) -> Manifest | None:
        own: Manifest | None = self.__dict__.get("_own_manifest")
        if own is not None:
            return own
        declared: Manifest | None = getattr(type(self), "manifest", None)  # a class may declare one
        return declared

    def _checker(self) -> ConfigChecker:
        """What validates config and call options: no pydantic on the warm path.

        From a registry row: the cached manifest's small checker (the same checks and
        messages as the pydantic manifest); else the full manifest.
        """
        declared = self._declared_manifest()
        if declared is not None:
            return declared
        spec = self._own_spec()
        checker = spec.checker if spec is not None else None
        return checker if checker is not None else self._resolve_manifest()

    def _own_spec(self) -> BindingRow | None:
        """The registry row of this instance.

        Handed over at creation by a registry; for a class built directly (as seed code does),
        the row the lookup slot finds for its class or package, remembered on the instance
        (never on the class).
        """
        if self.spec is not None:
            return self.spec
        lookup = binding_lookup()
        found = lookup.row_for(type(self)) if lookup is not None else None
        if found is not None:
            self.spec = found
        return found

    def _resolve_manifest(self) -> Manifest:
        declared = self._declared_manifest()
        if declared is not None:
            return declared
        spec = self._own_spec()
        if spec is not None and spec.manifest is not None:
            return spec.manifest  # built once per row, from the cached data, on first need
        from ..manifest import _model as manifest_module

        fallback = manifest_module.Manifest(name=type(self).__name__.lower(), modality=type(self).modality)
        self.manifest = fallback
        return fallback

    @property
    def registry(self) -> EventSink:
        """Where this binding's events go: the registry it came from (its hooks receive them).

        A binding built directly, without a registry, uses the lookup slot's sink (the default
        registry once ``lollms_core`` is imported).
        """
        sink = self.event_sink
        if sink is not None:
            return sink
        lookup = binding_lookup()
        return lookup.event_sink() if lookup is not None else NO_OBSERVERS

    # -- cancellation -----------------------------------------------------------------

    def cancel(self) -> None:
        """Stop every generation in progress on this binding (callable from any thread)."""
        with self._lock:
            for flag in self._active:
                flag.set()

    def _start_call(self) -> CallControl:
        flag = CallControl()  # a cancel flag that can also abort blocked reads and back-offs
        with self._lock:
            self._active.add(flag)
        return flag

    def _end_call(self, flag: CallControl) -> None:
        with self._lock:
            self._active.discard(flag)

    # -- events -----------------------------------------------------------------------

    def _events(self, method: str) -> Callable[..., None] | None:
        """An emitter for one call, or ``None`` when nobody listens (the common, fast case)."""
        registry = self.registry
        if not registry.observers():
            return None
        call_id, t0 = next(_call_ids), time.perf_counter()
        base: dict[str, Any] = {
            "binding": self.binding_name,
            "modality": self.modality.value,
            "method": method,
            "call_id": call_id,
            "model": self.model_name,
        }

        def emit(kind: Any, chunk: Chunk | None = None, result: Any = None, error: BaseException | None = None) -> None:
            registry.emit(
                GenerationEvent(
                    kind=kind,
                    chunk=chunk,
                    result=result,
                    error=error,
                    elapsed=time.perf_counter() - t0,
                    **base,
                )
            )

        return emit

    def _observed(self, method: str, fn: Callable[[], T]) -> T:
        """Run one non-streaming call with start/end/error events."""
        emit = self._events(method)
        if emit is None:
            return fn()
        emit("start")
        try:
            result = fn()
        except BaseException as exc:
            emit("error", error=exc)
            raise
        emit("end", result=result)
        return result

    def _invoke(
        self,
        method: str,
        primitive: Callable[..., T],
        *args: Any,
        params: dict[str, Any],
        known: dict[str, Any] | None = None,
        returns: type = bytes,
    ) -> T:
        """Run a media primitive: validate ``params``, emit events, check the result.

        ``params`` are checked against ``<method>_parameters``; media results must be
        non-empty ``bytes``.
        """
        extra = self._checker().validate_call(method, params, also_known=tuple(known or ()))
        extra.update({k: v for k, v in (known or {}).items() if v is not None})

        def call() -> T:
            out = self._guarded(primitive, *args, extra)
            if not isinstance(out, returns) or (returns is bytes and not out):
                raise TypeError(
                    f"{type(self).__name__}.{primitive.__name__} returned {type(out).__name__}"
                    f"{' (empty)' if not out else ''}; expected {returns.__name__}"
                )
            return out

        return self._observed(method, call)

    def _guarded(self, primitive: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``primitive``; an exception that is not a lollms error leaves as an EngineError."""
        try:
            return primitive(*args, **kwargs)
        except Exception as exc:
            wrapped = self._engine_error(primitive.__name__, exc)
            if wrapped is exc:
                raise
            raise wrapped from exc

    def _engine_error(self, primitive: str, exc: BaseException) -> BaseException:
        """``exc`` as callers should see it: lollms errors unchanged, anything else an EngineError."""
        masked = self.config.masked()  # secrets are the values masking changed
        secrets = [str(v) for k, v in self.config.items() if masked.get(k) != v]
        return engine_error(self.binding_name, primitive, exc, secrets)

    def close(self) -> None:  # noqa: B027 - optional hook: most bindings hold nothing to release
        """Release engine resources (models, connection pools). Safe to call twice."""

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.modality.value}:{self.binding_name} model={self.model_name!r}>"


_SEED_RESULT = seed_rule(error_dict, on=(BackendError,))


def seed_result(method: Callable[..., Any]) -> Callable[..., Any]:
    """Apply the one error rule to a seed-named generation method.

    A :class:`BackendError` becomes ``{"status": False, "error": ..., "error_type": ...}``
    unless the binding was made with ``strict=True``. Every other exception propagates.
    (The rule itself, shared with the client and the text processor: ``lollms_core._seed_rule``.)
    """
    return _SEED_RESULT(method)
