"""Router failure rules against an HTTP-level fake member (no real server answers 429 or 500 on cue).

tests/servers/pool_fake_server.py answers per mode (``ok``, ``ratelimit`` with Retry-After: 2,
``status500``) and logs every request it receives with its arrival time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lollms_core import AllMembersFailedError, BackendError, LollmsClient
from process import ServerProcess, free_port, uvicorn_argv


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(
        "pool-fake", uvicorn_argv("pool_fake_server:app", port), port, "/health", tmp_path_factory.mktemp("fake")
    ).start()
    yield server
    server.stop()


def member(server: ServerProcess, mode: str) -> dict[str, Any]:
    return {"binding": "openai", "host_address": f"{server.base_url}/{mode}/v1", "model_name": "pool"}


def hits(server: ServerProcess, mode: str, since: float) -> list[float]:
    return [e["t"] for e in httpx.get(server.base_url + "/_log").json() if e["mode"] == mode and e["t"] >= since]


def test_a_429_member_gets_no_request_for_its_retry_after(fake: ServerProcess) -> None:
    config = {"members": [member(fake, "ratelimit"), member(fake, "ok")], "strategy": "round-robin", "cooldown": 0.1}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
    start = time.time()
    answers = []
    while time.time() - start < 4.5:
        answers.append(client.generate_text("one two three"))
        time.sleep(0.05)
    limited = hits(fake, "ratelimit", start)
    assert all(a == "one two three" for a in answers)  # every request moved to the healthy member
    assert len(limited) >= 2  # probed again once the Retry-After was over
    gaps = [b - a for a, b in itertools.pairwise(limited)]
    assert min(gaps) >= 1.95, gaps  # Retry-After: 2 honoured (cooldown alone would be 0.1 s)
    row = client.llm.status()[0]  # type: ignore[union-attr]
    assert row["failures"] == len(limited) and "RateLimitError" in row["last_error"]
    client.close()


def test_a_500_member_gets_at_most_one_try_per_request(fake: ServerProcess) -> None:
    # cooldown 0: the failing member is eligible again for every request, so retries would show.
    config = {"members": [member(fake, "status500"), member(fake, "ok")], "strategy": "round-robin", "cooldown": 0}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
    start = time.time()
    for _ in range(6):
        assert client.generate_text("alpha beta") == "alpha beta"
    failed = hits(fake, "status500", start)
    assert 1 <= len(failed) <= 6
    assert client.llm.status()[0]["failures"] == len(failed)  # type: ignore[union-attr]
    client.close()


def test_all_members_down_is_one_error_naming_each(fake: ServerProcess, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    config = {"members": [member(fake, "status500"), {"binding": "openai", "host_address": dead, "model_name": "x"}]}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
    with pytest.raises(AllMembersFailedError) as info:
        client.generate_text("hi")
    message = str(info.value)
    assert "#0 openai@" in message and "ServerError" in message
    assert "#1 openai@" in message and "BackendConnectionError" in message
    assert len(info.value.member_errors) == 2
    client.close()


def test_a_4xx_other_than_429_is_not_retried_elsewhere(fake: ServerProcess) -> None:
    config = {"members": [member(fake, "badrequest"), member(fake, "ok")], "strategy": "round-robin"}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
    start = time.time()
    with pytest.raises(BackendError) as info:
        client.generate_text("hi")
    assert info.value.status_code == 400 and not isinstance(info.value, AllMembersFailedError)
    assert len(hits(fake, "badrequest", start)) == 1
    assert hits(fake, "ok", start) == []  # not moved to the healthy member
    assert client.llm.status()[0]["state"] == "ok"  # type: ignore[union-attr]  # the server is up: no cooldown
    client.close()


def test_cancel_is_not_a_member_failure(tmp_path: Path) -> None:
    """cancel() aborts the member's blocked read: that is the user's doing, not the member's fault."""
    import threading

    from lollms_core import GenerationCancelled

    port = free_port()
    slow = ServerProcess(
        "pool-fake-slow",
        uvicorn_argv("pool_fake_server:app", port),
        port,
        "/health",
        tmp_path,
        env={"DELAY_MS": "5000"},
    ).start()
    try:
        config = {"members": [member(slow, "stall"), member(slow, "stall")], "strategy": "round-robin"}
        client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
        threading.Timer(0.5, client.cancel).start()
        started = time.monotonic()
        with pytest.raises(GenerationCancelled):
            client.generate_text("one two three", streaming_callback=lambda *_: True)
        assert time.monotonic() - started < 3  # the blocked read ended at once
        rows = client.llm.status()  # type: ignore[union-attr]
        assert [r["failures"] for r in rows] == [0, 0], rows  # no member blamed, none cooling
        assert all(r["state"] != "cooling" for r in rows), rows
        client.close()
    finally:
        slow.stop()


def test_an_absurd_retry_after_cools_the_member_and_the_healthy_one_answers(fake: ServerProcess) -> None:
    # Before: float(int("9" * 400)) raised OverflowError inside the HTTP layer, the request failed with
    # EngineError, the healthy member was never tried and the broken one stayed "ok".
    config = {"members": [member(fake, "ratelimit_huge"), member(fake, "ok")], "strategy": "round-robin"}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config, strict=True)
    assert client.generate_text("one two three") == "one two three"
    row = client.llm.status()[0]  # type: ignore[union-attr]
    assert row["state"] == "cooling" and "RateLimitError" in row["last_error"]
    # Clamped to a day (lollms_core.errors.MAX_RETRY_AFTER), never an overflow.
    assert time.time() + 86000 < row["cooling_down_until"] <= time.time() + 86401
    client.close()


def test_router_status_prints_a_member_cooling_for_1e14_seconds(fake: ServerProcess, tmp_path: Path) -> None:
    # Before: `lollms router status` died with "year out of range" printing the cooldown's end.
    import contextlib
    import io

    from lollms_core.cli import main

    pool = tmp_path / "pool.yaml"
    pool.write_text(
        f"- {{binding: openai, host_address: '{fake.base_url}/ratelimit_far/v1', model_name: pool}}\n"
        f"- {{binding: openai, host_address: '{fake.base_url}/ok/v1', model_name: pool}}\n"
    )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["router", "status", "-c", f"members=@{pool}"])
    lines = out.getvalue().splitlines()
    assert code == 1, err.getvalue()  # a member is down: exit 1, as documented
    assert "Traceback" not in err.getvalue() and len(lines) == 2
    assert "cooling until" in lines[0] and "RateLimitError" in lines[0]
    assert " ok " in lines[1]
