"""Pure text helpers: code fences (complete, cut, nested, named), thinking blocks, JSON schema checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lollms_core._json_schema import schema_errors
from lollms_core.text import extract_code_blocks, extract_thinking_blocks, remove_thinking_blocks


def test_blocks_in_order_with_language_content_and_offsets():
    text = "Intro\n```python\nprint(1)\n```\nthen\n```js\nlet a = 2;\n```\n"
    blocks = extract_code_blocks(text)
    assert [b["index"] for b in blocks] == [0, 1]
    assert [(b["type"], b["content"], b["is_complete"]) for b in blocks] == [
        ("python", "print(1)", True),
        ("js", "let a = 2;", True),
    ]
    assert text[blocks[0]["start"] : blocks[0]["end"]] == "```python\nprint(1)\n```\n"


def test_unterminated_fence_at_the_end_is_incomplete_and_keeps_everything():
    blocks = extract_code_blocks("Here:\n```python\ndef f():\n    return")
    assert len(blocks) == 1
    assert blocks[0]["is_complete"] is False
    assert blocks[0]["content"] == "def f():\n    return"


def test_fence_without_language_gets_the_lollms_client_placeholder():
    assert extract_code_blocks("```\nx\n```")[0]["type"] == "language-specific"


def test_longer_outer_fence_keeps_inner_fences_as_content():
    text = "````markdown\n```python\ninner\n```\n````"
    blocks = extract_code_blocks(text)
    assert len(blocks) == 1
    assert blocks[0]["content"] == "```python\ninner\n```"


def test_tilde_fence_is_not_closed_by_backticks():
    blocks = extract_code_blocks("~~~sh\nls\n```\n~~~")
    assert blocks[0]["content"] == "ls\n```"
    assert blocks[0]["is_complete"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("main.py\n```python\nx\n```", "main.py"),
        ("File: src/app.js\n```js\nx\n```", "src/app.js"),
        ("**utils/io.py**\n```python\nx\n```", "utils/io.py"),
        ("```python:tool.py\nx\n```", "tool.py"),
        ('```python title="a_b.py"\nx\n```', "a_b.py"),
        ("Some prose here.\n```python\nx\n```", ""),
    ],
)
def test_file_names_from_info_string_or_the_line_before(text, name):
    assert extract_code_blocks(text)[0]["file_name"] == name


def test_no_fences_no_blocks_and_inline_backticks_are_not_fences():
    assert extract_code_blocks("use `x` and ``y`` inline, and a sentence ending ```python here") == []


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="`~\r"), max_size=40), max_size=5))
def test_round_trip_of_generated_blocks(contents):
    text = "".join(f"block {i}:\n```txt\n{c}\n```\n" for i, c in enumerate(contents))
    blocks = extract_code_blocks(text)
    assert [b["content"] for b in blocks] == contents
    assert all(b["is_complete"] for b in blocks)


def test_thinking_blocks_extracted_and_removed():
    text = "<think>first idea</think>Answer<think>\nsecond\n</think> done"
    assert extract_thinking_blocks(text) == ["first idea", "second"]
    assert remove_thinking_blocks(text) == "Answer done"


def test_unclosed_thinking_runs_to_the_end():
    assert extract_thinking_blocks("ok <think>still thinking") == ["still thinking"]
    assert remove_thinking_blocks("ok <think>still thinking") == "ok"


def test_schema_errors_name_the_path_and_the_problem():
    schema = {
        "type": "object",
        "required": ["name", "tags"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "age": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
        },
    }
    assert schema_errors({"name": "Al", "age": 3, "tags": ["a"]}, schema) == []
    errors = schema_errors({"name": "A", "age": True, "tags": ["c"], "x": 1}, schema)
    assert any(e.startswith("$.name:") for e in errors)
    assert any(e.startswith("$.age: expected integer") for e in errors)
    assert any(e.startswith("$.tags[0]:") for e in errors)
    assert any("unexpected property 'x'" in e for e in errors)
    assert schema_errors({"name": "Al"}, schema) == ["$: missing required property 'tags'"]
