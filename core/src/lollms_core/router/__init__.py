"""The ``router`` LLM binding: one binding made of other bindings (a pool of servers).

The face of :mod:`lollms_core.router` holds only the manifest (``_description``, read at
``import lollms_core``); the binding itself is :class:`lollms_core.router.binding.RouterBinding`,
imported when a router is created, its pool in ``_pool``.
"""

from __future__ import annotations

from ._description import MANIFEST, STRATEGIES

__all__ = ["MANIFEST", "STRATEGIES"]
