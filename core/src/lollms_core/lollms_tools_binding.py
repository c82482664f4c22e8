"""``lollms_client.lollms_tools_binding`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core``.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
``LollmsTOOLBindingManager`` is lollms_client's spelling of ``LollmsToolBindingManager``.
"""

from .bindings import LollmsToolBinding
from .discovery import LollmsTOOLBindingManager, LollmsToolBindingManager

__all__ = ["LollmsTOOLBindingManager", "LollmsToolBinding", "LollmsToolBindingManager"]
