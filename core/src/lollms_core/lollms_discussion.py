"""``lollms_client.lollms_discussion`` under lollms-core: rewrite ``lollms_client`` to ``lollms_core`` in your imports.

A thin alias for migrating code (docs/migrating-from-lollms-client.md); the names live elsewhere.
"""

from .discussion import (
    ArtefactManager,
    ArtefactType,
    BranchInfo,
    LollmsDataManager,
    LollmsDiscussion,
    LollmsMessage,
    MessageNode,
)

__all__ = [
    "ArtefactManager",
    "ArtefactType",
    "BranchInfo",
    "LollmsDataManager",
    "LollmsDiscussion",
    "LollmsMessage",
    "MessageNode",
]
