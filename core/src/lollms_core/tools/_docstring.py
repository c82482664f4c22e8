"""A tool's description and its parameters' descriptions, read from a docstring.

Google (``Args:``), NumPy (``Parameters`` + dashes) and Sphinx (``:param x:``) styles; the
first paragraph is the tool's description. No dependency: the three styles are regular enough.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_SPHINX = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_HEADER = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$")
_GOOGLE_ITEM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SECTION_END = re.compile(r"^(Returns?|Yields?|Raises?|Examples?|Notes?|See Also|References|Attributes)\s*:?\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """``(description, {parameter: description})`` from a docstring (``("", {})`` for none)."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    summary: list[str] = []
    in_summary = True
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _SPHINX.match(stripped) or stripped.startswith(":return") or stripped.startswith(":raise"):
            in_summary = False
            i = _sphinx(lines, i, params)
            continue
        if _GOOGLE_HEADER.match(stripped):
            in_summary = False
            i = _google(lines, i + 1, params)
            continue
        if stripped in ("Parameters", "Other Parameters") and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            in_summary = False
            i = _numpy(lines, i + 2, params)
            continue
        if _SECTION_END.match(stripped) or (i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and stripped):
            in_summary = False
        if in_summary:
            summary.append(stripped)
        i += 1
    return " ".join(" ".join(summary).split()), params


def _sphinx(lines: list[str], i: int, params: dict[str, str]) -> int:
    match = _SPHINX.match(lines[i].strip())
    text = [match.group(2)] if match else []
    i += 1
    while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
        text.append(lines[i].strip())
        i += 1
    if match:
        params[match.group(1)] = " ".join(" ".join(text).split())
    return i


def _google(lines: list[str], i: int, params: dict[str, str]) -> int:
    indent: int | None = None
    name: str | None = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:
            break  # the next section
        if indent is None:
            indent = depth
        match = _GOOGLE_ITEM.match(line.strip())
        if depth == indent and match:
            name = match.group(1)
            params[name] = match.group(2).strip()
        elif name is not None:
            params[name] = f"{params[name]} {line.strip()}".strip()
        i += 1
    return i


def _numpy(lines: list[str], i: int, params: dict[str, str]) -> int:
    name: str | None = None
    group: list[str] = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            break  # the next section header
        if not line.strip():
            i += 1
            continue
        if not line.startswith((" ", "\t")):
            # "x : int" or "x, y : int" (both documented by the text that follows)
            names = [n.strip().lstrip("*") for n in line.split(":")[0].split(",")]
            names = [n for n in names if n.isidentifier()]
            for n in names:
                params[n] = ""
            name = names[0] if names else None
            group = names
        elif name is not None:
            for n in group:
                params[n] = f"{params[n]} {line.strip()}".strip()
        i += 1
    return i
