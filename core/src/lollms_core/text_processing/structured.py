"""Structured output: a JSON answer that follows a schema, validated, with bounded retries.

``generate_structured`` is the one function every structured helper goes through (the
client's ``generate_structured_content``, the text processor's, ``yes_no``, the multiple
choice helpers): where the binding ``supports_json_schema()``, the schema goes to the backend's
own constrained decoding; the answer is validated either way, with bounded repair rounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .. import text as _text
from .._json_schema import schema_errors
from ..errors import StructuredContentError
from ..types import ImageInput, Message
from ._llm import TextLLM, complete, messages

__all__ = ["JSON_SYSTEM", "find_json", "generate_structured", "repair_loop", "schema_of", "validate_answer"]

#: The instruction every structured request carries ({schema}: the JSON Schema, indented).
JSON_SYSTEM = (
    "Answer with one JSON value that follows this JSON schema, and nothing else (no prose, no code fence):\n{schema}"
)
_FORMS = (
    "schema must be a JSON-schema dict or a pydantic model class (or lollms_client's template "
    '{"age": "integer", "name": "string"}, or the JSON text of one of these)'
)
# Keys that make a dict a schema rather than lollms_client's bare {property: schema} shorthand.
_KEYWORDS = frozenset({"type", "properties", "items", "anyOf", "oneOf", "allOf", "not", "enum", "const", "$ref",
                       "$defs", "$schema", "definitions", "additionalProperties", "patternProperties",
                       "required"})  # fmt: skip
# Type words a template uses for a property's value ("age": "integer").
_TYPE_NAMES = {"string": "string", "str": "string", "text": "string", "integer": "integer", "int": "integer",
               "number": "number", "float": "number", "boolean": "boolean", "bool": "boolean",
               "array": "array", "list": "array", "object": "object", "dict": "object"}  # fmt: skip
_JSON_RETRY = "That answer is not valid: {error}\nAnswer again with only the corrected JSON."


def generate_structured(
    llm: TextLLM,
    prompt: str,
    schema: Any,
    images: list[ImageInput] | None = None,
    system_prompt: str | None = None,
    max_retries: int = 2,
    **options: Any,
) -> Any:
    """A JSON answer to ``prompt`` that follows ``schema``; an instance for a pydantic model class.

    ``schema`` is a JSON-schema dict, its JSON text, or a pydantic model class. The answer is
    parsed (a fenced ``json`` block or the first JSON value in the text) and validated; on
    failure the model is shown the problems and asked again, at most ``max_retries`` times.
    ``auto_continue_on_truncation`` (lollms_client) is accepted: a cut-off answer is retried.

    :raises StructuredContentError: still invalid after the retries (``last_answer``, ``errors``).
    :raises BackendError: the backend failed.
    :raises TypeError: ``schema`` is none of those kinds.
    """
    model, json_schema = schema_of(schema)
    options.pop("auto_continue_on_truncation", None)
    if "json_schema" not in options and llm.supports_json_schema():
        # The backend's own constrained decoding (OpenAI response_format, Ollama format, llama.cpp
        # json_schema): a small local model then cannot answer invalid JSON. Validated all the same.
        options["json_schema"] = json_schema
    system = JSON_SYSTEM.format(schema=json.dumps(json_schema, indent=1))
    if system_prompt:
        system = f"{system_prompt}\n\n{system}"
    conversation = messages(prompt, system, images)
    return repair_loop(lambda c: complete(llm, c, **options), conversation, model, json_schema, max_retries)


def repair_loop(
    ask: Callable[[list[Message]], str],
    conversation: list[Message],
    model: Any,
    json_schema: dict[str, Any],
    repair_rounds: int,
    how: str = "",
) -> Any:
    """THE structured-output loop: ask, validate, show the model what is wrong, at most ``repair_rounds`` more times.

    Both paths go through it: the client's helpers (a prompt) and :mod:`lollms_core.tools.structured`
    (a conversation, the backend's constrained decoding). ``how`` says in the error how it was asked.

    :raises StructuredContentError: still invalid after the repair rounds (``last_answer``, ``errors``).
    """
    answer, problems = "", ["no answer yet"]
    attempts = 1 + max(0, repair_rounds)
    for attempt in range(attempts):
        if attempt:
            conversation = [*conversation, {"role": "assistant", "content": answer},
                            {"role": "user", "content": _JSON_RETRY.format(error="; ".join(problems))}]  # fmt: skip
        answer = ask(conversation)
        ok, value, problems = validate_answer(answer, model, json_schema)
        if ok:
            return value
    raise StructuredContentError(
        f"no valid JSON for the schema after {attempts} attempt(s){f' ({how})' if how else ''}: {'; '.join(problems)}",
        answer,
        problems,
    )


def schema_of(schema: Any) -> tuple[Any, dict[str, Any]]:
    """``(pydantic model or None, JSON schema)`` for a schema dict, its JSON text or a pydantic class.

    A dict of property schemas without ``type``/``properties`` is read as lollms_client reads
    it: an object whose properties they are, all required; so is its README's template
    (``{"age": "integer", "hobbies": ["list"]}``: type words, lists for arrays, other
    strings as the description of a string).

    :raises TypeError: anything else (a string that is not JSON included).
    """
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise TypeError(f"{_FORMS}; this string is not JSON ({exc})") from None
    if isinstance(schema, dict):
        shorthand = all(isinstance(v, (dict, str, list)) for v in schema.values())
        if schema and shorthand and not (_KEYWORDS & schema.keys()):
            # lollms_client's shorthand ({"age": {"type": "integer"}}) and its README's template
            # ({"age": "integer", "hobbies": [...]}): an object with those properties, all required.
            properties = {k: _property(v) for k, v in schema.items()}
            schema = {"type": "object", "properties": properties, "required": list(properties)}
        return None, schema
    from pydantic import BaseModel  # a dependency of the core; imported here to keep `import lollms_core` light

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema, schema.model_json_schema()
    raise TypeError(f"{_FORMS}; not {type(schema).__name__}")


def _property(template: Any) -> dict[str, Any]:
    """The schema of one property of a shorthand or template object."""
    if isinstance(template, dict):
        return template
    if isinstance(template, list):
        return {"type": "array"}
    name = _TYPE_NAMES.get(template.strip().lower())
    return {"type": name} if name else {"type": "string", "description": template}


def validate_answer(answer: str, model: Any, json_schema: dict[str, Any]) -> tuple[bool, Any, list[str]]:
    """``(ok, value, problems)``: the answer's JSON checked against the pydantic model or the schema."""
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
