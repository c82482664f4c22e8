"""The merged table of bindings: ``(modality, name) -> BindingSpec``, and the plugin hooks through pluggy.

The face of :mod:`lollms_core.registry`. The registry knows nothing of entry points: whoever
fills it (:mod:`lollms_core.discovery`, or a test registering a plugin directly) hands it the
plugins, and a manifest store when it is built.
"""

from __future__ import annotations

from ._manifest_store import ManifestStore, content_hash
from ._spec import BindingSpec
from ._table import FIRST_PARTY, KNOWN_BINDINGS, Registry, parse_preferences

__all__ = [
    "FIRST_PARTY",
    "KNOWN_BINDINGS",
    "BindingSpec",
    "ManifestStore",
    "Registry",
    "content_hash",
    "parse_preferences",
]
