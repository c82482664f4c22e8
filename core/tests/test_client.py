"""LollmsClient on the real echo bindings: construction, typed failures, delegation, modalities."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from conftest import registry_of
from lollms_core import (
    ELF_GENERATION_FORMAT,
    MSG_TYPE,
    BindingNotFoundError,
    CallbackError,
    ConfigError,
    GenerationCancelled,
    LollmsClient,
    LollmsDiscussion,
    ModalityNotConfiguredError,
    ServerError,
    get_registry,
)

ALL_ECHO = {f"{m}_binding_name": "echo" for m in ("llm", "tti", "stt", "tts", "ttv", "ttm")}


# -- construction ---------------------------------------------------------------------------


def test_one_binding_per_requested_modality_and_none_for_the_others():
    client = LollmsClient(llm_binding_name="echo", tts_binding_name="echo")
    assert client.llm is not None
    assert client.llm.binding_name == "echo"
    assert client.tts is not None
    assert client.tts.modality.value == "tts"
    assert (client.tti, client.stt, client.ttv, client.ttm) == (None, None, None, None)
    assert set(client.bindings) == {"llm", "tts"}


def test_all_six_modalities():
    client = LollmsClient(**ALL_ECHO)
    assert {m: b.modality.value for m, b in client.bindings.items()} == {m: m for m in client.bindings}
    assert len(client.bindings) == 6


def test_unknown_binding_lists_the_installed_ones():
    with pytest.raises(BindingNotFoundError) as info:
        LollmsClient(llm_binding_name="no_such_engine")
    message = str(info.value)
    assert "no_such_engine" in message
    for name in get_registry().available("llm"):
        assert name in message


def test_bad_config_value_names_the_parameter():
    with pytest.raises(ConfigError, match="'delay' expects float"):
        LollmsClient(llm_binding_name="echo", llm_binding_config={"delay": "soon"})


def test_unknown_config_key_suggests_the_close_one():
    with pytest.raises(ConfigError, match="did you mean 'delay'"):
        LollmsClient(llm_binding_name="echo", llm_binding_config={"dealy": 0.1})


def test_bad_sampling_default_fails_at_construction():
    with pytest.raises(ConfigError, match="temperature"):
        LollmsClient(llm_binding_name="echo", temperature="hot")
    with pytest.raises(ConfigError, match="top_p"):
        LollmsClient(llm_binding_name="echo", top_p=3.0)


def test_config_without_a_binding_name_is_refused():
    with pytest.raises(ConfigError, match="tts_binding_name"):
        LollmsClient(llm_binding_name="echo", tts_binding_config={"fail_with": ""})


def test_generation_format_of_an_unpublished_binding_names_no_pip_line(monkeypatch):
    # No pip line for a package we do not publish (issue 10.9: typo-squatting): here, as if
    # lollms-transformers were not ours.
    from lollms_core.registry import KNOWN_BINDINGS

    monkeypatch.delitem(KNOWN_BINDINGS, "transformers")  # the one table, wherever it is imported from
    with pytest.raises(BindingNotFoundError, match=r"'transformers' llm binding.*Pass llm_binding_name=") as caught:
        LollmsClient(default_generation_mode=ELF_GENERATION_FORMAT.TRANSFORMERS)
    assert "pip install" not in str(caught.value)


def test_generation_format_transformers_names_its_distribution():
    # Issue 25: the TRANSFORMERS format's binding is published as lollms-transformers.
    with pytest.raises(BindingNotFoundError, match=r"pip install lollms-transformers"):
        LollmsClient(default_generation_mode=ELF_GENERATION_FORMAT.TRANSFORMERS)


def test_generation_format_of_a_published_binding_names_its_pip_line(monkeypatch):
    with pytest.raises(BindingNotFoundError, match=r"pip install lollms-ollama"):
        LollmsClient(default_generation_mode=ELF_GENERATION_FORMAT.OLLAMA)


def test_unknown_generation_mode_string():
    with pytest.raises(ConfigError, match="OLLAMA"):
        LollmsClient(default_generation_mode="gpt")


# These two need a real plugin: they name it (a private registry) instead of depending on
# what the default registry happens to hold (the core suite loads no plugins).
_WITH_OLLAMA = registry_of("lollms-ollama")
_WITH_OPENAI = registry_of("lollms-openai")


@pytest.mark.parametrize(
    ("module", "registry", "name"),
    [("lollms_ollama", _WITH_OLLAMA, "ollama"), ("lollms_openai", _WITH_OPENAI, "openai")],
)
def test_the_plugin_tests_below_run_wherever_the_plugin_is_installed(module, registry, name):
    """They skip only when the plugin is really absent, never because of which registry they look in."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    assert name in registry.available("llm")


