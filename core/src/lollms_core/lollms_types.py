"""``lollms_client.lollms_types`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core`` in your imports.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
"""

from .types import (
    ELF_COMPLETION_FORMAT,
    ELF_GENERATION_FORMAT,
    MSG_OPERATION_TYPE,
    MSG_TYPE,
)

__all__ = ["ELF_COMPLETION_FORMAT", "ELF_GENERATION_FORMAT", "MSG_OPERATION_TYPE", "MSG_TYPE"]
