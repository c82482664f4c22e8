"""The whole chain: SmolLM2 in llama.cpp calls an MCP tool through the tool loop and answers with its result.

The model is told to call (``tool_choice="required"``) in the prompt protocol (SmolLM2's chat
template has no native tools); the call goes to a real stdio MCP server through lollms-mcp,
named ``mcp::calc::secret_word`` (mapped to a valid wire name), and the word the server was
started with comes back to the model, which answers with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import stdio_entry
from lollms_core import LollmsLLMBindingManager
from lollms_core.tools import run_tool_loop
from lollms_core.tools._binding_tools import ToolBindings

WORD = "Zanzibar"

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def smollm2() -> Iterator[Any]:
    gguf = os.environ.get("LOLLMS_TEST_LLAMACPP_MODEL")
    if not gguf:
        pytest.skip("LOLLMS_TEST_LLAMACPP_MODEL (the SmolLM2 GGUF) is not set")
    pytest.importorskip("lollms_llamacpp", reason="lollms-llamacpp is not installed")
    llm = LollmsLLMBindingManager().create_binding("llamacpp", model_path=gguf, ctx_size=2048, n_threads=1)
    if not llm.supports_json_schema():
        llm.close()
        # SmolLM2's template has no tools: the prompt protocol needs constrained decoding to make it call.
        pytest.skip("this lollms-llamacpp has no json_schema (constrained decoding) support yet")
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def mcp_tools() -> Iterator[ToolBindings]:
    made = ToolBindings.create("mcp", {"servers": [stdio_entry(env={"LOLLMS_TEST_WORD": WORD})]})
    yield made
    made.close()


def test_smollm2_calls_an_mcp_tool_and_answers_with_its_result(smollm2: Any, mcp_tools: ToolBindings) -> None:
    run = run_tool_loop(
        smollm2,
        "What is the secret word? Call the tool to get it, then answer with the word.",
        ["calc::secret_word"],
        resolve=mcp_tools.resolve,
        tool_choice="required",
        tool_mode="prompt",
        max_tool_rounds=2,
        temperature=0.0,
        n_predict=64,
    )
    assert [c.name for c in run.tool_calls][:1] == ["mcp::calc::secret_word"]
    first = run.tool_results[0]
    assert (first.is_error, first.content) == (False, WORD)
    assert WORD.lower() in run.response.lower(), run.response


def test_the_same_through_lollms_client_generate_with_tools() -> None:
    # Issue 22's "through generate_with_tools": the client names the tools binding, the tool is
    # offered by its name, the client resolves it through the binding.
    gguf = os.environ.get("LOLLMS_TEST_LLAMACPP_MODEL")
    if not gguf:
        pytest.skip("LOLLMS_TEST_LLAMACPP_MODEL (the SmolLM2 GGUF) is not set")
    pytest.importorskip("lollms_llamacpp", reason="lollms-llamacpp is not installed")
    from lollms_core import LollmsClient

    with LollmsClient(
        llm_binding_name="llamacpp",
        llm_binding_config={"model_path": gguf, "ctx_size": 2048, "n_threads": 1},
        tools_binding_name="mcp",
        tools_binding_config={"servers": [stdio_entry(env={"LOLLMS_TEST_WORD": WORD})]},
    ) as client:
        out = client.generate_with_tools(
            "What is the secret word? Call the tool to get it, then answer with the word.",
            ["calc::secret_word"],
            tool_choice="required",
            tool_mode="prompt",
            max_tool_rounds=2,
            temperature=0.0,
            n_predict=64,
        )
    assert [c["name"] for c in out["tool_calls"]][:1] == ["mcp::calc::secret_word"]
    assert WORD in str(out["tool_results"][0]["result"])
    assert WORD.lower() in out["response"].lower(), out["response"]
