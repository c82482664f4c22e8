"""Structured output: an answer that is JSON following a schema, constrained by the backend where it can be.

A binding whose :meth:`~lollms_core.bindings.LollmsLLMBinding.supports_json_schema` is true gets the
schema as ``ChatRequest.json_schema`` (OpenAI ``response_format``, Ollama ``format``, llama.cpp
``json_schema``): the backend's own constrained decoding. Any other binding is asked in the prompt.
Either way the answer is parsed and validated, and an invalid one gets repair rounds (the model is
shown what is wrong); what still fails is a :class:`~lollms_core.errors.StructuredContentError`
carrying the raw text.

Schemas come as a JSON Schema dict, a pydantic model class, lollms_client's template style
(``{"age": "integer", "name": "string"}``, or property schemas ``{"age": {"type": "integer"}}``), or
JSON text of any of these (:func:`~lollms_core.text_processing.structured.schema_of` reads them all).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

# The schema forms, the parsing, the checking and the repair loop are the text helpers' own: one
# implementation for both paths (this one works on a conversation and a binding's requests).
from ..text_processing.structured import JSON_SYSTEM, find_json, repair_loop, schema_of, validate_answer

if TYPE_CHECKING:
    from ..bindings.llm import LollmsLLMBinding
    from ..types import Message, StreamingCallback

__all__ = ["find_json", "generate_structured", "normalise_schema", "validate_answer"]


def normalise_schema(schema: Any) -> tuple[Any, dict[str, Any]]:
    """``(pydantic model class or None, JSON Schema)`` for any accepted schema form.

    :raises TypeError: ``schema`` is none of the accepted forms (the message lists them).
    """
    return schema_of(schema)


def generate_structured(
    llm: LollmsLLMBinding,
    messages: list[Message],
    schema: Any,
    *,
    repair_rounds: int = 1,
    constrained: bool | None = None,
    callback: StreamingCallback | None = None,
    **params: Any,
) -> Any:
    """A value for ``messages`` that follows ``schema`` (an instance for a pydantic model).

    :param messages: the conversation; the schema instruction is added to its system message.
    :param repair_rounds: how many times an invalid answer is sent back with what is wrong.
    :param constrained: use the backend's constrained decoding (default: when the binding supports it).
    :param params: generation parameters for ``build_request`` (``n_predict``, ``temperature``...).
    :raises StructuredContentError: still invalid after the repair rounds (``last_answer``, ``errors``).
    :raises TypeError: ``schema`` is not an accepted form.
    """
    model, json_schema = schema_of(schema)
    if constrained is None:
        constrained = llm.supports_json_schema()
    constraint: dict[str, Any] = {"json_schema": json_schema} if constrained else {}
    history = _with_instruction(messages, JSON_SYSTEM.format(schema=json.dumps(json_schema, indent=1)))

    def ask(conversation: list[Message]) -> str:
        return llm.run(llm.build_request(conversation, **params, **constraint), callback).text

    how = "constrained by the backend" if constrained else "asked in the prompt"
    return repair_loop(ask, history, model, json_schema, repair_rounds, how)


def _with_instruction(messages: list[Message], instruction: str) -> list[Message]:
    """``messages`` with the schema instruction appended to the system message (or a new one first)."""
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        system = str(out[0].get("content") or "")
        out[0]["content"] = f"{system}\n\n{instruction}" if system else instruction
        return out
    return [{"role": "system", "content": instruction}, *out]
