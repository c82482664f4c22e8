"""Hostile input for the router (issue 23): absurd Retry-After values, pools of pools, crashing
engines, credentials in member addresses. Each test fails on the code before its fix."""

from __future__ import annotations

import time
from typing import Any

import pytest
from lollms_core import AllMembersFailedError, LollmsLLMBindingManager, RateLimitError
from lollms_core.errors import MAX_RETRY_AFTER, EngineError
from lollms_core.http import parse_retry_after
from lollms_core.router._pool import Member, Pool


def router(*members: dict[str, Any], **config: Any) -> Any:
    return LollmsLLMBindingManager().create_binding("router", members=list(members), strict=True, **config)


def echo(**config: Any) -> dict[str, Any]:
    return {"binding": "echo", **config}


@pytest.mark.parametrize(
    "value",
    ["9" * 400, "9" * 5000, "100000000000000", "0" * 300 + "86401", "Fri, 31 Dec 9999 23:59:59 GMT"],
)
def test_retry_after_beyond_the_cap_is_clamped_never_an_exception(value: str) -> None:
    assert parse_retry_after(value) == MAX_RETRY_AFTER


def test_retry_after_within_the_cap_is_kept() -> None:
    assert parse_retry_after("0" * 300 + "12") == 12.0
    assert parse_retry_after("86400") == MAX_RETRY_AFTER == 86400.0


def test_any_binding_error_with_an_absurd_retry_after_is_clamped() -> None:
    # A third-party binding may build the error itself: the cooldown and the status date stay finite.
    assert RateLimitError("x", retry_after=1e14).retry_after == MAX_RETRY_AFTER
    assert RateLimitError("x", retry_after=float("inf")).retry_after == MAX_RETRY_AFTER
    assert RateLimitError("x", retry_after=float("nan")).retry_after is None
    binding = LollmsLLMBindingManager().create_binding("echo")
    pool = Pool([Member(0, binding, "m0")], "least-busy", cooldown=1.0, max_cooldown=60.0)
    error = RateLimitError("slow down")
    error.retry_after = 1e14  # set after construction: the pool clamps too
    pool.failed(pool.members[0], error, cool=True)
    until = pool.status()[0]["cooling_down_until"]
    assert until is not None and until <= time.time() + MAX_RETRY_AFTER + 1


def test_status_time_of_a_date_past_year_9999_is_printable() -> None:
    from lollms_core.cli._batch import _local_time

    assert _local_time(1e14 + time.time()) == "a date too far to show"
    assert len(_local_time(time.time() + 3 * 86400)) == len("2026-12-09 10:00:00")


def test_a_pool_member_that_is_itself_an_exhausted_pool_moves_the_request_on() -> None:
    # Before: AllMembersFailedError from the inner router was not a member failure, so the outer
    # router raised it and never tried its healthy second member.
    outer = router(
        {"binding": "router", "members": [echo(fail_with="connection")]},
        {"binding": "router", "members": [echo()]},
        strategy="round-robin",
    )
    assert outer.generate_text("inner pools") == "inner pools"
    first, second = outer.status()
    assert first["state"] == "cooling" and "AllMembersFailedError" in first["last_error"]
    assert second["successes"] == 1


def test_an_engine_crash_before_the_first_chunk_names_the_member_and_moves_on() -> None:
    # Before: "the router binding's engine failed" with no member named, and the member stayed "ok".
    r = router(echo(fail_with="engine"), echo(), strategy="round-robin")
    assert r.generate_text("still answered") == "still answered"
    first = r.status()[0]
    assert first["state"] == "cooling"
    assert "router member #0 echo/echo" in first["last_error"] and "RuntimeError" in first["last_error"]


def test_an_engine_crash_everywhere_is_one_error_listing_the_members() -> None:
    r = router(echo(fail_with="engine", service_key="sk-crash-secret"))
    with pytest.raises(AllMembersFailedError) as info:
        r.generate_text("x")
    message = str(info.value)
    assert "router member #0 echo/echo" in message and "RuntimeError: echo engine asked to crash" in message
    assert "sk-crash-secret" not in str(info.value)


def test_async_streams_follow_the_same_engine_crash_rule() -> None:
    import asyncio

    r = router(echo(fail_with="engine"), echo(), strategy="round-robin")
    assert asyncio.run(r.agenerate_text("async too")) == "async too"
    assert r.status()[0]["state"] == "cooling" and "router member #0" in r.status()[0]["last_error"]
    assert issubclass(EngineError, RateLimitError.__mro__[1])  # an EngineError is a BackendError


@pytest.mark.parametrize(
    ("address", "shown", "hidden"),
    [
        ("http://alice:s3cret-pw@example.test:8080/v1", "echo@http://example.test:8080/v1", ["alice", "s3cret-pw"]),
        ("https://h.test/v1?api_key=sk-in-url&region=eu", "echo@https://h.test/v1?region=eu", ["sk-in-url"]),
        ("https://h.test/v1?token=t0k&sig=abc", "echo@https://h.test/v1", ["t0k", "abc"]),
        ("/models/m.gguf", "echo@/models/m.gguf", []),
    ],
)
def test_member_labels_never_show_userinfo_or_key_like_query(address: str, shown: str, hidden: list[str]) -> None:
    from lollms_core.router.binding import _label

    label = _label("echo", {"host_address": address})
    assert label == shown
    assert not any(h in label for h in hidden)