@pytest.mark.skipif("ollama" not in _WITH_OLLAMA.available("llm"), reason="lollms-ollama is not installed")
def test_ollama_mode_maps_host_and_model_into_the_ollama_binding():
    client = LollmsClient(
        host_address="http://127.0.0.1:1",
        model_name="qwen3:0.6b",
        default_generation_mode="OLLAMA",
        n_predict=7,
        registry=_WITH_OLLAMA,
    )
    assert client.llm.binding_name == "ollama"
    assert client.llm.config["host_address"] == "http://127.0.0.1:1"
    assert client.llm.model_name == "qwen3:0.6b"
    assert client.llm.default_options.n_predict == 7


@pytest.mark.skipif("openai" not in _WITH_OPENAI.available("llm"), reason="lollms-openai is not installed")
@pytest.mark.parametrize(
    ("mode", "host"),
    [
        (ELF_GENERATION_FORMAT.VLLM, "http://localhost:8000/v1"),
        (ELF_GENERATION_FORMAT.LITELLM, "http://localhost:4000/v1"),
    ],
)
def test_openai_compatible_modes_use_the_openai_binding(mode, host):
    client = LollmsClient(default_generation_mode=mode, model_name="m", registry=_WITH_OPENAI)
    assert client.llm.binding_name == "openai"
    assert client.llm.config["host_address"].rstrip("/") == host


def test_model_name_flows_into_the_config_and_host_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="host_address is ignored"):
        client = LollmsClient(llm_binding_name="echo", host_address="http://x", model_name="tiny")
    assert client.llm.config["model_name"] == "tiny"
    assert client.llm.model_name == "tiny"
    assert client.get_model_info()["model_name"] == "tiny"


def test_explicit_binding_config_wins_over_seed_arguments():
    client = LollmsClient(llm_binding_name="echo", llm_binding_config={"model_name": "a"}, model_name="a")
    assert client.llm.model_name == "a"


def test_secret_config_is_masked_in_the_repr(monkeypatch):
    client = LollmsClient(llm_binding_name="echo", llm_binding_config={"service_key": "sk-very-secret"})
    assert client.llm.config["service_key"] == "sk-very-secret"
    assert "sk-very-secret" not in repr(client.llm.config)
    assert "sk-very-secret" not in repr(client)


# -- sampling defaults ---------------------------------------------------------------------


def test_sampling_defaults_apply_to_every_call_and_are_overridable():
    client = LollmsClient(llm_binding_name="echo", n_predict=3)
    prompt = "one two three four five six"
    assert client.generate(prompt) == "one two three"
    assert client.generate_text(prompt, n_predict=5) == "one two three four five"
    assert client.generate(prompt) == "one two three"  # the override did not stick


# -- delegation ----------------------------------------------------------------------------


@pytest.fixture
def client():
    return LollmsClient(llm_binding_name="echo")


def test_generate_text_with_system_prompt_and_images(client):
    assert client.generate_text("describe", system_prompt="be brief") == "describe"
    assert client.generate_with_images("describe", [b"\x89PNG\r\n\x1a\n...."]) == "[1 image(s)] describe"


def test_generate_from_messages_and_chat_with_a_discussion(client):
    assert client.generate_from_messages([{"role": "user", "content": "from messages"}]) == "from messages"
    discussion = LollmsDiscussion.create_new(lollms_client=client)
    discussion.add_message(sender="user", content="hello discussion")
    assert client.chat(discussion) == "hello discussion"


def test_streaming_callback_receives_chunks_in_order(client):
    seen: list[tuple[str, MSG_TYPE]] = []
    out = client.generate("a b c", streaming_callback=lambda chunk, kind: seen.append((chunk, kind)) or True)
    assert out == "a b c"
    assert [c for c, _ in seen] == ["a", " b", " c"]
    assert {k for _, k in seen} == {MSG_TYPE.MSG_TYPE_CHUNK}


