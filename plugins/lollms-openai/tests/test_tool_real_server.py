"""Tools and structured output against the real llama.cpp server (xllamacpp + SmolLM2-135M).

SmolLM2's chat template has no tool support and llama.cpp then ignores ``tools`` silently; the
server says so in ``/props`` (``chat_template_caps``), which the binding reads. Its
``response_format: json_schema`` does constrain decoding.
"""

from __future__ import annotations

import json
from typing import Any

from lollms_core.types import ChatRequest, Chunk

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_llama_cpp_props_say_the_template_has_no_tools(make_llm: Any) -> None:
    llm = make_llm()
    assert llm.supports_tools() is False
    assert llm.get_model_info()["supports_tools"] is False
    assert llm.supports_json_schema() is True
    # An explicit setting wins over what the server reports.
    assert make_llm(supports_tools="yes").supports_tools() is True


def test_json_schema_constrains_the_real_engine(make_llm: Any) -> None:
    llm = make_llm()
    request = ChatRequest(
        messages=[{"role": "user", "content": "Invent a person called Echo who is 20 years old."}],
        options=llm.build_request("x", temperature=0, n_predict=60).options,
        json_schema=PERSON,
    )
    text = "".join(c.text for c in llm._stream(request) if isinstance(c, Chunk))
    value = json.loads(text)
    assert set(value) == {"name", "age"} and isinstance(value["age"], int) and isinstance(value["name"], str)


def test_structured_output_is_constrained_by_the_real_server(make_llm: Any) -> None:
    from lollms_core.tools.structured import generate_structured

    value = generate_structured(
        make_llm(),
        [{"role": "user", "content": "Invent a person called Echo who is 20 years old."}],
        PERSON,
        n_predict=60,
        temperature=0,
    )
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)
