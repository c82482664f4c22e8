"""Looking at the process from tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def rss_bytes() -> int:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# Run in a fresh interpreter by the memory tests: load A, switch to B, switch back to A; RSS after each.
# Via "client", A is loaded through LollmsClient(default_generation_mode=TRANSFORMERS); back=False stops at B.
SWITCH_SCRIPT = """
import json, sys
from lollms_core import ELF_GENERATION_FORMAT, LollmsClient, LollmsLLMBindingManager
from transformers_probe import rss_bytes

config, first, second = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
via_client, back = sys.argv[4] == "client", sys.argv[5] == "back"
if via_client:
    # Seed 004's arguments only: the generation format, the model, the engine's threads.
    client = LollmsClient(
        default_generation_mode=ELF_GENERATION_FORMAT.TRANSFORMERS, model_name=first, n_threads=config["n_threads"]
    )
    binding, generate = client.llm, client.generate_text
else:
    binding = LollmsLLMBindingManager().create_binding("transformers", model_name=first, **config)
    generate = binding.generate_text
answers = [generate("What is the capital of France?", n_predict=12, temperature=0.0)]
rss, sizes = {"first": rss_bytes()}, [binding.get_model_info()["memory_bytes"]]
assert binding.load_model(second)
answers.append(generate("What is the capital of France?", n_predict=12, temperature=0.0))
rss["second"] = rss_bytes()
sizes.append(binding.get_model_info()["memory_bytes"])
if back:
    assert binding.load_model(first)
    rss["back"] = rss_bytes()
out = {"rss": rss, "sizes": sizes, "answers": answers, "model": binding.model_name, "binding": binding.binding_name}
print(json.dumps(out))
"""


def switch_models(
    config: dict[str, object], first: str, second: str, via: str = "manager", back: bool = True
) -> dict[str, Any]:
    """Run SWITCH_SCRIPT in a new process (its RSS is not muddied by this one's history)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).parent)}
    args = [sys.executable, "-c", SWITCH_SCRIPT, json.dumps(config), first, second, via, "back" if back else "once"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
