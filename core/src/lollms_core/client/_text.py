"""The client's text-processing helpers: code, structured JSON, yes/no and multiple choice.

They are prompt recipes over the LLM binding's ``build_request``/``run`` (so options,
callbacks, cancel and events behave as in ``generate_text``) plus pure parsing from
:mod:`lollms_core.text`. Every loop here is bounded: a model that never finishes a code
block or never produces valid JSON costs at most ``1 + max_*`` calls.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import text as _text
from .._json_schema import schema_errors
from ..errors import BackendError, StructuredContentError, error_dict
from ..types import ImageInput, Message
from ._modalities import require

if TYPE_CHECKING:
    from ..bindings import LollmsLLMBinding
    from ..registry._table import Registry

__all__ = ["StructuredContentError", "TextMixin"]

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
_JSON_SYSTEM = (
    "Answer with one JSON value that follows this JSON schema, and nothing else (no prose, no code fence):\n{schema}"
)
_JSON_RETRY = "That answer is not valid: {error}\nAnswer again with only the corrected JSON."


class TextMixin:
    """Code generation, structured output and question helpers on the client."""

    # Set by LollmsClient.__init__ (declared here so these methods type-check against the real base).
    strict: bool
    registry: Registry
    llm: LollmsLLMBinding | None

    # -- pure passthroughs (seed 004) ----------------------------------------------------

    @staticmethod
    def extract_code_blocks(text: str, format: str = "markdown") -> list[dict[str, Any]]:
        """See :func:`lollms_core.text.extract_code_blocks` (``format="markdown"`` or ``"html"``)."""
        return _text.extract_code_blocks(text, format)

    @staticmethod
    def extract_thinking_blocks(text: str) -> list[str]:
        """See :func:`lollms_core.text.extract_thinking_blocks`."""
        return _text.extract_thinking_blocks(text)

    @staticmethod
    def remove_thinking_blocks(text: str) -> str:
        """See :func:`lollms_core.text.remove_thinking_blocks`."""
        return _text.remove_thinking_blocks(text)

    # -- one call ---------------------------------------------------------------------------

    def _complete(self, messages: list[Message], **kwargs: Any) -> str:
        """Run ``messages`` through the LLM; raises on backend errors (callers apply the seed rule)."""
        llm = require(self.llm, "llm", self.registry)
        callback = kwargs.pop("streaming_callback", None)
        kwargs.pop("stream", None)
        return llm.run(llm.build_request(messages, **kwargs), callback).text

    @staticmethod
    def _messages(prompt: str, system_prompt: str, images: list[ImageInput] | None) -> list[Message]:
        user: Message = {"role": "user", "content": prompt}
        if images:
            user["images"] = list(images)
        return [{"role": "system", "content": system_prompt}, user]

    # -- code ---------------------------------------------------------------------------------

    def generate_code(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        template: str | None = None,
        language: str | None = None,
        max_continuations: int = 3,
        **kwargs: Any,
    ) -> str | dict[str, Any] | None:
        """One code block for ``prompt`` (seed 004): its content, or ``None`` if the answer had no code.

        A block cut off (by ``n_predict`` or the model) is continued, at most
        ``max_continuations`` times; if it is still unfinished, the partial code is returned.
        ``language`` picks the block of that language when the model wrote several.
        Returns the seeds' error dict on a backend failure (raises with ``strict=True``).
        """
        lang = f" of {language}" if language else ""
        system = system_prompt or _CODE_SYSTEM.format(lang=lang)
        if template:
            system += f"\nFollow this template:\n```{language or ''}\n{template}\n```"
        messages = self._messages(prompt, system, images)
        try:
            answer = self._complete(messages, **kwargs)
            blocks = _text.extract_code_blocks(_text.remove_thinking_blocks(answer, strip=False))
            if not blocks:
                return None
            wanted = [b for b in blocks if language and b["type"] == language.lower()]
            block = dict((wanted or blocks)[0])
            if not block["is_complete"]:
                self._finish_block(block, messages, answer, max_continuations, kwargs)
            return str(block["content"])
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)

    def generate_codes(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_continuations: int = 3,
        **kwargs: Any,
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Every code block of the answer to ``prompt`` (seed 004), as :func:`extract_code_blocks` dicts.

        A last block cut off is continued, at most ``max_continuations`` times.
        Returns the seeds' error dict on a backend failure (raises with ``strict=True``).
        """
        messages = self._messages(prompt, system_prompt or _CODES_SYSTEM, images)
        try:
            answer = self._complete(messages, **kwargs)
            blocks = _text.extract_code_blocks(_text.remove_thinking_blocks(answer, strip=False))
            if blocks and not blocks[-1]["is_complete"]:
                self._finish_block(blocks[-1], messages, answer, max_continuations, kwargs)
            return blocks
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)

    def _finish_block(
        self, block: dict[str, Any], messages: list[Message], answer: str, budget: int, kwargs: dict[str, Any]
    ) -> None:
        """Ask the model to continue an unterminated block until it closes or ``budget`` runs out."""
        lang = "" if block["type"] == _text.UNSPECIFIED_LANGUAGE else block["type"]
        so_far = answer
        for _ in range(max(0, budget)):
            if block["is_complete"]:
                return
            ask = [
                *messages,
                {"role": "assistant", "content": so_far},
                {"role": "user", "content": _CONTINUE.format(lang=lang)},
            ]
            more = _text.remove_thinking_blocks(self._complete(ask, **kwargs), strip=False)
            piece, closed = _continuation(more)
            block["content"] = _join(block["content"], piece)
            block["is_complete"] = closed
            so_far += piece

    # -- structured output --------------------------------------------------------------------

    def generate_structured_content(
        self,
        prompt: str,
        schema: Any,
        system_prompt: str | None = None,
        images: list[ImageInput] | None = None,
        max_retries: int = 2,
        **kwargs: Any,
    ) -> Any:
        """A JSON answer to ``prompt`` that follows ``schema``: a JSON-schema dict or a pydantic model class.

        The answer is parsed (a fenced ``json`` block or the first JSON value in the text)
        and validated; on failure the model is shown the validation error and asked again,
        at most ``max_retries`` times. Returns the parsed value (an instance for a pydantic model).

        A seed-named method, so it follows the seeds' rule: when the model never produces valid
        JSON it returns ``None`` (as lollms_client does), and on a backend failure the seeds'
        error dict; with ``strict=True`` it raises instead.

        :raises StructuredContentError: (``strict=True``) still invalid after the retries
            (``last_answer``, ``errors``).
        :raises BackendError: (``strict=True``) the backend failed.
        :raises TypeError: ``schema`` is neither a dict nor a pydantic model class (always).
        """
        _schema_of(schema)  # a wrong schema is a programmer error: it raises whatever strict says
        try:
            return self._structured(prompt, schema, system_prompt, images, max_retries, **kwargs)
        except StructuredContentError:
            if self.strict:
                raise
            return None
        except BackendError as exc:
            if self.strict:
                raise
            return error_dict(exc)

    def generate_structured_content_pydantic(
        self,
        prompt: str,
        pydantic_model: Any,
        system_prompt: str | None = None,
        images: list[ImageInput] | None = None,
        max_retries: int = 2,
        **kwargs: Any,
    ) -> Any:
        """lollms_client's name for :meth:`generate_structured_content` with a pydantic model class.

        Returns an instance of ``pydantic_model`` (``None``/error dict on failure, as there).

        :raises TypeError: ``pydantic_model`` is not a pydantic model class.
        """
        if isinstance(pydantic_model, dict):
            raise TypeError(
                "pydantic_model must be a pydantic model class; for a dict schema use generate_structured_content"
            )
        return self.generate_structured_content(prompt, pydantic_model, system_prompt, images, max_retries, **kwargs)

    def _structured(
        self,
        prompt: str,
        schema: Any,
        system_prompt: str | None = None,
        images: list[ImageInput] | None = None,
        max_retries: int = 2,
        **kwargs: Any,
    ) -> Any:
        """:meth:`generate_structured_content` that always raises (the helpers built on it decide)."""
        model, json_schema = _schema_of(schema)
        system = _JSON_SYSTEM.format(schema=json.dumps(json_schema, indent=1))
        if system_prompt:
            system = f"{system_prompt}\n\n{system}"
        messages = self._messages(prompt, system, images)
        answer, problems = "", ["no answer yet"]
        for attempt in range(1 + max(0, max_retries)):
            if attempt:
                messages = [*messages, {"role": "assistant", "content": answer},
                            {"role": "user", "content": _JSON_RETRY.format(error="; ".join(problems))}]  # fmt: skip
            answer = self._complete(messages, **kwargs)
            ok, value, problems = _validate(answer, model, json_schema)
            if ok:
                return value
        raise StructuredContentError(
            f"no valid JSON for the schema after {1 + max(0, max_retries)} attempt(s): {'; '.join(problems)}",
            answer,
            problems,
        )

    def yes_no(
        self,
        question: str,
        context: str = "",
        max_answer_length: int | None = None,
        conditionning: str = "",
        return_explanation: bool = False,
        **kwargs: Any,
    ) -> bool | dict[str, Any]:
        """Ask a yes/no question (about ``context``); ``True`` for yes.

        With ``return_explanation=True`` returns ``{"answer": bool, "explanation": str}``.

        :raises StructuredContentError: the model answered neither yes nor no.
        """
        schema = {"type": "object", "properties": {"answer": {"type": "boolean"}, "explanation": {"type": "string"}},
                  "required": ["answer"]}  # fmt: skip
        prompt = f"{conditionning}\n\nContext:\n{context}\n\nQuestion: {question}".strip() if context else question
        if max_answer_length:
            kwargs.setdefault("n_predict", max_answer_length)
        try:
            out = self._structured(prompt, schema, max_retries=1, **kwargs)
        except StructuredContentError as exc:
            word = _first_word(exc.last_answer, {"yes": True, "true": True, "no": False, "false": False})
            if word is None:
                raise
            out = {"answer": word, "explanation": _text.remove_thinking_blocks(exc.last_answer)}
        answer = bool(out["answer"])
        return {"answer": answer, "explanation": str(out.get("explanation", ""))} if return_explanation else answer

    def multichoice_question(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        max_answer_length: int | None = None,
        conditionning: str = "",
        return_explanation: bool = False,
        **kwargs: Any,
    ) -> int | dict[str, Any]:
        """Pick one of ``possible_answers``; returns its index, or ``-1`` when the model chose none.

        With ``return_explanation=True`` returns ``{"index": int, "explanation": str}``.
        """
        listing = "\n".join(f"{i}. {a}" for i, a in enumerate(possible_answers))
        schema = {"type": "object", "required": ["index"], "properties": {
            "index": {"type": "integer", "minimum": 0, "maximum": max(0, len(possible_answers) - 1)},
            "explanation": {"type": "string"}}}  # fmt: skip
        prompt = f"{conditionning}\n\n{f'Context:{chr(10)}{context}{chr(10)}{chr(10)}' if context else ''}"
        prompt += f"Question: {question}\nPossible answers:\n{listing}\nGive the index of the best answer."
        if max_answer_length:
            kwargs.setdefault("n_predict", max_answer_length)
        explanation = ""
        try:
            out = self._structured(prompt.strip(), schema, max_retries=1, **kwargs)
            index, explanation = int(out["index"]), str(out.get("explanation", ""))
        except StructuredContentError as exc:
            index = _choice_from_text(exc.last_answer, possible_answers)
        return {"index": index, "explanation": explanation} if return_explanation else index


