"""What ``lollms serve`` adds on top of a backend: latency per request, requests/s, start-up.

usage: python bench/serve_overhead.py [--requests N] [--rounds R]

A canned OpenAI-compatible backend (a plain ASGI app under uvicorn, answering a fixed chat
completion in microseconds) is measured three ways in the same run:

* raw: the client talks to the backend directly;
* lollms: through ``lollms serve -b openai -c host_address=<backend>`` (our openai binding,
  native async, behind our server);
* litellm: through the LiteLLM proxy on the same backend, when ``litellm`` (with its proxy
  extras) is importable by this Python or by ``$LITELLM_PYTHON``; otherwise the script says
  so and compares against the raw backend only. Its ~150 dependencies stay out of our venv:
  ``python -m venv /tmp/litellm && /tmp/litellm/bin/pip install 'litellm[proxy]'``, then
  ``LITELLM_PYTHON=/tmp/litellm/bin/python``. It runs offline with
  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (set here) and a master key (it refuses to start
  without one; every side gets the same key).

Sides alternate in ABBA order, each round sends N non-streamed chat completions from C
concurrent clients (C = 1, 8, 32); medians over rounds are printed with the server
processes' CPU time beside wall time, and the load average. Added latency is the median
per-request latency through a proxy minus the raw one at concurrency 1. Start-up is the time
from spawning ``lollms serve`` to its first answer (median of 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ANSWER = {
    "id": "chatcmpl-canned",
    "object": "chat.completion",
    "created": 0,
    "model": "canned",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
KEY = "sk-bench-0123456789abcdef"  # the same key for every side (LiteLLM refuses to start without one)
BODY = {"model": "canned", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


async def canned_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The fast backend: a fixed chat completion, ``/v1/models`` and ``/health``."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    path = scope["path"]
    if path.endswith("/chat/completions"):
        payload = json.dumps(ANSWER).encode()
    elif path.endswith("/models"):
        payload = json.dumps({"object": "list", "data": [{"id": "canned", "object": "model"}]}).encode()
    else:
        payload = b'{"status": "ok"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not ready in {timeout} s")


@contextmanager
def process(argv: list[str], health: str, env: dict[str, str] | None = None, log: Path | None = None) -> Any:
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_http(health, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


async def load(url: str, concurrency: int, requests: int) -> tuple[float, list[float]]:
    """Send ``requests`` chat completions from ``concurrency`` clients; (wall seconds, latencies)."""
    latencies: list[float] = []
    todo = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            for _ in todo:
                t = time.perf_counter()
                answer = await client.post(url, json=BODY, headers={"Authorization": f"Bearer {KEY}"})
                answer.raise_for_status()
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def litellm_python() -> str | None:
    """A Python that can run the LiteLLM proxy, or ``None`` (with the reason printed)."""
    candidate = os.environ.get("LITELLM_PYTHON") or sys.executable
    try:
        probe = subprocess.run(
            [candidate, "-c", "import litellm.proxy.proxy_server"], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        print(f"LiteLLM proxy not available: {candidate}: {exc.strerror}; comparing against the raw backend only")
        return None
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        print(f"LiteLLM proxy not available in {candidate} ({last}); comparing against the raw backend only")
        return None
    return candidate


def main() -> int:
    """Run the comparison; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA repetitions")
    args = parser.parse_args()
    lollms = shutil.which("lollms", path=str(Path(sys.executable).parent)) or "lollms"
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    backend_port, lollms_port, litellm_port = free_port(), free_port(), free_port()
    backend = f"http://127.0.0.1:{backend_port}"
    env = {**os.environ, "LOLLMS_API_KEY": KEY}
    sides: dict[str, tuple[str, int]] = {}
    uvicorn_cmd = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning",
                   "--port", str(backend_port), "serve_overhead:canned_app"]  # fmt: skip
    backend_env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    lollms_cmd = [lollms, "serve", "-b", "openai", "-c", f"host_address={backend}/v1", "-m", "canned",
                  "--port", str(lollms_port), "--log-level", "warning"]  # fmt: skip
    with (
        process(uvicorn_cmd, f"{backend}/health", backend_env) as raw_proc,
        process(lollms_cmd, f"http://127.0.0.1:{lollms_port}/health", env, work / "lollms.log") as lollms_proc,
    ):
        sides["raw"] = (f"{backend}/v1/chat/completions", raw_proc.pid)
        sides["lollms"] = (f"http://127.0.0.1:{lollms_port}/v1/chat/completions", lollms_proc.pid)
        BODY["model"] = "openai/canned"
        asyncio.run(load(sides["lollms"][0], 1, 20))  # warm: the binding's first connection
        litellm = litellm_python()
        if litellm is not None:
            config = work / "litellm.yaml"
            config.write_text(
                "model_list:\n  - model_name: openai/canned\n    litellm_params:\n"
                f"      model: openai/canned\n      api_base: {backend}/v1\n      api_key: bench\n"
            )
            lenv = {
                **os.environ,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_TELEMETRY": "False",
                "LITELLM_MASTER_KEY": KEY,
            }
            # The proxy's own command sits beside that Python (its package has no __main__).
            cmd = [str(Path(litellm).parent / "litellm"), "--config", str(config), "--port", str(litellm_port)]
            with process(cmd, f"http://127.0.0.1:{litellm_port}/health/liveliness", lenv, work / "litellm.log") as lp:
                sides["litellm"] = (f"http://127.0.0.1:{litellm_port}/v1/chat/completions", lp.pid)
                asyncio.run(load(sides["litellm"][0], 1, 20))
                results = measure(sides, args.requests, args.rounds)
        else:
            results = measure(sides, args.requests, args.rounds)
    report(results, list(sides))
    print("\nstart-up to first answer (lollms serve -b openai, median of 3):", end=" ", flush=True)
    print(f"{startup(lollms, backend, env):.2f} s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def measure(sides: dict[str, tuple[str, int]], requests: int, rounds: int) -> dict[tuple[str, int], dict[str, Any]]:
    """ABBA rounds per concurrency; per side: latencies, throughputs, CPU seconds per request."""
    names = list(sides)
    order = []
    for _ in range(rounds):
        order += names + names[::-1]
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for concurrency in (1, 8, 32):
        for name in order:
            url, pid = sides[name]
            cpu0 = cpu_seconds(pid)
            wall, latencies = asyncio.run(load(url, concurrency, requests))
            cpu = cpu_seconds(pid) - cpu0
            row = out.setdefault((name, concurrency), {"lat": [], "rps": [], "cpu": []})
            row["lat"].append(statistics.median(latencies))
            row["rps"].append(requests / wall)
            row["cpu"].append(cpu / requests)
    return out


def report(results: dict[tuple[str, int], dict[str, Any]], names: list[str]) -> None:
    """The table: median latency, req/s, server CPU per request; proxies relative to raw."""
    print(f"\n{'side':8} {'conc':>4} {'median ms':>10} {'req/s':>9} {'server CPU ms/req':>18} {'added ms':>9}")
    for concurrency in (1, 8, 32):
        raw_lat = statistics.median(results[("raw", concurrency)]["lat"])
        for name in names:
            row = results[(name, concurrency)]
            lat, rps, cpu = (statistics.median(row[k]) for k in ("lat", "rps", "cpu"))
            added = "" if name == "raw" else f"{(lat - raw_lat) * 1000:9.2f}"
            print(f"{name:8} {concurrency:4d} {lat * 1000:10.2f} {rps:9.0f} {cpu * 1000:18.3f} {added}")
    if "litellm" in names:
        for concurrency in (1, 8, 32):
            ours = statistics.median(results[("lollms", concurrency)]["rps"])
            theirs = statistics.median(results[("litellm", concurrency)]["rps"])
            raw = statistics.median(results[("raw", concurrency)]["lat"])
            ours_add = statistics.median(results[("lollms", concurrency)]["lat"]) - raw
            theirs_add = statistics.median(results[("litellm", concurrency)]["lat"]) - raw
            ratio = ours_add / theirs_add if theirs_add > 0 else float("nan")
            print(f"c={concurrency}: lollms/litellm throughput {ours / theirs:.2f}x, added latency ratio {ratio:.2f}")


def startup(lollms: str, backend: str, env: dict[str, str]) -> float:
    """Seconds from spawning ``lollms serve`` to its first chat completion (median of 3)."""
    times = []
    for _ in range(3):
        port = free_port()
        started = time.perf_counter()
        cmd = [lollms, "serve", "-b", "openai", "-c", f"host_address={backend}/v1", "-m", "canned",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
        with backend_running(backend):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            try:
                while True:
                    try:
                        answer = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=BODY,
                                            headers={"Authorization": f"Bearer {KEY}"}, timeout=5)  # fmt: skip
                        if answer.status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.01)
                times.append(time.perf_counter() - started)
            finally:
                proc.terminate()
                proc.wait(15)
    return statistics.median(times)


@contextmanager
def backend_running(backend: str) -> Any:
    """Start the canned backend again for the start-up runs (the measured one has stopped)."""
    port = int(backend.rsplit(":", 1)[1])
    cmd = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning", "--port", str(port),
           "serve_overhead:canned_app"]  # fmt: skip
    with process(cmd, f"{backend}/health", {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}):
        yield


if __name__ == "__main__":
    sys.exit(main())
