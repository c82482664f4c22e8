"""Text helpers over any LLM binding: code, structured JSON, closed questions, long texts.

One implementation, two faces: :class:`LollmsTextProcessor` (lollms_client's ``llm.tp``,
built lazily on every LLM binding) and the client's methods of the same names. Each helper
is a function of a :class:`TextLLM` in :mod:`.code`, :mod:`.structured`, :mod:`.questions`
or :mod:`.long_text`; it raises on failure, and each face applies the seeds' rule with
lollms_client's value for that face.
"""

from __future__ import annotations

from ._llm import TextLLM
from .processor import LollmsTextProcessor

__all__ = ["LollmsTextProcessor", "TextLLM"]
