"""generate_code / generate_codes / generate_structured_content / yes_no / multichoice_question.

The echo binding covers the single-call paths; continuation and retry need a model that
answers differently on each call, so ``ScriptedLLM`` (a real LollmsLLMBinding that replays
answers and records requests) stands in for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lollms_core import ChatRequest, Chunk, LollmsClient, LollmsLLMBinding, ServerError
from lollms_core.errors import StructuredContentError
from pydantic import BaseModel


class ScriptedLLM(LollmsLLMBinding):
    """Answers with the next scripted text (the last one repeats), one character per chunk."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.requests: list[ChatRequest] = []

    def _stream(self, request: ChatRequest) -> Iterator[Chunk]:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        for ch in answer:
            yield Chunk(ch)


def scripted(*answers: str, strict: bool = False) -> tuple[LollmsClient, ScriptedLLM]:
    client = LollmsClient(llm_binding_name="echo", strict=strict)
    client.llm = ScriptedLLM(list(answers))
    return client, client.llm


@pytest.fixture
def echo():
    return LollmsClient(llm_binding_name="echo")


# -- generate_code ---------------------------------------------------------------------------


def test_generate_code_returns_the_block_content(echo):
    prompt = "Reverse a string:\n```python\ndef rev(s):\n    return s[::-1]\n```"
    assert echo.generate_code(prompt) == "def rev(s):\n    return s[::-1]"


def test_generate_code_sends_the_prompt_as_user_and_instructions_as_system():
    client, llm = scripted("```python\nx = 1\n```")
    client.generate_code("make x", language="python", template="x = ...")
    messages = llm.requests[0].messages
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"] == "make x"
    assert "python" in messages[0]["content"]
    assert "x = ..." in messages[0]["content"]


def test_generate_code_picks_the_requested_language(echo):
    prompt = "```js\nlet a;\n```\n```python\na = None\n```"
    assert echo.generate_code(prompt, language="python") == "a = None"
    assert echo.generate_code(prompt) == "let a;"


def test_generate_code_without_any_block_is_none(echo):
    assert echo.generate_code("no code in this answer") is None


def test_truncated_block_is_continued_and_joined():
    client, llm = scripted("```python\ndef f():\n", "```python\n    return 1\n```")
    assert client.generate_code("f") == "def f():\n    return 1"
    assert len(llm.requests) == 2
    follow_up = llm.requests[1].messages
    assert follow_up[-2] == {"role": "assistant", "content": "```python\ndef f():\n"}
    assert "cut off" in follow_up[-1]["content"]


def test_continuation_that_repeats_the_last_line_is_not_duplicated():
    client, _ = scripted("```python\nvalues = [1, 2, 3,\n", "```python\nvalues = [1, 2, 3,\n 4]\n```")
    assert client.generate_code("v") == "values = [1, 2, 3,\n 4]"


def test_continuation_is_bounded_and_returns_the_partial_code():
    client, llm = scripted("```python\nwhile True:\n", "    step()\n")
    code = client.generate_code("loop", max_continuations=2)
    assert len(llm.requests) == 3
    # The second continuation repeats the first exactly: the overlap rule keeps one copy.
    assert code == "while True:\n    step()\n"


def test_truncated_echo_answer_with_n_predict_stays_bounded(echo):
    code = echo.generate_code("```python\na = 1\nb = 2\nc = 3\n```", n_predict=4, max_continuations=1)
    assert echo.llm.streams_opened == 2
    assert code.startswith("a")


def test_generate_code_backend_error_is_none_unless_strict():
    # Issue 26: lollms_client's value (None), no longer the error dict.
    lenient = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"})
    assert lenient.generate_code("x") is None
    strict = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=True)
    with pytest.raises(ServerError):
        strict.generate_code("x")


def test_generate_codes_returns_every_block_with_names(echo):
    prompt = "main.py\n```python\nprint(1)\n```\napp.js\n```javascript\nconsole.log(1)\n```"
    blocks = echo.generate_codes(prompt)
    assert [(b["file_name"], b["type"], b["content"]) for b in blocks] == [
        ("main.py", "python", "print(1)"),
        ("app.js", "javascript", "console.log(1)"),
    ]


def test_generate_codes_finishes_the_last_block():
    client, _ = scripted("```python\na = 1\n```\n```js\nlet b =", "```js\n 2;\n```")
    blocks = client.generate_codes("two")
    assert blocks[1]["content"] == "let b = 2;"
    assert blocks[1]["is_complete"] is True


# -- structured content ----------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def test_structured_content_parses_and_validates(echo):
    assert echo.generate_structured_content('Here you go: {"a": 3} done', SCHEMA) == {"a": 3}


def test_structured_content_reads_a_fenced_json_block(echo):
    assert echo.generate_structured_content('```json\n{"a": 4}\n```', SCHEMA) == {"a": 4}


