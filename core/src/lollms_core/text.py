"""Pure text helpers usable without any binding.

``split_discussion`` lives here so bindings and discussions share one parser of the
seeds' ``!@>role:`` format.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["split_discussion"]


def split_discussion(
    lollms_prompt_string: str,
    system_keyword: str = "!@>system:",
    user_keyword: str = "!@>user:",
    ai_keyword: str = "!@>assistant:",
) -> list[dict[str, Any]]:
    """Split a ``!@>role:`` discussion into OpenAI-style messages.

    Text before the first marker becomes a system message. Other ``!@>name:`` markers are
    kept as user turns whose content starts with ``name:`` so nothing is lost.
    """
    roles = {system_keyword: "system", user_keyword: "user", ai_keyword: "assistant"}
    pattern = re.compile("(" + "|".join(re.escape(k) for k in roles) + ")")
    pieces = pattern.split(lollms_prompt_string)
    messages: list[dict[str, Any]] = []
    head = pieces[0].strip()
    if head:
        messages.append({"role": "system", "content": head})
    for marker, content in zip(pieces[1::2], pieces[2::2], strict=False):
        messages.append({"role": roles[marker], "content": content.strip()})
    return messages
