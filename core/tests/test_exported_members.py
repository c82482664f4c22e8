"""``lollms_core.__all__`` against the package and the docs' error table (after httpx's test of that name)."""

from __future__ import annotations

import re
import types
from pathlib import Path

import lollms_core
from lollms_core import errors

DOCS = Path(__file__).resolve().parents[2] / "docs" / "README.md"


def test_all_is_sorted_and_every_name_resolves():
    assert lollms_core.__all__ == sorted(lollms_core.__all__, key=lambda n: (not n.isupper(), n))
    for name in lollms_core.__all__:
        assert getattr(lollms_core, name) is not None, name


def test_every_public_attribute_is_exported():
    public = {
        name
        for name, value in vars(lollms_core).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    public.discard("TYPE_CHECKING")
    public.discard("Any")
    assert public <= set(lollms_core.__all__) | {"__version__"}


def _error_classes() -> set[str]:
    return {name for name in errors.__all__ if isinstance(getattr(errors, name), type)}


def test_every_error_lives_in_errors_and_is_exported():
    classes = _error_classes()
    assert {"StructuredContentError", "DiscussionNotFoundError", "MessageNotFoundError"} <= classes
    assert classes <= set(lollms_core.__all__)
    for name in classes:
        assert getattr(lollms_core, name) is getattr(errors, name)
        assert issubclass(getattr(errors, name), errors.LollmsError)


def test_old_import_paths_still_work():
    from lollms_core.discussion import DiscussionNotFoundError as FromDiscussion
    from lollms_core.discussion._store import DiscussionNotFoundError, MessageNotFoundError
    from lollms_core.text_processing.structured import StructuredContentError

    assert StructuredContentError is errors.StructuredContentError
    assert DiscussionNotFoundError is FromDiscussion is errors.DiscussionNotFoundError
    assert MessageNotFoundError is errors.MessageNotFoundError


def test_the_docs_error_table_lists_every_error():
    table = DOCS.read_text().split("## Errors in one table", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z]\w+(?:Error|Cancelled))`", table)) - {"ValueError", "LookupError"}
    documented -= {"NotImplementedError"}
    assert documented == _error_classes() - {"LollmsError"}
