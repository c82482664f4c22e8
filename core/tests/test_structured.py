"""lollms_core.tools.structured: schema forms, constrained vs prompted paths, repair round, typed failure.

A scripted LLM binding (real LollmsLLMBinding subclass replaying answers, recording requests) stands
in for a model; the real engines are exercised in the llamacpp, openai and ollama suites.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lollms_core import ChatRequest, Chunk, LollmsLLMBinding
from lollms_core.errors import StructuredContentError
from lollms_core.tools.structured import generate_structured, normalise_schema
from pydantic import BaseModel

ASK = [{"role": "user", "content": "Invent a person."}]


class ScriptedLLM(LollmsLLMBinding):
    """Answers with the next scripted text; says whether it constrains output (``constrains``)."""

    def __init__(self, answers: list[str], constrains: bool = False) -> None:
        super().__init__()
        self.answers, self.constrains = list(answers), constrains
        self.requests: list[ChatRequest] = []

    def supports_json_schema(self, model: str | None = None) -> bool:
        return self.constrains

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        yield Chunk(self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])


class Person(BaseModel):
    name: str
    age: int


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


@pytest.mark.parametrize(
    "given",
    [
        {"name": "string", "age": "integer"},  # lollms_client's template
        {"name": "str", "age": "int"},
        {"name": {"type": "string"}, "age": {"type": "integer"}},  # property schemas, as lollms_client normalises
        '{"name": "string", "age": "integer"}',  # JSON text
        PERSON,
    ],
)
def test_every_schema_form_becomes_the_same_json_schema(given: object) -> None:
    assert normalise_schema(given) == (None, PERSON)


def test_a_pydantic_model_keeps_its_class() -> None:
    model, schema = normalise_schema(Person)
    assert model is Person and schema["required"] == ["name", "age"]


@pytest.mark.parametrize("given", ["not a schema", "[1, 2]", 42, None])
def test_other_forms_are_refused_listing_the_accepted_ones(given: object) -> None:
    with pytest.raises(TypeError, match=r"JSON-schema dict or a pydantic model class.*template"):
        normalise_schema(given)


def test_a_dict_with_schema_keywords_is_not_a_template() -> None:
    schema = {"type": "string", "enum": ["a", "b"]}
    assert normalise_schema(schema) == (None, schema)


def test_constrained_binding_gets_the_schema_on_the_request() -> None:
    llm = ScriptedLLM(['{"name": "Echo", "age": 20}'], constrains=True)
    assert generate_structured(llm, ASK, {"name": "string", "age": "integer"}) == {"name": "Echo", "age": 20}
    assert llm.requests[0].json_schema == PERSON
    assert llm.requests[0].messages[0]["role"] == "system"  # the instruction helps small models too


def test_unconstrained_binding_is_asked_in_the_prompt_only() -> None:
    llm = ScriptedLLM(['Sure: {"name": "Echo", "age": 20}'])
    assert generate_structured(llm, ASK, Person) == Person(name="Echo", age=20)
    request = llm.requests[0]
    assert request.json_schema is None
    assert '"age"' in request.messages[0]["content"]


def test_one_repair_round_shows_the_model_what_is_wrong() -> None:
    llm = ScriptedLLM(['{"name": "Echo", "age": "twenty"}', '{"name": "Echo", "age": 20}'])
    assert generate_structured(llm, ASK, PERSON) == {"name": "Echo", "age": 20}
    assert len(llm.requests) == 2
    assert "$.age: expected integer" in llm.requests[1].messages[-1]["content"]


@pytest.mark.parametrize("constrains", [True, False])
def test_failure_is_typed_and_carries_the_raw_text(constrains: bool) -> None:
    llm = ScriptedLLM(['{"name": "Echo"}'], constrains=constrains)
    with pytest.raises(StructuredContentError) as info:
        generate_structured(llm, ASK, PERSON)
    assert len(llm.requests) == 2  # the answer and one repair round
    assert info.value.last_answer == '{"name": "Echo"}'
    assert info.value.errors == ["$: missing required property 'age'"]
    assert ("constrained by the backend" in str(info.value)) is constrains


def test_existing_system_message_keeps_its_text() -> None:
    llm = ScriptedLLM(['{"name": "E", "age": 1}'])
    generate_structured(llm, [{"role": "system", "content": "Be brief."}, *ASK], PERSON, n_predict=40)
    system = llm.requests[0].messages[0]["content"]
    assert system.startswith("Be brief.\n\n") and "JSON schema" in system
    assert llm.requests[0].options.n_predict == 40


def test_forcing_constrained_output_on_a_binding_without_it_is_refused() -> None:
    from lollms_core.errors import NotSupportedError

    llm = ScriptedLLM(['{"name": "E", "age": 1}'])
    with pytest.raises(NotSupportedError, match="JSON Schema"):
        generate_structured(llm, ASK, PERSON, constrained=True)
    assert llm.requests == []


def test_the_readme_template_reads_the_same_on_both_paths() -> None:
    """Regression: tools.structured had its own template reader, which took lollms_client's README
    template (type words, a list for an array, a description for a string) for a finished schema."""
    from lollms_core.text_processing.structured import schema_of

    template = {"name": "the person's name", "age": "integer", "hobbies": ["list"]}
    expected = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the person's name"},
            "age": {"type": "integer"},
            "hobbies": {"type": "array"},
        },
        "required": ["name", "age", "hobbies"],
    }
    assert normalise_schema(template) == schema_of(template) == (None, expected)
    llm = ScriptedLLM(['{"name": "Echo", "age": 20, "hobbies": ["chess"]}'], constrains=True)
    assert generate_structured(llm, ASK, template)["hobbies"] == ["chess"]
    assert llm.requests[0].json_schema == expected
