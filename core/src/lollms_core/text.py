"""Pure text helpers usable without any binding.

``split_discussion`` lives here so bindings and discussions share one parser of the
seeds' ``!@>role:`` format. ``extract_code_blocks`` and the thinking-block helpers read
what models write: Markdown fences (possibly cut off by ``n_predict``) and
``<think>...</think>`` sections.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "extract_code_blocks",
    "extract_thinking_blocks",
    "remove_thinking_blocks",
    "split_discussion",
]


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
    # The three keywords, then any other "!@>name:" marker (a personality, a tool...).
    pattern = re.compile("(" + "|".join(re.escape(k) for k in roles) + r"|!@>[^\n:]{1,64}:)")
    pieces = pattern.split(lollms_prompt_string)
    messages: list[dict[str, Any]] = []
    head = pieces[0].strip()
    if head:
        messages.append({"role": "system", "content": head})
    for marker, content in zip(pieces[1::2], pieces[2::2], strict=False):
        if marker in roles:
            messages.append({"role": roles[marker], "content": content.strip()})
        else:
            messages.append({"role": "user", "content": f"{marker[3:]} {content.strip()}".strip()})
    return messages


# -- code blocks -----------------------------------------------------------------------

_HTML_CODE = re.compile(r"<code(?P<attrs>[^>]*)>(?P<body>.*?)(?P<close></code>|$)", re.DOTALL | re.IGNORECASE)
_HTML_LANG = re.compile(r"""class\s*=\s*["'][^"']*?(?:language-|lang-)(?P<lang>[\w+#.-]+)""", re.IGNORECASE)


def _html_code_blocks(text: str) -> list[dict[str, Any]]:
    """``<code>`` elements (HTML entities decoded); an element never closed is ``is_complete=False``."""
    import html

    blocks: list[dict[str, Any]] = []
    for match in _HTML_CODE.finditer(text):
        lang = _HTML_LANG.search(match["attrs"])
        name = _NAME_IN_INFO.search(match["attrs"])
        blocks.append({
            "index": len(blocks),
            "file_name": name["name"] if name else "",
            "content": html.unescape(match["body"]),
            "type": lang["lang"].lower() if lang else UNSPECIFIED_LANGUAGE,
            "is_complete": bool(match["close"]),
            "start": match.start(),
            "end": match.end(),
        })  # fmt: skip
    return blocks


#: The ``type`` of a block whose fence names no language (lollms_client's value).
UNSPECIFIED_LANGUAGE = "language-specific"

# An opening fence: up to 3 spaces, 3+ backticks or tildes, then an info string.
_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
# A file name announced on the line before a block: "File: a.py", "# main.py", "**src/x.js**", "`a.py`:".
_NAME_BEFORE = re.compile(
    r"^\s*(?:(?:#+|//|--)\s*)?(?:\*\*|`)?(?:(?:file(?:[ _]?name)?|path)\s*[:=]\s*)?"
    r"(?:\*\*|`)?(?P<name>[\w./\\-]+\.[A-Za-z0-9]{1,10})(?:\*\*|`)?\s*:?\s*(?:\*\*)?\s*$",
    re.IGNORECASE,
)
_NAME_IN_INFO = re.compile(r"(?:title|file(?:name)?|name)\s*=\s*[\"']?(?P<name>[^\"'\s]+)", re.IGNORECASE)


def extract_code_blocks(text: str, format: str = "markdown") -> list[dict[str, Any]]:
    """Find the fenced code blocks of a Markdown answer, in order.

    ``format="html"`` (lollms_client's other format) reads ``<code class="language-x">...</code>``
    elements instead (``"xml"`` is taken as the same), with the same dict keys.

    Each block is a dict with ``index`` (0, 1, ...), ``file_name`` (from the fence's info
    string, ``python:main.py`` or ``python title="main.py"``, or from a line just before the
    fence naming a file; ``""`` otherwise), ``content`` (the code, without the fences),
    ``type`` (the fence's language, lowercased; ``"language-specific"`` when none is given)
    and ``is_complete`` (``False`` for a block whose closing fence never came, typically an
    answer cut by ``n_predict``). ``start``/``end`` are the block's character offsets.
    Fences follow CommonMark: at the start of a line, closed by a fence of the same
    character at least as long, so a ```` ``` ```` inside a ```` ```` ```` block is content.
    """
    kind = format.lower()
    if kind in ("html", "xml"):
        return _html_code_blocks(text)
    if kind != "markdown":
        from .errors import ConfigError

        raise ConfigError(f"extract_code_blocks(format={format!r}): expected 'markdown' or 'html'")
    blocks: list[dict[str, Any]] = []
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i].rstrip("\r\n"))
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        language, file_name = _parse_info(opening["info"].strip())
        if not file_name and i > 0:
            file_name = _name_from_line(lines[i - 1])
        closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j].rstrip("\r\n")):
            j += 1
        complete = j < len(lines)
        content = "".join(lines[i + 1 : j])
        if complete and content.endswith("\n"):
            content = content[:-1]  # the newline before the closing fence belongs to the fence
        content = content.removesuffix("\r")
        blocks.append(
            {
                "index": len(blocks),
                "file_name": file_name,
                "content": content,
                "type": language or UNSPECIFIED_LANGUAGE,
                "is_complete": complete,
                "start": offsets[i],
                "end": offsets[j + 1] if complete else len(text),
            }
        )
        i = j + 1
    return blocks


def _parse_info(info: str) -> tuple[str, str]:
    """``python``, ``python:main.py``, ``python title="main.py"`` → (language, file name)."""
    if not info:
        return "", ""
    named = _NAME_IN_INFO.search(info)
    first = info.split(maxsplit=1)[0]
    language, _, after_colon = first.partition(":")
    file_name = named["name"] if named else after_colon
    if not file_name and "." in language and "/" not in language and not language.startswith("."):
        language, file_name = language.rsplit(".", 1)[1], language  # ```main.py
    return language.strip("{}.").lower(), file_name


def _name_from_line(line: str) -> str:
    match = _NAME_BEFORE.match(line.strip())
    return match["name"] if match else ""


# -- thinking blocks -------------------------------------------------------------------

_THINK_TAGS = ("think", "thinking")


def _think_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(map(re.escape, tags))
    # An unclosed <think> at the end (a cut answer) counts up to the end of the text.
    return re.compile(rf"<(?P<tag>{names})>(?P<body>.*?)(?:</(?P=tag)>|\Z)", re.DOTALL | re.IGNORECASE)


def extract_thinking_blocks(text: str, tags: tuple[str, ...] = _THINK_TAGS) -> list[str]:
    """The contents of the ``<think>...</think>`` sections of ``text``, stripped, in order.

    An opening tag never closed (a generation cut while thinking) yields the rest of the text.
    """
    return [m["body"].strip() for m in _think_pattern(tags).finditer(text)]


def remove_thinking_blocks(text: str, tags: tuple[str, ...] = _THINK_TAGS, strip: bool = True) -> str:
    """``text`` without its ``<think>...</think>`` sections (the answer a user should see).

    Surrounding whitespace is stripped unless ``strip=False`` (code continuations need it kept).
    """
    out = _think_pattern(tags).sub("", text)
    return out.strip() if strip else out