def test_callback_returning_false_stops_and_closes_upstream(client):
    got: list[str] = []

    def two_then_stop(chunk, msg_type, meta=None):
        got.append(chunk)
        return len(got) < 2

    assert client.generate("one two three four", streaming_callback=two_then_stop) == "one two"
    assert client.llm.streams_opened == client.llm.streams_closed == 1


def test_callback_that_raises_surfaces_as_callback_error_and_closes_upstream(client):
    def broken(chunk, msg_type):
        raise RuntimeError("boom")

    started = time.monotonic()
    with pytest.raises(CallbackError, match="RuntimeError: boom"):
        client.generate("one two three", streaming_callback=broken)
    assert time.monotonic() - started < 5
    assert client.llm.streams_opened == client.llm.streams_closed == 1


def test_backend_error_is_an_error_dict_unless_strict():
    lenient = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"})
    out = lenient.generate("hi")
    assert isinstance(out, dict)
    assert out["status"] is False
    assert out["error_type"] == "ServerError"
    strict = LollmsClient(llm_binding_name="echo", llm_binding_config={"fail_with": "server"}, strict=True)
    with pytest.raises(ServerError):
        strict.generate("hi")


def test_cancel_from_another_thread_stops_the_generation():
    client = LollmsClient(llm_binding_name="echo", llm_binding_config={"delay": 0.05})
    timer = threading.Timer(0.2, client.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled) as info:
        client.generate(" ".join(["word"] * 100))
    assert time.monotonic() - started < 2
    assert info.value.partial_text.startswith("word")
    assert client.llm.streams_opened == client.llm.streams_closed


def test_stream_iterator_and_early_exit(client):
    pieces = []
    for chunk in client.stream("x y z w"):
        pieces.append(str(chunk))
        if len(pieces) == 2:
            break
    assert pieces == ["x", " y"]


def test_async_twins(client):
    async def run():
        text = await client.agenerate_text("async hello")
        collected = [c.text async for c in client.astream("p q")]
        messages = await client.agenerate_from_messages([{"role": "user", "content": "m"}])
        return text, collected, messages

    assert asyncio.run(run()) == ("async hello", ["p", " q"], "m")


def test_tokens_embeddings_and_models(client):
    tokens = client.tokenize("Hello, world!")
    assert client.detokenize(tokens) == "Hello, world!"
    assert client.count_tokens("Hello, world!") == len(tokens)
    assert len(client.embed("a b")) == 16
    assert len(client.embed(["a", "b"])) == 2
    assert client.list_models()[0]["model_name"] == "echo"
    assert client.listModels() == client.list_models()


# -- other modalities ----------------------------------------------------------------------


def test_missing_modality_names_the_constructor_argument(client):
    with pytest.raises(ModalityNotConfiguredError, match=r"tts_binding_name=\.\.\. in LollmsClient"):
        client.generate_audio("hi")
    with pytest.raises(ModalityNotConfiguredError, match="tti_binding_name"):
        client.generate_image("a cat")
    only_tts = LollmsClient(tts_binding_name="echo")
    assert only_tts.llm is None
    with pytest.raises(ModalityNotConfiguredError, match="llm_binding_name"):
        only_tts.generate("hi")


def test_media_methods_delegate_to_the_bindings():
    client = LollmsClient(**ALL_ECHO)
    png = client.generate_image("a red cube")
    assert png.startswith(b"\x89PNG")
    assert client.edit_image(png, "bluer", mask=png) != client.edit_image(png, "bluer")
    wav = client.generate_audio("speak this please", voice="echo-low")
    assert wav[:4] == b"RIFF"
    assert client.transcribe_audio(wav) == "speak this please"
    assert client.list_voices() == ["echo-high", "echo-low"]
    assert client.generate_video("waves")[4:8] == b"ftyp"
    assert client.generate_music("calm")[:4] == b"RIFF"
    assert client.list_models("tti")[0]["model_name"] == "echo-png"


def test_media_async_twins():
    client = LollmsClient(**ALL_ECHO)

    async def run():
        wav = await client.agenerate_audio("round trip")
        return await client.atranscribe_audio(wav), await client.agenerate_image("x")

    text, png = asyncio.run(run())
    assert text == "round trip"
    assert png.startswith(b"\x89PNG")


def test_cancel_reaches_every_binding_and_close_is_idempotent():
    client = LollmsClient(**ALL_ECHO)
    client.cancel()  # nothing running: must not fail
    with client:
        pass
    client.close()
