"""Texts longer than a question: map-reduce over the context window, summaries, keywords, tagged output."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .. import text as _text
from ..errors import ConfigError, NotSupportedError
from ..types import ImageInput, Message
from . import code, questions
from ._llm import TextLLM, complete, messages
from .structured import generate_structured

__all__ = [
    "context_size",
    "extract_keywords",
    "generate_with_tag",
    "generate_with_tags",
    "long_context_processing",
    "summarize_text",
]

_MAP_PROMPT = (
    "You are reading part {i} of {n} of a long document. Extract only the facts, figures, quotes and steps "
    "from this part that help with the task below. Do not do the task yet.\nTask: {task}\n\nPart {i}:\n{chunk}"
)
_REDUCE_PROMPT = "Notes taken from a long document, part by part:\n{notes}\n\nUsing these notes, {task}"
_TAG_SYSTEM = "Return the requested content inside the XML tag <{tag}>...</{tag}>."
_TAGS_SYSTEM = (
    'Return each requested output inside its own <tag name="the output\'s name">...</tag> element; '
    "use as many as needed, each name saying what its content is."
)


def context_size(llm: TextLLM) -> int | None:
    """The LLM's context window in tokens: the ``ctx_size`` option or setting, else the model's; ``None`` if unknown."""
    value = llm.default_options.ctx_size
    if value is None:
        try:
            value = getattr(llm, "config", {}).get("ctx_size")
        except Exception:  # a config mapping that refuses unknown keys: same as absent
            value = None
    if value is None:
        info = llm.get_model_info()
        value = info.get("ctx_size") if isinstance(info, dict) else None
    return int(value) if value else None


def long_context_processing(
    llm: TextLLM,
    text_to_process: str,
    contextual_prompt: str,
    processing_type: str = "text",
    chunk_size_ratio: float = 0.5,
    overlap_ratio: float = 0.1,
    synthesis_prompt: str | None = None,
    system_prompt: str | None = None,
    images: list[ImageInput] | None = None,
    **options: Any,
) -> Any:
    """Do ``contextual_prompt`` on a text that may exceed the context window (map-reduce).

    While the text does not fit in 70 % of the window it is cut into token chunks of
    ``chunk_size_ratio`` of that room (overlapping by ``overlap_ratio``) and replaced by the
    notes taken from each. The task is then done on the text (or notes) by ``processing_type``,
    as lollms_client routes it: ``"text"`` (the answer), ``"code"`` (:func:`.code.generate_code`,
    ``language=``), ``"structured"`` (:func:`.structured.generate_structured`, ``schema=``),
    ``"yes_no"`` and ``"multichoice"`` (:mod:`.questions`, ``possible_answers=``,
    ``return_explanation=``), each returning what that helper returns.

    :raises NotSupportedError: another ``processing_type``.
    :raises ConfigError: ratios out of range, no context size known (set ``ctx_size``), or the
        argument the type needs (``schema``, ``possible_answers``) missing.
    :raises BackendError: the backend failed.
    """
    finish = _final_step(processing_type, options)
    if not 0 < chunk_size_ratio <= 1 or not 0 <= overlap_ratio < 1:
        raise ConfigError("chunk_size_ratio must be in (0, 1] and overlap_ratio in [0, 1)")
    ctx = context_size(llm)
    if ctx is None:
        raise ConfigError("long_context_processing needs the context size: set ctx_size on the client or binding")
    room = int(ctx * 0.7) - llm.count_tokens(contextual_prompt + (system_prompt or ""))
    system: list[Message] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    text = text_to_process
    while llm.count_tokens(text) > room:
        tokens = llm.tokenize(text)
        size = max(16, int(room * chunk_size_ratio))
        step = max(1, size - int(size * overlap_ratio))
        chunks = [llm.detokenize(tokens[i : i + size]) for i in range(0, len(tokens), step)]
        notes = []
        for i, chunk in enumerate(chunks):
            ask = _MAP_PROMPT.format(i=i + 1, n=len(chunks), task=contextual_prompt, chunk=chunk)
            notes.append(complete(llm, [*system, {"role": "user", "content": ask}], **options))
        condensed = "\n\n".join(f"[part {i + 1}] {note.strip()}" for i, note in enumerate(notes))
        if llm.count_tokens(condensed) >= llm.count_tokens(text):
            raise ConfigError("long_context_processing: the notes are not shorter than the text; lower n_predict")
        text = condensed
    task = synthesis_prompt or contextual_prompt
    if finish is None:
        final = _REDUCE_PROMPT.format(notes=text, task=task)
        return complete(llm, messages(final, system_prompt, images), **options)
    return finish(llm, task, text, system_prompt, images, options)


_Finish = Callable[[TextLLM, str, str, "str | None", "list[ImageInput] | None", dict[str, Any]], Any]


def _final_step(processing_type: str, options: dict[str, Any]) -> _Finish | None:
    """The helper doing the task for ``processing_type`` (``None``: plain text), its own arguments taken out."""
    if processing_type == "text":
        return None
    if processing_type == "code":
        language = options.pop("language", None)
        return lambda llm, task, text, system, images, opts: code.generate_code(
            llm, f"{task}\n\nContext:\n{text}", images, system, language=language, **opts
        )
    if processing_type == "structured":
        schema = _needed(options, "schema", processing_type)
        return lambda llm, task, text, system, images, opts: generate_structured(
            llm, f"{task}\n\nContext:\n{text}", schema, images, system, **opts
        )
    explain = bool(options.pop("return_explanation", False))
    if processing_type == "yes_no":
        return lambda llm, task, text, system, images, opts: questions.yes_no(
            llm, task, text, system or "", explain, images, **opts
        )
    if processing_type == "multichoice":
        answers = _needed(options, "possible_answers", processing_type)
        return lambda llm, task, text, system, images, opts: questions.multichoice_question(
            llm, task, answers, text, explain, **opts
        )
    raise NotSupportedError(
        f"long_context_processing(processing_type={processing_type!r}): expected one of "
        "'text', 'code', 'structured', 'yes_no', 'multichoice'"
    )


def _needed(options: dict[str, Any], name: str, processing_type: str) -> Any:
    value = options.pop(name, None)
    if not value:
        raise ConfigError(f"long_context_processing(processing_type={processing_type!r}) needs {name}=...")
    return value


def summarize_text(llm: TextLLM, text: str, summary_instruction: str = "Summarize concisely", **options: Any) -> str:
    """A summary of ``text`` following ``summary_instruction`` (lollms_client's ``summerize_text``)."""
    return complete(llm, [{"role": "user", "content": f"{summary_instruction}\n\nText to summarize:\n{text}"}],
                    **options).strip()  # fmt: skip


def extract_keywords(llm: TextLLM, text: str, num_keywords: int = 5, **options: Any) -> list[str]:
    """The ``num_keywords`` most important keywords of ``text``.

    :raises StructuredContentError: the model never gave a list of strings.
    """
    schema = {"type": "object", "required": ["keywords"],
              "properties": {"keywords": {"type": "array", "items": {"type": "string"}}}}  # fmt: skip
    prompt = f"Extract the {num_keywords} most important keywords from:\n\n{text}"
    out = generate_structured(llm, prompt, schema, **options)
    return [str(k) for k in out["keywords"]]


def generate_with_tag(
    llm: TextLLM,
    prompt: str,
    tag: str,
    images: list[ImageInput] | None = None,
    system_prompt: str = "",
    **options: Any,
) -> str:
    """The content the model put inside ``<tag>...</tag>``; its whole answer when it used no such tag."""
    system = _TAG_SYSTEM.format(tag=tag)
    answer = complete(llm, messages(prompt, f"{system_prompt}\n{system}" if system_prompt else system, images),
                      **options)  # fmt: skip
    match = re.search(f"<{re.escape(tag)}>(.*?)</{re.escape(tag)}>", answer, re.DOTALL)
    return match[1].strip() if match else answer


def generate_with_tags(
    llm: TextLLM, prompt: str, images: list[ImageInput] | None = None, system_prompt: str = "", **options: Any
) -> dict[str, str]:
    """Named outputs: ``{name: content}`` from the ``<tag name="...">`` elements of the answer."""
    system = f"{system_prompt}\n{_TAGS_SYSTEM}" if system_prompt else _TAGS_SYSTEM
    answer = _text.remove_thinking_blocks(complete(llm, messages(prompt, system, images), **options))
    found = re.findall(r"<tag\s+name=[\"'](.*?)[\"']\s*>(.*?)</tag>", answer, re.DOTALL | re.IGNORECASE)
    return {name.strip(): content.strip() for name, content in found}
