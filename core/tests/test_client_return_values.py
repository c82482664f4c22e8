"""Issue 26: where lollms_client returns a value, the client does too; ``strict=True`` raises instead.

Every place of docs/migrating-from-lollms-client.md's "Return values" table, in both modes.
A failing backend is the echo binding's ``fail_with="server"`` (a real ``ServerError`` from
the binding's own stream); an unclear answer is a scripted model's text.
"""

from __future__ import annotations

from typing import Any

import pytest
from lollms_core import LollmsClient, NotSupportedError, ServerError, StructuredContentError
from lollms_core.testing.echo import EchoLLMBinding
from pydantic import BaseModel
from test_client_text import scripted

NOT_AVAILABLE = {"status": False, "error": "Functionality not available for the current binding"}
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def failing(strict: bool = False) -> LollmsClient:
    return LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=strict)


@pytest.fixture
def echo():
    client = LollmsClient(llm_binding_name="echo")
    yield client
    client.close()


# -- lollms-server-only calls ------------------------------------------------------------------


def test_list_mounted_personalities_is_lollms_clients_dict_off_a_lollms_server(echo):
    assert echo.listMountedPersonalities() == NOT_AVAILABLE
    echo.listMountedPersonalities()["status"] = True  # the caller's copy: the next answer is unchanged
    assert echo.listMountedPersonalities() == NOT_AVAILABLE


def test_list_mounted_personalities_strict_raises_the_typed_error():
    with pytest.raises(NotSupportedError, match="lollms server"):
        LollmsClient(llm_binding_name="echo", strict=True).listMountedPersonalities()


def test_list_mounted_personalities_asks_a_binding_that_has_them(echo):
    class ServerLike(EchoLLMBinding):
        def lollms_listMountedPersonalities(self) -> list[dict[str, Any]]:
            return [{"name": "coder"}]

    echo.llm = ServerLike()
    assert echo.listMountedPersonalities() == [{"name": "coder"}]


# -- closed questions --------------------------------------------------------------------------


def test_yes_no_on_a_backend_error_is_false():
    client = failing()
    assert client.yes_no("Is water wet?") is False
    assert client.yes_no("Is water wet?", return_explanation=True) == {"answer": False, "explanation": "Failed"}
    assert client.yes_no("Is water wet?", "", "", True) == {"answer": False, "explanation": "Failed"}  # positional


def test_yes_no_on_an_unclear_answer_is_false():
    client, _ = scripted("I cannot tell.")
    assert client.yes_no("?") is False
    assert client.yes_no("?", return_explanation=True) == {"answer": False, "explanation": "Failed"}


def test_yes_no_strict_raises():
    with pytest.raises(ServerError):
        failing(strict=True).yes_no("?")
    client, _ = scripted("I cannot tell.", strict=True)
    with pytest.raises(StructuredContentError):
        client.yes_no("?")


def test_yes_no_takes_lollms_clients_positional_order():
    client, llm = scripted('{"answer": true, "explanation": "it is"}')
    assert client.yes_no("Wet?", "Water is a liquid.", "Be brief.", True) == {"answer": True, "explanation": "it is"}
    system, user = llm.requests[0].messages
    assert system["content"].startswith("Be brief.")
    assert "Water is a liquid." in user["content"]


def test_multichoice_question_on_failure_is_minus_one():
    assert failing().multichoice_question("A colour?", ["dog", "blue"]) == -1
    assert failing().multichoice_question("A colour?", ["dog", "blue"], return_explanation=True) == {
        "index": -1,
        "explanation": "Failed",
    }
    client, _ = scripted("none of them")
    assert client.multichoice_question("A colour?", ["dog", "cat"]) == -1


def test_multichoice_question_strict_raises():
    with pytest.raises(ServerError):
        failing(strict=True).multichoice_question("A colour?", ["dog", "blue"])
    client, _ = scripted("none of them", strict=True)
    with pytest.raises(StructuredContentError):
        client.multichoice_question("A colour?", ["dog", "cat"])


def test_multichoice_ranking_on_failure_is_empty():
    assert failing().multichoice_ranking("Best?", ["a", "b"]) == []
    assert failing().multichoice_ranking("Best?", ["a", "b"], return_explanation=True) == {
        "ranking": [],
        "explanation": "Failed",
    }


def test_multichoice_ranking_strict_raises():
    with pytest.raises(ServerError):
        failing(strict=True).multichoice_ranking("Best?", ["a", "b"])
    client, _ = scripted('{"ranking": [0, 0]}', strict=True)
    with pytest.raises(StructuredContentError, match="permutation"):
        client.multichoice_ranking("Best?", ["a", "b"])


# -- structured content ------------------------------------------------------------------------


