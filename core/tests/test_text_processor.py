"""``binding.tp``: lollms_client's text processor on every LLM binding (issue 26).

Its methods and the client's of the same names are one implementation
(``lollms_core.text_processing``); each face returns lollms_client's value for that face
on failure. The calls below are the ones lollms_client's README makes through ``lc.llm.tp``.
"""

from __future__ import annotations

import pytest
from lollms_core import GenerationOptions, LollmsClient, ServerError, StructuredContentError
from lollms_core.text_processing import LollmsTextProcessor
from pydantic import BaseModel
from test_client_text import ScriptedLLM

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def tp_of(*answers: str, strict: bool = False) -> tuple[LollmsTextProcessor, ScriptedLLM]:
    llm = ScriptedLLM(list(answers))
    llm.strict = strict
    return llm.tp, llm


def failing_tp(strict: bool = False) -> LollmsTextProcessor:
    return LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=strict).llm.tp


# -- the attribute -------------------------------------------------------------------------------


def test_every_llm_binding_has_a_text_processor_built_on_first_use():
    client = LollmsClient(llm_binding_name="echo")
    assert "tp" not in vars(client.llm)  # creating the binding did not build it
    tp = client.llm.tp
    assert isinstance(tp, LollmsTextProcessor) and tp.llm is client.llm
    assert client.llm.tp is tp  # built once
    from lollms_core.lollms_text_processing import LollmsTextProcessor as Alias

    assert Alias is LollmsTextProcessor


# -- code ------------------------------------------------------------------------------------------


def test_generate_code_and_its_failure_value():
    tp, _ = tp_of("```python\ndef f():\n    return 1\n```")
    assert tp.generate_code("Create f", language="python") == "def f():\n    return 1"
    assert failing_tp().generate_code("x") is None
    with pytest.raises(ServerError):
        failing_tp(strict=True).generate_code("x")


def test_generate_code_reads_lollms_clients_xml_code_tags():
    tp, _ = tp_of('<code language="python">\nprint(1)\n</code>')
    assert tp.generate_code("print one") == "print(1)"


def test_generate_codes_items_carry_language_and_a_file_name():
    tp, _ = tp_of("main.py\n```python\nprint(1)\n```\n```\nplain\n```")
    files = tp.generate_codes("Create a Flask web app")
    assert [(f["file_name"], f["language"], f["content"], f["is_complete"]) for f in files] == [
        ("main.py", "python", "print(1)", True),
        ("file_1.text", "text", "plain", True),
    ]
    assert failing_tp().generate_codes("x") == []


# -- structured --------------------------------------------------------------------------------------


def test_generate_structured_content_and_its_failure_value():
    tp, _ = tp_of('{"a": 5}')
    assert tp.generate_structured_content("Create a", SCHEMA) == {"a": 5}
    tp, _ = tp_of("never JSON")
    assert tp.generate_structured_content("Create a", SCHEMA, max_retries=0) is None  # lollms_client's tp: None
    assert failing_tp().generate_structured_content("x", SCHEMA) is None
    tp, _ = tp_of("never JSON", strict=True)
    with pytest.raises(StructuredContentError):
        tp.generate_structured_content("Create a", SCHEMA, max_retries=0)


class Person(BaseModel):
    name: str
    age: int


def test_generate_structured_content_pydantic():
    tp, _ = tp_of('{"name": "Alice", "age": 30}')
    assert tp.generate_structured_content_pydantic(prompt="Alice, 30", pydantic_model=Person) == Person(
        name="Alice", age=30
    )
    with pytest.raises(TypeError, match="pydantic model class"):
        tp.generate_structured_content_pydantic("x", SCHEMA)


def test_client_and_tp_are_one_implementation():
    """Same answers in, same requests out, same value: the client's method is the tp's function."""
    client = LollmsClient(llm_binding_name="echo")
    client.llm = via_client = ScriptedLLM(["no", '{"a": 1}'])
    tp, via_tp = tp_of("no", '{"a": 1}')
    assert client.generate_structured_content("a?", SCHEMA) == tp.generate_structured_content("a?", SCHEMA) == {"a": 1}
    assert [r.messages for r in via_client.requests] == [r.messages for r in via_tp.requests]


# -- questions ---------------------------------------------------------------------------------------


