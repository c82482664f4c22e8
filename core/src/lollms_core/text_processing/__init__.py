"""Text helpers over any LLM binding: code, structured JSON, closed questions, long texts.

One implementation, two faces: :class:`LollmsTextProcessor` (lollms_client's ``llm.tp``,
built lazily on every LLM binding) and the client's methods of the same names. Each helper
is a function of a :class:`TextLLM` in :mod:`.code`, :mod:`.structured`, :mod:`.questions`
or :mod:`.long_text`; it raises on failure, and each face applies the seeds' rule with
lollms_client's value for that face.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._llm import TextLLM

if TYPE_CHECKING:
    from .processor import LollmsTextProcessor

__all__ = ["LollmsTextProcessor", "TextLLM"]


def __getattr__(name: str) -> Any:
    # The processor (``binding.tp``) loads on first use: the client imports the functions only.
    if name == "LollmsTextProcessor":
        from .processor import LollmsTextProcessor

        return LollmsTextProcessor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
