"""The pieces of the streaming primitive on their own: stop sequences, penalties, turns, resolution."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from lollms_core.errors import GenerationCancelled, NotFoundError
from lollms_core.types import GenerationOptions
from lollms_transformers.llm.generation import StopScanner, WindowedRepetitionPenalty, generation_config
from lollms_transformers.llm.models import resolve_model
from lollms_transformers.llm.toolcalls import ToolCallScanner, parse_call
from lollms_transformers.llm.turns import Turns
from transformers import GenerationConfig


def _scan(stops: list[str], pieces: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    shown = "".join(scanner.feed(p) for p in pieces)
    return shown + scanner.flush(), scanner.hit


def test_stop_sequence_split_across_pieces_is_found() -> None:
    """A stop string arriving in two pieces is still cut, and nothing after it shows."""
    assert _scan(["</end>"], ["Hello </e", "nd> after"]) == ("Hello ", True)


def test_text_that_only_looks_like_a_stop_start_is_released() -> None:
    """Held-back text that turns out not to be a stop string is shown in full, in order."""
    assert _scan(["STOP"], ["a ST", "ART b"]) == ("a START b", False)
    assert _scan(["STOP"], ["ends with ST"]) == ("ends with ST", False)


def test_earliest_of_several_stops_wins() -> None:
    """With several stop strings, the text ends at the first one found."""
    assert _scan(["three", "two"], ["one two three"]) == ("one ", True)


def test_no_stops_passes_text_through() -> None:
    """Without stop strings nothing is held back."""
    scanner = StopScanner(None)
    assert scanner.feed("abc") == "abc"


def test_windowed_repetition_penalty_only_touches_recent_tokens() -> None:
    """repeat_last_n=2 penalises the last two tokens, not older ones (llama.cpp's meaning)."""
    scores = torch.tensor([[2.0, 2.0, 2.0, -2.0, 2.0]])
    ids = torch.tensor([[0, 1, 3]])
    out = WindowedRepetitionPenalty(2.0, window=2)(ids, scores.clone())
    assert out.tolist() == [[2.0, 1.0, 2.0, -4.0, 2.0]]


def test_sampling_options_map_onto_the_generation_config() -> None:
    """temperature 0 is greedy; a positive one samples with top_k/top_p; repeat_last_n picks the processor."""
    base = GenerationConfig(do_sample=True, temperature=0.6, top_p=0.9)
    greedy, extra = generation_config(base, GenerationOptions(temperature=0.0, top_k=5), 7, pad_token_id=2)
    assert (greedy.do_sample, greedy.max_new_tokens, greedy.pad_token_id, extra) == (False, 7, 2, [])
    sampled, _ = generation_config(base, GenerationOptions(temperature=0.8, top_k=5, top_p=0.5), 7, None)
    assert (sampled.do_sample, sampled.temperature, sampled.top_k, sampled.top_p) == (True, 0.8, 5, 0.5)
    whole, none = generation_config(base, GenerationOptions(repeat_penalty=1.3), 7, None)
    assert (whole.repetition_penalty, none) == (1.3, [])
    _, window = generation_config(base, GenerationOptions(repeat_penalty=1.3, repeat_last_n=64), 7, None)
    assert isinstance(window[0], WindowedRepetitionPenalty)
    assert window[0].window == 64
    assert base.temperature == 0.6, "the model's own config was changed"


def test_turns_serve_callers_in_arrival_order() -> None:
    """Queued callers start one at a time, first come first served."""
    turns = Turns()
    order: list[int] = []
    turns.acquire()
    threads = []
    for i in range(3):
        t = threading.Thread(target=lambda i=i: (turns.acquire(), order.append(i), turns.release()))
        t.start()
        while turns.waiting < i + 1:
            threading.Event().wait(0.005)
        threads.append(t)
    turns.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2]


