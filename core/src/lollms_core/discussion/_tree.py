"""The message tree of a discussion and its read-only views with lollms_client's shapes.

:class:`MessageTree` is the in-memory index of every message by id and by parent: the one
copy of the messages a :class:`~lollms_core.LollmsDiscussion` holds. It knows nothing of
storage or models; the discussion adds to it and removes from it only after the store has
accepted the change.

lollms_client 1.21 describes a tree as ``BranchInfo`` (one per leaf: the root-to-leaf path)
and ``MessageNode`` (a forest of nested nodes). Same fields here, except ``created_at``,
which stays the ISO 8601 string the discussion stores (lollms_client has a ``datetime``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import MessageNotFoundError
from ._store import DiscussionMessage

__all__ = [
    "BranchInfo",
    "MessageNode",
    "MessageTree",
    "branch_diff",
    "branch_info",
    "list_branches",
    "message_tree",
]

_PREVIEW = 80


class MessageTree:
    """Messages by id and by parent, in insertion order (the order of :attr:`messages`).

    :param owner: a name for error messages (the discussion's id).
    """

    def __init__(self, owner: str, messages: Iterable[DiscussionMessage] = ()) -> None:
        self.owner = owner
        self._by_id: dict[str, DiscussionMessage] = {}
        self._children: dict[str | None, list[str]] = {}
        for msg in messages:
            self.add(msg)

    def add(self, msg: DiscussionMessage) -> None:
        """Index ``msg`` (its parent, if any, is already in the tree)."""
        self._by_id[msg.id] = msg
        self._children.setdefault(msg.parent_id, []).append(msg.id)

    def remove(self, ids: Iterable[str]) -> None:
        """Drop these messages (a subtree the caller computed) from the index."""
        for i in ids:
            msg = self._by_id.pop(i)
            siblings = self._children.get(msg.parent_id)
            if siblings is not None and i in siblings:  # a removed parent's list is already gone
                siblings.remove(i)
            self._children.pop(i, None)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def messages(self) -> list[DiscussionMessage]:
        """Every message, in the order they were added."""
        return list(self._by_id.values())

    def get(self, message_id: str) -> DiscussionMessage:
        """The message with that id.

        :raises MessageNotFoundError: no such message.
        """
        try:
            return self._by_id[message_id]
        except KeyError:
            raise MessageNotFoundError(f"no message '{message_id}' in discussion '{self.owner}'") from None

    def children(self, message_id: str | None) -> list[DiscussionMessage]:
        """Direct replies to a message (roots for ``None``), oldest first."""
        return [self._by_id[i] for i in self._children.get(message_id, ())]

    def branch(self, leaf_id: str) -> list[DiscussionMessage]:
        """The path from the root to ``leaf_id``, in order.

        :raises MessageNotFoundError: unknown id.
        """
        path: list[DiscussionMessage] = []
        cursor: str | None = leaf_id
        while cursor is not None:
            msg = self.get(cursor)
            path.append(msg)
            cursor = msg.parent_id
        path.reverse()
        return path

    def deepest_leaf(self, message_id: str) -> str:
        """The leaf reached from ``message_id`` taking the most recent reply at each step."""
        leaf = self.get(message_id).id
        while self._children.get(leaf):
            leaf = self._children[leaf][-1]
        return leaf

    def siblings(self, message_id: str) -> list[DiscussionMessage]:
        """The messages sharing ``message_id``'s parent, itself included, oldest first."""
        return self.children(self.get(message_id).parent_id)

    def subtree_ids(self, message_id: str) -> list[str]:
        """``message_id`` and every reply below it.

        :raises MessageNotFoundError: unknown id.
        """
        self.get(message_id)
        found, queue = [], [message_id]
        while queue:
            current = queue.pop()
            found.append(current)
            queue.extend(self._children.get(current, ()))
        return found

    def leaf_after_removing(self, message_id: str) -> str | None:
        """Where the active branch goes when ``message_id``'s subtree holding it is removed.

        The newest branch of another reply to the same parent, else the parent itself.
        """
        parent = self.get(message_id).parent_id
        others = [c.id for c in self.children(parent) if c.id != message_id]
        return self.deepest_leaf(others[-1]) if others else parent

    def sibling_of(self, leaf: str | None, direction: int) -> str | None:
        """The alternative ``direction`` steps from ``leaf`` among its siblings (wrapping), or ``None``."""
        if leaf is None:
            return None
        alternatives = self.siblings(leaf)
        if len(alternatives) < 2:
            return None
        index = next(i for i, m in enumerate(alternatives) if m.id == leaf)
        return alternatives[(index + direction) % len(alternatives)].id

    def leaves(self) -> list[DiscussionMessage]:
        """The messages nothing replies to, oldest first."""
        return sorted((m for m in self._by_id.values() if not self._children.get(m.id)), key=lambda m: m.created_at)


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


def branch_info(tree: MessageTree, leaf_id: str, active_leaf_id: str | None) -> BranchInfo:
    """The :class:`BranchInfo` of the branch ending at ``leaf_id``."""
    path = tree.branch(leaf_id)
    leaf = path[-1]
    label = str(leaf.metadata.get("branch_label") or f"Branch #{leaf_id[:6]} — {leaf.sender} (depth {len(path)})")
    return BranchInfo(
        leaf_id=leaf_id,
        message_ids=[m.id for m in path],
        depth=len(path),
        label=label,
        is_active=leaf_id == active_leaf_id,
        created_at=leaf.created_at,
        last_sender=leaf.sender,
        last_content_preview=_preview(leaf.content, _PREVIEW),
    )


def list_branches(tree: MessageTree, active_leaf_id: str | None) -> list[BranchInfo]:
    """A :class:`BranchInfo` per leaf, oldest leaf first."""
    return [branch_info(tree, m.id, active_leaf_id) for m in tree.leaves()]


def message_tree(tree: MessageTree, active_leaf_id: str | None) -> list[MessageNode]:
    """The whole tree as a forest of :class:`MessageNode` (roots oldest first)."""
    active = {m.id for m in tree.branch(active_leaf_id)} if active_leaf_id is not None else set()

    def node(msg: DiscussionMessage) -> MessageNode:
        children = [node(c) for c in tree.children(msg.id)]
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

    return [node(root) for root in tree.children(None)]


def branch_diff(tree: MessageTree, leaf_a: str, leaf_b: str) -> dict[str, Any]:
    """How two branches diverge, in lollms_client's shape.

    ``{"common_ancestor_id", "only_in_a", "only_in_b", "shared"}``: ids root first; the common
    ancestor is the last shared message (``None`` for branches from different roots).

    :raises MessageNotFoundError: an unknown leaf id.
    """
    path_a = [m.id for m in tree.branch(leaf_a)]
    path_b = [m.id for m in tree.branch(leaf_b)]
    set_a, set_b = set(path_a), set(path_b)
    shared = [i for i in path_a if i in set_b]
    return {
        "common_ancestor_id": shared[-1] if shared else None,
        "only_in_a": [i for i in path_a if i not in set_b],
        "only_in_b": [i for i in path_b if i not in set_a],
        "shared": shared,
    }
