"""lollms_client's README scripts for the client helpers and ``lc.llm.tp``, ported to real llama.cpp (issue 26).

Source: lollms_client 1.21.1's README ("Advanced Structured Content Generation" and
"Lollms Text Processor"), seed 004's user guide, and ``examples/simple/simple_generate_structured.py``.
lollms_client ships no tests for these helpers, so its documented scripts are the reference.
Each test is one script, changed only in its import and backend (``PORT:`` marks any
other change), and asserts what lollms_client promises: the script runs to its end and
every value has lollms_client's shape. A 135M model often gives no valid JSON: then the
scripts' own ``if data:`` / ``else`` branches run, which is the point of returning values.

Runs when ``LOLLMS_TEST_LLAMACPP_MODEL`` points at a .gguf (the noxfile sets it to SmolLM2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import registry_of
from lollms_core import LollmsClient
from lollms_core.text_processing import LollmsTextProcessor
from pydantic import BaseModel

_MODEL = os.environ.get("LOLLMS_TEST_LLAMACPP_MODEL", "")
_REGISTRY = registry_of("lollms-llamacpp")
pytestmark = pytest.mark.skipif(
    not _MODEL, reason="set LOLLMS_TEST_LLAMACPP_MODEL=/path/to/model.gguf (and install lollms-llamacpp) to run"
)


def test_the_port_runs_when_a_model_is_given():
    """A model was named (CI names SmolLM2): the port must run on it, never turn into skips."""
    assert Path(_MODEL).is_file(), f"LOLLMS_TEST_LLAMACPP_MODEL={_MODEL!r} is not a file"
    assert "llamacpp" in _REGISTRY.available("llm"), f"lollms-llamacpp is not usable here: {_REGISTRY.entries}"


@pytest.fixture(scope="module")
def lc() -> Iterator[LollmsClient]:
    # PORT: llama.cpp with SmolLM2 instead of the README's ollama/lollms server; small n_predict for CI time.
    client = LollmsClient(
        llm_binding_name="llamacpp",
        llm_binding_config={"model_path": _MODEL, "ctx_size": 2048, "n_threads": 1},
        n_predict=48,
        temperature=0.0,
        seed=1,
        registry=_REGISTRY,
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def tp(lc: LollmsClient) -> LollmsTextProcessor:
    # README: "It is directly accessible via: lc.llm.tp"
    assert lc.llm is not None
    return lc.llm.tp


def test_readme_structured_content_with_a_template_schema(lc, capsys):
    text_block = "John Doe is a 34-year-old software engineer from New York. He loves hiking and Python programming."
    output_template = {
        "full_name": "string",
        "age": "integer",
        "profession": "string",
        "city": "string",
        "hobbies": ["list", "of", "strings"],
    }
    extracted_data = lc.generate_structured_content(
        prompt=f"Extract the relevant information from the following text:\n\n{text_block}",
        schema=output_template,
        temperature=0.0,
    )
    if extracted_data:
        print(json.dumps(extracted_data, indent=2))
    else:
        print("Failed to extract structured data.")
    assert isinstance(extracted_data, dict)  # lollms_client's client: always a dict
    assert capsys.readouterr().out


def test_example_simple_generate_structured_with_an_empty_schema(lc):
    # examples/simple/simple_generate_structured.py: keyword arguments, an empty schema.
    document = "some text about animals"
    structured = lc.generate_structured_content(
        system_prompt="you are a set of triplets to populate a knowledge graph, using the following schema and "
        "this document pacage:\n" + document,
        prompt="create a small animals graph as triplets",
        schema={},
    )
    print(structured)
    assert isinstance(structured, (dict, list))


def test_readme_tp_long_context_processing(lc):
    # PORT: a 512-token window (set on the binding) so a short document already needs the chunked path.
    assert lc.llm is not None
    small = LollmsClient(
        llm_binding_name="llamacpp", llm_binding_config={"model_path": _MODEL, "ctx_size": 512, "n_threads": 1},
        n_predict=32, temperature=0.0, seed=1, registry=_REGISTRY,
    )  # fmt: skip
    tp = small.llm.tp
    long_document = " ".join(f"In {1990 + i}, climate change raised sea levels by {i} mm." for i in range(30))
    assert small.count_tokens(long_document) > 0.7 * 512  # does not fit: map-reduce
    summary = tp.long_context_processing(
        text_to_process=long_document,
        contextual_prompt="Summarize the main findings about climate change",
        processing_type="text",
    )
    small.close()
    assert isinstance(summary, str) and summary.strip()


def test_readme_tp_long_context_processing_structured_and_yes_no(tp):
    long_document = "Marie Curie was a physicist and chemist. Pierre Curie was her husband and colleague."
    result = tp.long_context_processing(
        text_to_process=long_document,
        contextual_prompt="Extract all people mentioned with their roles",
        processing_type="structured",
        schema={
            "type": "object",
            "properties": {
                "people": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "role": {"type": "string"}}},
                }
            },
        },
    )
    assert result is None or isinstance(result, dict)  # the text processor's value on failure: None
    answer = tp.long_context_processing(
        text_to_process=long_document,
        contextual_prompt="Does this document mention Marie Curie?",
        processing_type="yes_no",
        return_explanation=True,
    )
    assert isinstance(answer, dict) and isinstance(answer["answer"], bool)


def test_readme_tp_generate_code(tp):
    code = tp.generate_code(prompt="Create a binary search function", language="python")
    assert code is None or (isinstance(code, str) and code.strip())


def test_readme_tp_generate_codes(tp):
    files = tp.generate_codes(prompt="Create a Flask web app with an HTML frontend")
    assert isinstance(files, list)
    for f in files:
        assert {"file_name", "content", "language", "is_complete"} <= f.keys() and f["file_name"]


def test_readme_tp_structured_content_and_pydantic(tp):
    data = tp.generate_structured_content(
        prompt="Create a presentation about AI",
        schema={"type": "object", "properties": {"slides": {"type": "array", "items": {"type": "object"}}}},
    )
    assert data is None or isinstance(data, dict)

    class Person(BaseModel):
        name: str
        age: int

    person = tp.generate_structured_content_pydantic(
        prompt="Create a person named Alice, age 30", pydantic_model=Person
    )
    assert person is None or isinstance(person, Person)


def test_readme_tp_helpers(tp):
    answer = tp.yes_no(
        question="Is Marie Curie a scientist?", context="Marie Curie was a physicist...", return_explanation=True
    )
    assert isinstance(answer, dict) and isinstance(answer["answer"], bool) and isinstance(answer["explanation"], str)
    choice = tp.multichoice_question(
        question="What field did Marie Curie work in?", possible_answers=["Biology", "Physics", "Chemistry"]
    )
    assert choice in (-1, 0, 1, 2)
    summary = tp.summerize_text(text="Long article... " * 20)
    assert isinstance(summary, str)
    keywords = tp.extract_keywords(text="Marie Curie discovered radium and polonium.", num_keywords=5)
    assert isinstance(keywords, list) and all(isinstance(k, str) for k in keywords)


def test_readme_tp_parsing(tp, lc):
    llm_response = lc.generate_text(
        "Write a Python hello world in a Markdown code block.", system_prompt="<think>plan</think> is not needed."
    )
    assert isinstance(llm_response, str)
    thoughts = tp.extract_thinking_blocks(llm_response + "<think>a thought</think>")
    assert thoughts[-1] == "a thought"
    clean_text = tp.remove_thinking_blocks("<think>a thought</think>" + llm_response)
    assert "a thought" not in clean_text
    blocks = tp.extract_code_blocks(text=llm_response, format="markdown")
    assert isinstance(blocks, list)


def test_seed_004_list_mounted_personalities_prints_lollms_clients_answer(lc, capsys):
    personalities = lc.listMountedPersonalities()
    print(personalities)
    assert personalities == {"status": False, "error": "Functionality not available for the current binding"}
    assert "not available" in capsys.readouterr().out
