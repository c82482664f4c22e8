"""``LollmsBinding``: what every modality shares — config from the manifest, events, cancel, errors.

Written once here so no plugin can get validation, secret masking, the error-dict rule
or event emission wrong.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .._cancel import CallControl
from ..errors import BackendError, error_dict
from ..types import Chunk, GenerationEvent, Modality

if TYPE_CHECKING:
    from .._config_check import ConfigChecker
    from ..manifest import BindingConfig, Manifest
    from ..registry import BindingSpec, Registry

__all__ = ["LollmsBinding", "seed_result"]

T = TypeVar("T")
_call_ids = itertools.count(1)


class LollmsBinding:
    """Base of every binding.

    Subclasses are constructed with keyword config (``cls(**config)``); the base checks it
    against the binding's ``description.yaml`` and exposes it as :attr:`config`.

    :param strict: raise :class:`~lollms_core.errors.BackendError` from seed-named
        generation methods instead of returning the seeds' error dict.
    """

    modality: ClassVar[Modality]
    #: Set by the registry when the class is loaded; a class may also set it itself.
    manifest: ClassVar[Manifest | None] = None
    spec: ClassVar[BindingSpec | None] = None

    def __init__(self, *, strict: bool = False, **config: Any) -> None:
        manifest = type(self)._checker()
        #: Validated configuration (secrets masked in repr).
        self.config: BindingConfig = manifest.validate_config(config)
        #: The binding's registry name (seed attribute).
        self.binding_name: str = manifest.name
        #: The active model (seed attribute); subclasses update it in ``load_model``.
        self.model_name: str | None = self.config.get("model_name") or None
        self.strict = strict
        self._active: set[threading.Event] = set()
        self._lock = threading.Lock()

    @classmethod
    def _checker(cls) -> ConfigChecker:
        """What validates config and call options (no pydantic on the warm path).

        For a class from the registry: the cached manifest's small checker; else the full manifest.
        """
        if cls.manifest is None and cls.spec is not None:
            checker = cls.spec.checker
            if checker is not None:
                return checker
        return cls._resolve_manifest()

    @classmethod
    def _resolve_manifest(cls) -> Manifest:
        if cls.manifest is not None:
            return cls.manifest
        if cls.spec is not None and cls.spec.manifest is not None:
            cls.manifest = cls.spec.manifest  # built from the cached data on first need
            return cls.manifest
        from .._state import default_registry

        # A class built directly (not through a manager): find its entry by package.
        for spec in default_registry().entries:
            ok = spec.status == "ok" and spec.modality == cls.modality and spec.package
            if ok and spec.manifest is not None and cls.__module__.startswith(str(spec.package)):
                spec._cls = cls
                cls.manifest, cls.spec = spec.manifest, spec
                return spec.manifest
        from .. import manifest as manifest_module

        return manifest_module.Manifest(name=cls.__name__.lower(), modality=cls.modality)

    @property
    def registry(self) -> Registry:
        """The registry this binding came from (its hooks receive this binding's events)."""
        spec = type(self).spec
        if spec is not None and spec.registry is not None:
            return spec.registry
        from .._state import default_registry

        return default_registry()

    # -- cancellation -----------------------------------------------------------------

    def cancel(self) -> None:
        """Stop every generation in progress on this binding (callable from any thread)."""
        with self._lock:
            for flag in self._active:
                flag.set()

    def _start_call(self) -> CallControl:
        flag = CallControl()  # a threading.Event that can also abort blocked reads and back-offs
        with self._lock:
            self._active.add(flag)
        return flag

    def _end_call(self, flag: threading.Event) -> None:
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
        extra = type(self)._checker().validate_call(method, params, also_known=tuple(known or ()))
        extra.update({k: v for k, v in (known or {}).items() if v is not None})

        def call() -> T:
            out = primitive(*args, extra)
            if not isinstance(out, returns) or (returns is bytes and not out):
                raise TypeError(
                    f"{type(self).__name__}.{primitive.__name__} returned {type(out).__name__}"
                    f"{' (empty)' if not out else ''}; expected {returns.__name__}"
                )
            return out

        return self._observed(method, call)

    def close(self) -> None:
        """Release engine resources (models, connection pools). Safe to call twice."""

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.modality.value}:{self.binding_name} model={self.model_name!r}>"


def seed_result(method: Callable[..., Any]) -> Callable[..., Any]:
    """Apply the one error rule to a seed-named generation method.

    A :class:`BackendError` becomes ``{"status": False, "error": ..., "error_type": ...}``
    unless the binding was made with ``strict=True``. Every other exception propagates.
    """

    @functools.wraps(method)
    def wrapper(self: LollmsBinding, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)

    return wrapper
