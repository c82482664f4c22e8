"""Issue 20's discussion knot stays cut: the discussion's parts never reach back into the class.

``LollmsDiscussion`` is composed of a message tree, a store and a typed LLM; the context,
budget, chat, artefact and image steps are functions (or small objects) over those values.
None of their modules may import the class or name it (``TYPE_CHECKING`` imports included),
nor call a private method on a discussion (``d._new_message(...)``): only the class stores.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from lollms_core import LollmsDataManager, LollmsDiscussion
from lollms_core.discussion import MessageNotFoundError


def _part_modules() -> list[Path]:
    home = Path(inspect.getfile(LollmsDiscussion))
    manager = Path(inspect.getfile(LollmsDataManager))  # above the class: it opens discussions
    if home.parent.name == "discussion":  # the subpackage layout: every module of the package
        candidates = sorted(home.parent.glob("*.py"))
    else:
        candidates = sorted(home.parent.glob("_discussion_*.py"))
    return [p for p in candidates if p not in (home, manager) and p.name != "__init__.py"]


PARTS = _part_modules()


def test_there_are_parts_to_check():
    names = {p.stem.removeprefix("_discussion_").lstrip("_") for p in PARTS}
    assert {"tree", "store", "llm", "context", "chat", "artefacts", "images"} <= names, names


def test_no_part_imports_or_names_the_discussion_class():
    offenders = []
    for path in PARTS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == "LollmsDiscussion" for a in node.names):
                offenders.append(f"{path.name}:{node.lineno} imports LollmsDiscussion")
            if isinstance(node, ast.Name) and node.id == "LollmsDiscussion":
                offenders.append(f"{path.name}:{node.lineno} names LollmsDiscussion")
            if isinstance(node, ast.Constant) and node.value == "LollmsDiscussion":  # a string annotation
                offenders.append(f"{path.name}:{node.lineno} annotates with 'LollmsDiscussion'")
    assert offenders == []


def test_no_part_calls_a_private_method_of_a_discussion():
    offenders = []
    for path in PARTS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr.startswith("_")
                and not node.func.attr.startswith("__")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("d", "disc", "discussion")
            ):
                offenders.append(f"{path.name}:{node.lineno} calls {node.func.value.id}.{node.func.attr}()")
    assert offenders == []


def test_the_discussion_is_a_tree_a_store_and_an_llm(tmp_path):
    from lollms_core.discussion._llm import ClientLLM
    from lollms_core.discussion._store import MemoryStore, SQLiteDiscussionStore
    from lollms_core.discussion._tree import MessageTree

    memory = LollmsDiscussion.create_new()
    assert isinstance(memory._tree, MessageTree) and isinstance(memory._store, MemoryStore)
    assert isinstance(memory._llm(), ClientLLM)
    on_disk = LollmsDiscussion.create_new(db_path=tmp_path / "d.db")
    assert isinstance(on_disk._store, SQLiteDiscussionStore)
    on_disk.close()
    # The tree alone answers questions about messages: no store, no model.
    tree = MessageTree("t")
    assert tree.messages == [] and tree.children(None) == []
    with pytest.raises(MessageNotFoundError, match="no message 'nope' in discussion 't'"):
        tree.get("nope")
