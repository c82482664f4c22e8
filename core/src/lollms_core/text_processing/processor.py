"""``LollmsTextProcessor``: lollms_client's ``llm.tp``, the text helpers bound to one LLM binding.

Each method is a function of this package applied to the binding, with lollms_client's
text processor's values on failure (``None`` from ``generate_code`` and
``generate_structured_content``, ``[]`` from ``generate_codes``, ``False``/``-1``/``[]``
from the questions); a binding made with ``strict=True`` raises instead.
"""

from __future__ import annotations

from typing import Any

from .. import text as _text
from .._seed_rule import seed_rule
from ..errors import error_dict
from ..types import ImageInput
from . import code, long_text, questions
from ._llm import TextLLM
from .structured import generate_structured

__all__ = ["LollmsTextProcessor"]


class LollmsTextProcessor:
    """The text helpers of one LLM binding (``binding.tp``), with lollms_client's result shapes.

    :param llm: the binding (anything with :class:`~lollms_core.text_processing.TextLLM`'s methods).
    """

    def __init__(self, llm: TextLLM) -> None:
        #: The binding every helper calls.
        self.llm = llm

    @property
    def strict(self) -> bool:
        """The binding's ``strict``: raise typed errors instead of returning the values above."""
        return self.llm.strict

    def __repr__(self) -> str:
        return f"<LollmsTextProcessor of {self.llm.binding_name}>"

    # -- code ---------------------------------------------------------------------------------

    @seed_rule(None)
    def generate_code(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        template: str | None = None,
        language: str | None = None,
        max_continuations: int = 3,
        **options: Any,
    ) -> str | None:
        """The code block answering ``prompt`` (see :func:`.code.generate_code`); ``None`` on failure."""
        return code.generate_code(self.llm, prompt, images, system_prompt, template, language, max_continuations,
                                  **options)  # fmt: skip

    @seed_rule([])
    def generate_codes(
        self,
        prompt: str,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_continuations: int = 3,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Every code block (``file_name``, ``content``, ``language``, ``is_complete``...); ``[]`` on failure."""
        return code.generate_codes(self.llm, prompt, images, system_prompt, max_continuations, **options)

    # -- structured output --------------------------------------------------------------------

    @seed_rule(None)
    def generate_structured_content(
        self,
        prompt: str,
        schema: Any,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_retries: int = 2,
        **options: Any,
    ) -> Any:
        """The parsed JSON that follows ``schema`` (a dict, its JSON text or a pydantic class); ``None`` on failure."""
        return generate_structured(self.llm, prompt, schema, images, system_prompt, max_retries, **options)

    @seed_rule(None)
    def generate_structured_content_pydantic(
        self,
        prompt: str,
        pydantic_model: Any,
        images: list[ImageInput] | None = None,
        system_prompt: str | None = None,
        max_retries: int = 2,
        **options: Any,
    ) -> Any:
        """An instance of ``pydantic_model`` answering ``prompt``; ``None`` on failure."""
        _require_model_class(pydantic_model)
        return generate_structured(self.llm, prompt, pydantic_model, images, system_prompt, max_retries, **options)

    # -- questions ----------------------------------------------------------------------------

    @seed_rule(False, explained={"answer": False, "explanation": "Failed"})
    def yes_no(
        self,
        question: str,
        context: str = "",
        system_prompt: str = "",
        return_explanation: bool = False,
        images: list[ImageInput] | None = None,
        **options: Any,
    ) -> bool | dict[str, Any]:
        """``True`` for yes (``{"answer", "explanation"}`` with ``return_explanation``); ``False`` on failure."""
        return questions.yes_no(self.llm, question, context, system_prompt, return_explanation, images, **options)

    @seed_rule(-1, explained={"index": -1, "explanation": "Failed"})
    def multichoice_question(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        return_explanation: bool = False,
        **options: Any,
    ) -> int | dict[str, Any]:
        """The best answer's index (``{"index", "explanation"}`` with ``return_explanation``); ``-1`` on failure."""
        return questions.multichoice_question(self.llm, question, possible_answers, context, return_explanation,
                                              **options)  # fmt: skip

    @seed_rule([], explained={"ranking": [], "explanation": "Failed"})
    def multichoice_ranking(
        self,
        question: str,
        possible_answers: list[Any],
        context: str = "",
        return_explanation: bool = False,
        **options: Any,
    ) -> list[int] | dict[str, Any]:
        """Indices, best first (``{"ranking", "explanation"}`` with ``return_explanation``); ``[]`` on failure."""
        return questions.multichoice_ranking(self.llm, question, possible_answers, context, return_explanation,
                                             **options)  # fmt: skip

    # -- long texts ---------------------------------------------------------------------------

    @seed_rule(error_dict)
    def long_context_processing(self, text_to_process: str, contextual_prompt: str, **options: Any) -> Any:
        """``contextual_prompt`` done on a text longer than the context (:func:`.long_text.long_context_processing`)."""
        return long_text.long_context_processing(self.llm, text_to_process, contextual_prompt, **options)

    @seed_rule(error_dict)
    def summerize_text(
        self, text: str, summary_instruction: str = "Summarize concisely", **options: Any
    ) -> str | dict[str, Any]:
        """A summary of ``text`` (lollms_client's spelling); the seeds' error dict on a backend failure."""
        return long_text.summarize_text(self.llm, text, summary_instruction, **options)

    @seed_rule(error_dict)
    def summarize_text(
        self, text: str, summary_instruction: str = "Summarize concisely", **options: Any
    ) -> str | dict[str, Any]:
        """:meth:`summerize_text`, spelled right."""
        return long_text.summarize_text(self.llm, text, summary_instruction, **options)

    @seed_rule([])
    def extract_keywords(self, text: str, num_keywords: int = 5, **options: Any) -> list[str]:
        """The most important keywords of ``text``; ``[]`` on failure."""
        return long_text.extract_keywords(self.llm, text, num_keywords, **options)

    @seed_rule(error_dict)
    def generate_with_tag(
        self, prompt: str, tag: str, images: list[ImageInput] | None = None, system_prompt: str = "", **options: Any
    ) -> str | dict[str, Any]:
        """The content of ``<tag>`` in the answer (the whole answer without one); the error dict on failure."""
        return long_text.generate_with_tag(self.llm, prompt, tag, images, system_prompt, **options)

    @seed_rule({})
    def generate_with_tags(
        self, prompt: str, images: list[ImageInput] | None = None, system_prompt: str = "", **options: Any
    ) -> dict[str, str]:
        """``{name: content}`` of the ``<tag name="...">`` outputs; ``{}`` on failure."""
        return long_text.generate_with_tags(self.llm, prompt, images, system_prompt, **options)

    # -- parsing (no model call) -------------------------------------------------------------

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


def _require_model_class(pydantic_model: Any) -> None:
    if isinstance(pydantic_model, (dict, str)):
        raise TypeError(
            "pydantic_model must be a pydantic model class; for a JSON schema use generate_structured_content"
        )
