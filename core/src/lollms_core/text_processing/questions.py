"""Questions with a closed answer: yes/no, one of several choices, a ranking of choices.

Each asks for JSON through :func:`~.structured.generate_structured`; when the model's answer
is not valid JSON, the plain words are read (a "No, ..." answer is still a no). An answer
that says nothing usable raises :class:`StructuredContentError`: the caller's seeds' rule
turns it into lollms_client's value (``False``, ``-1``, ``[]``).
"""

from __future__ import annotations

import re
from typing import Any

from .. import text as _text
from ..errors import StructuredContentError
from ..types import ImageInput
from ._llm import TextLLM
from .structured import generate_structured

__all__ = ["multichoice_question", "multichoice_ranking", "yes_no"]

_YES_NO = {"yes": True, "true": True, "no": False, "false": False}


def yes_no(
    llm: TextLLM,
    question: str,
    context: str = "",
    system_prompt: str = "",
    return_explanation: bool = False,
    images: list[ImageInput] | None = None,
    *,
    max_answer_length: int | None = None,
    conditionning: str = "",
    **options: Any,
) -> bool | dict[str, Any]:
    """``True`` for yes; ``{"answer": bool, "explanation": str}`` with ``return_explanation``.

    :raises StructuredContentError: the model answered neither yes nor no.
    :raises BackendError: the backend failed.
    """
    schema = {"type": "object", "properties": {"answer": {"type": "boolean"}, "explanation": {"type": "string"}},
              "required": ["answer"]}  # fmt: skip
    prompt = f"{conditionning}\n\nContext:\n{context}\n\nQuestion: {question}".strip() if context else question
    if max_answer_length:
        options.setdefault("n_predict", max_answer_length)
    try:
        out = generate_structured(llm, prompt, schema, images, system_prompt or None, 1, **options)
    except StructuredContentError as exc:
        word = _first_word(exc.last_answer)
        if word is None:
            raise
        out = {"answer": word, "explanation": _text.remove_thinking_blocks(exc.last_answer)}
    answer = bool(out["answer"])
    return {"answer": answer, "explanation": str(out.get("explanation", ""))} if return_explanation else answer


def multichoice_question(
    llm: TextLLM,
    question: str,
    possible_answers: list[Any],
    context: str = "",
    return_explanation: bool = False,
    *,
    max_answer_length: int | None = None,
    conditionning: str = "",
    **options: Any,
) -> int | dict[str, Any]:
    """The index of the best of ``possible_answers``; ``{"index", "explanation"}`` with ``return_explanation``.

    :raises StructuredContentError: the model's answer names none of them.
    :raises BackendError: the backend failed.
    """
    listing = "\n".join(f"{i}. {a}" for i, a in enumerate(possible_answers))
    schema = {"type": "object", "required": ["index"], "properties": {
        "index": {"type": "integer", "minimum": 0, "maximum": max(0, len(possible_answers) - 1)},
        "explanation": {"type": "string"}}}  # fmt: skip
    prompt = f"{conditionning}\n\n{f'Context:{chr(10)}{context}{chr(10)}{chr(10)}' if context else ''}"
    prompt += f"Question: {question}\nPossible answers:\n{listing}\nGive the index of the best answer."
    if max_answer_length:
        options.setdefault("n_predict", max_answer_length)
    explanation = ""
    try:
        out = generate_structured(llm, prompt.strip(), schema, max_retries=1, **options)
        index, explanation = int(out["index"]), str(out.get("explanation", ""))
    except StructuredContentError as exc:
        index = _choice_from_text(exc.last_answer, possible_answers)
        if index < 0:
            raise
    return {"index": index, "explanation": explanation} if return_explanation else index


def multichoice_ranking(
    llm: TextLLM,
    question: str,
    possible_answers: list[Any],
    context: str = "",
    return_explanation: bool = False,
    **options: Any,
) -> list[int] | dict[str, Any]:
    """Indices of ``possible_answers`` from best to worst; ``{"ranking", "explanation"}`` with ``return_explanation``.

    :raises StructuredContentError: no valid ranking (each index exactly once) after the retries.
    :raises BackendError: the backend failed.
    """
    n = len(possible_answers)
    choices = "\n".join(f"{i}. {a}" for i, a in enumerate(possible_answers))
    prompt = "Rank the possible answers from best to worst by returning a list of their indices."
    if context:
        prompt += f"\n\nContext:\n{context}"
    prompt += f"\n\nQuestion:\n{question}\n\nPossible answers:\n{choices}"
    items = {"type": "integer", "minimum": 0, "maximum": max(0, n - 1)}
    schema = {"type": "object", "required": ["ranking"], "properties": {
        "ranking": {"type": "array", "items": items, "minItems": n, "maxItems": n},
        "explanation": {"type": "string"}}}  # fmt: skip
    out = generate_structured(llm, prompt, schema, max_retries=2, **options)
    ranking = [int(i) for i in out["ranking"]]
    if sorted(ranking) != list(range(n)):  # JSON schema cannot say "each index once"
        raise StructuredContentError(f"ranking {ranking} is not a permutation of 0..{n - 1}", str(out))
    return {"ranking": ranking, "explanation": str(out.get("explanation", ""))} if return_explanation else ranking


def _first_word(text: str) -> bool | None:
    match = re.search(r"\b(" + "|".join(_YES_NO) + r")\b", _text.remove_thinking_blocks(text), re.IGNORECASE)
    return _YES_NO[match[1].lower()] if match else None


def _choice_from_text(text: str, answers: list[Any]) -> int:
    clean = _text.remove_thinking_blocks(text)
    for number in re.findall(r"\b\d+\b", clean):
        if 0 <= int(number) < len(answers):
            return int(number)
    lowered = clean.lower()
    hits = [i for i, a in enumerate(answers) if str(a).lower() in lowered]
    return hits[0] if len(hits) == 1 else -1