class Person(BaseModel):
    name: str
    age: int


def test_structured_content_with_a_pydantic_model(echo):
    person = echo.generate_structured_content('{"name": "Ada", "age": 36}', Person)
    assert person == Person(name="Ada", age=36)


def test_structured_content_retries_with_the_validation_error():
    client, llm = scripted("no json here", '{"a": "three"}', '{"a": 3}')
    assert client.generate_structured_content("give a", SCHEMA, max_retries=2) == {"a": 3}
    assert len(llm.requests) == 3
    assert "contains no JSON" in llm.requests[1].messages[-1]["content"]
    assert "$.a: expected integer" in llm.requests[2].messages[-1]["content"]


def test_structured_content_gives_up_after_the_retries():
    client, llm = scripted('{"b": 1}', strict=True)  # strict: the typed error (issue 14.7)
    with pytest.raises(StructuredContentError) as info:
        client.generate_structured_content("give a", SCHEMA, max_retries=1)
    assert len(llm.requests) == 2
    assert info.value.errors == ["$: missing required property 'a'"]
    assert info.value.last_answer == '{"b": 1}'


def test_structured_content_failure_returns_an_empty_dict_unless_strict():
    # Issue 26: lollms_client's client value, {} (so `if data:` is false), when the model never gives valid JSON.
    client, llm = scripted('{"b": 1}')
    assert client.generate_structured_content("give a", SCHEMA, max_retries=1) == {}
    assert len(llm.requests) == 2


def test_structured_content_backend_failure_is_an_empty_dict_unless_strict():
    # Issue 26: never a truthy error dict where the caller tests `if data:`.
    failing = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"})
    assert failing.generate_structured_content("x", SCHEMA) == {}
    strict = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=True)
    with pytest.raises(ServerError):
        strict.generate_structured_content("x", SCHEMA)


def test_generate_structured_content_pydantic_returns_an_instance(echo):
    assert echo.generate_structured_content_pydantic('{"name": "Ada", "age": 36}', Person) == Person(name="Ada", age=36)
    client, _ = scripted("no json")
    assert client.generate_structured_content_pydantic("x", Person, max_retries=0) is None


def test_structured_content_rejects_a_schema_of_the_wrong_kind(echo):
    with pytest.raises(TypeError, match="JSON-schema dict or a pydantic model"):
        echo.generate_structured_content("x", "not a schema")


# -- yes/no and multiple choice --------------------------------------------------------------


def test_yes_no_from_json_and_from_plain_words(echo):
    assert echo.yes_no('Is water wet? {"answer": true}') is True
    assert echo.yes_no('Is fire cold? {"answer": false, "explanation": "no"}', return_explanation=True) == {
        "answer": False,
        "explanation": "no",
    }
    client, _ = scripted("<think>hmm</think>No, it is not.")
    assert client.yes_no("Is fire cold?") is False


def test_yes_no_that_never_answers_raises_when_strict():
    # Issue 26: strict keeps the typed error; the default mode answers False (test_client_return_values).
    client, _ = scripted("I cannot tell.", strict=True)
    with pytest.raises(StructuredContentError):
        client.yes_no("?")


def test_multichoice_question_index_and_fallbacks():
    client, llm = scripted('{"index": 1, "explanation": "blue is a colour"}')
    assert client.multichoice_question("A colour?", ["dog", "blue"], return_explanation=True) == {
        "index": 1,
        "explanation": "blue is a colour",
    }
    assert "1. blue" in llm.requests[0].messages[-1]["content"]
    client, _ = scripted("I pick blue.")
    assert client.multichoice_question("A colour?", ["dog", "blue"]) == 1
    client, _ = scripted("none of them")
    assert client.multichoice_question("A colour?", ["dog", "cat"]) == -1
    client, _ = scripted('{"index": 7}')
    assert client.multichoice_question("A colour?", ["dog", "cat"]) == -1


def test_structured_content_uses_the_backends_constrained_decoding_where_it_has_one() -> None:
    # Before: prompt + validate only, even on a binding that supports_json_schema(): a small local
    # model often answered invalid JSON that constrained decoding would have prevented.
    from lollms_core import LollmsClient

    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    seen: list[Any] = []
    constrained = LollmsClient(llm_binding_name="echo")
    original = constrained.llm.run  # type: ignore[union-attr]

    def spy(request: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(request.json_schema)
        return original(request, *args, **kwargs)

    constrained.llm.run = spy  # type: ignore[union-attr,method-assign]
    answer = constrained.generate_structured_content("no JSON here", schema, max_retries=0)
    assert seen == [schema] and isinstance(answer, dict) and isinstance(answer["age"], int)
    plain = LollmsClient(llm_binding_name="echo", llm_binding_config={"json_schema": False})
    assert plain.generate_structured_content("no JSON here", schema, max_retries=0) == {}
