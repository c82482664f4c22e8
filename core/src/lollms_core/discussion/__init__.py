"""``LollmsDiscussion``: a branching conversation, optionally persisted in one SQLite file.

The face of :mod:`lollms_core.discussion`. The class lives in ``_discussion``; its parts in
``_tree`` (branches), ``_store`` (SQLite), ``_llm`` (budget and generation), ``_chat``,
``_context``, ``_formats`` (exports), ``_artefacts`` (versioned documents), ``_images``
(discussion-level images), ``_manager`` (``LollmsDataManager``, many discussions in one file)
and ``_sqlite_open`` (opening a database safely).
"""

from __future__ import annotations

from ..errors import DiscussionNotFoundError, MessageNotFoundError
from ._artefacts import ArtefactManager, ArtefactType
from ._chat import ChatResult
from ._discussion import LollmsDiscussion, LollmsMessage
from ._manager import LollmsDataManager
from ._store import DiscussionMessage
from ._tree import BranchInfo, MessageNode

__all__ = [
    "ArtefactManager",
    "ArtefactType",
    "BranchInfo",
    "ChatResult",
    "DiscussionMessage",
    "DiscussionNotFoundError",
    "LollmsDataManager",
    "LollmsDiscussion",
    "LollmsMessage",
    "MessageNode",
    "MessageNotFoundError",
]
