"""Code from a model: one block (``generate_code``) or one per file (``generate_codes``).

The model is asked for Markdown fences (what small models write best); an answer in
lollms_client's ``<code language="...">`` tags is read too. A block cut off (by ``n_predict``
or the model) is continued, at most ``max_continuations`` times: a model that never closes
its block costs at most ``1 + max_continuations`` calls.
"""

from __future__ import annotations

import re
from typing import Any

from .. import text as _text
from ..types import ImageInput, Message
from ._llm import TextLLM, complete, messages

__all__ = ["generate_code", "generate_codes"]

_CODE_SYSTEM = (
    "You write code. Answer with exactly one Markdown code block{lang} holding the complete code, "
    "and nothing before or after it."
)
_CODES_SYSTEM = (
    "You write code. Answer with one Markdown code block per file or language asked for; put the file "
    "name on the line just before each block when there is one."
)
_CONTINUE = (
    "Your answer was cut off. Continue the code exactly where it stopped: start a new ```{lang} block "
    "with the next characters and do not repeat anything already written."
)


def generate_code(
    llm: TextLLM,
    prompt: str,
    images: list[ImageInput] | None = None,
    system_prompt: str | None = None,
    template: str | None = None,
    language: str | None = None,
    max_continuations: int = 3,
    **options: Any,
) -> str | None:
    """The content of the code block answering ``prompt``; ``None`` when the answer has no code.

    ``language`` picks the block of that language when the model wrote several.
    :raises BackendError: the backend failed.
    """
    lang = f" of {language}" if language else ""
    system = system_prompt or _CODE_SYSTEM.format(lang=lang)
    if template and template != "{}":
        system += f"\nFollow this template:\n```{language or ''}\n{template}\n```"
    conversation = messages(prompt, system, images)
    answer = complete(llm, conversation, **options)
    blocks = _blocks(answer)
    if not blocks:
        return None
    wanted = [b for b in blocks if language and b["type"] == language.lower()]
    block = dict((wanted or blocks)[0])
    if not block["is_complete"]:
        _finish_block(llm, block, conversation, answer, max_continuations, options)
    return str(block["content"])


def generate_codes(
    llm: TextLLM,
    prompt: str,
    images: list[ImageInput] | None = None,
    system_prompt: str | None = None,
    max_continuations: int = 3,
    **options: Any,
) -> list[dict[str, Any]]:
    """Every code block of the answer to ``prompt``, in order.

    Items are :func:`~lollms_core.text.extract_code_blocks` dicts plus lollms_client's
    ``language`` (``"text"`` when the fence names none) and a ``file_name`` that is never
    empty (lollms_client's ``file_<n>.<language>`` when the answer names no file).
    A last block cut off is continued, at most ``max_continuations`` times.
    :raises BackendError: the backend failed.
    """
    conversation = messages(prompt, system_prompt or _CODES_SYSTEM, images)
    answer = complete(llm, conversation, **options)
    blocks = _blocks(answer)
    if blocks and not blocks[-1]["is_complete"]:
        _finish_block(llm, blocks[-1], conversation, answer, max_continuations, options)
    for block in blocks:
        language = "text" if block["type"] == _text.UNSPECIFIED_LANGUAGE else str(block["type"])
        block["language"] = language
        block["file_name"] = block["file_name"] or f"file_{block['index']}.{language}"
    return blocks


_XML_CODE = re.compile(r"<code(?P<attrs>\s[^>]*)?>(?P<body>.*?)(?P<close></code>|$)", re.DOTALL | re.IGNORECASE)
_XML_ATTR = re.compile(r"""(?P<key>language|filename)\s*=\s*["']?(?P<value>[^"'>\s]+)""", re.IGNORECASE)


def _blocks(answer: str) -> list[dict[str, Any]]:
    """Markdown fences of ``answer`` (thinking removed), else its ``<code language=... filename=...>`` tags.

    The tags are what lollms_client asks its models for, so a model tuned on its prompts is read too.
    """
    visible = _text.remove_thinking_blocks(answer, strip=False)
    fenced = _text.extract_code_blocks(visible)
    if fenced:
        return fenced
    blocks = []
    for index, match in enumerate(_XML_CODE.finditer(visible)):
        attrs = {m["key"].lower(): m["value"] for m in _XML_ATTR.finditer(match["attrs"] or "")}
        blocks.append({
            "index": index, "file_name": attrs.get("filename", ""), "content": match["body"].strip(),
            "type": attrs.get("language", _text.UNSPECIFIED_LANGUAGE).lower(), "is_complete": bool(match["close"]),
            "start": match.start(), "end": match.end(),
        })  # fmt: skip
    return blocks


def _finish_block(
    llm: TextLLM,
    block: dict[str, Any],
    conversation: list[Message],
    answer: str,
    budget: int,
    options: dict[str, Any],
) -> None:
    """Ask the model to continue an unterminated block until it closes or ``budget`` runs out."""
    lang = "" if block["type"] == _text.UNSPECIFIED_LANGUAGE else block["type"]
    so_far = answer
    for _ in range(max(0, budget)):
        if block["is_complete"]:
            return
        ask: list[Message] = [
            *conversation,
            {"role": "assistant", "content": so_far},
            {"role": "user", "content": _CONTINUE.format(lang=lang)},
        ]
        more = _text.remove_thinking_blocks(complete(llm, ask, **options), strip=False)
        piece, closed = _continuation(more)
        block["content"] = _join(block["content"], piece)
        block["is_complete"] = closed
        so_far += piece


def _continuation(more: str) -> tuple[str, bool]:
    """The code in a continuation answer and whether its block closed."""
    blocks = _text.extract_code_blocks(more)
    if blocks:
        return str(blocks[0]["content"]), bool(blocks[0]["is_complete"])
    # The model went on without opening a fence: everything up to a closing fence is code.
    head, fence, _ = more.partition("\n```")
    if fence:
        return head, True
    if more.startswith("```") and more.strip() == "```":
        return "", True
    return more, False


def _join(code: str, piece: str) -> str:
    """Append a continuation, dropping a repeated overlap (models often restart the last line)."""
    for size in range(min(len(code), len(piece), 400), 7, -1):
        if code.endswith(piece[:size]):
            return code + piece[size:]
    return code + piece
