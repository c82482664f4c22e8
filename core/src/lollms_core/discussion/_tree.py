"""Read-only views of a discussion tree with lollms_client's shapes: branches and nodes.

lollms_client 1.21 describes a tree as ``BranchInfo`` (one per leaf: the root-to-leaf path)
and ``MessageNode`` (a forest of nested nodes). Same fields here, except ``created_at``,
which stays the ISO 8601 string the discussion stores (lollms_client has a ``datetime``).
These are plain functions over the discussion's public methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._discussion import LollmsDiscussion
    from ._store import DiscussionMessage

__all__ = [
    "BranchInfo",
    "MessageNode",
    "branch_info",
    "deepest_leaf",
    "leaf_after_removing",
    "list_branches",
    "message_tree",
    "sibling_of_leaf",
    "siblings",
    "subtree_ids",
]

_PREVIEW = 80


@dataclass
class BranchInfo:
    """One branch: the path from a root to ``leaf_id``."""

    leaf_id: str
    message_ids: list[str]
    depth: int
    label: str
    is_active: bool
    created_at: str | None = None
    last_sender: str = ""
    last_content_preview: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return dict(vars(self))


@dataclass
class MessageNode:
    """One message of the tree with its replies (``children``)."""

    message_id: str
    parent_id: str | None
    sender: str
    sender_type: str
    content_preview: str
    created_at: str | None
    children: list[MessageNode] = field(default_factory=list)
    branch_count: int = 0
    is_active_path: bool = False

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        """Every field, JSON-ready; ``children`` nested when ``recursive``."""
        out = {k: v for k, v in vars(self).items() if k != "children"}
        out["children"] = [c.to_dict(recursive) for c in self.children] if recursive else []
        return out


def _preview(text: str, size: int) -> str:
    text = text.strip()
    return text[:size] + ("…" if len(text) > size else "")


def deepest_leaf(d: LollmsDiscussion, message_id: str) -> str:
    """The leaf reached from ``message_id`` taking the most recent reply at each step."""
    leaf = message_id
    while children := d.get_children(leaf):
        leaf = children[-1].id
    return leaf


def siblings(d: LollmsDiscussion, message_id: str) -> list[DiscussionMessage]:
    """The messages sharing ``message_id``'s parent, itself included, oldest first."""
    return d.get_children(d.get_message(message_id).parent_id)


def branch_info(d: LollmsDiscussion, leaf_id: str) -> BranchInfo:
    """The :class:`BranchInfo` of the branch ending at ``leaf_id``."""
    path = d.get_branch(leaf_id)
    leaf = path[-1]
    label = str(leaf.metadata.get("branch_label") or f"Branch #{leaf_id[:6]} — {leaf.sender} (depth {len(path)})")
    return BranchInfo(
        leaf_id=leaf_id,
        message_ids=[m.id for m in path],
        depth=len(path),
        label=label,
        is_active=leaf_id == d.active_leaf_id,
        created_at=leaf.created_at,
        last_sender=leaf.sender,
        last_content_preview=_preview(leaf.content, _PREVIEW),
    )


def list_branches(d: LollmsDiscussion) -> list[BranchInfo]:
    """A :class:`BranchInfo` per leaf, oldest leaf first."""
    leaves = [m for m in d.messages if not d.get_children(m.id)]
    return [branch_info(d, m.id) for m in sorted(leaves, key=lambda m: m.created_at)]


def message_tree(d: LollmsDiscussion) -> list[MessageNode]:
    """The whole tree as a forest of :class:`MessageNode` (roots oldest first)."""
    active = {m.id for m in d.get_messages()}

    def node(msg: DiscussionMessage) -> MessageNode:
        children = [node(c) for c in d.get_children(msg.id)]
        return MessageNode(
            message_id=msg.id,
            parent_id=msg.parent_id,
            sender=msg.sender,
            sender_type=msg.role,
            content_preview=_preview(msg.content, 120),
            created_at=msg.created_at,
            children=children,
            branch_count=sum(c.branch_count for c in children) or 1,
            is_active_path=msg.id in active,
        )

    return [node(root) for root in d.get_children(None)]


def subtree_ids(d: LollmsDiscussion, message_id: str) -> list[str]:
    """``message_id`` and every reply below it.

    :raises MessageNotFoundError: unknown id.
    """
    d.get_message(message_id)
    found, queue = [], [message_id]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(c.id for c in d.get_children(current))
    return found


def leaf_after_removing(d: LollmsDiscussion, message_id: str) -> str | None:
    """Where the active branch goes when ``message_id``'s subtree holding it is removed.

    The newest branch of another reply to the same parent, else the parent itself.
    """
    parent = d.get_message(message_id).parent_id
    others = [c.id for c in d.get_children(parent) if c.id != message_id]
    return deepest_leaf(d, others[-1]) if others else parent


def sibling_of_leaf(d: LollmsDiscussion, direction: int) -> str | None:
    """The alternative ``direction`` steps from the active leaf among its siblings (wrapping), or ``None``."""
    leaf = d.active_leaf_id
    if leaf is None:
        return None
    alternatives = siblings(d, leaf)
    if len(alternatives) < 2:
        return None
    index = next(i for i, m in enumerate(alternatives) if m.id == leaf)
    return alternatives[(index + direction) % len(alternatives)].id
