"""The core's ``router`` binding over three real llama.cpp servers (xllamacpp + SmolLM2, one thread each).

The servers' own logs are the request record: llama.cpp prints one ``launch_slot_`` line per
generation it starts, so "which server did the work, how many times" is read on the server side.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lollms_core import LollmsClient, LollmsDiscussion
from process import ServerProcess, free_port, python_argv

SERVERS_DIR = Path(__file__).resolve().parent / "servers"
ALIAS = "smollm2"


def _llama(name: str, log_dir: Path, port: int | None = None) -> ServerProcess:
    port = port or free_port()
    argv = python_argv(str(SERVERS_DIR / "llama_server.py"), str(port), ALIAS, "1", "1")
    return ServerProcess(name, argv, port, "/health", log_dir)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    """Three real llama.cpp servers, one slot and one thread each."""
    log_dir = tmp_path_factory.mktemp("router-logs")
    servers = [_llama(f"llama-{i}", log_dir) for i in range(3)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


def members(servers: list[ServerProcess]) -> list[dict[str, Any]]:
    return [{"binding": "openai", "host_address": s.base_url + "/v1", "model_name": ALIAS} for s in servers]


def generations(server: ServerProcess) -> int:
    """How many generations this server started (from its own log)."""
    try:
        return server.log_path.read_text(errors="replace").count("launch_slot_")
    except OSError:
        return 0


def wait_idle(servers: list[ServerProcess], timeout: float = 60.0) -> None:
    """Until no server has a generation in progress (a killed client's request may still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [
            s for s in servers if any(slot.get("is_processing") for slot in httpx.get(s.base_url + "/slots").json())
        ]
        if not busy:
            return
        time.sleep(0.2)
    raise AssertionError("servers still busy")


def ids_in(path: Path) -> list[Any]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def test_batch_completes_when_a_member_is_killed_and_the_member_comes_back(
    pool: list[ServerProcess], tmp_path: Path
) -> None:
    config = {"members": members(pool), "cooldown": 0.5, "max_cooldown": 1.5}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config)
    router: Any = client.llm
    victim = pool[1]
    victim_pid = victim._proc.pid  # type: ignore[union-attr]
    killed: list[float] = []

    def kill_when_idle(row: dict[str, Any], summary: Any) -> None:
        # Results are recorded on the event loop that also dispatches requests: at this instant no new
        # request can start, so a victim with nothing in flight is killed between two of its requests.
        # (Killed after its first chunk, a stream must fail with its partial text: that rule is tested in core.)
        if not killed and summary.done >= 15 and router.status()[1]["in_flight"] == 0:
            os.kill(victim_pid, signal.SIGKILL)
            killed.append(time.monotonic())

    items = [{"id": f"q{n}", "prompt": f"Say the number {n}."} for n in range(60)]
    out = tmp_path / "out.jsonl"
    results = client.batch(items, output=out, concurrency=3, n_predict=3, temperature=0, on_result=kill_when_idle)
    assert killed, "the victim was never idle after 15 results"
    assert sorted(ids_in(out)) == sorted(i["id"] for i in items)  # every id exactly once
    assert [r for r in results if "error" in r] == []
    assert results.summary.completed == 60

    after = router.check()[1]  # a dead member: refused connection -> cooling down
    assert after["state"] == "cooling" and after["cooling_down_until"] is not None
    assert "BackendConnectionError" in after["last_error"]
    served_before = after["successes"]

    victim.start()
    time.sleep(1.6)  # longer than max_cooldown: the next request probes it
    again = client.batch([{"id": n, "prompt": "Hi"} for n in range(6)], concurrency=3, n_predict=2)
    assert [r for r in again if "error" in r] == []
    back = router.status()[1]
    assert back["state"] == "ok" and back["successes"] > served_before
    client.close()


def test_kill_minus_9_then_rerun_gives_each_id_once_and_redoes_nothing_written(
    pool: list[ServerProcess], tmp_path: Path
) -> None:
    wait_idle(pool)
    pool_file = tmp_path / "pool.json"
    pool_file.write_text(json.dumps(members(pool)))
    items = [{"id": f"k{n}", "prompt": f"Name a fruit, number {n}."} for n in range(24)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "lollms_core.cli", "batch", str(tmp_path / "in.jsonl"), "-o", str(out)]
    argv += ["-b", "router", "-c", f"members=@{pool_file}", "--concurrency", "3", "-n", "3", "-t", "0"]
    argv += ["--fsync-every", "4"]
    stop_after = random.randint(2, 14)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= stop_after:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = out.read_bytes().count(b"\n")  # whole lines; a torn tail (if any) is redone
    assert 0 < written < len(items)
    wait_idle(pool)
    before = sum(generations(s) for s in pool)

    rerun = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{written} already done" in rerun.stderr
    ids = ids_in(out)
    assert sorted(ids) == sorted(i["id"] for i in items) and len(ids) == len(set(ids))
    assert sum(generations(s) for s in pool) - before == len(items) - written  # nothing written was redone


def test_prefix_affinity_keeps_a_discussion_on_one_member(pool: list[ServerProcess]) -> None:
    wait_idle(pool)
    config = {"members": members(pool), "strategy": "prefix-affinity"}
    client = LollmsClient(llm_binding_name="router", llm_binding_config=config)
    before = [generations(s) for s in pool]
    discussion = LollmsDiscussion.create_new(lollms_client=client, system_prompt="You are brief.")
    for turn in ["Hello.", "What is two plus two?", "And three plus three?", "Thanks.", "Bye."]:
        discussion.chat(turn, n_predict=3, temperature=0)
    per_server = [generations(s) - b for s, b in zip(pool, before, strict=True)]
    assert sorted(per_server) == [0, 0, 5], per_server
    client.close()
