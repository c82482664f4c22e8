"""Structured output: an answer that is JSON following a schema, constrained by the backend where it can be.

A binding whose :meth:`~lollms_core.bindings.LollmsLLMBinding.supports_json_schema` is true gets the
schema as ``ChatRequest.json_schema`` (OpenAI ``response_format``, Ollama ``format``, llama.cpp
``json_schema``): the backend's own constrained decoding. Any other binding is asked in the prompt.
Either way the answer is parsed and validated, and an invalid one gets repair rounds (the model is
shown what is wrong); what still fails is a :class:`~lollms_core.errors.StructuredContentError`
carrying the raw text.

Schemas come as a JSON Schema dict, a pydantic model class, lollms_client's template style
(``{"age": "integer", "name": "string"}``, or property schemas ``{"age": {"type": "integer"}}``), or
JSON text of any of these.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import StructuredContentError

# The parsing and checking of an answer are the text helpers' own: one implementation for both paths.
from ..text_processing.structured import find_json, validate_answer

if TYPE_CHECKING:
    from ..bindings.llm import LollmsLLMBinding
    from ..types import Message, StreamingCallback

__all__ = ["find_json", "generate_structured", "normalise_schema", "validate_answer"]

JSON_SYSTEM = (
    "Answer with one JSON value that follows this JSON schema, and nothing else (no prose, no code fence):\n{schema}"
)
JSON_REPAIR = "That answer is not valid: {error}\nAnswer again with only the corrected JSON."

_TYPE_NAMES = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "dict": "object",
    "null": "null",
}
_SCHEMA_FORMS = (
    "schema must be a JSON-schema dict or a pydantic model class (or lollms_client's template "
    '{"age": "integer", "name": "string"}, or JSON text of one of these)'
)
_SCHEMA_KEYWORDS = {"type", "properties", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "items", "$defs"}


def normalise_schema(schema: Any) -> tuple[Any, dict[str, Any]]:
    """``(pydantic model class or None, JSON Schema)`` for any accepted schema form.

    :raises TypeError: ``schema`` is none of the accepted forms (the message lists them).
    """
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            schema = None
        if not isinstance(schema, dict):
            raise TypeError(f"{_SCHEMA_FORMS}; got text that is not a JSON object")
    if isinstance(schema, dict):
        return None, _from_template(schema) if _is_template(schema) else schema
    from pydantic import BaseModel  # a dependency of the core; imported here to keep `import lollms_core` light

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema, schema.model_json_schema()
    raise TypeError(f"{_SCHEMA_FORMS}; got {type(schema).__name__}")


def _is_template(schema: dict[str, Any]) -> bool:
    """lollms_client's shorthand: a non-empty mapping of field names to type names or property schemas."""
    if not schema or _SCHEMA_KEYWORDS & set(schema):
        return False
    values = list(schema.values())
    return all(isinstance(v, dict) for v in values) or all(
        isinstance(v, str) and v.lower() in _TYPE_NAMES for v in values
    )


def _from_template(template: dict[str, Any]) -> dict[str, Any]:
    properties = {
        name: value if isinstance(value, dict) else {"type": _TYPE_NAMES[value.lower()]}
        for name, value in template.items()
    }
    return {"type": "object", "properties": properties, "required": list(template)}


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
    model, json_schema = normalise_schema(schema)
    if constrained is None:
        constrained = llm.supports_json_schema()
    history = _with_instruction(messages, JSON_SYSTEM.format(schema=json.dumps(json_schema, indent=1)))
    answer, problems = "", ["no answer yet"]
    rounds = 1 + max(0, repair_rounds)
    for attempt in range(rounds):
        if attempt:
            history = [
                *history,
                {"role": "assistant", "content": answer},
                {"role": "user", "content": JSON_REPAIR.format(error="; ".join(problems))},
            ]
        constraint: dict[str, Any] = {"json_schema": json_schema} if constrained else {}
        request = llm.build_request(history, **params, **constraint)
        answer = llm.run(request, callback).text
        ok, value, problems = validate_answer(answer, model, json_schema)
        if ok:
            return value
    how = "constrained by the backend" if constrained else "asked in the prompt"
    raise StructuredContentError(
        f"no valid JSON for the schema after {rounds} attempt(s) ({how}): {'; '.join(problems)}", answer, problems
    )


def _with_instruction(messages: list[Message], instruction: str) -> list[Message]:
    """``messages`` with the schema instruction appended to the system message (or a new one first)."""
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        system = str(out[0].get("content") or "")
        out[0]["content"] = f"{system}\n\n{instruction}" if system else instruction
        return out
    return [{"role": "system", "content": instruction}, *out]
