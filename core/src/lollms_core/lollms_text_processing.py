"""``lollms_client.lollms_text_processing`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core``.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live in
:mod:`lollms_core.text_processing`. Every LLM binding already has one as ``binding.tp``.
"""

from .text_processing import LollmsTextProcessor

__all__ = ["LollmsTextProcessor"]
