"""Context budgeting: what ``get_messages_for_budget`` keeps, checked as properties and by example."""

from __future__ import annotations

from types import SimpleNamespace

import lollms_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lollms_core import LollmsDiscussion
from lollms_core.discussion._llm import SUMMARY_PREFIX
from lollms_core.errors import ConfigError

ECHO = lollms_core.LollmsLLMBindingManager().create_binding("echo")
OVERHEAD = LollmsDiscussion.message_overhead_tokens


def words(n: int, tag: str) -> str:
    # The echo tokenizer makes one token per whitespace-separated word: n words = n tokens.
    return " ".join(f"{tag}{i}" for i in range(n))


def cost(content: str) -> int:
    """Independent of the code under test: word count plus the per-message template overhead."""
    return len(content.split()) + OVERHEAD


def build(system_words: int, lead_system: list[int], turns: list[int]) -> LollmsDiscussion:
    d = LollmsDiscussion.create_new(lollms_client=SimpleNamespace(llm=ECHO), system_prompt=words(system_words, "s"))
    for i, n in enumerate(lead_system):
        d.add_message(sender="system", content=words(n, f"L{i}_"))
    for i, n in enumerate(turns):
        d.add_message(sender="user" if i % 2 == 0 else "assistant", content=words(n, f"t{i}_"))
    return d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    system_words=st.integers(0, 40),
    lead_system=st.lists(st.integers(1, 20), max_size=2),
    turns=st.lists(st.integers(1, 60), min_size=1, max_size=12),
    budget=st.integers(0, 400),
)
def test_trimming_keeps_the_system_prompt_and_a_fitting_suffix(system_words, lead_system, turns, budget):
    d = build(system_words, lead_system, turns)
    branch = d.get_messages()
    head = ([words(system_words, "s")] if system_words else []) + [m.content for m in branch[: len(lead_system)]]
    tail = [m.content for m in branch[len(lead_system) :]]
    feasible = sum(map(cost, head)) + cost(tail[-1]) <= budget
    if not feasible:
        with pytest.raises(ConfigError, match=f"budget is {budget} tokens"):
            d.get_messages_for_budget(budget)
        return
    kept = [m.content for m in d.get_messages_for_budget(budget)]
    assert kept[: len(head)] == head  # the system prompt and leading system messages, always
    suffix = kept[len(head) :]
    assert suffix == tail[len(tail) - len(suffix) :]  # an unbroken suffix, in order
    assert suffix  # the newest turn is always there
    assert sum(map(cost, kept)) <= budget
    if len(suffix) < len(tail):  # and it is the longest one that fits
        assert sum(map(cost, kept)) + cost(tail[-len(suffix) - 1]) > budget
    assert d.get_messages() == branch  # trimming never changes the discussion


def test_budget_defaults_to_the_binding_context_minus_n_predict():
    d = build(10, [], [1000, 1000, 1000, 1000, 1000])
    # echo reports ctx_size 4096; n_predict 1000 leaves 3096: the system prompt (14) and three
    # turns of 1004 fit (3026), a fourth does not.
    kept = d.get_messages_for_budget(n_predict=1000)
    assert [m.role for m in kept] == ["system", "user", "assistant", "user"]
    assert kept[-1].content == d.get_messages()[-1].content
    assert len(d.get_messages_for_budget(n_predict=1100)) == 3  # 2996 left: two turns
    # With no n_predict a quarter of the window (1024) is kept for the answer: 3072 left.
    assert len(d.get_messages_for_budget()) == 4
    llm_default = ECHO.default_options.n_predict
    try:
        ECHO.default_options.n_predict = 2000  # the binding's default n_predict counts too
        assert len(d.get_messages_for_budget()) == 3
    finally:
        ECHO.default_options.n_predict = llm_default
    assert len(d.get_messages_for_budget(ctx_size=8192, n_predict=100)) == 6
    assert len(d.get_messages_for_budget(max_tokens=10**6)) == 6


def test_summarize_replaces_dropped_turns_with_an_llm_summary_within_budget():
    d = build(5, [], [40, 40, 40, 10])
    budget = 300
    plain = d.get_messages_for_budget(budget)
    assert len(plain) == 1 + 4  # everything fits: no summary needed
    tight = 5 + 10 + 40 + 3 * OVERHEAD + 40 + 10  # room for a few turns, not all
    kept = d.get_messages_for_budget(tight, summarize=True)
    summary = next(m for m in kept if m.metadata.get("summary_of"))
    assert kept[0].content == words(5, "s")
    assert kept[1] is summary
    assert summary.role == "system"
    assert summary.content.startswith(SUMMARY_PREFIX)
    dropped = d.get_messages()[: len(d.get_messages()) - (len(kept) - 2)]
    assert summary.metadata["summary_of"] == [m.id for m in dropped]
    # The echo LLM "summarises" by repeating the transcript, cut to the summary's token limit.
    assert summary.content.removeprefix(SUMMARY_PREFIX).startswith(f"user (user): {words(3, 't0_')}")
    total = sum(ECHO.count_tokens(m.content) + OVERHEAD for m in kept)
    assert total <= tight


def test_summarize_falls_back_to_plain_trimming_when_no_room_for_a_summary():
    d = build(0, [], [30, 30, 30])
    kept = d.get_messages_for_budget(30 + OVERHEAD + 5, summarize=True)
    assert [m.content for m in kept] == [d.get_messages()[-1].content]


def test_chat_sends_only_what_fits_the_context(monkeypatch):
    llm = lollms_core.LollmsLLMBindingManager().create_binding("echo")
    seen = []
    original = llm.build_request

    def recording_build_request(messages, **kwargs):
        seen.append(messages)
        return original(messages, **kwargs)

    monkeypatch.setattr(llm, "build_request", recording_build_request)
    d = LollmsDiscussion.create_new(lollms_client=SimpleNamespace(llm=llm), system_prompt="sys")
    for i in range(6):
        d.add_message(sender="user" if i % 2 == 0 else "assistant", content=words(900, f"m{i}_"))
    d.chat("last question", n_predict=1000, ctx_size=4096)
    sent = seen[-1]
    assert sent[0] == {"role": "system", "content": "sys"}
    assert sent[-1] == {"role": "user", "content": "last question"}
    assert 2 < len(sent) < 8
    assert sum(len(m["content"].split()) + OVERHEAD for m in sent) <= 4096 - 1000


def test_budget_without_a_client_says_how_to_attach_one():
    d = LollmsDiscussion.create_new()
    d.add_message(sender="user", content="x")
    with pytest.raises(lollms_core.ModalityNotConfiguredError, match="lollms_client"):
        d.get_messages_for_budget(100)