def test_yes_no_multichoice_and_ranking():
    tp, _ = tp_of('{"answer": true, "explanation": "she was"}')
    assert tp.yes_no(question="Is Marie Curie a scientist?", context="Marie Curie was a physicist...",
                     return_explanation=True) == {"answer": True, "explanation": "she was"}  # fmt: skip
    tp, _ = tp_of('{"index": 1}')
    assert tp.multichoice_question(question="Field?", possible_answers=["Biology", "Physics"]) == 1
    tp, _ = tp_of('{"ranking": [1, 0]}')
    assert tp.multichoice_ranking("Best?", ["a", "b"]) == [1, 0]
    broken = failing_tp()
    assert broken.yes_no("?") is False
    assert broken.multichoice_question("?", ["a"]) == -1
    failed = {"ranking": [], "explanation": "Failed"}
    assert broken.multichoice_ranking("?", ["a", "b"], return_explanation=True) == failed


# -- long texts -----------------------------------------------------------------------------------


def test_summerize_keywords_and_tags():
    tp, _ = tp_of("  Short summary.  ")
    assert tp.summerize_text(text="Long article...") == "Short summary."
    tp, _ = tp_of('{"keywords": ["radium", "polonium"]}')
    assert tp.extract_keywords(text="Long article...", num_keywords=2) == ["radium", "polonium"]
    assert failing_tp().extract_keywords("x") == []
    tp, llm = tp_of("Sure: <report>all good</report>")
    assert tp.generate_with_tag("Report", "report") == "all good"
    assert "<report>" in llm.requests[0].messages[0]["content"]
    tp, _ = tp_of('<tag name="main.py">print(1)</tag>\n<tag name="README.md">hi</tag>')
    assert tp.generate_with_tags("Two files") == {"main.py": "print(1)", "README.md": "hi"}
    assert failing_tp().generate_with_tags("x") == {}
    assert failing_tp().summerize_text("x")["error_type"] == "ServerError"


def test_long_context_processing_on_the_tp():
    client = LollmsClient(llm_binding_name="echo", ctx_size=64)
    assert "tiny text" in client.llm.tp.long_context_processing("tiny text", "summarise")


class CountingLLM(ScriptedLLM):
    """A scripted model that counts words as tokens and knows its window."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def counting(*answers: str) -> tuple[LollmsTextProcessor, CountingLLM]:
    llm = CountingLLM(list(answers))
    llm.default_options = GenerationOptions(ctx_size=4096)
    return llm.tp, llm


def test_long_context_processing_routes_by_type_like_lollms_client():
    """lollms_client's processing types: the task is done by the matching helper on the (condensed) text."""
    tp, llm = counting('{"answer": true, "explanation": "named"}')
    out = tp.long_context_processing("Marie Curie was a physicist.", "Is Curie named?", processing_type="yes_no",
                                     return_explanation=True)  # fmt: skip
    assert out == {"answer": True, "explanation": "named"}
    assert "Marie Curie was a physicist." in llm.requests[0].messages[-1]["content"]  # the text is the context
    tp, _ = counting('{"a": 2}')
    assert tp.long_context_processing("a is two", "Give a", processing_type="structured", schema=SCHEMA) == {"a": 2}
    tp, _ = counting('{"index": 1}')
    assert tp.long_context_processing("blue", "Colour?", processing_type="multichoice",
                                      possible_answers=["red", "blue"]) == 1  # fmt: skip
    tp, _ = counting("```python\nx = 1\n```")
    assert tp.long_context_processing("x is one", "Code it", processing_type="code", language="python") == "x = 1"
    from lollms_core import ConfigError

    with pytest.raises(ConfigError, match="schema="):
        tp.long_context_processing("x", "y", processing_type="structured")


# -- parsing ------------------------------------------------------------------------------------------


def test_parsing_helpers_take_lollms_clients_keywords():
    tp = LollmsClient(llm_binding_name="echo").llm.tp
    blocks = tp.extract_code_blocks(text="```python\nx = 1\n```", format="markdown")
    assert (blocks[0]["type"], blocks[0]["content"]) == ("python", "x = 1")
    answer = "<think>plan it</think>The answer."
    assert tp.extract_thinking_blocks(answer) == ["plan it"]
    assert tp.remove_thinking_blocks(answer) == "The answer."
