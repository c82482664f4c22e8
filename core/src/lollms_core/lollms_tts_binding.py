"""``lollms_client.lollms_tts_binding`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core`` in your imports.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
"""

from .bindings import LollmsTTSBinding
from .discovery import LollmsTTSBindingManager

__all__ = ["LollmsTTSBinding", "LollmsTTSBindingManager"]