def test_a_waiting_caller_leaves_when_its_stop_is_set() -> None:
    """A stop event set while waiting raises GenerationCancelled; the queue goes on without it."""
    turns = Turns()
    turns.acquire()
    stop = threading.Event()
    caught: list[BaseException] = []

    def wait() -> None:
        try:
            turns.acquire(stop)
        except GenerationCancelled as exc:
            caught.append(exc)

    t = threading.Thread(target=wait)
    t.start()
    while turns.waiting == 0:
        threading.Event().wait(0.005)
    stop.set()
    turns.wake()
    t.join(5)
    assert len(caught) == 1
    assert turns.waiting == 0
    turns.release()
    turns.acquire()  # free again


def test_resolution_never_guesses_a_download(tmp_path: Path) -> None:
    """A name that is neither a path nor cached is NotFoundError listing what exists, even with allow_download off."""
    with pytest.raises(NotFoundError, match="available: none"):
        resolve_model("acme/x", models_dir=tmp_path, hub_cache=tmp_path / "hub")
    source = resolve_model("acme/x", models_dir=None, hub_cache=tmp_path / "hub", allow_download=True)
    assert (source.kind, source.location, source.download, source.path) == ("hub", "acme/x", True, None)
    with pytest.raises(NotFoundError) as caught:
        resolve_model("plain-name", models_dir=None, hub_cache=tmp_path / "hub", allow_download=True)
    assert "allow_download" not in str(caught.value), "a name that is not a hub id must not suggest downloading"


def _tool_scan(pieces: list[str]) -> tuple[str, list[str]]:
    scanner = ToolCallScanner()
    shown = "".join(scanner.feed(p) for p in pieces) + scanner.flush()
    return shown, scanner.blocks


def test_tool_call_blocks_are_taken_out_of_the_answer_even_split_across_pieces() -> None:
    """Text around <tool_call> blocks is shown; the blocks are collected, tags split over pieces included."""
    pieces = [
        "Let me check. <tool",
        '_call>\n{"name": "weather", "argu',
        'ments": {"city": "Paris"}}\n</tool_',
        "call> done",
    ]
    shown, blocks = _tool_scan(pieces)
    assert shown == "Let me check.  done"
    assert blocks == ['{"name": "weather", "arguments": {"city": "Paris"}}']
    assert parse_call(blocks[0]) == ("weather", '{"city": "Paris"}')


def test_text_that_only_starts_like_a_tag_is_shown() -> None:
    """'<tool' followed by something else is ordinary text; an unclosed block at the end is still a call."""
    assert _tool_scan(["a <to", "ol> b <"]) == ("a <tool> b <", [])
    assert _tool_scan(['<tool_call>{"name": "f", "arguments": {}}']) == ("", ['{"name": "f", "arguments": {}}'])


def test_a_block_that_is_not_json_keeps_its_text_for_the_core_to_report() -> None:
    """Broken JSON is not an exception here: the name if readable, the raw text as arguments."""
    assert parse_call('{"name": "f", "arguments": {"x": 1') == ("f", '{"name": "f", "arguments": {"x": 1')
    assert parse_call("[1, 2]") == (None, "[1, 2]")
    assert parse_call('{"name": "f", "arguments": "{\\"x\\": 1}"}') == ("f", '{"x": 1}')


def test_tool_support_is_read_from_the_template_by_rendering_it() -> None:
    """Tools shown and calls written as <tool_call>: supported; tools shown but calls in another format: not."""
    from conftest import HERMES_TEMPLATE
    from lollms_transformers.llm.prompt import renders_tools
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
    tokenizer.chat_template = HERMES_TEMPLATE
    assert renders_tools(tokenizer) is True
    tokenizer.chat_template = HERMES_TEMPLATE.replace("<tool_call>", "[CALL]").replace("</tool_call>", "[/CALL]")
    assert renders_tools(tokenizer) is False
    tokenizer.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    assert renders_tools(tokenizer) is False
