"""The ``router`` binding over echo members: config checks, failover rules, strategies, cooldowns, delegation."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from lollms_core import (
    AllMembersFailedError,
    AuthenticationError,
    ConfigError,
    LollmsClient,
    LollmsDiscussion,
    LollmsLLMBindingManager,
    RateLimitError,
    ServerError,
)
from lollms_core.router._pool import Member, Pool, prefix_key, should_fail_over
from lollms_core.testing import LLMBindingTests


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``lollms ARGS`` in this process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from lollms_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def router(*members: dict[str, Any], **config: Any) -> Any:
    return LollmsLLMBindingManager().create_binding("router", members=list(members), strict=True, **config)


def echo(**config: Any) -> dict[str, Any]:
    return {"binding": "echo", **config}


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (
            [echo(), echo(dely=1)],
            "member #1 (echo): llm binding 'echo': unknown parameter 'dely'; did you mean 'delay'",
        ),
        ([echo(delay="soon")], "member #0 (echo): llm binding 'echo': parameter 'delay' expects float"),
        ([{"host_address": "x"}], "member #0 has no 'binding'"),
        ([echo(), "echo"], "member #1 must be a mapping"),
        ([echo(weight=0)], "member #0: 'weight' must be a number > 0"),
        ([echo(max_concurrency=-1)], "member #0: 'max_concurrency' must be an integer >= 0"),
        ([], "'members' is empty"),
    ],
)
def test_each_member_is_checked_against_its_own_manifest(members: list[Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        LollmsLLMBindingManager().create_binding("router", members=members)


def test_member_secrets_never_show_in_the_router_config() -> None:
    r = router(echo(service_key="sk-member-secret"), echo())
    assert "sk-member-secret" not in repr(r.config) + repr(r) + str(r.status())
    assert r.pool.members[0].binding.config["service_key"] == "sk-member-secret"  # still used by the member


def test_unknown_member_binding_names_the_member() -> None:
    with pytest.raises(LookupError, match="member #0 \\(nosuch\\)"):
        router({"binding": "nosuch"})


def test_unknown_strategy_lists_the_four() -> None:
    with pytest.raises(ConfigError, match=r"least-busy.*round-robin.*latency.*prefix-affinity"):
        router(echo(), strategy="fastest")


def test_router_works_through_the_client_and_a_discussion() -> None:
    client = LollmsClient(llm_binding_name="router", llm_binding_config={"members": [echo(), echo()]})
    assert client.generate_text("hello there") == "hello there"
    assert asyncio.run(client.agenerate_text("async too")) == "async too"
    discussion = LollmsDiscussion.create_new(lollms_client=client)
    assert discussion.chat("first turn").content == "first turn"
    assert discussion.chat("second turn").content == "second turn"
    assert sum(m.binding.streams_opened for m in client.llm.pool.members) == 4  # type: ignore[union-attr]


def test_member_call_options_pass_through_only_to_members_that_declare_them() -> None:
    r = router(echo(), echo())
    assert r.generate_text("x", prefix="> ") == "> x"
    with pytest.raises(ConfigError, match="unknown option 'prefx'"):
        r.generate_text("x", prefx="> ")


# -- failover -----------------------------------------------------------------------------


def test_failure_before_the_first_chunk_moves_to_another_member() -> None:
    r = router(echo(fail_with="server"), echo(), strategy="round-robin")
    assert r.generate_text("still answered") == "still answered"
    first, second = r.status()
    assert first["state"] == "cooling" and first["failures"] == 1 and "ServerError" in first["last_error"]
    assert first["cooling_down_until"] > time.time()
    assert second["successes"] == 1


def test_failure_after_the_first_chunk_keeps_the_partial_text_and_is_not_retried() -> None:
    r = router(echo(fail_with="cut"), echo(), strategy="round-robin")
    with pytest.raises(ServerError) as info:
        r.generate_text("one two three four five")
    assert info.value.partial_text == "one two"
    assert r.pool.members[1].binding.streams_opened == 0


def test_a_4xx_other_than_429_is_raised_as_is() -> None:
    r = router(echo(fail_with="auth"), echo(), strategy="round-robin")
    with pytest.raises(AuthenticationError):
        r.generate_text("x")
    assert r.pool.members[1].binding.streams_opened == 0
    assert r.status()[0]["state"] == "ok"  # the server answered: no cooldown


def test_all_members_down_is_one_typed_error_listing_each() -> None:
    r = router(echo(fail_with="connection"), echo(fail_with="rate_limit"))
    with pytest.raises(AllMembersFailedError) as info:
        r.generate_text("x")
    text = str(info.value)
    assert "#0 echo/echo: BackendConnectionError" in text and "#1 echo/echo: RateLimitError" in text
    assert set(info.value.member_errors) == {"echo/echo"}
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 1.0
    # The seeds' error dict (non-strict client) names the same type.
    client = LollmsClient(llm_binding_name="router", llm_binding_config={"members": [echo(fail_with="timeout")]})
    assert client.generate_text("x")["error_type"] == "AllMembersFailedError"  # type: ignore[index]


def test_async_failover_uses_the_same_rules() -> None:
    r = router(echo(fail_with="timeout"), echo(), strategy="round-robin")
    assert asyncio.run(r.agenerate_text("async failover")) == "async failover"
    assert r.status()[0]["failures"] == 1 and r.status()[1]["successes"] == 1


def test_should_fail_over_classification() -> None:
    from lollms_core import BackendError

    assert should_fail_over(RateLimitError("x", status_code=429))
    assert should_fail_over(BackendError("gateway", status_code=502))
    assert should_fail_over(BackendError("engine crashed"))
    assert not should_fail_over(BackendError("bad", status_code=400))
    assert not should_fail_over(AuthenticationError("no", status_code=401))
    assert not should_fail_over(ValueError("bug"))


# -- the pool: cooldowns, probes, strategies ------------------------------------------------


def pool(n: int = 3, strategy: str = "least-busy", **kw: Any) -> Pool:
    members = [Member(index=i, binding=None, label=f"m{i}", **kw) for i in range(n)]  # type: ignore[arg-type]
    return Pool(members, strategy, cooldown=0.05, max_cooldown=0.2)


def take(p: Pool, key: str | None = None, tried: set[int] | None = None) -> Member:
    got = p.choose(tried or set(), key, lambda: None)
    assert isinstance(got, Member)
    return got


def test_cooldown_is_exponential_capped_and_retry_after_wins() -> None:
    p = pool(1)
    m = p.members[0]
    delays = []
    for _ in range(4):
        p.failed(m, ServerError("x"), cool=True)
        delays.append(m.cooling_until - time.monotonic())
    assert [round(d, 2) for d in delays] == [0.05, 0.1, 0.2, 0.2]
    p.failed(m, RateLimitError("slow down", retry_after=2.0), cool=True)
    assert m.cooling_until - time.monotonic() > 1.9


def test_a_cooled_member_is_probed_by_one_request_then_comes_back() -> None:
    p = pool(2)
    a = p.members[0]
    p.failed(a, ServerError("x"), cool=True)
    assert take(p).index == 1  # a cools down
    time.sleep(0.06)
    probe = take(p, tried={1})
    assert probe is a and a.probing and p.status()[0]["state"] == "probing"
    with pytest.raises(AllMembersFailedError):
        p.choose({1}, None, lambda: None)  # nobody else may use a while it is being probed
    p.first_chunk(a, 0.01)
    p.released(a)
    assert p.status()[0]["state"] == "ok" and a.consecutive_failures == 0


def test_least_busy_prefers_fewest_in_flight_per_weight() -> None:
    p = pool(2)
    p.members[1].weight = 3.0
    picks = [take(p).index for _ in range(4)]
    assert picks.count(1) == 3 and picks.count(0) == 1


def test_round_robin_follows_weights() -> None:
    p = pool(2, strategy="round-robin")
    p.members[0].weight = 2.0
    picks = []
    for _ in range(6):
        m = take(p)
        picks.append(m.index)
        p.released(m)
    assert picks.count(0) == 4 and picks.count(1) == 2 and picks[:3] != [0, 0, 0]


def test_latency_prefers_the_fastest_first_chunk() -> None:
    p = pool(2, strategy="latency")
    p.first_chunk(p.members[0], 0.5)
    p.first_chunk(p.members[1], 0.1)
    m = take(p)
    assert m.index == 1
    p.released(m)


def test_prefix_affinity_is_stable_and_falls_back_while_home_cools() -> None:
    p = pool(3, strategy="prefix-affinity")
    turn1 = [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]
    turn3 = [*turn1, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more"}]
    assert prefix_key(turn1) == prefix_key(turn3)
    home = take(p, prefix_key(turn1))
    p.released(home)
    assert take(p, prefix_key(turn3)) is home
    p.released(home)
    homes = {take(p, prefix_key([{"role": "user", "content": f"q{i}"}])).index for i in range(30)}
    assert homes == {0, 1, 2}  # different conversations spread over the members
    for m in p.members:
        m.in_flight = 0
    p.failed(home, ServerError("x"), cool=True)
    assert take(p, prefix_key(turn1)) is not home


def test_max_concurrency_makes_requests_wait_for_a_free_slot() -> None:
    r = router(echo(delay=0.05, max_concurrency=1))
    seen: list[int] = []

    def watch() -> None:
        for _ in range(40):
            seen.append(r.status()[0]["in_flight"])
            time.sleep(0.005)

    threads = [threading.Thread(target=r.generate_text, args=("a b c",)) for _ in range(3)]
    watcher = threading.Thread(target=watch)
    for t in [*threads, watcher]:
        t.start()
    for t in [*threads, watcher]:
        t.join()
    assert max(seen) == 1 and r.status()[0]["successes"] == 3


# -- delegation ---------------------------------------------------------------------------


def test_tokens_embeddings_and_models_delegate() -> None:
    r = router(echo(model_name="a"), echo(model_name="b"))
    assert r.detokenize(r.tokenize("hello world")) == "hello world"
    assert r.count_tokens("hello world") == 2
    assert r.embed("hello") == r.pool.members[0].binding.embed("hello")
    assert r.list_models() == [{"model_name": "echo", "size_gb": 0.0, "members": [0, 1]}]  # merged by name
    info = r.get_model_info()
    assert info["binding"] == "router" and info["model_name"] == "a"  # the first member answers
    assert info["members"] == ["echo/a", "echo/b"]
    r.pool.failed(r.pool.members[0], ServerError("down"), cool=True)
    assert r.get_model_info()["model_name"] == "b"  # ...unless it is cooling down


# -- command line -------------------------------------------------------------------------


def test_cli_generate_reads_the_pool_from_a_yaml_or_json_file(tmp_path: Path) -> None:
    yaml_pool = tmp_path / "pool.yaml"
    yaml_pool.write_text("- binding: echo\n- binding: echo\n  weight: 2\n")
    code, out, err = run_cli(["generate", "-b", "router", "-c", f"members=@{yaml_pool}", "from yaml"])
    assert (code, out.strip()) == (0, "from yaml"), err
    json_pool = tmp_path / "pool.json"
    json_pool.write_text(json.dumps([{"binding": "echo"}]))
    code, out, err = run_cli(["generate", "-b", "router", "-c", f"members=@{json_pool}", "from json"])
    assert (code, out.strip()) == (0, "from json"), err


def test_cli_at_file_works_for_any_binding_and_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "prefix.yaml").write_text("'from a file: '\n")
    code, out, err = run_cli(["generate", "-b", "echo", "-o", f"prefix=@{tmp_path / 'prefix.yaml'}", "x"])
    assert (code, out.strip()) == (0, "from a file: x"), err
    code, out, err = run_cli(["generate", "-b", "echo", "-c", f"model_name=@{tmp_path / 'missing.yaml'}", "x"])
    assert code == 1 and "-c model_name=@" in err and "cannot read the file" in err
    (tmp_path / "bad.json").write_text("{not json")
    code, out, err = run_cli(["generate", "-b", "echo", "-c", f"model_name=@{tmp_path / 'bad.json'}", "x"])
    assert code == 1 and "not valid JSON" in err
    code, out, err = run_cli(["generate", "-b", "echo", "-o", "prefix=@@at ", "x"])
    assert (code, out.strip()) == (0, "@at x"), err


def test_cli_router_status(tmp_path: Path) -> None:
    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text("- binding: echo\n- binding: echo\n")
    code, out, err = run_cli(["router", "status", "-c", f"members=@{pool_file}", "--json"])
    assert code == 0, err
    rows = json.loads(out)
    assert [r["member"] for r in rows] == ["echo/echo", "echo/echo"] and all(r["state"] == "ok" for r in rows)
    code, out, err = run_cli(["router", "status", "-c", f"members=@{pool_file}"])
    assert code == 0 and out.count("ok") >= 2


# -- the conformance kit: a router is a binding like any other -------------------------------


class TestRouterConformance(LLMBindingTests):
    @pytest.fixture
    def binding(self) -> Any:
        return LollmsLLMBindingManager().create_binding("router", members=[echo(), echo()])

    @pytest.fixture
    def failing_binding(self) -> Any:
        members = [echo(fail_with="server", service_key="sk-never-shown"), echo(fail_with="connection")]
        return LollmsLLMBindingManager().create_binding("router", members=members)
