"""The one check every client method makes: whether there is a binding for that modality.

A plain function over a typed binding, shared by the client and its helper modules, so none
of them needs a stub of the client's methods to type-check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn, TypeVar

from ..errors import ModalityNotConfiguredError
from ..types import Modality

if TYPE_CHECKING:
    from ..bindings import LollmsBinding
    from ..registry._table import Registry

__all__ = ["missing", "require"]

B = TypeVar("B", bound="LollmsBinding")


def require(binding: B | None, modality: str, registry: Registry) -> B:
    """``binding``, or :class:`ModalityNotConfiguredError` naming the constructor argument to set.

    :raises ModalityNotConfiguredError: ``binding`` is ``None``.
    """
    if binding is None:
        missing(modality, registry)
    return binding


def missing(modality: str, registry: Registry) -> NoReturn:
    """Raise :class:`ModalityNotConfiguredError` for ``modality``, listing its installed bindings."""
    installed = ", ".join(registry.available(Modality(modality))) or "none"
    raise ModalityNotConfiguredError(
        f"this client has no {modality} binding: set {modality}_binding_name=... in LollmsClient(...) "
        f"(installed {modality} bindings: {installed})"
    )
