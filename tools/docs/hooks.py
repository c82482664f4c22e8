"""MkDocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

The docstrings use Sphinx roles (``:class:`~lollms_core.errors.BackendError```), as
pluggy and the STYLE guide do; mkdocstrings' Sphinx parser reads the field lists but leaves
inline roles as text, so the page would show ``:class:`` before the name. Render a role as
its target in code, shortened to the last component when the target starts with ``~``
(what Sphinx shows).
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:class|meth|func|attr|data|exc|mod|obj|const):<code>(~?)([^<]*)</code>")


def _shown(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **_: Any) -> str:
    """Replace rendered Sphinx roles by their target."""
    return ROLE.sub(_shown, html)
