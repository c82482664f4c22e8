"""``lollms new-binding``: write a complete plugin distribution for one binding.

The face of :mod:`lollms_core.scaffold`; the writer and its template language live in
``_writer``, the templates in ``templates/`` (package data).
"""

from __future__ import annotations

from ._writer import ENGINES, MANIFEST_CORE_API, MODALITIES, BindingScaffold, check_name, render, write_scaffold

__all__ = ["ENGINES", "MANIFEST_CORE_API", "MODALITIES", "BindingScaffold", "check_name", "render", "write_scaffold"]