def test_structured_content_accepts_a_json_string_schema(echo):
    schema_text = '{"type": "object", "properties": {"a": {"type": "integer"}}}'
    assert echo.generate_structured_content('{"a": 3}', schema_text) == {"a": 3}


def test_structured_content_reads_lollms_clients_bare_property_schema():
    client, llm = scripted('{"a": "x"}', '{"a": 2}')
    assert client.generate_structured_content("give a", {"a": {"type": "integer"}}) == {"a": 2}
    assert "$.a: expected integer" in llm.requests[1].messages[-1]["content"]


def test_structured_content_failure_is_an_empty_dict_so_if_data_is_false():
    client, _ = scripted("no JSON at all")
    data = client.generate_structured_content("x", SCHEMA, max_retries=1)
    assert data == {} and not data
    data["a"] = 1  # the caller's own dict: the next failure is still {}
    assert client.generate_structured_content("x", SCHEMA, max_retries=0) == {}
    backend = failing().generate_structured_content("x", SCHEMA)
    assert backend == {} and not backend


def test_structured_content_strict_raises():
    with pytest.raises(ServerError):
        failing(strict=True).generate_structured_content("x", SCHEMA)
    client, _ = scripted("no JSON at all", strict=True)
    with pytest.raises(StructuredContentError):
        client.generate_structured_content("x", SCHEMA, max_retries=0)


def test_structured_content_takes_lollms_clients_positional_order():
    client, llm = scripted('{"a": 1}')
    image = "iVBORw0KGgo="  # a base64 string, as lollms_client passes images
    assert client.generate_structured_content("give a", SCHEMA, [image], "You count.") == {"a": 1}
    system, user = llm.requests[0].messages
    assert system["content"].startswith("You count.")
    assert user["images"] == [image]


def test_structured_content_names_the_old_order_when_a_string_is_given_as_images(echo):
    with pytest.raises(TypeError, match="images before system_prompt"):
        echo.generate_structured_content("x", SCHEMA, "You count.")


class Person(BaseModel):
    name: str
    age: int


def test_pydantic_structured_content_failure_is_none_unless_strict():
    client, _ = scripted("no json")
    assert client.generate_structured_content_pydantic("x", Person, max_retries=0) is None
    client, _ = scripted("no json", strict=True)
    with pytest.raises(StructuredContentError):
        client.generate_structured_content_pydantic("x", Person, max_retries=0)


# -- code ----------------------------------------------------------------------------------------


def test_generate_code_on_a_backend_error_is_none():
    assert failing().generate_code("x") is None
    with pytest.raises(ServerError):
        failing(strict=True).generate_code("x")


def test_generate_codes_on_a_backend_error_is_empty():
    assert failing().generate_codes("x") == []
    with pytest.raises(ServerError):
        failing(strict=True).generate_codes("x")


# -- context size ------------------------------------------------------------------------------


def test_get_ctx_size_unknown_is_lollms_clients_guess_unless_strict(echo):
    class NoContext(EchoLLMBinding):
        def get_model_info(self) -> dict[str, Any]:
            return {"model_name": self.model_name}

    echo.llm = NoContext()
    assert echo.get_ctx_size() == 32000
    strict = LollmsClient(llm_binding_name="echo", strict=True)
    strict.llm = NoContext(strict=True)
    with pytest.raises(NotSupportedError, match="ctx_size"):
        strict.get_ctx_size()


def test_get_ctx_size_of_another_model_is_the_guess_unless_strict():
    client = LollmsClient(llm_binding_name="echo", ctx_size=1234)
    assert client.get_ctx_size() == 1234
    assert client.get_ctx_size("some-other-model") == 32000
    with pytest.raises(NotSupportedError, match="active model"):
        LollmsClient(llm_binding_name="echo", ctx_size=1234, strict=True).get_ctx_size("some-other-model")


# -- switching the binding -----------------------------------------------------------------------


def test_update_llm_binding_that_cannot_be_built_is_false_and_keeps_the_old_one(echo):
    old = echo.llm
    assert echo.update_llm_binding("no-such-binding") is False
    assert echo.llm is old
    from lollms_core import BindingNotFoundError

    strict = LollmsClient(llm_binding_name="echo", strict=True)
    with pytest.raises(BindingNotFoundError, match="echo"):
        strict.update_llm_binding("no-such-binding")


# -- what stays an exception in both modes -----------------------------------------------------------


def test_a_programmer_error_raises_in_both_modes(echo):
    with pytest.raises(TypeError, match="schema"):
        echo.generate_structured_content("x", 42)
    from lollms_core import ModalityNotConfiguredError

    no_llm = LollmsClient(tts_binding_name="echo")
    with pytest.raises(ModalityNotConfiguredError):
        no_llm.yes_no("?")
