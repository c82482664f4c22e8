"""``lollms_client.lollms_tti_binding`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core`` in your imports.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
"""

from .bindings import LollmsTTIBinding
from .discovery import LollmsTTIBindingManager

__all__ = ["LollmsTTIBinding", "LollmsTTIBindingManager"]
