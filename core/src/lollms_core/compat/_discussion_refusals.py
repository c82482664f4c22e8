"""lollms_client discussion parameters and attributes lollms-core does not offer, with the way forward.

A migrated script that passes one of these gets an error naming it and saying what to do,
never a silent no-op (docs/migrating-from-lollms-client.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import NotSupportedError

__all__ = ["NOT_OFFERED_ATTRIBUTES", "NOT_OFFERED_PARAMETERS", "refuse"]

#: lollms_client discussion parameters and columns that lollms-core does not offer, with the way forward.
NOT_OFFERED_PARAMETERS = {
    "workspace_path": "lollms-core keeps no workspace folder",
    "auto_create_db": "pass db_path= (or db_manager=) to persist",
    "auto_sync_workspace": "lollms-core keeps no workspace folder",
    "internet_config": "lollms-core has no web search",
    "memory_manager": "lollms-core has no memory layer",
    "db_discussion_obj": "use LollmsDataManager.get_discussion(client, id)",
    "_from_db_reload": "use LollmsDataManager.get_discussion(client, id)",
    "participants": "put it in discussion_metadata={...}",
    "pruning_summary": "call summarize_and_prune() once the messages are in",
    "pruning_point_id": "call summarize_and_prune() once the messages are in",
    "active_branch_id": "add the messages, then switch_branch(id)",
    "messages": "add them with add_message() or build with from_json()",
    "created_at": "set by lollms-core",
    "updated_at": "not recorded by lollms-core",
}


_WORKSPACE = "lollms-core keeps no workspace folder: artefacts live in the database (discussion.artefacts)"
#: lollms_client discussion attributes lollms-core does not offer, with the way forward (AttributeError names it).
NOT_OFFERED_ATTRIBUTES = {
    **dict.fromkeys(("workspace_path", "set_workspace_path", "sync_workspace_to_artefacts"), _WORKSPACE),
    "scratchpad": "lollms-core has no agent scratchpad: keep tool output in a message or an artefact",
    "remove_message": "use prune_branch(id): it removes the message and its replies (a lone removal orphans them)",
    "delete_message": "use prune_branch(id): it removes the message and its replies (a lone removal orphans them)",
    "simplified_chat": "use chat()",
    "memory_manager": "lollms-core has no memory layer",
}


def refuse(names: Mapping[str, Any], where: str) -> None:
    """Raise for lollms_client parameters we do not offer, or unknown keywords, naming each."""
    if not names:
        return
    reasons = [f"{n} ({NOT_OFFERED_PARAMETERS[n]})" if n in NOT_OFFERED_PARAMETERS else f"{n} (unknown)" for n in names]
    raise NotSupportedError(
        f"{where} does not accept {', '.join(reasons)}; free fields go in discussion_metadata={{...}} "
        "(see docs/migrating-from-lollms-client.md)"
    )