# -- parsing helpers ---------------------------------------------------------------------------


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
    if code and piece and not code.endswith("\n") and piece.startswith("\n"):
        return code + piece
    return code + piece


def _schema_of(schema: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(schema, dict):
        return None, schema
    from pydantic import BaseModel  # a dependency of the core; imported here to keep `import lollms_core` light

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema, schema.model_json_schema()
    raise TypeError(f"schema must be a JSON-schema dict or a pydantic model class, not {type(schema).__name__}")


def _validate(answer: str, model: Any, json_schema: dict[str, Any]) -> tuple[bool, Any, list[str]]:
    found, value = find_json(answer)
    if not found:
        return False, None, ["the answer contains no JSON value"]
    if model is not None:
        from pydantic import ValidationError

        try:
            return True, model.model_validate(value), []
        except ValidationError as exc:
            return False, None, [f"{'.'.join(map(str, e['loc'])) or '$'}: {e['msg']}" for e in exc.errors()]
    problems = schema_errors(value, json_schema)
    return (not problems), value, problems


def find_json(text: str) -> tuple[bool, Any]:
    """The first JSON value in a model's answer: a fenced block's content, else the first ``{``/``[`` that parses."""
    text = _text.remove_thinking_blocks(text)
    candidates = [b["content"] for b in _text.extract_code_blocks(text)]
    decoder = json.JSONDecoder()
    for candidate in [*candidates, text]:
        stripped = candidate.strip()
        for i, ch in enumerate(stripped):
            if ch in "{[":
                try:
                    return True, decoder.raw_decode(stripped, i)[0]
                except ValueError:
                    continue
    return False, None


def _first_word(text: str, words: dict[str, bool]) -> bool | None:
    import re

    match = re.search(r"\b(" + "|".join(words) + r")\b", _text.remove_thinking_blocks(text), re.IGNORECASE)
    return words[match[1].lower()] if match else None


def _choice_from_text(text: str, answers: list[Any]) -> int:
    import re

    clean = _text.remove_thinking_blocks(text)
    for number in re.findall(r"\b\d+\b", clean):
        if 0 <= int(number) < len(answers):
            return int(number)
    lowered = clean.lower()
    hits = [i for i, a in enumerate(answers) if str(a).lower() in lowered]
    return hits[0] if len(hits) == 1 else -1
